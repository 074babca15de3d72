//! Alert policy, as pure functions: which revisions alert ([`should_alert`]
//! under a target's [`AlertRules`]) and when a run of failed checks does
//! ([`health_transition`]): exactly one "failing" alert after N consecutive
//! failures, and one "recovered" alert when a check works again.

use serde::{Deserialize, Serialize};

use crate::report::Redline;
use crate::revision::{BlockChangeKind, RevisionKind, SectionChange};

/// A target's `[target.alerts]` table.
///
/// ```toml
/// [target.alerts]
/// kinds = ["revised", "silent-edit", "changed"]   # the default; `stamp-only` is quiet
/// min_words = 5                        # optional: words added + removed
/// failures_before_alert = 3            # the default
/// reordered = false                    # the default: list reorders alone are quiet
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertRules {
    /// Revision kinds that alert.
    pub kinds: Vec<RevisionKind>,
    /// The smallest change that alerts, in words added + removed; `None` alerts
    /// on any size.
    pub min_words: Option<usize>,
    /// Consecutive failed checks before one "failing" alert (0 counts as 1).
    pub failures_before_alert: u32,
    /// Whether a revision whose only changes are reordered lists alerts.
    pub reordered: bool,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            kinds: vec![
                RevisionKind::Revised,
                RevisionKind::SilentEdit,
                RevisionKind::Changed,
            ],
            min_words: None,
            failures_before_alert: 3,
            reordered: false,
        }
    }
}

/// True when `redline`'s revision should be sent under `rules`: its kind is
/// listed, it is at least `min_words` words big (stamp-only revisions have no
/// size and skip this test), and it is more than a list reorder (unless
/// `reordered` is set).
pub fn should_alert(redline: &Redline, rules: &AlertRules) -> bool {
    let rev = &redline.revision;
    if !rules.kinds.contains(&rev.kind) {
        return false;
    }
    if rev.kind == RevisionKind::StampOnly {
        return true;
    }
    if let Some(min) = rules.min_words {
        let size = rev.summary.words_added + rev.summary.words_removed;
        if size < min {
            return false;
        }
    }
    if !rules.reordered && only_reordered(redline) {
        return false;
    }
    true
}

/// True when every changed section is an in-place modification whose block
/// changes are all list reorders.
fn only_reordered(redline: &Redline) -> bool {
    let sections = &redline.revision.sections;
    !sections.is_empty()
        && sections.iter().all(|s| {
            s.change == SectionChange::Modified
                && !s.moved
                && !s.blocks.is_empty()
                && s.blocks
                    .iter()
                    .all(|b| b.change == BlockChangeKind::Reordered)
        })
}

/// Whether a target's checks are failing or work again.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum HealthState {
    /// N consecutive checks failed.
    Failing,
    /// A check worked after a "failing" alert.
    Recovered,
}

impl HealthState {
    /// `failing` or `recovered`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A health change to announce, from [`health_transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthChange {
    /// Failing or recovered.
    pub state: HealthState,
    /// For `failing`: the failures so far, this one included. For `recovered`:
    /// how many consecutive failures preceded the good check.
    pub consecutive_failures: u32,
}

/// Decides whether this check's outcome announces a health change.
///
/// - `prev_consecutive_failures`: failed checks in a row before this one.
/// - `now_failed`: whether this check failed.
/// - `already_alerted`: whether a "failing" alert was already sent for the
///   current run of failures (and no "recovered" since).
///
/// Returns `Failing` once, on the check that makes the run reach
/// `rules.failures_before_alert` (or the first failing check after that, if
/// none was sent), `Recovered` on the first good check after a "failing" alert,
/// and `None` otherwise; never one per run.
pub fn health_transition(
    prev_consecutive_failures: u32,
    now_failed: bool,
    already_alerted: bool,
    rules: &AlertRules,
) -> Option<HealthChange> {
    let threshold = rules.failures_before_alert.max(1);
    if now_failed {
        let consecutive = prev_consecutive_failures.saturating_add(1);
        (consecutive >= threshold && !already_alerted).then_some(HealthChange {
            state: HealthState::Failing,
            consecutive_failures: consecutive,
        })
    } else {
        already_alerted.then_some(HealthChange {
            state: HealthState::Recovered,
            consecutive_failures: prev_consecutive_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{BlockKind, SectionKey};
    use crate::revision::{BlockChange, ChangeSummary, Revision, SectionDiff};

    fn redline(
        kind: RevisionKind,
        added: usize,
        removed: usize,
        blocks: &[BlockChangeKind],
    ) -> Redline {
        let sections = if blocks.is_empty() {
            Vec::new()
        } else {
            vec![SectionDiff {
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
                blocks: blocks
                    .iter()
                    .map(|&change| BlockChange {
                        change,
                        kind: BlockKind::ListItem,
                        old_index: Some(0),
                        new_index: Some(0),
                        old_text: None,
                        new_text: Some("x".into()),
                        spans: Vec::new(),
                        moved_from: None,
                        moved_to: None,
                        links: Vec::new(),
                    })
                    .collect(),
            }]
        };
        Redline {
            target: "t".into(),
            url: "https://example.org/".into(),
            title: None,
            old_captured_at: None,
            new_captured_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            old_snapshot: None,
            new_snapshot: None,
            revision: Revision {
                kind,
                old_stamp: None,
                new_stamp: None,
                summary: ChangeSummary {
                    words_added: added,
                    words_removed: removed,
                    ..Default::default()
                },
                sections,
                unchanged: Vec::new(),
                degraded: None,
            },
            notes: Vec::new(),
            link: None,
        }
    }

    #[test]
    fn should_alert_follows_kinds_size_and_reorders() {
        use BlockChangeKind::{Reordered, Replaced};
        use RevisionKind::{Revised, SilentEdit, StampOnly};
        let default = AlertRules::default();
        let min5 = AlertRules {
            min_words: Some(5),
            ..AlertRules::default()
        };
        let all = AlertRules {
            kinds: vec![Revised, SilentEdit, StampOnly],
            reordered: true,
            ..AlertRules::default()
        };
        let cases: [(&str, Redline, &AlertRules, bool); 10] = [
            (
                "revised alerts",
                redline(Revised, 3, 1, &[Replaced]),
                &default,
                true,
            ),
            (
                "silent edit alerts",
                redline(SilentEdit, 1, 0, &[Replaced]),
                &default,
                true,
            ),
            (
                "stamp-only is quiet by default",
                redline(StampOnly, 0, 0, &[]),
                &default,
                false,
            ),
            (
                "stamp-only when asked",
                redline(StampOnly, 0, 0, &[]),
                &all,
                true,
            ),
            (
                "below min_words",
                redline(Revised, 2, 2, &[Replaced]),
                &min5,
                false,
            ),
            (
                "at min_words",
                redline(Revised, 3, 2, &[Replaced]),
                &min5,
                true,
            ),
            (
                "reorder only is quiet",
                redline(Revised, 0, 0, &[Reordered, Reordered]),
                &default,
                false,
            ),
            (
                "reorder plus edit alerts",
                redline(Revised, 1, 1, &[Reordered, Replaced]),
                &default,
                true,
            ),
            (
                "reorder only when asked",
                redline(SilentEdit, 0, 0, &[Reordered]),
                &all,
                true,
            ),
            (
                "kind not listed",
                redline(SilentEdit, 9, 9, &[Replaced]),
                &AlertRules {
                    kinds: vec![Revised],
                    ..AlertRules::default()
                },
                false,
            ),
        ];
        for (name, r, rules, want) in cases {
            assert_eq!(should_alert(&r, rules), want, "{name}");
        }
    }

    #[test]
    fn rules_parse_with_defaults_and_deny_unknown_keys() {
        let cases = [
            ("", AlertRules::default()),
            (
                "kinds = [\"revised\", \"stamp-only\"]\nmin_words = 4\nfailures_before_alert = 5\n",
                AlertRules {
                    kinds: vec![RevisionKind::Revised, RevisionKind::StampOnly],
                    min_words: Some(4),
                    failures_before_alert: 5,
                    reordered: false,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(toml::from_str::<AlertRules>(text).unwrap(), want, "{text}");
        }
        let err = toml::from_str::<AlertRules>("min_word = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `min_word`"), "{err}");
        let err = toml::from_str::<AlertRules>("kinds = [\"typo\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `typo`"), "{err}");
    }

    /// Drives a sequence of check outcomes through the policy the way the
    /// monitor will, and returns the alerts raised at each step.
    fn run(outcomes: &[bool], rules: &AlertRules) -> Vec<Option<HealthChange>> {
        let (mut failures, mut alerted) = (0u32, false);
        outcomes
            .iter()
            .map(|&failed| {
                let t = health_transition(failures, failed, alerted, rules);
                match t.map(|a| a.state) {
                    Some(HealthState::Failing) => alerted = true,
                    Some(HealthState::Recovered) => alerted = false,
                    None => {}
                }
                failures = if failed { failures + 1 } else { 0 };
                t
            })
            .collect()
    }

    #[test]
    fn one_failing_and_one_recovered_alert_per_episode() {
        let failing = |n| {
            Some(HealthChange {
                state: HealthState::Failing,
                consecutive_failures: n,
            })
        };
        let recovered = |n| {
            Some(HealthChange {
                state: HealthState::Recovered,
                consecutive_failures: n,
            })
        };
        let default = AlertRules::default();
        let one = AlertRules {
            failures_before_alert: 1,
            ..AlertRules::default()
        };
        let zero = AlertRules {
            failures_before_alert: 0,
            ..AlertRules::default()
        };
        // true = the check failed
        type Case<'a> = (
            &'a str,
            &'a [bool],
            &'a AlertRules,
            Vec<Option<HealthChange>>,
        );
        let cases: [Case; 6] = [
            ("all good", &[false, false], &default, vec![None, None]),
            (
                "two failures stay quiet",
                &[true, true, false],
                &default,
                vec![None, None, None],
            ),
            (
                "3 failures, 1 alert, 1 recovery",
                &[true, true, true, true, true, false, false],
                &default,
                vec![None, None, failing(3), None, None, recovered(5), None],
            ),
            (
                "two episodes",
                &[true, true, true, false, true, true, true],
                &default,
                vec![None, None, failing(3), recovered(3), None, None, failing(3)],
            ),
            (
                "threshold 1",
                &[true, false],
                &one,
                vec![failing(1), recovered(1)],
            ),
            (
                "threshold 0 counts as 1",
                &[true, true],
                &zero,
                vec![failing(1), None],
            ),
        ];
        for (name, outcomes, rules, want) in cases {
            assert_eq!(run(outcomes, rules), want, "{name}");
        }
    }

    #[test]
    fn late_failing_alert_when_none_was_sent() {
        // e.g. the threshold was raised, then lowered: still exactly one alert
        let rules = AlertRules::default();
        assert_eq!(
            health_transition(7, true, false, &rules),
            Some(HealthChange {
                state: HealthState::Failing,
                consecutive_failures: 8
            })
        );
        assert_eq!(health_transition(7, true, true, &rules), None);
        assert_eq!(health_transition(7, false, false, &rules), None);
    }
}
