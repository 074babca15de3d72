//! `redliner export warc|git` and `redliner evidence`: the stored history
//! for other tools, and proof of what a page said (see `redliner::export`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use redliner::error::Error;
use redliner::export::{evidence, git, warc};
use redliner::store::Store;

use super::Global;
use super::source::open_sealed;

/// Arguments of `redliner export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

/// What `redliner export` writes.
#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// The raw captures as a WARC/1.1 file (request/response records; resource records for archive imports)
    Warc(WarcArgs),
    /// A git repository with one commit per snapshot (document.md, optionally page.html); incremental
    Git(GitArgs),
}

/// Arguments of `redliner export warc`.
#[derive(Debug, Args)]
pub struct WarcArgs {
    /// Targets to export (default: every stored target)
    pub targets: Vec<String>,
    /// The WARC file to write; gzip, one member per record, when it ends in `.gz`
    #[arg(long, short, value_name = "FILE.warc.gz")]
    pub output: PathBuf,
}

/// Arguments of `redliner export git`.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository directory (made, and `git init`ed, when missing)
    pub dir: PathBuf,
    /// Targets to export (default: every stored target)
    pub targets: Vec<String>,
    /// Also commit each snapshot's raw body as `<target>/page.html`
    #[arg(long)]
    pub html: bool,
}

/// Arguments of `redliner evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Target id
    pub target: String,
    /// The snapshot to prove (named as for `show`: an id, a time, a date, `latest`)
    pub snapshot: String,
    /// The older snapshot to include with the redline between them (default:
    /// the one before it; `none` for none)
    #[arg(long, value_name = "OLD")]
    pub against: Option<String>,
    /// The zip to write
    #[arg(long, short, value_name = "FILE.zip")]
    pub output: PathBuf,
}

/// The targets named, each checked, or every stored target.
fn targets(store: &Store, named: &[String]) -> Result<Vec<String>, Error> {
    if named.is_empty() {
        return Ok(store.targets()?);
    }
    for t in named {
        if !store.has_target(t)? {
            return Err(Error::NotFound(format!("target `{t}`: nothing stored")));
        }
    }
    Ok(named.to_vec())
}

/// Runs `redliner export`.
///
/// # Errors
/// Store, git and I/O errors.
pub fn run(global: &Global, args: &ExportArgs) -> Result<ExitCode, Error> {
    match &args.format {
        ExportFormat::Warc(a) => export_warc(global, a),
        ExportFormat::Git(a) => export_git(global, a),
    }
}

fn export_warc(global: &Global, args: &WarcArgs) -> Result<ExitCode, Error> {
    let store = open_sealed(global, "export")?;
    let targets = targets(&store, &args.targets)?;
    let path = &args.output;
    let shown = path.display().to_string();
    super::output::check_destination(path, store.root())?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| super::output::io_error(&shown, source);
    let mut tmp = redliner::store::new_temp_file(&parent).map_err(io)?;
    let gzip = path.extension().is_some_and(|e| e == "gz");
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    let written = warc::write_warc(&store, &targets, &mut out, gzip, &name)?;
    std::io::Write::flush(&mut out).map_err(io)?;
    drop(out);
    tmp.persist(path).map_err(|e| io(e.error))?;
    if !global.quiet {
        super::status(
            tracing::Level::INFO,
            None,
            format_args!(
                "wrote {shown}: {} snapshot{} in {} WARC records",
                written.snapshots,
                if written.snapshots == 1 { "" } else { "s" },
                written.records
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export_git(global: &Global, args: &GitArgs) -> Result<ExitCode, Error> {
    let store = open_sealed(global, "export")?;
    let targets = targets(&store, &args.targets)?;
    // Never inside the store (its files are the record).
    let nearest = args
        .dir
        .ancestors()
        .find(|p| p.exists())
        .and_then(|p| std::fs::canonicalize(p).ok());
    if let (Some(dir), Ok(root)) = (nearest, std::fs::canonicalize(store.root()))
        && (dir.starts_with(&root))
    {
        return Err(Error::Usage(format!(
            "`{}` is inside the store `{}`: name a directory outside it",
            args.dir.display(),
            store.root().display()
        )));
    }
    let done = git::export(&store, &targets, &args.dir, args.html)?;
    if done.work_tree_kept {
        super::status(
            tracing::Level::WARN,
            None,
            format_args!(
                "{}: the work tree has changes of its own: left as it was (the branch `main` has \
                 the new commits)",
                args.dir.display()
            ),
        );
    }
    if !global.quiet {
        super::status(
            tracing::Level::INFO,
            None,
            format_args!(
                "{}: {} commit{} added, {} snapshot{} exported before",
                args.dir.display(),
                done.commits,
                if done.commits == 1 { "" } else { "s" },
                done.earlier,
                if done.earlier == 1 { "" } else { "s" },
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `redliner evidence`.
///
/// # Errors
/// Store errors; [`Error::NotFound`] for an unknown snapshot.
pub fn evidence(global: &Global, args: &EvidenceArgs) -> Result<ExitCode, Error> {
    let store = open_sealed(global, "export")?;
    let new = super::show::resolve(&store, &args.target, &args.snapshot)?;
    let old = match args.against.as_deref() {
        Some("none") => None,
        Some(name) => Some(super::show::resolve(&store, &args.target, name)?),
        None => store.snapshot_preceding(&new)?,
    };
    if let Some(old) = &old
        && (old.captured_at, old.id) >= (new.captured_at, new.id)
    {
        return Err(Error::Usage(format!(
            "--against {}: snapshot {} is not older than snapshot {}",
            args.against.as_deref().unwrap_or_default(),
            old.id,
            new.id
        )));
    }
    super::output::check_destination(&args.output, store.root())?;
    let manifest = evidence::write_bundle_file(&store, &new, old.as_ref(), &args.output)?;
    if !global.quiet {
        super::status(
            tracing::Level::INFO,
            Some(&args.target),
            format_args!(
                "wrote {}: snapshot{} {}, {} ledger entries, chain head {}",
                args.output.display(),
                if manifest.snapshots.len() == 1 {
                    ""
                } else {
                    "s"
                },
                manifest
                    .snapshots
                    .iter()
                    .map(|s| s.id.to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                manifest.ledger_entries,
                manifest.chain_head
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}
