//! `history`, `show`, `diff`, `extract`, `report`, `reextract` and the saved
//! Atom feeds, end to end on the NATO fixture revisions served locally.

use std::str::FromStr;

use atom_syndication::Feed;
use serde_json::Value;

use crate::harness::{Reply, Run, Test, fixture};

fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/nato-belarus/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Serves each fixture in turn and checks it (exit 0 expected each time).
fn checked(fixtures: &[&str]) -> Test {
    let t = Test::new();
    for f in fixtures {
        t.serve(&format!("nato-belarus/{f}"));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 0, "check {f}: {}", run.stderr);
    }
    t
}

fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.stdout
}

fn json(run: Run) -> Value {
    let out = ok(run);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `(heading, change)` of every changed section in a JSON redline.
fn changed_sections(redline: &Value) -> Vec<(String, String)> {
    redline["sections"]
        .as_array()
        .expect("sections array")
        .iter()
        .map(|s| {
            (
                s["heading"].as_str().unwrap_or("Lead").to_string(),
                s["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn section_headings(document: &Value) -> Vec<String> {
    document["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["heading"].as_str().map(str::to_string))
        .collect()
}

const V1_HEADINGS: [&str; 3] = [
    "Belarus’ role in Russia’s war against Ukraine",
    "Evolution of relations",
    "Key areas of cooperation prior to 2021",
];

#[test]
fn history_after_a_503_shows_the_failure_with_its_error() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    t.server.reply(Reply::status(503));
    assert_eq!(t.run(&["check"]).code, 2);

    let out = ok(t.run(&["history", "nato-belarus"]));
    let url = t.server.url("/cps/en/natohq/topics_49119.htm");
    // Past the check time (20 characters and the gap), with the server's URL named.
    let lines: Vec<String> = out.lines().map(|l| l[22..].replace(&url, "URL")).collect();
    assert_eq!(
        lines,
        [
            "-   failed    -        -                                 target `nato-belarus`: fetching `URL`: HTTP 503 Service Unavailable",
            "#2  changed   revised  Last updated: 14 Nov. 2024 09:05  1 modified; +2 -2 words",
            "#1  baseline  -        Last updated: 28 Aug. 2024 11:27  4 sections",
        ],
        "{out}"
    );

    let entries = json(t.run(&[
        "history",
        "nato-belarus",
        "--format",
        "json",
        "--limit",
        "2",
    ]));
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["outcome"], "failed");
    assert!(
        entries[0]["error"]
            .as_str()
            .unwrap()
            .ends_with("HTTP 503 Service Unavailable"),
        "{entries:?}"
    );
    assert_eq!(entries[1]["outcome"], "changed");
    assert_eq!(entries[1]["kind"], "revised");

    let run = t.run(&["history", "nowhere"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "redliner: target `nowhere`: not configured and nothing stored\n"
    );
}

#[test]
fn show_latest_by_id_by_stamp_date_and_raw_bytes() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let latest = ok(t.run(&["show", "nato-belarus"]));
    assert!(latest.starts_with("# Relations with Belarus\n"), "{latest}");
    assert!(latest.contains("Belarus opened a diplomatic mission to NATO in April 1998."));
    assert!(!latest.contains("Belarus’ diplomatic mission to NATO opened in April 1998."));

    for name in ["1", "2024-08-28"] {
        let old = ok(t.run(&["show", "nato-belarus", name]));
        assert!(
            old.contains("Belarus’ diplomatic mission to NATO opened in April 1998."),
            "{name}: {old}"
        );
    }
    let doc = json(t.run(&["show", "nato-belarus", "1", "--format", "json"]));
    assert_eq!(doc["meta"]["title"], "Relations with Belarus");
    assert_eq!(
        doc["meta"]["stamp"]["text"],
        "Last updated: 28 Aug. 2024 11:27"
    );
    assert_eq!(section_headings(&doc), V1_HEADINGS);

    let mut cmd = assert_cmd::Command::cargo_bin("redliner").unwrap();
    let raw = cmd
        .env("NO_COLOR", "1")
        .arg("--store")
        .arg(t.store())
        .args(["show", "nato-belarus", "latest", "--raw"])
        .output()
        .unwrap();
    assert_eq!(raw.status.code(), Some(0));
    assert_eq!(raw.stdout, fixture("nato-belarus/v2-reworded.html"));
    let raw1 = t.run(&["show", "nato-belarus", "1", "--raw", "-o", "v1.html"]);
    assert_eq!((raw1.code, raw1.stdout.as_str()), (0, ""));
    assert_eq!(
        std::fs::read(t.dir.path().join("v1.html")).unwrap(),
        fixture("nato-belarus/v1.html")
    );

    let run = t.run(&["show", "nato-belarus", "2031-01-01"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "redliner: target `nato-belarus`: no snapshot `2031-01-01` (newest ids: 2, 1; see `redliner history nato-belarus`)\n"
    );
}

#[test]
fn diff_the_latest_two_and_named_snapshots() {
    let t = checked(&["v1.html", "v2-reworded.html", "v3-section-added.html"]);

    let latest = json(t.run(&["diff", "nato-belarus", "--format", "json"]));
    assert_eq!(
        (
            latest["old_snapshot"].as_i64(),
            latest["new_snapshot"].as_i64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(
        changed_sections(&latest),
        pairs(&[("Lead", "modified"), ("Relations since 2024", "added")])
    );

    let one_two = json(t.run(&["diff", "nato-belarus", "1", "2", "--format", "json"]));
    assert_eq!(one_two["kind"], "revised");
    assert_eq!(
        changed_sections(&one_two),
        pairs(&[("Evolution of relations", "modified")])
    );

    // Not consecutive, named by the stamp's date: diffed from the documents.
    let by_stamp = json(t.run(&[
        "diff",
        "nato-belarus",
        "2024-08-28",
        "2025-03-03",
        "--format",
        "json",
    ]));
    assert_eq!(
        (
            by_stamp["old_snapshot"].as_i64(),
            by_stamp["new_snapshot"].as_i64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(
        by_stamp["new_stamp"]["text"],
        "Last updated: 03 Mar. 2025 16:40"
    );
    assert_eq!(
        changed_sections(&by_stamp),
        pairs(&[
            ("Lead", "modified"),
            ("Evolution of relations", "modified"),
            ("Relations since 2024", "added")
        ])
    );

    // FROM alone: from there to the latest.
    let from = json(t.run(&["diff", "nato-belarus", "1", "--format", "json"]));
    assert_eq!(changed_sections(&from), changed_sections(&by_stamp));

    let md = ok(t.run(&["diff", "nato-belarus", "1", "2", "--format", "markdown"]));
    assert!(
        md.starts_with("## Relations with Belarus: revised\n"),
        "{md}"
    );

    // Identical: nothing printed, exit 0 even with --exit-code.
    let same = t.run(&["diff", "nato-belarus", "2", "2", "--exit-code"]);
    assert_eq!((same.code, same.stdout.as_str()), (0, ""));
    let differs = t.run(&["diff", "nato-belarus", "--exit-code"]);
    assert_eq!(differs.code, 1, "{}", differs.stderr);
    assert!(
        differs.stdout.contains("Relations since 2024"),
        "{}",
        differs.stdout
    );
}

#[test]
fn diff_two_local_files_needs_no_store() {
    let t = Test::new();
    let (v1, v2) = (fixture_path("v1.html"), fixture_path("v2-reworded.html"));
    for rules in [None, Some("nato-belarus")] {
        let mut args = vec!["diff", &*v1, &*v2, "--format", "json"];
        if let Some(r) = rules {
            args.extend(["--target", r]);
        }
        let r = json(t.run(&args));
        assert_eq!(r["kind"], "revised", "{rules:?}");
        assert_eq!(r["target"], rules.unwrap_or("file"));
        assert_eq!(
            changed_sections(&r),
            pairs(&[("Evolution of relations", "modified")]),
            "{rules:?}"
        );
        let blocks = r["sections"][0]["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0]["change"], "replaced");
    }
    assert!(!t.store().exists(), "diff of two files created a store");

    let same = t.run(&["diff", &v1, &v1, "--exit-code"]);
    assert_eq!((same.code, same.stdout.as_str()), (0, ""));
    let differs = t.run(&[
        "diff",
        &v1,
        &v2,
        "--exit-code",
        "--format",
        "html",
        "-o",
        "r.html",
    ]);
    assert_eq!((differs.code, differs.stdout.as_str()), (1, ""));
    let html = std::fs::read_to_string(t.dir.path().join("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<ins>"), "{html}");

    let run = t.run(&["diff", &v1]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("give the NEW page too"),
        "{}",
        run.stderr
    );
}

#[test]
fn extract_a_fixture_file() {
    let t = Test::new();
    let v1 = fixture_path("v1.html");
    let doc = json(t.run(&[
        "extract",
        &v1,
        "--target",
        "nato-belarus",
        "--format",
        "json",
    ]));
    assert_eq!(section_headings(&doc), V1_HEADINGS);
    assert_eq!(doc["meta"]["root"]["selector"], "section.content");
    assert_eq!(doc["meta"]["root"]["fallback"], false);
    // The generic rules find the same sections through a fallback, and say so.
    let generic = json(t.run(&["extract", &v1, "--format", "json"]));
    assert_eq!(section_headings(&generic), V1_HEADINGS);
    assert_eq!(generic["meta"]["root"]["fallback"], true);
    let md = ok(t.run(&["extract", &v1, "--target", "nato-belarus"]));
    assert!(
        md.starts_with("# Relations with Belarus\n\nLast updated: 28 Aug. 2024 11:27\n"),
        "{md}"
    );
    assert!(!md.contains("cookie"), "{md}");
    assert!(!t.store().exists(), "extract created a store");
}

#[test]
fn report_since_in_markdown_html_and_atom() {
    let t = checked(&[
        "v1.html",
        "v2-reworded.html",
        "v3-section-added.html",
        "v5-stamp-only.html",
    ]);

    let md = ok(t.run(&["report", "--since", "1d", "--format", "markdown"]));
    assert!(
        md.starts_with("# redliner report\n\n3 revisions of 1 target\n"),
        "{md}"
    );
    for want in [
        "Evolution of relations",
        "Relations since 2024",
        "Areas of cooperation before 2021: renamed",
    ] {
        assert!(md.contains(want), "{want:?} not in {md}");
    }
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let md_target = ok(t.run(&[
        "report",
        "nato-belarus",
        "--since",
        &today,
        "--format",
        "markdown",
    ]));
    assert!(md_target.contains("3 revisions of 1 target"), "{md_target}");

    let html = ok(t.run(&[
        "report",
        "--since",
        "2026-01-01T00:00:00Z",
        "--format",
        "html",
    ]));
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Relations since 2024"), "{html}");

    let atom = ok(t.run(&["report", "--format", "atom"]));
    let feed = Feed::from_str(&atom).unwrap_or_else(|e| panic!("{e}: {atom}"));
    assert_eq!(feed.id, "urn:redliner:nato-belarus");
    assert_eq!(feed.entries.len(), 3);
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert!(
        ids.iter()
            .all(|id| id.starts_with("urn:redliner:nato-belarus:revision:")),
        "{ids:?}"
    );
    assert!(feed.entries[0].updated >= feed.entries[2].updated);

    // A window in the past holds nothing.
    let run = t.run(&[
        "report",
        "--since",
        "2000-01-01",
        "--until",
        "2000-02-01",
        "--format",
        "json",
    ]);
    let empty: Value = serde_json::from_str(&ok(run)).unwrap();
    assert_eq!(empty["redlines"].as_array().map(Vec::len), Some(0));

    let run = t.run(&["report", "--since", "last tuesday"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("redliner: --since `last tuesday`: expected a date"),
        "{}",
        run.stderr
    );
}

#[test]
fn feeds_are_saved_after_each_change_and_parse() {
    let t = checked(&["v1.html"]);
    let target_feed = t.store().join("nato-belarus").join("feed.atom");
    let all_feed = t.store().join("feed.atom");
    assert!(
        !target_feed.exists() && !all_feed.exists(),
        "feed written for a baseline"
    );

    t.serve("nato-belarus/v4-renamed.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v5-stamp-only.html");
    assert_eq!(t.run(&["check"]).code, 0);

    for (path, id) in [
        (&target_feed, "urn:redliner:nato-belarus"),
        (&all_feed, "urn:redliner:all"),
    ] {
        let text = std::fs::read_to_string(path).unwrap();
        let feed = Feed::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(feed.id, id);
        assert_eq!(feed.entries.len(), 2, "{text}");
        // Newest first; the stamp-only revision is included.
        assert!(
            feed.entries[0].title.value.contains("stamp"),
            "{:?}",
            feed.entries[0].title
        );
        assert!(
            feed.entries[1].title.value.contains("revised"),
            "{:?}",
            feed.entries[1].title
        );
        let html = feed.entries[1]
            .content
            .as_ref()
            .unwrap()
            .value
            .as_deref()
            .unwrap();
        assert!(html.contains("<ins>"), "{html}");
    }
}

#[test]
fn reextract_records_technical_revisions_that_never_show_as_changes() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let history_before = ok(t.run(&["history", "nato-belarus"]));
    let caption = "Photo: uzhursky via Getty Images";
    assert!(ok(t.run(&["show", "nato-belarus"])).contains(caption));

    // New rules: the photo caption is dropped.
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n[rules.nato-topic]\ntitle = \"h1.fs-huge\"\ncontent = [\"section.content\"]\ndrop = [\"figcaption\"]\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
        t.server.url("/cps/en/natohq/topics_49119.htm")
    ));

    let dry = t.run(&["reextract", "nato-belarus", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stderr,
        "nato-belarus: 2 snapshots re-extracted, 2 would change technically\n"
    );
    assert_eq!(t.count("revisions WHERE technical = 1"), 0);
    assert!(ok(t.run(&["show", "nato-belarus"])).contains(caption));

    let run = t.run(&["reextract", "nato-belarus"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "nato-belarus: 2 snapshots re-extracted, 2 changed technically\n"
    );
    assert_eq!(t.count("revisions WHERE technical = 1"), 2);
    assert_eq!(
        t.count("revisions WHERE technical = 1 AND old_snapshot_id = new_snapshot_id"),
        2
    );
    assert_eq!(t.count("revisions WHERE technical = 0"), 1);
    assert_eq!(t.count("checks"), 2);
    for name in ["1", "2"] {
        let doc = ok(t.run(&["show", "nato-belarus", name]));
        assert!(!doc.contains(caption), "snapshot {name}: {doc}");
    }

    // History lists the same checks: no technical revision shows as a change.
    assert_eq!(ok(t.run(&["history", "nato-belarus"])), history_before);
    // The real revision, read back from the new documents, is the same edit.
    let r = json(t.run(&["diff", "nato-belarus", "--format", "json"]));
    assert_eq!(
        changed_sections(&r),
        pairs(&[("Evolution of relations", "modified")])
    );
    let md = ok(t.run(&["report", "--format", "markdown"]));
    assert!(md.contains("1 revision of 1 target"), "{md}");
    assert!(!md.contains(caption), "{md}");

    // The same page checked again: nothing to report, nothing stored.
    t.serve("nato-belarus/v2-reworded.html");
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 2);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
}

#[test]
fn without_reextract_new_rules_would_report_a_change() {
    // The control for the test above: the rule change alone shows as a change.
    let t = checked(&["v1.html"]);
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n[rules.nato-topic]\ntitle = \"h1.fs-huge\"\ncontent = [\"section.content\"]\ndrop = [\"figcaption\"]\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
        t.server.url("/cps/en/natohq/topics_49119.htm")
    ));
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check", "--exit-code", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(r["kind"], "silent-edit");
    assert_eq!(changed_sections(&r), pairs(&[("Lead", "modified")]));
}
