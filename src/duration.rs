//! Durations as the config and the command line write them: one parser for
//! every key and flag (`timeout`, `min_host_delay`, `[settings.retention]`,
//! a channel's `timeout`, `prune --keep-for`, `report --since 7d`).

use std::time::Duration;

/// The forms a duration may take, for error messages.
pub const FORMS: &str =
    "a number and a unit (`30s`, `5m`, `1h 30m`, `90d`, `2w`) or ISO 8601 (`PT30S`, `P90D`)";

/// Parses a duration: jiff's friendly format (`30s`, `2m`, `1h 30m`, `90d`,
/// `2w`; a day is 24 hours) or ISO 8601 (`PT30S`, `P1DT2H`).
///
/// # Errors
/// A message saying which forms are accepted when the text is not a
/// duration, and what to write instead for years and months (which have no
/// fixed length) or a negative duration.
pub fn parse(s: &str) -> Result<Duration, String> {
    let span: jiff::Span = s
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: write {FORMS}"))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(
            "years and months have no fixed length: write days or weeks (`365d`, `26w`)".into(),
        );
    }
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("too long: write {FORMS}"))?;
    Duration::try_from(d).map_err(|_| "must not be negative".to_string())
}
