//! Exporting the history as a git repository: one commit per snapshot, in
//! capture order, each writing its target's `document.md` (and, asked,
//! `page.html`, the raw body), so `git log -p`, `git blame` and any git UI
//! show how the page changed.
//!
//! The commits are made by `git fast-import` (git's own importer, fed a
//! stream; <https://git-scm.com/docs/git-fast-import>). Author and committer
//! are `redliner <redliner@localhost>`, both dated the capture time, so the
//! same snapshots always give the same commits. The message is the
//! revision's headline (title, kind, stamp) and summary line, then
//! trailers naming the snapshot (`Redliner-Snapshot: <target>#<id>`),
//! its capture time and, for an imported capture, its archive.
//!
//! Incremental: the snapshots already exported are read back from the
//! branch's trailers, and only the others are committed, on top. A snapshot
//! imported (`backfill`) after an export is older than commits already made:
//! it is committed on top like the others, dated by its capture time.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::store::{SnapshotRow, Store};

/// The branch the commits go to.
pub const BRANCH: &str = "refs/heads/main";

/// The trailer naming a commit's snapshot.
pub const SNAPSHOT_TRAILER: &str = "Redliner-Snapshot";

/// What [`export`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// Commits made now.
    pub commits: usize,
    /// Snapshots found exported before.
    pub earlier: usize,
    /// The checked-out work tree had changes of its own: it was left as it
    /// was (the branch has the new commits).
    pub work_tree_kept: bool,
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

fn git_error(what: &str, e: &std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Usage("`git` was not found on PATH: `export git` needs git installed".into())
    } else {
        Error::Usage(format!("git {what}: {e}"))
    }
}

/// Runs a git command and returns its stdout, or an error with its stderr.
fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let out = git(dir)
        .args(args)
        .output()
        .map_err(|e| git_error(args[0], &e))?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "git {} in `{}` failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The branch's newest commit, when it has one.
fn branch_tip(dir: &Path) -> Result<Option<String>> {
    let out = git(dir)
        .args(["rev-parse", "--verify", "--quiet", BRANCH])
        .output()
        .map_err(|e| git_error("rev-parse", &e))?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// The snapshots the branch's commits name (`<target>#<id>`); `tip` is
/// the branch's newest commit, if it has one.
fn exported(dir: &Path, tip: Option<&str>) -> Result<HashSet<String>> {
    if tip.is_none() {
        return Ok(HashSet::new());
    }
    let log = run(
        dir,
        &[
            "log",
            &format!("--format=%(trailers:key={SNAPSHOT_TRAILER},valueonly)"),
            BRANCH,
        ],
    )?;
    Ok(log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// Commits every snapshot of `targets` not yet on the branch of the
/// repository at `dir` (made when missing), in capture order. With `html`,
/// each commit also writes the raw body as `<target>/page.html`.
///
/// # Errors
/// [`Error::Usage`] when git is missing or fails (its message said);
/// [`Error::Store`] when a snapshot's files cannot be read.
pub fn export(store: &Store, targets: &[String], dir: &Path, html: bool) -> Result<Exported> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    if !dir.join(".git").exists() {
        run(dir, &["init", "--quiet"])?;
        run(dir, &["symbolic-ref", "HEAD", BRANCH])?;
    }
    let tip = branch_tip(dir)?;
    let done = exported(dir, tip.as_deref())?;
    let mut rows: Vec<SnapshotRow> = Vec::new();
    for t in targets {
        rows.extend(store.snapshots_in_order(t)?);
    }
    rows.sort_by_key(|r| (r.captured_at, r.id));
    let earlier = rows
        .iter()
        .filter(|r| done.contains(&format!("{}#{}", r.target, r.id)))
        .count();
    let todo: Vec<&SnapshotRow> = rows
        .iter()
        .filter(|r| !done.contains(&format!("{}#{}", r.target, r.id)))
        .collect();
    if todo.is_empty() {
        return Ok(Exported {
            commits: 0,
            earlier,
            work_tree_kept: false,
        });
    }
    // The work tree follows the branch when it is checked out and has no
    // changes of its own (edits are never thrown away).
    let checked_out =
        run(dir, &["symbolic-ref", "--quiet", "HEAD"]).is_ok_and(|h| h.trim() == BRANCH);
    let dirty = checked_out
        && tip.is_some()
        && !run(dir, &["status", "--porcelain", "--untracked-files=no"])?
            .trim()
            .is_empty();
    // An existing branch goes on from its tip (named on the first commit;
    // fast-import chains the others).
    let mut stream = Vec::new();
    for (i, row) in todo.iter().enumerate() {
        commit(
            store,
            row,
            html,
            tip.as_deref().filter(|_| i == 0),
            &mut stream,
        )?;
    }
    let mut child = git(dir)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git_error("fast-import", &e))?;
    stream.extend_from_slice(b"done\n");
    let wrote = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(&stream))
        .transpose();
    let out = child
        .wait_with_output()
        .map_err(|e| git_error("fast-import", &e))?;
    if !out.status.success() || wrote.is_err() {
        return Err(Error::Usage(format!(
            "git fast-import in `{}` failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    if checked_out && !dirty {
        run(dir, &["reset", "--quiet", "--hard", BRANCH])?;
    }
    Ok(Exported {
        commits: todo.len(),
        earlier,
        work_tree_kept: dirty,
    })
}

/// Appends one commit to the fast-import stream.
fn commit(
    store: &Store,
    row: &SnapshotRow,
    html: bool,
    from: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<()> {
    // The Markdown is made from the document whose digest the ledger
    // recorded (checked), never copied from `document.md`, which is not.
    let (_, document) = super::checked_document(store, row)?;
    let md = crate::store::render_markdown(&document, &row.target).into_bytes();
    let when = row.captured_at.as_second();
    let message = message(store, row)?;
    let _ = writeln!(out, "commit {BRANCH}");
    let _ = writeln!(out, "author redliner <redliner@localhost> {when} +0000");
    let _ = writeln!(out, "committer redliner <redliner@localhost> {when} +0000");
    let _ = writeln!(out, "data {}\n{message}", message.len());
    if let Some(parent) = from {
        let _ = writeln!(out, "from {parent}");
    }
    file(out, &format!("{}/document.md", row.target), &md);
    if html {
        let body = super::checked_body(store, row)?;
        file(out, &format!("{}/page.html", row.target), &body);
    }
    out.push(b'\n');
    Ok(())
}

fn file(out: &mut Vec<u8>, path: &str, bytes: &[u8]) {
    let _ = writeln!(out, "M 100644 inline {path}\ndata {}", bytes.len());
    out.extend_from_slice(bytes);
    out.push(b'\n');
}

/// The commit message: headline, summary, trailers.
fn message(store: &Store, row: &SnapshotRow) -> Result<String> {
    let title = row.title.clone().unwrap_or_else(|| row.target.clone());
    let stamp = row
        .stamp_text
        .as_deref()
        .map_or_else(String::new, |s| format!(" ({s})"));
    let revision = match store.revision_to(&row.target, row.id)? {
        Some(id) => store.revision_row(&row.target, id)?,
        None => None,
    };
    let (headline, summary) = match &revision {
        Some(r) => (
            format!("{title}: {}{stamp}", r.kind.as_str().replace('-', " ")),
            crate::report::history::summary_text(&r.summary),
        ),
        None => (
            format!("{title}: first snapshot{stamp}"),
            format!(
                "{} section{}, {} words",
                row.sections,
                if row.sections == 1 { "" } else { "s" },
                row.words
            ),
        ),
    };
    let mut m = format!(
        "{headline}\n\n{summary}\n\n{SNAPSHOT_TRAILER}: {}#{}\nRedliner-Captured: {}\n",
        row.target, row.id, row.captured_at
    );
    if let Some(kind) = revision.as_ref().map(|r| r.kind.as_str()) {
        m.push_str(&format!("Redliner-Kind: {kind}\n"));
    }
    if let Some(archive) = &row.source {
        m.push_str(&format!(
            "Redliner-Archive: {archive} {}\n",
            row.source_url.as_deref().unwrap_or("")
        ));
    }
    Ok(m)
}
