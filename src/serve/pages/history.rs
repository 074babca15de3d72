//! The section history and search pages (see the route table of [`super::super`]).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};

use super::{Params, crumbs, finish, path_id, revision_path, snapshot_path, target_path};
use crate::revision::RevisionKind;
use crate::section_history::{self, BlockHistory, Origin, Since, Step};
use crate::serve::app::{App, Failure, target_id};
use crate::serve::chrome::{kind_badge, page, respond, time};
use crate::store::{SearchHit, SearchQuery, SnapshotRow};

/// The most revisions a section's history reads.
pub const SECTION_REVISIONS: usize = 500;

// ---------------------------------------------------------------- section history

pub async fn section(
    State(app): State<Arc<App>>,
    Path((target, n)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(section_page(&app, &target, &n, &p).await)
}

struct SectionView {
    number: usize,
    heading: String,
    snapshot: SnapshotRow,
    touched: Vec<(crate::store::SectionRevision, String)>,
    blocks: Vec<BlockHistory>,
    truncated: bool,
}

async fn section_page(
    app: &Arc<App>,
    target: &str,
    n: &str,
    p: &Params,
) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let number = usize::try_from(path_id(n, "section")?).unwrap_or(usize::MAX);
    let only_block = p.id("block")?.map(|b| b as usize);
    let t = target.clone();
    let view = app
        .read(move |store| {
            let Some(latest) = store.latest_snapshot(&t)? else {
                return Err(Failure::not_found(if store.has_target(&t)? {
                    format!("target `{t}` has no snapshot yet: no check of it has succeeded")
                } else {
                    format!("no such target: `{t}`")
                }));
            };
            let section = latest
                .document
                .sections
                .get(number - 1)
                .cloned()
                .ok_or_else(|| {
                    Failure::not_found(format!(
                        "the newest snapshot of `{t}` has {} sections, not {number}",
                        latest.document.sections.len()
                    ))
                })?;
            let touched = store.section_revisions(&t, &section.key.0, SECTION_REVISIONS)?;
            let truncated = touched.len() >= SECTION_REVISIONS;
            let mut revisions = Vec::with_capacity(touched.len());
            for r in &touched {
                if let Some(rev) = store.revision(&t, r.revision.id)? {
                    revisions.push(rev);
                }
            }
            let steps: Vec<Step<'_>> = touched
                .iter()
                .zip(&revisions)
                .map(|(r, rev)| Step {
                    id: r.revision.id,
                    kind: r.revision.kind,
                    technical: r.revision.technical,
                    snapshot: r.new.id,
                    captured_at: r.new.captured_at,
                    stamp: r.new.stamp_text.clone(),
                    stamp_date: r.new.stamp_date,
                    revision: rev,
                })
                .collect();
            let first = store.first_snapshot_row(&t)?.unwrap_or(latest.row.clone());
            let origin = Origin {
                snapshot: first.id,
                captured_at: first.captured_at,
                truncated,
            };
            let blocks = section_history::blocks(&section, &steps, origin);
            let touched = touched
                .into_iter()
                .zip(&revisions)
                .map(|(r, rev)| {
                    let words = rev
                        .sections
                        .iter()
                        .find(|s| s.key == section.key)
                        .map(crate::report::summary::section_change_words)
                        .unwrap_or_else(|| r.change.clone());
                    (r, words)
                })
                .collect();
            Ok(SectionView {
                number,
                heading: section.title().to_string(),
                snapshot: latest.row,
                touched,
                blocks,
                truncated,
            })
        })
        .await?;
    let base = format!("{}/sections/{}", target_path(&target), view.number);
    let blocks: Vec<&BlockHistory> = view
        .blocks
        .iter()
        .filter(|b| only_block.is_none_or(|m| b.index + 1 == m))
        .collect();
    if only_block.is_some() && blocks.is_empty() {
        return Err(Failure::not_found(format!(
            "section {} has {} blocks",
            view.number,
            view.blocks.len()
        )));
    }
    let touched: Vec<_> = match only_block {
        None => view.touched.iter().collect(),
        Some(_) => view
            .touched
            .iter()
            .filter(|(r, _)| blocks.iter().any(|b| b.touched_by.contains(&r.revision.id)))
            .collect(),
    };
    let title = format!("{}. {}", view.number, view.heading);
    let body = html! {
        (crumbs(&target, &format!("Section {}", view.number)))
        h1 { "History of " (title) }
        p.where {
            "As it reads in the newest snapshot ("
            a href=(snapshot_path(&target, view.snapshot.id)) { (crate::report::utc_minute(view.snapshot.captured_at)) }
            ")"
            @if let Some(m) = only_block { ", block " (m) " only \u{b7} " a href=(base) { "the whole section" } }
        }
        h2 { "Revisions that touched " @if only_block.is_some() { "this block" } @else { "this section" } " (" (touched.len()) ")" }
        @if touched.is_empty() {
            p { "None: it reads as it did when watching began." }
        } @else {
            ol id="touched" reversed {
                @for (r, words) in &touched {
                    li {
                        (time(r.new.captured_at)) " "
                        (kind_badge(r.revision.kind)) " "
                        a.revision href=(revision_path(&target, r.revision.id)) { "revision #" (r.revision.id) }
                        ": " (words)
                        @if let Some(stamp) = &r.new.stamp_text { " " span.quiet { "(stamp: " (stamp) ")" } }
                        @if r.revision.technical { " " span.quiet { "(technical)" } }
                    }
                }
            }
        }
        @if view.truncated { p.quiet { "Only the newest " (SECTION_REVISIONS) " revisions were read." } }
        h2 { "Sentence by sentence" }
        @for b in &blocks {
            section.block-history id=(format!("b{}", b.index + 1)) {
                h3 {
                    "Block " (b.index + 1) " (" (b.kind.label()) ")"
                    @if only_block.is_none() { " " a href=(format!("{base}?block={}", b.index + 1)) { "this block's history" } }
                }
                ol.sentences {
                    @for s in &b.sentences {
                        li {
                            span.sentence { (s.text) }
                            br;
                            span.since { (since_markup(&target, &s.since)) }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&format!("History of {title}"), body),
    ))
}

fn since_markup(target: &str, since: &Since) -> Markup {
    match since {
        Since::Revision {
            id,
            captured_at,
            stamp_date,
            kind,
            before,
            ..
        } => html! {
            "This sentence since "
            // The stamp dates the revision only when the page gave it a new
            // one: a silent edit keeps the old stamp, so it is dated by when
            // it was found.
            @match stamp_date.filter(|_| matches!(kind, RevisionKind::Revised | RevisionKind::StampOnly)) {
                Some(d) => { strong { (d.strftime("%-d %b. %Y")) } " (the page's stamp; captured " (time(*captured_at)) ")" }
                None => { "it was found on " (time(*captured_at)) }
            }
            ", "
            a href=(revision_path(target, *id)) { "revision #" (id) }
            " (" (crate::report::kind_words(*kind)) ")"
            @match before {
                Some(b) => { "; before that: " q.before { (b) } }
                None => { "; new text then" }
            }
        },
        Since::FirstSeen {
            snapshot,
            captured_at,
            truncated,
        } => html! {
            @if *truncated { "Unchanged in the revisions read, back to " } @else { "Unchanged since watching began: " }
            a href=(snapshot_path(target, *snapshot)) { (crate::report::utc_minute(*captured_at)) }
        },
    }
}

// ---------------------------------------------------------------- search

pub async fn search(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q.as_deref());
    finish(search_page(&app, &p).await)
}

async fn search_page(app: &Arc<App>, p: &Params) -> Result<Response, Failure> {
    let text = p.get("q").unwrap_or("").to_string();
    let target = p
        .get("target")
        .map(|t| target_id(t).map(str::to_string))
        .transpose()?;
    let query = SearchQuery::parse_bounded(&text).map_err(Failure::bad_request)?;
    let q = query.clone();
    let t = target.clone();
    let (hits, pending) = app
        .read(move |store| {
            if let Some(t) = &t
                && !store.has_target(t)?
            {
                return Err(Failure::not_found(format!("no such target: `{t}`")));
            }
            let hits = match &q {
                Some(q) => store.search(q, t.as_deref(), 200)?,
                None => Vec::new(),
            };
            Ok((hits, store.unindexed_for_search()?))
        })
        .await?;
    let body = html! {
        h1 { "Search" }
        form.filters method="get" action="/search" {
            input type="search" name="q" value=(text) placeholder="words or \"a phrase\"" aria-label="Search" autofocus;
            @if let Some(t) = &target { input type="hidden" name="target" value=(t); " in " code { (t) } }
            button type="submit" { "Search" }
        }
        @if pending > 0 {
            p.notice { (pending) " older snapshots are not indexed yet; the next `check` indexes them." }
        }
        @if query.is_some() {
            @if hits.is_empty() {
                p id="no-hits" { "No snapshot matches." }
            } @else {
                p { (plural(hits.len(), "section matches", "sections match")) " (each section of each target once, by when the text first appeared)." }
                ol id="hits" { @for h in &hits { li { (hit_markup(h)) } } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page("Search", body)))
}

fn hit_markup(h: &SearchHit) -> Markup {
    html! {
        p {
            a href=(target_path(&h.target)) { code { (h.target) } } " \u{b7} "
            a href=(format!("{}#s{}", snapshot_path(&h.target, h.first_snapshot), h.section)) {
                "section " (h.section) ", " (h.heading)
            }
        }
        blockquote.snippet { (PreEscaped(&h.snippet_html)) }
        p {
            "First in "
            a.first-snapshot href=(snapshot_path(&h.target, h.first_snapshot)) { "the snapshot of " (crate::report::utc_minute(h.first_captured_at)) }
            @match h.introduced_by {
                Some(id) => { ", brought by " a.introduced href=(revision_path(&h.target, id)) { "revision #" (id) } }
                None => { ", the first snapshot: it was there when watching began" }
            }
            ". "
            @if h.current { "Still on the page" } @else {
                "No longer on the page: last in "
                a href=(snapshot_path(&h.target, h.last_snapshot)) { "the snapshot of " (crate::report::utc_minute(h.last_captured_at)) }
                @if let Some(id) = h.removed_by { ", taken away by " a.removed href=(revision_path(&h.target, id)) { "revision #" (id) } }
            }
            " (" (plural(h.snapshots, "snapshot matches", "snapshots match")) ")."
        }
    }
}

/// `1 snapshot matches`, `3 snapshots match`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
