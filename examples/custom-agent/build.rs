//! Links MuJoCo and libtorch with an rpath, so the binary runs with nothing
//! exported. `MUJOCO_DYNAMIC_LINK_DIR` and `LIBTORCH` are the folders that
//! ctrlbench's `make setup` prepared (its `third_party/mujoco/lib` and
//! `third_party/torch`); the dependencies' own build scripts need them too.

fn main() {
    for (var, lib) in [
        ("MUJOCO_DYNAMIC_LINK_DIR", ""),
        ("LIBTORCH", "lib"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        let Some(dir) = std::env::var_os(var) else {
            panic!("set {var} to the folder ctrlbench's `make setup` prepared (see README.md)");
        };
        let dir = std::path::Path::new(&dir).join(lib);
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    // With --as-needed the linker would drop libtorch_cuda: no CUDA at run time.
    let torch = std::path::PathBuf::from(std::env::var_os("LIBTORCH").unwrap()).join("lib");
    if torch.join("libtorch_cuda.so").exists() {
        println!("cargo::rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
