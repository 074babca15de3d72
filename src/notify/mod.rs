//! The notify stage: alert channels and what is sent on them.
//!
//! - [`ChannelConfig`] is one valid `[[channel]]` entry of the config file
//!   (made from the entry as written, [`channel::ChannelEntry`], by
//!   [`channels_from`]), turned into a usable [`Channel`] by
//!   [`ChannelConfig::resolve`], which reads the secrets (webhook URLs, HMAC
//!   keys, SMTP passwords) from the environment variables the entry names.
//! - [`Alert`] is what is sent: a revision (a [`Redline`](crate::report::Redline)
//!   with an idempotency key) or a target's health change ("failing" /
//!   "recovered").
//! - [`AlertRules`], [`should_alert`] and [`health_transition`] are the pure
//!   policy: which revisions alert, and when a run of failed checks does.
//! - [`deliver`] (or a [`Notifier`]: [`HttpNotifier`] for real,
//!   [`RecordingNotifier`] in tests) sends one alert to one channel and returns a
//!   [`DeliveryResult`]; it never panics and never fails with an error value, so
//!   a caller (the outbox) records every attempt the same way.
//!
//! The payload builders ([`slack::payload`], [`teams::payload`],
//! [`discord::payload`], [`webhook::body`], [`email::message`],
//! [`command::stdin_json`]) are pure functions of the alert, unit-tested on
//! their exact output.
//!
//! Secrets never leave this module in text: [`Secret`] and [`WebhookUrl`]
//! print as `[redacted]` and `scheme://host` in `Debug`, `Display`, errors and
//! logs.

pub mod alert;
pub mod channel;
pub mod command;
pub mod discord;
pub mod email;
pub mod fit;
pub mod policy;
pub mod slack;
pub mod teams;
pub mod text;
pub mod webhook;

use std::fmt;

use serde::Serialize;

use crate::fetch::Reach;
use crate::fetch::guard::GuardedClients;

pub use alert::{Alert, HealthAlert, RevisionAlert};
pub use channel::{
    Channel, ChannelConfig, ChannelKind, CommandEndpoint, EmailEndpoint, Endpoint, TlsMode,
    channels_from,
};
pub use policy::{AlertRules, HealthChange, HealthState, health_transition, should_alert};

/// A failure to configure or prepare a channel. Sending failures are not
/// errors but [`DeliveryResult`]s.
///
/// Messages name the channel, the key and the environment variable, never a
/// secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A `[[channel]]` entry is invalid.
    #[error("channel `{channel}`: key `{key}`: {message}")]
    Config {
        /// The channel id (empty when the id itself is missing).
        channel: String,
        /// The offending key.
        key: String,
        /// What is wrong, in words.
        message: String,
    },
    /// An environment variable named by the entry is not set, or holds an
    /// unusable value (the value is never shown).
    #[error("channel `{channel}`: key `{key}`: environment variable `{var}` {problem}")]
    Env {
        /// The channel id.
        channel: String,
        /// The key naming the variable (`url_env`, `secret_env`, ...).
        key: String,
        /// The variable's name.
        var: String,
        /// What is wrong (`is not set`, `does not hold an http(s) URL`, ...).
        problem: String,
    },
    /// An alert could not be turned into a payload (e.g. an e-mail address
    /// that lettre rejects).
    #[error("channel `{channel}`: building the {kind} payload: {message}")]
    Payload {
        /// The channel id.
        channel: String,
        /// The channel kind.
        kind: ChannelKind,
        /// What went wrong.
        message: String,
    },
}

/// The outcome of one delivery attempt, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryResult {
    /// True when the receiver accepted the alert (2xx, SMTP 250, exit 0).
    pub ok: bool,
    /// The HTTP status, SMTP reply code or process exit code, when there was one.
    pub status: Option<u16>,
    /// Why the attempt failed, secrets redacted; `None` when `ok`.
    pub error: Option<String>,
    /// True when a later attempt may succeed (receiver down, timeout, 429, 5xx,
    /// SMTP 4xx); false for failures a retry cannot fix (404, bad address).
    pub transient: bool,
}

impl DeliveryResult {
    /// A successful attempt.
    pub fn delivered(status: Option<u16>) -> Self {
        DeliveryResult {
            ok: true,
            status,
            error: None,
            transient: false,
        }
    }

    /// A failed attempt.
    pub fn failed(status: Option<u16>, error: impl Into<String>, transient: bool) -> Self {
        DeliveryResult {
            ok: false,
            status,
            error: Some(error.into()),
            transient,
        }
    }
}

/// A secret value (HMAC key, SMTP password) read from the environment. It
/// prints as `[redacted]`; use [`Secret::expose`] where the value is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A webhook URL: a secret in itself (Slack, Teams and Discord put the token in
/// the path). Prints only `scheme://host[:port]`. Carries the addresses a
/// delivery to it may connect to (the channel's `allow_private`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: url::Url,
    reach: Reach,
}

impl WebhookUrl {
    /// Wraps a URL, with the default reach for it (loopback allowed when its
    /// own host is loopback, else public addresses only).
    pub fn new(url: url::Url) -> Self {
        let reach = Reach::for_url(&url, None);
        WebhookUrl { url, reach }
    }

    /// The same URL with the channel's `allow_private` setting applied.
    pub fn with_allow_private(mut self, allow_private: Option<bool>) -> Self {
        self.reach = Reach::for_url(&self.url, allow_private);
        self
    }

    /// The full URL. Never log or format it.
    pub fn expose(&self) -> &url::Url {
        &self.url
    }

    /// The addresses a delivery may connect to.
    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// `scheme://host[:port]`, safe to print.
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.redacted())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `scheme://host[:port]` of a URL: no credentials, path, query or fragment.
pub fn redact_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// Sends one alert to one channel and reports the outcome. Webhooks go through
/// `client` (POST, JSON, the channel's timeout), e-mail through lettre's SMTP
/// transport, commands through `tokio::process`.
///
/// Never returns an error: every failure (including a payload that cannot be
/// built) is a [`DeliveryResult`] with `ok == false` and a message free of
/// secrets.
pub async fn deliver(channel: &Channel, alert: &Alert, client: &HttpClients) -> DeliveryResult {
    let key = alert.idempotency_key(&channel.id);
    tracing::debug!(channel = %channel.id, kind = %channel.kind(), %key, "delivering alert");
    let result = match &channel.endpoint {
        Endpoint::Slack(url) => {
            webhook::post_json(client, url, &slack::payload(alert), &[], channel.timeout).await
        }
        Endpoint::Teams(url) => {
            webhook::post_json(client, url, &teams::payload(alert), &[], channel.timeout).await
        }
        Endpoint::Discord(url) => {
            webhook::post_json(client, url, &discord::payload(alert), &[], channel.timeout).await
        }
        Endpoint::Webhook { url, secret } => {
            webhook::send(
                client,
                url,
                secret.as_ref(),
                alert,
                &channel.id,
                channel.timeout,
            )
            .await
        }
        Endpoint::Email(email) => email::send(email, alert, &channel.id, channel.timeout).await,
        Endpoint::Command(cmd) => command::run(cmd, alert, &channel.id, channel.timeout).await,
    };
    if result.ok {
        tracing::debug!(channel = %channel.id, status = ?result.status, "alert delivered");
    } else {
        tracing::debug!(
            channel = %channel.id,
            status = ?result.status,
            error = result.error.as_deref().unwrap_or(""),
            transient = result.transient,
            "alert not delivered"
        );
    }
    result
}

/// Sends alerts: [`HttpNotifier`] for real, [`RecordingNotifier`] in tests of
/// the code that plans and records deliveries (the outbox).
pub trait Notifier {
    /// Sends one alert to one channel; see [`deliver`].
    fn send(
        &self,
        channel: &Channel,
        alert: &Alert,
    ) -> impl std::future::Future<Output = DeliveryResult> + Send;
}

/// The real notifier: [`deliver`] with one shared set of HTTP clients.
#[derive(Debug, Clone)]
pub struct HttpNotifier {
    /// The clients used for webhooks (timeouts are set per request).
    pub client: HttpClients,
}

impl Default for HttpNotifier {
    fn default() -> Self {
        HttpNotifier { client: client() }
    }
}

/// The HTTP clients of webhook deliveries, one per [`Reach`], each
/// connecting only to the addresses its reach admits (see
/// [`crate::fetch::guard`]); the delivery picks the one its URL's reach names.
pub type HttpClients = GuardedClients;

/// The HTTP clients for webhook deliveries: they never follow redirects,
/// since following a 301/302 turns the POST into a GET without the payload
/// (and could lead anywhere); a 3xx is a failed delivery naming where the
/// receiver points. Their resolver refuses the addresses the channel's reach
/// does not admit.
pub fn client() -> HttpClients {
    GuardedClients::new(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(crate::fetch::default_user_agent())
    })
}

impl Notifier for HttpNotifier {
    async fn send(&self, channel: &Channel, alert: &Alert) -> DeliveryResult {
        deliver(channel, alert, &self.client).await
    }
}

/// A notifier that sends nothing: it records each (channel id, alert) and
/// answers with scripted results, then with `delivered`.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    sent: std::sync::Mutex<Vec<(String, Alert)>>,
    script: std::sync::Mutex<std::collections::VecDeque<DeliveryResult>>,
}

impl RecordingNotifier {
    /// A notifier answering with `results` in order, then `delivered`.
    pub fn with_results(results: impl IntoIterator<Item = DeliveryResult>) -> Self {
        RecordingNotifier {
            sent: std::sync::Mutex::default(),
            script: std::sync::Mutex::new(results.into_iter().collect()),
        }
    }

    /// Every (channel id, alert) sent so far, in order.
    pub fn sent(&self) -> Vec<(String, Alert)> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Notifier for RecordingNotifier {
    async fn send(&self, channel: &Channel, alert: &Alert) -> DeliveryResult {
        if let Ok(mut v) = self.sent.lock() {
            v.push((channel.id.clone(), alert.clone()));
        }
        self.script
            .lock()
            .ok()
            .and_then(|mut q| q.pop_front())
            .unwrap_or(DeliveryResult::delivered(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn webhook_urls_print_scheme_and_host_only() {
        let cases = [
            (
                "https://hooks.slack.com/services/T0/B0/XYZsecret",
                "https://hooks.slack.com",
            ),
            (
                "http://127.0.0.1:8080/hook?token=abc",
                "http://127.0.0.1:8080",
            ),
            ("https://user:pw@example.org/x#frag", "https://example.org"),
            (
                "https://discord.com/api/webhooks/1/tok",
                "https://discord.com",
            ),
        ];
        for (input, want) in cases {
            let u = WebhookUrl::new(url::Url::parse(input).unwrap());
            assert_eq!(u.redacted(), want, "{input}");
            assert_eq!(format!("{u}"), want, "{input}");
            assert_eq!(format!("{u:?}"), format!("WebhookUrl({want})"), "{input}");
        }
    }

    #[tokio::test]
    async fn recording_notifier_records_and_follows_its_script() {
        let ch = Channel {
            id: "c".into(),
            endpoint: Endpoint::Command(CommandEndpoint {
                program: "true".into(),
                args: vec![],
            }),
            timeout: std::time::Duration::from_secs(1),
        };
        let alert = Alert::sample("2026-11-14T10:00:00Z".parse().unwrap());
        let n = RecordingNotifier::with_results([DeliveryResult::failed(Some(503), "down", true)]);
        assert_eq!(
            n.send(&ch, &alert).await,
            DeliveryResult::failed(Some(503), "down", true)
        );
        assert_eq!(n.send(&ch, &alert).await, DeliveryResult::delivered(None));
        assert_eq!(
            n.sent(),
            vec![("c".to_string(), alert.clone()), ("c".to_string(), alert)]
        );
    }

    #[test]
    fn delivery_result_constructors() {
        assert_eq!(
            DeliveryResult::delivered(Some(200)),
            DeliveryResult {
                ok: true,
                status: Some(200),
                error: None,
                transient: false
            }
        );
        assert_eq!(
            DeliveryResult::failed(Some(503), "boom", true),
            DeliveryResult {
                ok: false,
                status: Some(503),
                error: Some("boom".into()),
                transient: true
            }
        );
    }
}
