//! The alert outbox: alerts waiting for delivery, and every delivery attempt.
//!
//! An alert is written in the same SQLite transaction as the check that
//! raised it (and the snapshot and revision, for a change): a revision is
//! never recorded without its alerts, nor an alert without its revision.
//! One row per alert × channel, keyed by the idempotency key the receiver
//! sees (`<alert key>:<channel>`, unique), so a revision can't be queued twice
//! for one channel.
//!
//! Row states:
//!
//! ```text
//! pending ──claim──► sending ──ok──────────► delivered
//!    ▲                  │ ──transient──► pending (next_attempt_at = now + backoff)
//!    │                  │ ──permanent──► failed
//!    └─lease expired────┘ (process killed mid-send: taken over, same key)
//! pending/sending past expires_at ──► expired
//! ```
//!
//! A claim ([`Store::claim_next_alert`]) runs in an immediate (write-locked)
//! transaction (on PostgreSQL, `SELECT … FOR UPDATE SKIP LOCKED`, so workers
//! on several machines claim side by side) and sets a lease, so two
//! overlapping runs never send one alert at once; a run that dies mid-send leaves the lease to run out, and the next
//! run sends again with the same key (at-least-once; the key lets the
//! receiver drop the repeat).
//!
//! The failure policy ([`health_transition`]) is evaluated inside the check's
//! transaction from the `checks` table (consecutive failed checks) and the
//! `alerts` table (was a "failing" alert raised since the last "recovered").

use super::db::{self, Connection, OptionalExtension, Row, params};
use crate::ids::{AlertId, CheckId, RevisionId, SnapshotId};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::{
    Cached, CheckInsert, CheckRecord, Store, StoreError, get_timestamp, insert_check, parse_text,
    ts, upsert_target,
};
use crate::notify::{Alert, AlertRules, DeliveryResult, HealthState, health_transition};
use crate::report::Redline;

/// What an alert announces. Stored as the kebab-case string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AlertKind {
    /// A revision to new content.
    Revision,
    /// A revision back to the content of an earlier snapshot.
    Revert,
    /// The page flips between two known versions (sent once per run of flips).
    Alternating,
    /// N consecutive checks failed.
    Failing,
    /// A check worked after a "failing" alert.
    Recovered,
}

impl AlertKind {
    /// The stored name (`revision`, `revert`, `alternating`, `failing`, `recovered`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where an alert is in its delivery. Stored as the lowercase string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AlertState {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    /// Claimed by a run until `lease_until`.
    Sending,
    /// The receiver accepted it.
    Delivered,
    /// A permanent failure (404, bad address); `alerts --retry` queues it again.
    Failed,
    /// Not delivered before `expires_at`.
    Expired,
}

impl AlertState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The alerts a check may raise for one target, handed to
/// [`Store::record_check_alerting`] or
/// [`NewSnapshot::alerts`](super::NewSnapshot::alerts) so they are written in
/// the check's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertPlan {
    /// The target's channel ids (`channels = [...]`); no channels, no alerts.
    pub channels: Vec<String>,
    /// The target's rules (`failures_before_alert` is applied here).
    pub rules: AlertRules,
    /// When the alerts are created (the check's clock).
    pub created_at: Timestamp,
    /// How long an undelivered alert is tried before it expires.
    pub expire_after: SignedDuration,
    /// The revision to announce, when the check found one that alerts (only
    /// used with a new snapshot; its `new_snapshot` is filled in by the store).
    pub revision: Option<PlannedRevision>,
}

/// A revision alert decided by the planner.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRevision {
    /// The redline (its `new_snapshot` id is set once the snapshot row exists).
    pub redline: Redline,
    /// [`AlertKind::Revision`], [`AlertKind::Revert`] or [`AlertKind::Alternating`].
    pub kind: AlertKind,
    /// For reverts and alternations: the earlier snapshot whose content came back.
    pub revert_of: Option<SnapshotId>,
}

/// One row of the `alerts` table (the payload left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    /// Alert id.
    pub id: AlertId,
    /// Target id.
    pub target: String,
    /// Channel id.
    pub channel: String,
    /// What it announces.
    pub kind: AlertKind,
    /// Where it is in its delivery.
    pub state: AlertState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (for `pending`).
    pub next_attempt_at: Timestamp,
    /// The end of the current claim (for `sending`).
    pub lease_until: Option<Timestamp>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When a receiver accepted it.
    pub delivered_at: Option<Timestamp>,
    /// When it stops being retried.
    pub expires_at: Option<Timestamp>,
    /// The last attempt's error (secrets redacted by the channel code).
    pub last_error: Option<String>,
    /// The key the receiver sees.
    pub idempotency_key: String,
    /// The revision announced, if any.
    pub revision_id: Option<RevisionId>,
    /// The snapshot concerned, if any.
    pub snapshot_id: Option<SnapshotId>,
}

/// An alert claimed for sending: its row and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedAlert {
    /// The row as it was before the claim (state, attempts).
    pub row: AlertRow,
    /// The alert to send.
    pub alert: Alert,
}

/// One row of the `deliveries` table: one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    /// Attempt id.
    pub id: i64,
    /// The alert.
    pub alert_id: AlertId,
    /// When it began.
    pub attempted_at: Timestamp,
    /// True when the receiver accepted it.
    pub ok: bool,
    /// HTTP status, SMTP reply code or exit code.
    pub status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

const ALERT_COLUMNS: &str = "id, target_id, channel_id, kind, state, attempts, next_attempt_at, \
     lease_until, created_at, delivered_at, expires_at, last_error, idempotency_key, revision_id, \
     snapshot_id";

impl Store {
    /// Records a check that stored no new snapshot (as
    /// [`Store::record_check`]) and, in the same transaction, the health alert
    /// `plan` calls for: "failing" when this failed check makes the run of
    /// failures reach `failures_before_alert` (once per run), "recovered" when
    /// this good check follows a "failing" alert.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad target id; [`StoreError::Database`].
    pub fn record_check_alerting(
        &mut self,
        c: &CheckRecord,
        plan: Option<&AlertPlan>,
    ) -> Result<CheckId, StoreError> {
        self.check_target(&c.target)?;
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let tx = self.write_unit()?;
        upsert_target(&tx, &c.target, &c.url, c.started_at).map_err(sql)?;
        let failed = c.outcome == super::CheckOutcome::Failed;
        let id = insert_check(
            &tx,
            &CheckInsert {
                target: &c.target,
                url: &c.url,
                started_at: c.started_at,
                duration_ms: c.duration_ms,
                outcome: c.outcome,
                final_url: c.final_url.as_deref(),
                http_status: c.http_status,
                error: c.error.as_deref(),
                snapshot_id: c.snapshot_id,
                revision_id: None,
                note: c.note.as_deref(),
            },
        )
        .map_err(sql)?;
        if let Some(plan) = plan {
            let ids = Ids {
                check: id,
                snapshot: c.snapshot_id,
                revision: None,
            };
            enqueue_health(
                &tx,
                &c.target,
                &c.url,
                &ids,
                failed,
                c.error.as_deref(),
                plan,
            )?;
        }
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    /// Alerts in the given states (all when `states` is empty), newest first,
    /// at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn alerts(&self, states: &[AlertState], limit: usize) -> Result<Vec<AlertRow>, StoreError> {
        let filter = if states.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("WHERE state IN ({})", list.join(", "))
        };
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY id DESC LIMIT ?1");
        let mut st = self.conn.prepare(&sql).map_err(self.sql())?;
        let rows = st
            .query_map([super::limit_param(limit)], alert_row)
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The delivery attempts of one alert, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn deliveries(&self, alert_id: AlertId) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, alert_id, attempted_at, ok, http_status, error, duration_ms
                 FROM deliveries WHERE alert_id = ?1 ORDER BY id",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([alert_id], |r| {
                Ok(DeliveryRow {
                    id: r.get(0)?,
                    alert_id: r.get(1)?,
                    attempted_at: get_timestamp(r, 2)?,
                    ok: r.get(3)?,
                    status: r.get(4)?,
                    error: r.get(5)?,
                    duration_ms: r.get(6)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// True when an "alternating" alert was raised for the target on a
    /// snapshot with id `>= since_snapshot` (the current run of flips).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn alternating_alerted_since(
        &self,
        target: &str,
        since_snapshot: SnapshotId,
    ) -> Result<bool, StoreError> {
        self.conn
            .cached_row(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE target_id = ?1
                 AND kind = 'alternating' AND snapshot_id >= ?2)",
                params![target, since_snapshot],
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    /// Claims the next alert due at `now` with an id above `after_id`: a
    /// `pending` one whose `next_attempt_at` has come, or a `sending` one whose
    /// lease ran out (its run died mid-send). First marks `expired` every
    /// unclaimed alert past its `expires_at`. The claim sets `sending` and
    /// `lease_until = now + lease(channel id)` in one immediate transaction, so
    /// an overlapping run can't claim the same alert.
    ///
    /// Returns `None` when nothing is due.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Invalid`] for an unreadable payload
    /// (that alert is marked `failed` first, so it is not claimed again).
    pub fn claim_next_alert(
        &mut self,
        now: Timestamp,
        after_id: AlertId,
        lease: &dyn Fn(&str) -> SignedDuration,
    ) -> Result<Option<ClaimedAlert>, StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let now_s = ts(now);
        let tx = self.conn.immediate_transaction().map_err(sql)?;
        let expired = tx
            .cached_execute(
                "UPDATE alerts SET state = 'expired', lease_until = NULL,
                        last_error = COALESCE(last_error, 'expired before any attempt')
                 WHERE expires_at IS NOT NULL AND expires_at <= ?1
                   AND (state = 'pending' OR (state = 'sending' AND lease_until <= ?1))",
                [&now_s],
            )
            .map_err(sql)?;
        if expired > 0 {
            tracing::warn!(alerts = expired, "undelivered alerts expired");
        }
        let found = tx
            .cached_row(
                &format!(
                    "SELECT {ALERT_COLUMNS}, payload_json FROM alerts
                     WHERE id > ?2 AND ((state = 'pending' AND next_attempt_at <= ?1)
                        OR (state = 'sending' AND lease_until <= ?1))
                     ORDER BY id LIMIT 1{}",
                    // PostgreSQL: workers claim at once; each skips the
                    // rows another is claiming (SQLite's transaction is
                    // write-locked, so claims there take turns).
                    if tx.dialect() == db::Dialect::Postgres {
                        " FOR UPDATE SKIP LOCKED"
                    } else {
                        ""
                    }
                ),
                params![now_s, after_id],
                |r| Ok((alert_row(r)?, r.get::<_, String>(15)?)),
            )
            .optional()
            .map_err(sql)?;
        let Some((row, payload)) = found else {
            tx.commit().map_err(sql)?;
            return Ok(None);
        };
        let alert = match serde_json::from_str::<Alert>(&payload) {
            Ok(a) => a,
            Err(e) => {
                let message = format!("alert {}: unreadable payload: {e}", row.id);
                tx.cached_execute(
                    "UPDATE alerts SET state = 'failed', last_error = ?2 WHERE id = ?1",
                    params![row.id, message],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                return Err(StoreError::Invalid {
                    path: index.clone(),
                    message,
                });
            }
        };
        let until = now.checked_add(lease(&row.channel)).unwrap_or(now);
        tx.cached_execute(
            "UPDATE alerts SET state = 'sending', lease_until = ?2 WHERE id = ?1",
            params![row.id, ts(until)],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Some(ClaimedAlert { row, alert }))
    }

    /// Records one attempt of alert `id` and moves the alert on: `delivered`
    /// when `result.ok`, back to `pending` until `retry_at` for a transient
    /// failure, `failed` for a permanent one. Returns the new state.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn record_attempt(
        &mut self,
        id: AlertId,
        attempted_at: Timestamp,
        duration_ms: i64,
        result: &DeliveryResult,
        retry_at: Timestamp,
    ) -> Result<AlertState, StoreError> {
        let index = self.index.display().to_string();
        let sql = |source| StoreError::Database {
            path: index.clone(),
            source,
        };
        let state = if result.ok {
            AlertState::Delivered
        } else if result.transient {
            AlertState::Pending
        } else {
            AlertState::Failed
        };
        let tx = self.write_unit()?;
        tx.cached_execute(
            "INSERT INTO deliveries (alert_id, attempted_at, ok, http_status, error, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                ts(attempted_at),
                result.ok,
                result.status,
                result.error,
                duration_ms
            ],
        )
        .map_err(sql)?;
        let finished = attempted_at
            .checked_add(SignedDuration::from_millis(duration_ms))
            .unwrap_or(attempted_at);
        tx.cached_execute(
            "UPDATE alerts SET state = ?2, attempts = attempts + 1, lease_until = NULL,
                    next_attempt_at = ?3, delivered_at = ?4,
                    last_error = coalesce(?5, last_error)
             WHERE id = ?1",
            params![
                id,
                state.as_str(),
                ts(if state == AlertState::Pending {
                    retry_at
                } else {
                    finished
                }),
                result.ok.then(|| ts(finished)),
                result.error,
            ],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(state)
    }

    /// Makes every `pending` alert due at `now` (ignoring its backoff) and
    /// queues every `failed` one again. Returns how many alerts were touched.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn retry_alerts_now(&mut self, now: Timestamp) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE alerts SET state = 'pending', next_attempt_at = ?1
                 WHERE state IN ('pending', 'failed')",
                [ts(now)],
            )
            .map_err(self.sql())
    }
}

/// The rows an alert belongs to.
struct Ids {
    check: CheckId,
    snapshot: Option<SnapshotId>,
    revision: Option<RevisionId>,
}

/// Inside [`Store::record_snapshot`]'s transaction: the revision alert of
/// `plan` (if any) for each channel, then the health alert a good check may
/// raise ("recovered").
pub(super) fn enqueue_for_snapshot(
    tx: &Connection,
    target: &str,
    url: &str,
    plan: &AlertPlan,
    ids: (SnapshotId, Option<RevisionId>, CheckId),
    report_location: &str,
    location_is_link: bool,
) -> Result<(), StoreError> {
    let (snapshot_id, revision_id, check_id) = ids;
    let ids = Ids {
        check: check_id,
        snapshot: Some(snapshot_id),
        revision: revision_id,
    };
    if let (Some(planned), Some(_)) = (&plan.revision, revision_id) {
        let mut redline = planned.redline.clone();
        redline.new_snapshot = Some(snapshot_id);
        if location_is_link {
            redline.link = Some(report_location.to_string());
        }
        let mut alert = Alert::revision(redline, Some(report_location.to_string()));
        if let Alert::Revision(r) = &mut alert {
            r.revert_of = planned.revert_of;
            r.alternating = planned.kind == AlertKind::Alternating;
        }
        insert_alerts(tx, target, &ids, planned.kind, &alert, plan)?;
    }
    enqueue_health(tx, target, url, &ids, false, None, plan)
}

/// The failure policy, evaluated from the store: this check (`failed` or
/// not) against the run of failed checks before it and the last health alert.
fn enqueue_health(
    tx: &Connection,
    target: &str,
    url: &str,
    ids: &Ids,
    failed: bool,
    error: Option<&str>,
    plan: &AlertPlan,
) -> Result<(), StoreError> {
    if plan.channels.is_empty() {
        return Ok(());
    }
    let sql = sql_err(tx);
    let run = failure_run(tx, target, ids.check).map_err(&sql)?;
    let last_health: Option<String> = tx
        .cached_row(
            "SELECT kind FROM alerts WHERE target_id = ?1 AND kind IN ('failing', 'recovered')
             ORDER BY id DESC LIMIT 1",
            [target],
            |r| r.get(0),
        )
        .optional()
        .map_err(&sql)?;
    let already = last_health.as_deref() == Some("failing");
    let Some(change) = health_transition(run.count, failed, already, &plan.rules) else {
        return Ok(());
    };
    let this_started: Timestamp = tx
        .cached_row(
            "SELECT started_at FROM checks WHERE id = ?1",
            [ids.check],
            |r| get_timestamp(r, 0),
        )
        .map_err(&sql)?;
    let since = run.since.unwrap_or(this_started);
    let (kind, last_error) = match change.state {
        HealthState::Failing => (AlertKind::Failing, error.map(str::to_string)),
        HealthState::Recovered => (AlertKind::Recovered, run.last_error),
    };
    let alert = Alert::health(change, target, url, last_error, since);
    insert_alerts(tx, target, ids, kind, &alert, plan)
}

/// The consecutive failed checks before check `except`, newest first.
struct FailureRun {
    count: u32,
    /// When the run began (its oldest check).
    since: Option<Timestamp>,
    /// The newest failure's error.
    last_error: Option<String>,
}

fn failure_run(tx: &Connection, target: &str, except: CheckId) -> db::Result<FailureRun> {
    let mut st = tx.prepare_cached(
        "SELECT outcome, started_at, error FROM checks WHERE target_id = ?1 AND id != ?2
         ORDER BY started_at DESC, id DESC",
    )?;
    let mut run = FailureRun {
        count: 0,
        since: None,
        last_error: None,
    };
    st.query_while(params![target, except], |r| {
        let outcome: String = r.get(0)?;
        if outcome != super::CheckOutcome::Failed.as_str() {
            return Ok(false);
        }
        if run.count == 0 {
            run.last_error = r.get(2)?;
        }
        run.count = run.count.saturating_add(1);
        run.since = Some(get_timestamp(r, 1)?);
        Ok(true)
    })?;
    Ok(run)
}

/// One row per channel; a key already queued is left alone (`INSERT OR IGNORE`).
fn insert_alerts(
    tx: &Connection,
    target: &str,
    ids: &Ids,
    kind: AlertKind,
    alert: &Alert,
    plan: &AlertPlan,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(alert).map_err(|e| StoreError::Invalid {
        path: tx.path().unwrap_or_default().to_string(),
        message: format!("target `{target}`: alert not serialisable: {e}"),
    })?;
    let created = ts(plan.created_at);
    let expires = plan.created_at.checked_add(plan.expire_after).ok().map(ts);
    for channel in &plan.channels {
        tx.cached_execute(
            "INSERT OR IGNORE INTO alerts (target_id, revision_id, snapshot_id, check_id,
                    channel_id, kind, idempotency_key, payload_json, state, next_attempt_at,
                    created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9, ?10)",
            params![
                target,
                ids.revision,
                ids.snapshot,
                ids.check,
                channel,
                kind.as_str(),
                alert.idempotency_key(channel),
                payload,
                created,
                expires,
            ],
        )
        .map_err(sql_err(tx))?;
        tracing::debug!(target = target, channel = %channel, kind = %kind, "alert queued");
    }
    Ok(())
}

fn sql_err(tx: &Connection) -> impl Fn(db::DbError) -> StoreError {
    let path = tx.path().unwrap_or_default().to_string();
    move |source| StoreError::Database {
        path: path.clone(),
        source,
    }
}

fn alert_row(r: &Row<'_>) -> db::Result<AlertRow> {
    let kind: String = r.get(3)?;
    let state: String = r.get(4)?;
    Ok(AlertRow {
        id: r.get(0)?,
        target: r.get(1)?,
        channel: r.get(2)?,
        kind: kind
            .parse::<AlertKind>()
            .map_err(|_| super::bad_value(3, "alert kind", &kind))?,
        state: state
            .parse::<AlertState>()
            .ok()
            .ok_or_else(|| super::bad_value(4, "alert state", &state))?,
        attempts: r.get(5)?,
        next_attempt_at: get_timestamp(r, 6)?,
        lease_until: parse_text(r, 7, "timestamp")?,
        created_at: get_timestamp(r, 8)?,
        delivered_at: parse_text(r, 9, "timestamp")?,
        expires_at: parse_text(r, 10, "timestamp")?,
        last_error: r.get(11)?,
        idempotency_key: r.get(12)?,
        revision_id: r.get(13)?,
        snapshot_id: r.get(14)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{self, DiffOptions};
    use crate::document::Document;
    use crate::fetch::{FetchedPage, Validators};
    use crate::notify::{Alert, AlertRules};
    use crate::store::{CheckOutcome, NewSnapshot};
    use crate::target::Rules;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn page(text: &str) -> FetchedPage {
        FetchedPage {
            url: "https://example.org/p".into(),
            final_url: "https://example.org/p".into(),
            status: 200,
            content_type: Some("text/html".into()),
            charset: "utf-8".into(),
            charset_source: crate::fetch::CharsetSource::Header,
            malformed: 0,
            cut_mid_character: false,
            body: text.as_bytes().to_vec(),
            text: text.into(),
            validators: Validators::default(),
            fetched_at: at("2026-11-29T10:00:00Z"),
            close_delimited: false,
        }
    }

    fn doc(text: &str) -> Document {
        crate::extract::extract(text, None, &Rules::generic()).unwrap()
    }

    fn html(words: &str) -> String {
        format!(
            "<html><head><title>T</title></head><body><main><h1>T</h1>\
             <p>{words} and enough words to make a paragraph worth reading here.</p>\
             <h2>Next</h2><p>Another paragraph that stays the same in every version, long \
             enough for the generic rules to take this page for an article with content.</p>\
             </main></body></html>"
        )
    }

    fn plan(channels: &[&str], created_at: &str) -> AlertPlan {
        AlertPlan {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            rules: AlertRules::default(),
            created_at: at(created_at),
            expire_after: SignedDuration::from_hours(72),
            revision: None,
        }
    }

    fn check(outcome: CheckOutcome, started_at: &str) -> CheckRecord {
        CheckRecord {
            target: "t".into(),
            url: "https://example.org/p".into(),
            started_at: at(started_at),
            duration_ms: 10,
            outcome,
            final_url: None,
            http_status: (outcome == CheckOutcome::Failed).then_some(503),
            error: (outcome == CheckOutcome::Failed).then(|| "HTTP 503".to_string()),
            snapshot_id: None,
            note: None,
        }
    }

    fn kinds(store: &Store) -> Vec<(String, AlertKind)> {
        let mut rows = store.alerts(&[], 100).unwrap();
        rows.reverse();
        rows.into_iter().map(|r| (r.channel, r.kind)).collect()
    }

    #[test]
    fn failure_policy_runs_in_the_check_transaction() {
        use CheckOutcome::{Failed, Unchanged};
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        // (outcome, alerts raised by this check)
        let steps: [(CheckOutcome, &[AlertKind]); 9] = [
            (Unchanged, &[]),
            (Failed, &[]),
            (Failed, &[]),
            (Failed, &[AlertKind::Failing]),
            (Failed, &[]),
            (Unchanged, &[AlertKind::Recovered]),
            (Unchanged, &[]),
            (Failed, &[]),
            (Unchanged, &[]),
        ];
        let mut seen = 0;
        for (i, (outcome, want)) in steps.iter().enumerate() {
            let when = format!("2026-11-29T10:{i:02}:00Z");
            store
                .record_check_alerting(&check(*outcome, &when), Some(&plan(&["a", "b"], &when)))
                .unwrap();
            let all = kinds(&store);
            let new: Vec<AlertKind> = all[seen..].iter().map(|(_, k)| *k).collect();
            let doubled: Vec<AlertKind> = want.iter().flat_map(|k| [*k, *k]).collect();
            assert_eq!(new, doubled, "step {i}");
            seen = all.len();
        }
        let rows = store.alerts(&[AlertState::Pending], 10).unwrap();
        let keys: Vec<&str> = rows.iter().map(|r| r.idempotency_key.as_str()).collect();
        // the run of failures began at 10:01
        assert_eq!(
            keys,
            [
                "redliner:t:recovered:1795946460000:b",
                "redliner:t:recovered:1795946460000:a",
                "redliner:t:failing:1795946460000:b",
                "redliner:t:failing:1795946460000:a",
            ]
        );
        let failing = store
            .claim_next_alert(at("2026-11-29T11:00:00Z"), AlertId(0), &|_| {
                SignedDuration::from_secs(5)
            })
            .unwrap()
            .unwrap();
        match failing.alert {
            Alert::Health(s) => {
                assert_eq!(
                    (s.consecutive_failures, s.last_error.as_deref()),
                    (3, Some("HTTP 503"))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_channels_no_alerts() {
        let root = tempfile::tempdir().unwrap();
        let mut store = Store::open(root.path()).unwrap();
        for i in 0..4 {
            let when = format!("2026-11-29T10:0{i}:00Z");
            store
                .record_check_alerting(&check(CheckOutcome::Failed, &when), Some(&plan(&[], &when)))
                .unwrap();
        }
        assert_eq!(kinds(&store), []);
    }

    /// Records a baseline and a changed snapshot with a revision plan.
    fn changed_store(root: &std::path::Path, channels: &[&str]) -> (Store, SnapshotId) {
        let mut store = Store::open(root).unwrap();
        let (h1, h2) = (html("First version"), html("Second version"));
        let (p1, p2) = (page(&h1), page(&h2));
        let (d1, d2) = (doc(&h1), doc(&h2));
        let base = store
            .record_snapshot(NewSnapshot {
                target: "t",
                url: "https://example.org/p",
                page: &p1,
                document: &d1,
                captured_at: at("2026-11-29T10:00:00Z"),
                started_at: at("2026-11-29T10:00:00Z"),
                duration_ms: 1,
                previous: None,
                revision: None,
                redline_markdown: None,
                alerts: Some(&plan(channels, "2026-11-29T10:00:00Z")),
                technical: false,
                note: None,
                source_fingerprint: None,
                source_mask: None,
                content_hash: None,
                archived: None,
            })
            .unwrap();
        let revision = diff::revision(&d1, &d2, &DiffOptions::default()).unwrap();
        let redline = Redline {
            target: "t".into(),
            url: "https://example.org/p".into(),
            title: Some("T".into()),
            old_captured_at: None,
            new_captured_at: at("2026-11-30T10:00:00Z"),
            old_snapshot: Some(base.snapshot_id),
            new_snapshot: None,
            revision: revision.clone(),
            notes: Vec::new(),
            link: None,
        };
        let mut p = plan(channels, "2026-11-30T10:00:00Z");
        p.revision = Some(PlannedRevision {
            redline,
            kind: AlertKind::Revert,
            revert_of: Some(SnapshotId(7)),
        });
        let new = store
            .record_snapshot(NewSnapshot {
                target: "t",
                url: "https://example.org/p",
                page: &p2,
                document: &d2,
                captured_at: at("2026-11-30T10:00:00Z"),
                started_at: at("2026-11-30T10:00:00Z"),
                duration_ms: 1,
                previous: Some(base.snapshot_id),
                revision: Some(&revision),
                redline_markdown: Some("# Redline\n"),
                alerts: Some(&p),
                technical: false,
                note: None,
                source_fingerprint: None,
                source_mask: None,
                content_hash: None,
                archived: None,
            })
            .unwrap();
        (store, new.snapshot_id)
    }

    #[test]
    fn revision_alerts_are_queued_with_the_snapshot() {
        let root = tempfile::tempdir().unwrap();
        let (mut store, id) = changed_store(root.path(), &["hook", "mail"]);
        let rows = store.alerts(&[], 10).unwrap();
        let got: Vec<(String, AlertKind, String, Option<SnapshotId>)> = rows
            .iter()
            .map(|r| {
                (
                    r.channel.clone(),
                    r.kind,
                    r.idempotency_key.clone(),
                    r.snapshot_id,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "mail".to_string(),
                    AlertKind::Revert,
                    format!("redliner:t:{id}:mail"),
                    Some(id)
                ),
                (
                    "hook".to_string(),
                    AlertKind::Revert,
                    format!("redliner:t:{id}:hook"),
                    Some(id)
                ),
            ]
        );
        assert!(
            rows.iter()
                .all(|r| r.revision_id.is_some() && r.state == AlertState::Pending)
        );
        assert_eq!(rows[0].expires_at, Some(at("2026-12-03T10:00:00Z")));
        let claimed = store
            .claim_next_alert(at("2026-11-30T10:00:01Z"), AlertId(0), &|_| {
                SignedDuration::from_secs(5)
            })
            .unwrap()
            .unwrap();
        let Alert::Revision(r) = &claimed.alert else {
            panic!("{:?}", claimed.alert)
        };
        assert_eq!(
            (r.redline.new_snapshot, r.revert_of, r.alternating),
            (Some(id), Some(SnapshotId(7)), false)
        );
        let json = claimed.alert.to_json("hook");
        assert_eq!(json["revert_of"], serde_json::json!(7));
        assert_eq!(
            json["idempotency_key"],
            serde_json::json!(format!("redliner:t:{id}:hook"))
        );
    }

    #[test]
    fn claims_lease_retry_and_expire() {
        let root = tempfile::tempdir().unwrap();
        let (mut store, _) = changed_store(root.path(), &["hook"]);
        let lease = |_: &str| SignedDuration::from_secs(10);
        let t0 = at("2026-11-30T10:00:00Z");
        let plus = |s: i64| t0.checked_add(SignedDuration::from_secs(s)).unwrap();
        let first = store
            .claim_next_alert(t0, AlertId(0), &lease)
            .unwrap()
            .unwrap();
        assert_eq!(first.row.state, AlertState::Pending);
        // claimed: an overlapping run finds nothing, until the lease runs out
        assert_eq!(
            store.claim_next_alert(plus(5), AlertId(0), &lease).unwrap(),
            None
        );
        let again = store
            .claim_next_alert(plus(11), AlertId(0), &lease)
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                again.row.id,
                again.row.state,
                again.alert.idempotency_key("hook")
            ),
            (
                first.row.id,
                AlertState::Sending,
                first.alert.idempotency_key("hook")
            )
        );
        // a transient failure waits for its retry time
        let down = DeliveryResult::failed(None, "connection refused", true);
        let state = store
            .record_attempt(again.row.id, plus(11), 3, &down, plus(71))
            .unwrap();
        assert_eq!(state, AlertState::Pending);
        assert_eq!(
            store
                .claim_next_alert(plus(70), AlertId(0), &lease)
                .unwrap(),
            None
        );
        // `alerts --retry` ignores the backoff
        assert_eq!(store.retry_alerts_now(plus(20)).unwrap(), 1);
        let retried = store
            .claim_next_alert(plus(20), AlertId(0), &lease)
            .unwrap()
            .unwrap();
        assert_eq!(retried.row.attempts, 1);
        let ok = DeliveryResult::delivered(Some(200));
        assert_eq!(
            store
                .record_attempt(retried.row.id, plus(20), 4, &ok, plus(80))
                .unwrap(),
            AlertState::Delivered
        );
        assert_eq!(
            store
                .claim_next_alert(plus(1000), AlertId(0), &lease)
                .unwrap(),
            None
        );
        let row = &store.alerts(&[], 1).unwrap()[0];
        assert_eq!(
            (
                row.state,
                row.attempts,
                row.delivered_at,
                row.last_error.as_deref()
            ),
            (
                AlertState::Delivered,
                2,
                Some(at("2026-11-30T10:00:20.004Z")),
                Some("connection refused")
            )
        );
        let tries: Vec<(bool, Option<String>)> = store
            .deliveries(row.id)
            .unwrap()
            .into_iter()
            .map(|d| (d.ok, d.error))
            .collect();
        assert_eq!(
            tries,
            [(false, Some("connection refused".into())), (true, None)]
        );
    }

    #[test]
    fn permanent_failures_stop_and_old_alerts_expire() {
        let root = tempfile::tempdir().unwrap();
        let (mut store, _) = changed_store(root.path(), &["a", "b"]);
        let lease = |_: &str| SignedDuration::from_secs(10);
        let t0 = at("2026-11-30T10:00:00Z");
        let a = store
            .claim_next_alert(t0, AlertId(0), &lease)
            .unwrap()
            .unwrap();
        let gone = DeliveryResult::failed(Some(404), "HTTP 404", false);
        assert_eq!(
            store.record_attempt(a.row.id, t0, 1, &gone, t0).unwrap(),
            AlertState::Failed
        );
        // `after_id` makes one pass: the failed one is not offered again
        let b = store
            .claim_next_alert(t0, a.row.id, &lease)
            .unwrap()
            .unwrap();
        assert_ne!(b.row.id, a.row.id);
        // b's run died; past expires_at (72 h) it expires instead of being retried
        assert_eq!(
            store
                .claim_next_alert(at("2026-12-04T00:00:00Z"), AlertId(0), &lease)
                .unwrap(),
            None
        );
        let states: Vec<(String, AlertState)> = store
            .alerts(&[], 10)
            .unwrap()
            .into_iter()
            .map(|r| (r.channel, r.state))
            .collect();
        assert_eq!(
            states,
            [
                ("b".to_string(), AlertState::Expired),
                ("a".to_string(), AlertState::Failed)
            ]
        );
        assert_eq!(store.alerts(&[AlertState::Failed], 10).unwrap().len(), 1);
    }

    #[test]
    fn names_round_trip() {
        for k in [
            AlertKind::Revision,
            AlertKind::Revert,
            AlertKind::Alternating,
            AlertKind::Failing,
            AlertKind::Recovered,
        ] {
            assert_eq!(k.as_str().parse::<AlertKind>().ok(), Some(k));
        }
        for s in [
            AlertState::Pending,
            AlertState::Sending,
            AlertState::Delivered,
            AlertState::Failed,
            AlertState::Expired,
        ] {
            assert_eq!(s.as_str().parse::<AlertState>().ok(), Some(s));
        }
        assert_eq!("x".parse::<AlertKind>().ok(), None);
    }
}
