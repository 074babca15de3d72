//! E-mail alerts over SMTP (lettre, rustls): a `multipart/alternative`
//! message with the redline as plain text (the terminal redline without
//! colour: `[-deleted-]{+inserted+}` marks) and as the HTML redline, subject
//! `[redliner] <title>: <kind>`.
//!
//! Headers carry the idempotency key twice: `X-Redliner-Idempotency-Key`
//! verbatim, and `Message-ID` derived from it
//! (`<first 32 hex of SHA-256(key)>@redliner>`), so a repeat delivery has the
//! same Message-ID and mail clients and archives thread or drop it.
//!
//! Connection security per channel: STARTTLS (required), implicit TLS, or none
//! (validated to be loopback only). SMTP 4xx replies and connection failures
//! are transient, 5xx permanent.

use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::alert::{Alert, HealthAlert, RevisionAlert};
use super::channel::{ChannelKind, EmailEndpoint, TlsMode};
use super::text::{self, SAMPLE_NOTE};
use super::{DeliveryResult, NotifyError};
use crate::report::TerminalStyle;

/// The header carrying the idempotency key verbatim.
pub const IDEMPOTENCY_HEADER: &str = "X-Redliner-Idempotency-Key";

/// `[redliner] <title>: <kind> <date> — <summary line>` (or `[redliner]
/// <target>: failing`): several revisions of one page read apart in an inbox.
pub fn subject(alert: &Alert) -> String {
    let mut s = format!("[redliner] {}", alert.headline());
    if let Alert::Revision(r) = alert {
        s.push_str(" \u{2014} ");
        s.push_str(&crate::report::summary_line(&r.redline));
    }
    if let Alert::Revision(r) = alert
        && r.sample
    {
        s.push_str(" (test)");
    }
    s
}

/// `<32 hex chars>@redliner>`: the Message-ID for an idempotency key.
pub fn message_id(idempotency_key: &str) -> String {
    let digest = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("<{}@redliner>", &digest[..32])
}

/// The plain-text body.
pub fn plain_text(alert: &Alert) -> String {
    let mut out = String::new();
    match alert {
        Alert::Revision(r) => plain_revision(r, &mut out),
        Alert::Health(s) => plain_health(s, &mut out),
    }
    out
}

/// Column width of the plain-text part (mail clients show ~78 columns).
const PLAIN_WIDTH: usize = 78;

fn plain_revision(alert: &RevisionAlert, out: &mut String) {
    let r = &alert.redline;
    if alert.sample {
        out.push_str(SAMPLE_NOTE);
        out.push_str("\n\n");
    }
    let mut rendered = Vec::new();
    let style = TerminalStyle {
        color: false,
        width: Some(PLAIN_WIDTH),
    };
    if crate::report::terminal(r, style, &mut rendered).is_ok() {
        out.push_str(&String::from_utf8_lossy(&rendered));
    }
    if let Some(loc) = &alert.report_location {
        out.push('\n');
        out.push_str(&text::full_report_line(r, Some(loc)));
        out.push('\n');
    }
}

fn plain_health(s: &HealthAlert, out: &mut String) {
    out.push_str(&format!("{}: {}\n{}\n", s.target, s.state, s.sentence()));
    if let Some(e) = s.error_line() {
        out.push_str(&e);
        out.push('\n');
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML body: for a revision, the report's HTML redline
/// ([`crate::report::html`]) with the sample note and the report location
/// added; for a health alert, a small page of its own.
pub fn html(alert: &Alert) -> String {
    match alert {
        Alert::Revision(a) => html_revision(a),
        Alert::Health(s) => html_health(s),
    }
}

fn html_revision(alert: &RevisionAlert) -> String {
    let mut rendered = Vec::new();
    let mut page = match crate::report::html(&alert.redline, &mut rendered) {
        Ok(()) => String::from_utf8_lossy(&rendered).into_owned(),
        Err(_) => String::new(),
    };
    if alert.sample
        && let Some(start) = page.find("<body")
        && let Some(end) = page[start..].find('>')
    {
        let at = start + end + 1;
        page.insert_str(
            at,
            &format!("\n<p><em>{}</em></p>", escape_html(SAMPLE_NOTE)),
        );
    }
    if let Some(loc) = &alert.report_location
        && let Some(at) = page.rfind("</body>")
    {
        let line = text::full_report_line(&alert.redline, Some(loc));
        page.insert_str(at, &format!("<p>{}</p>\n", escape_html(&line)));
    }
    page
}

fn html_health(s: &HealthAlert) -> String {
    let title = escape_html(&format!("{}: {}", s.target, s.state));
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body style=\"font-family:sans-serif;line-height:1.4\">\n<h2>{title}</h2>\n"
    );
    out.push_str(&format!("<p>{}</p>\n", escape_html(&s.sentence())));
    if let Some(e) = s.error_line() {
        out.push_str(&format!(
            "<p style=\"color:#b31d28\">{}</p>\n",
            escape_html(&e)
        ));
    }
    out.push_str("</body></html>\n");
    out
}

/// Builds the e-mail for `alert` on channel `channel_id`.
///
/// # Errors
/// [`NotifyError::Payload`] when an address does not parse (validation
/// catches this first) or lettre refuses the message.
pub fn message(
    email: &EmailEndpoint,
    alert: &Alert,
    channel_id: &str,
) -> Result<Message, NotifyError> {
    let fail = |message: String| NotifyError::Payload {
        channel: channel_id.to_string(),
        kind: ChannelKind::Email,
        message,
    };
    let key = alert.idempotency_key(channel_id);
    let from = Mailbox::from_str(&email.from).map_err(|e| fail(format!("`from`: {e}")))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(subject(alert))
        .message_id(Some(message_id(&key)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER),
            key,
        ));
    for to in &email.to {
        builder = builder.to(Mailbox::from_str(to).map_err(|e| fail(format!("`to`: {e}")))?);
    }
    let part = |content_type: ContentType, body: String| {
        // quoted-printable keeps the text readable in raw form and 7-bit safe
        // for servers without 8BITMIME; it accepts any input
        let body = Body::new_with_encoding(body.clone(), ContentTransferEncoding::QuotedPrintable)
            .unwrap_or_else(|_| Body::new(body));
        SinglePart::builder().header(content_type).body(body)
    };
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, plain_text(alert)))
                .singlepart(part(ContentType::TEXT_HTML, html(alert))),
        )
        .map_err(|e| fail(e.to_string()))
}

/// Sends `alert` by SMTP.
pub(crate) async fn send(
    email: &EmailEndpoint,
    alert: &Alert,
    channel_id: &str,
    timeout: Duration,
) -> DeliveryResult {
    let msg = match message(email, alert, channel_id) {
        Ok(m) => m,
        Err(e) => return DeliveryResult::failed(None, e.to_string(), false),
    };
    let place = format!("SMTP `{}:{}`", email.host, email.port);
    let builder = match email.tls {
        TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.host),
        TlsMode::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&email.host),
        TlsMode::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &email.host,
        )),
    };
    let mut builder = match builder {
        Ok(b) => b.port(email.port).timeout(Some(timeout)),
        Err(e) => return DeliveryResult::failed(None, format!("{place}: {e}"), false),
    };
    if let Some((user, password)) = &email.credentials {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    let transport = builder.build();
    // lettre's timeout is per socket operation; bound the whole exchange by the
    // channel's timeout too, which the outbox lease is sized from (a send must
    // never outlive its lease, or another run could claim and resend it)
    match tokio::time::timeout(timeout, transport.send(msg)).await {
        Err(_) => DeliveryResult::failed(
            None,
            format!("{place}: timed out after {}s", timeout.as_secs_f64()),
            true,
        ),
        Ok(Ok(resp)) => DeliveryResult::delivered(Some(u16::from(resp.code()))),
        Ok(Err(e)) => {
            let status = e.status().map(u16::from);
            // 5xx is permanent; 4xx and connection trouble may pass later
            let transient = !e.is_permanent();
            DeliveryResult::failed(status, format!("{place}: {e}"), transient)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::notify::channel::{Channel, Endpoint};
    use crate::notify::deliver;
    use crate::notify::policy::{HealthChange, HealthState};
    use crate::notify::text::tests::example;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    /// What an SMTP session delivered.
    #[derive(Debug, Default)]
    pub(crate) struct Mail {
        pub from: String,
        pub to: Vec<String>,
        pub data: String,
    }

    /// A tiny in-process SMTP sink on 127.0.0.1: speaks enough SMTP (EHLO/HELO,
    /// MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre and answers DATA with
    /// `data_reply`. Returns its port and a handle yielding the first session's mail.
    pub(crate) async fn smtp_sink(
        data_reply: &'static str,
    ) -> (u16, tokio::task::JoinHandle<Mail>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            let mut mail = Mail::default();
            w.write_all(b"220 sink ESMTP ready\r\n").await.unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                let cmd = line.trim_end().to_string();
                let upper = cmd.to_ascii_uppercase();
                let reply: &str = if upper.starts_with("EHLO") {
                    "250-sink\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n"
                } else if upper.starts_with("HELO") {
                    "250 sink\r\n"
                } else if upper.starts_with("MAIL FROM:") {
                    mail.from = cmd[10..].trim().to_string();
                    "250 ok\r\n"
                } else if upper.starts_with("RCPT TO:") {
                    mail.to.push(cmd[8..].trim().to_string());
                    "250 ok\r\n"
                } else if upper == "DATA" {
                    w.write_all(b"354 go ahead\r\n").await.unwrap();
                    let mut data = String::new();
                    loop {
                        let mut l = String::new();
                        if r.read_line(&mut l).await.unwrap() == 0 || l == ".\r\n" {
                            break;
                        }
                        data.push_str(
                            l.strip_prefix('.')
                                .filter(|_| l.starts_with(".."))
                                .unwrap_or(&l),
                        );
                    }
                    mail.data = data;
                    data_reply
                } else if upper == "QUIT" {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    "250 ok\r\n"
                };
                w.write_all(reply.as_bytes()).await.unwrap();
            }
            mail
        });
        (port, handle)
    }

    /// Decodes a quoted-printable part (soft breaks and `=XX`).
    pub(crate) fn decode_qp(s: &str) -> String {
        let s = s.replace("=\r\n", "");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap().replace("\r\n", "\n")
    }

    /// The decoded bodies of the parts of a multipart message, with their content types.
    pub(crate) fn parts(data: &str) -> Vec<(String, String)> {
        let boundary = data
            .split("boundary=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        data.split(&format!("--{boundary}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .map(|p| {
                let (head, body) = p.split_once("\r\n\r\n").unwrap();
                let ct = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Type: "))
                    .unwrap()
                    .to_string();
                (ct, decode_qp(body.strip_suffix("\r\n").unwrap_or(body)))
            })
            .collect()
    }

    fn endpoint(port: u16) -> EmailEndpoint {
        EmailEndpoint {
            host: "127.0.0.1".into(),
            port,
            tls: TlsMode::None,
            credentials: None,
            from: "redliner <bot@localhost>".into(),
            to: vec!["desk@localhost".into(), "Other <other@localhost>".into()],
        }
    }

    #[test]
    fn subjects_and_message_ids() {
        let r = Alert::revision(example(), None);
        assert_eq!(
            subject(&r),
            "[redliner] Relations with Belarus: revised 14 Nov. 2026 — 2 of 4 sections changed: 1 added, 1 modified · +9 / −2 words"
        );
        let s = Alert::health(
            HealthChange {
                state: HealthState::Failing,
                consecutive_failures: 3,
            },
            "nato-belarus",
            "https://x/",
            None,
            "2026-11-14T10:00:00Z".parse().unwrap(),
        );
        assert_eq!(subject(&s), "[redliner] nato-belarus: failing");
        assert_eq!(
            subject(&Alert::sample("2026-11-14T10:00:00Z".parse().unwrap())),
            "[redliner] redliner test alert: revised found 14 Nov. 2026 — 1 of 1 sections changed: 1 modified · +2 / −1 words (test)"
        );
        let id = message_id("redliner:nato-belarus:42:mail");
        assert_eq!(id.len(), 1 + 32 + "@redliner>".len());
        assert_eq!(id, message_id("redliner:nato-belarus:42:mail"));
        assert_ne!(id, message_id("redliner:nato-belarus:42:other"));
    }

    #[test]
    fn bodies_are_the_report_redlines() {
        let a = Alert::revision(example(), Some("snapshots/nato-belarus".into()));
        assert_eq!(
            plain_text(&a),
            "Relations with Belarus: revised\n\
             nato-belarus · https://www.nato.int/cps/en/natohq/topics_49119.htm\n\
             Last updated: 28 Aug. 2024 11:27 → 14 Nov. 2026 09:05 (Brussels time)\n\
             Checked 2026-11-14 10:00 UTC · 2 of 4 sections changed: 1 added, 1 modified ·\n\
             +9 / −2 words\n\
             \n\
             Lead: modified\n  \
             - The mission opened in April [-1998.-]{+1998 and closed in 2025.+}\n\
             \n\
             Relations since 2024: added\n  \
             - Allies monitor <forces> & more.\n\
             \n\
             Unchanged: Key areas · Background\n\
             \n\
             Full report: snapshots/nato-belarus\n"
        );
        let mut report = Vec::new();
        crate::report::html(&example(), &mut report).unwrap();
        let report = String::from_utf8(report).unwrap();
        let at = report.rfind("</body>").unwrap();
        let want = format!(
            "{}<p>Full report: snapshots/nato-belarus</p>\n{}",
            &report[..at],
            &report[at..]
        );
        assert_eq!(html(&a), want);

        let sample = Alert::sample("2026-11-14T10:00:00Z".parse().unwrap());
        assert!(
            plain_text(&sample)
                .starts_with(&format!("{SAMPLE_NOTE}\n\nredliner test alert: revised\n"))
        );
        let h = html(&sample);
        let body = h.find("<body").unwrap();
        let note = h.find("<p><em>A test alert sent by `redliner test-alert`; the page and its change are invented.</em></p>").unwrap();
        assert!(note > body && note < body + 200, "{h}");
    }

    #[test]
    fn health_bodies_are_exact() {
        let s = Alert::health(
            HealthChange {
                state: HealthState::Recovered,
                consecutive_failures: 3,
            },
            "nato-belarus",
            "https://x/<a>",
            Some("HTTP 503".into()),
            "2026-11-14T10:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            plain_text(&s),
            "nato-belarus: recovered\n\
             Checks of https://x/<a> work again after 3 failed checks (failing since 2026-11-14 10:00 UTC).\n\
             Last error: HTTP 503\n"
        );
        assert_eq!(
            html(&s),
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>nato-belarus: recovered</title></head>\n\
             <body style=\"font-family:sans-serif;line-height:1.4\">\n<h2>nato-belarus: recovered</h2>\n\
             <p>Checks of https://x/&lt;a&gt; work again after 3 failed checks (failing since 2026-11-14 10:00 UTC).</p>\n\
             <p style=\"color:#b31d28\">Last error: HTTP 503</p>\n</body></html>\n"
        );
    }

    #[tokio::test]
    async fn smtp_sink_receives_both_parts() {
        let (port, sink) = smtp_sink("250 queued as 1\r\n").await;
        let ch = Channel {
            id: "mail".into(),
            endpoint: Endpoint::Email(endpoint(port)),
            timeout: Duration::from_secs(5),
        };
        let alert = Alert::revision(example(), None);
        let result = deliver(&ch, &alert, &crate::notify::client()).await;
        assert_eq!(result, DeliveryResult::delivered(Some(250)));
        let mail = sink.await.unwrap();
        assert_eq!(mail.from, "<bot@localhost>");
        assert_eq!(mail.to, ["<desk@localhost>", "<other@localhost>"]);
        let (headers, _) = mail.data.split_once("\r\n\r\n").unwrap();
        let header = |name: &str| {
            headers
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} in {headers}"))
                .to_string()
        };
        assert_eq!(
            header("Subject"),
            "[redliner] Relations with Belarus: revised 14 Nov. 2026"
        );
        assert_eq!(
            header("Message-ID"),
            message_id("redliner:nato-belarus:42:mail")
        );
        assert_eq!(header(IDEMPOTENCY_HEADER), "redliner:nato-belarus:42:mail");
        assert!(header("Content-Type").starts_with("multipart/alternative;"));
        let parts = parts(&mail.data);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, "text/plain; charset=utf-8");
        assert_eq!(parts[0].1, plain_text(&alert));
        assert_eq!(parts[1].0, "text/html; charset=utf-8");
        assert_eq!(parts[1].1, html(&alert));
    }

    #[tokio::test]
    async fn smtp_rejections_are_classified() {
        for (reply, status, transient) in [
            ("451 try later\r\n", 451u16, true),
            ("554 no such user\r\n", 554, false),
        ] {
            let (port, sink) = smtp_sink(reply).await;
            let ch = Channel {
                id: "mail".into(),
                endpoint: Endpoint::Email(endpoint(port)),
                timeout: Duration::from_secs(5),
            };
            let result = deliver(
                &ch,
                &Alert::revision(example(), None),
                &crate::notify::client(),
            )
            .await;
            assert!(!result.ok, "{reply}");
            assert_eq!(result.status, Some(status), "{reply}");
            assert_eq!(result.transient, transient, "{reply}");
            let err = result.error.unwrap();
            assert!(
                err.starts_with(&format!("SMTP `127.0.0.1:{port}`: ")),
                "{err}"
            );
            sink.abort();
        }
    }

    #[tokio::test]
    async fn starttls_is_required_never_skipped() {
        // the sink offers no STARTTLS: lettre must refuse to send in the clear
        let (port, sink) = smtp_sink("250 queued\r\n").await;
        let mut ep = endpoint(port);
        ep.tls = TlsMode::Starttls;
        let ch = Channel {
            id: "mail".into(),
            endpoint: Endpoint::Email(ep),
            timeout: Duration::from_secs(5),
        };
        let result = deliver(
            &ch,
            &Alert::revision(example(), None),
            &crate::notify::client(),
        )
        .await;
        assert!(!result.ok, "{result:?}");
        let mail = sink.await.unwrap();
        assert_eq!(mail.data, "", "nothing may be sent without TLS");
        assert!(mail.to.is_empty());
    }

    #[tokio::test]
    async fn smtp_server_down_is_transient_and_hides_the_password() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut ep = endpoint(port);
        ep.credentials = Some(("bot".into(), crate::notify::Secret::new("pa55word")));
        let ch = Channel {
            id: "mail".into(),
            endpoint: Endpoint::Email(ep),
            timeout: Duration::from_secs(2),
        };
        let result = deliver(
            &ch,
            &Alert::revision(example(), None),
            &crate::notify::client(),
        )
        .await;
        assert!(
            !result.ok && result.transient && result.status.is_none(),
            "{result:?}"
        );
        let err = result.error.unwrap();
        assert!(
            err.starts_with(&format!("SMTP `127.0.0.1:{port}`: ")),
            "{err}"
        );
        assert!(!err.contains("pa55word") && !format!("{ch:?}").contains("pa55word"));
    }
}
