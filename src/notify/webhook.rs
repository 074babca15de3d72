//! The generic JSON webhook, and the HTTP POST every webhook channel shares.
//!
//! The body is [`Alert::to_json_bytes`]: for a revision, `alert` and
//! `idempotency_key` followed by the documented redline JSON. Headers:
//!
//! - `Content-Type: application/json`
//! - `Idempotency-Key: <key>` (also in the body): receivers drop repeats
//! - with a secret, the three headers of the Standard Webhooks specification
//!   (<https://www.standardwebhooks.com/>, so any of its libraries verifies
//!   them): `webhook-id` (the idempotency key: the same on every retry of one
//!   alert to one channel), `webhook-timestamp` (Unix seconds of this attempt)
//!   and `webhook-signature: v1,<base64>`, the HMAC-SHA256 of
//!   `{id}.{timestamp}.{body}`. A secret written `whsec_<base64>` is that
//!   key's base64; any other secret is its own bytes. Receivers reject a
//!   timestamp outside their tolerance (5 minutes by default), which stops
//!   replays.
//! - `X-Redliner-Signature: sha256=<hex>` as well, for receivers written
//!   before: the lowercase hex HMAC-SHA256 of the exact body bytes under the
//!   secret's bytes (no timestamp, so no replay protection).
//!
//! Outcomes: 2xx is delivered; 408, 425, 429 and 5xx are transient failures
//! (retry later); other statuses are permanent; a connection failure or
//! timeout is transient. Error texts name the receiver as `scheme://host` only.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::alert::Alert;
use super::{DeliveryResult, Secret, WebhookUrl};

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-Redliner-Signature";
/// The idempotency header's name.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Most characters of a receiver's answer quoted in an error.
const MAX_QUOTED_BODY: usize = 200;

/// The exact body bytes POSTed to a generic webhook on channel `channel_id`
/// ([`Alert::to_json_bytes`]).
pub fn body(alert: &Alert, channel_id: &str) -> Vec<u8> {
    alert.to_json_bytes(channel_id)
}

/// `sha256=<lowercase hex HMAC-SHA256 of body under secret>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The Standard Webhooks message id header.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// The Standard Webhooks timestamp header (Unix seconds).
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The Standard Webhooks signature header.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// The Standard Webhooks signature of `body` sent as message `id` at
/// `timestamp` (Unix seconds): `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the key (`whsec_<base64>`: the decoded
/// bytes; any other secret: its bytes).
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|k| b64.decode(k).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", b64.encode(mac.finalize().into_bytes()))
}

/// The extra headers of a generic webhook request sent at `now`:
/// `Idempotency-Key` and, with a secret, the Standard Webhooks headers and
/// `X-Redliner-Signature` (see the module docs).
pub fn headers(
    alert: &Alert,
    channel_id: &str,
    secret: Option<&Secret>,
    body: &[u8],
    now: jiff::Timestamp,
) -> Vec<(&'static str, String)> {
    let key = alert.idempotency_key(channel_id);
    let mut h = vec![(IDEMPOTENCY_HEADER, key.clone())];
    if let Some(s) = secret {
        let at = now.as_second();
        h.push((
            WEBHOOK_SIGNATURE_HEADER,
            standard_signature(s.expose(), &key, at, body),
        ));
        h.push((WEBHOOK_ID_HEADER, key));
        h.push((WEBHOOK_TIMESTAMP_HEADER, at.to_string()));
        h.push((SIGNATURE_HEADER, signature(s.expose().as_bytes(), body)));
    }
    h
}

/// Sends `alert` to a generic webhook.
pub(crate) async fn send(
    client: &super::HttpClients,
    url: &WebhookUrl,
    secret: Option<&Secret>,
    alert: &Alert,
    channel_id: &str,
    timeout: Duration,
) -> DeliveryResult {
    let body = body(alert, channel_id);
    let headers = headers(alert, channel_id, secret, &body, jiff::Timestamp::now());
    post(client, url, body, &headers, timeout).await
}

/// POSTs a JSON value (Slack, Teams, Discord).
pub(crate) async fn post_json(
    client: &super::HttpClients,
    url: &WebhookUrl,
    value: &serde_json::Value,
    headers: &[(&'static str, String)],
    timeout: Duration,
) -> DeliveryResult {
    let body = serde_json::to_vec(value).unwrap_or_default();
    post(client, url, body, headers, timeout).await
}

async fn post(
    client: &super::HttpClients,
    url: &WebhookUrl,
    body: Vec<u8>,
    headers: &[(&'static str, String)],
    timeout: Duration,
) -> DeliveryResult {
    // The guard: an IP-literal host is checked here (no resolver sees it),
    // a host name by the client's resolver when it is dialled.
    let refused = |why: String, private_would_admit: bool| {
        let hint = if private_would_admit {
            "; set `allow_private = true` on the channel if the receiver is on the intranet"
        } else {
            ""
        };
        DeliveryResult::failed(
            None,
            format!("POST to `{url}`: refused ({why}){hint}"),
            false,
        )
    };
    if let Err(r) = url.reach().admit_host(url.expose()) {
        return refused(r.to_string(), r.private_would_admit());
    }
    let client = match client.get(url.reach()) {
        Ok(c) => c,
        Err(cause) => {
            return DeliveryResult::failed(
                None,
                format!("POST to `{url}`: setting up the HTTP client: {cause}"),
                false,
            );
        }
    };
    let mut req = client
        .post(url.expose().clone())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            if let Some(r) = crate::fetch::guard::refused_host(&e) {
                return refused(r.to_string(), r.refusal.private_would_admit());
            }
            return DeliveryResult::failed(
                None,
                format!("POST to `{url}`: {}", cause(&e, timeout)),
                true,
            );
        }
    };
    let status = resp.status();
    if status.is_success() {
        return DeliveryResult::delivered(Some(status.as_u16()));
    }
    let code = status.as_u16();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.expose().join(l).ok())
            .map(|l| super::redact_url(&l))
            .unwrap_or_else(|| "nowhere".into());
        return DeliveryResult::failed(
            Some(code),
            format!(
                "POST to `{url}`: HTTP {status} to `{to}`: redirects are not followed (the \
                 payload would be lost); set the channel to the final URL"
            ),
            false,
        );
    }
    let transient = status.is_server_error() || matches!(code, 408 | 425 | 429);
    let answer = resp.text().await.unwrap_or_default();
    let answer: String = answer.split_whitespace().collect::<Vec<_>>().join(" ");
    let (answer, _) = super::text::cut_chars(&answer, MAX_QUOTED_BODY, "…");
    let mut msg = format!("POST to `{url}`: HTTP {status}");
    if !answer.is_empty() {
        msg.push_str(&format!(": {answer}"));
    }
    DeliveryResult::failed(Some(code), msg, transient)
}

/// The reason of a transport failure, without the URL reqwest puts in its
/// own message: the innermost cause (`Connection refused (os error 111)`).
fn cause(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {}s", timeout.as_secs_f64());
    }
    let mut innermost: Option<String> = None;
    let mut next = std::error::Error::source(e);
    while let Some(s) = next {
        innermost = Some(s.to_string());
        next = s.source();
    }
    let kind = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match innermost {
        Some(c) => format!("{kind}: {c}"),
        None => kind.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::notify::channel::{Channel, Endpoint};
    use crate::notify::text::tests::example;
    use crate::notify::{deliver, discord, slack, teams};
    use std::sync::mpsc;
    use std::thread;

    /// One request as a receiver saw it.
    #[derive(Debug)]
    pub(crate) struct Received {
        pub path: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Received {
        pub(crate) fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
        pub(crate) fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap()
        }
    }

    /// A loopback receiver answering each request with the next status of
    /// `statuses`; returns its base URL and a channel of what it received.
    pub(crate) fn receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for status in statuses {
                let Ok(mut req) = server.recv() else { return };
                let mut body = Vec::new();
                req.as_reader().read_to_end(&mut body).unwrap();
                let got = Received {
                    path: req.url().to_string(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                };
                let answer = if status == 200 {
                    "ok"
                } else {
                    "receiver <b>broke</b>\n  badly"
                };
                let _ =
                    req.respond(tiny_http::Response::from_string(answer).with_status_code(status));
                let _ = tx.send(got);
            }
        });
        (format!("http://127.0.0.1:{port}"), rx)
    }

    fn channel(endpoint: Endpoint) -> Channel {
        Channel {
            id: "hook".into(),
            endpoint,
            timeout: Duration::from_secs(5),
        }
    }

    fn url(s: &str) -> WebhookUrl {
        WebhookUrl::new(url::Url::parse(s).unwrap())
    }

    #[test]
    fn signature_matches_an_independent_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The specification's example: secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`,
    /// id `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, body
    /// `{"test": 2432232314}`.
    #[test]
    fn standard_signature_matches_the_specification_example() {
        assert_eq!(
            standard_signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[tokio::test]
    async fn generic_webhook_is_signed_and_keyed() {
        let (base, rx) = receiver(vec![200]);
        let ch = channel(Endpoint::Webhook {
            url: url(&format!("{base}/hook?token=s3cret")),
            secret: Some(Secret::new("k3y")),
        });
        let alert = crate::notify::Alert::revision(example(), None);
        let result = deliver(&ch, &alert, &crate::notify::client()).await;
        assert_eq!(result, DeliveryResult::delivered(Some(200)));
        let got = rx.recv().unwrap();
        assert_eq!(got.path, "/hook?token=s3cret");
        assert_eq!(got.header("Content-Type"), Some("application/json"));
        assert_eq!(
            got.header("Idempotency-Key"),
            Some("redliner:nato-belarus:42:hook")
        );
        // verify the signature the way a receiver would, with its own HMAC
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"k3y").unwrap();
        mac.update(&got.body);
        let sig = got.header("X-Redliner-Signature").unwrap();
        let hex_sig = sig.strip_prefix("sha256=").unwrap();
        mac.verify_slice(&hex::decode(hex_sig).unwrap()).unwrap();
        assert_eq!(got.body, alert.to_json_bytes("hook"));
        // and the Standard Webhooks headers, with that specification's own
        // library: the id is the idempotency key, the timestamp now
        assert_eq!(
            got.header("webhook-id"),
            Some("redliner:nato-belarus:42:hook")
        );
        let at: i64 = got.header("webhook-timestamp").unwrap().parse().unwrap();
        assert!((jiff::Timestamp::now().as_second() - at).abs() < 60);
        let mut map = reqwest::header::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            map.insert(name, got.header(name).unwrap().parse().unwrap());
        }
        standardwebhooks::Webhook::from_bytes(b"k3y".to_vec())
            .unwrap()
            .verify(&got.body, &map)
            .unwrap();
        // a replay an hour later, or a changed body, is refused
        let mut old = map.clone();
        old.insert(
            "webhook-timestamp",
            (at - 3600).to_string().parse().unwrap(),
        );
        let verifier = standardwebhooks::Webhook::from_bytes(b"k3y".to_vec()).unwrap();
        assert!(verifier.verify(&got.body, &old).is_err());
        let mut tampered = got.body.clone();
        tampered.push(b' ');
        assert!(verifier.verify(&tampered, &map).is_err());
        assert_eq!(
            got.json()["idempotency_key"],
            serde_json::json!("redliner:nato-belarus:42:hook")
        );
        assert_eq!(got.json()["alert"], serde_json::json!("revision"));
    }

    #[tokio::test]
    async fn unsigned_webhook_has_no_signature_header() {
        let (base, rx) = receiver(vec![204]);
        let ch = channel(Endpoint::Webhook {
            url: url(&base),
            secret: None,
        });
        let alert = crate::notify::Alert::sample("2026-11-14T10:00:00Z".parse().unwrap());
        let result = deliver(&ch, &alert, &crate::notify::client()).await;
        assert_eq!(result, DeliveryResult::delivered(Some(204)));
        let got = rx.recv().unwrap();
        assert_eq!(got.header("X-Redliner-Signature"), None);
        assert_eq!(got.header("webhook-signature"), None);
        assert_eq!(
            got.header("Idempotency-Key"),
            Some("redliner:test-alert:1794650400:hook")
        );
    }

    #[tokio::test]
    async fn chat_receivers_get_their_payloads() {
        let alert = crate::notify::Alert::revision(example(), None);
        type MakeEndpoint = fn(WebhookUrl) -> Endpoint;
        let cases: [(MakeEndpoint, serde_json::Value); 3] = [
            (Endpoint::Slack, slack::payload(&alert)),
            (Endpoint::Teams, teams::payload(&alert)),
            (Endpoint::Discord, discord::payload(&alert)),
        ];
        for (make, want) in cases {
            let (base, rx) = receiver(vec![200]);
            let ch = channel(make(url(&format!("{base}/services/T/B/tok"))));
            let result = deliver(&ch, &alert, &crate::notify::client()).await;
            assert_eq!(
                result,
                DeliveryResult::delivered(Some(200)),
                "{}",
                ch.kind()
            );
            let got = rx.recv().unwrap();
            assert_eq!(got.path, "/services/T/B/tok");
            assert_eq!(got.header("Content-Type"), Some("application/json"));
            assert_eq!(got.json(), want, "{}", ch.kind());
        }
    }

    #[tokio::test]
    async fn a_redirect_is_a_failed_delivery_not_followed() {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = thread::spawn(move || {
            let mut methods = Vec::new();
            while let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(700)) {
                methods.push(req.method().to_string());
                let resp = tiny_http::Response::empty(301).with_header(
                    tiny_http::Header::from_bytes("Location", "/moved/s3cret").unwrap(),
                );
                let _ = req.respond(resp);
            }
            methods
        });
        let alert = crate::notify::Alert::revision(example(), None);
        let ch = channel(Endpoint::Webhook {
            url: url(&format!("http://127.0.0.1:{port}/hook/s3cret")),
            secret: None,
        });
        let result = deliver(&ch, &alert, &crate::notify::client()).await;
        assert_eq!(
            result,
            DeliveryResult::failed(
                Some(301),
                format!(
                    "POST to `http://127.0.0.1:{port}`: HTTP 301 Moved Permanently to \
                     `http://127.0.0.1:{port}`: redirects are not followed (the payload would \
                     be lost); set the channel to the final URL"
                ),
                false
            )
        );
        assert_eq!(seen.join().unwrap(), ["POST"], "the redirect was followed");
    }

    #[tokio::test]
    async fn webhook_delivery_to_a_private_address_is_refused() {
        let alert = crate::notify::Alert::revision(example(), None);
        let client = crate::notify::client();
        let advice =
            "; set `allow_private = true` on the channel if the receiver is on the intranet";
        // (URL, allow_private, the refusal; None: admitted, then refused
        // connections on a port nobody listens on are not the guard's)
        let cases: [(&str, Option<bool>, Option<String>); 10] = [
            (
                "http://169.254.169.254/latest/meta-data/",
                None,
                Some("link-local address 169.254.169.254, a cloud metadata endpoint".into()),
            ),
            (
                "http://169.254.169.254/hook",
                Some(true),
                Some("link-local address 169.254.169.254, a cloud metadata endpoint".into()),
            ),
            (
                "http://[::ffff:a9fe:a9fe]/hook",
                Some(true),
                Some("link-local address ::ffff:169.254.169.254, a cloud metadata endpoint".into()),
            ),
            (
                "http://10.1.2.3/hook",
                None,
                Some(format!("private address 10.1.2.3){advice}")),
            ),
            (
                "https://192.168.0.5:8443/hook",
                None,
                Some(format!("private address 192.168.0.5){advice}")),
            ),
            (
                "http://[fe80::1]/hook",
                None,
                Some(format!("link-local address fe80::1){advice}")),
            ),
            (
                "http://100.64.0.9/hook",
                None,
                Some(format!("shared (CGNAT) address 100.64.0.9){advice}")),
            ),
            (
                "http://127.0.0.1:1/hook",
                Some(false),
                Some(format!("loopback address 127.0.0.1){advice}")),
            ),
            // Resolved when dialled: refused by the resolver, never connected.
            (
                "http://localhost:1/hook",
                Some(false),
                Some("`localhost` resolves to loopback address".to_string()),
            ),
            ("http://127.0.0.1:1/hook", None, None),
        ];
        for (u, allow, refusal) in cases {
            let ch = channel(Endpoint::Webhook {
                url: url(u).with_allow_private(allow),
                secret: None,
            });
            let result = deliver(&ch, &alert, &client).await;
            assert!(!result.ok, "{u}");
            let error = result.error.unwrap_or_default();
            match refusal {
                Some(why) => {
                    assert!(
                        error.contains(&format!("refused ({why}")),
                        "{u} {allow:?}: {error}"
                    );
                    assert!(!result.transient, "{u}: a refusal is not retried");
                    assert_eq!(result.status, None);
                }
                None => assert!(!error.contains("`: refused ("), "{u}: {error}"),
            }
            assert!(!error.contains("/hook"), "the secret path leaked: {error}");
        }
    }

    #[tokio::test]
    async fn failures_are_classified_and_redacted() {
        let client = crate::notify::client();
        let alert = crate::notify::Alert::revision(example(), None);
        for (status, transient) in [
            (500u16, true),
            (503, true),
            (429, true),
            (404, false),
            (400, false),
        ] {
            let (base, rx) = receiver(vec![status]);
            let ch = channel(Endpoint::Slack(url(&format!("{base}/services/T/B/s3cret"))));
            let result = deliver(&ch, &alert, &client).await;
            let reason = tiny_http::StatusCode(status).default_reason_phrase();
            assert_eq!(
                result,
                DeliveryResult::failed(
                    Some(status),
                    format!(
                        "POST to `{base}`: HTTP {status} {reason}: receiver <b>broke</b> badly"
                    ),
                    transient
                ),
                "{status}"
            );
            rx.recv().unwrap();
        }
        // nobody listening: transient, and the URL's secret path is not shown
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let ch = channel(Endpoint::Discord(url(&format!(
            "http://127.0.0.1:{port}/api/webhooks/1/s3cret"
        ))));
        let result = deliver(&ch, &alert, &client).await;
        assert!(
            !result.ok && result.transient && result.status.is_none(),
            "{result:?}"
        );
        let err = result.error.unwrap();
        assert!(
            err.starts_with(&format!(
                "POST to `http://127.0.0.1:{port}`: connection failed"
            )),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn slow_receivers_time_out_as_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // accepts and never answers
        let hold = thread::spawn(move || {
            let conn = listener.accept();
            thread::sleep(Duration::from_millis(1500));
            drop(conn);
        });
        let mut ch = channel(Endpoint::Teams(url(&format!(
            "http://127.0.0.1:{port}/workflows/s3cret"
        ))));
        ch.timeout = Duration::from_millis(300);
        let result = deliver(
            &ch,
            &crate::notify::Alert::revision(example(), None),
            &crate::notify::client(),
        )
        .await;
        assert_eq!(
            result,
            DeliveryResult::failed(
                None,
                format!("POST to `http://127.0.0.1:{port}`: timed out after 0.3s"),
                true
            )
        );
        hold.join().unwrap();
    }
}
