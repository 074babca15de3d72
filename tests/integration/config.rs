//! The config is checked whole before anything is written: a bad setting, a
//! file that is not a regular file, or a config without targets ends the run
//! with one line naming the file (and the key), exit 2, and no store.

use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

use crate::harness::{Run, Test};

/// Runs the binary with `--config CONFIG --store STORE ARGS`, in `dir`.
fn run_with(dir: &Path, config: &Path, args: &[&str]) -> Run {
    let mut cmd = StdCommand::cargo_bin("redliner").unwrap();
    cmd.current_dir(dir)
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(config)
        .arg("--store")
        .arg(dir.join("store"))
        .args(args)
        .stdin(Stdio::null());
    cmd.output().unwrap().into()
}

/// Asserts one stderr line that starts with `start` and contains `has`,
/// exit 2, no store.
fn assert_refused(run: &Run, dir: &Path, start: &str, has: &str, what: &str) {
    assert_eq!(run.code, 2, "{what}: {}", run.stderr);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "{what}: one line: {:?}",
        run.stderr
    );
    assert!(run.stderr.starts_with(start), "{what}: {:?}", run.stderr);
    assert!(run.stderr.contains(has), "{what}: {:?}", run.stderr);
    assert!(
        !dir.join("store").exists(),
        "{what}: the store was created: {:?}",
        run.stderr
    );
}

/// The issue's case: `user_agent = "bad\nagent"` was accepted, the store
/// created, and the check failed with two lines naming neither file nor key.
#[test]
fn user_agent_with_a_newline_is_refused_at_load_naming_file_and_key() {
    let t = Test::new();
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&config.replacen(
        "[settings]\n",
        "[settings]\nuser_agent = \"bad\\nagent\"\n",
        1,
    ));
    for args in [&["check"][..], &["watch", "--once"]] {
        let run = t.run(args);
        assert_refused(
            &run,
            t.dir.path(),
            &format!(
                "redliner: config `{}`: settings: key `user_agent`: \"bad\\nagent\" is not a valid HTTP header value",
                t.config_path().display()
            ),
            "",
            &format!("{args:?}"),
        );
    }
    assert!(t.server.seen().is_empty(), "nothing was fetched");
}

/// Every kind of bad setting is refused at load, before the store exists,
/// in one line naming the file and the key.
#[test]
fn every_bad_setting_is_refused_before_the_store_is_created() {
    let t = Test::new();
    let url = t.server.url("/page");
    let target = format!("[[target]]\nid = \"a\"\nurl = \"{url}\"\n");
    let cases: Vec<(String, &str)> = vec![
        (
            format!("[settings]\ntimeout = \"2h\"\n{target}"),
            "settings: key `timeout`",
        ),
        (
            format!("[settings]\nretries = 11\n{target}"),
            "settings: key `retries`",
        ),
        (
            format!("[settings]\nmax_body_bytes = 0\n{target}"),
            "settings: key `max_body_bytes`",
        ),
        (
            format!("[settings]\nlock_wait = \"forever\"\n{target}"),
            "settings: key `lock_wait`",
        ),
        (
            format!("[settings]\ndelivery_backoff = \"0s\"\n{target}"),
            "settings: key `delivery_backoff`",
        ),
        (
            format!("[settings]\nconfirm_after = \"-1s\"\n{target}"),
            "settings: key `confirm_after`",
        ),
        (
            format!("[settings]\nuser_agent = \"x\\u0000y\"\n{target}"),
            "settings: key `user_agent`",
        ),
        (
            format!("[settings]\nstore = \"\"\n{target}"),
            "settings: key `store`",
        ),
        (
            "[[target]]\nid = \"a\"\nurl = \"http://\"\n".into(),
            "target `a`: key `url`",
        ),
        (
            "[[target]]\nid = \"a\"\nurl = \"file:///etc/passwd\"\n".into(),
            "target `a`: key `url`",
        ),
        (
            format!("{target}every = \"0s\"\n"),
            "target `a`: key `every`",
        ),
        (
            format!("{target}cron = \"0 0 31 2 *\"\n"),
            "target `a`: key `cron`",
        ),
        (
            format!("{target}cron = \"not a cron\"\n"),
            "target `a`: key `cron`",
        ),
        (
            format!("{target}jitter = \"2 days\"\nevery = \"1h\"\n"),
            "target `a`: key `jitter`",
        ),
        (
            format!("{target}channels = [\"nope\"]\n"),
            "target `a`: key `channels`",
        ),
        (
            format!(
                "{target}\n[[channel]]\nid = \"m\"\nkind = \"email\"\nsmtp_host = \"x.org\"\ntls = \"none\"\nfrom = \"a@x.org\"\nto = [\"b@x.org\"]\n"
            ),
            "channel `m`: key `tls`",
        ),
        (
            format!(
                "{target}\n[[channel]]\nid = \"h\"\nkind = \"webhook\"\nurl_env = \"not a name\"\n"
            ),
            "channel `h`: key `url_env`",
        ),
        (
            format!(
                "{target}\n[[channel]]\nid = \"h\"\nkind = \"webhook\"\nurl_env = \"HOOK\"\ntimeout = \"0s\"\n"
            ),
            "channel `h`: key `timeout`",
        ),
    ];
    let start = format!("redliner: config `{}`: ", t.config_path().display());
    for (text, key) in &cases {
        t.write_config(text);
        let run = t.run(&["check"]);
        assert_refused(&run, t.dir.path(), &start, key, text);
    }
    assert!(t.server.seen().is_empty(), "nothing was fetched");
}

/// A FIFO as `--config` blocked forever (opening it waits for a writer).
#[cfg(unix)]
#[test]
fn fifo_as_config_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("redliner.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut cmd = StdCommand::cargo_bin("redliner").unwrap();
    let mut child = cmd
        .current_dir(dir.path())
        .env_remove("REDLINER_CONFIG")
        .env_remove("REDLINER_STORE")
        .env_remove("RUST_LOG")
        .arg("--config")
        .arg(&fifo)
        .arg("--store")
        .arg(dir.path().join("store"))
        .arg("check")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`check --config FIFO` still blocked after 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "redliner: config `{}`: not a regular file (a FIFO); give the path of a TOML file\n",
            fifo.display()
        )
    );
    assert!(!dir.path().join("store").exists());
}

/// An empty config gave exit 0 for `watch --once` (creating a store) and for
/// `alerts --retry`, where `check` rightly exits 2.
#[test]
fn empty_config_exits_2_for_watch_once_and_alerts_retry() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 7] = [
        &["check"],
        &["check", "--due"],
        &["check", "some-target"],
        &["watch", "--once"],
        &["watch"],
        &["alerts", "--retry"],
        &["reextract", "some-target"],
    ];
    let configs = [
        ("empty.toml", ""),
        ("settings-only.toml", "[settings]\ntimeout = \"5s\"\n"),
        (
            "channels-only.toml",
            "[[channel]]\nid = \"h\"\nkind = \"webhook\"\nurl_env = \"HOOK\"\n",
        ),
    ];
    for (name, text) in configs {
        let config = dir.path().join(name);
        std::fs::write(&config, text).unwrap();
        for args in commands {
            let run = run_with(dir.path(), &config, args);
            assert_refused(
                &run,
                dir.path(),
                &format!(
                    "redliner: config `{}`: no targets configured (add a [[target]] table)\n",
                    config.display()
                ),
                "",
                &format!("{name} {args:?}"),
            );
        }
    }
}

/// The README's config reference names every key of every table. The keys
/// come from the parser itself (the "expected one of" list serde gives for
/// an unknown key, so a new field cannot be forgotten here), and the README's
/// keys from its TOML blocks, commented examples included (`# key = ...`).
#[test]
fn the_readme_documents_every_config_key() {
    let tables = [
        ("settings", "[settings]\nzz_unknown = 1\n"),
        (
            "settings.retention",
            "[settings.retention]\nzz_unknown = 1\n",
        ),
        ("rules", "[rules.r]\nzz_unknown = 1\n"),
        (
            "target",
            "[[target]]\nid = \"t\"\nurl = \"https://example.org/\"\nzz_unknown = 1\n",
        ),
        (
            "target.alerts",
            "[[target]]\nid = \"t\"\nurl = \"https://example.org/\"\n[target.alerts]\nzz_unknown = 1\n",
        ),
        (
            "channel",
            "[[channel]]\nid = \"c\"\nkind = \"webhook\"\nzz_unknown = 1\n",
        ),
    ];
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let documented = readme_keys(&readme);
    let mut missing = Vec::new();
    for (table, text) in tables {
        let err = redliner::config::parse(text, std::path::Path::new("c.toml"), None)
            .unwrap_err()
            .to_string();
        let expected = err
            .split_once("expected")
            .unwrap_or_else(|| panic!("{table}: {err}"))
            .1;
        let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(keys.len() >= 2, "{table}: {err}");
        for key in keys {
            if !documented.contains(&(table.to_string(), key.to_string())) {
                missing.push(format!("{table}.{key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys the README's config reference leaves out: {missing:?}"
    );
}

/// `(table, key)` for every `key = ...` line (commented or not) in the
/// README's TOML blocks, the table named as the tests above name it.
fn readme_keys(readme: &str) -> std::collections::HashSet<(String, String)> {
    let mut keys = std::collections::HashSet::new();
    let mut in_toml = false;
    let mut table = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_toml = line.trim() == "```toml";
            table.clear();
            continue;
        }
        if !in_toml {
            continue;
        }
        let l = line.trim_start().trim_start_matches('#').trim();
        if l.starts_with('[') {
            let name = l.split(']').next().unwrap().trim_start_matches('[');
            table = match name {
                n if n.starts_with("rules.") => "rules".into(),
                n => n.to_string(),
            };
            // A subtable documents its parent's key: `[target.alerts]`.
            if let Some((parent, key)) = table.split_once('.') {
                keys.insert((parent.to_string(), key.to_string()));
            }
            continue;
        }
        if let Some((key, _)) = l.split_once('=') {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                keys.insert((table.clone(), key.to_string()));
            }
        }
    }
    keys
}
