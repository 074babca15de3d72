//! `redliner test-alert CHANNEL`: sends a sample alert
//! ([`Alert::sample`]) to one configured channel and prints the outcome. Exit
//! 0 when the receiver accepted it, 2 otherwise. Nothing is queued or stored.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use redliner::error::Error;
use redliner::notify::{self, Alert};

use super::Global;

#[derive(Debug, Args)]
pub struct TestAlertArgs {
    /// Channel id (a `[[channel]]` entry of the config)
    pub channel: String,
}

pub fn run(global: &Global, args: &TestAlertArgs) -> Result<ExitCode, Error> {
    let settings = global.settings()?;
    let Some(config) = settings.channels.iter().find(|c| c.id == args.channel) else {
        let known: Vec<&str> = settings.channels.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::Usage(format!(
            "channel `{}` is not configured (configured: {})",
            args.channel,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let channel = config
        .resolve(&|name| std::env::var(name).ok())
        .map_err(|e| Error::Usage(e.to_string()))?;
    let runtime = super::runtime()?;
    // To the millisecond, as the store keeps every capture time.
    let now = jiff::Timestamp::now();
    let alert = Alert::sample(now.round(jiff::Unit::Millisecond).unwrap_or(now));
    let client = notify::client();
    let result = runtime.block_on(notify::deliver(&channel, &alert, &client));
    let status = result
        .status
        .map(|s| format!(" (status {s})"))
        .unwrap_or_default();
    if result.ok {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "test alert delivered to `{}` ({}){status}",
            channel.id,
            channel.kind()
        )
        .and_then(|()| out.flush())
        .map_err(|source| Error::System {
            what: "writing to standard output",
            source,
        })?;
        Ok(ExitCode::SUCCESS)
    } else {
        super::status(
            tracing::Level::WARN,
            None,
            format_args!(
                "test alert to `{}` ({}) failed{status}: {}",
                channel.id,
                channel.kind(),
                result.error.as_deref().unwrap_or("")
            ),
        );
        Ok(ExitCode::from(2))
    }
}
