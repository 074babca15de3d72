//! Prometheus metrics of the checks a process ran, and of the store they
//! left: checks by outcome, fetch and extract durations, alerts waiting in
//! the outbox, and each target's last successful check.
//!
//! Written in the OpenMetrics text format (prometheus-client), which the
//! Prometheus server and node-exporter's textfile collector both read:
//! `check --metrics-file FILE` writes it for cron runs; a long-running
//! process can serve [`Metrics::render`] over HTTP.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::{AlertState, CheckOutcome, Store, StoreError};

/// The label of a check counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

/// The label of the outbox gauge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// The label of a per-target gauge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

/// Bucket bounds in seconds, from 10 ms to about 1 min (a page fetched
/// through retries and a slow extraction of a large page both land inside).
fn buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.01, 2.0, 13)
}

/// What this process's checks did. Cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    checks: Family<OutcomeLabel, Counter>,
    fetch: Histogram,
    extract: Histogram,
}

impl Default for Metrics {
    /// Every outcome's counter starts at 0, so each series exists from the
    /// first scrape (a rate over a series that appears later misses its
    /// first checks).
    fn default() -> Self {
        let checks = Family::<OutcomeLabel, Counter>::default();
        for outcome in <CheckOutcome as strum::VariantArray>::VARIANTS {
            let _ = checks.get_or_create(&OutcomeLabel {
                outcome: outcome.as_str().to_string(),
            });
        }
        Metrics {
            checks,
            fetch: Histogram::new(buckets()),
            extract: Histogram::new(buckets()),
        }
    }
}

impl Metrics {
    /// Counts a check that ended with `outcome`.
    pub fn check(&self, outcome: CheckOutcome) {
        self.checks
            .get_or_create(&OutcomeLabel {
                outcome: outcome.as_str().to_string(),
            })
            .inc();
    }

    /// Records how long a fetch took (including retries and redirects).
    pub fn fetched(&self, took: Duration) {
        self.fetch.observe(took.as_secs_f64());
    }

    /// Records how long extracting a page's document took.
    pub fn extracted(&self, took: Duration) {
        self.extract.observe(took.as_secs_f64());
    }

    /// The metrics as OpenMetrics text: this process's counters and
    /// histograms, then gauges read from `store` now (alerts pending or
    /// failed in the outbox, and the start of the last successful check of
    /// each of `targets` as Unix seconds; a target never checked
    /// successfully has no sample).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    pub fn render(&self, store: &Store, targets: &[&str]) -> Result<String, StoreError> {
        let mut registry = Registry::with_prefix("redliner");
        registry.register(
            "checks",
            "Checks run by this process, by outcome",
            self.checks.clone(),
        );
        registry.register_with_unit(
            "fetch_duration",
            "Time to fetch a page (retries and redirects included)",
            prometheus_client::registry::Unit::Seconds,
            self.fetch.clone(),
        );
        registry.register_with_unit(
            "extract_duration",
            "Time to extract a page's document",
            prometheus_client::registry::Unit::Seconds,
            self.extract.clone(),
        );
        let pending = Family::<StateLabel, Gauge>::default();
        for state in [AlertState::Pending, AlertState::Sending, AlertState::Failed] {
            let n = store.alerts(&[state], usize::MAX)?.len();
            pending
                .get_or_create(&StateLabel {
                    state: state.as_str().to_string(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        registry.register(
            "alerts_undelivered",
            "Alerts in the outbox not yet delivered, by state",
            pending,
        );
        let last = Family::<TargetLabel, Gauge>::default();
        for target in targets {
            let ok = [
                CheckOutcome::Baseline,
                CheckOutcome::Unchanged,
                CheckOutcome::Changed,
                CheckOutcome::NotModified,
                CheckOutcome::LayoutChanged,
            ];
            if let Some(at) = store.last_check_started(target, &ok)? {
                last.get_or_create(&TargetLabel {
                    target: (*target).to_string(),
                })
                .set(at.as_second());
            }
        }
        registry.register(
            "last_success_timestamp_seconds",
            "Start of the last successful check of each target (Unix seconds)",
            last,
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String never fails");
        Ok(out)
    }

    /// [`Metrics::render`] in the Prometheus text format 0.0.4 that
    /// node-exporter's textfile collector parses: a counter's `# TYPE` and
    /// `# HELP` lines name its samples (`redliner_checks_total`, where
    /// OpenMetrics names the family `redliner_checks`), and the OpenMetrics
    /// `# UNIT` and `# EOF` lines are left out.
    ///
    /// # Errors
    /// As [`Metrics::render`].
    pub fn render_textfile(&self, store: &Store, targets: &[&str]) -> Result<String, StoreError> {
        Ok(prometheus_text(&self.render(store, targets)?))
    }
}

/// OpenMetrics text (as [`Metrics::render`] writes it) to the Prometheus
/// text format 0.0.4 (see [`Metrics::render_textfile`]).
pub fn prometheus_text(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# TYPE ", "# HELP "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample's family has its `# TYPE` line under the sample's own
    /// name (or, for a histogram, the name less `_bucket`/`_sum`/`_count`),
    /// as the 0.0.4 parser requires; no OpenMetrics-only line is left.
    #[test]
    fn textfile_names_each_counter_by_its_samples() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = Metrics::default();
        m.check(CheckOutcome::Baseline);
        m.check(CheckOutcome::Failed);
        m.fetched(Duration::from_millis(30));
        m.extracted(Duration::from_millis(5));
        let text = m.render_textfile(&store, &["t"]).unwrap();
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
        let typed: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .collect();
        assert!(
            typed.contains(&("redliner_checks_total", "counter")),
            "{text}"
        );
        assert!(
            typed.contains(&("redliner_fetch_duration_seconds", "histogram")),
            "{text}"
        );
        for sample in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let name = sample.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|base| typed.iter().any(|(n, k)| n == base && *k == "histogram"))
                .unwrap_or(name);
            assert!(
                typed.iter().any(|(n, _)| *n == family),
                "{sample}: no TYPE for {family}"
            );
        }
        assert!(
            text.contains("redliner_checks_total{outcome=\"failed\"} 1"),
            "{text}"
        );
    }
}
