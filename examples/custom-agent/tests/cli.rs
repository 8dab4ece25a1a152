//! The example binary runs ctrlbench's command line with its own agent.

use std::process::Command;

#[test]
fn the_added_agent_trains_through_the_ctrlbench_command_line() {
    let exe = env!("CARGO_BIN_EXE_ctrlbench-custom-agent");
    let out = Command::new(exe).arg("agents").output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("pd ") && listed.contains("sac "), "{listed}");

    let dir = std::env::temp_dir().join(format!("ctrlbench-custom-{}", std::process::id()));
    let run = Command::new(exe)
        .args(["train", "--agent", "pd", "--task", "cartpole-balance", "--steps", "2000"])
        .args(["--set", "eval_every=1000", "--set", "eval_episodes=1", "--set", "pd.kp=0.3"])
        .args(["--device", "cpu", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
    assert!(config.contains("kp: 0.3") && config.contains("kd: 0.1"), "{config}");
    let eval = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
    assert_eq!(eval.lines().count(), 4, "header + evaluations at 0, 1000, 2000: {eval}");
    let _ = std::fs::remove_dir_all(dir);
}
