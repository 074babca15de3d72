//! `redliner extract FILE|URL`: prints the document a page yields (stage debugging).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use redliner::error::Error;

use super::Global;
use super::output::emit;
use super::source::{load_document, optional_settings};

/// Arguments of `redliner extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// A local HTML file or an http(s) URL
    pub input: String,
    /// Use this configured target's extraction rules (default: the generic rules)
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DocumentFormat::Markdown)]
    pub format: DocumentFormat,
    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How to print a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    /// Markdown, as stored in `document.md`
    Markdown,
    /// JSON, as stored in the snapshot's `document.json.zst`
    Json,
}

/// Prints the document a file or URL yields.
///
/// # Errors
/// Fetch, extraction and output errors.
pub fn run(global: &Global, args: &ExtractArgs) -> Result<ExitCode, Error> {
    let settings = optional_settings(global)?;
    let document = load_document(&args.input, settings.as_ref(), args.target.as_deref())?;
    emit(args.output.as_deref(), global.terminal_style(), |out, _| {
        write_document(&document, args.format, &args.input, out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a document as Markdown or pretty JSON (trailing newline).
pub fn write_document(
    document: &redliner::document::Document,
    format: DocumentFormat,
    fallback_title: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        DocumentFormat::Markdown => {
            out.write_all(redliner::store::render_markdown(document, fallback_title).as_bytes())
        }
        DocumentFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, document)?;
            writeln!(out)
        }
    }
}
