//! Full-text search over the text of every snapshot (SQLite FTS5).
//!
//! Each snapshot's sections are rows of `snapshot_sections` (its position
//! in page order and its key) and of the FTS5 table `search_text` (the
//! heading and the blocks' text, tokenised by `unicode61` with diacritics
//! folded), added in the transaction that stores the snapshot. Snapshots
//! stored before search existed are indexed by [`Store::index_for_search`],
//! which the writers (`check`, `watch`, `serve`) call when they open the
//! store. Deleting a snapshot deletes its rows (foreign-key cascade and a
//! trigger, migration 010).
//!
//! A query ([`SearchQuery::parse`]) is a list of words and `"quoted
//! phrases"`, all of which must appear in one section; FTS5 operators in the
//! text are searched for as words, never obeyed.

use super::db::{self, Connection, OptionalExtension, params};
use serde::Serialize;

use super::rows::get_timestamp;
use super::{Store, StoreError};
use crate::document::Document;
use crate::ids::{RevisionId, SnapshotId};
use jiff::Timestamp;

/// The marks SQLite's `snippet()` puts around the matched words, the start
/// of a match (U+0002) and its end (U+0003): never in the indexed text
/// (control characters are indexed as spaces), so [`SearchHit::snippet_html`]
/// is the escaped text with each turned into `<mark>`/`</mark>`.
pub const MATCH_START: char = '\u{2}';
/// See [`MATCH_START`].
pub const MATCH_END: char = '\u{3}';

/// The most words and phrases one search may hold (each costs a pass over
/// the index; a search of thousands would hold the server for seconds).
pub const MAX_TERMS: usize = 32;
/// The longest search, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

/// A search, parsed: the FTS5 query it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The words and phrases, as typed (quotes removed).
    pub terms: Vec<String>,
    fts: String,
}

impl SearchQuery {
    /// Reads what a user typed: `"quoted phrases"` and single words, every
    /// one required; control characters count as spaces. Returns `None`
    /// when nothing searchable is left.
    pub fn parse(text: &str) -> Option<SearchQuery> {
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = text.as_str();
        let mut terms = Vec::new();
        for (i, part) in text.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = part.split_whitespace().collect::<Vec<_>>().join(" ");
                if !phrase.is_empty() {
                    terms.push(phrase);
                }
            } else {
                terms.extend(part.split_whitespace().map(str::to_string));
            }
        }
        // Each term as an FTS5 string (`"` doubled): operators and column
        // filters in the text are words, never syntax.
        let fts: Vec<String> = terms
            .iter()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect();
        if fts.is_empty() {
            return None;
        }
        Some(SearchQuery {
            terms,
            fts: fts.join(" "),
        })
    }

    /// [`SearchQuery::parse`] within the bounds a server keeps:
    /// [`MAX_QUERY_CHARS`] characters, [`MAX_TERMS`] words and phrases.
    ///
    /// # Errors
    /// What is too long, in a sentence.
    pub fn parse_bounded(text: &str) -> Result<Option<SearchQuery>, String> {
        let chars = text.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(format!(
                "the search is {chars} characters long: at most {MAX_QUERY_CHARS}"
            ));
        }
        let query = SearchQuery::parse(text);
        if let Some(q) = &query
            && q.terms.len() > MAX_TERMS
        {
            return Err(format!(
                "the search has {} words and phrases: at most {MAX_TERMS} (quote a phrase to search it as one)",
                q.terms.len()
            ));
        }
        Ok(query)
    }

    /// The FTS5 `MATCH` expression.
    pub fn fts(&self) -> &str {
        &self.fts
    }

    /// The search as PostgreSQL's `websearch_to_tsquery` reads it: each
    /// term a quoted phrase (so `or` and `-` are words, not operators),
    /// diacritics folded as the index folds them.
    pub fn websearch(&self) -> String {
        self.terms
            .iter()
            .filter(|t| t.chars().any(char::is_alphanumeric))
            .map(|t| format!("\"{}\"", fold(t)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The condition that a `search_text` row matches `?1`, and the value to
    /// bind to `?1`, in `dialect`.
    fn matching(&self, dialect: db::Dialect) -> (&'static str, String) {
        match dialect {
            db::Dialect::Sqlite => ("search_text MATCH ?1", self.fts.clone()),
            db::Dialect::Postgres => (
                "search_text.words @@ websearch_to_tsquery('simple', ?1)",
                self.websearch(),
            ),
        }
    }
}

/// Text as the PostgreSQL index holds it: decomposed (NFKD), combining
/// marks dropped, so `Lukašenka` is found by `lukasenka` (what SQLite's
/// `remove_diacritics 2` does for FTS5). Case is folded by the `simple`
/// configuration.
fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// The snippet of a matching row's text, `MATCH_START`/`MATCH_END` around
/// each match, about 24 words, in `dialect` (`?1` is the search).
fn snippet_sql(dialect: db::Dialect) -> &'static str {
    match dialect {
        db::Dialect::Sqlite => "snippet(search_text, 1, char(2), char(3), '…', 24)",
        db::Dialect::Postgres => {
            "ts_headline('simple', search_text.body, websearch_to_tsquery('simple', ?1),
                         'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                         || ', MaxWords=24, MinWords=12, ShortWord=0, MaxFragments=1, \
                         FragmentDelimiter=\"…\"')"
        }
    }
}

/// One section's matches for a query: a target and a section (by its key),
/// across every snapshot of the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The target id.
    pub target: String,
    /// How many of its snapshots match.
    pub snapshots: usize,
    /// The first (oldest) snapshot that matches.
    #[schema(value_type = i64)]
    pub first_snapshot: SnapshotId,
    /// Its capture time.
    #[schema(value_type = String, format = DateTime)]
    pub first_captured_at: Timestamp,
    /// The revision that brought the match (its new snapshot is
    /// `first_snapshot`); null when the first match is the target's first
    /// snapshot (the text was there when watching began).
    #[schema(value_type = Option<i64>)]
    pub introduced_by: Option<RevisionId>,
    /// The newest snapshot that matches.
    #[schema(value_type = i64)]
    pub last_snapshot: SnapshotId,
    /// Its capture time.
    #[schema(value_type = String, format = DateTime)]
    pub last_captured_at: Timestamp,
    /// True when the target's newest snapshot matches (the text is still there).
    pub current: bool,
    /// The revision that took the text away (its old snapshot is
    /// `last_snapshot`), when it is no longer on the page.
    #[schema(value_type = Option<i64>)]
    pub removed_by: Option<RevisionId>,
    /// The matching section's place in page order in the first snapshot
    /// that matched (1-based; the lead is 1).
    pub section: usize,
    /// Its heading as the page wrote it (`Lead` for the part before the
    /// first heading).
    pub heading: String,
    /// Words around the match in the first snapshot that matched, as plain
    /// text.
    pub snippet: String,
    /// The same words as HTML: escaped, each match in a `mark` element.
    pub snippet_html: String,
}

/// Adds a snapshot's sections to the search index (in the caller's transaction).
pub(super) fn index_document(
    conn: &Connection,
    snapshot: SnapshotId,
    document: &Document,
) -> db::Result<()> {
    for (i, section) in document.sections.iter().enumerate() {
        let key = serde_json::to_string(&section.key.0).unwrap_or_else(|_| "[]".into());
        conn.execute(
            "INSERT INTO snapshot_sections (snapshot_id, position, key_json) VALUES (?1, ?2, ?3)",
            params![snapshot, i as i64 + 1, key],
        )?;
        let id: i64 = conn.query_row(
            "SELECT id FROM snapshot_sections WHERE snapshot_id = ?1 AND position = ?2",
            params![snapshot, i as i64 + 1],
            |r| r.get(0),
        )?;
        let body: Vec<&str> = section.blocks.iter().map(|b| b.text.as_str()).collect();
        // Control characters are never text (and U+0002/U+0003 are the
        // snippet's marks): spaces in the index.
        let clean = |t: &str| -> String {
            t.chars()
                .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
                .collect()
        };
        let heading = section.heading.as_deref().map(clean);
        let text = clean(&body.join("\n"));
        match conn.dialect() {
            db::Dialect::Sqlite => {
                conn.prepare_cached(
                    "INSERT INTO search_text (rowid, heading, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, heading, text])?;
            }
            db::Dialect::Postgres => {
                conn.prepare_cached(
                    "INSERT INTO search_text (rowid, heading, body, words) VALUES (?1, ?2, ?3,
                         setweight(to_tsvector('simple', ?4), 'A') || to_tsvector('simple', ?5))",
                )?
                .execute(params![
                    id,
                    heading,
                    text,
                    fold(heading.as_deref().unwrap_or("")),
                    fold(&text)
                ])?;
            }
        }
    }
    conn.prepare_cached("INSERT OR IGNORE INTO search_indexed (snapshot_id) VALUES (?1)")?
        .execute([snapshot])?;
    Ok(())
}

/// Removes a snapshot's rows from the search index (before its document is
/// replaced).
pub(super) fn unindex(conn: &Connection, snapshot: SnapshotId) -> db::Result<()> {
    conn.prepare_cached("DELETE FROM snapshot_sections WHERE snapshot_id = ?1")?
        .execute([snapshot])?;
    conn.prepare_cached("DELETE FROM search_indexed WHERE snapshot_id = ?1")?
        .execute([snapshot])?;
    Ok(())
}

impl Store {
    /// Indexes for search up to `limit` snapshots stored before search
    /// existed, each in its own short transaction (a concurrent `check`
    /// waits at most for one), oldest first; returns how many it indexed.
    /// A snapshot whose document cannot be read is skipped (and tried
    /// again next time): the error is the store's to report, not search's.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn index_for_search(&mut self, limit: usize) -> Result<usize, StoreError> {
        let pending: Vec<super::SnapshotRow> = {
            let sql = format!(
                "SELECT {} FROM snapshots s
                 WHERE NOT EXISTS (SELECT 1 FROM search_indexed i WHERE i.snapshot_id = s.id)
                 ORDER BY s.id LIMIT ?1",
                super::rows::SNAPSHOT_COLUMNS
            );
            let mut st = self.conn.prepare(&sql).map_err(self.sql())?;
            st.query_map([super::rows::limit_param(limit)], super::rows::snapshot_row)
                .map_err(self.sql())?
                .collect::<Result<_, _>>()
                .map_err(self.sql())?
        };
        let mut done = 0;
        for row in pending {
            let id = row.id;
            let Ok(stored) = self.load(row) else {
                continue;
            };
            let unit = self.write_unit()?;
            unindex(&unit, id)
                .and_then(|()| index_document(&unit, id, &stored.document))
                .and_then(|()| unit.commit())
                .map_err(|source| StoreError::Database {
                    path: self.index.display().to_string(),
                    source,
                })?;
            done += 1;
        }
        Ok(done)
    }

    /// How many snapshots are not yet indexed for search.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn unindexed_for_search(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM snapshots s
                 WHERE NOT EXISTS (SELECT 1 FROM search_indexed i WHERE i.snapshot_id = s.id)",
                (),
                |r| r.get::<_, i64>(0),
            )
            .map(super::rows::to_usize)
            .map_err(self.sql())
    }

    /// The targets whose snapshots match `query`, at most `limit`, the
    /// target whose match appeared most recently first: for each, the first
    /// snapshot that matched and the revision that brought it, the newest
    /// that matches, and whether the newest snapshot still does. `target`
    /// limits the search to one target.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn search(
        &self,
        query: &SearchQuery,
        target: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        // Per target: how many snapshots match, and the first and last.
        let (matching, search) = query.matching(self.conn.dialect());
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "WITH hits AS (
                     SELECT DISTINCT s.id, s.target_id, ss.key_json, s.captured_at
                       FROM search_text
                       JOIN snapshot_sections ss ON ss.id = search_text.rowid
                       JOIN snapshots s ON s.id = ss.snapshot_id
                      WHERE {matching} AND (?2 IS NULL OR s.target_id = ?2))
                 SELECT target_id, key_json, COUNT(*), MIN(captured_at), MAX(captured_at)
                   FROM hits GROUP BY target_id, key_json
                  ORDER BY MIN(captured_at) DESC, target_id, key_json LIMIT ?3"
            ))
            .map_err(self.sql())?;
        let groups: Vec<(String, String, i64)> = st
            .query_map(
                params![search, target, super::rows::limit_param(limit)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        let mut hits = Vec::with_capacity(groups.len());
        for (target, key, count) in groups {
            hits.push(self.search_hit(query, &target, &key, count)?);
        }
        Ok(hits)
    }

    fn search_hit(
        &self,
        query: &SearchQuery,
        target: &str,
        key: &str,
        count: i64,
    ) -> Result<SearchHit, StoreError> {
        let dialect = self.conn.dialect();
        let (matching, search) = query.matching(dialect);
        let snippet = snippet_sql(dialect);
        let edge = |order: &str| {
            format!(
                "SELECT s.id, s.captured_at, ss.position, search_text.heading, {snippet}
                   FROM search_text
                   JOIN snapshot_sections ss ON ss.id = search_text.rowid
                   JOIN snapshots s ON s.id = ss.snapshot_id
                  WHERE {matching} AND s.target_id = ?2 AND ss.key_json = ?3
                  ORDER BY s.captured_at {order}, s.id {order}, ss.position LIMIT 1"
            )
        };
        type Edge = (SnapshotId, Timestamp, i64, Option<String>, String);
        let read = |sql: &str| -> Result<Edge, StoreError> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut st| {
                    st.query_row(params![search, target, key], |r| {
                        Ok((
                            r.get(0)?,
                            get_timestamp(r, 1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                        ))
                    })
                })
                .map_err(self.sql())
        };
        let (first, first_at, position, heading, marked) = read(&edge("ASC"))?;
        let (last, last_at, ..) = read(&edge("DESC"))?;
        let introduced_by: Option<RevisionId> = self
            .conn
            .prepare_cached(
                "SELECT id FROM revisions WHERE new_snapshot_id = ?1 AND technical = 0
                 ORDER BY id LIMIT 1",
            )
            .and_then(|mut st| st.query_row([first], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        let newest: Option<SnapshotId> = self
            .conn
            .prepare_cached(
                "SELECT id FROM snapshots WHERE target_id = ?1
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )
            .and_then(|mut st| st.query_row([target], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        let removed_by: Option<RevisionId> = if newest == Some(last) {
            None
        } else {
            self.conn
                .prepare_cached(
                    "SELECT id FROM revisions WHERE old_snapshot_id = ?1 AND technical = 0
                     ORDER BY id LIMIT 1",
                )
                .and_then(|mut st| st.query_row([last], |r| r.get(0)).optional())
                .map_err(self.sql())?
        };
        // PostgreSQL marks each word of a phrase on its own; FTS5 marks the
        // phrase: words matched side by side read as one match.
        let marked = if self.conn.dialect() == db::Dialect::Postgres {
            marked.replace(&format!("{MATCH_END} {MATCH_START}"), " ")
        } else {
            marked
        };
        let snippet = marked.replace([MATCH_START, MATCH_END], "");
        let snippet_html = html_escape::encode_text(&marked)
            .replace(MATCH_START, "<mark>")
            .replace(MATCH_END, "</mark>");
        Ok(SearchHit {
            target: target.to_string(),
            snapshots: super::rows::to_usize(count),
            first_snapshot: first,
            first_captured_at: first_at,
            introduced_by,
            last_snapshot: last,
            last_captured_at: last_at,
            current: newest == Some(last),
            removed_by,
            section: super::rows::to_usize(position),
            heading: heading.unwrap_or_else(|| "Lead".to_string()),
            snippet,
            snippet_html,
        })
    }
}
