include!("../build-support/link.rs");

fn main() {
    link_mujoco();
    link_torch();
    // The libtorch build this crate links (from the torch wheel's version.py).
    let torch = std::path::PathBuf::from(std::env::var("LIBTORCH").unwrap_or_default());
    let version = std::fs::read_to_string(torch.join("version.py"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("__version__ = ")
                    .map(|v| v.trim_matches(['\'', '"']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo::rustc-env=CTRLBENCH_LIBTORCH_VERSION={version}");
    println!(
        "cargo::rerun-if-changed={}",
        torch.join("version.py").display()
    );
}
