//! Records the commit the binary is built from, for `redliner --version`:
//! `REDLINER_COMMIT` from the environment when set (a packager building from
//! a tarball), else `git rev-parse --short=12 HEAD`, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REDLINER_COMMIT");
    // A new commit moves the branch HEAD names; watch both.
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        println!("cargo:rerun-if-changed=.git/{reference}");
    }
    let commit = std::env::var("REDLINER_COMMIT").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|c| !c.is_empty())
    });
    println!(
        "cargo:rustc-env=REDLINER_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
