//! Fuzzes stamp reading ([`redliner::stamp`]): every public entry point on
//! any text, under each date order and with and without a zone, must return,
//! never panic. A stamp that is read must equal itself (no stamp change),
//! and read back equal from its stored JSON form.
//!
//! Input: the first byte picks the reading, the rest is the text (lossy
//! UTF-8); the text's first line doubles as a label and the rest as a value
//! for the split-stamp check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redliner::stamp::{self, DateOrder, Reading, Stamp};

fn check_read(s: &Stamp) {
    assert!(
        s.same_moment(s) && s.same_dates(s),
        "a stamp differs from itself: {s:?}"
    );
    assert!(
        !stamp::changed(Some(s), Some(s)),
        "a stamp changed against itself: {s:?}"
    );
    assert!(s.also_moved(s).is_empty());
    let _ = (
        s.display_value(),
        s.zone_words(),
        s.source.describe(),
        s.label(),
    );
    let _ = stamp::zone_note(Some(s), Some(s));
    let json = serde_json::to_string(s).expect("a stamp serialises");
    let back: Stamp = serde_json::from_str(&json).expect("a stored stamp reads back");
    assert_eq!(&back, s, "the stored stamp reads back different");
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let order = [DateOrder::Dmy, DateOrder::Mdy, DateOrder::Ymd][pick as usize % 3];
    let tz = match pick / 3 % 3 {
        0 => None,
        1 => jiff::tz::TimeZone::get("Europe/Brussels").ok(),
        _ => jiff::tz::TimeZone::get("America/New_York").ok(),
    };
    let reading = Reading { order, tz };

    for s in [
        stamp::parse(&text).ok(),
        stamp::parse_with(&text, &reading).ok(),
    ]
    .into_iter()
    .flatten()
    {
        check_read(&s);
    }
    if let Some(s) = stamp::read_bare(&text, &reading) {
        check_read(&s);
    }
    let scan = stamp::scan(&text, &reading);
    for s in scan
        .updated
        .iter()
        .chain(&scan.published)
        .chain(&scan.others)
    {
        check_read(s);
    }
    if let Some(s) = stamp::find(&text) {
        check_read(&s);
    }
    let _ = stamp::find_unreadable(&text);
    let _ = stamp::proven_order(&text);
    let _ = stamp::has_updated_label(&text);
    let _ = stamp::is_stamp_line(&text);
    let (label, value) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = stamp::is_split_stamp(label, value);
    let _ = DateOrder::parse(label);
    let _ = stamp::changed(scan.updated.as_ref(), scan.published.as_ref());
    if let (Some(a), Some(b)) = (&scan.updated, &scan.published) {
        let _ = stamp::zone_note(Some(a), Some(b));
        let _ = b.also_moved(a);
    }
});
