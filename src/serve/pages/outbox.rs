//! The alerts page, its write actions, and the feeds (see the route table
//! of [`super::super`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::html;

use super::history::plural;
use super::{Params, finish, revision_path, target_path};
use crate::serve::app::{App, Failure, target_id};
use crate::serve::chrome::{failure_page, page, respond, time};
use crate::store::AlertState;

// ---------------------------------------------------------------- alerts

pub async fn alerts(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    let p = Params::new(q.as_deref());
    finish(alerts_page(&app, &p).await)
}

async fn alerts_page(app: &Arc<App>, p: &Params) -> Result<Response, Failure> {
    let state = match p.get("state") {
        None => None,
        Some(s) => Some(
            s.parse::<AlertState>()
                .map_err(|_| Failure::bad_request(format!("`state={s}`: not an alert state")))?,
        ),
    };
    let states: Vec<AlertState> = state.into_iter().collect();
    let rows = app
        .read(move |store| {
            let rows = store.alerts(&states, 200)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let d = store.deliveries(r.id)?;
                out.push((r, d));
            }
            Ok(out)
        })
        .await?;
    let channels: Vec<String> = app
        .settings
        .as_ref()
        .map(|s| s.channels.iter().map(|c| c.id.clone()).collect())
        .unwrap_or_default();
    let body = html! {
        h1 { "Alerts" }
        form.filters method="get" action="/alerts" {
            label { "State "
                select name="state" {
                    option value="" { "any" }
                    @for s in ["pending", "sending", "delivered", "failed", "expired"] {
                        option value=(s) selected[p.get("state") == Some(s)] { (s) }
                    }
                }
            }
            button type="submit" { "Apply" }
        }
        @if app.write {
            form method="post" action="/alerts/retry" { button id="retry" type="submit" { "Retry failed and pending alerts now" } }
            @if !channels.is_empty() {
                form method="post" action="/alerts/test" {
                    label { "Send a test alert to "
                        select name="channel" { @for c in &channels { option value=(c) { (c) } } }
                    }
                    " " button id="test" type="submit" { "Send" }
                }
            }
        } @else {
            p.quiet { "Read-only: `write = true` in the config's `[serve]` table enables retrying and test alerts here." }
        }
        @if rows.is_empty() {
            p { "No alerts." }
        } @else {
            table.list id="alerts" {
                thead { tr { th { "Queued" } th { "Target" } th { "Channel" } th { "Kind" } th { "State" } th { "Attempts" } } }
                tbody {
                    @for (a, deliveries) in &rows {
                        tr.failing[matches!(a.state, AlertState::Failed | AlertState::Expired)] data-state=(a.state.as_str()) {
                            td { (time(a.created_at)) }
                            td { a href=(target_path(&a.target)) { (a.target) }
                                 @if let Some(r) = a.revision_id { br; a href=(revision_path(&a.target, r)) { "revision #" (r) } } }
                            td { code { (a.channel) } }
                            td { (a.kind.as_str()) }
                            td { (a.state.as_str())
                                 @if let Some(at) = a.delivered_at { br; span.quiet { "delivered " (time(at)) } }
                                 @if a.state == AlertState::Pending { br; span.quiet { "next " (time(a.next_attempt_at)) } } }
                            td {
                                (a.attempts)
                                @if let Some(e) = &a.last_error { br; span.error { (e) } }
                                @if !deliveries.is_empty() {
                                    details { summary { "attempts" }
                                        ol { @for d in deliveries { li {
                                            (time(d.attempted_at)) " " @if d.ok { "ok" } @else { "failed" }
                                            @if let Some(s) = d.status { " (" (s) ")" }
                                            " in " (d.duration_ms) " ms"
                                            @if let Some(e) = &d.error { ": " span.error { (e) } }
                                        } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(respond(StatusCode::OK, page("Alerts", body)))
}

fn write_refused() -> Failure {
    Failure {
        status: StatusCode::FORBIDDEN,
        message: "this server is read-only: set `write = true` in the config's `[serve]` table"
            .into(),
    }
}

/// Queues every pending and failed alert for now and runs one delivery
/// round at once (a store connection and a runtime of its own, off the
/// server's threads; alerts are claimed, so a `watch` delivering meanwhile
/// sends none twice), then says what happened.
pub async fn retry_alerts(State(app): State<Arc<App>>) -> Response {
    if !app.write {
        return failure_page(&write_refused());
    }
    let queued = app
        .read(|store| Ok(store.retry_alerts_now(Timestamp::now())?))
        .await;
    let queued = match queued {
        Ok(n) => n,
        Err(f) => return failure_page(&f),
    };
    let settings = app.settings.clone();
    let round =
        tokio::task::spawn_blocking(move || -> Result<Vec<crate::alerting::Attempt>, String> {
            let Some(settings) = settings else {
                return Ok(Vec::new());
            };
            let mut store = settings.open_store().map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let env = |name: &str| std::env::var(name).ok();
            runtime
                .block_on(crate::alerting::deliver_due(
                    &mut store,
                    &settings.channels,
                    &settings.delivery,
                    &crate::notify::HttpNotifier::default(),
                    &crate::clock::SystemClock,
                    &env,
                ))
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let message = match round {
        Ok(attempts) => {
            let delivered = attempts
                .iter()
                .filter(|a| a.state == AlertState::Delivered)
                .count();
            format!(
                "{} queued again; this round delivered {delivered} of {} attempted{}",
                plural(queued, "alert", "alerts"),
                attempts.len(),
                if delivered < attempts.len() {
                    " (the table below says why the others were not)"
                } else {
                    ""
                }
            )
        }
        Err(e) => format!(
            "{} queued again; the delivery round failed: {e}",
            plural(queued, "alert", "alerts")
        ),
    };
    done_page(&message)
}

/// The answer to a write: what it did, and the way back.
fn done_page(message: &str) -> Response {
    respond(
        StatusCode::OK,
        page(
            "Alerts",
            html! {
                h1 { "Alerts" }
                p.notice id="done" { (message) }
                p { a href="/alerts" { "Back to the alerts" } }
            },
        ),
    )
}

pub async fn test_alert(State(app): State<Arc<App>>, body: Bytes) -> Response {
    if !app.write {
        return failure_page(&write_refused());
    }
    let form = Params::new(std::str::from_utf8(&body).ok());
    let Some(channel) = form.get("channel") else {
        return failure_page(&Failure::bad_request("name a channel"));
    };
    let Some(config) = app
        .settings
        .as_ref()
        .and_then(|s| s.channels.iter().find(|c| c.id == channel))
    else {
        return failure_page(&Failure::not_found(format!(
            "channel `{channel}` is not configured"
        )));
    };
    let resolved = match config.resolve(&|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => return failure_page(&Failure::bad_request(e.to_string())),
    };
    let now = Timestamp::now();
    let alert = crate::notify::Alert::sample(now.round(jiff::Unit::Millisecond).unwrap_or(now));
    let result = crate::notify::deliver(&resolved, &alert, &crate::notify::client()).await;
    let message = if result.ok {
        format!("test alert delivered to `{channel}`")
    } else {
        format!(
            "test alert to `{channel}` failed: {}",
            result.error.as_deref().unwrap_or("no reason given")
        )
    };
    done_page(&message)
}

// ---------------------------------------------------------------- feeds

pub async fn combined_feed(State(app): State<Arc<App>>) -> Response {
    finish(feed(&app, None).await)
}

pub async fn target_feed(State(app): State<Arc<App>>, Path(target): Path<String>) -> Response {
    finish(feed(&app, Some(target)).await)
}

/// A feed as `check` last wrote it (`<store>/feed.atom`,
/// `<store>/<target>/feed.atom`).
async fn feed(app: &Arc<App>, target: Option<String>) -> Result<Response, Failure> {
    let target = target
        .as_deref()
        .map(|t| target_id(t).map(str::to_string))
        .transpose()?;
    let in_database = app.read(|store| Ok(store.files_in_database())).await?;
    if in_database {
        // A store whose files are in its database keeps no feed files.
        let for_target = target.clone();
        let bytes = app
            .read(move |store| {
                Ok(match &for_target {
                    Some(t) => crate::archive::target_feed_bytes(store, t),
                    None => crate::archive::combined_feed_bytes(store),
                })
            })
            .await?
            .map_err(|e| Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: e.to_string(),
            })?;
        return Ok((
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            bytes,
        )
            .into_response());
    }
    let path = match &target {
        Some(t) => app.root.join(t).join(crate::archive::FEED_FILE),
        None => app.root.join(crate::archive::FEED_FILE),
    };
    let bytes = tokio::fs::read(&path).await.map_err(|_| {
        Failure::not_found(match &target {
            Some(t) => {
                format!("no feed for `{t}` yet: `check` writes it when the target first changes")
            }
            None => {
                "no feed yet: `check` writes it when a configured target first changes".to_string()
            }
        })
    })?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        bytes,
    )
        .into_response())
}
