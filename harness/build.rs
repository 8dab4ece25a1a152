include!("../build-support/link.rs");

fn main() {
    link_mujoco();
    link_torch();
}
