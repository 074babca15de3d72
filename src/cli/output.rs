//! Where a command's report goes: stdout, or `--output FILE` (written to a temp
//! file beside it and renamed, so a reader never sees half a report).

use std::io::Write;
use std::path::{Path, PathBuf};

use redliner::error::Error;
use redliner::report::TerminalStyle;

/// Writes `render`'s output to `path`, or to stdout when `path` is `None`.
/// Output to a file never has colour codes; the file gets the usual mode
/// (0666 less the umask, see [`redliner::store::new_temp_file`]).
///
/// # Errors
/// [`Error::Usage`] when `path` is a directory or its directory does not
/// exist; [`Error::Io`] naming `path` (never the temp file) otherwise,
/// and for stdout (a closed pipe is [`std::io::ErrorKind::BrokenPipe`]).
pub fn emit(
    path: Option<&Path>,
    style: TerminalStyle,
    render: impl FnOnce(&mut dyn Write, TerminalStyle) -> std::io::Result<()>,
) -> Result<(), Error> {
    let Some(path) = path else {
        let mut out = PipeAware::new(std::io::stdout().lock());
        let result = render(&mut out, style).and_then(|()| out.flush());
        return out.result(result).map_err(|source| Error::System {
            what: "writing to standard output",
            source,
        });
    };
    let shown = path.display().to_string();
    let dir = output_dir(path, &shown)?;
    let cannot = |e: std::io::Error| Error::Usage(format!("cannot write `{shown}`: {}", plain(&e)));
    let mut tmp = redliner::store::new_temp_file(&dir).map_err(cannot)?;
    render(
        &mut tmp,
        TerminalStyle {
            color: false,
            width: None,
        },
    )
    .map_err(|e| io_error(&shown, e))?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// The directory `--output FILE` goes into, after checking that FILE is not
/// a directory and that its directory exists.
fn output_dir(path: &Path, shown: &str) -> Result<PathBuf, Error> {
    let trailing_slash = shown.ends_with('/') || shown.ends_with(std::path::MAIN_SEPARATOR);
    if path.is_dir() || trailing_slash {
        return Err(Error::Usage(format!(
            "cannot write `{shown}`: it is a directory (give a file name)"
        )));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        return Err(Error::Usage(format!(
            "cannot write `{shown}`: directory `{}` does not exist",
            dir.display()
        )));
    }
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "cannot write `{shown}`: `{}` is not a directory",
            dir.display()
        )));
    }
    Ok(dir)
}

/// An I/O error's own message, without the temp file path tempfile appends
/// (`... at path "/dir/.tmpAbC123"`), which would name a file the user never
/// asked for.
fn plain(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" at path ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A writer that remembers when its reader went away, so a renderer that
/// wraps write errors in its own (the Atom writer does) still ends as
/// [`std::io::ErrorKind::BrokenPipe`], which the binary treats as a quiet
/// end (`redliner ... | head`).
pub struct PipeAware<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeAware<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        PipeAware {
            inner,
            closed: false,
        }
    }

    /// `result` as the renderer returned it, except that any failure after
    /// the reader went away is a plain `BrokenPipe` error.
    pub fn result(&self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(_) if self.closed => Err(std::io::ErrorKind::BrokenPipe.into()),
            other => other,
        }
    }

    fn note<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if r.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            self.closed = true;
        }
        r
    }
}

impl<W: Write> Write for PipeAware<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
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

/// Refuses a file to write that would destroy something: an existing path
/// that is not a regular file (a directory, a device such as `/dev/null`, a
/// FIFO, a symlink), a path inside the store `store` (its index, its lock,
/// a snapshot's files), or a directory that does not exist.
///
/// # Errors
/// [`Error::Usage`] naming the path and why.
pub fn check_destination(path: &std::path::Path, store: &std::path::Path) -> Result<(), Error> {
    let shown = path.display();
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(Error::Usage(format!(
            "`{shown}` exists and is not a regular file; name a new file or one to replace"
        )));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let dir = std::fs::canonicalize(dir).map_err(|_| {
        Error::Usage(format!(
            "`{shown}`: directory `{}` does not exist",
            dir.display()
        ))
    })?;
    if let Ok(store) = std::fs::canonicalize(store)
        && dir.starts_with(&store)
    {
        return Err(Error::Usage(format!(
            "`{shown}` is inside the store `{}`; write it elsewhere",
            store.display()
        )));
    }
    Ok(())
}
