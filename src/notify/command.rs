//! The command channel: runs a local program with the alert JSON
//! ([`Alert::to_json_bytes`], newline-terminated) on stdin and these
//! environment variables:
//!
//! | variable | value |
//! | --- | --- |
//! | `REDLINER_ALERT` | `revision`, `failing` or `recovered` |
//! | `REDLINER_TARGET` | the target id |
//! | `REDLINER_KIND` | the revision kind (`revised`, ...) or the health state |
//! | `REDLINER_URL` | the page URL |
//! | `REDLINER_IDEMPOTENCY_KEY` | the key for this alert on this channel |
//! | `REDLINER_CHANNEL` | the channel id |
//!
//! Exit status 0 is a delivery. A non-zero exit or a timeout (the program is
//! killed) is a transient failure, retried later; a program that cannot be
//! started is a permanent one. The end of its stderr is quoted in the error.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::DeliveryResult;
use super::alert::Alert;
use super::channel::CommandEndpoint;

/// Most characters of the program's stderr quoted in an error.
const MAX_QUOTED_STDERR: usize = 300;

/// The bytes written to the program's stdin: the alert JSON, newline-terminated.
pub fn stdin_json(alert: &Alert, channel_id: &str) -> Vec<u8> {
    alert.to_json_bytes(channel_id)
}

/// The environment variables set for the program (see the module docs).
pub fn env_vars(alert: &Alert, channel_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("REDLINER_ALERT", alert.alert_type().to_string()),
        ("REDLINER_TARGET", alert.target().to_string()),
        ("REDLINER_KIND", alert.kind_str().to_string()),
        ("REDLINER_URL", alert.url().to_string()),
        (
            "REDLINER_IDEMPOTENCY_KEY",
            alert.idempotency_key(channel_id),
        ),
        ("REDLINER_CHANNEL", channel_id.to_string()),
    ]
}

/// Most of the program's stderr kept for the error message, in bytes.
const MAX_STDERR_BYTES: u64 = 64 * 1024;

/// How long stderr is read after the program exited (a background process it
/// started may keep the pipe open).
const STDERR_GRACE: Duration = Duration::from_millis(300);

/// Kills the program's process group (it was started as the group's leader),
/// so what it started in the background dies with it.
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals a process group; it has no
        // memory-safety preconditions.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Runs the program once for `alert`.
pub(crate) async fn run(
    cmd: &CommandEndpoint,
    alert: &Alert,
    channel_id: &str,
    timeout: Duration,
) -> DeliveryResult {
    let place = format!("command `{}`", cmd.program);
    let mut command = Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .envs(env_vars(alert, channel_id))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout kills what it started too.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return DeliveryResult::failed(None, format!("{place}: cannot start: {e}"), false);
        }
    };
    let pid = child.id();
    let input = stdin_json(alert, channel_id);
    let stdin = child.stdin.take();
    let writer = async move {
        if let Some(mut s) = stdin {
            // A program may exit without reading its stdin; that is its choice.
            let _ = s.write_all(&input).await;
            let _ = s.shutdown().await;
        }
    };
    // stderr is read on the side: a background process the program left
    // running may hold it open long after the program itself exited.
    let stderr = child.stderr.take();
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(s) = stderr {
            let _ = s.take(MAX_STDERR_BYTES).read_to_end(&mut buf).await;
        }
        buf
    });
    let run = async {
        let ((), status) = tokio::join!(writer, child.wait());
        status
    };
    let status = match tokio::time::timeout(timeout, run).await {
        Err(_) => {
            kill_group(pid);
            reader.abort();
            return DeliveryResult::failed(
                None,
                format!(
                    "{place}: timed out after {}s, killed",
                    timeout.as_secs_f64()
                ),
                true,
            );
        }
        Ok(Err(e)) => {
            reader.abort();
            return DeliveryResult::failed(None, format!("{place}: {e}"), true);
        }
        Ok(Ok(status)) => status,
    };
    let stderr_bytes = {
        let abort = reader.abort_handle();
        match tokio::time::timeout(STDERR_GRACE, reader).await {
            Ok(Ok(bytes)) => bytes,
            _ => {
                abort.abort();
                Vec::new()
            }
        }
    };
    let output = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: stderr_bytes,
    };
    let code = output.status.code().and_then(|c| u16::try_from(c).ok());
    if output.status.success() {
        return DeliveryResult::delivered(code);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    let tail: String = {
        let n = stderr.chars().count();
        stderr
            .chars()
            .skip(n.saturating_sub(MAX_QUOTED_STDERR))
            .collect()
    };
    let mut msg = format!("{place}: {}", output.status);
    if !tail.is_empty() {
        msg.push_str(&format!(
            ": {}",
            tail.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    DeliveryResult::failed(code, msg, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channel::{Channel, Endpoint};
    use crate::notify::deliver;
    use crate::notify::text::tests::example;

    const SCRIPT: &str = r#"out="$1"
cat > "$out/stdin.json"
printf '%s\n' "$REDLINER_ALERT" "$REDLINER_TARGET" "$REDLINER_KIND" "$REDLINER_URL" "$REDLINER_IDEMPOTENCY_KEY" "$REDLINER_CHANNEL" > "$out/env.txt"
exit "${2:-0}"
"#;

    fn channel(dir: &std::path::Path, exit: &str, timeout: Duration) -> Channel {
        let script = dir.join("alert.sh");
        std::fs::write(&script, SCRIPT).unwrap();
        Channel {
            id: "cmd".into(),
            endpoint: Endpoint::Command(CommandEndpoint {
                program: "/bin/sh".into(),
                args: vec![
                    script.display().to_string(),
                    dir.display().to_string(),
                    exit.into(),
                ],
            }),
            timeout,
        }
    }

    #[tokio::test]
    async fn program_gets_json_on_stdin_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let ch = channel(dir.path(), "0", Duration::from_secs(10));
        let alert = Alert::revision(example(), None);
        let result = deliver(&ch, &alert, &crate::notify::client()).await;
        assert_eq!(result, DeliveryResult::delivered(Some(0)));
        let stdin = std::fs::read(dir.path().join("stdin.json")).unwrap();
        assert_eq!(stdin, stdin_json(&alert, "cmd"));
        let v: serde_json::Value = serde_json::from_slice(&stdin).unwrap();
        assert_eq!(v, alert.to_json("cmd"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("env.txt")).unwrap(),
            "revision\nnato-belarus\nrevised\nhttps://www.nato.int/cps/en/natohq/topics_49119.htm\nredliner:nato-belarus:42:cmd\ncmd\n"
        );
    }

    #[tokio::test]
    async fn failures_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let client = crate::notify::client();
        let alert = Alert::revision(example(), None);

        // non-zero exit with a message on stderr
        let mut ch = channel(dir.path(), "3", Duration::from_secs(10));
        if let Endpoint::Command(c) = &mut ch.endpoint {
            std::fs::write(
                dir.path().join("fail.sh"),
                "cat >/dev/null\necho 'no route\n to host' >&2\nexit 3\n",
            )
            .unwrap();
            c.args = vec![dir.path().join("fail.sh").display().to_string()];
        }
        assert_eq!(
            deliver(&ch, &alert, &client).await,
            DeliveryResult::failed(
                Some(3),
                "command `/bin/sh`: exit status: 3: no route to host",
                true
            )
        );

        // too slow: killed
        if let Endpoint::Command(c) = &mut ch.endpoint {
            c.args = vec!["-c".into(), "sleep 10".into()];
        }
        ch.timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        assert_eq!(
            deliver(&ch, &alert, &client).await,
            DeliveryResult::failed(
                None,
                "command `/bin/sh`: timed out after 0.3s, killed",
                true
            )
        );
        assert!(started.elapsed() < Duration::from_secs(5));

        // no such program: permanent
        ch.endpoint = Endpoint::Command(CommandEndpoint {
            program: "/nonexistent/redliner-hook".into(),
            args: vec![],
        });
        let r = deliver(&ch, &alert, &client).await;
        assert!(!r.ok && !r.transient && r.status.is_none(), "{r:?}");
        assert!(
            r.error
                .unwrap()
                .starts_with("command `/nonexistent/redliner-hook`: cannot start: ")
        );
    }

    #[tokio::test]
    async fn background_children_neither_block_a_delivery_nor_outlive_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let client = crate::notify::client();
        let alert = Alert::revision(example(), None);
        let mut ch = channel(dir.path(), "0", Duration::from_secs(5));

        // Exits 0 at once but leaves a child holding stderr open: delivered.
        if let Endpoint::Command(c) = &mut ch.endpoint {
            c.args = vec!["-c".into(), "cat >/dev/null; (sleep 20) & exit 0".into()];
        }
        let started = std::time::Instant::now();
        assert_eq!(
            deliver(&ch, &alert, &client).await,
            DeliveryResult::delivered(Some(0))
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );

        // Times out: the program and what it started are killed.
        let pidfile = dir.path().join("bg.pid");
        if let Endpoint::Command(c) = &mut ch.endpoint {
            c.args = vec![
                "-c".into(),
                format!("sleep 30 & echo $! > {}; wait", pidfile.display()),
            ];
        }
        ch.timeout = Duration::from_millis(500);
        let r = deliver(&ch, &alert, &client).await;
        assert!(!r.ok && r.transient, "{r:?}");
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let alive = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|stat| !stat.contains(") Z "))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while alive(&pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !alive(&pid),
            "background `sleep` {pid} outlived the timeout"
        );
    }
}
