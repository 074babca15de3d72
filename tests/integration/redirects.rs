//! Redirects: the address guard refuses hops into the local network (and
//! names the whole chain), and a redirect to another page (a moved target) is
//! a failed check, never a revision.

use crate::harness::{NATO_RULES, Reply, Test, fixture};

const PAGE: &str = "/cps/en/natohq/topics_49119.htm";

/// A test with a baseline stored from `v1.html`.
fn with_baseline() -> Test {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    t
}

/// Asserts the failed check left everything as it was: one snapshot (the
/// baseline), no revision, no alert, one failed check, and printed exactly
/// one line.
fn assert_refused_cleanly(t: &Test, run: &crate::harness::Run) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);
    assert_eq!(t.count("alerts"), 0);
    assert_eq!(t.count("checks WHERE outcome = 'failed'"), 1);
    assert_eq!(t.snapshot_dirs("nato-belarus").len(), 1);
}

#[test]
fn redirect_to_link_local_metadata_address_is_refused() {
    let t = with_baseline();
    t.server
        .reply_at(PAGE, Reply::status(302).header("Location", "/hop"));
    t.server.reply_at(
        "/hop",
        Reply::status(302).header("Location", "http://169.254.169.254/latest/meta-data/"),
    );
    let run = t.run(&["check"]);
    assert_refused_cleanly(&t, &run);
    let (page, hop) = (t.server.url(PAGE), t.server.url("/hop"));
    // The guard's refusal, naming the whole chain: never a connect failure
    // or timeout, which would mean the address was dialled.
    assert_eq!(
        run.stderr,
        format!(
            "redliner: target `nato-belarus`: fetching `{page}`: redirect to \
             `http://169.254.169.254/latest/meta-data/` refused (link-local address \
             169.254.169.254, a cloud metadata endpoint) after `{page}` -> `{hop}`\n"
        )
    );
    // The next good check is silent.
    t.server
        .reply_at(PAGE, Reply::html(fixture("nato-belarus/v1.html")));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}

#[test]
fn redirect_to_private_addresses_in_any_spelling_is_refused() {
    // (Location, what the refusal says)
    let cases = [
        (
            "http://[::ffff:169.254.169.254]/",
            "a cloud metadata endpoint",
        ),
        (
            "http://2852039166/latest/",
            "link-local address 169.254.169.254",
        ),
        ("http://10.0.0.1/", "private address 10.0.0.1"),
        (
            "http://192.168.1.1:8080/admin",
            "private address 192.168.1.1",
        ),
        ("http://100.100.100.200/", "a cloud metadata endpoint"),
        ("http://[fd00:ec2::254]/", "a cloud metadata endpoint"),
        ("http://[fe80::1]/", "link-local address fe80::1"),
        ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
    ];
    let t = with_baseline();
    for (n, (location, why)) in cases.into_iter().enumerate() {
        t.server
            .reply_at(PAGE, Reply::status(301).header("Location", location));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 2, "{location}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("refused ({why}")) || run.stderr.contains(why),
            "{location}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("redirect to `"), "{}", run.stderr);
        assert_eq!(t.count("checks WHERE outcome = 'failed'"), n as i64 + 1);
    }
    assert_eq!(t.count("snapshots"), 1);
}

#[test]
fn redirect_to_a_file_url_is_refused() {
    let t = with_baseline();
    for location in [
        "file:///etc/passwd",
        "ftp://example.org/x",
        "data:text/html,<p>x</p>",
    ] {
        t.server
            .reply_at(PAGE, Reply::status(302).header("Location", location));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 2, "{location}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("refused (not http or https) after `"),
            "{location}: {}",
            run.stderr
        );
    }
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("revisions"), 0);
}

#[test]
fn redirect_loops_name_the_chain() {
    let t = with_baseline();
    t.server
        .reply_at(PAGE, Reply::status(302).header("Location", "/a"));
    t.server
        .reply_at("/a", Reply::status(307).header("Location", PAGE));
    let run = t.run(&["check"]);
    assert_refused_cleanly(&t, &run);
    let (page, a) = (t.server.url(PAGE), t.server.url("/a"));
    assert!(
        run.stderr
            .ends_with(&format!("redirect loop: `{page}` -> `{a}` -> `{page}`\n")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_host_name_resolving_to_a_refused_address_is_never_dialled() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    let url = format!("http://localhost:{}{PAGE}", t.server.port);
    t.write_config(&format!(
        "[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n[[target]]\n\
         id = \"nato-belarus\"\nurl = \"{url}\"\nrules = \"nato-topic\"\nallow_private = false\n"
    ));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "fetching `{url}`: refused (`localhost` resolves to loopback address"
        )),
        "{}",
        run.stderr
    );
    assert!(
        t.server.seen().is_empty(),
        "the refused address was dialled"
    );
    assert_eq!(t.count("snapshots"), 0);
}

/// `v2-reworded.html` as the site's home page: the same template, another
/// title and text.
fn home_page() -> Vec<u8> {
    let v2 = String::from_utf8(fixture("nato-belarus/v2-reworded.html")).unwrap();
    let home = v2.replacen("Relations with Belarus</h1>", "Welcome to NATO</h1>", 1);
    assert_ne!(home, v2, "fixture markup changed: adjust the test");
    home.into_bytes()
}

#[test]
fn redirect_to_the_home_page_on_the_same_template_is_not_a_revision() {
    let t = with_baseline();
    t.server
        .reply_at(PAGE, Reply::status(301).header("Location", "/"));
    t.server.reply_at("/", Reply::html(home_page()));
    let run = t.run(&["check"]);
    assert_refused_cleanly(&t, &run);
    assert_eq!(
        run.stderr,
        format!(
            "redliner: target `nato-belarus`: target redirected to `{}` (set follow_moves = true \
             to accept the new address)\n",
            t.server.url("/")
        )
    );
    // Again on the next run: a move is not forgotten.
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    // The page back where it was: silent.
    t.server
        .reply_at(PAGE, Reply::html(fixture("nato-belarus/v1.html")));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}

#[test]
fn the_same_page_at_another_address_is_not_a_move() {
    let t = with_baseline();
    // http to another host spelling, a language prefix and a query added.
    let moved = format!(
        "http://localhost:{}/en{PAGE}?selectedLocale=en",
        t.server.port
    );
    t.server
        .reply_at(PAGE, Reply::status(301).header("Location", &moved));
    t.server.reply(Reply::html(fixture("nato-belarus/v1.html")));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
}

#[test]
fn follow_moves_accepts_the_new_address_and_says_so_once() {
    let t = with_baseline();
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&format!("{config}follow_moves = true\n"));
    let new = "/cps/en/natohq/topics_50100.htm";
    t.server
        .reply_at(PAGE, Reply::status(301).header("Location", new));
    t.server
        .reply_at(new, Reply::html(fixture("nato-belarus/v2-reworded.html")));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let said = format!(
        "the target moved to `{}`; accepted (follow_moves = true)",
        t.server.url(new)
    );
    assert_eq!(run.stderr.matches(&said).count(), 1, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 2);
    // Said once: the next check knows the address.
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("moved"), "{}", run.stderr);
}
