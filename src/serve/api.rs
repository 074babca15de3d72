//! The JSON API under `/api/v1/`, described by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json` (generated from these handlers by utoipa).
//!
//! Lists are paged (`?page=`, 1-based, [`PER_PAGE`] items) and newest
//! first. A revision is the redline in the documented schema
//! (`schema/redline.v1.json`), the same JSON `redliner report --format
//! json` writes. Errors are `{"error": "..."}` with the HTTP status.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::app::{App, Failure, target_id};
use super::pages::{Params, path_id};
use crate::ids::{RevisionId, SnapshotId};
use crate::store::{DashboardRow, SearchHit, SearchQuery, TimelineEntry, TimelineKind};

/// Items per page of a list.
pub const PER_PAGE: usize = 100;

/// The API routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/targets", get(targets))
        .route("/api/v1/targets/{target}/checks", get(checks))
        .route("/api/v1/targets/{target}/snapshots", get(snapshots))
        .route("/api/v1/targets/{target}/snapshots/{id}", get(snapshot))
        .route("/api/v1/targets/{target}/revisions", get(revisions))
        .route("/api/v1/targets/{target}/revisions/{id}", get(revision))
        .route("/api/v1/search", get(search))
}

/// The OpenAPI description of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "redliner API",
        description = "What the watched pages said and when: targets, checks, snapshots, revisions (redlines) and full-text search."
    ),
    paths(targets, checks, snapshots, snapshot, revisions, revision, search),
    components(schemas(
        DashboardRow,
        TimelineEntry,
        TimelineKind,
        ApiSnapshot,
        ApiRevision,
        SearchHit,
        ApiError
    ))
)]
pub struct ApiDoc;

/// An error: what went wrong, in a sentence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// The sentence.
    pub error: String,
}

/// A snapshot as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSnapshot {
    /// Snapshot id.
    #[schema(value_type = i64)]
    pub id: SnapshotId,
    /// Capture time (UTC, RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub captured_at: Timestamp,
    /// The URL requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status.
    pub http_status: u16,
    /// The page title.
    pub title: Option<String>,
    /// The stamp as served.
    pub stamp: Option<String>,
    /// The stamp's instant, when it has a time.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub stamp_instant: Option<Timestamp>,
    /// SHA-256 (hex) of the document's content, the stamp excluded.
    pub content_hash: String,
    /// SHA-256 (hex) of the body as served.
    pub raw_sha256: String,
    /// Number of sections.
    pub sections: usize,
    /// Number of words.
    pub words: usize,
}

impl From<crate::store::SnapshotRow> for ApiSnapshot {
    fn from(r: crate::store::SnapshotRow) -> Self {
        ApiSnapshot {
            id: r.id,
            captured_at: r.captured_at,
            url: r.url,
            final_url: r.final_url,
            http_status: r.http_status,
            title: r.title,
            stamp: r.stamp_text,
            stamp_instant: r.stamp_instant,
            content_hash: r.content_hash,
            raw_sha256: r.raw_sha256,
            sections: r.sections,
            words: r.words,
        }
    }
}

/// A revision as the API lists it (the redline at its own URL).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRevision {
    /// Revision id.
    #[schema(value_type = i64)]
    pub id: RevisionId,
    /// The old snapshot.
    #[schema(value_type = i64)]
    pub old_snapshot_id: SnapshotId,
    /// The new snapshot.
    #[schema(value_type = i64)]
    pub new_snapshot_id: SnapshotId,
    /// `revised`, `silent-edit`, `changed` or `stamp-only`.
    #[schema(value_type = String)]
    pub kind: crate::revision::RevisionKind,
    /// True for a re-extraction's difference (never a page change).
    pub technical: bool,
    /// When it was recorded (the new snapshot's capture time).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The revision's counts (sections and words).
    #[schema(value_type = Object)]
    pub summary: crate::revision::ChangeSummary,
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec_pretty(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => failure(&Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        }),
    }
}

fn failure(f: &Failure) -> Response {
    (
        f.status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&ApiError {
            error: f.message.clone(),
        })
        .unwrap_or_default(),
    )
        .into_response()
}

fn finish(r: Result<Response, Failure>) -> Response {
    r.unwrap_or_else(|f| failure(&f))
}

/// `404` for a path under `/api/` that is no route, as JSON.
pub fn not_found() -> Response {
    failure(&Failure::not_found(
        "no such API route (see /api/v1/openapi.json)",
    ))
}

async fn openapi() -> Response {
    json(&ApiDoc::openapi())
}

/// Every stored target with its last check and revision, failing ones first.
#[utoipa::path(get, path = "/api/v1/targets",
    params(("q" = Option<String>, Query, description = "only targets whose id, URL or title contain this"),
           ("page" = Option<usize>, Query, description = "1-based page of 100 items, newest first", minimum = 1)),
    responses((status = 200, description = "OK", body = [DashboardRow]), (status = 400, description = "a parameter that is not understood", body = ApiError)))]
async fn targets(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q.as_deref());
    finish(
        async {
            let page = p.page()?;
            let text = p.get("q").map(str::to_string);
            let (rows, _) = app
                .read(move |s| {
                    Ok(s.dashboard(
                        text.as_deref(),
                        None,
                        Timestamp::now(),
                        PER_PAGE,
                        (page - 1) * PER_PAGE,
                    )?)
                })
                .await?;
            Ok(json(&rows))
        }
        .await,
    )
}

async fn known(app: &App, target: &str) -> Result<String, Failure> {
    let t = target_id(target)?.to_string();
    let id = t.clone();
    app.read(move |s| {
        if s.has_target(&id)? {
            Ok(())
        } else {
            Err(Failure::not_found(format!("no such target: `{id}`")))
        }
    })
    .await?;
    Ok(t)
}

/// The target's checks, newest first, each with what it made.
#[utoipa::path(get, path = "/api/v1/targets/{target}/checks",
    params(("target" = String, Path, description = "target id"),
           ("kind" = Option<Vec<TimelineKind>>, Query, description = "only these kinds (repeat the parameter); all when absent"),
           ("page" = Option<usize>, Query, description = "1-based page of 100 items, newest first", minimum = 1)),
    responses((status = 200, description = "OK", body = [TimelineEntry]), (status = 400, description = "a parameter that is not understood", body = ApiError), (status = 404, description = "no such target, snapshot or revision", body = ApiError)))]
async fn checks(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(
        async {
            let t = known(&app, &target).await?;
            let page = p.page()?;
            let mut kinds: Vec<TimelineKind> = Vec::new();
            for k in p.all("kind") {
                kinds.push(k.parse().map_err(|_| {
                    Failure::bad_request(format!("`kind={k}`: not a timeline kind"))
                })?);
            }
            if kinds.is_empty() {
                kinds = TimelineKind::ALL.to_vec();
            }
            let rows = app
                .read(move |s| Ok(s.timeline(&t, &kinds, PER_PAGE, (page - 1) * PER_PAGE)?))
                .await?;
            Ok(json(&rows))
        }
        .await,
    )
}

/// The target's snapshots, newest first.
#[utoipa::path(get, path = "/api/v1/targets/{target}/snapshots",
    params(("target" = String, Path, description = "target id"),
           ("page" = Option<usize>, Query, description = "1-based page of 100 items, newest first", minimum = 1)),
    responses((status = 200, description = "OK", body = [ApiSnapshot]), (status = 404, description = "no such target, snapshot or revision", body = ApiError)))]
async fn snapshots(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(
        async {
            let t = known(&app, &target).await?;
            let page = p.page()?;
            let (rows, _) = app
                .read(move |s| Ok(s.snapshot_page(&t, PER_PAGE, (page - 1) * PER_PAGE)?))
                .await?;
            let rows: Vec<ApiSnapshot> = rows.into_iter().map(ApiSnapshot::from).collect();
            Ok(json(&rows))
        }
        .await,
    )
}

/// One snapshot's extracted document (meta and sections of blocks).
#[utoipa::path(get, path = "/api/v1/targets/{target}/snapshots/{id}",
    params(("target" = String, Path, description = "target id"), ("id" = i64, Path, description = "snapshot id")),
    responses((status = 200, description = "the document: meta and sections of blocks", body = Object), (status = 404, description = "no such target, snapshot or revision", body = ApiError)))]
async fn snapshot(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
) -> Response {
    finish(
        async {
            let t = target_id(&target)?.to_string();
            let id = SnapshotId(path_id(&id, "snapshot")?);
            let doc = app
                .read(move |s| {
                    s.snapshot(&t, id)?.map(|s| s.document).ok_or_else(|| {
                        Failure::not_found(format!("target `{t}` has no snapshot {id}"))
                    })
                })
                .await?;
            Ok(json(&doc))
        }
        .await,
    )
}

/// The target's revisions, newest first (technical ones flagged).
#[utoipa::path(get, path = "/api/v1/targets/{target}/revisions",
    params(("target" = String, Path, description = "target id"),
           ("page" = Option<usize>, Query, description = "1-based page of 100 items, newest first", minimum = 1)),
    responses((status = 200, description = "OK", body = [ApiRevision]), (status = 404, description = "no such target, snapshot or revision", body = ApiError)))]
async fn revisions(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let p = Params::new(q.as_deref());
    finish(
        async {
            let t = known(&app, &target).await?;
            let page = p.page()?;
            let rows = app
                .read(move |s| Ok(s.revision_page(&t, PER_PAGE, (page - 1) * PER_PAGE)?))
                .await?;
            let rows: Vec<ApiRevision> = rows
                .into_iter()
                .map(|r| ApiRevision {
                    id: r.id,
                    old_snapshot_id: r.old_snapshot_id,
                    new_snapshot_id: r.new_snapshot_id,
                    kind: r.kind,
                    technical: r.technical,
                    created_at: r.created_at,
                    summary: r.summary,
                })
                .collect();
            Ok(json(&rows))
        }
        .await,
    )
}

/// One revision as a redline, in the documented schema (`schema/redline.v1.json`).
#[utoipa::path(get, path = "/api/v1/targets/{target}/revisions/{id}",
    params(("target" = String, Path, description = "target id"), ("id" = i64, Path, description = "revision id")),
    responses((status = 200, description = "the redline (schema/redline.v1.json)", body = Object), (status = 404, description = "no such target, snapshot or revision", body = ApiError)))]
async fn revision(
    State(app): State<Arc<App>>,
    Path((target, id)): Path<(String, String)>,
) -> Response {
    finish(
        async {
            let t = target_id(&target)?.to_string();
            let id = RevisionId(path_id(&id, "revision")?);
            let diff = app.diff.clone();
            let redline = app
                .read(move |s| {
                    let (_, redline) = super::app::stored_redline(s, &t, id, &diff)?;
                    redline.ok_or_else(|| {
                        Failure::not_found(format!(
                            "revision {id}: the two snapshots read the same under the current rules"
                        ))
                    })
                })
                .await?;
            let mut out = Vec::new();
            crate::report::json(&redline, &mut out).map_err(|e| Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: e.to_string(),
            })?;
            Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
        }
        .await,
    )
}

/// Full-text search over every snapshot: per target, the first snapshot that
/// matched and the revision that brought the text.
#[utoipa::path(get, path = "/api/v1/search",
    params(("q" = String, Query, description = "words and \"quoted phrases\", all required"),
           ("target" = Option<String>, Query, description = "only this target")),
    responses((status = 200, description = "OK", body = [SearchHit]), (status = 400, description = "a parameter that is not understood", body = ApiError)))]
async fn search(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q.as_deref());
    finish(
        async {
            let query = SearchQuery::parse_bounded(p.get("q").unwrap_or(""))
                .map_err(Failure::bad_request)?
                .ok_or_else(|| Failure::bad_request("`q`: nothing to search for"))?;
            let target = match p.get("target") {
                Some(t) => Some(known(&app, t).await?),
                None => None,
            };
            let hits: Vec<SearchHit> = app
                .read(move |s| Ok(s.search(&query, target.as_deref(), 200)?))
                .await?;
            Ok(json(&hits))
        }
        .await,
    )
}
