//! Helpers shared by the tests that compare against the Python reference.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::process::Command;

/// The reference venv's interpreter (`make setup` creates it).
pub fn reference_python() -> PathBuf {
    let p = std::env::var_os("CTRLBENCH_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .or_else(|| option_env!("CTRLBENCH_REFERENCE_PYTHON").map(PathBuf::from))
        .expect("CTRLBENCH_REFERENCE_PYTHON is not set: run `make setup`");
    assert!(p.exists(), "{} is missing: run `make setup`", p.display());
    p
}

/// A project script under `scripts/`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name)
}

/// Runs a reference script and returns its stdout, failing the test with its
/// stderr if it fails.
pub fn run_reference(name: &str, args: &[&str]) -> String {
    let out = Command::new(reference_python())
        .arg(script(name))
        .args(args)
        .output()
        .expect("cannot start the reference Python");
    assert!(
        out.status.success(),
        "{name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
