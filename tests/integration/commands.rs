//! `history`, `show`, `diff`, `extract`, `report`, `reextract` and the saved
//! Atom feeds, end to end on the NATO fixture revisions served locally.

use std::str::FromStr;

use atom_syndication::Feed;
use serde_json::Value;

use crate::harness::{NATO_RULES, Reply, Run, Test, fixture};

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
            "SNAPSHOT  OUTCOME   KIND     STAMP                             SUMMARY",
            "-         failed    -        -                                 target `nato-belarus`: fetching `URL`: HTTP 503 Service Unavailable",
            "#2        changed   revised  Last updated: 14 Nov. 2024 09:05  1 modified; +3 -2 words",
            "#1        baseline  -        Last updated: 28 Aug. 2024 11:27  4 sections",
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
        .arg(t.store_arg())
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
        assert_eq!(r["target"], rules.unwrap_or("v2-reworded.html"));
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
    // The generic rules find the same sections; no root was configured, so
    // the root found is recorded but is no fallback.
    let generic = json(t.run(&["extract", &v1, "--format", "json"]));
    assert_eq!(section_headings(&generic), V1_HEADINGS);
    assert_eq!(generic["meta"]["root"]["selector"], "readability");
    assert_eq!(generic["meta"]["root"]["fallback"], false);
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
    // A store in PostgreSQL keeps no feed file: `serve` makes it.

    t.serve("nato-belarus/v4-renamed.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v5-stamp-only.html");
    assert_eq!(t.run(&["check"]).code, 0);

    for (target, id) in [
        (Some("nato-belarus"), "urn:redliner:nato-belarus"),
        (None, "urn:redliner:all"),
    ] {
        let text = t.feed(target);
        let feed = Feed::from_str(&text).unwrap_or_else(|e| panic!("{target:?}: {e}"));
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

/// The feeds were rewritten after every change, each rewrite reading every
/// target's history: a run with K changes wrote the feed for all targets K
/// times. Now a run rewrites each changed target's feed once and the feed
/// for all targets once, at its end.
#[test]
fn a_run_with_several_changes_rewrites_each_feed_once() {
    let t = Test::new();
    let ids = ["alpha", "beta", "gamma"];
    let mut config = format!("[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n");
    for id in ids {
        config.push_str(&format!(
            "[[target]]\nid = \"{id}\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
            t.server.url(&format!("/{id}.htm"))
        ));
    }
    t.write_config(&config);
    // Feed files: a store in PostgreSQL writes none (`serve` makes them).
    if !t.files_on_disk() {
        return;
    }
    for version in ["v1.html", "v2-reworded.html"] {
        for id in ids {
            t.server.reply_at(
                &format!("/{id}.htm"),
                Reply::html(fixture(&format!("nato-belarus/{version}"))),
            );
        }
        let run = t.run(&["-vv", "check"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let written = |path: &std::path::Path| {
            let line = format!("feed written: `{}`", path.display());
            run.stderr.lines().filter(|l| l.contains(&line)).count()
        };
        let changes = usize::from(version != "v1.html");
        assert_eq!(written(&t.store().join("feed.atom")), changes, "{version}");
        for id in ids {
            let feed = t.store().join(id).join("feed.atom");
            assert_eq!(written(&feed), changes, "{version}: {id}");
        }
    }
    let all = std::fs::read_to_string(t.store().join("feed.atom")).unwrap();
    assert_eq!(Feed::from_str(&all).unwrap().entries.len(), 3, "{all}");
}

#[test]
fn reextract_records_technical_revisions_that_never_show_as_changes() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let history_before = ok(t.run(&["history", "nato-belarus"]));
    let caption = "Photo: uzhursky via Getty Images";
    assert!(ok(t.run(&["show", "nato-belarus"])).contains(caption));

    // New rules: the photo caption is dropped.
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n[rules.nato-topic]\ntitle = \"h1.fs-huge\"\ncontent = [\"section.content\"]\ntz = \"Europe/Brussels\"\ndrop = [\"figcaption\"]\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
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
fn without_reextract_new_rules_alone_report_no_change() {
    // Once the control for the test above (the rule change alone showed as a
    // change): the check now extracts the previous page again with the new
    // rules first, records the difference as technical, and alerts nothing.
    let t = checked(&["v1.html"]);
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n[rules.nato-topic]\ntitle = \"h1.fs-huge\"\ncontent = [\"section.content\"]\ntz = \"Europe/Brussels\"\ndrop = [\"figcaption\"]\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
        t.server.url("/cps/en/natohq/topics_49119.htm")
    ));
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check", "--exit-code", "--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
    assert_eq!(t.count("revisions WHERE technical = 0"), 0);
    assert_eq!(t.count("revisions WHERE technical = 1"), 1);
}

/// `#id time` of every snapshot, newest first, times to the second.
fn snapshot_times(t: &Test) -> Vec<String> {
    let db = t.db();
    let mut st = db
        .prepare("SELECT id, captured_at FROM snapshots ORDER BY captured_at DESC, id DESC")
        .unwrap();
    st.query_map((), |r| {
        let (id, at): (i64, String) = (r.get(0)?, r.get(1)?);
        Ok(format!("#{id} {}Z", &at[..19]))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn show_and_diff_take_the_times_history_prints_and_refuse_ambiguous_names() {
    let t = checked(&["v1.html"]);
    // The second check lands in another second than anything of the first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.serve("nato-belarus/v2-reworded.html");
    assert_eq!(t.run(&["check"]).code, 0);

    let history = ok(t.run(&["history", "nato-belarus"]));
    let times: Vec<&str> = history
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "{history}");
    assert!(
        times.iter().all(|t| t.len() == 20 && t.ends_with('Z')),
        "{times:?}"
    );
    let v1_text = "Belarus’ diplomatic mission to NATO opened in April 1998.";
    let (new, old) = (times[0], times[1]);
    assert!(ok(t.run(&["show", "nato-belarus", old])).contains(v1_text));
    assert!(!ok(t.run(&["show", "nato-belarus", new])).contains(v1_text));
    assert!(ok(t.run(&["show", "nato-belarus", "#1"])).contains(v1_text));
    assert_eq!(
        ok(t.run(&["diff", "nato-belarus", old, new, "--format", "json"])),
        ok(t.run(&["diff", "nato-belarus", "1", "2", "--format", "json"]))
    );

    // A date both snapshots were captured on names neither: an error listing them.
    let day = &old[..10];
    if new.starts_with(day) {
        let want = format!(
            "redliner: target `nato-belarus`: `{day}` matches 2 snapshots ({}); name one by its id\n",
            snapshot_times(&t).join(", ")
        );
        for args in [
            vec!["show", "nato-belarus", day],
            vec!["diff", "nato-belarus", day, "2"],
        ] {
            let run = t.run(&args);
            assert_eq!(
                (run.code, run.stdout.as_str(), run.stderr.as_str()),
                (2, "", want.as_str()),
                "{args:?}"
            );
        }
    }
}

/// Runs the binary like `Test::run`, with stdout a pipe whose reader is
/// already gone (`redliner ... | head` after `head` exited).
fn run_into_closed_pipe(t: &Test, args: &[&str]) -> Run {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_redliner"))
        .current_dir(t.dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(t.config_path())
        .arg("--store")
        .arg(t.store_arg())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap().into()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_status_0() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let (v1, v3) = (
        fixture_path("v1.html"),
        fixture_path("v3-section-added.html"),
    );
    let cases: Vec<Vec<&str>> = vec![
        vec!["extract", &v1],
        vec!["diff", &v1, &v3, "--format", "atom"],
        vec!["history", "nato-belarus"],
        vec!["show", "nato-belarus"],
        vec!["show", "nato-belarus", "1", "--raw"],
        vec!["diff", "nato-belarus"],
        vec!["report", "--format", "markdown"],
        vec!["report", "--since", "2000-01-01", "--until", "2000-02-01"],
        vec!["alerts"],
    ];
    for args in &cases {
        let run = run_into_closed_pipe(&t, args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
    // `check` records the change all the same, and says nothing.
    t.serve("nato-belarus/v3-section-added.html");
    let run = run_into_closed_pipe(&t, &["check"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(t.count("snapshots"), 3);
}

#[test]
fn output_to_a_missing_directory_or_a_directory_names_the_problem() {
    let t = checked(&["v1.html"]);
    let d = t.dir.path().display().to_string();
    std::fs::write(t.dir.path().join("plain"), b"").unwrap();
    let mut cases = vec![
        (
            format!("{d}/missing/dir/x.txt"),
            format!(
                "cannot write `{d}/missing/dir/x.txt`: directory `{d}/missing/dir` does not exist"
            ),
        ),
        (
            format!("{d}/"),
            format!("cannot write `{d}/`: it is a directory (give a file name)"),
        ),
        (
            format!("{d}/plain/x.txt"),
            format!("cannot write `{d}/plain/x.txt`: `{d}/plain` is not a directory"),
        ),
    ];
    if t.files_on_disk() {
        cases.push((
            format!("{d}/store"),
            format!("cannot write `{d}/store`: it is a directory (give a file name)"),
        ));
    }
    for (path, want) in cases {
        for args in [
            vec!["history", "nato-belarus", "-o", &path],
            vec!["show", "nato-belarus", "--output", &path],
        ] {
            let run = t.run(&args);
            assert_eq!(
                (run.code, run.stderr),
                (2, format!("redliner: {want}\n")),
                "{args:?}"
            );
        }
    }
    let leftovers: Vec<String> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

/// Runs the binary like `Test::run` under `sh -c 'umask U; exec redliner ...'`.
#[cfg(unix)]
fn run_with_umask(t: &Test, umask: &str, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.current_dir(t.dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_redliner"))
        .arg("--config")
        .arg(t.config_path())
        .arg("--store")
        .arg(t.store_arg())
        .args(args);
    cmd.output().unwrap().into()
}

#[cfg(unix)]
#[test]
fn written_files_and_snapshot_directories_follow_the_umask_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let t = Test::new();
    for f in ["v1.html", "v2-reworded.html"] {
        t.serve(&format!("nato-belarus/{f}"));
        let run = run_with_umask(&t, "022", &["check"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // File modes: a store in PostgreSQL writes no file.
    if !t.files_on_disk() {
        return;
    }
    let store = t.store();
    let dirs = t.snapshot_dirs("nato-belarus");
    let new = &dirs[1];
    let mut got = vec![(new.clone(), mode(new))];
    for p in [
        t.raw_file(new),
        new.join("document.json.zst"),
        new.join("document.md"),
        new.join("redline.md"),
        store.join("nato-belarus/feed.atom"),
        store.join("feed.atom"),
    ] {
        got.push((p.clone(), mode(&p)));
    }
    let want: Vec<_> = got
        .iter()
        .map(|(p, _)| (p.clone(), if p == new { 0o755 } else { 0o644 }))
        .collect();
    assert_eq!(got, want);

    for (umask, want) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let out = t.dir.path().join(format!("diff-{umask}.md"));
        let run = run_with_umask(
            &t,
            umask,
            &["diff", "nato-belarus", "-o", out.to_str().unwrap()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(mode(&out), want, "umask {umask}");
    }
}

#[test]
fn extract_without_a_target_names_no_target() {
    let t = Test::new();
    let want = "redliner: extracting `/dev/null`: content root `body` holds 0 characters of text (minimum 200)\n  hint: the page may be an error page, or need a configured target's rules (`--target ID`)\n";
    let v1 = fixture_path("v1.html");
    for args in [vec!["extract", "/dev/null"], vec!["diff", &v1, "/dev/null"]] {
        let run = t.run(&args);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (2, "", want),
            "{args:?}"
        );
    }
    // With --target, the target is named.
    let run = t.run(&["extract", "/dev/null", "--target", "nato-belarus"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("redliner: target `nato-belarus`: extracting `/dev/null`: "),
        "{}",
        run.stderr
    );
}

#[test]
fn report_says_no_revisions_once_and_refuses_bad_windows() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let window = ["--since", "2000-01-01", "--until", "2000-02-01"];
    let run = t.run(&[&["report"][..], &window].concat());
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "No revisions since 2000-01-01T00:00:00Z until 2000-02-01T00:00:00Z.\n",
            ""
        )
    );
    // A machine format on stdout says it in its own terms; to a file, a note.
    let run = t.run(&[&["report", "--format", "json"][..], &window].concat());
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let run = t.run(&[&["report", "--format", "json", "-o", "r.json"][..], &window].concat());
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "",
            "redliner: no revisions since 2000-01-01T00:00:00Z until 2000-02-01T00:00:00Z\n"
        )
    );

    let cases = [
        (
            vec!["--since", "2030-01-01", "--until", "2020-01-01"],
            "redliner: --since `2030-01-01` (2030-01-01T00:00:00Z) is not before --until `2020-01-01` (2020-01-01T00:00:00Z): the window is empty\n",
        ),
        (
            vec!["--since", "2020-01-01", "--until", "2020-01-01"],
            "redliner: --since `2020-01-01` (2020-01-01T00:00:00Z) is not before --until `2020-01-01` (2020-01-01T00:00:00Z): the window is empty\n",
        ),
        (
            vec!["--since", "99999999d"],
            "redliner: --since `99999999d`: that span ago is before year 1; give a date or a shorter span\n",
        ),
        (
            vec!["--until", "99999999999999999999h"],
            "redliner: --until `99999999999999999999h`: expected a date (2026-11-01), an RFC 3339 time or a span ago (7d, 2w, 36h)\n",
        ),
    ];
    for (args, want) in cases {
        let run = t.run(&[&["report"][..], &args].concat());
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (2, "", want),
            "{args:?}"
        );
    }
    // --since in the future, no --until: the window ends now.
    let run = t.run(&["report", "--since", "2999-01-01"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(
            "redliner: --since `2999-01-01` (2999-01-01T00:00:00Z) is not before now ("
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn report_leaves_out_revisions_whose_snapshot_directory_is_gone() {
    let t = checked(&["v1.html", "v2-reworded.html", "v3-section-added.html"]);
    // A snapshot directory deleted by hand: a store in a directory only.
    if !t.files_on_disk() {
        return;
    }
    let dir: String = t
        .db()
        .query_row("SELECT dir FROM snapshots WHERE id = 1", (), |r| r.get(0))
        .unwrap();
    let gone = t.store().join(&dir);
    std::fs::remove_dir_all(&gone).unwrap();

    let run = t.run(&["report", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "redliner: warning: left out revision 1 of `nato-belarus` (snapshot 1 to 2): store `{}/document.json.zst`: No such file or directory (os error 2)\n",
            gone.display()
        )
    );
    assert!(
        run.stdout.contains("1 revision of 1 target"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Relations since 2024"),
        "{}",
        run.stdout
    );
    // -q: the digest alone.
    let run = t.run(&["report", "-q", "--format", "markdown"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
}

#[test]
fn quiet_help_says_reports_are_still_printed() {
    let t = Test::new();
    let help = ok(t.run(&["--help"]));
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "-q, --quiet Print only reports and errors (no status lines, notes or warnings); a redline is a report, so `check -q` still prints it for cron to mail"
        ),
        "{help}"
    );
}

/// `completions SHELL`, `man` and the long `--version`: what users expect of
/// a command-line tool, from the real binary.
#[test]
fn completions_man_pages_and_long_version() {
    let t = Test::new();
    let bash = ok(t.run(&["completions", "bash"]));
    assert!(bash.contains("_redliner()"), "{bash}");
    for command in ["check", "history", "watch", "test-alert", "man"] {
        assert!(bash.contains(command), "bash completion lacks `{command}`");
    }
    let zsh = ok(t.run(&["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef redliner"), "{zsh}");
    let fish = ok(t.run(&["completions", "fish"]));
    assert!(fish.contains("complete -c redliner"), "{fish}");
    let bad = t.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);

    let page = ok(t.run(&["man"]));
    assert!(page.contains(".TH redliner 1"), "{page}");
    assert!(page.contains("test\\-alert"), "{page}");
    let dir = t.dir.path().join("man1");
    ok(t.run(&["man", "--dir", dir.to_str().unwrap()]));
    for page in ["redliner.1", "redliner-check.1", "redliner-watch.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }

    let version = ok(t.run(&["--version"]));
    let lines: Vec<&str> = version.lines().collect();
    assert_eq!(lines[0], format!("redliner {}", env!("CARGO_PKG_VERSION")));
    assert!(lines[1].starts_with("commit: "), "{version}");
    assert!(lines[1].len() > "commit: ".len(), "{version}");
    assert!(lines[2].starts_with("SQLite: 3."), "{version}");
    assert_eq!(lines[3], "redline JSON schema: 1");
    assert!(lines[4].starts_with("store index schema: "), "{version}");
    assert_eq!(
        ok(t.run(&["-V"])).trim(),
        format!("redliner {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `--log-format json`: every log line on stderr is one JSON object with a
/// time, a level and a message, so a collector can read it; the text form
/// stays the default.
#[test]
fn json_logs_are_one_object_per_line() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check", "-v", "--log-format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let logs: Vec<Value> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!logs.is_empty(), "no JSON log line: {}", run.stderr);
    for line in &logs {
        assert!(
            line["timestamp"].as_str().is_some_and(|t| t.contains('T')),
            "{line}"
        );
        assert!(["INFO", "WARN", "ERROR", "DEBUG"].contains(&line["level"].as_str().unwrap()));
        assert!(line["fields"]["message"].is_string(), "{line}");
    }
    assert!(
        logs.iter().any(|l| l["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("nato-belarus")
            || l["fields"].to_string().contains("nato-belarus")),
        "{logs:?}"
    );
    // Every line, not only the log lines: `watch`'s status lines (start,
    // each check, the summary) and an error are objects too.
    t.serve("nato-belarus/v2-reworded.html");
    let run = t.run(&["watch", "--once", "--log-format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    t.server.reply(Reply::status(503));
    let failed = t.run(&["check", "--log-format", "json"]);
    assert_eq!(failed.code, 2, "{}", failed.stderr);
    assert!(run.stderr.lines().count() >= 3, "{}", run.stderr);
    for stderr in [&run.stderr, &failed.stderr] {
        assert!(stderr.lines().count() >= 1, "{stderr}");
        for line in stderr.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(v["fields"]["message"].is_string(), "{line}");
        }
    }
    assert!(
        run.stderr.contains("\"target\":\"nato-belarus\""),
        "{}",
        run.stderr
    );
    t.server.reply(Reply::status(503));
    let text = t.run(&["check", "-v"]);
    assert!(
        !text.stderr.lines().any(|l| l.starts_with('{')),
        "{}",
        text.stderr
    );
}

/// `check --metrics-file`: a node-exporter textfile with the checks by
/// outcome, the fetch and extract durations, the outbox and each target's
/// last success, replaced whole after every run.
#[test]
fn check_writes_a_metrics_textfile() {
    let t = Test::new();
    let file = t.dir.path().join("redliner.prom");
    let path = file.to_str().unwrap();
    t.serve("nato-belarus/v1.html");
    ok(t.run(&["check", "--metrics-file", path]));
    let text = std::fs::read_to_string(&file).unwrap();
    let sample = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
    };
    assert_eq!(
        sample("redliner_checks_total{outcome=\"baseline\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample("redliner_fetch_duration_seconds_count"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample("redliner_extract_duration_seconds_count"),
        Some(1.0),
        "{text}"
    );
    assert!(sample("redliner_fetch_duration_seconds_sum").unwrap() > 0.0);
    assert_eq!(
        sample("redliner_alerts_undelivered{state=\"pending\"}"),
        Some(0.0),
        "{text}"
    );
    let last = sample("redliner_last_success_timestamp_seconds{target=\"nato-belarus\"}").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - last).abs() < 300.0, "{last} vs {now}");
    // Prometheus text 0.0.4, as node-exporter's textfile collector parses it
    assert!(
        text.contains("# TYPE redliner_checks_total counter"),
        "{text}"
    );
    assert!(!text.contains("# EOF"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    // A failed check is counted; the last success stays where it was.
    t.server.reply(Reply::status(503));
    let run = t.run(&["check", "--metrics-file", path]);
    assert_eq!(run.code, 2);
    let text = std::fs::read_to_string(&file).unwrap();
    let sample = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
    };
    assert_eq!(
        sample("redliner_checks_total{outcome=\"failed\"}"),
        Some(1.0),
        "{text}"
    );
    // This run's counters only: every outcome is there, the others at 0.
    assert_eq!(
        sample("redliner_checks_total{outcome=\"baseline\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample("redliner_last_success_timestamp_seconds{target=\"nato-belarus\"}"),
        Some(last)
    );
}

/// A target dropped from the config leaves the digest and the feed for all
/// targets (its revisions are no news), unless `--all-stored` asks for it
/// or it is named; the next run rewrites the feed even with nothing new.
#[test]
fn report_and_feed_leave_out_targets_no_longer_configured() {
    let t = checked(&["v1.html", "v2-reworded.html"]);
    let with = ok(t.run(&["report", "--format", "json"]));
    let with: Value = serde_json::from_str(&with).unwrap();
    assert_eq!(with["redlines"].as_array().unwrap().len(), 1);
    let feed = || t.feed(None);
    let entries = |xml: &str| xml.matches("<entry>").count();
    assert_eq!(entries(&feed()), 1, "{}", feed());
    assert!(feed().contains("nato-belarus"), "{}", feed());

    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&config.replace("id = \"nato-belarus\"", "id = \"nato-ukraine\""));
    // The renamed target's first check is a baseline: no revision, yet the
    // feed for all targets is rewritten without the dropped one.
    ok(t.run(&["check"]));
    assert_eq!(entries(&feed()), 0, "{}", feed());
    let atom = ok(t.run(&["report", "--all-stored", "--format", "atom"]));
    assert_eq!(entries(&atom), 1, "{atom}");
    assert!(
        t.feed(Some("nato-belarus")).contains("<entry>"),
        "the dropped target's own feed stays as it was"
    );
    let without: Value = serde_json::from_str(&ok(t.run(&["report", "--format", "json"]))).unwrap();
    assert_eq!(
        without["redlines"].as_array().unwrap().len(),
        0,
        "{without}"
    );
    let all: Value =
        serde_json::from_str(&ok(t.run(&["report", "--all-stored", "--format", "json"]))).unwrap();
    assert_eq!(all["redlines"].as_array().unwrap().len(), 1);
    let named: Value =
        serde_json::from_str(&ok(t.run(&["report", "nato-belarus", "--format", "json"]))).unwrap();
    assert_eq!(named["redlines"].as_array().unwrap().len(), 1);
}
