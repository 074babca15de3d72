//! Criterion benchmarks of the pipeline's pure stages on the fixture pages:
//! extract the NATO page, diff two NATO revisions (v1 → v3), extract + diff of
//! the NATO page, and extract + diff of the 2 MB page (5,000 list items, one
//! changed; `tests/fixtures/pairs/big-list/`).
//!
//! "Extract + diff" extracts both pages and diffs them: what a check costs when
//! the old document has to be re-derived (a check proper reads the old
//! document from the store and extracts only the new page, so it costs less).
//!
//! Run: `cargo bench --bench pipeline`. Aims (issue 3): extract + diff of the
//! NATO page under 5 ms, of the 2 MB page under 250 ms. The figures measured on
//! the development machine are in the README's "Performance" section.

use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use redliner::diff::{DiffOptions, revision};
use redliner::document::Document;
use redliner::extract::extract;
use redliner::target::{Css, Rules};
use url::Url;

const PAGE_URL: &str = "https://www.nato.int/cps/en/natohq/topics_49119.htm";

/// The nato-topic rules of `config/redliner.toml`.
fn nato_rules() -> Rules {
    let css = |s: &str| Css::parse(s).expect("valid selector");
    let mut rules = Rules::generic();
    rules.name = "nato-topic".into();
    rules.title = Some(css("h1.fs-huge"));
    rules.content = vec![css("section.content")];
    rules.drop = [
        ".share",
        ".social-share",
        ".sidebar",
        ".related",
        ".breadcrumb",
        ".cookie-consent",
    ]
    .into_iter()
    .map(css)
    .collect();
    rules
}

/// A fixture page as text (`name.gz` when `name` is not there).
fn page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return text;
    }
    let file = std::fs::File::open(path.with_extension("html.gz")).expect("fixture");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gzip fixture");
    text
}

struct Setup {
    rules: Rules,
    url: Url,
    opts: DiffOptions,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            rules: nato_rules(),
            url: Url::parse(PAGE_URL).expect("url"),
            opts: DiffOptions::default(),
        }
    }

    fn doc(&self, html: &str) -> Document {
        extract(html, Some(&self.url), &self.rules).expect("document")
    }

    /// Extract both pages and diff them; asserts a revision came out.
    fn extract_diff(&self, old: &str, new: &str) -> usize {
        let rev = revision(&self.doc(old), &self.doc(new), &self.opts).expect("a revision");
        rev.sections.len()
    }
}

fn nato(c: &mut Criterion) {
    let s = Setup::new();
    let v1 = page("nato-belarus/v1.html");
    let v3 = page("nato-belarus/v3-section-added.html");
    let (d1, d3) = (s.doc(&v1), s.doc(&v3));

    let mut g = c.benchmark_group("nato");
    g.bench_function("extract v1", |b| b.iter(|| s.doc(black_box(&v1))));
    g.bench_function("diff v1-v3", |b| {
        b.iter(|| revision(black_box(&d1), black_box(&d3), &s.opts))
    });
    g.bench_function("extract+diff v1-v3", |b| {
        b.iter(|| s.extract_diff(black_box(&v1), black_box(&v3)))
    });
    g.finish();
}

fn big_list(c: &mut Criterion) {
    let s = Setup::new();
    let old = page("pairs/big-list/old.html");
    let new = page("pairs/big-list/new.html");
    assert!(old.len() > 2_000_000, "the 2 MB page");
    let (d_old, d_new) = (s.doc(&old), s.doc(&new));

    let mut g = c.benchmark_group("big-list");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.bench_function("extract new", |b| b.iter(|| s.doc(black_box(&new))));
    g.bench_function("diff", |b| {
        b.iter(|| revision(black_box(&d_old), black_box(&d_new), &s.opts))
    });
    g.bench_function("extract+diff", |b| {
        b.iter(|| s.extract_diff(black_box(&old), black_box(&new)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = pipeline;
    config = config();
    targets = nato, big_list
}
criterion_main!(pipeline);
