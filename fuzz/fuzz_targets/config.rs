//! Fuzzes config validation: any text must parse to settings or to one
//! [`ConfigError`](redliner::config::ConfigError) that displays as one
//! printable line, never panic.
//!
//! Input: the config text (lossy UTF-8; a config file that is not UTF-8 is
//! refused before parsing). Durations are fuzzed on the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redliner::config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match config::parse(&text, "fuzz.toml".as_ref(), None) {
        Ok(settings) => {
            for t in &settings.targets {
                assert_eq!(settings.target(&t.id).map(|x| &x.id), Some(&t.id));
                let _ = t.rules.fingerprint();
            }
        }
        Err(e) => {
            let line = e.to_string();
            assert!(line.starts_with("config `fuzz.toml`: "), "{line}");
            assert!(
                !line.contains(|c: char| c.is_control()),
                "a config error is one printable line: {line:?}"
            );
        }
    }
    let _ = redliner::duration::parse(&text);
});
