//! `export warc` (validated and read back by the `warcio` Python package),
//! `export git` and `evidence`, over a history made by a backfill from the
//! fake archive and live checks.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::archive_server::Archive;
use crate::backfill::with_archive;
use crate::harness::{Test, fixture};
use crate::server::Reply;

/// A Python with `warcio` importable: `REDLINER_WARCIO_PYTHON`, else
/// `python3` when it has it. Under CI its absence fails the test with what
/// to install; elsewhere the test is skipped with a notice.
fn warcio_python() -> Option<PathBuf> {
    let candidates = std::env::var_os("REDLINER_WARCIO_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("python3")]);
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import warcio"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python);
        }
    }
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "the warcio Python package is needed to validate WARC exports: \
         python3 -m venv V && V/bin/pip install warcio, then REDLINER_WARCIO_PYTHON=V/bin/python"
    );
    eprintln!("SKIPPED: warcio not found (set REDLINER_WARCIO_PYTHON to a python with warcio)");
    None
}

/// A store with 8 snapshots imported from the archive and one live: v1
/// (the text and stamp of the newest capture, so unchanged), then v2.
fn history(archive: &Archive) -> Test {
    let t = with_archive(archive);
    let run = t.run(&["backfill", "nato-belarus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    t.server.reply(Reply::html(fixture("nato-belarus/v1.html")));
    assert_eq!(t.run(&["check"]).code, 0);
    t.server
        .reply(Reply::html(fixture("nato-belarus/v2-reworded.html")));
    let c = t.run(&["check"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(t.count("snapshots"), 9);
    t
}

/// (raw SHA-256, source) of every snapshot in capture order.
fn raw_digests(t: &Test) -> Vec<(String, Option<String>)> {
    let db = t.db();
    let mut st = db
        .prepare("SELECT raw_sha256, source FROM snapshots ORDER BY captured_at, id")
        .unwrap();
    st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_warc_export_validates_with_warcio_and_reads_back_byte_exact() {
    let archive = Archive::start();
    let t = history(&archive);
    let out = t.dir.path().join("history.warc.gz");
    let run = t.run(&["export", "warc", "--output", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("history.warc.gz: 9 snapshots in 11 WARC records"),
        "{}",
        run.stderr
    );
    // One gzip member per record: each starts with the gzip magic.
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let Some(python) = warcio_python() else {
        return;
    };
    let check = Command::new(&python)
        .args(["-m", "warcio.cli", "check", "-v"])
        .arg(&out)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "warcio check: {report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(report.matches("digest pass").count(), 11, "{report}");
    assert!(!report.contains("fail"), "{report}");
    // Read back: each record's type, URI and payload SHA-256 (hex).
    let script = "import sys, hashlib\n\
        from warcio.archiveiterator import ArchiveIterator\n\
        with open(sys.argv[1], 'rb') as f:\n\
        \x20   for r in ArchiveIterator(f):\n\
        \x20       h = r.rec_headers\n\
        \x20       body = r.content_stream().read()\n\
        \x20       print(r.rec_type, h.get_header('WARC-Date'), h.get_header('WARC-Source-Archive') or '-',\n\
        \x20             hashlib.sha256(body).hexdigest() if r.rec_type in ('response', 'resource') else '-',\n\
        \x20             r.http_headers.get_statuscode() if r.http_headers else '-')\n";
    let read = Command::new(&python)
        .args(["-c", script])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&read.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(lines[0].starts_with("warcinfo "), "{lines:?}");
    let payloads: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("response ") || l.starts_with("resource "))
        .collect();
    let want = raw_digests(&t);
    assert_eq!(payloads.len(), want.len());
    for (line, (sha, source)) in payloads.iter().zip(&want) {
        let f: Vec<&str> = line.split(' ').collect();
        match source {
            Some(archive) => {
                assert_eq!(f[0], "resource", "{line}");
                assert_eq!(f[2], archive, "{line}");
            }
            None => {
                assert_eq!(f[0], "response", "{line}");
                assert_eq!(f[4], "200", "{line}");
            }
        }
        assert_eq!(f[3], sha, "payload of {line}");
    }
    // The first imported capture is dated as the archive captured it.
    assert!(
        payloads[0].starts_with("resource 2006-03-29T18:54:00Z wayback "),
        "{}",
        payloads[0]
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("request ")).count(),
        1
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_git_export_has_one_commit_per_snapshot_in_capture_order_and_is_incremental() {
    let archive = Archive::start();
    let t = with_archive(&archive);
    assert_eq!(t.run(&["backfill", "nato-belarus"]).code, 0);
    let repo = t.dir.path().join("history-git");
    let run = t.run(&["export", "git", repo.to_str().unwrap(), "--html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("8 commits added, 0 snapshots exported before"),
        "{}",
        run.stderr
    );
    let log = git(&repo, &["log", "--reverse", "--format=%aI|%s"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            "2006-03-29T18:54:00Z|Relations with Belarus: first snapshot (Last update: 29-Mar-2006 18:54)",
            "2008-06-11T12:00:00Z|Relations with Belarus: revised (Updated: 11-Jun-2008)",
            "2010-02-04T11:30:00Z|Relations with Belarus: revised (Last updated: 04-Feb-2010 11:30)",
            "2011-06-14T09:12:00Z|Relations with Belarus: revised (Last updated 14-Jun-2011 09:12)",
            "2012-03-02T15:38:00Z|Relations with Belarus: revised (Last updated: 02-Mar-2012 15:38)",
            "2012-03-20T10:00:00Z|Relations with Belarus: stamp only (Last updated: 20-Mar-2012 10:00)",
            "2020-09-10T14:30:00Z|Relations with Belarus: revised (Last updated: 10 Sep. 2020 16:30)",
            "2024-08-30T06:15:00Z|Relations with Belarus: revised (Last updated: 28 Aug. 2024 11:27)",
        ]
    );
    // The work tree is the newest snapshot; a commit's diff is the page's change.
    let md = std::fs::read_to_string(repo.join("nato-belarus/document.md")).unwrap();
    assert!(md.contains("Last updated: 28 Aug. 2024 11:27"), "{md}");
    assert!(repo.join("nato-belarus/page.html").is_file());
    let body = git(&repo, &["log", "-1", "--format=%B", "HEAD~2"]);
    assert!(body.contains("no section changed"), "{body}");
    assert!(body.contains("Redliner-Kind: stamp-only"), "{body}");
    assert!(
        body.contains("Redliner-Archive: wayback http://127.0.0.1:"),
        "{body}"
    );
    let patch = git(
        &repo,
        &[
            "show",
            "--format=",
            "HEAD~6",
            "--",
            "nato-belarus/document.md",
        ],
    );
    assert!(
        patch.contains("\n+") && patch.contains("\n-Last update: 29-Mar-2006"),
        "{patch}"
    );

    // Incremental: a live check later adds one commit on top.
    t.server
        .reply(Reply::html(fixture("nato-belarus/v2-reworded.html")));
    assert_eq!(t.run(&["check"]).code, 0);
    let again = t.run(&["export", "git", repo.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("1 commit added, 8 snapshots exported before"),
        "{}",
        again.stderr
    );
    assert_eq!(git(&repo, &["rev-list", "--count", "HEAD"]).trim(), "9");
    let newest = git(&repo, &["log", "-1", "--format=%s"]);
    assert_eq!(
        newest.trim(),
        "Relations with Belarus: revised (Last updated: 14 Nov. 2024 09:05)"
    );
    // Edits in the work tree are never thrown away: the branch moves on,
    // the file stays as edited.
    std::fs::write(repo.join("nato-belarus/document.md"), "my notes\n").unwrap();
    t.server
        .reply(Reply::html(fixture("nato-belarus/v3-section-added.html")));
    assert_eq!(t.run(&["check"]).code, 0);
    let kept = t.run(&["export", "git", repo.to_str().unwrap()]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(
        kept.stderr
            .contains("the work tree has changes of its own: left as it was"),
        "{}",
        kept.stderr
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("nato-belarus/document.md")).unwrap(),
        "my notes\n"
    );
    assert_eq!(git(&repo, &["rev-list", "--count", "main"]).trim(), "10");
    git(&repo, &["checkout", "--", "."]);
    // Never into the store (a store in a directory).
    if !t.files_on_disk() {
        return;
    }
    let inside = t.store().join("git");
    let refused = t.run(&["export", "git", inside.to_str().unwrap()]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("is inside the store"),
        "{}",
        refused.stderr
    );
    let none = t.run(&["export", "git", repo.to_str().unwrap()]);
    assert!(
        none.stderr
            .contains("0 commits added, 10 snapshots exported before"),
        "{}",
        none.stderr
    );
}

/// Runs `sha256sum` (coreutils) in `dir` and returns its stdout.
fn sha256sum(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("sha256sum")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn an_evidence_bundle_is_checked_with_sha256sum_alone() {
    let archive = Archive::start();
    let t = history(&archive);
    let zip_path = t.dir.path().join("proof.zip");
    // The 2012 stamp-only capture, against the 2012-03-02 one (by date names).
    let run = t.run(&[
        "evidence",
        "nato-belarus",
        "2012-03-20",
        "--against",
        "2012-03-02",
        "--output",
        zip_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = std::fs::File::open(&zip_path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let out = t.dir.path().join("unzipped");
    zip.extract(&out).unwrap();
    let dirs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1);
    let root = &dirs[0];
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("evidence-nato-belarus-"), "{name}");
    for f in [
        "README.txt",
        "SHA256SUMS",
        "manifest.json",
        "captures.warc.gz",
        "redline.html",
        "redline.md",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    // 1. every file intact
    let (ok, report) = sha256sum(root, &["-c", "SHA256SUMS"]);
    assert!(ok, "{report}");
    assert!(!report.contains("FAILED"));
    // 2. each snapshot's files are the ledger's digests
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let snaps = manifest["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 2);
    for s in snaps {
        let id = s["id"].as_i64().unwrap();
        let seq = s["ledger_seq"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_i64()
            .unwrap();
        let entry = std::fs::read_to_string(root.join(format!("ledger/{seq:08}.txt"))).unwrap();
        assert!(entry.contains(&format!("\nsnapshot {id}\n")), "{entry}");
        let (_, raw) = sha256sum(root, &[&format!("snapshot-{id}/page.html")]);
        let (_, doc) = sha256sum(root, &[&format!("snapshot-{id}/document.json")]);
        assert!(
            entry.contains(&format!("\nraw {}\n", &raw[..64])),
            "{entry}"
        );
        assert!(
            entry.contains(&format!("\ndocument {}\n", &doc[..64])),
            "{entry}"
        );
        assert_eq!(s["source"], "wayback");
    }
    // 3. the entries chain: each file's hash is the next one's `prev`
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join("ledger"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 2);
    for pair in entries.windows(2) {
        let (_, h) = sha256sum(root, &[pair[0].to_str().unwrap()]);
        let next = std::fs::read_to_string(&pair[1]).unwrap();
        assert!(next.contains(&format!("\nprev {}\n", &h[..64])), "{next}");
    }
    // 4. the last is the chain head `verify` reports
    let (_, head) = sha256sum(root, &[entries.last().unwrap().to_str().unwrap()]);
    assert_eq!(manifest["chain_head"], &head[..64]);
    let verify = t.run(&["verify"]);
    assert!(
        verify
            .stdout
            .contains(&format!("chain head {}", &head[..64])),
        "{}",
        verify.stdout
    );
    let readme = std::fs::read_to_string(root.join("README.txt")).unwrap();
    assert!(readme.contains("sha256sum -c SHA256SUMS"));
    // The README's own chain check, run as written.
    let line = readme
        .lines()
        .find(|l| l.trim_start().starts_with("prev=;"))
        .expect("the chain check command");
    let out = Command::new("sh")
        .arg("-c")
        .arg(line.trim())
        .current_dir(root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.trim(),
        format!("OK (last hash {})", &head[..64]),
        "{line}"
    );
    assert!(
        readme.contains("imported from the `wayback` web archive"),
        "{readme}"
    );
    let redline = std::fs::read_to_string(root.join("redline.md")).unwrap();
    assert!(redline.contains("stamp"), "{redline}");

    // A tampered store is refused, not bundled.
    let dir: String = t
        .db()
        .query_row(
            "SELECT dir FROM snapshots WHERE captured_at LIKE '2012-03-20%'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    t.edit_document(&t.store().join(dir), |json| {
        let at = json.iter().position(|b| *b == b'N').unwrap();
        json[at] = b'M';
    });
    let refused = t.run(&[
        "evidence",
        "nato-belarus",
        "2012-03-20",
        "--output",
        zip_path.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("its document no longer matches the SHA-256 the ledger recorded"),
        "{}",
        refused.stderr
    );
}
