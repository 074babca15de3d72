//! Where a command's report goes: stdout, or `--output FILE` (written to a temp
//! file beside it and renamed, so a reader never sees half a report).

use std::io::Write;
use std::path::{Path, PathBuf};

use redliner::error::Error;
use redliner::report::TerminalStyle;

/// Writes `render`'s output to `path`, or to stdout when `path` is `None`.
/// Output to a file never has colour codes.
pub fn emit(
    path: Option<&Path>,
    style: TerminalStyle,
    render: impl FnOnce(&mut dyn Write, TerminalStyle) -> std::io::Result<()>,
) -> Result<(), Error> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            render(&mut out, style).map_err(|e| io_error("stdout", e))?;
            out.flush().map_err(|e| io_error("stdout", e))
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let shown = path.display().to_string();
            let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&shown, e))?;
            render(
                &mut tmp,
                TerminalStyle {
                    color: false,
                    width: None,
                },
            )
            .map_err(|e| io_error(&shown, e))?;
            tmp.persist(path).map_err(|e| io_error(&shown, e.error))?;
            Ok(())
        }
    }
}

/// An I/O error on `path`.
pub fn io_error(path: &str, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_string(),
        source,
    }
}

/// The redline formats of `diff` and `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RedlineFormat {
    /// Colour on a terminal, plain `[-deleted-]{+inserted+}` marks when piped
    Terminal,
    /// GitHub-flavoured Markdown
    Markdown,
    /// One self-contained HTML page
    Html,
    /// The documented JSON schema (`schema_version`)
    Json,
    /// An Atom feed, one entry per revision
    Atom,
}

impl From<RedlineFormat> for redliner::report::Format {
    fn from(f: RedlineFormat) -> Self {
        use redliner::report::Format;
        match f {
            RedlineFormat::Terminal => Format::Terminal,
            RedlineFormat::Markdown => Format::Markdown,
            RedlineFormat::Html => Format::Html,
            RedlineFormat::Json => Format::Json,
            RedlineFormat::Atom => Format::Atom,
        }
    }
}
