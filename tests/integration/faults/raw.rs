//! A raw-socket HTTP/1.1 server on 127.0.0.1 for the fault campaign: it
//! writes exactly the bytes a script says, so a response can lie about its
//! `Content-Length`, stop mid-body, reset the connection (`SO_LINGER` 0),
//! stall before its headers or mid-body, or send malformed chunks, which no
//! well-behaved server library would let a test do.
//!
//! Every connection serves one request and is closed (`Connection: close`),
//! so each fetch is one accepted connection and the scripts stay simple.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One step of a scripted response.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Wait this long (a slow server).
    Pause(Duration),
    /// Reset the connection: `SO_LINGER` 0, then close (the peer sees RST).
    Reset,
    /// Stop answering, keeping the connection open until the server stops
    /// (a stalled server; the client's timeout has to end it).
    Hang,
}

/// A scripted response: steps run in order, then a graceful close.
#[derive(Debug, Clone)]
pub struct Response(pub Vec<Step>);

impl Response {
    /// These bytes, then close.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Response {
        Response(vec![Step::Write(bytes.into())])
    }

    /// A well-formed response: status line, `headers`, a correct
    /// `Content-Length` and `Connection: close`, then `body`.
    pub fn full(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Response {
        let body = body.into();
        let length = body.len().to_string();
        let mut all = headers.to_vec();
        all.push(("Content-Length", &length));
        let mut bytes = head(status, &all);
        bytes.extend_from_slice(&body);
        Response::bytes(bytes)
    }

    /// A 200 `text/html; charset=utf-8` page with a correct `Content-Length`.
    pub fn html(body: impl Into<Vec<u8>>) -> Response {
        Response::full(200, &[("Content-Type", "text/html; charset=utf-8")], body)
    }

    /// A redirect with this status to `location`, no body.
    pub fn redirect(status: u16, location: &str) -> Response {
        Response::full(status, &[("Location", location)], Vec::new())
    }

    /// These steps.
    pub fn steps(steps: Vec<Step>) -> Response {
        Response(steps)
    }
}

/// A status line, these headers and `Connection: close`, then the blank line.
/// Add `Content-Length` (or `Transfer-Encoding`) to `headers` as the fault
/// needs: none makes the body close-delimited.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

#[derive(Debug)]
struct State {
    /// Served when nothing else applies: the good page.
    good: Response,
    /// Served instead of `good` while set: a fault that lasts.
    steady: Option<Response>,
    /// Served first, one per request, in order (a fault that happens once).
    queue: VecDeque<Response>,
    /// Served at an exact path (query included), whatever else is set.
    at: Vec<(String, Response)>,
    /// The path of every request seen, in order.
    seen: Vec<String>,
}

/// The server; stops (and ends stalled connections) when dropped.
pub struct RawServer {
    /// The port it listens on.
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

/// How long a stalled connection is held at most (far above any client
/// timeout the campaign sets), so a forgotten server never hangs a test run.
const HANG_AT_MOST: Duration = Duration::from_secs(20);

impl RawServer {
    /// Listens on 127.0.0.1:0 and serves `good` until told otherwise.
    pub fn start(good: Response) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(State {
            good,
            steady: None,
            queue: VecDeque::new(),
            at: Vec::new(),
            seen: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stopping) = (state.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (st, stopping) = (st.clone(), stopping.clone());
                thread::spawn(move || serve(stream, &st, &stopping));
            }
        });
        RawServer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Serves `response` to every request until [`RawServer::heal`].
    pub fn steady(&self, response: Response) {
        self.state.lock().unwrap().steady = Some(response);
    }

    /// Serves `response` to the next request only (then the good page again).
    pub fn once(&self, response: Response) {
        self.state.lock().unwrap().queue.push_back(response);
    }

    /// Serves `response` at `path` (exact, query included) until healed.
    pub fn at(&self, path: &str, response: Response) {
        self.state
            .lock()
            .unwrap()
            .at
            .push((path.to_string(), response));
    }

    /// Back to the good page everywhere.
    pub fn heal(&self) {
        let mut st = self.state.lock().unwrap();
        st.steady = None;
        st.queue.clear();
        st.at.clear();
    }

    /// The paths requested so far, in order.
    pub fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request head, picks the scripted response, plays it.
fn serve(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(path) = read_request_path(&mut stream) else {
        return;
    };
    let response = {
        let mut st = state.lock().unwrap();
        st.seen.push(path.clone());
        let at = st
            .at
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, r)| r.clone());
        at.or_else(|| st.queue.pop_front())
            .or_else(|| st.steady.clone())
            .unwrap_or_else(|| st.good.clone())
    };
    for step in response.0 {
        match step {
            Step::Write(bytes) => {
                if stream
                    .write_all(&bytes)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
            Step::Pause(d) => pause(d, stop),
            Step::Reset => {
                reset(&stream);
                return;
            }
            Step::Hang => {
                pause(HANG_AT_MOST, stop);
                return;
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read to the end before the socket goes away.
    let mut sink = [0u8; 512];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Sleeps `d` in small steps, returning early when the server stops.
fn pause(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(10));
    }
}

/// Closes with `SO_LINGER` {on, 0 s}: the kernel sends RST, not FIN.
fn reset(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid open socket descriptor and a correctly sized option value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::from_ref(&linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt(SO_LINGER)");
}

/// The request target of the request line, after reading the whole head.
fn read_request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace().nth(1).map(str::to_string)
}
