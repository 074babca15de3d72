//! `redliner report [TARGET...] [--since DATE] [--until DATE]`: every revision
//! in a window in one document (a digest), technical ones left out.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use jiff::{SignedDuration, Timestamp};

use redliner::archive::{redline_between, stored_redlines};
use redliner::diff::DiffOptions;
use redliner::error::Error;
use redliner::report::{Redline, render_many};
use redliner::store::Store;

use super::Global;
use super::output::{RedlineFormat, emit};
use super::source::open_store;

/// Arguments of `redliner report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Targets to report on (default: every configured target with revisions
    /// stored; see --all-stored)
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
    /// Without TARGETs: also the stored targets the config no longer names
    /// (by default the digest covers the configured targets only)
    #[arg(long)]
    pub all_stored: bool,
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
    if since >= until.unwrap_or(now) {
        return Err(Error::Usage(format!(
            "--since `{}` ({}) is not before {}: the window is empty",
            args.since,
            second(since),
            match (&args.until, until) {
                (Some(text), Some(u)) => format!("--until `{text}` ({})", second(u)),
                _ => format!("now ({})", second(now)),
            }
        )));
    }
    let (store, settings) = open_store(global)?;
    let stored = store.targets()?;
    let targets = if args.targets.is_empty() {
        // A target dropped from the config is no news: left out unless asked.
        match (&settings, args.all_stored) {
            (Some(s), false) => stored
                .into_iter()
                .filter(|t| s.target(t).is_some())
                .collect(),
            _ => stored,
        }
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
        redlines.extend(redlines_of(&store, t, since, until, &opts, global.quiet)?);
    }
    redlines.sort_by_key(|r| (r.new_captured_at, r.target.clone()));
    let window = window_text(since, until);
    if redlines.is_empty() {
        // Said once: in the terminal report itself (one line), or as a note
        // when the report goes to a file; a JSON, HTML, Markdown or Atom
        // report on stdout says it in its own terms.
        if args.format == RedlineFormat::Terminal {
            emit(args.output.as_deref(), global.terminal_style(), |out, _| {
                writeln!(out, "No revisions {window}.")
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        if args.output.is_some() && !global.quiet {
            super::status(
                tracing::Level::INFO,
                None,
                format_args!("no revisions {window}"),
            );
        }
    }
    emit(
        args.output.as_deref(),
        global.terminal_style(),
        |out, style| render_many(&redlines, args.format.into(), style, out),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The target's redlines in the window. A revision whose snapshot files are
/// gone (a snapshot directory deleted by hand) is left out with a warning on
/// stderr (unless `quiet`) rather than failing the whole digest.
///
/// # Errors
/// Store errors other than missing snapshot files.
fn redlines_of(
    store: &Store,
    target: &str,
    since: Timestamp,
    until: Option<Timestamp>,
    opts: &DiffOptions,
    quiet: bool,
) -> Result<Vec<Redline>, Error> {
    match stored_redlines(store, target, Some(since), until, None, opts) {
        Ok(r) => return Ok(r),
        Err(e) if !is_missing_file(&e) => return Err(e),
        Err(_) => {}
    }
    // One revision at a time, to keep the ones that can still be read.
    let snapshots = store.snapshots(target)?;
    let by_id = |id: redliner::ids::SnapshotId| snapshots.iter().find(|s| s.id == id);
    let mut pairs: Vec<_> = store
        .revisions(target)?
        .into_iter()
        .filter(|r| !r.technical)
        .filter_map(|r| Some((r.id, by_id(r.old_snapshot_id)?, by_id(r.new_snapshot_id)?)))
        .filter(|(_, _, new)| new.captured_at >= since && until.is_none_or(|u| new.captured_at < u))
        .collect();
    pairs.sort_by_key(|(_, _, new)| (new.captured_at, new.id));
    let mut out = Vec::new();
    for (id, old, new) in pairs {
        match redline_between(store, old, new, opts) {
            Ok(Some(r)) => out.push(r),
            Ok(None) => {}
            Err(e) if is_missing_file(&e) => {
                if !quiet {
                    let mut msg = e.to_string();
                    if let Some(io) = std::error::Error::source(&e) {
                        let part = io.to_string();
                        if !msg.contains(&part) {
                            msg = format!("{msg}: {part}");
                        }
                    }
                    super::status(
                        tracing::Level::WARN,
                        None,
                        format_args!(
                            "warning: left out revision {id} of `{target}` (snapshot {} to {}): {msg}",
                            old.id, new.id
                        ),
                    );
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// True for a snapshot file that is not there (its directory was deleted).
fn is_missing_file(e: &Error) -> bool {
    match e {
        Error::Store(redliner::store::StoreError::Io { source, .. }) => {
            source.kind() == std::io::ErrorKind::NotFound
        }
        Error::NotFound(_) => true,
        _ => false,
    }
}

/// `since 2026-11-22T10:36:06Z` or `since ... until ...`, to the second.
fn window_text(since: Timestamp, until: Option<Timestamp>) -> String {
    match until {
        Some(u) => format!("since {} until {}", second(since), second(u)),
        None => format!("since {}", second(since)),
    }
}

/// A time as RFC 3339 UTC to the second (`2026-11-22T10:36:06Z`).
fn second(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a window bound: `now`, an RFC 3339 instant, a date (UTC midnight),
/// or a span before `now` (`7d`, `2w`, `36h`, `90m`, `1h 30m`: the
/// config's durations).
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
            .map_err(|_| "that date is past the last instant a time can hold".to_string());
    }
    let too_long = "that span ago is before year 1; give a date or a shorter span";
    let span = parse_span(s).ok_or_else(|| {
        // `99999999d` reads as a span, one longer than any date can count
        // (a number past 64 bits is no span at all).
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let number_and_unit = digits > 0
            && s[..digits].parse::<i64>().is_ok()
            && redliner::duration::parse(&format!("1{}", &s[digits..])).is_ok();
        let months = ["month", "year", "mo", "y"].iter().any(|unit| {
            s[digits..]
                .trim()
                .trim_end_matches('s')
                .eq_ignore_ascii_case(unit)
        });
        if number_and_unit {
            too_long.to_string()
        } else if digits > 0 && months {
            // The duration parser's own sentence: months and years have
            // no fixed length.
            redliner::duration::parse(s).err().unwrap_or_default()
        } else {
            "expected a date (2026-11-01), an RFC 3339 time or a span ago (7d, 2w, 36h)".to_string()
        }
    })?;
    now.checked_sub(span)
        .ok()
        .filter(|t| t.as_second() >= EARLIEST)
        .ok_or_else(|| too_long.to_string())
}

/// The earliest bound accepted: 0001-01-01T00:00:00Z, in Unix seconds.
const EARLIEST: i64 = -62_135_596_800;

/// A span as the config writes durations ([`redliner::duration::parse`]:
/// `7d`, `2w`, `36h`, `1h 30m`, `P7D`). `None` for anything else, including
/// spans too long to count in seconds.
fn parse_span(s: &str) -> Option<SignedDuration> {
    redliner::duration::parse(s)
        .ok()
        .and_then(|d| SignedDuration::try_from(d).ok())
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
            ("99999999d", Err(())),
            ("999999999999999999w", Err(())),
            ("9223372036854775807m", Err(())),
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
