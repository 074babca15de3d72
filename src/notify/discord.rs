//! Discord webhook payloads: a `content` message (title, kind, target, URL,
//! stamps, summary) and one embed per changed section with its redline in
//! Discord Markdown (`**inserted**`, `~~deleted~~`), after a first embed
//! holding the redline's notes (a revert, an alternating page, a fallback
//! content root, ...) when it has any. Mentions are disabled so
//! page text can never ping anyone.
//!
//! Limits (Discord's webhook and embed reference): content 2000 characters;
//! at most 10 embeds; embed title 256 and description 4096 characters; 6000
//! characters over all embeds. What does not fit is named in a note in the
//! content with where the full report is.

use serde_json::{Value, json};

use super::alert::{Alert, HealthAlert, RevisionAlert};
use super::fit::{Placed, fit_sections};
use super::policy::HealthState;
use super::text;
use crate::report::summary::BlockLine;
use crate::revision::RevisionKind;

/// Most characters of `content`.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// Most embeds per message.
pub const MAX_EMBEDS: usize = 10;
/// Most characters of an embed title.
pub const MAX_TITLE_CHARS: usize = 256;
/// Most characters of an embed description.
pub const MAX_DESCRIPTION_CHARS: usize = 4096;
/// Most characters over all embeds of a message.
pub const MAX_EMBED_TOTAL_CHARS: usize = 6000;

/// Most characters of the notes embed's description (the rest of
/// [`MAX_EMBED_TOTAL_CHARS`] stays for the changed sections).
pub const MAX_NOTES_CHARS: usize = 1000;

/// The notes embed's title.
const NOTES_TITLE: &str = "Notes";

/// The notes embed's colour (the silent-edit orange: a warning).
const NOTES_COLOUR: u32 = 0xE67E22;

/// The webhook payload for an alert: `{content, embeds, allowed_mentions}`.
pub fn payload(alert: &Alert) -> Value {
    match alert {
        Alert::Revision(r) => revision_payload(r),
        Alert::Health(s) => health_payload(s),
    }
}

/// Escapes Discord Markdown's inline markers.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A redline line in Discord Markdown: `- *label:* text **inserted**
/// ~~deleted~~`, and an indented item under it per changed link.
pub fn markdown_line(line: &BlockLine) -> String {
    let body = text::render_pieces(&line.pieces, &escape, ("**", "**"), ("~~", "~~"));
    let mut out = match &line.label {
        Some(l) => format!("- *{}:* {body}", escape(l)),
        None => format!("- {body}"),
    };
    for link in line.links {
        out.push_str(&format!("\n  - {}", escape(&text::link_line(link))));
    }
    out
}

fn colour(kind: RevisionKind) -> u32 {
    match kind {
        RevisionKind::Revised | RevisionKind::Changed => 0x2F80ED,
        RevisionKind::SilentEdit => 0xE67E22,
        RevisionKind::StampOnly => 0x95A5A6,
    }
}

fn len(s: &str) -> usize {
    s.chars().count()
}

fn revision_payload(alert: &RevisionAlert) -> Value {
    let r = &alert.redline;
    let mut head = vec![format!("**{}**", escape(&alert.headline()))];
    if alert.sample {
        head.push(format!("*{}*", text::SAMPLE_NOTE));
    }
    if let Some(note) = text::kind_note(r) {
        head.push(format!("⚠️ **{}**", escape(&note)));
    }
    head.push(match &r.link {
        Some(link) => format!(
            "`{}` · <{}> · [this revision in redliner](<{link}>)",
            r.target, r.url
        ),
        None => format!("`{}` · <{}>", r.target, r.url),
    });
    if let Some(s) = text::stamps_line(r) {
        head.push(escape(&s));
    }
    head.push(escape(&format!(
        "{} · {}",
        text::checked_line(r),
        text::summary_text(r)
    )));
    if let Some(u) = text::unchanged_line(r) {
        head.push(escape(&u));
    }

    let views = text::sections(r);
    let mut embeds = Vec::new();
    let mut total = 0;
    // The notes come first and count against the embed limits, so the
    // sections' cut below leaves them room.
    let notes = text::notes(r);
    if !notes.is_empty() {
        let lines: Vec<String> = notes.iter().map(|n| format!("⚠️ {}", escape(n))).collect();
        let (description, _) = text::cut_chars(&lines.join("\n"), MAX_NOTES_CHARS, "…");
        total += len(NOTES_TITLE) + len(&description);
        embeds
            .push(json!({"title": NOTES_TITLE, "description": description, "color": NOTES_COLOUR}));
    }
    let fitted = fit_sections(&views, |_, v| {
        if embeds.len() == MAX_EMBEDS {
            return Placed::NoRoom;
        }
        let (title, _) = text::cut_chars(&v.title(), MAX_TITLE_CHARS, "\u{2026}");
        let left = MAX_EMBED_TOTAL_CHARS - total;
        // A section needs its title and a few lines' room to be worth showing.
        if left < len(&title) + 100 {
            return Placed::NoRoom;
        }
        let lines: Vec<String> = v.blocks.iter().map(markdown_line).collect();
        let room = MAX_DESCRIPTION_CHARS.min(left - len(&title));
        let (description, cut) = text::cut_chars(&lines.join("\n"), room, "\n*\u{2026} (cut)*");
        total += len(&title) + len(&description);
        embeds.push(
            json!({"title": title, "description": description, "color": colour(r.revision.kind)}),
        );
        if cut {
            Placed::Shortened(())
        } else {
            Placed::Whole(())
        }
    });
    let note = fitted
        .note("Discord", r, alert.report_location.as_deref())
        .map(|n| escape(&n));
    json!({
        "content": content(&head, note.as_deref()),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    })
}

/// Joins the head lines and the cut note within [`MAX_CONTENT_CHARS`], cutting
/// the head (never the note, itself cut to half the room).
fn content(head: &[String], note: Option<&str>) -> String {
    let Some(note) = note else {
        return text::cut_chars(&head.join("\n"), MAX_CONTENT_CHARS, "…").0;
    };
    let (note, _) = text::cut_chars(note, MAX_CONTENT_CHARS / 2, "…");
    let room = MAX_CONTENT_CHARS - len(&note) - 1;
    let (head, _) = text::cut_chars(&head.join("\n"), room, "…");
    format!("{head}\n{note}")
}

fn health_payload(s: &HealthAlert) -> Value {
    let mut description = escape(&s.sentence());
    if let Some(e) = s.error_line() {
        description.push('\n');
        description.push_str(&escape(&e));
    }
    let (description, _) = text::cut_chars(&description, MAX_DESCRIPTION_CHARS, "…");
    let colour = match s.state {
        HealthState::Failing => 0xE74C3C,
        HealthState::Recovered => 0x2ECC71,
    };
    json!({
        "content": format!("**{}: {}**", escape(&s.target), s.state),
        "embeds": [{"title": format!("{}: {}", s.target, s.state), "description": description, "color": colour}],
        "allowed_mentions": {"parse": []},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::policy::HealthChange;
    use crate::notify::text::tests::{block, example, section as diff_section};
    use crate::revision::{BlockChangeKind, SectionChange};

    #[test]
    fn revision_payload_is_exact() {
        let got = payload(&Alert::revision(example(), None));
        let want = json!({
            "content": "**Relations with Belarus: revised 14 Nov. 2026**\n`nato-belarus` · <https://www.nato.int/cps/en/natohq/topics_49119.htm>\nLast updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)\nChecked 2026-11-14 10:00 UTC · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words\nUnchanged: Key areas · Background",
            "embeds": [
                {"title": "Lead: modified", "description": "- The mission opened in April ~~1998.~~**1998 and closed in 2025.**", "color": 0x2F80ED},
                {"title": "Relations since 2024: added", "description": "- Allies monitor <forces> & more.", "color": 0x2F80ED},
            ],
            "allowed_mentions": {"parse": []},
        });
        assert_eq!(got, want);
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(escape("a*b_c~d`e|f\\g"), "a\\*b\\_c\\~d\\`e\\|f\\\\g");
    }

    #[test]
    fn cuts_at_discord_limits() {
        let mut r = example();
        r.revision.sections = (0..15)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(
                        BlockChangeKind::Inserted,
                        None,
                        Some(&"word ".repeat(if i == 0 { 1200 } else { 100 })),
                        vec![],
                    )],
                )
            })
            .collect();
        let got = payload(&Alert::revision(r, None));
        let embeds = got["embeds"].as_array().unwrap();
        assert!(embeds.len() <= MAX_EMBEDS);
        let total: usize = embeds
            .iter()
            .map(|e| len(e["title"].as_str().unwrap()) + len(e["description"].as_str().unwrap()))
            .sum();
        assert!(total <= MAX_EMBED_TOTAL_CHARS, "{total}");
        let first = embeds[0]["description"].as_str().unwrap();
        assert_eq!(len(first), MAX_DESCRIPTION_CHARS);
        assert!(first.ends_with("\n*… (cut)*"));
        // 4096 + titles leave room for three 500-char sections and a shortened fourth
        assert_eq!(embeds.len(), 5);
        let last = embeds[4]["description"].as_str().unwrap();
        assert!(last.ends_with("\n*… (cut)*"), "{last}");
        let content = got["content"].as_str().unwrap();
        assert!(len(content) <= MAX_CONTENT_CHARS);
        assert!(content.ends_with(
            "\nCut to fit Discord: shortened S0: added, S4: added; 10 more sections not shown (S5: added, S6: added, S7: added, S8: added, S9: added, S10: added, S11: added, S12: added, S13: added, S14: added). Full report: \\`redliner history nato-belarus\\`"
        ), "{content}");
    }

    #[test]
    fn health_payload_is_exact() {
        let a = Alert::health(
            HealthChange {
                state: HealthState::Recovered,
                consecutive_failures: 4,
            },
            "nato_belarus",
            "https://www.nato.int/x.htm",
            None,
            "2026-11-14T10:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            payload(&a),
            json!({
                "content": "**nato\\_belarus: recovered**",
                "embeds": [{
                    "title": "nato_belarus: recovered",
                    "description": "Checks of https://www.nato.int/x.htm work again after 4 failed checks (failing since 2026-11-14 10:00 UTC).",
                    "color": 0x2ECC71,
                }],
                "allowed_mentions": {"parse": []},
            })
        );
    }

    #[test]
    fn notes_come_first_as_an_embed_and_a_revert_says_so() {
        let got = payload(&crate::notify::text::tests::noted_alert());
        let want = json!({
            "content": "**Relations with Belarus: revised 14 Nov. 2026 (revert)**\n`nato-belarus` · <https://www.nato.int/cps/en/natohq/topics_49119.htm>\nLast updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)\nChecked 2026-11-14 10:00 UTC · 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words\nUnchanged: Key areas · Background",
            "embeds": [
                {"title": "Notes", "description": "⚠️ Revert: the content equals that of snapshot 40.\n⚠️ Content root not found; fallback \\`#main\\_content > div\\` used.", "color": 0xE67E22},
                {"title": "Lead: modified", "description": "- The mission opened in April ~~1998.~~**1998 and closed in 2025.**", "color": 0x2F80ED},
                {"title": "Relations since 2024: added", "description": "- Allies monitor <forces> & more.", "color": 0x2F80ED},
            ],
            "allowed_mentions": {"parse": []},
        });
        assert_eq!(got, want);
    }

    #[test]
    fn notes_count_against_the_embed_limits() {
        let mut alert = crate::notify::text::tests::noted_alert();
        let Alert::Revision(a) = &mut alert else {
            unreachable!()
        };
        a.alternating = true;
        a.redline.notes.push("N".repeat(2000));
        a.redline.revision.sections = (0..15)
            .map(|i| {
                diff_section(
                    SectionChange::Added,
                    &format!("S{i}"),
                    vec![block(
                        BlockChangeKind::Inserted,
                        None,
                        Some(&"word ".repeat(100)),
                        vec![],
                    )],
                )
            })
            .collect();
        let got = payload(&alert);
        let embeds = got["embeds"].as_array().unwrap();
        assert_eq!(embeds.len(), MAX_EMBEDS);
        let notes = embeds[0]["description"].as_str().unwrap();
        assert_eq!(len(notes), MAX_NOTES_CHARS);
        assert!(notes.starts_with("⚠️ Revert:") && notes.ends_with("N…"));
        let total: usize = embeds
            .iter()
            .map(|e| len(e["title"].as_str().unwrap()) + len(e["description"].as_str().unwrap()))
            .sum();
        assert!(total <= MAX_EMBED_TOTAL_CHARS, "{total}");
        let content = got["content"].as_str().unwrap();
        assert!(content.starts_with(
            "**Relations with Belarus: revised 14 Nov. 2026 (alternating between two versions)**\n"
        ));
        assert!(
            content.ends_with(
                "\nCut to fit Discord: 6 more sections not shown (S9: added, S10: added, S11: added, S12: added, S13: added, S14: added). Full report: \\`redliner history nato-belarus\\`"
            ),
            "{content}"
        );
    }
}
