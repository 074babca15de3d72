//! `redliner migrate --to DEST`: copies the configured store, rows and
//! files, into a new store of the other kind (a directory for SQLite, or a
//! PostgreSQL URL), then checks the copy: row counts, every file's digest,
//! and the ledger (see [`redliner::store::migrate`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use redliner::error::Error;
use redliner::store::db::postgres;
use redliner::store::lock::StoreLock;
use redliner::store::{Store, migrate};

use super::Global;
use super::maintenance::{ListFormat, table};

/// Arguments of `redliner migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The new store: a PostgreSQL URL (`postgres://user@host:port/db`, an
    /// empty database) or a directory (new or empty) for SQLite
    #[arg(long, value_name = "STORE")]
    pub to: String,
    /// The environment variable holding the password of `--to`'s database
    /// (default: PGPASSWORD)
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// Output format of the report
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

pub fn run(global: &Global, args: &MigrateArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    if !super::source::store_exists(&settings.store)? {
        return Err(Error::Usage(format!(
            "no store at `{}` to migrate",
            postgres::redact(&settings.store.to_string_lossy())
        )));
    }
    let dest = PathBuf::from(&args.to);
    let to_url = postgres::is_url(&args.to);
    if !to_url {
        if postgres::store_kind(&args.to) == postgres::StoreKind::OtherUrl {
            return Err(Error::Usage(postgres::other_url_message(&args.to)));
        }
        let empty = match std::fs::read_dir(&dest) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                return Err(Error::System {
                    what: "reading the destination directory",
                    source: e,
                });
            }
        };
        if !empty {
            return Err(Error::Usage(format!(
                "`{}` is not empty: migrate writes a new store into a new or empty directory",
                dest.display()
            )));
        }
    }
    // No writer on either store while the copy runs.
    let _from_lock = StoreLock::acquire(&settings.store, "migrate", settings.watch.lock_wait)?;
    let mut from = settings.open_store()?;
    let created_dir = !to_url && !dest.exists();
    let result = (|| -> Result<migrate::MigrateReport, Error> {
        let mut to = Store::open_with_password(&dest, args.to_password_env.as_deref())?;
        let _to_lock = StoreLock::acquire(&to.location(), "migrate", settings.watch.lock_wait)?;
        // A store made before the ledger has snapshots to seal first; the
        // copy then carries a whole chain.
        from.seal_unsealed()?;
        let quiet = global.quiet;
        Ok(migrate::copy_store(&from, &mut to, &mut |what: &str| {
            if !quiet {
                super::status(tracing::Level::INFO, None, format_args!("{what}"));
            }
        })?)
    })();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            if created_dir {
                let _ = std::fs::remove_dir_all(&dest);
            }
            return Err(e);
        }
    };
    let shown = postgres::redact(&args.to);
    super::output::emit(None, global.terminal_style(), |out, _| match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)
        }
        ListFormat::Text => {
            let mut t = table();
            t.set_header(["TABLE", "SOURCE ROWS", "COPIED ROWS"]);
            for (name, a, b) in &report.tables {
                t.add_row([name.clone(), a.to_string(), b.to_string()]);
            }
            writeln!(out, "{}", super::maintenance::render(t))?;
            writeln!(
                out,
                "{} documents and {} raw bodies ({} bytes) copied, each read back and \
                 matching its SHA-256; {} snapshots indexed for search; the ledger's {} \
                 entries verify in the new store.",
                report.documents,
                report.raw_bodies,
                report.bytes,
                report.indexed,
                report.ledger_entries
            )?;
            writeln!(
                out,
                "To use it: `store = \"{shown}\"` in the config (the old store is left as it was)."
            )
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
