//! Integration tests: the real `redliner` binary against a scripted HTTP server
//! on 127.0.0.1, with a temp store (real files, a real SQLite file).

mod check;
mod harness;
mod server;
