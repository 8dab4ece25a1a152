include!("../build-support/link.rs");

fn main() {
    link_mujoco();
    println!("cargo::rerun-if-env-changed=CTRLBENCH_ASSET_DIR");
}
