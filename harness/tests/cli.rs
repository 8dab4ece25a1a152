//! The `ctrlbench` binary end to end: rollouts against dm_control, and one
//! clear error line (non-zero exit) for bad input.

mod common;

use common::{ctrlbench, stderr};

use std::path::Path;

fn write(path: &Path, s: &str) -> String {
    std::fs::write(path, s).unwrap();
    path.display().to_string()
}

#[test]
fn rollout_matches_dm_control_with_out_of_range_actions() {
    let dir = common::scratch("cli-rollout");
    let mut r = envs::RandomState::new(99);
    // Two action dimensions, values beyond the [-1, 1] control range included
    // (MuJoCo clamps them, in dm_control as here), 1200 rows: more than an episode.
    let actions: String = (0..1200)
        .map(|_| format!("{:?},{:?}\n", r.uniform(-1.5, 1.5), r.uniform(-1.5, 1.5)))
        .collect();
    let a = write(&dir.join("a.csv"), &actions);
    let ours = dir.join("ours.csv");
    let theirs = dir.join("theirs.csv");
    let o = ctrlbench(&[
        "env",
        "rollout",
        "--task",
        "dm_control/reacher-hard-v0",
        "--seed",
        "31337",
        "--actions",
        &a,
        "--out",
        ours.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    common::run_reference(
        "dmc_reference.py",
        &[
            "--domain",
            "reacher",
            "--task",
            "hard",
            "--seed",
            "31337",
            "--actions",
            &a,
            "--out",
            theirs.to_str().unwrap(),
        ],
    );
    let ours = envs::rollout::read_trajectory(&ours).unwrap();
    let theirs = envs::rollout::read_trajectory(&theirs).unwrap();
    assert_eq!(
        ours.len(),
        1202,
        "reset row, 1000 steps, the next episode's reset row, 200 steps"
    );
    assert!(ours[1001].reward.is_none(), "row 1001 is the second reset");
    let d = envs::rollout::max_abs_diff(&ours, &theirs).unwrap();
    assert!(d <= 1e-9, "max |diff| {d:e}");
    let header = std::fs::read_to_string(dir.join("ours.csv")).unwrap();
    assert!(header.starts_with("t,reward,discount,obs_0,obs_1,"));
    assert!(header.lines().nth(1).unwrap().starts_with("0,,,"));
}

#[test]
fn bad_rollout_input_gives_one_line_errors() {
    let dir = common::scratch("cli-errors");
    let out = dir.join("o.csv");
    let out = out.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![write(&dir.join("wide.csv"), "0.1,0.2\n")],
            "2 values, the task's action has 1",
        ),
        (
            vec![write(&dir.join("nan.csv"), "0.1\nnan\n")],
            "not a finite",
        ),
        (
            vec![write(&dir.join("text.csv"), "0.1\nabc\n")],
            "'abc' is not a number",
        ),
        (
            vec![dir.join("missing.csv").display().to_string()],
            "missing.csv",
        ),
    ];
    for (files, expected) in cases {
        let o = ctrlbench(&[
            "env",
            "rollout",
            "--task",
            "cartpole-swingup",
            "--seed",
            "1",
            "--actions",
            &files[0],
            "--out",
            out,
        ]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains(expected), "expected '{expected}' in: {e}");
        assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    let a = write(&dir.join("ok.csv"), "0.1\n");
    let o = ctrlbench(&[
        "env",
        "rollout",
        "--task",
        "cartpole-swingupp",
        "--seed",
        "1",
        "--actions",
        &a,
        "--out",
        out,
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("did you mean cartpole-swingup"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn envs_lists_every_task_and_info_reports_versions() {
    let o = ctrlbench(&["envs"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for task in envs::list() {
        assert!(text.contains(task), "{task} missing from `ctrlbench envs`");
    }
    let o = ctrlbench(&["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("MuJoCo          3.17.0"), "{text}");
    assert!(text.contains("libtorch        2.11.0"), "{text}");
}

#[test]
fn bench_env_reports_all_measurements() {
    let o = ctrlbench(&[
        "bench",
        "env",
        "--task",
        "pendulum-swingup",
        "--steps",
        "2000",
        "--repeats",
        "1",
        "--envs",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for key in [
        "raw mj_step",
        "env.step",
        "VecEnv 2x1",
        "VecEnv 2x2",
        "machine limit",
    ] {
        assert!(text.contains(key), "{key} missing:\n{text}");
    }
}

#[test]
fn suite_files_name_registered_tasks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/suites");
    for (file, count) in [
        ("dmc30.yaml", 30),
        ("dmc-hard.yaml", 7),
        ("mw50.yaml", 50),
        ("mw45.yaml", 45),
        ("mw10.yaml", 10),
        ("mt10.yaml", 10),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let tasks: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .collect();
        assert_eq!(tasks.len(), count, "{file}");
        use ctrlbench::reproduce::registry::{ABLATION_MW10, DMC30, MW45};
        let listed = match file {
            "dmc30.yaml" => Some(DMC30),
            "mw45.yaml" => Some(MW45),
            "mw10.yaml" => Some(ABLATION_MW10),
            _ => None,
        };
        if let Some(listed) = listed {
            assert_eq!(
                tasks, listed,
                "{file} and the reproduce registry list the same tasks"
            );
        }
        for t in tasks {
            let def = envs::find(t).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(def.name, t, "{file}: use the registered name");
        }
    }
}
