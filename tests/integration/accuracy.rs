//! The accuracy score over the labelled corpus (`tests/fixtures/corpus/`): every
//! pair through the real binary (`redliner diff OLD NEW --format json`), its
//! JSON redline scored against the pair's `truth.json`.
//!
//! Scored per site style and in total: block-level precision and recall of
//! `(section, change, text)`, revision kind, section heading changes, moves
//! (the `moved` blocks alone) and stamp dates. Pairs whose truth kind is `null`
//! (the noise pairs and the same-text redesign) must print nothing and exit 0
//! under the site rules and under the generic rules. The table goes to stderr;
//! the test asserts 100 % everywhere and lists every miss.
//!
//! The truth format is described in `tests/fixtures/corpus/README.md`.

use std::fmt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

use crate::harness::Run;

/// A pair's `truth.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Truth {
    what: String,
    target: Option<String>,
    kind: Option<String>,
    old_stamp: Option<String>,
    new_stamp: Option<String>,
    headings: Vec<TruthHeading>,
    blocks: Vec<TruthBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TruthHeading {
    change: String,
    heading: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TruthBlock {
    section: String,
    change: String,
    text: String,
}

/// One pair on disk.
struct Pair {
    /// `style/name`.
    id: String,
    style: String,
    dir: PathBuf,
    truth: Truth,
}

/// One listed block of a JSON redline (source sides of cross-section moves left out).
#[derive(Debug, Clone)]
struct GotBlock {
    section: String,
    change: String,
    text: String,
}

/// What one run printed, reduced to what is scored.
#[derive(Debug, Default)]
struct Got {
    /// `None` when nothing was printed.
    kind: Option<String>,
    old_stamp: Option<String>,
    new_stamp: Option<String>,
    headings: Vec<(String, String)>,
    blocks: Vec<GotBlock>,
}

/// A ratio that reads 100 % when there is nothing to count.
#[derive(Debug, Default, Clone, Copy)]
struct Ratio {
    hit: usize,
    of: usize,
}

impl Ratio {
    fn add(&mut self, hit: usize, of: usize) {
        self.hit += hit;
        self.of += of;
    }

    fn full(self) -> bool {
        self.hit == self.of
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.of == 0 {
            return write!(f, "{:>13}", "-");
        }
        let pct = 100.0 * self.hit as f64 / self.of as f64;
        write!(f, "{:>5.1} {:>7}", pct, format!("{}/{}", self.hit, self.of))
    }
}

/// The figures of one table row.
#[derive(Debug, Default, Clone, Copy)]
struct Score {
    /// Runs of the binary (a silent pair runs once per rule set).
    runs: usize,
    block_precision: Ratio,
    block_recall: Ratio,
    kind: Ratio,
    heading_precision: Ratio,
    heading_recall: Ratio,
    move_precision: Ratio,
    move_recall: Ratio,
    stamps: Ratio,
    silent: Ratio,
}

impl Score {
    fn merge(&mut self, o: &Score) {
        self.runs += o.runs;
        for (a, b) in self.ratios_mut().into_iter().zip(o.ratios()) {
            a.add(b.hit, b.of);
        }
    }

    fn ratios(&self) -> [Ratio; 9] {
        [
            self.block_precision,
            self.block_recall,
            self.kind,
            self.heading_precision,
            self.heading_recall,
            self.move_precision,
            self.move_recall,
            self.stamps,
            self.silent,
        ]
    }

    fn ratios_mut(&mut self) -> [&mut Ratio; 9] {
        [
            &mut self.block_precision,
            &mut self.block_recall,
            &mut self.kind,
            &mut self.heading_precision,
            &mut self.heading_recall,
            &mut self.move_precision,
            &mut self.move_recall,
            &mut self.stamps,
            &mut self.silent,
        ]
    }
}

const COLUMNS: [&str; 9] = [
    "block prec.",
    "block recall",
    "kind",
    "heading prec.",
    "heading rec.",
    "move prec.",
    "move recall",
    "stamps",
    "silent",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

/// Every pair, sorted by style then name.
fn pairs() -> Vec<Pair> {
    let mut out = Vec::new();
    let mut styles: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus directory")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_dir())
        .collect();
    styles.sort();
    for style_dir in styles {
        let style = style_dir
            .file_name()
            .expect("style name")
            .to_string_lossy()
            .into_owned();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&style_dir)
            .expect("style directory")
            .map(|e| e.expect("pair entry").path())
            .filter(|p| p.join("truth.json").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
            let truth: Truth = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join("truth.json").display()));
            let name = dir.file_name().expect("pair name").to_string_lossy();
            out.push(Pair {
                id: format!("{style}/{name}"),
                style: style.clone(),
                dir,
                truth,
            });
        }
    }
    out
}

/// `redliner --config corpus/redliner.toml diff OLD NEW --format json [--target T]`.
fn run_diff(pair: &Pair, target: Option<&str>) -> Run {
    let work = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::cargo_bin("redliner").expect("redliner binary");
    cmd.current_dir(work.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(corpus().join("redliner.toml"))
        .arg("diff")
        .arg(pair.dir.join("old.html"))
        .arg(pair.dir.join("new.html"))
        .args(["--format", "json"]);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    cmd.output().expect("run redliner").into()
}

/// Runs the jobs on a few threads (one process each), results in job order.
fn run_all(jobs: &[(&Pair, Option<&str>)]) -> Vec<Run> {
    const THREADS: usize = 4;
    let chunk = jobs.len().div_ceil(THREADS).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(pair, target)| run_diff(pair, *target))
                        .collect::<Vec<Run>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("runner thread"))
            .collect()
    })
}

/// Text compared loosely on typography only: NBSP, curly quotes, runs of spaces.
fn norm(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| match c {
            '\u{a0}' | '\u{202f}' => ' ',
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            c => c,
        })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn field(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn stamp_date(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.get("date")?.as_str().map(str::to_string)
}

/// Reads a JSON redline (or empty output) into what is scored.
fn parse(stdout: &str) -> Result<Got, String> {
    if stdout.trim().is_empty() {
        return Ok(Got::default());
    }
    let v: Value = serde_json::from_str(stdout).map_err(|e| format!("bad JSON ({e})"))?;
    let mut got = Got {
        kind: Some(field(&v, "kind")),
        old_stamp: stamp_date(&v, "old_stamp"),
        new_stamp: stamp_date(&v, "new_stamp"),
        ..Got::default()
    };
    for s in v["sections"].as_array().into_iter().flatten() {
        let heading = field(s, "heading");
        let change = field(s, "change");
        if change != "modified" {
            got.headings.push((change, heading.clone()));
        }
        for b in s["blocks"].as_array().into_iter().flatten() {
            if b.get("moved_to").is_some_and(|m| !m.is_null()) {
                continue;
            }
            let text = b
                .get("new_text")
                .and_then(Value::as_str)
                .or_else(|| b.get("old_text").and_then(Value::as_str))
                .unwrap_or("");
            got.blocks.push(GotBlock {
                section: heading.clone(),
                change: field(b, "change"),
                text: text.to_string(),
            });
        }
    }
    Ok(got)
}

/// Greedy one-to-one matching (snippets are unique within a pair). Returns
/// which truth items and which got items were matched.
fn matching<T, G>(truth: &[T], got: &[G], eq: impl Fn(&T, &G) -> bool) -> (Vec<bool>, Vec<bool>) {
    let mut t_hit = vec![false; truth.len()];
    let mut g_hit = vec![false; got.len()];
    for (ti, t) in truth.iter().enumerate() {
        if let Some(gi) = (0..got.len()).find(|&gi| !g_hit[gi] && eq(t, &got[gi])) {
            t_hit[ti] = true;
            g_hit[gi] = true;
        }
    }
    (t_hit, g_hit)
}

fn block_matches(t: &TruthBlock, g: &GotBlock) -> bool {
    norm(&t.section) == norm(&g.section)
        && t.change == g.change
        && norm(&g.text).contains(&norm(&t.text))
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Scores one revision pair (truth kind set) run under its target.
fn score_revision(pair: &Pair, run: &Run, misses: &mut Vec<String>) -> Score {
    let t = &pair.truth;
    let mut s = Score {
        runs: 1,
        ..Score::default()
    };
    let got = match (run.code, parse(&run.stdout)) {
        (0, Ok(got)) => got,
        (code, parsed) => {
            let why = parsed.err().unwrap_or_default();
            misses.push(format!(
                "{}: exit {code} {why}; stderr: {}",
                pair.id,
                run.stderr.trim()
            ));
            Got::default()
        }
    };
    // kind
    let want_kind = t.kind.as_deref().unwrap_or("none");
    let got_kind = got.kind.as_deref().unwrap_or("none");
    s.kind.add(usize::from(want_kind == got_kind), 1);
    if want_kind != got_kind {
        misses.push(format!(
            "{}: kind: expected {want_kind}, got {got_kind}",
            pair.id
        ));
    }
    // stamps
    for (side, want, have) in [
        ("old", &t.old_stamp, &got.old_stamp),
        ("new", &t.new_stamp, &got.new_stamp),
    ] {
        s.stamps.add(usize::from(want == have), 1);
        if want != have {
            misses.push(format!(
                "{}: {side} stamp: expected {}, got {}",
                pair.id,
                want.as_deref().unwrap_or("none"),
                have.as_deref().unwrap_or("none")
            ));
        }
    }
    // headings
    let (th, gh) = matching(&t.headings, &got.headings, |t, g| {
        t.change == g.0 && norm(&t.heading) == norm(&g.1)
    });
    s.heading_recall
        .add(th.iter().filter(|h| **h).count(), th.len());
    s.heading_precision
        .add(gh.iter().filter(|h| **h).count(), gh.len());
    for (h, hit) in t.headings.iter().zip(&th) {
        if !hit {
            misses.push(format!(
                "{}: missed heading {} \"{}\"",
                pair.id, h.change, h.heading
            ));
        }
    }
    for (h, hit) in got.headings.iter().zip(&gh) {
        if !hit {
            misses.push(format!(
                "{}: unexpected heading {} \"{}\"",
                pair.id, h.0, h.1
            ));
        }
    }
    // blocks
    let (tb, gb) = matching(&t.blocks, &got.blocks, block_matches);
    s.block_recall
        .add(tb.iter().filter(|h| **h).count(), tb.len());
    s.block_precision
        .add(gb.iter().filter(|h| **h).count(), gb.len());
    for (b, hit) in t.blocks.iter().zip(&tb) {
        if !hit {
            let near: Vec<String> = got
                .blocks
                .iter()
                .filter(|g| norm(&g.text).contains(&norm(&b.text)))
                .map(|g| format!("{} under \"{}\"", g.change, g.section))
                .collect();
            misses.push(format!(
                "{}: missed block ({}, {}, \"{}\"); got {}",
                pair.id,
                b.section,
                b.change,
                b.text,
                if near.is_empty() {
                    "nothing with that text".to_string()
                } else {
                    near.join(", ")
                }
            ));
        }
    }
    for (g, hit) in got.blocks.iter().zip(&gb) {
        if !hit {
            misses.push(format!(
                "{}: unexpected block ({}, {}, \"{}\")",
                pair.id,
                g.section,
                g.change,
                clip(&g.text)
            ));
        }
    }
    // moves: the moved entries alone
    s.move_recall.add(
        t.blocks
            .iter()
            .zip(&tb)
            .filter(|(b, hit)| b.change == "moved" && **hit)
            .count(),
        t.blocks.iter().filter(|b| b.change == "moved").count(),
    );
    s.move_precision.add(
        got.blocks
            .iter()
            .zip(&gb)
            .filter(|(b, hit)| b.change == "moved" && **hit)
            .count(),
        got.blocks.iter().filter(|b| b.change == "moved").count(),
    );
    s
}

/// Scores one pair that must print nothing, under `target` (None: generic rules).
fn score_silent(pair: &Pair, target: Option<&str>, run: &Run, misses: &mut Vec<String>) -> Score {
    let quiet = run.code == 0 && run.stdout.is_empty();
    if !quiet {
        let rules = target.map_or("generic rules".to_string(), |t| format!("--target {t}"));
        let what = match parse(&run.stdout) {
            Ok(got) => {
                let mut parts: Vec<String> = got
                    .headings
                    .iter()
                    .map(|(c, h)| format!("{c} \"{h}\""))
                    .collect();
                parts.extend(
                    got.blocks
                        .iter()
                        .map(|b| format!("({}, {}, \"{}\")", b.section, b.change, clip(&b.text))),
                );
                format!(
                    "{} {}",
                    got.kind.as_deref().unwrap_or("nothing"),
                    parts.join("; ")
                )
            }
            Err(e) => e,
        };
        misses.push(format!(
            "{} ({rules}): expected nothing, got exit {}: {what}{}",
            pair.id,
            run.code,
            if run.code == 0 {
                String::new()
            } else {
                format!("; stderr: {}", run.stderr.trim())
            }
        ));
    }
    Score {
        runs: 1,
        silent: Ratio {
            hit: usize::from(quiet),
            of: 1,
        },
        ..Score::default()
    }
}

fn table(rows: &[(String, Score)]) -> String {
    let mut out = format!("{:<24} {:>5}", "corpus", "runs");
    for c in COLUMNS {
        out.push_str(&format!(" {c:>13}"));
    }
    out.push('\n');
    for (name, s) in rows {
        out.push_str(&format!("{name:<24} {:>5}", s.runs));
        for r in s.ratios() {
            out.push_str(&format!(" {r}"));
        }
        out.push('\n');
    }
    out
}

#[test]
fn accuracy_on_the_labelled_corpus_is_100_percent() {
    let pairs = pairs();
    assert!(
        pairs.len() >= 80,
        "corpus: only {} pairs found under {}",
        pairs.len(),
        corpus().display()
    );
    // Every run of the binary: revision pairs under their target, silent
    // pairs under their target and under the generic rules.
    let jobs: Vec<(&Pair, Option<&str>)> = pairs
        .iter()
        .flat_map(|pair| {
            let target = pair.truth.target.as_deref();
            if pair.truth.kind.is_some() {
                vec![(pair, target)]
            } else if target.is_some() {
                vec![(pair, target), (pair, None)]
            } else {
                vec![(pair, None)]
            }
        })
        .collect();
    let runs = run_all(&jobs);
    let mut misses = Vec::new();
    let mut styles: Vec<(String, Score)> = Vec::new();
    let (mut site, mut generic) = (Score::default(), Score::default());
    for ((pair, target), run) in jobs.iter().zip(&runs) {
        if pair.truth.kind.is_none() {
            let s = score_silent(pair, *target, run, &mut misses);
            if target.is_some() {
                site.merge(&s);
            } else {
                generic.merge(&s);
            }
            continue;
        }
        let s = score_revision(pair, run, &mut misses);
        match styles.iter_mut().find(|(name, _)| *name == pair.style) {
            Some((_, total)) => total.merge(&s),
            None => styles.push((pair.style.clone(), s)),
        }
    }
    let mut rows: Vec<(String, Score)> = styles
        .into_iter()
        .map(|(name, s)| (format!("{name} revisions"), s))
        .collect();
    let mut revisions = Score::default();
    for (_, s) in &rows {
        revisions.merge(s);
    }
    rows.push(("all revisions".into(), revisions));
    rows.push(("silent, site rules".into(), site));
    rows.push(("silent, generic rules".into(), generic));
    let mut total = revisions;
    total.merge(&site);
    total.merge(&generic);
    rows.push(("total".into(), total));
    eprintln!(
        "\naccuracy over tests/fixtures/corpus ({} pairs; percent and hits/count)\n{}",
        pairs.len(),
        table(&rows)
    );
    let perfect = total.ratios().iter().all(|r| r.full());
    assert!(
        perfect && misses.is_empty(),
        "accuracy below 100 % ({} misses):\n{}",
        misses.len(),
        misses.join("\n")
    );
    // `what` is for people reading the corpus; keep it filled in.
    for pair in &pairs {
        assert!(!pair.truth.what.is_empty(), "{}: empty `what`", pair.id);
    }
}
