//! Fuzzes extraction: any page text, under the generic rules and under each
//! site rule set of the accuracy corpus, must extract to a document or to an
//! [`ExtractError`](redliner::extract::ExtractError), never panic; a document
//! must compare equal to itself (no revision), keep its fingerprint, and read
//! back equal from its stored JSON form.
//!
//! Input: the first byte picks the rule set, the rest is the page (lossy
//! UTF-8, as the fetch stage hands over decoded text).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use redliner::diff::{DiffOptions, revision};
use redliner::document::Document;
use redliner::extract::extract;
use redliner::target::Rules;
use url::Url;

/// The rule sets tried: generic, generic with no minimum text (so small
/// inputs reach the walk), then every rule set of the corpus config.
static RULES: LazyLock<Vec<Rules>> = LazyLock::new(|| {
    let mut all = vec![Rules::generic()];
    let mut bare = Rules::generic();
    bare.min_text_chars = 0;
    all.push(bare);
    let text = include_str!("../../tests/fixtures/corpus/redliner.toml");
    let settings = redliner::config::parse(text, "corpus.toml".as_ref(), None)
        .expect("the corpus config is valid");
    for t in settings.targets {
        if !all.iter().any(|r| r.name == t.rules.name) {
            all.push(t.rules);
        }
    }
    all
});

static BASE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("https://example.org/a/page.html").expect("constant URL"));

fuzz_target!(|data: &[u8]| {
    let Some((&pick, page)) = data.split_first() else {
        return;
    };
    let rules = &RULES[pick as usize % RULES.len()];
    let html = String::from_utf8_lossy(page);
    let base = (pick & 0x80 == 0).then(|| &*BASE);
    let Ok(doc) = extract(&html, base, rules) else {
        return;
    };
    assert!(
        revision(&doc, &doc, &DiffOptions::default()).is_none(),
        "a document differs from itself"
    );
    let json = serde_json::to_string(&doc).expect("a document serialises");
    let back: Document = serde_json::from_str(&json).expect("a stored document reads back");
    assert_eq!(back, doc, "the stored document reads back different");
    assert_eq!(back.fingerprint(), doc.fingerprint());
});
