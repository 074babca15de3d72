//! Naming snapshots: how a user refers to one (`#id`, a capture time, a stamp
//! date) and how a snapshot directory gets a unique name within a second.

use super::*;
#[allow(clippy::wildcard_imports)]
use crate::ids::SnapshotId;

impl Store {
    /// The target's snapshots a name a person types stands for, newest first:
    /// none, one, or several (the caller says the name is ambiguous and lists
    /// them). The first rule that applies decides:
    ///
    /// 1. `latest`: the newest snapshot;
    /// 2. an id, `12` or `#12` (as `history` prints it);
    /// 3. a directory name (`2026-11-29T10-00-00Z-2`);
    /// 4. an RFC 3339 time: with a fraction, the snapshot captured at that
    ///    millisecond; to the second (`2026-11-29T10:35:45Z`, as `history`
    ///    prints it), every snapshot captured in that second and the snapshot
    ///    of every check started in it (the one on that `history` line);
    /// 5. a prefix of a capture time in UTC (`2026-11-29`, `2026-11-29T10`,
    ///    `2026-11-29T10:35`) or of a directory name (`2026-11-29T10-35`);
    /// 6. else the stamp's date (`2024-08-28`).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn resolve_snapshot(
        &self,
        target: &str,
        name: &str,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let name = name.trim();
        let all = self.snapshots(target)?;
        if name.is_empty() {
            return Ok(Vec::new());
        }
        if name.eq_ignore_ascii_case("latest") {
            return Ok(all.into_iter().take(1).collect());
        }
        let id_text = name.strip_prefix('#').unwrap_or(name);
        if !id_text.is_empty() && id_text.bytes().all(|b| b.is_ascii_digit()) {
            let id = id_text.parse::<i64>().ok().map(SnapshotId);
            return Ok(all.into_iter().filter(|s| Some(s.id) == id).collect());
        }
        let dir_of = |s: &SnapshotRow| s.dir.rsplit('/').next().unwrap_or(&s.dir).to_string();
        if let Some(s) = all.iter().find(|s| dir_of(s) == name) {
            return Ok(vec![s.clone()]);
        }
        if let Ok(t) = name.parse::<Timestamp>() {
            return self.captured_in_second(target, all, t);
        }
        let by_capture: Vec<SnapshotRow> = all
            .iter()
            .filter(|s| ts(s.captured_at).starts_with(name) || dir_of(s).starts_with(name))
            .cloned()
            .collect();
        if !by_capture.is_empty() {
            return Ok(by_capture);
        }
        Ok(all
            .into_iter()
            .filter(|s| s.stamp_date.is_some_and(|d| d.to_string() == name))
            .collect())
    }

    /// Rule 4 of [`Store::resolve_snapshot`]: the snapshots named by a full time.
    pub(super) fn captured_in_second(
        &self,
        target: &str,
        all: Vec<SnapshotRow>,
        t: Timestamp,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        if t.subsec_nanosecond() != 0 {
            let ms = ts(t);
            return Ok(all
                .into_iter()
                .filter(|s| ts(s.captured_at) == ms)
                .collect());
        }
        let next = t.checked_add(SignedDuration::from_secs(1)).unwrap_or(t);
        let (from, to) = (ts(t), ts(next));
        let mut st = self
            .conn
            .prepare(
                "SELECT DISTINCT snapshot_id FROM checks
                 WHERE target_id = ?1 AND snapshot_id IS NOT NULL
                   AND started_at >= ?2 AND started_at < ?3",
            )
            .map_err(self.sql())?;
        let checked: Vec<SnapshotId> = st
            .query_map(params![target, from, to], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        Ok(all
            .into_iter()
            .filter(|s| {
                let at = ts(s.captured_at);
                (at >= from && at < to) || checked.contains(&s.id)
            })
            .collect())
    }
}
