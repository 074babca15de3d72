//! `redliner history TARGET`: the target's checks and snapshots, newest first.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::error::Error;
use redliner::store::Store;

use super::Global;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Target id
    pub target: String,
    /// Show at most this many entries
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    pub format: HistoryFormat,
}

/// Formats `history` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One line per entry
    Text,
    /// A JSON array
    Json,
}

pub fn run(global: &Global, args: &HistoryArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    let store = Store::open(&settings.store)?;
    let entries = store.history(&args.target, args.limit)?;
    if entries.is_empty() && settings.target(&args.target).is_none() {
        return Err(Error::NotFound(format!(
            "target `{}`: not configured and nothing stored",
            args.target
        )));
    }
    match args.format {
        HistoryFormat::Json => {
            let json = serde_json::to_string_pretty(&entries).map_err(|e| Error::Io {
                path: "stdout".into(),
                source: e.into(),
            })?;
            println!("{json}");
        }
        HistoryFormat::Text => {
            for e in &entries {
                println!("{}", e.line());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
