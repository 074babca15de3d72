//! What users expect of any command-line tool: `redliner completions SHELL`
//! (clap_complete), `redliner man` (clap_mangen) and the long `--version`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

use redliner::error::Error;

use super::output::io_error;

/// Arguments of `redliner completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `redliner man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `redliner.1` and one `redliner-COMMAND.1` per command into this
    /// directory instead of printing the main page
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `0.1.0`, then the commit it was built from, the SQLite library it links,
/// and the schema versions of the redline JSON and of the store's index.
pub fn long_version() -> &'static str {
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| {
        format!(
            "{}\ncommit: {}\nSQLite: {}\nredline JSON schema: {}\nstore index schema: {}",
            env!("CARGO_PKG_VERSION"),
            env!("REDLINER_COMMIT"),
            rusqlite::version(),
            redliner::report::SCHEMA_VERSION,
            redliner::store::index_schema_version()
        )
    })
}

/// Prints the completion script for `args.shell`.
///
/// # Errors
/// Writing to standard output failed.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut super::command(), "redliner", &mut out);
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the main manual page, or writes every page into `args.dir`.
///
/// # Errors
/// Writing to standard output or to the directory failed.
pub fn man(args: &ManArgs) -> Result<ExitCode, Error> {
    let command = super::command();
    match &args.dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|source| Error::System {
                    what: "rendering the manual page",
                    source,
                })?;
            write_stdout(&out)?;
        }
        Some(dir) => {
            // As `backup` and `--metrics-file`: the directory's parent must
            // exist (a typo in the path is said, not made).
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
                && !parent.is_dir()
            {
                return Err(Error::Usage(format!(
                    "--dir `{}`: `{}` is not a directory",
                    dir.display(),
                    parent.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(|e| io_error(&dir.display().to_string(), e))?;
            clap_mangen::generate_to(command, dir)
                .map_err(|e| io_error(&dir.display().to_string(), e))?;
            let pages = std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
                        .count()
                })
                .unwrap_or(0);
            write_stdout(format!("{}: {pages} manual pages\n", dir.display()).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|source| Error::System {
            what: "writing to standard output",
            source,
        })
}
