//! A scripted HTTP server on 127.0.0.1:0 for the integration tests: it serves
//! whatever response the test set last, and records every request it saw.

use std::sync::{Arc, Mutex};
use std::thread;

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A 200 `text/html; charset=utf-8` page.
    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// A response with this status and a small HTML body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: format!("<html><body><h1>Error {status}</h1></body></html>").into_bytes(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    reply: Option<Reply>,
    /// Served first, one per request, before `reply` (a flapping server).
    queue: std::collections::VecDeque<Reply>,
    at: Vec<(String, Reply)>,
    seen: Vec<Seen>,
}

/// The server; stops when dropped.
pub struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st) = (server.clone(), state.clone());
        let thread = thread::spawn(move || {
            for req in s.incoming_requests() {
                let seen = Seen {
                    path: req.url().to_string(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                };
                let reply = {
                    let mut st = st.lock().unwrap();
                    st.seen.push(seen);
                    let path = seen_path(&st);
                    let at = st
                        .at
                        .iter()
                        .find(|(p, _)| *p == path)
                        .map(|(_, r)| r.clone());
                    at.or_else(|| st.queue.pop_front())
                        .or_else(|| st.reply.clone())
                        .unwrap_or_else(|| Reply::status(404))
                };
                let mut resp = tiny_http::Response::from_data(reply.body)
                    .with_status_code(tiny_http::StatusCode(reply.status));
                for (n, v) in &reply.headers {
                    resp.add_header(
                        tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()).unwrap(),
                    );
                }
                let _ = req.respond(resp);
            }
        });
        Server {
            port,
            state,
            server,
            thread: Some(thread),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Serve this from now on, whatever the path.
    pub fn reply(&self, reply: Reply) {
        self.state.lock().unwrap().reply = Some(reply);
    }

    /// Serve these, one per request and in order, then `reply` again.
    pub fn reply_in_turn(&self, replies: Vec<Reply>) {
        self.state.lock().unwrap().queue = replies.into();
    }

    /// Serve this at `path` (exact, query included), whatever `reply` says.
    pub fn reply_at(&self, path: &str, reply: Reply) {
        let mut st = self.state.lock().unwrap();
        st.at.retain(|(p, _)| p != path);
        st.at.push((path.to_string(), reply));
    }

    /// Requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

/// The path of the request just recorded.
fn seen_path(st: &State) -> String {
    st.seen.last().map(|s| s.path.clone()).unwrap_or_default()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
