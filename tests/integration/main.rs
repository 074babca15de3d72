//! Integration tests: the real `redliner` binary against a scripted HTTP server
//! on 127.0.0.1, with a temp store (real files, a real SQLite file).

mod accuracy;
mod alerts;
mod archive_server;
mod backfill;
mod bounded;
mod check;
mod commands;
mod concurrency;
mod config;
mod crash;
mod cuts_and_charsets;
mod exports;
mod faults;
mod fingerprint;
mod golden;
mod harness;
mod html_browser;
mod maintenance;
mod migrate;
mod properties;
mod redirects;
mod schema;
mod serve;
#[allow(dead_code)] // request records are read by the conditional-GET tests only
mod server;
mod volatile;
mod watch;
mod web;
mod web_browser;
mod workers;
