//! What every page of the web application shares: the frame (title,
//! navigation, styles), time and kind badges, the pager, and the failure
//! page. Templates are maud's `html!` (checked when compiled; every
//! `(value)` is escaped).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::app::Failure;
use crate::revision::RevisionKind;
use crate::store::TimelineKind;

/// The styles the application adds to the redline's own.
const APP_STYLE: &str = r#"
main { max-width: 64rem; }
header.bar { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: baseline;
  border-bottom: 1px solid var(--rule); padding-bottom: .75rem; margin-bottom: 1.5rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header.bar .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
header.bar form { margin-left: auto; }
table.list { width: 100%; border-collapse: collapse; font-size: .95rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
table.list th, table.list td { text-align: left; vertical-align: top; padding: .45rem .5rem;
  border-bottom: 1px solid var(--rule); }
table.list th { color: var(--muted); font-weight: 600; white-space: nowrap; }
table.list td { overflow-wrap: anywhere; }
table.list td:first-child { min-width: 10rem; }
.badge { white-space: nowrap; }
p.actions, form, label { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
tr.failing td { background: var(--del-bg); }
.kind-failed, .kind-unconfirmed, .outcome-failed, .outcome-unconfirmed { background: var(--del-bg); color: var(--del-ink); border-color: transparent; }
.kind-stamp-only, .kind-technical, .kind-unchanged, .kind-not-modified, .kind-baseline { }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: 0 0 1rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: .95rem; }
form.filters fieldset { border: 1px solid var(--rule); border-radius: 6px; padding: .25rem .75rem; }
input[type=search], input[type=text], select { font: inherit; padding: .25rem .4rem; }
button { font: inherit; padding: .25rem .75rem; cursor: pointer; }
nav.pager { display: flex; gap: 1rem; margin: 1rem 0; font-family: system-ui, sans-serif; }
nav.crumbs { font-family: system-ui, sans-serif; font-size: .9rem; color: var(--muted); margin-bottom: .5rem; }
.error { color: var(--del-ink); }
.sentence { border-bottom: 1px dotted var(--rule); }
.since { color: var(--muted); font-size: .85rem; font-family: system-ui, sans-serif; }
ol.sentences { padding-left: 1.25rem; }
ol.sentences li { margin: .35rem 0; }
.before { color: var(--muted); }
mark { background: #fff3b0; color: inherit; }
iframe.raw { width: 100%; height: 70vh; border: 1px solid var(--rule); border-radius: 6px; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; font-family: system-ui, sans-serif; font-size: .95rem; }
div.sbs table { width: 100%; }
.block-history h3 a { font-size: .8rem; font-weight: 400; margin-left: .4rem; }
a.history { font-size: .8rem; font-weight: 400; margin-left: .4rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
"#;

/// A whole page: `title`, the navigation bar, `body`.
pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="generator" content=(format!("redliner {}", env!("CARGO_PKG_VERSION")));
                title { (title) " \u{b7} redliner" }
                style { (PreEscaped(crate::report::html_style())) (PreEscaped(APP_STYLE)) }
            }
            body {
                main {
                    header.bar {
                        a.brand href="/" { "redliner" }
                        a href="/" { "Targets" }
                        a href="/alerts" { "Alerts" }
                        a href="/feed.atom" { "Feed" }
                        a href="/api/v1/openapi.json" { "API" }
                        form method="get" action="/search" role="search" {
                            input type="search" name="q" placeholder="Search every snapshot" aria-label="Search";
                            " "
                            button type="submit" { "Search" }
                        }
                    }
                    (body)
                }
            }
        }
    }
}

/// An HTML response with `status`.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// The page for a failure: its status and its sentence.
pub fn failure_page(f: &Failure) -> Response {
    let title = f.status.canonical_reason().unwrap_or("Error");
    respond(
        f.status,
        page(
            title,
            html! {
                h1 { (title) }
                p.error { (f.message) }
                p { a href="/" { "Back to the targets" } }
            },
        ),
    )
}

/// A time as `2026-11-29 10:00 UTC` in a `<time>` element.
pub fn time(t: Timestamp) -> Markup {
    html! {
        time datetime=(t.to_string()) { (crate::report::utc_minute(t)) }
    }
}

/// The badge of a revision kind (`revised`, `silent edit`, ...).
pub fn kind_badge(kind: RevisionKind) -> Markup {
    html! {
        span class=(format!("badge kind-{}", kind.as_str())) { (crate::report::kind_words(kind)) }
    }
}

/// The badge of a timeline line's kind.
pub fn timeline_badge(kind: TimelineKind) -> Markup {
    html! {
        span class=(format!("badge kind-{}", kind.as_str())) { (kind.as_str().replace('-', " ")) }
    }
}

/// Previous/next links for page `page` (1-based) of `pages`, keeping
/// `query` (already URL-encoded, without `page`).
pub fn pager(path: &str, query: &str, page: usize, pages: usize) -> Markup {
    let link = |p: usize| {
        let sep = if query.is_empty() { "" } else { "&" };
        format!("{path}?{query}{sep}page={p}")
    };
    html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 { a rel="prev" href=(link(page - 1)) { "\u{2190} Newer" } }
                span { "Page " (page) " of " (pages) }
                @if page < pages { a rel="next" href=(link(page + 1)) { "Older \u{2192}" } }
            }
        }
    }
}

/// How many pages `total` lines make at `per_page` (at least one).
pub fn page_count(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page).max(1)
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
