include!("../build-support/link.rs");

fn main() {
    link_mujoco();
    link_torch();
    embed_git_commit();
}

/// Sets CTRLBENCH_GIT_COMMIT to the commit of the checkout being built, for
/// the runs' meta.json (built outside a git checkout: not set). Rebuilt when
/// HEAD or a branch moves.
fn embed_git_commit() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = root.join(".git");
    if !git.join("HEAD").is_file() {
        return; // not a plain git checkout: nothing to watch, so nothing set
    }
    for watched in ["HEAD", "refs/heads", "packed-refs"] {
        let path = git.join(watched);
        if path.exists() {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    }
    let Ok(out) = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "HEAD"])
        .output()
    else {
        return;
    };
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !commit.is_empty() {
        println!("cargo::rustc-env=CTRLBENCH_GIT_COMMIT={commit}");
    }
}
