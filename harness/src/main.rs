//! The `ctrlbench` command line with the built-in agents (see
//! [`ctrlbench::main_with`] for a command line with more).

fn main() -> std::process::ExitCode {
    ctrlbench::main_with(&[])
}
