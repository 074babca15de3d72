//! `redliner report [TARGET...] [--since DATE] [--until DATE]`: every revision
//! in a window in one document (a digest), technical ones left out.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use jiff::{SignedDuration, Timestamp};

use redliner::archive::stored_redlines;
use redliner::diff::DiffOptions;
use redliner::error::Error;
use redliner::report::render_many;

use super::Global;
use super::output::{RedlineFormat, emit};
use super::source::open_store;

/// Arguments of `redliner report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Targets to report on (default: every target in the store)
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Start of the window: `2026-11-01` (UTC midnight), RFC 3339
    /// (`2026-11-01T09:00:00Z`), or a span ago (`7d`, `2w`, `36h`)
    #[arg(long, value_name = "DATE", default_value = "7d")]
    pub since: String,
    /// End of the window (exclusive), same forms as --since (default: now)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = RedlineFormat::Terminal)]
    pub format: RedlineFormat,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Prints every revision in the window as one digest.
///
/// # Errors
/// [`Error::Usage`] for a bad date, [`Error::NotFound`] for an unknown
/// target; store and output errors.
pub fn run(global: &Global, args: &ReportArgs) -> Result<ExitCode, Error> {
    let now = Timestamp::now();
    let since = parse_when(&args.since, now)
        .map_err(|e| Error::Usage(format!("--since `{}`: {e}", args.since)))?;
    let until = match &args.until {
        Some(u) => {
            Some(parse_when(u, now).map_err(|e| Error::Usage(format!("--until `{u}`: {e}")))?)
        }
        None => None,
    };
    let (store, settings) = open_store(global)?;
    let stored = store.targets()?;
    let targets = if args.targets.is_empty() {
        stored
    } else {
        for t in &args.targets {
            let configured = settings.as_ref().is_some_and(|s| s.target(t).is_some());
            if !configured && !stored.contains(t) {
                return Err(Error::NotFound(format!(
                    "target `{t}`: not configured and nothing stored"
                )));
            }
        }
        args.targets.clone()
    };
    let opts = DiffOptions::default();
    let mut redlines = Vec::new();
    for t in &targets {
        redlines.extend(stored_redlines(&store, t, Some(since), until, None, &opts)?);
    }
    redlines.sort_by_key(|r| (r.new_captured_at, r.target.clone()));
    if redlines.is_empty() && !global.quiet {
        eprintln!(
            "redliner: no revisions since {since}{}",
            until.map(|u| format!(" until {u}")).unwrap_or_default()
        );
    }
    emit(
        args.output.as_deref(),
        global.terminal_style(),
        |out, style| render_many(&redlines, args.format.into(), style, out),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Parses a window bound: `now`, an RFC 3339 instant, a date (UTC midnight),
/// or a span before `now` (`7d`, `2w`, `36h`, `90m`, or jiff's friendly
/// format such as `1h 30m`).
///
/// # Errors
/// A message saying which forms are accepted.
pub fn parse_when(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    let span = parse_span(s).ok_or_else(|| {
        "expected a date (2026-11-01), an RFC 3339 time or a span ago (7d, 2w, 36h)".to_string()
    })?;
    now.checked_sub(span).map_err(|e| e.to_string())
}

fn parse_span(s: &str) -> Option<SignedDuration> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let n: i64 = s[..digits].parse().ok()?;
        let hours = match s[digits..].trim() {
            "w" | "week" | "weeks" => 7 * 24,
            "d" | "day" | "days" => 24,
            "h" | "hour" | "hours" => 1,
            "m" | "min" | "minutes" => return Some(SignedDuration::from_mins(n)),
            _ => {
                return s
                    .parse::<SignedDuration>()
                    .ok()
                    .filter(|d| !d.is_negative());
            }
        };
        return Some(SignedDuration::from_hours(n.checked_mul(hours)?));
    }
    s.parse::<SignedDuration>()
        .ok()
        .filter(|d| !d.is_negative())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bounds() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
        let cases = [
            ("now", Ok("2026-11-30T12:00:00Z")),
            ("2026-11-01", Ok("2026-11-01T00:00:00Z")),
            ("2026-11-01T09:30:00+01:00", Ok("2026-11-01T08:30:00Z")),
            ("7d", Ok("2026-11-23T12:00:00Z")),
            ("2w", Ok("2026-11-16T12:00:00Z")),
            ("36h", Ok("2026-11-29T00:00:00Z")),
            ("90m", Ok("2026-11-30T10:30:00Z")),
            ("1h 30m", Ok("2026-11-30T10:30:00Z")),
            (" 3 days ", Ok("2026-11-27T12:00:00Z")),
            ("yesterday", Err(())),
            ("7x", Err(())),
            ("2026-13-01", Err(())),
        ];
        for (input, want) in cases {
            let got = parse_when(input, now)
                .map(|t| t.to_string())
                .map_err(|_| ());
            assert_eq!(got, want.map(str::to_string), "{input}");
        }
    }
}
