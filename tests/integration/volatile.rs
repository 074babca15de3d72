//! Volatile values are not content: per-request Cloudflare e-mail hashes,
//! session ids and same-page links under another name, and the folder a local
//! file sits in, never make a revision.

use crate::harness::{NATO_RULES, Reply, Test};

/// A NATO-like topic page. `key` is the Cloudflare XOR key (the hex changes
/// with it, the address does not), `sid` the session id in link paths, and
/// `self_name` how the page names itself in its same-page links.
fn page(key: u8, sid: &str, self_name: &str) -> String {
    let cf = |address: &str| {
        let mut hex = format!("{key:02x}");
        for b in address.bytes() {
            hex.push_str(&format!("{:02x}", b ^ key));
        }
        hex
    };
    let long = "NATO and Testland have developed dialogue and cooperation since 1992, \
                when Testland joined the North Atlantic Cooperation Council. ";
    format!(
        "<!DOCTYPE html><html><head><title>NATO - Topic: Relations with Testland</title></head>\
         <body><header><nav><a href=\"/cps/en/natohq/index.htm;{sid}\">Home</a></nav></header>\
         <h1 class=\"fs-huge\">Relations with Testland</h1>\
         <section class=\"content cf\">\
         <p>{long}{long}See <a href=\"{self_name}#evolution\">the evolution</a> and the \
         <a href=\"/cps/en/natohq/topics_50349.htm;{sid}\">Partnership for Peace</a>.</p>\
         <h2 id=\"evolution\">Evolution of relations</h2>\
         <p>{long}Press enquiries: <a href=\"/cdn-cgi/l/email-protection#{press}\">\
         <span class=\"__cf_email__\" data-cfemail=\"{press}\">[email&#160;protected]</span></a>.</p>\
         <p>{long}See the <a href=\"/cps/en/{sid}/natohq/official_texts_1.htm\">declaration</a>.</p>\
         </section>\
         <script data-cfasync=\"false\" src=\"/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js\"></script>\
         </body></html>",
        press = cf("press@hq.nato.int"),
    )
}

const OLD_SID: &str = "SID-7F3A2B1C-9D8E7F6A";
const NEW_SID: &str = "SID-0B1C2D3E-4F5A6B7C";

#[test]
fn check_of_a_page_whose_only_change_is_cloudflare_hashes_and_session_ids_prints_nothing() {
    for rules in ["nato-topic", "generic"] {
        let t = Test::new();
        t.write_config(&format!(
            "[settings]\ntimeout = \"5s\"\nretries = 0\n{NATO_RULES}\n[[target]]\n\
             id = \"nato-testland\"\nurl = \"{}\"\nrules = \"{rules}\"\n",
            t.server.url("/cps/en/natohq/topics_99999.htm")
        ));
        t.server
            .reply(Reply::html(page(0x42, OLD_SID, "topics_99999.htm")));
        let run = t.run(&["check"]);
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
        t.server.reply(Reply::html(page(
            0x8e,
            NEW_SID,
            &t.server
                .url("/cps/en/natohq/topics_99999.htm;jsessionid=A1B2C3"),
        )));
        let run = t.run(&["check"]);
        assert_eq!(run.code, 0, "{rules}: {}", run.stderr);
        assert_eq!(
            run.stdout, "",
            "{rules}: the hashes and session ids are no change"
        );
        assert!(
            !run.stderr.contains("fallback"),
            "{rules}: no root configured is no fallback: {}",
            run.stderr
        );
        assert_eq!(t.count("revisions"), 0, "{rules}");
        // The decoded address is the content.
        let dirs = t.snapshot_dirs("nato-testland");
        let doc = t.stored_document(&dirs[0]);
        assert!(doc.contains("Press enquiries: press@hq.nato.int."), "{doc}");
        assert!(doc.contains("mailto:press@hq.nato.int"), "{doc}");
        assert!(!doc.contains("SID-"), "{doc}");
    }
}

#[test]
fn diff_of_identical_files_in_different_folders_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("2024/a"), dir.path().join("2025/x/b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let html = page(0x42, OLD_SID, "topics_99999.htm")
        .replace("/cps/en/natohq/topics_50349.htm", "topics_50349.htm")
        .replace("/cps/en/", "../");
    std::fs::write(a.join("old.html"), &html).unwrap();
    std::fs::write(b.join("new.html"), &html).unwrap();
    let t = Test::new();
    let (old, new) = (
        a.join("old.html").display().to_string(),
        b.join("new.html").display().to_string(),
    );
    for rules in [&[][..], &["--target", "nato-belarus"][..]] {
        let mut args = vec!["diff", old.as_str(), new.as_str(), "--exit-code"];
        args.extend_from_slice(rules);
        let run = t.run(&args);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, ""),
            "{rules:?}: {}",
            run.stderr
        );
    }
    // The same page naming itself otherwise, with other hashes and session
    // ids: no change either.
    let other = page(0x17, NEW_SID, "")
        .replace("/cps/en/natohq/topics_50349.htm", "topics_50349.htm")
        .replace("/cps/en/", "../");
    std::fs::write(b.join("new.html"), other).unwrap();
    let run = t.run(&["diff", &old, &new, "--exit-code"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
}
