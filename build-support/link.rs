// Shared by the build scripts of the workspace crates (included with `include!`).
//
// MuJoCo and libtorch are shared libraries set up by `make setup`; the binaries,
// tests and doctests of every crate that links them get an rpath to them, so
// nothing has to be exported at run time.

/// Fails the build with one clear line when `make setup` has not been run.
fn require_setup(var: &str, must_contain: &str) -> std::path::PathBuf {
    println!("cargo::rerun-if-env-changed={var}");
    let dir = std::env::var_os(var).map(std::path::PathBuf::from);
    match dir {
        Some(dir) if dir.join(must_contain).exists() => dir,
        _ => panic!(
            "\n\nctrlbench is not set up ({var} has no {must_contain}): run `make setup` first.\n\n"
        ),
    }
}

/// Links the MuJoCo library found by `make setup` with an rpath.
#[allow(dead_code)]
fn link_mujoco() {
    let dir = require_setup("MUJOCO_DYNAMIC_LINK_DIR", "libmujoco.so");
    println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.display());
}

/// Links libtorch (from the PyPI torch wheel) with an rpath. `torch_cuda` is
/// linked explicitly: with `--as-needed` the linker would drop it and CUDA
/// would be silently unavailable.
#[allow(dead_code)]
fn link_torch() {
    let dir = require_setup("LIBTORCH", "lib/libtorch_cpu.so").join("lib");
    println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.display());
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo::rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
