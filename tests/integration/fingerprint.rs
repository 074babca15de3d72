//! The source fingerprint (`redliner::extract::fingerprint`) keeps its
//! promise: two pages with the same fingerprint extract to the same document
//! (or fail the same way), so a check may call a page unchanged without
//! extracting it.
//!
//! - agreement, on every page in the repository (fixtures, the labelled
//!   corpus and its old/new pairs, the fuzz seeds, the fault campaign's
//!   markup) under the rule sets that read them, and on generated pages
//!   (proptest): each page is served twice with what extraction ignores
//!   changed (comments, per-request tokens in a CSRF meta, a hidden input, a
//!   script nonce, `data-*` ids, attribute order and quotes), and whenever
//!   the two fingerprints are equal the two documents must be;
//! - the corpus pairs whose documents differ have different fingerprints;
//! - the source mask: pages whose left-out content (the mask's spans) is
//!   rewritten at random with the same length, hostile characters included
//!   (quotes, `>`, `-->`, `</script`, `<!--`), either fit the mask, and then
//!   have the stored fingerprint and extract the same, or do not fit it;
//! - the real binary: a page served with a new token on every request is
//!   recorded unchanged with no extraction (the `-vv` log says so), and a
//!   content edit still makes a revision.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use redliner::extract::extract;
use redliner::extract::fingerprint::{Match, Mode, compare, fingerprint, with_mask};
use redliner::target::Rules;
use regex::Regex;
use url::Url;

use crate::harness::{Reply, Test, fixture};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn base() -> Url {
    Url::parse("https://example.org/cps/en/natohq/topics_49119.htm").unwrap()
}

/// Every file under `dir` whose name ends with one of `ext` (all when empty).
fn files(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, ext, out);
        } else if ext.is_empty() || ext.iter().any(|e| path.to_string_lossy().ends_with(e)) {
            out.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

/// Every HTML page in the repository: the fixtures and the fuzz seeds.
fn every_page() -> Vec<PathBuf> {
    let mut pages = Vec::new();
    files(
        &repo().join("tests/fixtures"),
        &[".html", ".htm"],
        &mut pages,
    );
    files(&repo().join("fuzz/seeds/extract"), &[], &mut pages);
    pages
}

/// The corpus's site rule sets by name, plus the generic rules, the generic
/// rules with no minimum, and two that make the fingerprint hash more
/// (a selector naming an attribute; a pseudo-class: every attribute).
fn rule_sets() -> Vec<Rules> {
    let corpus = repo().join("tests/fixtures/corpus/redliner.toml");
    let settings = redliner::config::parse(&read(&corpus), &corpus, None).unwrap();
    let mut sets: Vec<Rules> = Vec::new();
    for t in settings.targets {
        if !sets.iter().any(|r| r.name == t.rules.name) {
            sets.push(t.rules);
        }
    }
    let mut bare = Rules::generic();
    bare.min_text_chars = 0;
    let mut named = Rules::generic();
    named.content = vec![
        redliner::target::Css::parse("[data-role=main]").unwrap(),
        redliner::target::Css::parse("section.content").unwrap(),
    ];
    let mut all = Rules::generic();
    all.drop = vec![redliner::target::Css::parse(".share\\:bar").unwrap()];
    sets.extend([Rules::generic(), bare, named, all]);
    sets
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->").unwrap());
static UNREAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\s(nonce|value|data-[a-z-]+|src|width)="[^"]*""#).unwrap());
static CSRF_META: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(<meta name="(?:csrf[^"]*|viewport)" content=)"[^"]*""#).unwrap()
});
static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(<script(?:\s[^>]*)?>)([^<]*)(</script>)").unwrap());
static FORM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<form[^>]*>").unwrap());
static TWO_ATTRS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<([a-z]+)\s+([a-z-]+)="([^"'<>]*)"\s+([a-z-]+)="([^"'<>]*)"\s*>"#).unwrap()
});

/// The page as served on request `n`: what extraction ignores changed with
/// `n` (comments, tokens, inline scripts' text, unread attributes; on odd requests the attributes
/// of two-attribute tags reversed and single-quoted).
fn served(page: &str, n: u32) -> String {
    let page = COMMENT.replace_all(page, format!("<!-- request {n} -->"));
    let page = UNREAD.replace_all(&page, format!(" $1=\"t{n}\""));
    let page = CSRF_META.replace_all(&page, format!("${{1}}\"csrf{n}\""));
    // An inline script's text (never JSON-LD, which is read) holds a token.
    let page = SCRIPT.replace_all(&page, |c: &regex::Captures<'_>| {
        if c[1].to_ascii_lowercase().contains("json") {
            c[0].to_string()
        } else {
            format!("{}window.SITE = {{ csrf: \"{n:032}\" }};{}", &c[1], &c[3])
        }
    });
    let page = FORM.replace_all(
        &page,
        format!("$0<input type=\"hidden\" name=\"_token\" value=\"{n:040}\">"),
    );
    let page = if n % 2 == 1 {
        TWO_ATTRS.replace_all(&page, "<$1 $4='$5'  $2='$3' >")
    } else {
        page
    };
    format!("<!-- cache {n} -->{page}")
}

/// Checks the promise for one page under one rule set: the page as served
/// on two requests, when their fingerprints are equal, extracts the same.
/// Returns whether the fingerprints were equal (the fast path would hold).
fn agrees(name: &str, page: &str, rules: &Rules) -> bool {
    let (a, b) = (served(page, 1), served(page, 2));
    let fa = fingerprint(&a, &base(), rules, Mode::Markup);
    let fb = fingerprint(&b, &base(), rules, Mode::Markup);
    if fa.is_none() || fa != fb {
        return false;
    }
    let (da, db) = (
        extract(&a, Some(&base()), rules),
        extract(&b, Some(&base()), rules),
    );
    assert_eq!(
        da, db,
        "{name} under `{}`: equal fingerprints, other documents",
        rules.name
    );
    true
}

#[test]
fn equal_fingerprints_extract_equal_documents_on_every_fixture_page() {
    let pages = every_page();
    assert!(pages.len() > 60, "{} pages", pages.len());
    let sets = rule_sets();
    let (mut tried, mut equal) = (0, 0);
    for path in &pages {
        let page = read(path);
        let name = path.strip_prefix(repo()).unwrap().display().to_string();
        // A page under the rules of its site, and under the generic ones.
        let site = ["nato", "cdc", "govuk", "europa"]
            .iter()
            .find(|s| name.contains(&format!("/{s}")))
            .map(|s| if *s == "nato" { "nato-topic" } else { s })
            // Archive captures of the NATO page, old templates included.
            .or_else(|| name.contains("/wayback/").then_some("nato-topic"));
        // The corpus's new pages are its old ones edited: the old ones do.
        if name.ends_with("new.html") {
            continue;
        }
        for rules in sets
            .iter()
            .filter(|r| Some(r.name.as_str()) == site || (site.is_none() && r.name == "generic"))
        {
            tried += 1;
            equal += usize::from(agrees(&name, &page, rules));
        }
    }
    // The tokens and comments are left out for many pages: the fast path
    // is taken, not only sound.
    assert!(equal * 3 >= tried, "{equal} of {tried} equal");
}

/// String literals holding markup in the fault campaign's source: the
/// hostile pages it serves are built from them.
fn fault_markup() -> Vec<String> {
    let source = include_str!("faults/mod.rs");
    let literal = Regex::new(r#""((?:[^"\\\n]|\\.)*)""#).unwrap();
    literal
        .captures_iter(source)
        .map(|c| {
            c[1].replace("\\\"", "\"")
                .replace("\\n", "\n")
                .replace("\\\\", "\\")
        })
        .filter(|s| s.contains('<'))
        .collect()
}

/// Markup where a streaming tokenizer and the tree builder may part ways:
/// foreign content left open or broken out of, raw text elements in odd
/// places, ambiguous contexts.
const TRICKS: &[&str] = &[
    "<svg><path d=\"M0\"/></svg><p>after <!--c--> svg</p>",
    "<div><svg></div><style><!--x--></style><p>text</p>",
    "<svg/><script><!--x--></script><p>text</p>",
    "<svg><title>t</title><desc><!--x--></desc></svg>",
    "<svg><foreignObject><p>x<style><!--y--></style></p></foreignObject></svg>",
    "<math><mi><style><!--x--></style></mi></math>",
    "<math><annotation-xml encoding=\"text/html\"><style><!--x--></style></annotation-xml></math>",
    "<svg><p>breakout<style><!--x--></style></svg>",
    "<svg><font color=red><style><!--x--></style></font></svg>",
    "<svg></p><style><!--x--></style>",
    "<select><noscript><!--x--></noscript></select><p>after</p>",
    "<select><svg><![CDATA[x]]></svg></select>",
    "<table><!--x--> text <tr><td>cell</td></tr></table>",
    "<noscript><p data-x=\"1\"><!--x--></p></noscript><p>after</p>",
    "<textarea><!--x--></textarea><title><!--y--></title>",
    "<iframe><!--x--></iframe><xmp><!--y--></xmp><noembed><!--z--></noembed>",
    "<template><p><!--x-->tpl</p></template>",
    "<p>a<!--x-->b</p><div class=\"related\">Short<!--y--> list</div>",
    "<plaintext><!--x--><p>",
    "<![CDATA[x]]><p>cdata outside foreign content</p>",
    "<head class=\"updated\"><script>2024-01-02</script></head><p>x</p>",
    "<html class=\"updated\" data-x=\"1\"><p>x</p></html>",
    "<meta itemprop=\"dateModified\" content=\"2024-01-02\"><p>x</p>",
    "<script type=\"application/ld+json\">{\"dateModified\": \"2024-03-04\"}</script><main><p>x</p></main>",
];

#[test]
fn equal_fingerprints_extract_equal_documents_on_the_fault_pages() {
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    let open = v1.find("<section class=\"content").unwrap();
    let open_end = open + v1[open..].find('>').unwrap() + 1;
    let markup: Vec<String> = fault_markup()
        .into_iter()
        .chain(TRICKS.iter().map(|t| t.to_string()))
        .collect();
    assert!(markup.len() > 40, "{} pieces of markup", markup.len());
    let sets = rule_sets();
    let nato = sets.iter().find(|r| r.name == "nato-topic").unwrap();
    let bare = sets.iter().find(|r| r.min_text_chars == 0).unwrap();
    for m in &markup {
        // On its own, and inside the site's content section.
        let inside = format!("{}{m}{}", &v1[..open_end], &v1[open_end..]);
        agrees(m, m, bare);
        agrees(m, &inside, nato);
        agrees(m, &inside, &Rules::generic());
    }
}

#[test]
fn corpus_pairs_with_equal_fingerprints_extract_equal_documents_and_others_differ() {
    let sets = rule_sets();
    let mut olds = Vec::new();
    files(
        &repo().join("tests/fixtures/corpus"),
        &["old.html"],
        &mut olds,
    );
    assert!(olds.len() > 20);
    for old_path in olds {
        let new_path = old_path.with_file_name("new.html");
        let (old, new) = (read(&old_path), read(&new_path));
        let name = old_path.parent().unwrap().display().to_string();
        let site = ["nato", "cdc", "govuk", "europa"]
            .iter()
            .find(|s| name.contains(&format!("/{s}/")))
            .map(|s| if *s == "nato" { "nato-topic" } else { s })
            // Archive captures of the NATO page, old templates included.
            .or_else(|| name.contains("/wayback/").then_some("nato-topic"));
        for rules in sets
            .iter()
            .filter(|r| Some(r.name.as_str()) == site || r.name == "generic")
        {
            let (fo, fn_) = (
                fingerprint(&old, &base(), rules, Mode::Markup),
                fingerprint(&new, &base(), rules, Mode::Markup),
            );
            let (dold, dnew) = (
                extract(&old, Some(&base()), rules),
                extract(&new, Some(&base()), rules),
            );
            if fo.is_some() && fo == fn_ {
                assert_eq!(dold, dnew, "{name} under `{}`", rules.name);
            }
            if dold != dnew {
                assert_ne!(fo, fn_, "{name} under `{}`", rules.name);
            }
        }
    }
}

/// Pieces a span's new content is drawn from: tokens, and every sequence
/// that would end a span early or change how it is read.
const PIECES: &[&str] = &[
    "a",
    "Z",
    "7",
    " ",
    "\"",
    "'",
    ">",
    "<",
    "-",
    "-->",
    "--!>",
    "</script",
    "</SCRIPT>",
    "<!--",
    "/",
    "=",
    "&amp;",
    "\n",
    "é",
    "<p>",
    "</p>",
];

/// `page` with the content of some of `spans` rewritten, each to a string
/// of the same length in bytes drawn from [`PIECES`] by `seed`.
fn rewritten(page: &str, spans: &[redliner::extract::fingerprint::Span], seed: u64) -> String {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::with_capacity(page.len());
    let mut at = 0;
    for s in spans {
        if next() % 3 != 0 {
            continue;
        }
        out.push_str(&page[at..s.start]);
        let len = s.end - s.start;
        let mut content = String::new();
        while content.len() < len {
            let piece = PIECES[(next() % PIECES.len() as u64) as usize];
            if content.len() + piece.len() <= len {
                content.push_str(piece);
            } else {
                content.push('x');
            }
        }
        out.push_str(&content);
        at = s.end;
    }
    out.push_str(&page[at..]);
    out
}

#[test]
fn pages_that_fit_the_source_mask_have_the_fingerprint_and_extract_the_same() {
    let pages = every_page();
    let rules = Rules::generic();
    let (mut fit, mut refused, mut tried) = (0, 0, 0);
    for path in &pages {
        let page = read(path);
        let name = path.strip_prefix(repo()).unwrap().display().to_string();
        // Spans start and end at ASCII markup, so whole characters.
        let Some(source) = with_mask(&page, &base(), &rules, Mode::Markup) else {
            continue;
        };
        let spans = source.mask.spans().to_vec();
        if spans.is_empty() {
            continue;
        }
        let stored = source.mask.to_bytes();
        let old = extract(&page, Some(&base()), &rules);
        for seed in 1..=12u64 {
            let new = rewritten(&page, &spans, seed * 0x9E37_79B9);
            if new == page {
                continue;
            }
            tried += 1;
            match compare(&source.fingerprint, Some(&stored), &new, &base(), &rules) {
                Match::Masked => {
                    fit += 1;
                    assert_eq!(
                        fingerprint(&new, &base(), &rules, Mode::Markup).as_deref(),
                        Some(source.fingerprint.as_str()),
                        "{name} (seed {seed}): fits the mask, other fingerprint"
                    );
                    assert_eq!(
                        extract(&new, Some(&base()), &rules),
                        old,
                        "{name} (seed {seed}): fits the mask, other document"
                    );
                }
                Match::Whole(_) | Match::No(_) => refused += 1,
            }
        }
    }
    // Both sides are exercised: rewrites that fit and hostile ones that do not.
    eprintln!("source mask: {fit} rewrites fit, {refused} refused, of {tried}");
    assert!(
        fit > 50 && refused > 50,
        "{fit} fit, {refused} refused of {tried}"
    );
}

/// Pages whose extraction depends on values a plain reading of the tag
/// would leave out: a `<meta>` name or a JSON-LD `type` spelled with a
/// character reference (the stamp reader decodes it), and formatting
/// elements whose attributes decide how many the tree builder reopens. The
/// rewrite changes only those values; the fingerprint must change too (and
/// the mask never hold).
#[test]
fn values_the_tree_builder_or_the_stamp_reader_decode_are_hashed() {
    let rules = Rules::generic();
    let body = "<body><main><h2>Policy</h2><p>This is the body of the page, long enough to \
                count as the content root of the page for sure, with more words in it.</p>\
                <p>Second paragraph with further text so that the main element wins as the root.</p>\
                <p>Third paragraph with further text so that the main element wins as the \
                root, padded some more.</p></main></body></html>";
    let mut pairs = Vec::new();
    for head in [
        "<meta name=\"date&#77;odified\" content=\"2024-01-15\">",
        "<meta property=\"article&#58;modified_time\" content=\"2024-01-15T10:00:00Z\">",
        "<script type=\"application/ld+&#106;son\">{\"dateModified\":\"2024-01-15\"}</script>",
    ] {
        let p = format!("<html><head><title>T</title>{head}</head>{body}");
        let q = p.replace("2024-01-15", "2025-06-30");
        pairs.push((p, q));
    }
    // Twenty `<b>` alike (the tree builder reopens three) or all different
    // (it reopens twenty in each of the 1,000 paragraphs after: too costly).
    let mut p = String::from("<html><head><title>T</title></head><body><main><h2>H</h2><p>");
    for _ in 0..20 {
        p.push_str("<b data-k=a>");
    }
    p.push_str("</p>");
    for _ in 0..1000 {
        p.push_str("<p>x</p>");
    }
    p.push_str("</main></body></html>");
    let mut q = String::new();
    for (i, part) in p.split("data-k=a").enumerate() {
        if i > 0 {
            q.push_str(&format!("data-k={}", char::from(b'a' + i as u8)));
        }
        q.push_str(part);
    }
    pairs.push((p, q));
    for (p, q) in &pairs {
        assert_eq!(p.len(), q.len());
        assert_ne!(
            extract(p, Some(&base()), &rules),
            extract(q, Some(&base()), &rules),
            "the rewrite must change the extraction: {p}"
        );
        let source = with_mask(p, &base(), &rules, Mode::Markup).unwrap();
        assert_ne!(
            fingerprint(q, &base(), &rules, Mode::Markup).as_deref(),
            Some(source.fingerprint.as_str()),
            "{p}"
        );
        assert!(
            matches!(
                compare(
                    &source.fingerprint,
                    Some(&source.mask.to_bytes()),
                    q,
                    &base(),
                    &rules
                ),
                Match::No(_)
            ),
            "{p}"
        );
    }
}

/// A page served with a per-request token of one length fits the mask of
/// the first: the token's bytes lie in a span.
#[test]
fn a_token_of_the_same_length_fits_the_mask_of_the_nato_page() {
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    let rules = Rules::generic();
    let first = with_token(&v1, 1);
    let source = with_mask(&first, &base(), &rules, Mode::Markup).unwrap();
    let stored = source.mask.to_bytes();
    for n in 2..6 {
        let again = with_token(&v1, n);
        assert_eq!(
            compare(&source.fingerprint, Some(&stored), &again, &base(), &rules),
            Match::Masked,
            "request {n}"
        );
    }
}

proptest! {
    #![proptest_config(crate::properties::cases(48))]

    #[test]
    fn equal_fingerprints_extract_equal_documents_on_generated_pages(
        page in crate::properties::page(),
    ) {
        for rules in crate::properties::rule_sets() {
            agrees(&page, &page, &rules);
        }
    }
}

/// The NATO fixture as served on request `n`: a new CSRF token in its meta,
/// hidden input and inline script (`window.NATO = { csrf: ... }`), a new
/// request id in the scripts, a new nonce, a new comment.
fn with_token(page: &str, n: u32) -> String {
    let token = format!("{n:040x}");
    page.replace("d5eef99d6a3974adf268d1bd52643ffb4b3db0d2", &token)
        .replace(
            "requestId: \"89f64e72\"",
            &format!("requestId: \"{n:08x}\""),
        )
        .replace("var r = \"89f64e72\"", &format!("var r = \"{n:08x}\""))
        .replace("b9e33aa72caa591f", &format!("{n:016x}"))
        .replacen("<head>", &format!("<head><!-- request {n} -->"), 1)
}

#[test]
fn a_page_with_a_new_token_on_every_request_is_unchanged_without_being_extracted() {
    let t = Test::new();
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    t.server.reply_in_turn(vec![
        Reply::html(with_token(&v1, 1)),
        Reply::html(with_token(&v1, 2)),
        Reply::html(with_token(&v1, 3)),
    ]);
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for _ in 0..2 {
        let run = t.run(&["-vv", "check"]);
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
        // The tokens keep their length: the page fits the baseline's mask.
        assert!(
            run.stderr
                .contains("fingerprint equal; not extracted (the page fits the source mask)"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("extracted sections="),
            "{}",
            run.stderr
        );
    }
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 2);
    assert_eq!(t.count("snapshots"), 1);
    // An edit of the content is a revision, token or not.
    let v2 = String::from_utf8(fixture("nato-belarus/v2-reworded.html")).unwrap();
    t.server.reply(Reply::html(with_token(&v2, 4)));
    let run = t.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("diplomatic mission"), "{}", run.stdout);
    assert_eq!(t.count("snapshots"), 2);
    assert_eq!(t.count("revisions"), 1);
}

#[test]
fn a_snapshot_without_a_fingerprint_is_extracted_once_then_lent_the_pages() {
    let t = Test::new();
    let v1 = String::from_utf8(fixture("nato-belarus/v1.html")).unwrap();
    t.server.reply_in_turn(vec![
        Reply::html(with_token(&v1, 1)),
        Reply::html(with_token(&v1, 2)),
        Reply::html(with_token(&v1, 3)),
    ]);
    assert_eq!(t.run(&["check"]).code, 0);
    // As a store written before fingerprints (or by another extractor).
    t.db()
        .execute("UPDATE snapshots SET source_fingerprint = NULL", ())
        .unwrap();
    let run = t.run(&["-vv", "check"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(!run.stderr.contains("not extracted"), "{}", run.stderr);
    assert!(
        run.stderr.contains("fingerprint recorded"),
        "{}",
        run.stderr
    );
    let run = t.run(&["-vv", "check"]);
    assert!(
        run.stderr.contains("fingerprint equal; not extracted"),
        "{}",
        run.stderr
    );
    assert_eq!(t.count("checks WHERE outcome = 'unchanged'"), 2);
}
