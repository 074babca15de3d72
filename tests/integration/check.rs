//! `redliner check` end to end: the NATO fixture revisions served in turn.

use serde_json::Value;

use crate::harness::{Reply, Test, fixture};

/// `(heading, change)` of every changed section in a JSON redline.
fn changed_sections(redline: &Value) -> Vec<(String, String)> {
    redline["sections"]
        .as_array()
        .expect("sections array")
        .iter()
        .map(|s| {
            (
                s["heading"].as_str().unwrap().to_string(),
                s["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn stamp_text(v: &Value) -> Option<String> {
    v["text"].as_str().map(str::to_string)
}

/// Runs `check --format json` and parses the one redline it printed.
fn check_json(t: &Test) -> Value {
    let run = t.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn first_check_stores_a_baseline_and_prints_nothing() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("checks WHERE outcome = 'baseline'"), 1);
    assert_eq!(t.count("revisions"), 0);
    let dirs = t.snapshot_dirs("nato-belarus");
    assert_eq!(dirs.len(), 1);
    for f in ["document.json.zst", "document.md"] {
        assert!(
            !t.files_on_disk() || dirs[0].join(f).is_file(),
            "missing {f} in {}",
            dirs[0].display()
        );
    }
    let doc: Value = serde_json::from_str(&t.stored_document(&dirs[0])).unwrap();
    assert_eq!(doc["meta"]["title"], "Relations with Belarus");
    assert_eq!(
        doc["meta"]["stamp"]["text"],
        "Last updated: 28 Aug. 2024 11:27"
    );
    assert_eq!(doc["meta"]["stamp"]["instant"], "2024-08-28T09:27:00Z");
    assert_eq!(doc["meta"]["root"]["fallback"], false);
    let headings: Vec<&str> = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["heading"].as_str())
        .collect();
    assert_eq!(
        headings,
        [
            "Belarus’ role in Russia’s war against Ukraine",
            "Evolution of relations",
            "Key areas of cooperation prior to 2021"
        ]
    );
    // The raw body is kept exactly as served.
    assert_eq!(t.stored_raw(&dirs[0]), fixture("nato-belarus/v1.html"));
    // Chrome never reaches the document.
    let md = t.document_md(&dirs[0]);
    assert!(md.contains("Belarus’ diplomatic mission to NATO opened in April 1998."));
    for chrome in ["cookie", "Cookie", "Share", "Facebook", "LinkedIn"] {
        assert!(
            !md.contains(chrome),
            "chrome text {chrome:?} in document.md:\n{md}"
        );
    }
}

#[test]
fn unchanged_page_records_the_check_only() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("checks"), 2);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
}

#[test]
fn the_fixture_revisions_in_turn() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);

    // v2: one sentence reworded in one section, new stamp.
    t.serve("nato-belarus/v2-reworded.html");
    let r = check_json(&t);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["target"], "nato-belarus");
    assert_eq!(r["kind"], "revised");
    assert_eq!(
        stamp_text(&r["old_stamp"]).unwrap(),
        "Last updated: 28 Aug. 2024 11:27"
    );
    assert_eq!(
        stamp_text(&r["new_stamp"]).unwrap(),
        "Last updated: 14 Nov. 2024 09:05"
    );
    assert_eq!(
        changed_sections(&r),
        [("Evolution of relations".into(), "modified".into())]
    );
    let blocks = r["sections"][0]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["change"], "replaced");

    // v3: a section added and a highlight removed from the lead.
    t.serve("nato-belarus/v3-section-added.html");
    let r = check_json(&t);
    assert_eq!(r["kind"], "revised");
    assert_eq!(
        stamp_text(&r["new_stamp"]).unwrap(),
        "Last updated: 03 Mar. 2025 16:40"
    );
    assert_eq!(
        changed_sections(&r),
        [
            ("Lead".into(), "modified".into()),
            ("Relations since 2024".into(), "added".into())
        ]
    );
    let lead_blocks = r["sections"][0]["blocks"].as_array().unwrap();
    assert_eq!(lead_blocks.len(), 1);
    assert_eq!(lead_blocks[0]["change"], "deleted");
    assert_eq!(lead_blocks[0]["kind"], "list-item");

    // v4: a heading renamed, nothing else.
    t.serve("nato-belarus/v4-renamed.html");
    let r = check_json(&t);
    assert_eq!(r["kind"], "revised");
    assert_eq!(
        stamp_text(&r["new_stamp"]).unwrap(),
        "Last updated: 12 May. 2025 10:15"
    );
    assert_eq!(
        changed_sections(&r),
        [("Areas of cooperation before 2021".into(), "renamed".into())]
    );
    assert_eq!(
        r["sections"][0]["old_heading"],
        "Key areas of cooperation prior to 2021"
    );

    // v5: only the stamp (and the chrome's per-request tokens) changed.
    t.serve("nato-belarus/v5-stamp-only.html");
    let r = check_json(&t);
    assert_eq!(r["kind"], "stamp-only");
    assert_eq!(
        stamp_text(&r["new_stamp"]).unwrap(),
        "Last updated: 02 Jun. 2025 08:00"
    );
    assert_eq!(changed_sections(&r), []);

    // v6: content edited, stamp unchanged.
    t.serve("nato-belarus/v6-silent-edit.html");
    let r = check_json(&t);
    assert_eq!(r["kind"], "silent-edit");
    assert_eq!(stamp_text(&r["old_stamp"]), stamp_text(&r["new_stamp"]));
    assert_eq!(
        changed_sections(&r),
        [("Areas of cooperation before 2021".into(), "modified".into())]
    );

    assert_eq!(t.count("snapshots"), 6);
    assert_eq!(t.count("revisions"), 5);
    assert_eq!(t.count("checks"), 6);
    let kinds: Vec<String> = t
        .db()
        .prepare("SELECT kind FROM revisions ORDER BY id")
        .unwrap()
        .query_map((), |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        ["revised", "revised", "revised", "stamp-only", "silent-edit"]
    );
    let dirs = t.snapshot_dirs("nato-belarus");
    assert_eq!(dirs.len(), 6);
    // A store in a directory keeps each revision's redline as Markdown.
    if !t.files_on_disk() {
        return;
    }
    assert!(!dirs[0].join("redline.md").exists());
    for d in &dirs[1..] {
        assert!(
            d.join("redline.md").is_file(),
            "no redline.md in {}",
            d.display()
        );
    }
    let md = std::fs::read_to_string(dirs[5].join("redline.md")).unwrap();
    assert!(md.contains("silent"), "{md}");
}

#[test]
fn terminal_redline_names_sections_stamps_and_marks_words() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v2-reworded.html");
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let out = &run.stdout;
    assert!(
        !out.contains('\u{1b}'),
        "colour codes when NO_COLOR is set:\n{out}"
    );
    for want in [
        "nato-belarus",
        "revised",
        "28 Aug. 2024 11:27",
        "14 Nov. 2024 09:05",
        "Evolution of relations",
        "[-",
        "{+",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    assert!(
        !out.contains("Key areas of cooperation prior to 2021: modified"),
        "{out}"
    );
}

#[test]
fn failed_fetch_stores_nothing_and_keeps_the_baseline() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let before = t.snapshot_dirs("nato-belarus");

    t.server.reply(Reply::status(503));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(run.stderr.contains("nato-belarus"), "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(
        t.count("checks WHERE outcome = 'failed' AND error LIKE '%503%'"),
        1
    );
    assert_eq!(t.snapshot_dirs("nato-belarus"), before);

    // An empty content root is an extraction failure, not a new version.
    t.serve("nato-belarus/empty-root.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("section.content"), "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);

    // The baseline survived: the same page again is unchanged.
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(t.count("snapshots"), 1);
}

#[test]
fn unreachable_url_is_one_clear_line_and_exit_2() {
    let t = Test::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    t.write_config(&format!(
        "[settings]\ntimeout = \"3s\"\nretries = 0\n[[target]]\nid = \"gone\"\nurl = \"http://127.0.0.1:{port}/x\"\n"
    ));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {}", run.stderr);
    assert!(
        lines[0].starts_with("redliner: target `gone`: "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!("127.0.0.1:{port}")),
        "{}",
        lines[0]
    );
    assert_eq!(t.snapshot_dirs("gone"), Vec::<std::path::PathBuf>::new());
}

#[test]
fn one_failing_target_does_not_stop_the_others() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    t.write_config(&format!(
        "[settings]\nretries = 0\n{}\n[[target]]\nid = \"broken\"\nurl = \"{}\"\nrules = \"nato-topic\"\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\n",
        crate::harness::NATO_RULES,
        "http://127.0.0.1:1/unreachable",
        t.server.url("/cps/en/natohq/topics_49119.htm"),
    ));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("target `broken`"), "{}", run.stderr);
    assert_eq!(t.count("snapshots WHERE target_id = 'nato-belarus'"), 1);
    assert_eq!(t.count("snapshots WHERE target_id = 'broken'"), 0);
    // Naming one target checks only that one.
    let run = t.run(&["check", "nato-belarus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn windows_1251_page_is_decoded() {
    let t = Test::new();
    t.server.reply(
        Reply::html(fixture("nato-belarus/v1-windows-1251.html"))
            .header("Content-Type", "text/html"),
    );
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dirs = t.snapshot_dirs("nato-belarus");
    let md = t.document_md(&dirs[0]);
    assert!(md.contains("Беларусь"), "{md}");
    assert!(md.contains("Belarus’ diplomatic mission"), "{md}");
    let charset: String = t
        .db()
        .query_row("SELECT charset FROM snapshots", (), |r| r.get(0))
        .unwrap();
    assert_eq!(charset, "windows-1251");
}

#[test]
fn redesigned_site_uses_a_fallback_and_says_so() {
    let t = Test::new();
    t.serve("nato-belarus/redesigned.html");
    let run = t.run(&["check", "-v"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("fallback"), "{}", run.stderr);
    let fallback: i64 = t
        .db()
        .query_row("SELECT root_fallback FROM snapshots", (), |r| r.get(0))
        .unwrap();
    assert_eq!(fallback, 1);
}

#[test]
fn bad_config_is_one_error_naming_file_target_and_key_and_writes_nothing() {
    let t = Test::new();
    t.write_config(
        "[[target]]\nid = \"nato-belarus\"\nurl = \"https://example.org/\"\nselector = \"x\"\n",
    );
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("redliner.toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("target `nato-belarus`: key `selector`"),
        "{}",
        run.stderr
    );
    assert!(!t.store().exists(), "store created despite a bad config");

    t.write_config(
        "[rules.r]\ncontent = [\"div[\"]\n[[target]]\nid = \"a\"\nurl = \"https://example.org/\"\nrules = \"r\"\n",
    );
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("rules `r`: key `content`"),
        "{}",
        run.stderr
    );
}

#[test]
fn flags_are_accepted_after_the_subcommand_and_history_lists_checks() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.serve("nato-belarus/v2-reworded.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server.reply(Reply::status(503));
    assert_eq!(t.run(&["check"]).code, 2);

    let run = t.run(&["history", "nato-belarus"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // After the header row.
    let lines: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].contains("failed") && lines[0].contains("503"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("revised") && lines[1].contains("14 Nov. 2024 09:05"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("baseline") && lines[2].contains("28 Aug. 2024 11:27"),
        "{}",
        lines[2]
    );
}

#[test]
fn error_page_served_as_200_is_not_a_new_version() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // The site's own template around a "not found" message, status 200.
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    let soft_404 = v1
        .replacen("Relations with Belarus</h1>", "Page not found</h1>", 1)
        .replacen("<title>", "<title>Page not found - ", 1);
    assert_ne!(soft_404, v1, "fixture markup changed: adjust the test");
    t.server.reply(Reply::html(soft_404));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("error page"), "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);
    assert_eq!(t.count("checks WHERE outcome = 'failed'"), 1);
}

#[test]
fn redirect_to_another_spelling_of_the_host_is_not_a_change() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // The site now redirects to another host name for the same server and the
    // same page: relative links must not all "change target".
    let moved = format!("http://localhost:{}/moved/topics_49119.htm", t.server.port);
    t.server.reply_at(
        "/cps/en/natohq/topics_49119.htm",
        Reply::status(301).header("Location", &moved),
    );
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
}

#[test]
fn a_login_wall_in_place_of_the_page_is_refused_but_a_redesign_is_not() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // A login wall served as 200: plenty of text in <main>, no content root, no stamp.
    let wall = format!(
        "<html><head><title>NATO</title></head><body><main><h1>Welcome</h1><p>{}</p></main></body></html>",
        "Please sign in with your organisation account to continue to this resource. ".repeat(8)
    );
    t.server.reply(Reply::html(wall));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("most likely an error, login or interstitial page"),
        "{}",
        run.stderr
    );
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);
    // The redesigned site, same text: accepted (quietly, as a layout change).
    t.serve("nato-belarus/redesigned.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(t.count("checks WHERE outcome = 'layout-changed'"), 1);
}

/// The redesigned fixture with one sentence edited.
fn redesigned_edited() -> Vec<u8> {
    String::from_utf8(fixture("nato-belarus/redesigned.html"))
        .unwrap()
        .replace(
            "In 2021, Allies suspended practical cooperation",
            "In 2021, Allies ended all practical cooperation",
        )
        .into_bytes()
}

#[test]
fn a_redesign_with_the_same_text_is_a_quiet_layout_changed_snapshot() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);

    t.serve("nato-belarus/redesigned.html");
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    // One warning naming the rule to update.
    assert!(
        run.stderr.contains(
            "[rules.nato-topic] content = [\"section.content\"]: configured root `section.content` not found; found `main`"
        ),
        "{}",
        run.stderr
    );
    // Stored (later checks compare against it), never a content revision, never alerted.
    assert_eq!(t.count("snapshots"), 2);
    assert_eq!(t.count("checks WHERE outcome = 'layout-changed'"), 1);
    assert_eq!(t.count("revisions WHERE technical = 0"), 0);
    assert_eq!(t.count("alerts"), 0);
    let history = t.run(&["history", "nato-belarus"]);
    let newest = history.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        newest.contains("layout-changed") && newest.contains("layout changed"),
        "{}",
        history.stdout
    );
    let json = t.run(&["history", "nato-belarus", "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json[0]["outcome"], "layout-changed");
    assert!(
        json[0]["note"]
            .as_str()
            .is_some_and(|n| n.contains("section.content"))
    );

    // The next check of the new template is unchanged, and says nothing.
    let run = t.run(&["check"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);

    // A later text edit in the new template is a normal revision.
    t.server.reply(Reply::html(redesigned_edited()));
    let redline = check_json(&t);
    assert_eq!(
        changed_sections(&redline),
        [("Lead".to_string(), "modified".to_string())]
    );
    assert_eq!(t.count("revisions WHERE technical = 0"), 1);
    assert_eq!(t.count("checks WHERE outcome = 'changed'"), 1);
}

#[test]
fn a_redesign_with_a_text_change_is_a_revision_with_a_layout_note() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server.reply(Reply::html(redesigned_edited()));
    let redline = check_json(&t);
    assert_eq!(
        changed_sections(&redline),
        [("Lead".to_string(), "modified".to_string())]
    );
    let notes = redline["notes"].to_string();
    assert!(notes.contains("layout changed"), "{notes}");
    assert_eq!(t.count("revisions WHERE technical = 0"), 1);
}

#[test]
fn diff_of_two_files_prints_nothing_for_a_redesign_with_the_same_text() {
    let t = Test::new();
    let dir = t.dir.path();
    std::fs::write(dir.join("old.html"), fixture("nato-belarus/v1.html")).unwrap();
    std::fs::write(
        dir.join("new.html"),
        fixture("nato-belarus/redesigned.html"),
    )
    .unwrap();
    let run = t.run(&[
        "diff",
        "old.html",
        "new.html",
        "--target",
        "nato-belarus",
        "--exit-code",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(run.stderr.contains("layout changed"), "{}", run.stderr);
}

/// `confirm_after` set to `wait` in the harness's config.
fn confirming(wait: &str) -> Test {
    let t = Test::new();
    let config = std::fs::read_to_string(t.config_path()).unwrap().replace(
        "confirm_after = \"0s\"",
        &format!("confirm_after = \"{wait}\""),
    );
    t.write_config(&config);
    t
}

#[test]
fn a_change_the_second_fetch_does_not_repeat_is_unconfirmed_and_stored_next_time() {
    let t = confirming("50ms");
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // A flapping server: v2, then v1 again for the confirming fetch.
    t.server.reply_in_turn(vec![
        Reply::html(fixture("nato-belarus/v2-reworded.html")),
        Reply::html(fixture("nato-belarus/v1.html")),
    ]);
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.server.seen().len(), 3);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);
    assert_eq!(t.count("alerts"), 0);
    assert_eq!(t.count("checks WHERE outcome = 'unconfirmed'"), 1);
    let history = t.run(&["history", "nato-belarus"]);
    assert!(
        history
            .stdout
            .lines()
            .nth(1)
            .unwrap_or_default()
            .contains("unconfirmed"),
        "{}",
        history.stdout
    );
    // The second request was a plain GET.
    let seen = t.server.seen();
    assert_eq!(seen[2].header("If-None-Match"), None);
    assert_eq!(seen[2].header("If-Modified-Since"), None);

    // The next run with a stable v2 stores it.
    t.serve("nato-belarus/v2-reworded.html");
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 2);
    assert_eq!(t.count("checks WHERE outcome = 'changed'"), 1);
}

/// v1 cut in transit: everything before the second section's heading, no `</html>`.
fn v1_cut() -> Vec<u8> {
    let v1 = fixture("nato-belarus/v1.html");
    let at = String::from_utf8_lossy(&v1)
        .find("Evolution of relations</h2>")
        .expect("v1 has the heading");
    v1[..at].to_vec()
}

#[test]
fn a_body_that_looks_cut_is_refetched_even_with_confirmation_off() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // Cut once, whole again on the second fetch: unchanged, nothing stored.
    t.server.reply_in_turn(vec![Reply::html(v1_cut())]);
    let run = t.run(&["check"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.server.seen().len(), 3);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);

    // The same cut body twice: stored, and the large removal is flagged.
    t.server.reply(Reply::html(v1_cut()));
    let redline = check_json(&t);
    assert_eq!(t.server.seen().len(), 5);
    let notes = redline["notes"].to_string();
    assert!(notes.contains("large removal"), "{notes}");
    assert_eq!(t.count("snapshots"), 2);
}

#[test]
fn a_deleted_latest_snapshot_directory_fails_every_check_with_a_recovery_hint() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let dirs = t.snapshot_dirs("nato-belarus");
    assert_eq!(dirs.len(), 1);
    // A snapshot directory deleted by hand: a store in a directory only.
    if !t.files_on_disk() {
        return;
    }
    std::fs::remove_dir_all(&dirs[0]).unwrap();

    t.serve("nato-belarus/v2-reworded.html");
    let dir = dirs[0].display();
    let want = format!(
        "redliner: store `{dir}/document.json.zst`: No such file or directory (os error 2)\n  \
         hint: the snapshot directory `{dir}` is missing: restore it (from a backup) to go on; \
         redliner never re-baselines a target by itself. To start the target afresh instead, \
         give it a new id in the config (the old history stays) or use a new store (--store DIR)\n"
    );
    for _ in 0..2 {
        let run = t.run(&["check"]);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (2, "", want.as_str())
        );
    }
    // Never silently re-baselined, and each failure is in the history.
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(
        t.count("checks WHERE outcome = 'failed' AND error LIKE '%document.json%'"),
        2
    );
}

#[test]
fn an_undelivered_alert_is_reported_once_not_also_as_a_log_warning() {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n{}\n[[channel]]\nid = \"script\"\nkind = \"command\"\nprogram = \"sh\"\nargs = [\"-c\", \"echo receiver down >&2; exit 3\"]\n\n[[target]]\nid = \"nato-belarus\"\nurl = \"{}\"\nrules = \"nato-topic\"\nchannels = [\"script\"]\n",
        crate::harness::NATO_RULES,
        t.server.url("/cps/en/natohq/topics_49119.htm")
    ));
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    t.serve("nato-belarus/v2-reworded.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with(
            "redliner: alert `revision` for `nato-belarus` to channel `script` not delivered, will retry: "
        ),
        "{}",
        run.stderr
    );
    assert!(lines[0].contains("receiver down"), "{}", run.stderr);
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

#[test]
fn an_unreadable_stamp_is_shown_as_served_not_as_none() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    let bad = v1.replacen("28 Aug. 2024 11:27", "31 Feb. 2025 11:27", 1);
    assert_ne!(bad, v1);
    t.server.reply(Reply::html(bad));
    let r = check_json(&t);
    assert_eq!(r["kind"], "stamp-only");
    assert_eq!(r["new_stamp"], Value::Null);
    assert_eq!(
        r["notes"],
        serde_json::json!([
            "The page's stamp could not be read as a date: “Last updated: 31 Feb. 2025 11:27”."
        ])
    );
}

#[test]
fn config_and_store_come_from_flags_after_the_subcommand_or_the_environment() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    // Flags after the subcommand.
    let out = assert_cmd::Command::cargo_bin("redliner")
        .unwrap()
        .current_dir(t.dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .args(["check", "--config"])
        .arg(t.config_path())
        .arg("--store")
        .arg(t.store_arg())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.count("snapshots"), 1);
    // The same config and store from REDLINER_CONFIG and REDLINER_STORE.
    t.serve("nato-belarus/v2-reworded.html");
    let out = assert_cmd::Command::cargo_bin("redliner")
        .unwrap()
        .current_dir(t.dir.path())
        .env("REDLINER_CONFIG", t.config_path())
        .env("REDLINER_STORE", t.store_arg())
        .env("NO_COLOR", "1")
        .args(["check", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Evolution of relations: modified"));
    assert_eq!(t.count("snapshots"), 2);
}

#[test]
fn heading_inserted_above_three_unchanged_paragraphs_is_one_heading_change() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);

    // Same page, one heading inserted above the last three paragraphs of
    // "Evolution of relations".
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    let anchor = "<p>In May 2021, NATO strongly condemned";
    assert_eq!(v1.matches(anchor).count(), 1);
    let revised = v1.replacen(
        anchor,
        &format!("<h2>Relations since 2021</h2>\n      {anchor}"),
        1,
    );
    t.server.reply(Reply::html(revised));
    let r = check_json(&t);
    assert_eq!(
        changed_sections(&r),
        [("Relations since 2021".into(), "heading-added".into())]
    );
    let section = &r["sections"][0];
    assert_eq!(section["blocks"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        section["description"],
        "heading added (3 paragraphs below it unchanged)"
    );
    assert_eq!(section["kept"]["count"], 3);
    assert_eq!(r["summary"]["sections_changed"], 1);
    assert_eq!(r["summary"]["sections_heading_added"], 1);
    assert_eq!(r["summary"]["words_added"], 0);
    assert_eq!(r["summary"]["words_removed"], 0);

    // Back to v1: the heading removed, its paragraphs kept; the terminal
    // redline says so and lists no block.
    t.server.reply(Reply::html(v1));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        run.stdout
            .contains("Relations since 2021: heading removed (its 3 paragraphs now under"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("paragraph removed"), "{}", run.stdout);
    assert!(!run.stdout.contains("Paragraph"), "{}", run.stdout);
}

/// A CDC-style page (generic rules): the content in `<main>`, chrome around
/// it, and `stamp` as its last line (or no stamp line at all when empty).
fn cdc_page(paragraphs: &[&str], stamp: &str) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let stamp = if stamp.is_empty() {
        String::new()
    } else {
        format!("<div class=\"last-reviewed\"><p>{stamp}</p></div>")
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>About Influenza | CDC</title></head>\n\
         <body><header><nav><a href=\"/\">CDC home</a> <a href=\"/az\">A-Z Index</a></nav></header>\n\
         <main><h1>About Influenza</h1>\n{body}<h2>Symptoms</h2>\n\
         <p>Flu symptoms usually come on suddenly and may include fever, cough, sore throat, \
         runny or stuffy nose, muscle or body aches, headaches and fatigue.</p>\n{stamp}\n\
         <div class=\"syndicate\"><p>Content source: National Center for Immunization and \
         Respiratory Diseases</p></div></main>\n\
         <footer><p>Centers for Disease Control and Prevention. 1600 Clifton Rd Atlanta, GA</p></footer>\n\
         </body></html>"
    )
}

const FLU_V1: &str = "Influenza (flu) is a contagious respiratory illness caused by influenza \
    viruses that infect the nose, throat, and sometimes the lungs.";
const FLU_V2: &str = "Influenza (flu) is a contagious respiratory illness caused by influenza \
    viruses that infect the nose, throat, and lungs.";
const FLU_V3: &str = "Influenza (flu) is a contagious respiratory illness caused by influenza \
    viruses that infect the nose, throat, and lungs. Some people are at higher risk.";

#[test]
fn cdc_stamps_are_read_and_silent_edit_needs_a_stamp_on_both_sides() {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n\
         [[target]]\nid = \"cdc-flu\"\nurl = \"{}\"\n",
        t.server.url("/flu/about/index.html")
    ));
    let serve = |text: &str, stamp: &str| t.server.reply(Reply::html(cdc_page(&[text], stamp)));

    // Baseline: "Page last reviewed" read, the stamp line is no content block.
    serve(FLU_V1, "Page last reviewed: August 19, 2020");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dirs = t.snapshot_dirs("cdc-flu");
    let doc: Value = serde_json::from_str(&t.stored_document(&dirs[0])).unwrap();
    let stamp = &doc["meta"]["stamp"];
    assert_eq!(stamp["text"], "Page last reviewed: August 19, 2020");
    assert_eq!(stamp["date"], "2020-08-19");
    assert_eq!(stamp["shown"], "August 19, 2020");
    assert_eq!(stamp["source"]["kind"], "text");
    assert_eq!(stamp["zone"], "UTC");
    let blocks: Vec<&str> = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["blocks"].as_array().unwrap())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert!(
        blocks.iter().all(|b| !b.contains("last reviewed")),
        "{blocks:?}"
    );

    // Edited, new stamp in CDC's other form: revised, shown as the page wrote it.
    serve(FLU_V2, "Updated on April 19, 2024");
    let r = check_json(&t);
    assert_eq!(r["kind"], "revised");
    assert_eq!(r["old_stamp"]["display"], "August 19, 2020");
    assert_eq!(r["new_stamp"]["display"], "April 19, 2024");
    assert_eq!(r["new_stamp"]["source"], "visible text");
    assert_eq!(
        changed_sections(&r),
        [("Lead".to_string(), "modified".to_string())]
    );

    // Edited again under the same stamp: a silent edit.
    serve(FLU_V3, "Updated on April 19, 2024");
    let r = check_json(&t);
    assert_eq!(r["kind"], "silent-edit");

    // The stamp line gone and the text edited: `changed`, never a silent edit.
    serve(FLU_V2, "");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("About Influenza: changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("content changed; the page shows no readable stamp"),
        "{}",
        run.stdout
    );

    let run = t.run(&["history", "cdc-flu"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines[0].contains("changed"), "{}", lines[0]);
    assert!(
        lines[1].contains("silent-edit") && lines[1].contains("Updated on April 19, 2024"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("revised") && lines[2].contains("Updated on April 19, 2024"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("baseline") && lines[3].contains("Page last reviewed: August 19, 2020"),
        "{}",
        lines[3]
    );
}

#[test]
fn a_page_without_a_stamp_edited_is_changed_and_alerts_by_default() {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n\
         [[target]]\nid = \"cdc-flu\"\nurl = \"{}\"\n",
        t.server.url("/flu/about/index.html")
    ));
    t.server.reply(Reply::html(cdc_page(&[FLU_V1], "")));
    assert_eq!(t.run(&["check"]).code, 0);
    t.server.reply(Reply::html(cdc_page(&[FLU_V2], "")));
    let r = check_json(&t);
    assert_eq!(r["kind"], "changed");
    assert_eq!(r["old_stamp"], Value::Null);
    assert_eq!(r["new_stamp"], Value::Null);
    // Then a stamp appears: a revision.
    t.server.reply(Reply::html(cdc_page(
        &[FLU_V3],
        "Last updated 5 March 2024",
    )));
    let r = check_json(&t);
    assert_eq!(r["kind"], "revised");
    assert_eq!(r["new_stamp"]["display"], "5 March 2024");
}

/// A CDC-style page whose stamp (`stamp`, raw HTML) is all that stands
/// between the title and the first heading.
fn cdc_stamp_first(stamp: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>About Influenza | CDC</title></head>\n\
         <body><main><h1>About Influenza</h1>\n{stamp}\n<h2>Symptoms</h2>\n<p>{FLU_V1}</p>\n\
         <h2>Prevention</h2>\n<p>The best way to reduce the risk of flu is to get vaccinated \
         every year.</p></main></body></html>"
    )
}

#[test]
fn a_stamp_split_in_two_blocks_before_the_first_heading_is_no_lead_and_no_change() {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n\
         [[target]]\nid = \"cdc-flu\"\nurl = \"{}\"\n",
        t.server.url("/flu/about/index.html")
    ));
    t.server.reply(Reply::html(cdc_stamp_first(
        "<p><span>Updated on </span>April 19, 2024</p>",
    )));
    assert_eq!(t.run(&["check"]).code, 0);
    t.server.reply(Reply::html(cdc_stamp_first(
        "<div class=\"cdc-page-date\"><p>Updated on</p><p>April 19, 2024</p></div>",
    )));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.count("revisions WHERE technical = 0"), 0);
    let dirs = t.snapshot_dirs("cdc-flu");
    let doc: Value = serde_json::from_str(&t.stored_document(&dirs[0])).unwrap();
    assert!(
        doc["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["heading"].is_null()),
        "{doc}"
    );
}

#[test]
fn a_cut_body_confirmed_by_a_second_fetch_is_stored_with_a_note_saying_so() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // 72 % of v1, the same twice: no `</html>`, most blocks kept.
    let v1 = fixture("nato-belarus/v1.html");
    let cut = v1[..v1.len() * 72 / 100].to_vec();
    t.server.reply(Reply::html(cut));
    let redline = check_json(&t);
    let notes = redline["notes"].to_string();
    assert!(
        notes.contains("the page looked cut (") && notes.contains("confirmed by a second fetch"),
        "{notes}"
    );
    assert_eq!(t.count("snapshots"), 2);
    // Stored with the redline (as the alert carries it), shown in every
    // format; a store in a directory keeps it in `redline.md`.
    if !t.files_on_disk() {
        return;
    }
    let dirs = t.snapshot_dirs("nato-belarus");
    let stored = dirs
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join("redline.md")).ok())
        .expect("the revision's redline.md");
    assert!(stored.contains("confirmed by a second fetch"), "{stored}");
}

#[test]
fn a_redesign_with_a_new_stamp_is_a_stamp_only_revision_with_a_layout_note() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    let restamped = String::from_utf8(fixture("nato-belarus/redesigned.html"))
        .unwrap()
        .replace(
            "Last updated: 28 Aug. 2024 11:27",
            "Last updated: 03 Sep. 2024 10:00",
        );
    t.server.reply(Reply::html(restamped));
    let redline = check_json(&t);
    assert_eq!(redline["kind"], "stamp-only", "{redline}");
    assert_eq!(redline["sections"], Value::Array(Vec::new()), "{redline}");
    let notes = redline["notes"].to_string();
    assert!(notes.contains("layout changed"), "{notes}");
    assert_eq!(t.count("checks WHERE outcome = 'layout-changed'"), 0);
    assert_eq!(t.count("checks WHERE outcome = 'changed'"), 1);
    assert_eq!(t.count("revisions WHERE technical = 0"), 1);
    // `report` shows it, as stored.
    let run = t.run(&["report", "nato-belarus", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(report["redlines"][0]["kind"], "stamp-only", "{report}");
    assert_eq!(report["redlines"][0]["sections"], Value::Array(Vec::new()));
}

#[test]
fn stamps_claim_only_what_the_page_shows() {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n\
         [[target]]\nid = \"cdc-flu\"\nurl = \"{}\"\n",
        t.server.url("/flu/about/index.html")
    ));
    let serve = |text: &str, stamp: &str| t.server.reply(Reply::html(cdc_page(&[text], stamp)));
    let with_meta = |text: &str, modified: &str| {
        let page = cdc_page(&[text], "").replacen(
            "<head>",
            &format!("<head><meta property=\"article:modified_time\" content=\"{modified}\">"),
            1,
        );
        t.server.reply(Reply::html(page));
    };
    let reviewed = |review: &str| format!("Updated on April 19, 2024</p><p>{review}");

    // A published date only, edited: `changed`, shown as published, never a silent edit.
    serve(FLU_V1, "Published 3 May 2023");
    assert_eq!(t.run(&["check"]).code, 0);
    serve(FLU_V2, "Published 3 May 2023");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("About Influenza: changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Published: 3 May 2023, unchanged"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Last updated"), "{}", run.stdout);

    // The update date unchanged but the review date moved: `revised`, both named.
    serve(FLU_V1, &reviewed("Page last reviewed: August 19, 2020"));
    assert_eq!(check_json(&t)["kind"], "revised");
    serve(FLU_V2, &reviewed("Page last reviewed: May 2, 2024"));
    let r = check_json(&t);
    assert_eq!(r["kind"], "revised");
    assert_eq!(r["new_stamp"]["text"], "Updated on April 19, 2024");
    assert_eq!(r["new_stamp"]["also"][0], "Page last reviewed: May 2, 2024");
    assert_eq!(r["new_stamp"]["class"], "updated");

    // A machine-only date set at each request: no revision while the content stays.
    with_meta(FLU_V2, "2026-12-03T08:00:00+00:00");
    assert_eq!(t.run(&["check"]).code, 0);
    with_meta(FLU_V2, "2026-12-03T09:00:00+00:00");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "", "a machine-only date moved alone");
}
