//! Alert planning and delivery: what a check queues in the outbox, and the
//! delivery pass that sends what is due.
//!
//! Planning (called by the monitor before it records a check):
//!
//! - [`plan`]: the target's channels, rules and expiry; the store applies the
//!   failure policy from it in the check's transaction.
//! - [`plan_change`]: for a revision, also whether it alerts
//!   ([`should_alert`]) and as what ([`recurrence`]):
//!   - new content: a `revision` alert;
//!   - content equal to an earlier snapshot's: a `revert` alert naming it
//!     (`revert_of` in the payload, and [`Recurrence::note`] at the top of
//!     the redline in every format, the alert's included);
//!   - A→B→A→B (the new content equals the snapshot before the previous one,
//!     and the previous equals the one before that): the page alternates; one
//!     `alternating` alert for the whole run of flips, later flips are
//!     recorded quietly. New content ends the run.
//!
//! Delivery ([`deliver_due`]): claims due alerts one at a time (a lease of
//! the channel's timeout plus [`LEASE_MARGIN`]), sends each with a
//! [`Notifier`], records the attempt, and reschedules transient failures with
//! a doubling [`backoff`]. Its SQLite calls are synchronous and short, made
//! between sends on the calling task: run it on a current-thread runtime of
//! its own (as `check` and `watch` do), never on a shared multi-thread pool.

use crate::ids::{AlertId, SnapshotId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::notify::{Channel, ChannelConfig, DeliveryResult, Notifier, should_alert};
use crate::report::Redline;
use crate::store::{
    AlertKind, AlertPlan, AlertState, CheckStore, PlannedRevision, SnapshotRow, Store, StoreError,
};
use crate::target::Target;

/// Added to a channel's timeout to make the lease of a claimed alert: a run
/// that has not finished an attempt by then is presumed dead, and the alert
/// is sent again (same idempotency key) by a later run.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// Content that came back: how a new snapshot relates to earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Recurrence {
    /// The content equals that of snapshot `of` (the newest such), which is
    /// not the previous one.
    Revert {
        /// The earlier snapshot's id.
        of: SnapshotId,
    },
    /// A→B→A→B: the content equals snapshot `of`'s (the one before the
    /// previous), and the previous equals the one before that.
    Alternating {
        /// The snapshot before the previous one (same content as the new one).
        of: SnapshotId,
        /// The oldest snapshot of the current run of the two contents.
        since: SnapshotId,
    },
}

impl Recurrence {
    /// The earlier snapshot whose content came back.
    pub fn of(self) -> SnapshotId {
        match self {
            Recurrence::Revert { of } | Recurrence::Alternating { of, .. } => of,
        }
    }

    /// A note for the redline, in words.
    pub fn note(self) -> String {
        match self {
            Recurrence::Revert { of } => {
                format!("Revert: the content equals that of snapshot {of}.")
            }
            Recurrence::Alternating { of, since } => format!(
                "Alternating: the page flips between two versions (the content equals that \
                 of snapshot {of}; flipping since snapshot {since})."
            ),
        }
    }
}

/// How a new content fingerprint relates to the target's snapshots
/// `history` (newest first; `history[0]` is the previous snapshot). `None`
/// for new content, or content equal to the previous snapshot's (stamp-only).
pub fn recurrence(history: &[SnapshotRow], new_hash: &str) -> Option<Recurrence> {
    let first = history.first()?;
    if first.content_hash == new_hash {
        return None;
    }
    if let [prev, before, third, ..] = history
        && before.content_hash == new_hash
        && third.content_hash == prev.content_hash
    {
        let since = history
            .iter()
            .take_while(|s| s.content_hash == new_hash || s.content_hash == prev.content_hash)
            .last()
            .map_or(third.id, |s| s.id);
        return Some(Recurrence::Alternating {
            of: before.id,
            since,
        });
    }
    history[1..]
        .iter()
        .find(|s| s.content_hash == new_hash)
        .map(|s| Recurrence::Revert { of: s.id })
}

/// [`recurrence`] read from the store: how `new_hash` relates to the
/// target's snapshots captured before `before` (all of them when `None`, as
/// at a check, before the new snapshot is stored). Gives the same answer as
/// [`recurrence`] over those snapshots, reading the newest three and, for a
/// revert or an alternation, one or two indexed rows more: never the whole
/// history.
///
/// # Errors
/// [`StoreError::Database`].
pub fn recurrence_in<S: CheckStore + ?Sized>(
    store: &S,
    target: &str,
    before: Option<&SnapshotRow>,
    new_hash: &str,
) -> Result<Option<Recurrence>, StoreError> {
    let recent = store.recent_snapshots(target, before, 3)?;
    let Some(first) = recent.first() else {
        return Ok(None);
    };
    if first.content_hash == new_hash {
        return Ok(None);
    }
    if let [prev, previous_but_one, third] = recent.as_slice()
        && previous_but_one.content_hash == new_hash
        && third.content_hash == prev.content_hash
    {
        let since = store
            .run_start(target, [new_hash, &prev.content_hash], before)?
            .unwrap_or(third.id);
        return Ok(Some(Recurrence::Alternating {
            of: previous_but_one.id,
            since,
        }));
    }
    // The newest snapshot is not it (tested above), so the newest with this
    // content is the revert's.
    Ok(store
        .newest_with_content(target, new_hash, before)?
        .map(|of| Recurrence::Revert { of }))
}

/// The target's alert plan for a check at `now` without a revision to
/// announce (health alerts only); `None` when the target has no channels.
pub fn plan(target: &Target, delivery: &DeliverySettings, now: Timestamp) -> Option<AlertPlan> {
    if target.channels.is_empty() {
        return None;
    }
    Some(AlertPlan {
        channels: target.channels.clone(),
        rules: target.alerts.clone(),
        created_at: now,
        expire_after: SignedDuration::try_from(delivery.expire_after)
            .unwrap_or(SignedDuration::MAX),
        revision: None,
    })
}

/// The plan for a check that found a revision (`redline`, from the latest
/// snapshot to a document whose fingerprint is `content_hash`), with its
/// [`Recurrence`] for the redline notes.
/// The revision alerts when [`should_alert`] says so under the target's
/// rules, except an alternation already announced for the current run of flips.
///
/// Reads a few indexed rows of the target ([`recurrence_in`]), never its
/// whole history.
///
/// # Errors
/// [`StoreError`] reading the target's snapshots or alerts.
pub fn plan_change<S: CheckStore + ?Sized>(
    store: &S,
    target: &Target,
    delivery: &DeliverySettings,
    redline: &Redline,
    content_hash: &str,
    now: Timestamp,
) -> Result<(Option<AlertPlan>, Option<Recurrence>), StoreError> {
    let recurrence = recurrence_in(store, &target.id, None, content_hash)?;
    let Some(mut plan) = plan(target, delivery, now) else {
        return Ok((None, recurrence));
    };
    if !should_alert(redline, &target.alerts) {
        tracing::debug!(target = %target.id, kind = %redline.revision.kind, "revision recorded without alert");
        return Ok((Some(plan), recurrence));
    }
    let kind = match recurrence {
        None => AlertKind::Revision,
        Some(Recurrence::Revert { .. }) => AlertKind::Revert,
        Some(Recurrence::Alternating { since, .. }) => {
            if store.alternating_alerted_since(&target.id, since)? {
                tracing::debug!(target = %target.id, %since, "alternation already announced");
                return Ok((Some(plan), recurrence));
            }
            AlertKind::Alternating
        }
    };
    plan.revision = Some(PlannedRevision {
        redline: redline.clone(),
        kind,
        revert_of: recurrence.map(Recurrence::of),
    });
    Ok((Some(plan), recurrence))
}

/// The delay before attempt `attempt + 1` after `attempt` failed (1-based):
/// `base`, doubling per attempt, at most `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
    base.saturating_mul(factor).min(max)
}

/// One delivery attempt made by [`deliver_due`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The alert id.
    pub alert_id: AlertId,
    /// Target id.
    pub target: String,
    /// Channel id.
    pub channel: String,
    /// What the alert announces.
    pub kind: AlertKind,
    /// The alert's state after the attempt.
    pub state: AlertState,
    /// Why it failed, if it did (no secrets).
    pub error: Option<String>,
}

/// Sends every alert due now, once each, oldest first: claim, send with
/// `notifier`, record. Channels come from `channels`, resolved with `env`
/// (secrets are read there and nowhere else). An alert whose channel is no
/// longer configured fails permanently; one whose channel can't be resolved
/// (an environment variable unset) fails transiently and is retried.
///
/// # Errors
/// [`StoreError`] when the outbox can't be read or written; attempts made
/// before the error stay recorded.
pub async fn deliver_due<N: Notifier>(
    store: &mut Store,
    channels: &[ChannelConfig],
    delivery: &DeliverySettings,
    notifier: &N,
    clock: &dyn Clock,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Attempt>, StoreError> {
    let mut resolved: HashMap<String, Result<Channel, String>> = HashMap::new();
    for config in channels {
        resolved.insert(
            config.id.clone(),
            config.resolve(env).map_err(|e| e.to_string()),
        );
    }
    let lease = |id: &str| {
        let timeout = match resolved.get(id) {
            Some(Ok(ch)) => ch.timeout,
            _ => Duration::ZERO,
        };
        SignedDuration::try_from(timeout.saturating_add(LEASE_MARGIN))
            .unwrap_or(SignedDuration::MAX)
    };
    let mut attempts = Vec::new();
    let mut after = AlertId(0);
    while let Some(claimed) = store.claim_next_alert(clock.now(), after, &lease)? {
        after = claimed.row.id;
        let started = clock.now();
        let timer = Instant::now();
        let result = match resolved.get(&claimed.row.channel) {
            Some(Ok(channel)) => notifier.send(channel, &claimed.alert).await,
            Some(Err(e)) => DeliveryResult::failed(None, e.clone(), true),
            None => DeliveryResult::failed(
                None,
                format!("channel `{}` is not configured", claimed.row.channel),
                false,
            ),
        };
        let duration_ms = i64::try_from(timer.elapsed().as_millis()).unwrap_or(i64::MAX);
        let delay = backoff(
            claimed.row.attempts.saturating_add(1),
            delivery.backoff,
            delivery.backoff_max,
        );
        let retry_at = clock
            .now()
            .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
            .unwrap_or(started);
        let state =
            store.record_attempt(claimed.row.id, started, duration_ms, &result, retry_at)?;
        let row = &claimed.row;
        match state {
            AlertState::Delivered => {
                tracing::info!(target = %row.target, channel = %row.channel, kind = %row.kind, "alert delivered");
            }
            // The caller reports it to the user (`check` and `watch` print one
            // `redliner: alert ... not delivered` line); a warning here would
            // say it twice.
            _ => tracing::debug!(
                target = %row.target,
                channel = %row.channel,
                kind = %row.kind,
                state = %state,
                "alert not delivered: {}",
                result.error.as_deref().unwrap_or("")
            ),
        }
        attempts.push(Attempt {
            alert_id: row.id,
            target: row.target.clone(),
            channel: row.channel.clone(),
            kind: row.kind,
            state,
            error: result.error,
        });
    }
    Ok(attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, hash: &str) -> SnapshotRow {
        SnapshotRow {
            id: SnapshotId(id),
            target: "t".into(),
            captured_at: Timestamp::UNIX_EPOCH,
            dir: format!("t/{id}"),
            url: "u".into(),
            final_url: "u".into(),
            http_status: 200,
            content_type: None,
            charset: "utf-8".into(),
            charset_source: None,
            etag: None,
            last_modified: None,
            content_hash: hash.into(),
            raw_sha256: String::new(),
            raw_path: None,
            title: None,
            stamp_text: None,
            stamp_date: None,
            stamp_time: None,
            stamp_instant: None,
            root_selector: "body".into(),
            root_fallback: false,
            sections: 1,
            blocks: 1,
            words: 1,
            source_fingerprint: None,
            source_mask: None,
            source: None,
            source_url: None,
            document_sha256: None,
            chain_hash: None,
        }
    }

    /// History given oldest first as hashes; ids are 1, 2, 3, ...
    fn history(oldest_first: &[&str]) -> Vec<SnapshotRow> {
        let mut h: Vec<SnapshotRow> = oldest_first
            .iter()
            .enumerate()
            .map(|(i, s)| row(i as i64 + 1, s))
            .collect();
        h.reverse();
        h
    }

    #[test]
    fn recurrence_tells_new_revert_and_alternating() {
        let cases: [(&str, &[&str], &str, Option<Recurrence>); 9] = [
            ("no history", &[], "A", None),
            ("new content", &["A"], "B", None),
            ("same content (stamp-only)", &["A", "B"], "B", None),
            (
                "A B A is a revert",
                &["A", "B"],
                "A",
                Some(Recurrence::Revert { of: SnapshotId(1) }),
            ),
            (
                "C A B A is a revert",
                &["C", "A", "B"],
                "A",
                Some(Recurrence::Revert { of: SnapshotId(2) }),
            ),
            (
                "A B C A: revert to the oldest",
                &["A", "B", "C"],
                "A",
                Some(Recurrence::Revert { of: SnapshotId(1) }),
            ),
            (
                "A B A B alternates",
                &["A", "B", "A"],
                "B",
                Some(Recurrence::Alternating {
                    of: SnapshotId(2),
                    since: SnapshotId(1),
                }),
            ),
            (
                "C A B A B alternates since the first A",
                &["C", "A", "B", "A"],
                "B",
                Some(Recurrence::Alternating {
                    of: SnapshotId(3),
                    since: SnapshotId(2),
                }),
            ),
            (
                "A B A B A keeps alternating",
                &["A", "B", "A", "B"],
                "A",
                Some(Recurrence::Alternating {
                    of: SnapshotId(3),
                    since: SnapshotId(1),
                }),
            ),
        ];
        for (name, hist, new, want) in cases {
            assert_eq!(recurrence(&history(hist), new), want, "{name}");
        }
    }

    /// Every history of up to five snapshots over three contents (two
    /// snapshots per second, so equal times are ordered by id), every new
    /// content, at every point of the history: the store's bounded reads
    /// give what the whole history gives.
    #[test]
    fn recurrence_from_the_store_equals_recurrence_over_the_whole_history() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path()).unwrap();
        let contents = ["A", "B", "C"];
        let mut histories: Vec<Vec<&str>> = vec![Vec::new()];
        for len in 1..=5 {
            let mut next = Vec::new();
            for h in histories.iter().filter(|h| h.len() == len - 1) {
                for c in contents {
                    let mut longer = h.clone();
                    longer.push(c);
                    next.push(longer);
                }
            }
            histories.extend(next);
        }
        let mut checked = 0;
        for (n, oldest_first) in histories.iter().enumerate() {
            let target = format!("h{n}");
            store.insert_bare_snapshots(&target, oldest_first);
            let all = store.snapshots(&target).unwrap();
            for new in ["A", "B", "C", "D"] {
                assert_eq!(
                    recurrence_in(&store, &target, None, new).unwrap(),
                    recurrence(&all, new),
                    "{oldest_first:?} then {new}"
                );
                for (i, anchor) in all.iter().enumerate() {
                    assert_eq!(
                        recurrence_in(&store, &target, Some(anchor), new).unwrap(),
                        recurrence(&all[i + 1..], new),
                        "{oldest_first:?} before snapshot {} then {new}",
                        anchor.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 5000, "{checked}");
    }

    #[test]
    fn backoff_doubles_up_to_the_max() {
        let (base, max) = (Duration::from_secs(60), Duration::from_secs(600));
        let cases = [
            (0, 60),
            (1, 60),
            (2, 120),
            (3, 240),
            (4, 480),
            (5, 600),
            (40, 600),
        ];
        for (attempt, want) in cases {
            assert_eq!(
                backoff(attempt, base, max),
                Duration::from_secs(want),
                "{attempt}"
            );
        }
    }

    struct FixedClock(Timestamp);

    impl Clock for FixedClock {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn channel(id: &str) -> ChannelConfig {
        toml::from_str(&format!(
            "id = \"{id}\"\nkind = \"command\"\nprogram = \"true\"\ntimeout = \"2s\"\n"
        ))
        .unwrap()
    }

    fn queue(store: &mut Store, channels: &[&str], at: Timestamp) {
        use crate::store::{CheckOutcome, CheckRecord};
        let plan = AlertPlan {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            rules: crate::notify::AlertRules {
                failures_before_alert: 1,
                ..Default::default()
            },
            created_at: at,
            expire_after: SignedDuration::from_hours(1),
            revision: None,
        };
        let check = CheckRecord {
            target: "t".into(),
            url: "https://example.org/".into(),
            started_at: at,
            duration_ms: 1,
            outcome: CheckOutcome::Failed,
            final_url: None,
            http_status: Some(503),
            error: Some("HTTP 503".into()),
            snapshot_id: None,
            note: None,
        };
        store.record_check_alerting(&check, Some(&plan)).unwrap();
    }

    #[tokio::test]
    async fn deliver_due_sends_records_and_backs_off() {
        use crate::notify::RecordingNotifier;
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        let t0: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        queue(&mut store, &["ok", "down", "gone"], t0);
        let configs = [channel("ok"), channel("down")];
        let delivery = DeliverySettings {
            backoff: Duration::from_secs(60),
            backoff_max: Duration::from_secs(600),
            expire_after: Duration::from_secs(3600),
        };
        let notifier = RecordingNotifier::with_results([
            DeliveryResult::delivered(Some(0)),
            DeliveryResult::failed(Some(503), "HTTP 503", true),
        ]);
        let env = |_: &str| None;
        let clock = FixedClock(t0);
        let got = deliver_due(&mut store, &configs, &delivery, &notifier, &clock, &env)
            .await
            .unwrap();
        let summary: Vec<(&str, AlertState, Option<&str>)> = got
            .iter()
            .map(|a| (a.channel.as_str(), a.state, a.error.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ok", AlertState::Delivered, None),
                ("down", AlertState::Pending, Some("HTTP 503")),
                (
                    "gone",
                    AlertState::Failed,
                    Some("channel `gone` is not configured")
                ),
            ]
        );
        let sent: Vec<String> = notifier.sent().into_iter().map(|(c, _)| c).collect();
        assert_eq!(sent, ["ok", "down"]);
        // nothing is due again before the backoff; after it, only `down`
        let again = deliver_due(&mut store, &configs, &delivery, &notifier, &clock, &env)
            .await
            .unwrap();
        assert_eq!(again, []);
        let later = FixedClock("2026-11-30T10:01:00Z".parse().unwrap());
        let again = deliver_due(&mut store, &configs, &delivery, &notifier, &later, &env)
            .await
            .unwrap();
        let states: Vec<(&str, AlertState)> = again
            .iter()
            .map(|a| (a.channel.as_str(), a.state))
            .collect();
        assert_eq!(states, [("down", AlertState::Delivered)]);
        let rows = store.alerts(&[AlertState::Delivered], 10).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.channel.as_str(), r.attempts))
                .collect::<Vec<_>>(),
            [("down", 2), ("ok", 1)]
        );
    }

    #[test]
    fn notes_name_the_snapshot() {
        assert_eq!(
            Recurrence::Revert { of: SnapshotId(3) }.note(),
            "Revert: the content equals that of snapshot 3."
        );
        assert_eq!(
            Recurrence::Alternating {
                of: SnapshotId(4),
                since: SnapshotId(2)
            }
            .of(),
            SnapshotId(4)
        );
    }
}
