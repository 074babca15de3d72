//! The HTML pages (see the route table of [`super`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use maud::{Markup, PreEscaped, html};

mod history;
mod outbox;

use super::app::{App, Failure, target_id};
use super::chrome::{
    enc, failure_page, kind_badge, page, page_count, pager, respond, time, timeline_badge,
};
use crate::document::Document;
use crate::ids::{RevisionId, SnapshotId};
use crate::report::{ArticleView, Redline, article_with, summary_line};
use crate::revision::{RevisionKind, SectionDiff};
use crate::store::{DashboardRow, SnapshotRow, Store, TimelineEntry, TimelineKind};

/// Lines per page of a list.
pub const PER_PAGE: usize = 50;
/// The snapshots the compare picker lists (the newest).
pub const PICKER_SNAPSHOTS: usize = 500;

/// The page routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(dashboard))
        .route("/targets/{target}", get(timeline))
        .route("/targets/{target}/revisions/{id}", get(revision))
        .route("/targets/{target}/compare", get(compare))
        .route("/targets/{target}/snapshots/{id}", get(snapshot))
        .route("/targets/{target}/snapshots/{id}/raw", get(raw))
        .route(
            "/targets/{target}/snapshots/{id}/revision",
            get(snapshot_revision),
        )
        .route("/targets/{target}/sections/{n}", get(history::section))
        .route("/targets/{target}/feed.atom", get(outbox::target_feed))
        .route("/feed.atom", get(outbox::combined_feed))
        .route("/search", get(history::search))
        .route("/alerts", get(outbox::alerts))
        .route("/alerts/retry", post(outbox::retry_alerts))
        .route("/alerts/test", post(outbox::test_alert))
}

/// Any other path: `404` with the page frame (as JSON under `/api/`).
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return super::api::not_found();
    }
    // `/targets/x/` is `/targets/x`.
    let path = uri.path();
    // Only a path that starts `/` and a letter or digit, with no `\`: never
    // a redirect off this server (`//host/`, `/\host/`).
    let ours = path
        .as_bytes()
        .get(1)
        .is_some_and(u8::is_ascii_alphanumeric)
        && !path.contains('\\');
    if ours && path.ends_with('/') && !path.ends_with("//") {
        let to = match uri.query() {
            Some(q) => format!("{}?{q}", path.trim_end_matches('/')),
            None => path.trim_end_matches('/').to_string(),
        };
        return axum::response::Redirect::permanent(&to).into_response();
    }
    failure_page(&Failure::not_found("there is no page at this address"))
}

/// A query string's parameters, in order (a key may repeat).
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads a raw query string (or a form body).
    pub fn new(raw: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `page` as a 1-based number (1 when absent).
    ///
    /// # Errors
    /// `400` for a page that is not a positive number.
    pub fn page(&self) -> Result<usize, Failure> {
        match self.get("page") {
            None => Ok(1),
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| Failure::bad_request(format!("`page={p}`: expected 1 or more"))),
        }
    }

    /// `key` as a snapshot or revision id.
    ///
    /// # Errors
    /// `400` when it is not a number.
    pub fn id(&self, key: &str) -> Result<Option<i64>, Failure> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Failure::bad_request(format!("`{key}={v}`: expected an id")))
            })
            .transpose()
    }
}

/// A path segment as a positive id.
///
/// # Errors
/// `404` otherwise.
pub fn path_id(text: &str, what: &str) -> Result<i64, Failure> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Failure::not_found(format!("no such {what}: `{text}` is not an id")))
}

/// `404` for a page after the last (page 1 always exists, empty or not).
fn past_the_end(page: usize, total: usize) -> Result<(), Failure> {
    let pages = page_count(total, PER_PAGE);
    if page > pages {
        return Err(Failure::not_found(format!(
            "there {} only {pages} page{} here",
            if pages == 1 { "is" } else { "are" },
            if pages == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn finish(result: Result<Response, Failure>) -> Response {
    result.unwrap_or_else(|f| failure_page(&f))
}

/// The title a target is shown by: its page title, else its id.
fn target_title(title: Option<&str>, id: &str) -> String {
    title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(id)
        .to_string()
}

fn target_path(target: &str) -> String {
    format!("/targets/{}", enc(target))
}

fn revision_path(target: &str, id: RevisionId) -> String {
    format!("{}/revisions/{id}", target_path(target))
}

fn snapshot_path(target: &str, id: SnapshotId) -> String {
    format!("{}/snapshots/{id}", target_path(target))
}

fn crumbs(target: &str, here: &str) -> Markup {
    html! {
        nav.crumbs aria-label="Breadcrumb" {
            a href="/" { "Targets" } " \u{203a} "
            a href=(target_path(target)) { (target) } " \u{203a} "
            span { (here) }
        }
    }
}

// ---------------------------------------------------------------- dashboard

struct Dashboard {
    rows: Vec<DashboardRow>,
    total: usize,
    counts: Vec<(RevisionKind, usize, usize)>,
    failing: usize,
    unchecked: Vec<String>,
}

async fn dashboard(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q.as_deref());
    finish(dashboard_page(&app, &p).await)
}

async fn dashboard_page(app: &Arc<App>, p: &Params) -> Result<Response, Failure> {
    let text = p.get("q").map(str::to_string);
    let kind = match p.get("kind") {
        None => None,
        Some(k) => Some(k.parse::<RevisionKind>().map_err(|_| {
            Failure::bad_request(format!(
                "`kind={k}`: expected revised, silent-edit, changed or stamp-only"
            ))
        })?),
    };
    let page_no = p.page()?;
    let configured: Vec<String> = app
        .settings
        .as_ref()
        .map(|s| s.targets.iter().map(|t| t.id.clone()).collect())
        .unwrap_or_default();
    let now = Timestamp::now();
    let d = app
        .read(move |store| {
            let (rows, total) = store.dashboard(
                text.as_deref(),
                kind,
                now,
                PER_PAGE,
                (page_no - 1) * PER_PAGE,
            )?;
            let week = store.revision_counts_since(now - SignedDuration::from_hours(24 * 7))?;
            let month = store.revision_counts_since(now - SignedDuration::from_hours(24 * 30))?;
            let counts = RevisionKind::ALL
                .iter()
                .map(|k| {
                    let n = |v: &[(RevisionKind, usize)]| {
                        v.iter().find(|(kk, _)| kk == k).map_or(0, |(_, n)| *n)
                    };
                    (*k, n(&week), n(&month))
                })
                .collect();
            let stored: std::collections::HashSet<String> = store.targets()?.into_iter().collect();
            let failing = store.failing_targets()?;
            let unchecked = configured
                .into_iter()
                .filter(|id| !stored.contains(id))
                .collect();
            Ok(Dashboard {
                rows,
                total,
                counts,
                failing,
                unchecked,
            })
        })
        .await?;
    past_the_end(page_no, d.total)?;
    let query = [("q", p.get("q")), ("kind", p.get("kind"))]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", enc(v))))
        .collect::<Vec<_>>()
        .join("&");
    let body = html! {
        h1 { "Targets" }
        div.counts {
            @for (kind, week, month) in &d.counts {
                span { (kind_badge(*kind)) " " (week) " in 7 days \u{b7} " (month) " in 30" }
            }
            @if d.failing > 0 {
                span.error { (d.failing) " failing" }
            }
        }
        form.filters method="get" action="/" {
            label { "Filter " input type="search" name="q" value=[p.get("q")] placeholder="id, URL or title"; }
            label { "Last revision "
                select name="kind" {
                    option value="" { "any kind" }
                    @for k in RevisionKind::ALL {
                        option value=(k.as_str()) selected[p.get("kind") == Some(k.as_str())] { (crate::report::kind_words(k)) }
                    }
                }
            }
            button type="submit" { "Apply" }
        }
        @if d.rows.is_empty() {
            p { "No target matches." }
        } @else {
            table.list id="targets" {
                thead { tr { th { "Target" } th { "Last check" } th { "Last revision" } th { "7 d" } th { "30 d" } } }
                tbody {
                    @for r in &d.rows {
                        tr.failing[r.failing()] data-target=(r.target) {
                            td {
                                a.target href=(target_path(&r.target)) { (target_title(r.title.as_deref(), &r.target)) }
                                br;
                                code { (r.target) } " "
                                span.quiet { (r.url) }
                            }
                            td {
                                @if let Some(at) = r.last_check_at { (time(at)) br; }
                                @if let Some(o) = r.last_outcome { span class=(format!("badge outcome-{}", o.as_str())) { (o.as_str().replace('-', " ")) } }
                                @if let Some(e) = &r.last_error { br; span.error { (e) } }
                            }
                            td {
                                @if let (Some(id), Some(kind)) = (r.last_revision, r.last_kind) {
                                    (kind_badge(kind)) " "
                                    a href=(revision_path(&r.target, id)) {
                                        @if let Some(at) = r.last_revision_at { (crate::report::utc_minute(at)) } @else { "#" (id) }
                                    }
                                    @if let Some(stamp) = &r.last_stamp { br; span.quiet { "Stamp: " (stamp) } }
                                    @if let Some(s) = &r.last_summary { br; span { (crate::report::history::summary_text(s)) } }
                                } @else {
                                    span.quiet { "none yet" }
                                }
                            }
                            td { (r.revisions_7d) }
                            td { (r.revisions_30d) }
                        }
                    }
                }
            }
        }
        (pager("/", &query, page_no, page_count(d.total, PER_PAGE)))
        @if !d.unchecked.is_empty() {
            p.quiet { "Configured, not checked yet: "
                @for (i, id) in d.unchecked.iter().enumerate() { @if i > 0 { ", " } code { (id) } }
            }
        }
    };
    Ok(respond(StatusCode::OK, page("Targets", body)))
}

// ---------------------------------------------------------------- timeline

async fn timeline(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(timeline_page(&app, &target, &p).await)
}

async fn timeline_page(app: &Arc<App>, target: &str, p: &Params) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let mut kinds: Vec<TimelineKind> = Vec::new();
    for k in p.all("kind") {
        kinds.push(k.parse().map_err(|_| {
            Failure::bad_request(format!("`kind={k}`: expected one of {}", timeline_kinds()))
        })?);
    }
    let filtered = !kinds.is_empty();
    if !filtered {
        kinds = TimelineKind::SHOWN.to_vec();
    }
    let page_no = p.page()?;
    let t = target.clone();
    let shown = kinds.clone();
    let (entries, counts, title, url) = app
        .read(move |store| {
            let latest = store.latest_snapshot_row(&t)?;
            if latest.is_none() && !store.has_target(&t)? {
                return Err(Failure::not_found(format!("no such target: `{t}`")));
            }
            let counts = store.timeline_counts(&t)?;
            let entries = store.timeline(&t, &shown, PER_PAGE, (page_no - 1) * PER_PAGE)?;
            let (title, url) = latest.map_or((None, String::new()), |l| (l.title, l.url));
            Ok((entries, counts, title, url))
        })
        .await?;
    let total: usize = counts
        .iter()
        .filter(|(k, _)| kinds.contains(k))
        .map(|(_, n)| n)
        .sum();
    past_the_end(page_no, total)?;
    let query = if filtered {
        kinds
            .iter()
            .map(|k| format!("kind={}", k.as_str()))
            .collect::<Vec<_>>()
            .join("&")
    } else {
        String::new()
    };
    let name = target_title(title.as_deref(), &target);
    let body = html! {
        nav.crumbs { a href="/" { "Targets" } " \u{203a} " span { (target) } }
        h1 { (name) }
        p.where { code { (target) } " \u{b7} " (external(&url)) }
        p.actions {
            a href=(format!("{}/compare", target_path(&target))) { "Compare two snapshots" } " \u{b7} "
            a href=(format!("{}/feed.atom", target_path(&target))) { "Atom feed" } " \u{b7} "
            a href=(format!("/search?target={}", enc(&target))) { "Search this target" }
        }
        form.filters method="get" action=(target_path(&target)) {
            fieldset {
                legend { "Show" }
                @for k in TimelineKind::ALL {
                    @let n = counts.iter().find(|(kk, _)| *kk == k).map_or(0, |(_, n)| *n);
                    label {
                        input type="checkbox" name="kind" value=(k.as_str()) checked[kinds.contains(&k)];
                        " " (k.as_str().replace('-', " ")) " (" (n) ")"
                    }
                    " "
                }
            }
            button type="submit" { "Apply" }
        }
        @if entries.is_empty() {
            p { "Nothing of these kinds." }
        } @else {
            table.list id="timeline" {
                thead { tr { th { "Checked (capture time)" } th { "Kind" } th { "Stamp" } th { "What" } } }
                tbody {
                    @for e in &entries { (timeline_row(&target, e)) }
                }
            }
        }
        (pager(&target_path(&target), &query, page_no, page_count(total, PER_PAGE)))
    };
    Ok(respond(StatusCode::OK, page(&name, body)))
}

/// The timeline kinds, for messages: `revised, silent-edit, ...`.
pub fn timeline_kinds() -> String {
    TimelineKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn timeline_row(target: &str, e: &TimelineEntry) -> Markup {
    html! {
        tr.failing[e.kind == TimelineKind::Failed] data-kind=(e.kind.as_str()) {
            td { (time(e.at)) }
            td { (timeline_badge(e.kind)) }
            td { @if let Some(s) = &e.stamp { (s) } @else { span.quiet { "\u{2014}" } } }
            td {
                @if let Some(id) = e.revision_id {
                    a.revision href=(revision_path(target, id)) { "Revision #" (id) }
                    @if let Some(s) = &e.summary { ": " (crate::report::history::summary_text(s)) }
                    br;
                }
                @if let Some(id) = e.snapshot_id {
                    a.snapshot href=(snapshot_path(target, id)) { "Snapshot " (id) }
                }
                @if let Some(status) = e.http_status { " " span.quiet { "HTTP " (status) } }
                @if let Some(err) = &e.error { br; span.error { (err) } }
                @if let Some(note) = &e.note { br; span.quiet { (note) } }
            }
        }
    }
}

fn external(url: &str) -> Markup {
    let lower = url.to_ascii_lowercase();
    html! {
        @if lower.starts_with("https://") || lower.starts_with("http://") {
            a href=(url) rel="noreferrer" { (url) }
        } @else {
            (url)
        }
    }
}

// ---------------------------------------------------------------- revision

async fn revision(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(revision_page(&app, &target, &id, &p).await)
}

/// Where each section of the target's newest snapshot is, by key: the
/// number of its history page.
fn section_numbers(store: &Store, target: &str) -> Result<HashMap<Vec<String>, usize>, Failure> {
    let Some(latest) = store.latest_snapshot_row(target)? else {
        return Ok(HashMap::new());
    };
    // A newest snapshot whose files are gone links no section (its own
    // page says why).
    let Ok(doc) = store.with_document(latest) else {
        return Ok(HashMap::new());
    };
    Ok(doc
        .document
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.0.clone(), i + 1))
        .collect())
}

fn redline_article(
    target: &str,
    redline: &Redline,
    numbers: &HashMap<Vec<String>, usize>,
    side_by_side: bool,
) -> String {
    let link = |s: &SectionDiff| {
        numbers
            .get(&s.key.0)
            .map(|n| format!("{}/sections/{n}", target_path(target)))
    };
    article_with(
        redline,
        "r",
        1,
        ArticleView {
            side_by_side,
            section_link: Some(&link),
        },
    )
}

async fn revision_page(
    app: &Arc<App>,
    target: &str,
    id: &str,
    p: &Params,
) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let id = RevisionId(path_id(id, "revision")?);
    let side_by_side = match p.get("view") {
        None | Some("inline") => false,
        Some("side-by-side") => true,
        Some(v) => {
            return Err(Failure::bad_request(format!(
                "`view={v}`: expected inline or side-by-side"
            )));
        }
    };
    let diff = app.diff.clone();
    let t = target.clone();
    let (redline, row, neighbours, numbers) = app
        .read(move |store| {
            let (row, redline) = super::app::stored_redline(store, &t, id, &diff)?;
            let neighbours = store.neighbour_revisions(&t, id)?;
            let numbers = section_numbers(store, &t)?;
            Ok((redline, row, neighbours, numbers))
        })
        .await?;
    let here = format!("Revision #{id}");
    let base = revision_path(&target, id);
    let body = html! {
        (crumbs(&target, &here))
        nav.pager aria-label="Revisions" {
            @let keep = if side_by_side { "?view=side-by-side" } else { "" };
            @if let Some(prev) = neighbours.0 { a rel="prev" href=(format!("{}{keep}", revision_path(&target, prev))) { "\u{2190} Previous revision" } }
            @if let Some(next) = neighbours.1 { a rel="next" href=(format!("{}{keep}", revision_path(&target, next))) { "Next revision \u{2192}" } }
            a href=(snapshot_path(&target, row.old_snapshot_id)) { "Old snapshot" }
            @if side_by_side {
                a.view href=(base) { "Inline view" }
            } @else {
                a.view href=(format!("{base}?view=side-by-side")) { "Side by side" }
            }
            a href=(format!("{}/compare?from={}&to={}", target_path(&target), row.old_snapshot_id, row.new_snapshot_id)) { "Compare\u{2026}" }
            a href=(snapshot_path(&target, row.new_snapshot_id)) { "New snapshot" }
        }
        @if row.technical {
            p.notice { "A technical revision: the difference comes from re-extraction, never from the page. It is not reported or alerted." }
        }
        @match &redline {
            Some(r) => { (PreEscaped(redline_article(&target, r, &numbers, side_by_side))) }
            None => { p { "Under the current extraction rules these two snapshots read the same: nothing to show." } }
        }
    };
    let title = redline
        .as_ref()
        .map_or(here.clone(), |r| format!("{here}: {}", summary_line(r)));
    Ok(respond(StatusCode::OK, page(&title, body)))
}

/// The revision a snapshot's check made (the links of alerts and feeds,
/// which know the new snapshot): `303` to its page, or to the snapshot's
/// own page when it made none (a baseline).
async fn snapshot_revision(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
) -> Response {
    finish(
        async {
            let target = target_id(&target)?.to_string();
            let id = SnapshotId(path_id(&id, "snapshot")?);
            let t = target.clone();
            let revision = app
                .read(move |store| {
                    store.snapshot_row(&t, id)?.ok_or_else(|| {
                        Failure::not_found(format!("target `{t}` has no snapshot {id}"))
                    })?;
                    Ok(store.revision_to(&t, id)?)
                })
                .await?;
            let to = match revision {
                Some(r) => revision_path(&target, r),
                None => snapshot_path(&target, id),
            };
            Ok(axum::response::Redirect::to(&to).into_response())
        }
        .await,
    )
}

// ---------------------------------------------------------------- compare

/// What the compare page compared: the two snapshots (old, new), whether
/// they were asked for newest first, and the redline (none: they read the same).
struct Compared {
    ends: (SnapshotId, SnapshotId),
    swapped: bool,
    redline: Option<Redline>,
}

async fn compare(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(compare_page(&app, &target, &p).await)
}

async fn compare_page(app: &Arc<App>, target: &str, p: &Params) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let from = p.id("from")?.map(SnapshotId);
    let to = p.id("to")?.map(SnapshotId);
    let diff = app.diff.clone();
    let t = target.clone();
    let (snapshots, total, result, numbers) = app
        .read(move |store| {
            let (mut snapshots, total) = store.snapshot_page(&t, PICKER_SNAPSHOTS, 0)?;
            if total == 0 && !store.has_target(&t)? {
                return Err(Failure::not_found(format!("no such target: `{t}`")));
            }
            // The chosen ones are listed even when older than the picker's window.
            for id in [from, to].into_iter().flatten() {
                if !snapshots.iter().any(|s| s.id == id)
                    && let Some(row) = store.snapshot_row(&t, id)?
                {
                    snapshots.push(row);
                }
            }
            // One end alone: the other is the newest snapshot (for `from`)
            // or the one before `to`.
            let newest = snapshots.first().map(|s| s.id);
            let before = |id: SnapshotId| {
                snapshots
                    .iter()
                    .position(|s| s.id == id)
                    .and_then(|i| snapshots.get(i + 1))
                    .map(|s| s.id)
            };
            let ends = match (from, to) {
                (Some(a), Some(b)) => Some((a, b)),
                (Some(a), None) => newest.map(|b| (a, b)),
                (None, Some(b)) => Some((before(b).unwrap_or(b), b)),
                (None, None) => None,
            };
            let result = match ends {
                Some((a, b)) => {
                    let lookup = |id| {
                        snapshots
                            .iter()
                            .find(|s: &&SnapshotRow| s.id == id)
                            .cloned()
                            .ok_or_else(|| {
                                Failure::not_found(format!("target `{t}` has no snapshot {id}"))
                            })
                    };
                    let (mut old, mut new) = (lookup(a)?, lookup(b)?);
                    let swapped = (old.captured_at, old.id) > (new.captured_at, new.id);
                    if swapped {
                        std::mem::swap(&mut old, &mut new);
                    }
                    let redline = if old.id == new.id {
                        None
                    } else {
                        crate::archive::redline_between(store, &old, &new, &diff)?
                    };
                    Some(Compared {
                        ends: (old.id, new.id),
                        swapped,
                        redline,
                    })
                }
                None => None,
            };
            let numbers = section_numbers(store, &t)?;
            Ok((snapshots, total, result, numbers))
        })
        .await?;
    let option = |s: &SnapshotRow, chosen: Option<SnapshotId>| {
        html! {
            option value=(s.id) selected[chosen == Some(s.id)] {
                (crate::report::utc_minute(s.captured_at)) " \u{b7} #" (s.id)
                @if let Some(stamp) = &s.stamp_text { " \u{b7} " (stamp) }
            }
        }
    };
    let default_from = result
        .as_ref()
        .map(|c| c.ends.0)
        .or_else(|| snapshots.get(1).map(|s| s.id));
    let default_to = result
        .as_ref()
        .map(|c| c.ends.1)
        .or_else(|| snapshots.first().map(|s| s.id));
    let body = html! {
        (crumbs(&target, "Compare"))
        h1 { "Compare two snapshots" }
        form.filters id="picker" method="get" action=(format!("{}/compare", target_path(&target))) {
            label { "From " select name="from" id="from" { @for s in &snapshots { (option(s, default_from)) } } }
            label { "To " select name="to" id="to" { @for s in &snapshots { (option(s, default_to)) } } }
            button type="submit" { "Compare" }
        }
        @if total > PICKER_SNAPSHOTS {
            p.quiet { "The newest " (PICKER_SNAPSHOTS) " of " (total) " snapshots are listed; an older one can be named by id in the address (`?from=ID&to=ID`)." }
        }
        @if let Some(c) = &result {
            @if c.swapped {
                p.notice id="swapped" { "“From” was the newer snapshot: the redline reads from the older one (#" (c.ends.0) ") to the newer (#" (c.ends.1) ")." }
            }
            @match &c.redline {
                None => { p id="same" { "These snapshots read the same: nothing changed between them." } }
                Some(r) => { (PreEscaped(redline_article(&target, r, &numbers, false))) }
            }
        }
    };
    Ok(respond(StatusCode::OK, page("Compare", body)))
}

// ---------------------------------------------------------------- snapshot

async fn snapshot(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
) -> Response {
    finish(snapshot_page(&app, &target, &id).await)
}

async fn snapshot_page(app: &Arc<App>, target: &str, id: &str) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let id = SnapshotId(path_id(id, "snapshot")?);
    let t = target.clone();
    let (row, document, newest) = app
        .read(move |store| {
            let row = store
                .snapshot_row(&t, id)?
                .ok_or_else(|| Failure::not_found(format!("target `{t}` has no snapshot {id}")))?;
            let newest = store.latest_snapshot_row(&t)?.map(|r| r.id) == Some(id);
            let stored = store.with_document(row.clone())?;
            Ok((row, stored.document, newest))
        })
        .await?;
    let raw = format!("{}/raw", snapshot_path(&target, id));
    let body = html! {
        (crumbs(&target, &format!("Snapshot {id}")))
        h1 { (target_title(document.meta.title.as_deref(), &target)) }
        dl.facts {
            div { dt { "Captured" } dd { (time(row.captured_at)) } }
            @if let Some(archive) = &row.source {
                div { dt { "Source" } dd { "imported from the " code { (archive) } " web archive" @if let Some(u) = &row.source_url { ": " (external(u)) } } }
            }
            div { dt { "Stamp" } dd { @if let Some(s) = &row.stamp_text { (s) } @else { span.quiet { "none read" } } } }
            div { dt { "URL" } dd { (external(&row.url)) @if row.final_url != row.url { " \u{2192} " (external(&row.final_url)) } } }
            div { dt { "HTTP" } dd { (row.http_status) " \u{b7} " (row.content_type.as_deref().unwrap_or("no content type")) " \u{b7} " (row.charset) } }
            div { dt { "Body SHA-256" } dd { code { (row.raw_sha256) } } }
            @if let Some(d) = &row.document_sha256 {
                div { dt { "Document SHA-256" } dd { code { (d) } } }
            }
            @if let Some(c) = &row.chain_hash {
                div { dt { "Ledger entry" } dd { code { (c) } } }
            }
            div { dt { "Content root" } dd { code { (row.root_selector) } @if row.root_fallback { " " span.error { "(fallback: the configured root was not found)" } } } }
        }
        p {
            a href=(raw) { "The page as served (sandboxed)" } " \u{b7} "
            a href=(format!("{raw}?download=1")) download { "Download the body" }
        }
        (document_markup(&target, &document, newest))
        details {
            summary { "The page as served, in a sandboxed frame (no script runs, nothing is fetched)" }
            iframe.raw sandbox="" src=(raw) title="The page as served" referrerpolicy="no-referrer" loading="lazy" {}
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&format!("Snapshot {id}"), body),
    ))
}

fn document_markup(target: &str, doc: &Document, link_sections: bool) -> Markup {
    html! {
        article.document {
            @for (i, s) in doc.sections.iter().enumerate() {
                section.doc-section id=(format!("s{}", i + 1)) {
                    @let level = s.level.clamp(2, 6);
                    @let heading = html! {
                        (i + 1) ". " (s.title())
                        @if link_sections {
                            " " a.history href=(format!("{}/sections/{}", target_path(target), i + 1)) { "section history" }
                        }
                    };
                    @match level {
                        2 => h2 { (heading) },
                        3 => h3 { (heading) },
                        4 => h4 { (heading) },
                        5 => h5 { (heading) },
                        _ => h6 { (heading) },
                    }
                    @for b in &s.blocks {
                        p class=(format!("text block-{}", b.kind.label().replace(' ', "-"))) { (b.text) }
                    }
                }
            }
        }
    }
}

async fn raw(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    let download = matches!(p.get("download"), Some("1" | "true" | "yes"));
    finish(raw_body(&app, &target, &id, download).await)
}

/// The body as served, under `Content-Security-Policy: sandbox` (no script,
/// no plugin, a unique origin) and `default-src 'none'` (nothing fetched
/// from the watched site or anywhere): what the page said, never what it
/// would run.
async fn raw_body(
    app: &Arc<App>,
    target: &str,
    id: &str,
    download: bool,
) -> Result<Response, Failure> {
    let target = target_id(target)?.to_string();
    let id = SnapshotId(path_id(id, "snapshot")?);
    let t = target.clone();
    let (row, body) = app
        .read(move |store| {
            let row = store
                .snapshot_row(&t, id)?
                .ok_or_else(|| Failure::not_found(format!("target `{t}` has no snapshot {id}")))?;
            let body = store.raw_body(&row)?;
            Ok((row, body))
        })
        .await?;
    let content_type = row
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("text/html"));
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
        ),
    );
    if download {
        let name = format!(
            "{target}-{id}-{}.html",
            row.captured_at.strftime("%Y%m%dT%H%M%SZ")
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}
