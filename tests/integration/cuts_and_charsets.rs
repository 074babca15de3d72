//! Cut and mis-decoded pages never become versions: a body cut in transit is
//! fetched again at once (whole the second time: nothing stored, one warning),
//! a body whose declared charset lies is read with the charset that decodes it
//! cleanly, and a body no charset decodes fails the check with one line.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{Reply, Test, fixture};

const TARGET_PATH: &str = "/cps/en/natohq/topics_49119.htm";

/// The fixture v1 as bytes.
fn v1() -> Vec<u8> {
    fixture("nato-belarus/v1.html")
}

/// v1 cut `at` bytes in.
fn v1_cut_at(at: usize) -> Vec<u8> {
    v1()[..at].to_vec()
}

/// The byte offset of `needle` in v1.
fn v1_offset(needle: &str) -> usize {
    String::from_utf8_lossy(&v1())
        .find(needle)
        .unwrap_or_else(|| panic!("v1 has `{needle}`"))
}

/// Asserts that nothing but the baseline is stored: one snapshot (directory
/// and row), no revision, no alert.
fn only_the_baseline(t: &Test) {
    assert_eq!(t.snapshot_dirs("nato-belarus").len(), 1, "snapshot dirs");
    assert_eq!(t.count("snapshots"), 1, "snapshot rows");
    assert_eq!(t.count("revisions"), 0, "revisions");
    assert_eq!(t.count("alerts"), 0, "alerts");
}

/// The stderr lines of a run.
fn lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// A baseline of v1, then a check whose first response is `first` and
/// second v1 whole: unchanged, nothing stored, one warning naming the cut.
fn cut_once_then_whole(first: Vec<u8>, sign: &str) {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server.reply_in_turn(vec![Reply::html(first)]);
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let warned = lines(&run.stderr);
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(
        warned[0].contains("looked cut") && warned[0].contains(sign),
        "{}",
        run.stderr
    );
    assert_eq!(t.server.seen().len(), 3, "refetched once");
    only_the_baseline(&t);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
    // The next good fetch is silent.
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    only_the_baseline(&t);
}

#[test]
fn cut_body_with_correct_content_length_is_refetched_not_stored() {
    // The page up to its second section, served with its own (correct)
    // Content-Length.
    cut_once_then_whole(
        v1_cut_at(v1_offset("Evolution of relations</h2>")),
        "does not close",
    );
}

#[test]
fn cut_inside_a_tag_is_refetched_not_stored() {
    let at = v1_offset("<h2>Evolution of relations</h2>") + 3;
    cut_once_then_whole(v1_cut_at(at), "inside a tag");
}

#[test]
fn cut_in_the_middle_of_a_multibyte_character_is_refetched_not_stored() {
    // Inside the two bytes of a Cyrillic letter.
    let at = v1_offset("Р") + 1;
    cut_once_then_whole(v1_cut_at(at), "inside a multi-byte character");
}

#[test]
fn next_good_fetch_after_a_cut_is_silent() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    // Cut on both fetches of one check, but not the same way: nothing stored.
    t.server.reply_in_turn(vec![
        Reply::html(v1_cut_at(v1().len() / 2)),
        Reply::html(v1_cut_at(v1().len() / 3)),
    ]);
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(lines(&run.stderr).len(), 1, "{}", run.stderr);
    only_the_baseline(&t);
    assert_eq!(t.count("checks WHERE outcome = 'unconfirmed'"), 1);
    for _ in 0..2 {
        let run = t.run(&["check", "--exit-code"]);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", "")
        );
    }
    only_the_baseline(&t);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 2);
}

#[test]
fn a_cut_is_refetched_at_once_whatever_confirm_after_says() {
    let t = Test::new();
    let config = std::fs::read_to_string(t.config_path())
        .unwrap()
        .replace("confirm_after = \"0s\"", "confirm_after = \"1h\"");
    t.write_config(&config);
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server
        .reply_in_turn(vec![Reply::html(v1_cut_at(v1().len() / 2))]);
    let started = Instant::now();
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(t.server.seen().len(), 3);
    only_the_baseline(&t);
}

#[test]
fn cut_baseline_is_refetched_and_the_whole_page_stored() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    // No previous page: an `<html>` that is not closed is a cut.
    t.server
        .reply_in_turn(vec![Reply::html(v1_cut_at(v1().len() / 2))]);
    let run = t.run(&["check"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(t.server.seen().len(), 2);
    assert_eq!(t.count("snapshots"), 1);
    let dirs = t.snapshot_dirs("nato-belarus");
    let raw = t.stored_raw(&dirs[0]);
    assert_eq!(raw, v1(), "the whole page is the baseline");
    // The next check is silent.
    let run = t.run(&["check"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
}

/// A raw HTTP/1.1 server: each connection reads one request and gets the
/// next scripted response bytes verbatim (the last one repeats), then the
/// connection closes. Answers without `Content-Length` are close-delimited.
struct RawServer {
    port: u16,
    served: Arc<Mutex<usize>>,
}

impl RawServer {
    fn start(responses: Vec<Vec<u8>>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(Mutex::new(0usize));
        let count = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let n = {
                    let mut c = count.lock().unwrap();
                    *c += 1;
                    *c - 1
                };
                let reply = &responses[n.min(responses.len() - 1)];
                let _ = stream.write_all(reply);
                let _ = stream.flush();
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        RawServer { port, served }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}{TARGET_PATH}", self.port)
    }

    fn served(&self) -> usize {
        *self.served.lock().unwrap()
    }
}

/// A 200 with `body`, delimited by the connection closing.
fn close_delimited(body: &[u8]) -> Vec<u8> {
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
            .to_vec(),
        body.to_vec(),
    ]
    .concat()
}

/// The harness config pointed at `url`.
fn pointed_at(t: &Test, url: &str) {
    let config = std::fs::read_to_string(t.config_path())
        .unwrap()
        .replace(&t.server.url(TARGET_PATH), url);
    t.write_config(&config);
}

#[test]
fn close_delimited_cut_is_refetched_not_stored() {
    let whole = close_delimited(&v1());
    // Cut short, and cut just before the closing tags (the rest whole).
    let before_end = v1_offset("</body>");
    for (cut, refetched) in [
        (v1_offset("Evolution of relations</h2>"), true),
        (before_end, false),
    ] {
        let server = RawServer::start(vec![
            whole.clone(),
            close_delimited(&v1_cut_at(cut)),
            whole.clone(),
        ]);
        let t = Test::new();
        pointed_at(&t, &server.url());
        assert_eq!(t.run(&["check"]).code, 0);
        let run = t.run(&["check", "--exit-code"]);
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
        // Cut before the end of the content: refetched, one warning; cut in
        // the footer: the content is whole, nothing to say.
        if refetched {
            assert_eq!(lines(&run.stderr).len(), 1, "{}", run.stderr);
            assert!(run.stderr.contains("looked cut"), "{}", run.stderr);
            assert_eq!(server.served(), 3);
        } else {
            assert_eq!(run.stderr, "");
        }
        only_the_baseline(&t);
        let run = t.run(&["check", "--exit-code"]);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
        only_the_baseline(&t);
    }
}

#[test]
fn windows_1251_body_labelled_utf8_is_read_as_windows_1251() {
    let t = Test::new();
    let page = fixture("nato-belarus/v1-windows-1251.html");
    t.server
        .reply(Reply::html(page.clone()).header("Content-Type", "text/html; charset=windows-1251"));
    assert_eq!(t.run(&["check"]).code, 0);
    // The same bytes, now labelled utf-8 by the header (the meta still says 1251).
    t.server
        .reply(Reply::html(page).header("Content-Type", "text/html; charset=utf-8"));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    only_the_baseline(&t);
    let source: String = t
        .db()
        .query_row("SELECT charset_source FROM snapshots", (), |r| r.get(0))
        .unwrap();
    assert_eq!(source, "header");
}

#[test]
fn utf8_body_labelled_windows_1251_is_read_as_utf8() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server
        .reply(Reply::html(v1()).header("Content-Type", "text/html; charset=windows-1251"));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    only_the_baseline(&t);
    // A first fetch so labelled is stored as UTF-8, and says why.
    let t = Test::new();
    t.server
        .reply(Reply::html(v1()).header("Content-Type", "text/html; charset=windows-1251"));
    assert_eq!(t.run(&["check"]).code, 0);
    let (charset, source): (String, String) = t
        .db()
        .query_row("SELECT charset, charset_source FROM snapshots", (), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (charset.as_str(), source.as_str()),
        ("UTF-8", "utf8-validity")
    );
}

/// v1 with `bad` bytes put in the middle of its content.
fn v1_with_bad_bytes(bad: &[u8]) -> Vec<u8> {
    let at = v1_offset("Evolution of relations");
    let mut body = v1();
    body.splice(at..at, bad.iter().copied());
    body
}

#[test]
fn a_few_invalid_utf8_bytes_fail_the_check_and_store_nothing() {
    let t = Test::new();
    t.serve("nato-belarus/v1.html");
    assert_eq!(t.run(&["check"]).code, 0);
    t.server
        .reply(Reply::html(v1_with_bad_bytes(b"\xFF\xC3(\x80")));
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "redliner: target `nato-belarus`: fetching `{}`: body is not valid UTF-8 \
             (3 bytes cannot be decoded; charset declared by the Content-Type header)\n",
            t.server.url(TARGET_PATH)
        )
    );
    only_the_baseline(&t);
    assert_eq!(t.count("checks WHERE outcome = 'failed'"), 1);
    // Labelled windows-1252, the same bytes are broken UTF-8 all the same.
    t.server.reply(
        Reply::html(v1_with_bad_bytes(b"\xFF\xC3(\x80"))
            .header("Content-Type", "text/html; charset=windows-1252"),
    );
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("body is not valid UTF-8"),
        "{}",
        run.stderr
    );
    only_the_baseline(&t);
    // The next good fetch is silent.
    t.serve("nato-belarus/v1.html");
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    only_the_baseline(&t);
}

#[test]
fn a_page_that_always_had_invalid_bytes_is_read_as_before() {
    // A first fetch with bad bytes fails; `charset = "utf-8"` forces the
    // decoding and accepts them as U+FFFD.
    let t = Test::new();
    t.server.reply(Reply::html(v1_with_bad_bytes(b"\xFF")));
    assert_eq!(t.run(&["check"]).code, 2);
    assert_eq!(t.count("snapshots"), 0);
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&config.replace(
        "rules = \"nato-topic\"\n",
        "rules = \"nato-topic\"\ncharset = \"utf-8\"\n",
    ));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.count("snapshots"), 1);
    // Without the override, the same bytes are what the page always had.
    t.write_config(&config);
    let run = t.run(&["check", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(t.count("snapshots"), 1);
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 1);
    // A bad charset name is refused at load.
    t.write_config(&config.replace(
        "rules = \"nato-topic\"\n",
        "rules = \"nato-topic\"\ncharset = \"klingon\"\n",
    ));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("charset"), "{}", run.stderr);
}
