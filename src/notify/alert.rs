//! What is sent: an [`Alert`] is either a revision ([`RevisionAlert`]: a
//! redline and where its full report is) or a change in a target's health
//! ([`HealthAlert`]: "failing" after N failed checks, "recovered" after).
//!
//! Every alert has a stable key; [`Alert::idempotency_key`] appends the
//! channel id, giving the key a receiver can use to drop a repeat delivery:
//!
//! - revision: `redliner:<target>:<new_snapshot_id>:<channel>` when the new
//!   snapshot has a store id, else `redliner:<target>:r<16 hex>:<channel>`
//!   (a hash of the revision and its capture time);
//! - health: `redliner:<target>:failing:<since, unix milliseconds>:<channel>` and
//!   `...:recovered:...`;
//! - sample: `redliner:test-alert:<unix seconds>:<channel>`.

use crate::ids::SnapshotId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::policy::{HealthChange, HealthState};
use crate::document::{BlockKind, SectionKey};
use crate::report::Redline;
use crate::revision::{
    BlockChange, BlockChangeKind, ChangeSummary, Revision, RevisionKind, SectionChange,
    SectionDiff, Span, SpanTag,
};

/// One alert, independent of the channel it goes to. Its serde form (tagged
/// by `type`: `revision` or `status`) is for storing it in the outbox until
/// every channel has it; receivers get [`Alert::to_json_bytes`] instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Alert {
    /// A revision was found.
    Revision(Box<RevisionAlert>),
    /// A health alert: a target started failing or recovered. Stored in the
    /// outbox as `"type": "status"` (the name outboxes already hold).
    #[serde(rename = "status")]
    Health(HealthAlert),
}

/// A revision to announce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionAlert {
    /// The revision with its target, URL, title and capture times.
    pub redline: Redline,
    /// The channel-independent key (see the module docs).
    pub key: String,
    /// Where the full report is (the snapshot directory or a URL), quoted in
    /// messages that had to be cut.
    pub report_location: Option<String>,
    /// True for the sample sent by `redliner test-alert`.
    pub sample: bool,
    /// Set when the new content equals an earlier snapshot's (a revert to that
    /// snapshot, or one more flip of an alternating page): that snapshot's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_of: Option<SnapshotId>,
    /// True when the page flips between two known versions (sent once per
    /// run of flips).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alternating: bool,
}

impl RevisionAlert {
    /// The headline every channel shows: `<title>: <kind>`, then
    /// ` (alternating between two versions)` for an alternating page or
    /// ` (revert)` for a revert to an earlier snapshot.
    pub fn headline(&self) -> String {
        let base = super::text::headline(&self.redline);
        format!("{base}{}", self.headline_flag())
    }

    /// What [`RevisionAlert::headline`] appends to `<title>: <kind>`:
    /// ` (alternating between two versions)`, ` (revert)` or nothing. Channels
    /// that cut a long headline cut the title and keep this.
    pub fn headline_flag(&self) -> &'static str {
        if self.alternating {
            " (alternating between two versions)"
        } else if self.revert_of.is_some() {
            " (revert)"
        } else {
            ""
        }
    }
}

/// A change in a target's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAlert {
    /// `failing` or `recovered`.
    pub state: HealthState,
    /// The target id.
    pub target: String,
    /// The page URL as configured.
    pub url: String,
    /// Consecutive failed checks (for `recovered`: how many preceded it).
    pub consecutive_failures: u32,
    /// The last check's error message (for `recovered`: the last failure's).
    pub last_error: Option<String>,
    /// When the run of failures began.
    pub since: Timestamp,
    /// The channel-independent key (see the module docs).
    pub key: String,
}

impl HealthAlert {
    /// The sentence a health alert says, e.g. `The last 3 checks of URL failed
    /// (failing since 2026-11-14 10:00 UTC).` or `Checks of URL work again after 5
    /// failed checks (failing since ...).`
    pub fn sentence(&self) -> String {
        let s = self;
        let since = s.since.strftime("%Y-%m-%d %H:%M UTC");
        let n = s.consecutive_failures;
        let checks = if n == 1 { "check" } else { "checks" };
        match s.state {
            HealthState::Failing if n == 1 => {
                format!(
                    "The last check of {} failed (failing since {since}).",
                    s.url
                )
            }
            HealthState::Failing => {
                format!(
                    "The last {n} checks of {} failed (failing since {since}).",
                    s.url
                )
            }
            HealthState::Recovered => format!(
                "Checks of {} work again after {n} failed {checks} (failing since {since}).",
                s.url
            ),
        }
    }

    /// `Last error: ...` for a health alert that has one.
    pub fn error_line(&self) -> Option<String> {
        let s = self;
        s.last_error.as_ref().map(|e| format!("Last error: {e}"))
    }
}

impl Alert {
    /// A revision alert; the key comes from the new snapshot's store id, or a
    /// hash of the revision when it has none.
    pub fn revision(redline: Redline, report_location: Option<String>) -> Alert {
        let key = revision_key(&redline);
        Alert::Revision(Box::new(RevisionAlert {
            redline,
            key,
            report_location,
            sample: false,
            revert_of: None,
            alternating: false,
        }))
    }

    /// A health alert from a [`HealthChange`] decided by
    /// [`health_transition`](super::health_transition).
    pub fn health(
        change: HealthChange,
        target: &str,
        url: &str,
        last_error: Option<String>,
        since: Timestamp,
    ) -> Alert {
        Alert::Health(HealthAlert {
            state: change.state,
            target: target.to_string(),
            url: url.to_string(),
            consecutive_failures: change.consecutive_failures,
            last_error,
            since,
            key: format!(
                "redliner:{target}:{}:{}",
                change.state,
                since.as_millisecond()
            ),
        })
    }

    /// The sample sent by `redliner test-alert CHANNEL`: a small invented
    /// revision of an invented page, clearly labelled as a test, with a key
    /// unique to `now` so every test is delivered.
    pub fn sample(now: Timestamp) -> Alert {
        let span = |tag, text: &str| Span {
            tag,
            text: text.to_string(),
        };
        let redline = Redline {
            target: "redliner-test".into(),
            url: "https://example.org/redliner-test-alert".into(),
            title: Some("redliner test alert".into()),
            old_captured_at: None,
            new_captured_at: now,
            old_snapshot: None,
            new_snapshot: None,
            revision: Revision {
                kind: RevisionKind::Revised,
                old_stamp: None,
                new_stamp: None,
                summary: ChangeSummary {
                    sections_total: 1,
                    sections_modified: 1,
                    words_added: 2,
                    words_removed: 1,
                    ..ChangeSummary::default()
                },
                sections: vec![SectionDiff {
                    change: SectionChange::Modified,
                    key: SectionKey::lead(),
                    heading: "Lead".into(),
                    old_heading: None,
                    level: 0,
                    old_level: None,
                    kept: None,
                    old_position: Some(0),
                    new_position: Some(0),
                    moved: false,
                    blocks: vec![BlockChange {
                        change: BlockChangeKind::Replaced,
                        kind: BlockKind::Paragraph,
                        old_index: Some(0),
                        new_index: Some(0),
                        old_text: Some("This channel is not yet tested.".into()),
                        new_text: Some("This channel works as configured.".into()),
                        spans: vec![
                            span(SpanTag::Equal, "This channel "),
                            span(SpanTag::Delete, "is not yet tested."),
                            span(SpanTag::Insert, "works as configured."),
                        ],
                        moved_from: None,
                        moved_to: None,
                        links: Vec::new(),
                    }],
                }],
                unchanged: Vec::new(),
                degraded: None,
            },
            notes: Vec::new(),
            link: None,
        };
        Alert::Revision(Box::new(RevisionAlert {
            redline,
            key: format!("redliner:test-alert:{}", now.as_second()),
            report_location: None,
            sample: true,
            revert_of: None,
            alternating: false,
        }))
    }

    /// The channel-independent key.
    pub fn key(&self) -> &str {
        match self {
            Alert::Revision(r) => &r.key,
            Alert::Health(s) => &s.key,
        }
    }

    /// The key a receiver on channel `channel_id` sees: `<key>:<channel_id>`.
    pub fn idempotency_key(&self, channel_id: &str) -> String {
        format!("{}:{channel_id}", self.key())
    }

    /// `revision`, `failing` or `recovered`: the `alert` field of the JSON forms.
    pub fn alert_type(&self) -> &'static str {
        match self {
            Alert::Revision(_) => "revision",
            Alert::Health(s) => s.state.as_str(),
        }
    }

    /// The target id.
    pub fn target(&self) -> &str {
        match self {
            Alert::Revision(r) => &r.redline.target,
            Alert::Health(s) => &s.target,
        }
    }

    /// The page URL.
    pub fn url(&self) -> &str {
        match self {
            Alert::Revision(r) => &r.redline.url,
            Alert::Health(s) => &s.url,
        }
    }

    /// The revision kind (`revised`, ...) or the health state (`failing`, ...).
    pub fn kind_str(&self) -> &'static str {
        match self {
            Alert::Revision(r) => r.redline.revision.kind.as_str(),
            Alert::Health(s) => s.state.as_str(),
        }
    }

    /// One line naming the alert: `Relations with Belarus: revised`,
    /// `nato-belarus: failing`.
    pub fn headline(&self) -> String {
        match self {
            Alert::Revision(r) => r.headline(),
            Alert::Health(s) => format!("{}: {}", s.target, s.state),
        }
    }

    /// The JSON sent by the generic webhook and fed to commands, as bytes
    /// (pretty-printed, newline-terminated, fields in a fixed order):
    /// - revision: `alert` (`"revision"`), `idempotency_key`, `"test": true`
    ///   for samples, then every field of the documented redline JSON
    ///   ([`crate::report::json`], schema version
    ///   [`crate::report::SCHEMA_VERSION`]) in its order;
    /// - health: `alert` (`"failing"`/`"recovered"`), `idempotency_key`,
    ///   `target`, `url`, `consecutive_failures`, `last_error` (string or
    ///   null), `since` (RFC 3339 UTC).
    pub fn to_json_bytes(&self, channel_id: &str) -> Vec<u8> {
        let key = self.idempotency_key(channel_id);
        match self {
            Alert::Revision(r) => revision_json(r, &key),
            Alert::Health(s) => {
                let doc = HealthJson {
                    alert: s.state.as_str(),
                    idempotency_key: &key,
                    target: &s.target,
                    url: &s.url,
                    consecutive_failures: s.consecutive_failures,
                    last_error: s.last_error.as_deref(),
                    since: s.since.to_string(),
                };
                let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
                out.push(b'\n');
                out
            }
        }
    }

    /// [`Alert::to_json_bytes`] as a JSON value (object keys sorted).
    pub fn to_json(&self, channel_id: &str) -> Value {
        serde_json::from_slice(&self.to_json_bytes(channel_id)).unwrap_or(Value::Null)
    }
}

#[derive(Serialize)]
struct HealthJson<'a> {
    alert: &'a str,
    idempotency_key: &'a str,
    target: &'a str,
    url: &'a str,
    consecutive_failures: u32,
    last_error: Option<&'a str>,
    since: String,
}

/// The alert fields a revision's webhook body starts with.
#[derive(Serialize)]
struct RevisionHead<'a> {
    alert: &'static str,
    idempotency_key: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    test: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revert_of: Option<SnapshotId>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    alternating: bool,
}

/// The documented redline JSON with the alert fields first.
fn revision_json(alert: &RevisionAlert, key: &str) -> Vec<u8> {
    let head = RevisionHead {
        alert: "revision",
        idempotency_key: key,
        test: alert.sample,
        revert_of: alert.revert_of,
        alternating: alert.alternating,
    };
    let mut out = Vec::new();
    match crate::report::json_after(&head, &alert.redline, &mut out) {
        Ok(()) => out,
        // Writing to a Vec fails only if serialization does, which the
        // types rule out; the alert fields alone still identify it.
        Err(_) => {
            let mut out = serde_json::to_vec_pretty(&head).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}

fn revision_key(redline: &Redline) -> String {
    match redline.new_snapshot {
        Some(id) => format!("redliner:{}:{id}", redline.target),
        None => {
            let mut h = Sha256::new();
            h.update(redline.target.as_bytes());
            h.update(b"\x00");
            h.update(redline.new_captured_at.to_string().as_bytes());
            h.update(b"\x00");
            h.update(serde_json::to_vec(&redline.revision).unwrap_or_default());
            let digest = hex::encode(h.finalize());
            format!("redliner:{}:r{}", redline.target, &digest[..16])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::text::tests::example;
    use serde_json::json;

    fn failing() -> Alert {
        Alert::health(
            HealthChange {
                state: HealthState::Failing,
                consecutive_failures: 3,
            },
            "nato-belarus",
            "https://www.nato.int/x.htm",
            Some("HTTP 503 Service Unavailable".into()),
            "2026-11-14T10:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn keys() {
        let mut no_id = example();
        no_id.new_snapshot = None;
        let hashed = Alert::revision(no_id.clone(), None);
        let cases = [
            (
                Alert::revision(example(), None).idempotency_key("slack"),
                "redliner:nato-belarus:42:slack".to_string(),
            ),
            (
                failing().idempotency_key("mail"),
                "redliner:nato-belarus:failing:1794650400000:mail".to_string(),
            ),
            (
                Alert::sample("2026-11-14T10:00:00Z".parse().unwrap()).idempotency_key("x"),
                "redliner:test-alert:1794650400:x".to_string(),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        let k = hashed.key();
        assert!(
            k.starts_with("redliner:nato-belarus:r")
                && k.len() == "redliner:nato-belarus:r".len() + 16,
            "{k}"
        );
        // stable for the same revision, different for another
        assert_eq!(Alert::revision(no_id.clone(), None).key(), k);
        no_id.revision.summary.words_added += 1;
        assert_ne!(Alert::revision(no_id, None).key(), k);
    }

    #[test]
    fn status_json_is_exact() {
        let bytes = failing().to_json_bytes("hook");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{
  "alert": "failing",
  "idempotency_key": "redliner:nato-belarus:failing:1794650400000:hook",
  "target": "nato-belarus",
  "url": "https://www.nato.int/x.htm",
  "consecutive_failures": 3,
  "last_error": "HTTP 503 Service Unavailable",
  "since": "2026-11-14T10:00:00Z"
}
"#
        );
    }

    #[test]
    fn revision_json_is_the_rendered_redline_with_alert_fields_first() {
        let alert = Alert::revision(example(), None);
        let text = String::from_utf8(alert.to_json_bytes("hook")).unwrap();
        let mut rendered = Vec::new();
        crate::report::json(&example(), &mut rendered).unwrap();
        let rendered = String::from_utf8(rendered).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\n  \"alert\": \"revision\",\n  \"idempotency_key\": \"redliner:nato-belarus:42:hook\",{}",
                rendered.strip_prefix('{').unwrap()
            )
        );
        let v = alert.to_json("hook");
        assert_eq!(v["schema_version"], json!(crate::report::SCHEMA_VERSION));
        assert_eq!(v["kind"], json!("revised"));
        assert_eq!(v["new_snapshot"], json!(42));
        assert_eq!(v["idempotency_key"], json!("redliner:nato-belarus:42:hook"));
        assert_eq!(v.get("test"), None);

        let sample = Alert::sample("2026-11-14T10:00:00Z".parse().unwrap()).to_json("c");
        assert_eq!(sample["test"], json!(true));
        assert_eq!(sample["alert"], json!("revision"));
        assert_eq!(sample["target"], json!("redliner-test"));
    }

    #[test]
    fn alerts_round_trip_for_the_outbox() {
        let cases = [
            Alert::revision(example(), Some("snapshots/x".into())),
            failing(),
            Alert::sample("2026-11-14T10:00:00Z".parse().unwrap()),
        ];
        for a in cases {
            let stored = serde_json::to_string(&a).unwrap();
            assert_eq!(
                serde_json::from_str::<Alert>(&stored).unwrap(),
                a,
                "{stored}"
            );
        }
        let stored = serde_json::to_value(failing()).unwrap();
        assert_eq!(stored["type"], json!("status"));
        assert_eq!(stored["state"], json!("failing"));
    }

    #[test]
    fn accessors() {
        let r = Alert::revision(example(), None);
        let f = failing();
        let cases = [
            (r.alert_type(), "revision"),
            (r.kind_str(), "revised"),
            (r.target(), "nato-belarus"),
            (f.alert_type(), "failing"),
            (f.kind_str(), "failing"),
            (f.url(), "https://www.nato.int/x.htm"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert_eq!(r.headline(), "Relations with Belarus: revised 14 Nov. 2026");
        assert_eq!(f.headline(), "nato-belarus: failing");
    }

    #[test]
    fn headlines_flag_reverts_and_alternation() {
        let cases = [
            (None, false, "Relations with Belarus: revised 14 Nov. 2026"),
            (
                Some(SnapshotId(40)),
                false,
                "Relations with Belarus: revised 14 Nov. 2026 (revert)",
            ),
            (
                Some(SnapshotId(40)),
                true,
                "Relations with Belarus: revised 14 Nov. 2026 (alternating between two versions)",
            ),
        ];
        for (revert_of, alternating, want) in cases {
            let mut alert = Alert::revision(example(), None);
            let Alert::Revision(r) = &mut alert else {
                unreachable!()
            };
            r.revert_of = revert_of;
            r.alternating = alternating;
            assert_eq!(r.headline(), want);
            assert_eq!(alert.headline(), want);
        }
    }
}
