//! One page can neither stall nor flood a run: a pathological page is refused
//! fast as one clear line, and the HTML parser's complaints about a page never
//! reach stderr (one summary line at `-vv`).

use crate::harness::{Reply, Test};

/// A page with misnested tables: text and blocks straight inside `<table>`
/// and `<tr>`, which the HTML parser moves out (foster parenting) and
/// html5ever warns about once per token.
fn misnested_tables(rows: usize, edition: &str) -> String {
    let mut body = String::new();
    for i in 0..rows {
        body.push_str(&format!(
            "<table><tr>stray text {i}<div>block {i} in a row</div><td>cell {i}</td></table>"
        ));
    }
    format!(
        "<!DOCTYPE html><html><head><title>Tables</title></head><body><main>\
         <h1>Tables</h1><p>{edition}: a paragraph long enough to be the content of this \
         page, with more words than the minimum asks for.</p>{body}</main></body></html>"
    )
}

fn test_with_generic_target() -> Test {
    let t = Test::new();
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n[[target]]\nid = \"tables\"\nurl = \"{}\"\n",
        t.server.url("/tables.htm")
    ));
    t
}

/// Lines of stderr that come from the parser (html5ever's own warnings) or
/// name it.
fn parser_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("html5ever") || l.contains("foster") || l.contains("parser")
        })
        .collect()
}

#[test]
fn foster_parenting_warnings_never_reach_stderr() {
    let t = test_with_generic_target();
    for (edition, args) in [
        ("First", &["check"][..]),
        ("First", &["check"][..]),
        ("Second", &["check"][..]),
        ("Second", &["-q", "check"][..]),
        ("Third", &["-q", "check"][..]),
        ("Third", &["-v", "check"][..]),
    ] {
        t.server.reply(Reply::html(misnested_tables(300, edition)));
        let run = t.run(args);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        assert_eq!(parser_lines(&run.stderr), Vec::<&str>::new(), "{args:?}");
        if args.contains(&"-q") {
            assert_eq!(
                run.stderr, "",
                "{args:?}: -q prints only reports and errors"
            );
        }
    }
}

#[test]
fn parser_errors_are_summarised_once_per_page_at_debug_level() {
    let t = test_with_generic_target();
    t.server.reply(Reply::html(misnested_tables(300, "First")));
    let run = t.run(&["-vv", "check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = parser_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("parser error"), "{}", lines[0]);
}

#[test]
fn eighty_thousand_self_closed_divs_fail_the_check_with_one_line() {
    let t = test_with_generic_target();
    t.server.reply(Reply::html(misnested_tables(3, "First")));
    assert_eq!(t.run(&["check"]).code, 0);
    let page = format!(
        "<html><body><main><p>{}</p>{}</main></body></html>",
        "word ".repeat(100),
        "<div/>".repeat(80_000)
    );
    t.server.reply(Reply::html(page));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("levels deep (at most 2000)"),
        "{}",
        run.stderr
    );
    assert_eq!(t.snapshot_dirs("tables").len(), 1);
}
