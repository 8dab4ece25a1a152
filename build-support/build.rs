// Fails with one line naming `make setup` when the set-up folders are missing.
fn main() {
    let needs = [
        ("MUJOCO_DYNAMIC_LINK_DIR", "libmujoco.so"),
        ("LIBTORCH", "lib/libtorch_cpu.so"),
        ("CTRLBENCH_ASSET_DIR", "cartpole.xml"),
    ];
    for (var, file) in needs {
        println!("cargo::rerun-if-env-changed={var}");
        let ok =
            std::env::var_os(var).is_some_and(|d| std::path::Path::new(&d).join(file).exists());
        if !ok {
            eprintln!("ctrlbench is not set up ({var}/{file} is missing): run `make setup` first");
            std::process::exit(1);
        }
    }
}
