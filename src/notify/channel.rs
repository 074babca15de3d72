//! Alert channels: the `[[channel]]` config entry ([`ChannelConfig`]), its
//! validation, and its resolution into a usable [`Channel`] with the secrets
//! read from the environment.
//!
//! Schema (keys by kind; any other key is an error):
//!
//! ```toml
//! [[channel]]
//! id = "team-slack"              # [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 chars
//! kind = "slack"                 # slack | teams | discord | webhook | email | command
//! url_env = "SLACK_WEBHOOK_URL"  # slack, teams, discord, webhook: env var holding the URL
//! secret_env = "HOOK_KEY"        # webhook only, optional: env var holding the HMAC key
//! timeout = "30s"                # optional, every kind (default 30s; 60s for command)
//! allow_private = true           # slack, teams, discord, webhook, optional: the receiver
//!                                # may be on a private address (default: public only, or
//!                                # loopback only for a loopback URL)
//!
//! [[channel]]
//! id = "desk-mail"
//! kind = "email"
//! smtp_host = "smtp.example.org"
//! smtp_port = 587                # default: 587 starttls, 465 implicit, 25 none
//! tls = "starttls"               # starttls (default) | implicit | none (localhost only)
//! username_env = "SMTP_USER"     # optional; with password_env
//! password_env = "SMTP_PASSWORD"
//! from = "redliner <redliner@example.org>"
//! to = ["desk@example.org"]
//!
//! [[channel]]
//! id = "archive"
//! kind = "command"
//! program = "/usr/local/bin/archive-alert"
//! args = ["--quiet"]
//! ```
//!
//! Secrets come only from the environment variables named here; the config
//! file never holds one, and no message ever prints one.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{NotifyError, Secret, WebhookUrl};

/// Default time allowed for one webhook or SMTP delivery.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed for a command channel's program to finish.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What kind of receiver a channel is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ChannelKind {
    /// Slack incoming webhook (Block Kit).
    Slack,
    /// Microsoft Teams Workflows webhook (Adaptive Card).
    Teams,
    /// Discord webhook (content + embeds).
    Discord,
    /// Generic JSON webhook (the redline JSON, optionally HMAC-signed).
    Webhook,
    /// E-mail over SMTP.
    Email,
    /// A local program fed the alert JSON on stdin.
    Command,
}

impl ChannelKind {
    /// The config name (`slack`, `teams`, ...).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Implicit,
    /// No TLS at all: only allowed for `localhost`, `127.0.0.1` and `::1`.
    None,
}

impl TlsMode {
    /// The port used when `smtp_port` is not given.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::Starttls => 587,
            TlsMode::Implicit => 465,
            TlsMode::None => 25,
        }
    }
}

/// One `[[channel]]` entry exactly as written in the config file: every key
/// of every kind, each optional. It exists to be read by TOML (so a value of
/// the wrong type is reported at its line) and turned into a
/// [`ChannelConfig`] by [`ChannelConfig::try_from`], which says which key is
/// wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelEntry {
    /// The channel's name, referenced by targets and `redliner test-alert`.
    pub id: String,
    /// The receiver kind.
    pub kind: ChannelKind,
    /// Webhook kinds: the environment variable holding the webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// `webhook` only: the environment variable holding the HMAC-SHA256 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// `email`: the SMTP server's host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    /// `email`: the SMTP port (default by `tls`: 587, 465 or 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    /// `email`: connection security (default `starttls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsMode>,
    /// `email`: the environment variable holding the SMTP user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_env: Option<String>,
    /// `email`: the environment variable holding the SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// `email`: the sender, `addr@host` or `Name <addr@host>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `email`: the recipients (at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// `command`: the program to run (a path, or a name looked up in `PATH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// `command`: its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Time allowed for one delivery (`30s`, `2m`, `PT30S`: see
    /// [`crate::duration::parse`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Webhook kinds: `true` lets deliveries reach private, link-local,
    /// unique-local and shared addresses (a receiver on the intranet),
    /// `false` holds them to public ones; unset, a URL whose own host is
    /// loopback may reach loopback only (see [`crate::fetch::guard`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_private: Option<bool>,
}

/// A valid `[[channel]]` entry: a value of this type can always be resolved
/// once its environment variables are set. Made only from a
/// [`ChannelEntry`] (by [`TryFrom`], or by deserializing, which goes through
/// it), so a channel with a key its kind does not use, or without one it
/// needs, cannot be represented.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ChannelEntry")]
pub struct ChannelConfig {
    /// The channel's name, referenced by targets and `redliner test-alert`.
    pub id: String,
    /// Time allowed for one delivery, if not the kind's default
    /// ([`DEFAULT_TIMEOUT`], or [`DEFAULT_COMMAND_TIMEOUT`] for commands);
    /// positive and at most one hour.
    pub timeout: Option<Duration>,
    /// What the channel's kind needs, and nothing else.
    pub spec: ChannelSpec,
}

/// What one kind of channel needs: one variant per `kind`, each holding
/// exactly the keys that kind uses, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSpec {
    /// Slack incoming webhook.
    Slack(HookSpec),
    /// Teams Workflows webhook.
    Teams(HookSpec),
    /// Discord webhook.
    Discord(HookSpec),
    /// Generic JSON webhook.
    Webhook {
        /// Where it posts.
        hook: HookSpec,
        /// The environment variable holding the HMAC-SHA256 key, if signed.
        secret_env: Option<String>,
    },
    /// E-mail over SMTP.
    Email(EmailSpec),
    /// A local program.
    Command(CommandEndpoint),
}

/// A webhook kind's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSpec {
    /// The environment variable holding the webhook URL (a valid name).
    pub url_env: String,
    /// Which addresses deliveries may reach (see [`ChannelEntry::allow_private`]).
    pub allow_private: Option<bool>,
}

/// The `email` kind's keys, checked: a host name, a port in 1..=65535, TLS
/// `none` only for a loopback host, both login variables or neither, and
/// addresses that parse as RFC 5322 mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSpec {
    /// The server, the sender and the recipients (at least one), as they
    /// will be used; its `credentials` are `None` until resolved.
    pub server: EmailEndpoint,
    /// The environment variables holding the user name and the password.
    pub login_env: Option<(String, String)>,
}

/// A resolved channel: its id, where it sends (with secrets) and its timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The channel id.
    pub id: String,
    /// Where and how alerts go.
    pub endpoint: Endpoint,
    /// Time allowed for one delivery.
    pub timeout: Duration,
}

impl Channel {
    /// The channel's kind.
    pub fn kind(&self) -> ChannelKind {
        match &self.endpoint {
            Endpoint::Slack(_) => ChannelKind::Slack,
            Endpoint::Teams(_) => ChannelKind::Teams,
            Endpoint::Discord(_) => ChannelKind::Discord,
            Endpoint::Webhook { .. } => ChannelKind::Webhook,
            Endpoint::Email(_) => ChannelKind::Email,
            Endpoint::Command(_) => ChannelKind::Command,
        }
    }

    /// One line safe to print: id, kind and redacted destination, e.g.
    /// ``team-slack (slack, https://hooks.slack.com)``.
    pub fn describe(&self) -> String {
        let dest = match &self.endpoint {
            Endpoint::Slack(u) | Endpoint::Teams(u) | Endpoint::Discord(u) => u.redacted(),
            Endpoint::Webhook { url, secret } => format!(
                "{}{}",
                url.redacted(),
                if secret.is_some() { ", signed" } else { "" }
            ),
            Endpoint::Email(e) => format!("smtp {}:{} to {}", e.host, e.port, e.to.join(", ")),
            Endpoint::Command(c) => c.program.clone(),
        };
        format!("{} ({}, {dest})", self.id, self.kind())
    }
}

/// Where a resolved channel sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Slack incoming webhook.
    Slack(WebhookUrl),
    /// Teams Workflows webhook.
    Teams(WebhookUrl),
    /// Discord webhook.
    Discord(WebhookUrl),
    /// Generic JSON webhook, signed when `secret` is set.
    Webhook {
        /// The URL to POST to.
        url: WebhookUrl,
        /// The HMAC-SHA256 key.
        secret: Option<Secret>,
    },
    /// SMTP.
    Email(EmailEndpoint),
    /// A local program.
    Command(CommandEndpoint),
}

/// An e-mail channel: where and from whom it sends, and (once resolved)
/// the login it reads from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEndpoint {
    /// SMTP host.
    pub host: String,
    /// SMTP port.
    pub port: u16,
    /// Connection security.
    pub tls: TlsMode,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, Secret)>,
    /// The sender mailbox, as configured (already checked to parse).
    pub from: String,
    /// The recipient mailboxes, as configured (already checked to parse).
    pub to: Vec<String>,
}

/// A resolved command channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandEndpoint {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Hosts for which `tls = "none"` is allowed.
const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "::1", "[::1]"];

impl ChannelKind {
    /// The keys a `[[channel]]` entry of this kind may have, `id` and
    /// `kind` first: the config reference lists the same ones.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            ChannelKind::Slack | ChannelKind::Teams | ChannelKind::Discord => {
                &["id", "kind", "url_env", "allow_private", "timeout"]
            }
            ChannelKind::Webhook => &[
                "id",
                "kind",
                "url_env",
                "secret_env",
                "allow_private",
                "timeout",
            ],
            ChannelKind::Email => &[
                "id",
                "kind",
                "smtp_host",
                "smtp_port",
                "tls",
                "username_env",
                "password_env",
                "from",
                "to",
                "timeout",
            ],
            ChannelKind::Command => &["id", "kind", "program", "args", "timeout"],
        }
    }
}

/// The error about one key of the channel `id`.
fn key_err(id: &str, key: &str, message: impl Into<String>) -> NotifyError {
    NotifyError::Config {
        channel: id.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

impl TryFrom<ChannelEntry> for ChannelConfig {
    type Error = NotifyError;

    /// Checks the entry without reading the environment: the id, that the
    /// keys present are the ones its kind uses and the required ones are
    /// there, variable names, addresses, the TLS mode against the host, the
    /// timeout.
    ///
    /// # Errors
    /// The first problem found, as [`NotifyError::Config`] naming the channel
    /// and key, e.g. ``channel `mail`: key `tls`: `none` is only allowed for
    /// localhost, 127.0.0.1 or ::1 (host is `smtp.example.org`)``.
    fn try_from(e: ChannelEntry) -> Result<Self, NotifyError> {
        let id = e.id.clone();
        let err = |key: &str, message: String| key_err(&id, key, message);
        if !valid_id(&id) {
            return Err(err(
                "id",
                format!(
                    "`{id}` is not a valid channel id (letters, digits, `-`, `_`, `.`; at most 64 chars)"
                ),
            ));
        }
        let kind = e.kind;
        let written = toml::Table::try_from(&e).map_err(|x| err("id", x.to_string()))?;
        if let Some(key) = written.keys().find(|k| !kind.keys().contains(&k.as_str())) {
            return Err(err(key, format!("not used by `{kind}` channels")));
        }
        for (key, var) in [
            ("url_env", &e.url_env),
            ("secret_env", &e.secret_env),
            ("username_env", &e.username_env),
            ("password_env", &e.password_env),
        ] {
            if let Some(v) = var
                && !valid_env_name(v)
            {
                return Err(err(
                    key,
                    format!(
                        "`{v}` is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*); \
                         put the secret in the environment and name the variable here"
                    ),
                ));
            }
        }
        let timeout = e
            .timeout
            .as_deref()
            .map(|t| parse_timeout(t).map_err(|m| err("timeout", format!("`{t}`: {m}"))))
            .transpose()?;
        let hook = |e: &ChannelEntry| match &e.url_env {
            Some(url_env) => Ok(HookSpec {
                url_env: url_env.clone(),
                allow_private: e.allow_private,
            }),
            None => Err(err(
                "url_env",
                format!(
                    "required for `{kind}` channels (the environment variable holding the webhook URL)"
                ),
            )),
        };
        let spec = match kind {
            ChannelKind::Slack => ChannelSpec::Slack(hook(&e)?),
            ChannelKind::Teams => ChannelSpec::Teams(hook(&e)?),
            ChannelKind::Discord => ChannelSpec::Discord(hook(&e)?),
            ChannelKind::Webhook => ChannelSpec::Webhook {
                hook: hook(&e)?,
                secret_env: e.secret_env.clone(),
            },
            ChannelKind::Email => ChannelSpec::Email(email_spec(&e)?),
            ChannelKind::Command => ChannelSpec::Command(command_spec(&e)?),
        };
        Ok(ChannelConfig { id, timeout, spec })
    }
}

fn email_spec(e: &ChannelEntry) -> Result<EmailSpec, NotifyError> {
    let err = |key: &str, message: String| key_err(&e.id, key, message);
    let host = match &e.smtp_host {
        None => return Err(err("smtp_host", "required for `email` channels".into())),
        // A host name or an IP address, alone: no scheme, port, path or
        // user (`smtp.example.org`, `127.0.0.1`, `::1`).
        Some(h) if !is_host(h) => {
            return Err(err(
                "smtp_host",
                format!(
                    "`{}` is not a host name or IP address alone (the port goes in `smtp_port`)",
                    h.escape_debug()
                ),
            ));
        }
        Some(h) => h,
    };
    if e.smtp_port == Some(0) {
        return Err(err("smtp_port", "must be 1..=65535".into()));
    }
    let tls = e.tls.unwrap_or_default();
    if tls == TlsMode::None && !LOOPBACK_HOSTS.contains(&host.to_ascii_lowercase().as_str()) {
        return Err(err(
            "tls",
            format!("`none` is only allowed for localhost, 127.0.0.1 or ::1 (host is `{host}`)"),
        ));
    }
    let login_env = match (&e.username_env, &e.password_env) {
        (Some(_), None) => {
            return Err(err(
                "password_env",
                "required when `username_env` is set".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "username_env",
                "required when `password_env` is set".into(),
            ));
        }
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
    };
    let mailbox = |key: &str, a: &str| {
        lettre::message::Mailbox::from_str(a)
            .map(|_| a.to_string())
            .map_err(|x| err(key, format!("`{a}` is not an e-mail address: {x}")))
    };
    let from = match &e.from {
        None => return Err(err("from", "required for `email` channels".into())),
        Some(f) => mailbox("from", f)?,
    };
    if e.to.is_empty() {
        return Err(err(
            "to",
            "required for `email` channels (at least one address)".into(),
        ));
    }
    let to =
        e.to.iter()
            .map(|t| mailbox("to", t))
            .collect::<Result<_, _>>()?;
    Ok(EmailSpec {
        server: EmailEndpoint {
            host: host.clone(),
            port: e.smtp_port.unwrap_or(tls.default_port()),
            tls,
            credentials: None,
            from,
            to,
        },
        login_env,
    })
}

fn command_spec(e: &ChannelEntry) -> Result<CommandEndpoint, NotifyError> {
    let err = |key: &str, message: &str| key_err(&e.id, key, message);
    match &e.program {
        None => Err(err("program", "required for `command` channels")),
        Some(p) if p.trim().is_empty() => Err(err("program", "must not be empty")),
        // A NUL cannot be passed to exec: the run would fail at every
        // delivery instead of once, here.
        Some(p) if p.contains('\0') => Err(err("program", "must not contain a NUL character")),
        Some(p) => match e.args.iter().position(|a| a.contains('\0')) {
            Some(i) => Err(key_err(
                &e.id,
                "args",
                format!("argument {} contains a NUL character", i + 1),
            )),
            None => Ok(CommandEndpoint {
                program: p.clone(),
                args: e.args.clone(),
            }),
        },
    }
}

impl ChannelConfig {
    /// The channel's kind.
    pub fn kind(&self) -> ChannelKind {
        match &self.spec {
            ChannelSpec::Slack(_) => ChannelKind::Slack,
            ChannelSpec::Teams(_) => ChannelKind::Teams,
            ChannelSpec::Discord(_) => ChannelKind::Discord,
            ChannelSpec::Webhook { .. } => ChannelKind::Webhook,
            ChannelSpec::Email(_) => ChannelKind::Email,
            ChannelSpec::Command(_) => ChannelKind::Command,
        }
    }

    /// Reads the channel's secrets through `env` (pass
    /// `&|k| std::env::var(k).ok()` in the binary; a map in tests).
    ///
    /// # Errors
    /// [`NotifyError::Env`] naming the variable (never its value) when a
    /// named variable is unset or empty, or a URL variable does not hold an
    /// absolute `http`/`https` URL.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Channel, NotifyError> {
        let default_timeout = match self.spec {
            ChannelSpec::Command(_) => DEFAULT_COMMAND_TIMEOUT,
            _ => DEFAULT_TIMEOUT,
        };
        let endpoint = match &self.spec {
            ChannelSpec::Slack(h) => Endpoint::Slack(self.read_url(h, env)?),
            ChannelSpec::Teams(h) => Endpoint::Teams(self.read_url(h, env)?),
            ChannelSpec::Discord(h) => Endpoint::Discord(self.read_url(h, env)?),
            ChannelSpec::Webhook { hook, secret_env } => Endpoint::Webhook {
                url: self.read_url(hook, env)?,
                secret: match secret_env {
                    Some(var) => Some(Secret::new(self.read_secret(var, env)?)),
                    None => None,
                },
            },
            ChannelSpec::Email(m) => Endpoint::Email(EmailEndpoint {
                credentials: match &m.login_env {
                    Some((u, p)) => Some((
                        self.read_var("username_env", u, env)?,
                        Secret::new(self.read_var("password_env", p, env)?),
                    )),
                    None => None,
                },
                ..m.server.clone()
            }),
            ChannelSpec::Command(c) => Endpoint::Command(c.clone()),
        };
        Ok(Channel {
            id: self.id.clone(),
            endpoint,
            timeout: self.timeout.unwrap_or(default_timeout),
        })
    }

    fn read_var(
        &self,
        key: &str,
        var: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, NotifyError> {
        let env_err = |problem: &str| NotifyError::Env {
            channel: self.id.clone(),
            key: key.to_string(),
            var: var.to_string(),
            problem: problem.to_string(),
        };
        match env(var) {
            None => Err(env_err("is not set")),
            Some(v) if v.trim().is_empty() => Err(env_err("is empty")),
            Some(v) => Ok(v.trim().to_string()),
        }
    }

    /// The webhook's HMAC key from `var`: any text, or a Standard Webhooks
    /// `whsec_<base64>` key, which must then decode to at least one byte
    /// (a receiver's library could not verify a signature made with
    /// anything else).
    fn read_secret(
        &self,
        var: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, NotifyError> {
        use base64::Engine;
        let secret = self.read_var("secret_env", var, env)?;
        if let Some(key) = secret.strip_prefix("whsec_")
            && !base64::engine::general_purpose::STANDARD
                .decode(key)
                .is_ok_and(|k| !k.is_empty())
        {
            return Err(NotifyError::Env {
                channel: self.id.clone(),
                key: "secret_env".to_string(),
                var: var.to_string(),
                problem: "holds a `whsec_` key whose rest is not base64 of at least one byte \
                          (the Standard Webhooks form)"
                    .to_string(),
            });
        }
        Ok(secret)
    }

    fn read_url(
        &self,
        hook: &HookSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<WebhookUrl, NotifyError> {
        let var = hook.url_env.as_str();
        let value = self.read_var("url_env", var, env)?;
        let bad = || NotifyError::Env {
            channel: self.id.clone(),
            key: "url_env".to_string(),
            var: var.to_string(),
            problem: "does not hold an absolute http(s) URL".to_string(),
        };
        let url = url::Url::parse(&value).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        Ok(WebhookUrl::new(url).with_allow_private(hook.allow_private))
    }
}

/// Turns every `[[channel]]` entry into a [`ChannelConfig`] and checks that
/// their ids are unique.
///
/// # Errors
/// The first entry's [`ChannelConfig::try_from`] error, or
/// ``channel `ID`: key `id`: defined twice``.
pub fn channels_from(entries: Vec<ChannelEntry>) -> Result<Vec<ChannelConfig>, NotifyError> {
    let mut seen = std::collections::HashSet::new();
    let mut channels = Vec::with_capacity(entries.len());
    for entry in entries {
        let channel = ChannelConfig::try_from(entry)?;
        if !seen.insert(channel.id.clone()) {
            return Err(key_err(&channel.id, "id", "defined twice"));
        }
        channels.push(channel);
    }
    Ok(channels)
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A host name (letters, digits, `-`, `.`; labels neither empty nor
/// starting or ending with `-`) or an IP address (`::1` with or without
/// brackets).
fn is_host(h: &str) -> bool {
    let bare = h
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(h);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    // Not an address: four numbers with dots is a bad one (`999.1.1.1`).
    let labels: Vec<&str> = h.trim_end_matches('.').split('.').collect();
    !h.is_empty()
        && h.len() <= 253
        && !labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()))
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `30s`, `2m`, `PT30S`; must be 100 ms to one hour (as
/// `settings.timeout`: less could not reach any receiver).
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s)?;
    if d.is_zero() {
        return Err("must be positive".to_string());
    }
    if d < Duration::from_millis(100) {
        return Err("must be at least 100ms".to_string());
    }
    if d > Duration::from_secs(3600) {
        return Err("must be at most 1h".to_string());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(toml_text: &str) -> ChannelConfig {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
    }

    fn entry(toml_text: &str) -> ChannelEntry {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn valid_entries_resolve() {
        let env = env_of(&[
            ("SLACK_URL", "https://hooks.slack.com/services/T/B/secret"),
            ("HOOK_URL", "http://127.0.0.1:9/hook"),
            ("HOOK_KEY", "k3y"),
            ("SMTP_USER", "bot"),
            ("SMTP_PASS", "pw"),
        ]);
        let cases: Vec<(&str, Channel)> = vec![
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n",
                Channel {
                    id: "s".into(),
                    endpoint: Endpoint::Slack(WebhookUrl::new(
                        url::Url::parse("https://hooks.slack.com/services/T/B/secret").unwrap(),
                    )),
                    timeout: DEFAULT_TIMEOUT,
                },
            ),
            (
                "id = \"w\"\nkind = \"webhook\"\nurl_env = \"HOOK_URL\"\nsecret_env = \"HOOK_KEY\"\ntimeout = \"5s\"\n",
                Channel {
                    id: "w".into(),
                    endpoint: Endpoint::Webhook {
                        url: WebhookUrl::new(url::Url::parse("http://127.0.0.1:9/hook").unwrap()),
                        secret: Some(Secret::new("k3y")),
                    },
                    timeout: Duration::from_secs(5),
                },
            ),
            (
                "id = \"m\"\nkind = \"email\"\nsmtp_host = \"smtp.example.org\"\ntls = \"implicit\"\n\
                 username_env = \"SMTP_USER\"\npassword_env = \"SMTP_PASS\"\n\
                 from = \"redliner <bot@example.org>\"\nto = [\"desk@example.org\"]\n",
                Channel {
                    id: "m".into(),
                    endpoint: Endpoint::Email(EmailEndpoint {
                        host: "smtp.example.org".into(),
                        port: 465,
                        tls: TlsMode::Implicit,
                        credentials: Some(("bot".into(), Secret::new("pw"))),
                        from: "redliner <bot@example.org>".into(),
                        to: vec!["desk@example.org".into()],
                    }),
                    timeout: DEFAULT_TIMEOUT,
                },
            ),
            (
                "id = \"local\"\nkind = \"email\"\nsmtp_host = \"localhost\"\ntls = \"none\"\n\
                 from = \"bot@localhost\"\nto = [\"a@localhost\", \"b@localhost\"]\n",
                Channel {
                    id: "local".into(),
                    endpoint: Endpoint::Email(EmailEndpoint {
                        host: "localhost".into(),
                        port: 25,
                        tls: TlsMode::None,
                        credentials: None,
                        from: "bot@localhost".into(),
                        to: vec!["a@localhost".into(), "b@localhost".into()],
                    }),
                    timeout: DEFAULT_TIMEOUT,
                },
            ),
            (
                "id = \"c\"\nkind = \"command\"\nprogram = \"/bin/cat\"\nargs = [\"-\"]\n",
                Channel {
                    id: "c".into(),
                    endpoint: Endpoint::Command(CommandEndpoint {
                        program: "/bin/cat".into(),
                        args: vec!["-".into()],
                    }),
                    timeout: DEFAULT_COMMAND_TIMEOUT,
                },
            ),
        ];
        for (text, want) in cases {
            let got = parse(text)
                .resolve(&env)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn invalid_entries_name_channel_and_key() {
        let cases = [
            (
                "id = \"\"\nkind = \"slack\"\nurl_env = \"X\"\n",
                "channel ``: key `id`: `` is not a valid channel id",
            ),
            (
                "id = \"s\"\nkind = \"slack\"\n",
                "channel `s`: key `url_env`: required for `slack` channels",
            ),
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"https://hooks.slack.com/x\"\n",
                "channel `s`: key `url_env`: `https://hooks.slack.com/x` is not an environment variable name",
            ),
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"X\"\nsecret_env = \"K\"\n",
                "channel `s`: key `secret_env`: not used by `slack` channels",
            ),
            (
                "id = \"d\"\nkind = \"discord\"\nurl_env = \"X\"\nprogram = \"p\"\n",
                "channel `d`: key `program`: not used by `discord` channels",
            ),
            (
                "id = \"m\"\nkind = \"email\"\nsmtp_host = \"smtp.example.org\"\ntls = \"none\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
                "channel `m`: key `tls`: `none` is only allowed for localhost, 127.0.0.1 or ::1 (host is `smtp.example.org`)",
            ),
            (
                "id = \"m\"\nkind = \"email\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
                "channel `m`: key `smtp_host`: required for `email` channels",
            ),
            (
                "id = \"m\"\nkind = \"email\"\nsmtp_host = \"h\"\nfrom = \"a@b.c\"\n",
                "channel `m`: key `to`: required for `email` channels (at least one address)",
            ),
            (
                "id = \"m\"\nkind = \"email\"\nsmtp_host = \"h\"\nfrom = \"not an address\"\nto = [\"d@e.f\"]\n",
                "channel `m`: key `from`: `not an address` is not an e-mail address",
            ),
            (
                "id = \"m\"\nkind = \"email\"\nsmtp_host = \"h\"\nusername_env = \"U\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
                "channel `m`: key `password_env`: required when `username_env` is set",
            ),
            (
                "id = \"c\"\nkind = \"command\"\n",
                "channel `c`: key `program`: required for `command` channels",
            ),
            (
                "id = \"c\"\nkind = \"command\"\nprogram = \"p\"\ntimeout = \"soon\"\n",
                "channel `c`: key `timeout`: `soon`: not a duration",
            ),
            (
                "id = \"c\"\nkind = \"command\"\nprogram = \"p\"\ntimeout = \"0s\"\n",
                "channel `c`: key `timeout`: `0s`: must be positive",
            ),
            (
                "id = \"c\"\nkind = \"command\"\nprogram = \"p\"\ntimeout = \"1ns\"\n",
                "channel `c`: key `timeout`: `1ns`: must be at least 100ms",
            ),
        ];
        for (text, want) in cases {
            let err = ChannelConfig::try_from(entry(text))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{text}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn smtp_hosts_are_host_names_or_addresses_alone() {
        for ok in [
            "smtp.example.org",
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "mail-1.example.org.",
        ] {
            assert!(is_host(ok), "{ok}");
        }
        for bad in [
            "",
            " ",
            "smtp://smtp.example.org:25",
            "smtp.example.org:25",
            "127.0.0.1:25",
            "a@b",
            "-a.com",
            "a-.com",
            "999.999.999.999",
            "host/path",
            "a..b",
            "mail\u{7}x",
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }

    #[test]
    fn a_whsec_secret_must_be_base64() {
        let entry = entry("id = \"w\"\nkind = \"webhook\"\nurl_env = \"U\"\nsecret_env = \"K\"\n");
        let channel = ChannelConfig::try_from(entry).unwrap();
        for (key, ok) in [
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true),
            ("plain text key", true),
            ("whsec_!!!", false),
            ("whsec_", false),
        ] {
            let env = env_of(&[("U", "https://hooks.example.org/x"), ("K", key)]);
            let got = channel.resolve(&env);
            assert_eq!(got.is_ok(), ok, "{key}: {got:?}");
            if let Err(e) = got {
                assert!(e.to_string().contains("`whsec_` key"), "{e}");
                assert!(
                    !e.to_string().contains("!!!"),
                    "the secret is never printed: {e}"
                );
            }
        }
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let a = entry("id = \"a\"\nkind = \"command\"\nprogram = \"p\"\n");
        let b = entry("id = \"b\"\nkind = \"slack\"\nurl_env = \"X\"\n");
        let both = channels_from(vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(
            both.iter().map(|c| c.kind()).collect::<Vec<_>>(),
            [ChannelKind::Command, ChannelKind::Slack]
        );
        assert_eq!(
            channels_from(vec![a.clone(), b, a])
                .unwrap_err()
                .to_string(),
            "channel `a`: key `id`: defined twice"
        );
    }

    /// Every kind's key list is what the conversion accepts: each listed key,
    /// written on an otherwise valid entry of the kind, is not refused as
    /// unused, and every other key of the entry is.
    #[test]
    fn each_kind_accepts_exactly_its_keys() {
        let every_key = [
            "url_env",
            "secret_env",
            "smtp_host",
            "smtp_port",
            "tls",
            "username_env",
            "password_env",
            "from",
            "to",
            "program",
            "args",
            "timeout",
            "allow_private",
        ];
        let minimal = [
            (ChannelKind::Slack, "url_env = \"X\"\n"),
            (ChannelKind::Teams, "url_env = \"X\"\n"),
            (ChannelKind::Discord, "url_env = \"X\"\n"),
            (ChannelKind::Webhook, "url_env = \"X\"\n"),
            (
                ChannelKind::Email,
                "smtp_host = \"localhost\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
            ),
            (ChannelKind::Command, "program = \"p\"\n"),
        ];
        let value = |key: &str| match key {
            "smtp_port" => "25",
            "to" | "args" => "[\"d@e.f\"]",
            "allow_private" => "true",
            "timeout" => "\"5s\"",
            "tls" => "\"none\"",
            "from" => "\"a@b.c\"",
            _ => "\"X\"",
        };
        for (kind, base) in minimal {
            for key in every_key {
                let mut text = format!("id = \"c\"\nkind = \"{kind}\"\n{base}");
                if !text.contains(&format!("\n{key} =")) {
                    text.push_str(&format!("{key} = {}\n", value(key)));
                }
                if kind == ChannelKind::Email && key == "username_env" {
                    text.push_str("password_env = \"P\"\n");
                } else if kind == ChannelKind::Email && key == "password_env" {
                    text.push_str("username_env = \"U\"\n");
                }
                let got = ChannelConfig::try_from(entry(&text));
                let unused = format!("channel `c`: key `{key}`: not used by `{kind}` channels");
                if kind.keys().contains(&key) {
                    assert!(got.is_ok(), "{text}: {got:?}");
                } else {
                    assert_eq!(got.unwrap_err().to_string(), unused, "{text}");
                }
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err =
            toml::from_str::<ChannelConfig>("id = \"s\"\nkind = \"slack\"\nurl = \"https://x\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("unknown field `url`"), "{err}");
    }

    #[test]
    fn env_errors_name_the_variable_never_the_value() {
        let secret_url = "not-a-url-but-secret-token";
        let env = env_of(&[
            ("BAD_URL", secret_url),
            ("EMPTY", " "),
            ("FTP_URL", "ftp://example.org/x"),
        ]);
        let cases = [
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"MISSING\"\n",
                "channel `s`: key `url_env`: environment variable `MISSING` is not set",
            ),
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"EMPTY\"\n",
                "channel `s`: key `url_env`: environment variable `EMPTY` is empty",
            ),
            (
                "id = \"s\"\nkind = \"teams\"\nurl_env = \"BAD_URL\"\n",
                "channel `s`: key `url_env`: environment variable `BAD_URL` does not hold an absolute http(s) URL",
            ),
            (
                "id = \"s\"\nkind = \"webhook\"\nurl_env = \"FTP_URL\"\n",
                "channel `s`: key `url_env`: environment variable `FTP_URL` does not hold an absolute http(s) URL",
            ),
            (
                "id = \"w\"\nkind = \"webhook\"\nurl_env = \"FTP_URL\"\nsecret_env = \"NOPE\"\n",
                "channel `w`: key `url_env`: environment variable `FTP_URL` does not hold an absolute http(s) URL",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).resolve(&env).unwrap_err();
            assert_eq!(err.to_string(), want, "{text}");
            assert!(!format!("{err:?}").contains(secret_url));
        }
    }

    #[test]
    fn describe_never_prints_secrets() {
        let env = env_of(&[
            ("U", "https://hooks.slack.com/services/T/B/tok3n"),
            ("K", "k3y"),
        ]);
        let cases = [
            (
                "id = \"s\"\nkind = \"slack\"\nurl_env = \"U\"\n",
                "s (slack, https://hooks.slack.com)",
            ),
            (
                "id = \"w\"\nkind = \"webhook\"\nurl_env = \"U\"\nsecret_env = \"K\"\n",
                "w (webhook, https://hooks.slack.com, signed)",
            ),
        ];
        for (text, want) in cases {
            let ch = parse(text).resolve(&env).unwrap();
            assert_eq!(ch.describe(), want);
            let debug = format!("{ch:?}");
            assert!(
                !debug.contains("tok3n") && !debug.contains("k3y"),
                "{debug}"
            );
        }
    }
}
