//! The alerts page, its write actions, and the feeds (see the route table
//! of [`super::super`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use maud::html;

use super::{Params, finish, revision_path, target_path};
use crate::serve::app::{App, Failure, target_id};
use crate::serve::chrome::{enc, failure_page, page, respond, time};
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
    let message = p.get("done");
    let body = html! {
        h1 { "Alerts" }
        @if let Some(m) = message { p.notice id="done" { (m) } }
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

pub async fn retry_alerts(State(app): State<Arc<App>>) -> Response {
    if !app.write {
        return failure_page(&write_refused());
    }
    let done = app
        .read(|store| Ok(store.retry_alerts_now(Timestamp::now())?))
        .await;
    match done {
        Ok(n) => Redirect::to(&format!(
            "/alerts?done={}",
            enc(&format!("{n} alerts queued for the next delivery round"))
        ))
        .into_response(),
        Err(f) => failure_page(&f),
    }
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
    Redirect::to(&format!("/alerts?done={}", enc(&message))).into_response()
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
    let path = match &target {
        Some(t) => app.root.join(t).join(crate::archive::FEED_FILE),
        None => app.root.join(crate::archive::FEED_FILE),
    };
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        Failure::not_found(format!(
            "no feed at `{}` yet ({e}): `check` writes it",
            path.display()
        ))
    })?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        bytes,
    )
        .into_response())
}
