//! `redliner verify [TARGET]`: rechecks the tamper-evident record (the
//! ledger's hash chain, each snapshot row against its entry, every file
//! against its digest) and names the first break.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::error::Error;

use super::Global;

/// Arguments of `redliner verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Hash the files of this target only (the chain and every row are
    /// always checked whole)
    pub target: Option<String>,
    /// A chain head kept from earlier (printed by `verify`, in an evidence
    /// bundle): the chain must still hold an entry with this hash, so
    /// nothing recorded up to it was cut off or rewritten
    #[arg(long, value_name = "HASH")]
    pub head: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
}

/// Formats `verify` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// A line per break, then a summary
    Text,
    /// One JSON object: counts, head, breaks
    Json,
}

/// Verifies the store; exit 1 when anything is broken.
///
/// # Errors
/// Config and store errors ([`Error::NotFound`] for an unknown target).
pub fn run(global: &Global, args: &VerifyArgs) -> Result<ExitCode, Error> {
    let store = super::source::open_sealed(global, "verify")?;
    if let Some(t) = &args.target
        && !store.has_target(t)?
    {
        return Err(Error::NotFound(format!("target `{t}`: nothing stored")));
    }
    let bar = super::progress_bar(global, None, "hashing files");
    let mut verification = store.verify(args.target.as_deref(), &mut || bar.inc(1))?;
    bar.finish_and_clear();
    for head in &args.head {
        let hash = head.trim().to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "--head `{head}`: expected a SHA-256 in hex (64 characters), as `verify` prints it"
            )));
        }
        if store.ledger_entry_by_hash(&hash)?.is_none() {
            verification.breaks.push(redliner::store::ledger::Break {
                seq: None,
                snapshot_id: None,
                target: None,
                what: format!(
                    "the kept chain head {hash} is no longer in the ledger: entries up to it \
                     were cut off or rewritten"
                ),
                path: None,
            });
        }
    }
    super::output::emit(None, global.terminal_style(), |out, _| match args.format {
        VerifyFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &verification)?;
            writeln!(out)
        }
        VerifyFormat::Text => write_text(out, &verification),
    })?;
    Ok(if verification.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

use std::io::Write;

fn write_text(
    out: &mut dyn Write,
    v: &redliner::store::ledger::Verification,
) -> std::io::Result<()> {
    if let Some(first) = v.breaks.first() {
        writeln!(out, "BROKEN: first break: {first}")?;
        for b in &v.breaks[1..] {
            writeln!(out, "  also: {b}")?;
        }
    }
    let head = v.head.as_deref().unwrap_or("none (empty ledger)");
    writeln!(
        out,
        "{}: {} ledger entries, {} snapshots, {} files checked; {} break{}; chain head {head}",
        if v.holds() { "verified" } else { "broken" },
        v.entries,
        v.snapshots,
        v.files,
        v.breaks.len(),
        if v.breaks.len() == 1 { "" } else { "s" },
    )
}
