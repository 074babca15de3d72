//! The redline JSON Schema: `schema/redline.v1.json` and
//! `schema/redline-digest.v1.json` are what the code generates (schemars),
//! and every golden JSON redline validates against them.
//!
//! After an intended change to the JSON form, regenerate the files with
//! `REDLINER_WRITE_SCHEMA=1 cargo test --test integration schema`, read the
//! diff, and commit them with the golden files.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The committed file equals the generated schema (or is rewritten with
/// `REDLINER_WRITE_SCHEMA=1`).
fn shipped(name: &str, generated: &Value) -> Value {
    let path = root().join("schema").join(name);
    let text = format!("{}\n", serde_json::to_string_pretty(generated).unwrap());
    if std::env::var_os("REDLINER_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (REDLINER_WRITE_SCHEMA=1 writes it)",
            path.display()
        )
    });
    assert_eq!(
        committed,
        text,
        "{} is not what the code generates: REDLINER_WRITE_SCHEMA=1 cargo test --test integration schema",
        path.display()
    );
    generated.clone()
}

/// The JSON body of a golden file (after insta's front matter).
fn golden_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.splitn(3, "---\n").nth(2).unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn golden_files(suffix: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/integration/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

#[test]
fn golden_redlines_validate_against_the_shipped_schema() {
    let schema = shipped("redline.v1.json", &redliner::report::redline_schema());
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let files: Vec<PathBuf> = golden_files(".json.snap")
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("digest"))
        .collect();
    assert!(files.len() >= 10, "{files:?}");
    for path in &files {
        let doc = golden_json(path);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }

    // The schema says something: a redline with a kind it does not know,
    // or without its target, is refused.
    let mut bad = golden_json(&files[0]);
    bad["kind"] = Value::from("rewritten");
    assert!(!validator.is_valid(&bad));
    let mut bad = golden_json(&files[0]);
    bad.as_object_mut().unwrap().remove("target");
    assert!(!validator.is_valid(&bad));
    let mut bad = golden_json(&files[0]);
    bad["schema_version"] = Value::from(2);
    assert!(!validator.is_valid(&bad));
}

#[test]
fn golden_digests_validate_against_the_shipped_schema() {
    let schema = shipped("redline-digest.v1.json", &redliner::report::digest_schema());
    let validator = jsonschema::validator_for(&schema).unwrap();
    let files = golden_files("digest.json.snap");
    assert!(!files.is_empty());
    for path in &files {
        let doc = golden_json(path);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        assert!(!doc["redlines"].as_array().unwrap().is_empty());
    }
}
