//! Sweeps end to end through the `ctrlbench` binary: a sweep of `random` +
//! `scripted` on 2 tasks × 2 seeds; a killed sweep resumes to exactly the
//! same eval.csv/train.csv rows (and its checkpoint can be evaluated
//! meanwhile); shards are disjoint and cover the sweep;
//! bad input gives one clear error line.

mod common;

use common::ctrlbench;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctrlbench-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const EXPERIMENT: &str = "\
name: tiny
agents: [random, scripted]
tasks: [cartpole-swingup, pendulum-swingup]
seeds: [1, 2]
steps: 6000
eval_every: 3000
eval_episodes: 1
checkpoint_every: 1000
";

fn write_experiment(dir: &Path, text: &str) -> String {
    let p = dir.join("exp.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Every eval.csv and train.csv under `root`, by relative path, with the
/// wall_time_s column removed.
fn csv_rows(root: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .is_some_and(|n| n == "eval.csv" || n == "train.csv")
            {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(text.ends_with('\n'), "half row in {}", p.display());
                let mut lines = text.lines();
                let header: Vec<&str> = lines.next().unwrap().split(',').collect();
                let wall = header.iter().position(|h| *h == "wall_time_s").unwrap();
                let mut head = header.clone();
                head.remove(wall);
                let rows = std::iter::once(head.join(","))
                    .chain(lines.map(|l| {
                        let mut f: Vec<&str> = l.split(',').collect();
                        assert_eq!(f.len(), header.len(), "{}: {l}", p.display());
                        f.remove(wall);
                        f.join(",")
                    }))
                    .collect();
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), rows);
            }
        }
    }
    out
}

/// A run directory under `root` that holds a checkpoint.
fn checkpointed_run(root: &Path) -> Option<PathBuf> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == "checkpoint") {
                return Some(d);
            }
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    None
}

#[test]
fn killed_sweep_resumes_to_identical_results() {
    let dir = scratch("resume");
    let exp = write_experiment(&dir, EXPERIMENT);
    let full = dir.join("full");
    let t = Instant::now();
    let o = ctrlbench(&[
        "sweep",
        &exp,
        "--jobs",
        "2",
        "--device",
        "cpu",
        "--results",
        full.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("uninterrupted sweep: {:.1} s", t.elapsed().as_secs_f64());
    let reference = csv_rows(&full);
    assert_eq!(reference.len(), 16, "8 runs × (eval.csv, train.csv)");
    let eval = &reference["tiny/cartpole-swingup/random/seed-1/eval.csv"];
    assert_eq!(
        eval[0],
        "agent,env,env_step,episode_reward,episode_success,seed,variant,episodes,action_repeat,\
         final_success"
    );
    let steps: Vec<&str> = eval[1..]
        .iter()
        .map(|r| r.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(steps, ["0", "3000", "6000"]);
    assert!(
        eval[1].starts_with("random,cartpole-swingup,0,"),
        "{}",
        eval[1]
    );
    // Running again does nothing and changes nothing.
    let o = ctrlbench(&[
        "sweep",
        &exp,
        "--device",
        "cpu",
        "--results",
        full.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(csv_rows(&full), reference);

    // Kill a sweep once its first checkpoint is on disk, then resume it.
    let part = dir.join("part");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctrlbench"))
        .args([
            "sweep",
            &exp,
            "--jobs",
            "1",
            "--device",
            "cpu",
            "--results",
            part.to_str().unwrap(),
        ])
        .env("CTRLBENCH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while checkpointed_run(&part).is_none() && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().ok();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the sweep finished before it could be killed"
    );
    let partial = csv_rows(&part);
    assert!(
        partial.len() < 16,
        "killed mid-way: {} files",
        partial.len()
    );
    let run = checkpointed_run(&part).expect("a run was left with a checkpoint to resume from");
    // Its agent can be evaluated meanwhile, leaving the run as it is.
    let o = ctrlbench(&["evaluate", run.to_str().unwrap(), "--device", "cpu"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("(checkpoint)") && out.contains("over 1 episodes"),
        "{out}"
    );
    let o = ctrlbench(&[
        "sweep",
        &exp,
        "--jobs",
        "2",
        "--device",
        "cpu",
        "--results",
        part.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(csv_rows(&part), reference);
    let _ = std::fs::remove_dir_all(&dir);
}

fn dry_run(exp: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "sweep",
        exp,
        "--dry-run",
        "--results",
        "/nonexistent/results",
    ];
    args.extend_from_slice(extra);
    let o = ctrlbench(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn shards_are_disjoint_and_cover_the_sweep() {
    let dir = scratch("shards");
    let exp = write_experiment(
        &dir,
        &format!("{EXPERIMENT}grid:\n  scripted.amplitude: [0.25, 1.0]\n"),
    );
    let all = dry_run(&exp, &[]);
    // 2 tasks × (random + 2 scripted variants) × 2 seeds
    assert_eq!(all.len(), 12);
    assert!(all.contains(&"pendulum-swingup/scripted/amplitude=0.25/seed-2".to_string()));
    let mut union = Vec::new();
    for i in 0..5 {
        let shard = dry_run(&exp, &["--shard", &format!("{i}/5")]);
        assert!(!shard.is_empty());
        union.extend(shard);
    }
    let mut sorted_union = union.clone();
    sorted_union.sort();
    sorted_union.dedup();
    assert_eq!(sorted_union.len(), union.len(), "shards overlap");
    let mut sorted_all = all.clone();
    sorted_all.sort();
    assert_eq!(sorted_union, sorted_all, "shards cover the sweep");
    // The same expansion order every time.
    assert_eq!(dry_run(&exp, &[]), all);

    let job = dir.join("job.sbatch");
    let o = ctrlbench(&[
        "slurm",
        &exp,
        "--out",
        job.to_str().unwrap(),
        "--shards",
        "4",
        "--device",
        "cpu",
        "--results",
        dir.join("r").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = std::fs::read_to_string(&job).unwrap();
    assert!(script.contains("#SBATCH --array=0-3"), "{script}");
    assert!(
        script.contains("--shard ${SLURM_ARRAY_TASK_ID}/4"),
        "{script}"
    );
    assert!(script.contains(env!("CARGO_BIN_EXE_ctrlbench")), "{script}");
    // From a bundle, the script starts ctrlbench through its launcher.
    let o = Command::new(env!("CARGO_BIN_EXE_ctrlbench"))
        .args([
            "slurm",
            &exp,
            "--out",
            job.to_str().unwrap(),
            "--device",
            "cpu",
        ])
        .env("CTRLBENCH_LOG", "warn")
        .env("CTRLBENCH_LAUNCHER", "/opt/ctrlbench-0.1.0/bin/ctrlbench")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = std::fs::read_to_string(&job).unwrap();
    assert!(
        script.contains("\n/opt/ctrlbench-0.1.0/bin/ctrlbench sweep "),
        "{script}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn named_variants_cross_the_grid_and_budgets_choose_tasks_and_overrides() {
    let dir = scratch("variants");
    let exp = write_experiment(
        &dir,
        &format!(
            "{EXPERIMENT}variants:\n  low: {{scripted.amplitude: 0.25}}\n  high: {{scripted.amplitude: 1.0}}\n\
             grid:\n  scripted.period: [10, 20]\n\
             budgets:\n  one: {{seeds: 1, tasks: [pendulum-swingup], set: {{scripted.amplitude: 0.5}}}}\n"
        ),
    );
    let all = dry_run(&exp, &[]);
    // 2 tasks x 2 seeds x (scripted's 2 named variants x 2 grid values +
    // random once: no variant sets one of its keys)
    assert_eq!(all.len(), 20);
    assert!(all.contains(&"cartpole-swingup/scripted/high,period=20/seed-1".to_string()));
    assert!(all.contains(&"cartpole-swingup/random/seed-2".to_string()));
    assert!(
        !all.iter()
            .any(|r| r.starts_with("cartpole-swingup/random/low"))
    );
    let one = dry_run(&exp, &["--budget", "one"]);
    assert_eq!(one.len(), 5);
    assert!(one.iter().all(|r| r.starts_with("pendulum-swingup/")));
    let bad = write_experiment(&dir, &format!("{EXPERIMENT}variants:\n  a/b: {{}}\n"));
    let err = one_error(&["sweep", &bad, "--dry-run"]);
    assert!(err.contains("variant name 'a/b'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs ctrlbench expecting failure; returns the single error line.
fn one_error(args: &[&str]) -> String {
    let o = ctrlbench(args);
    assert!(!o.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn bad_input_gives_one_clear_error() {
    let dir = scratch("errors");
    let p = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let malformed = p("malformed.yaml", "name: x\nagents: [random\ntasks: [a]\n");
    let e = one_error(&["sweep", &malformed, "--dry-run"]);
    assert!(e.contains("malformed.yaml:"), "{e}");

    let unknown_key = p(
        "unknown.yaml",
        "name: x\nagents: [random]\ntasks: [cartpole-swingup]\nseeds: 1\nsteps: 10\nevel_every: 5\n",
    );
    let e = one_error(&["sweep", &unknown_key, "--dry-run"]);
    assert!(
        e.contains("unknown.yaml:6") && e.contains("evel_every"),
        "{e}"
    );

    let wrong_type = p(
        "type.yaml",
        "name: x\nagents: [random]\ntasks: [cartpole-swingup]\nseeds: 1\nsteps: many\n",
    );
    let e = one_error(&["sweep", &wrong_type, "--dry-run"]);
    assert!(e.contains("type.yaml:5") && e.contains("steps"), "{e}");

    let agent_key = p(
        "agentkey.yaml",
        "name: x\nagents: [random]\ntasks: [cartpole-swingup]\nseeds: 1\nsteps: 10\nset:\n  random.batch_sz: 3\n",
    );
    let e = one_error(&["sweep", &agent_key, "--dry-run"]);
    assert!(
        e.contains("agentkey.yaml:7") && e.contains("random.batch_sz"),
        "{e}"
    );

    let agent = p(
        "agent.yaml",
        "name: x\nagents: [randon]\ntasks: [cartpole-swingup]\nseeds: 1\nsteps: 10\n",
    );
    let e = one_error(&["sweep", &agent, "--dry-run"]);
    assert!(
        e.contains("agent.yaml:2") && e.contains("did you mean 'random'"),
        "{e}"
    );

    let task = p(
        "task.yaml",
        "name: x\nagents: [random]\ntasks: [cartpole-swingpu]\nseeds: 1\nsteps: 10\n",
    );
    let e = one_error(&["sweep", &task, "--dry-run"]);
    assert!(
        e.contains("task.yaml:3") && e.contains("cartpole-swingup"),
        "{e}"
    );

    let e = one_error(&["train", "--agent", "sac2", "--task", "cartpole-swingup"]);
    assert!(e.contains("unknown agent 'sac2'"), "{e}");
    let e = one_error(&["train", "--agent", "random", "--task", "walker-wlak"]);
    assert!(e.contains("walker-walk"), "{e}");
    let e = one_error(&[
        "train",
        "--agent",
        "random",
        "--task",
        "cartpole-swingup",
        "--set",
        "random.batch_size=big",
    ]);
    assert!(e.contains("random.batch_size"), "{e}");
    let e = one_error(&[
        "train",
        "--agent",
        "random",
        "--task",
        "cartpole-swingup",
        "--set",
        "action_repeat=0",
    ]);
    assert!(e.contains("action_repeat must be at least 1"), "{e}");
    let e = one_error(&["evaluate", dir.to_str().unwrap()]);
    assert!(e.contains("not a run directory"), "{e}");
    let e = one_error(&["sweep", &task, "--shard", "4/4"]);
    assert!(e.contains("invalid shard"), "{e}");

    // Settings that would write two runs into one directory, or outside
    // the results root.
    let exp = |name: &str, extra: &str| {
        p(
            &format!("{name}.yaml"),
            &format!("name: x\nagents: [random]\ntasks: [cartpole-swingup]\nsteps: 10\n{extra}"),
        )
    };
    let escape = p(
        "escape.yaml",
        "name: ../../escape\nagents: [random]\ntasks: [cartpole-swingup]\nseeds: 1\nsteps: 10\n",
    );
    let e = one_error(&["sweep", &escape, "--dry-run"]);
    assert!(e.contains("names the results directory"), "{e}");
    let e = one_error(&["sweep", &exp("seeds", "seeds: [1, 1]\n"), "--dry-run"]);
    assert!(e.contains("seed 1 is listed twice"), "{e}");
    let e = one_error(&["sweep", &exp("negative", "seeds: -3\n"), "--dry-run"]);
    assert!(
        e.contains("a count n (seeds 1..=n) or a list of seeds"),
        "{e}"
    );
    let e = one_error(&["sweep", &exp("listed", "seeds: [1, -2]\n"), "--dry-run"]);
    assert!(e.contains("seed -2 is not a whole number from 0"), "{e}");
    let grid = exp("grid", "seeds: 1\ngrid:\n  random.batch_size: [4, 4]\n");
    let e = one_error(&["sweep", &grid, "--dry-run"]);
    assert!(e.contains("random.batch_size' lists 4 twice"), "{e}");

    // Values no run or agent can have are errors before any work.
    let train = |set: &str, agent: &str| {
        let out = dir.join(format!("run-{agent}")).display().to_string();
        let args = [
            "train",
            "--agent",
            agent,
            "--task",
            "cartpole-swingup",
            "--steps",
            "10",
            "--device",
            "cpu",
            "--out",
            &out,
            "--set",
            set,
        ];
        one_error(&args)
    };
    let e = train("eval_episodes=0", "random");
    assert!(e.contains("eval_episodes must be at least 1"), "{e}");
    let e = train("buffer_capacity=0", "random");
    assert!(e.contains("buffer_capacity must be at least 2"), "{e}");
    let e = train("eval_at=[5, -1]", "random");
    assert!(
        e.contains("eval_at=[5, -1]: invalid value: integer `-1`"),
        "{e}"
    );
    // A run directory whose config.yaml cannot be read is named as such.
    let garbled = dir.join("run-random");
    std::fs::create_dir_all(&garbled).unwrap();
    std::fs::write(garbled.join("config.yaml"), "agent: [\n").unwrap();
    let e = train("eval_episodes=1", "random");
    assert!(e.contains("configuration cannot be read"), "{e}");
    let e = train("sac.hidden=[64, 0]", "sac");
    assert!(e.contains("hidden lists hidden-layer widths"), "{e}");
    // A refused configuration leaves no run behind that a corrected command
    // would collide with ("holds a run with a different configuration").
    assert!(!dir.join("run-sac").join("config.yaml").exists());
    let e = train("pets.num_particles=0", "pets");
    assert!(e.contains("num_particles"), "{e}");
    let e = train("dcwm.fsq_levels=[100000, 100000, 100000]", "dcwm");
    assert!(e.contains("make more than 65536 codes"), "{e}");

    // A Slurm script's lines cannot be injected through its options.
    let script = dir.join("s.sh").display().to_string();
    let good = exp("slurm", "seeds: 1\n");
    let e = one_error(&[
        "slurm",
        &good,
        "--out",
        &script,
        "--time",
        "1:00\nrm -rf /x",
    ]);
    assert!(e.contains("not a Slurm time limit"), "{e}");
    let e = one_error(&["slurm", &good, "--out", &script, "--partition", "gpu x"]);
    assert!(e.contains("not a partition name"), "{e}");

    // Options that --published-only would ignore are refused beside it.
    let o = ctrlbench(&[
        "reproduce",
        "sac-cartpole-swingup",
        "--published-only",
        "--budget",
        "short",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("cannot be used with"),
        "{err}"
    );

    // Counts of 0 (or beyond memory) are refused by the flag's parser.
    for args in [
        vec!["sweep", &good, "--dry-run", "--jobs", "0"],
        vec!["report", "/nonexistent", "--reps", "18446744073709551615"],
        vec![
            "bench",
            "agent",
            "--agent",
            "sac",
            "--task",
            "cartpole-swingup",
            "--updates",
            "0",
        ],
        vec!["bench", "env", "--task", "cartpole-swingup", "--envs", "0"],
    ] {
        let o = ctrlbench(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && !err.contains("panicked"), "{err}");
        assert!(err.contains("is not in 1..="), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evaluation_steps_beyond_a_shortened_run_are_named_in_a_warning() {
    let dir = scratch("eval-at");
    let exp = write_experiment(
        &dir,
        "name: x\nagents: [random]\ntasks: [walker-walk]\nseeds: 1\nsteps: 60000\n\
         eval_at: [1000, 26000, 51000]\nbudgets:\n  quick: {steps: 4000}\n",
    );
    let args = [
        "sweep",
        &exp,
        "--dry-run",
        "--results",
        "/nonexistent/results",
    ];
    let o = ctrlbench(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !err.contains("eval_at"), "{err}");
    let o = ctrlbench(&[&args[..], &["--budget", "quick"]].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("(budget quick): eval_at lists 26000, 51000 beyond steps (4000)"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reward_bound_keyword_may_be_set_to_a_number() {
    let dir = scratch("keyword-number");
    let exp = write_experiment(
        &dir,
        "name: x\nagents: [dcwm]\ntasks: [walker-walk]\nseeds: 1\nsteps: 10\n\
         set:\n  dcwm.r_min: 0.0\n  dcwm.r_max: 2\n",
    );
    assert_eq!(dry_run(&exp, &[]).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_run_is_recorded_and_the_others_finish() {
    let dir = scratch("failing");
    // period = 0 is rejected by the scripted agent: that variant's run fails.
    let exp = write_experiment(
        &dir,
        "name: failing\nagents: [scripted]\ntasks: [cartpole-swingup]\nseeds: [1]\nsteps: 1000\n\
         eval_every: 1000\neval_episodes: 1\ngrid:\n  scripted.period: [0.0, 40.0]\n",
    );
    let results = dir.join("r");
    let o = ctrlbench(&[
        "sweep",
        &exp,
        "--jobs",
        "2",
        "--device",
        "cpu",
        "--results",
        results.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 of 2 runs failed"), "{err}");
    let failed = std::fs::read_to_string(results.join("failing/failed.txt")).unwrap();
    assert!(
        failed.contains("period=0.0/seed-1") && failed.contains("period must be > 0"),
        "{failed}"
    );
    let ok = results.join("failing/cartpole-swingup/scripted/period=40.0/seed-1");
    assert!(
        std::fs::read_to_string(ok.join("meta.json"))
            .unwrap()
            .contains("\"complete\": true")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_action_repeat_is_a_run_setting_recorded_with_the_results() {
    let dir = scratch("action-repeat");
    let run = |repeat: Option<&str>, out: &Path| {
        let mut args = vec![
            "train",
            "--agent",
            "random",
            "--task",
            "cartpole-swingup",
            "--steps",
            "2000",
            "--device",
            "cpu",
            "--set",
            "eval_every=1000",
            "--set",
            "eval_episodes=1",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(r) = repeat {
            args.extend(["--set", r]);
        }
        let o = ctrlbench(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
        (read("config.yaml"), read("eval.csv"), read("train.csv"))
    };
    // The suite's default (DMC: 2) is recorded as a number.
    let (config, eval, train) = run(None, &dir.join("default"));
    assert!(config.contains("action_repeat: 2"), "{config}");
    assert!(
        eval.lines()
            .next()
            .unwrap()
            .ends_with(",action_repeat,final_success"),
        "{eval}"
    );
    // DMC defines no success: the last cell is empty.
    assert!(eval.lines().skip(1).all(|l| l.ends_with(",2,")), "{eval}");
    // episode_length is the 4th train.csv column: 500 agent steps = 1000 env steps.
    let lengths = |t: &str| -> Vec<String> {
        t.lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect()
    };
    assert_eq!(lengths(&train), ["500", "500"], "{train}");
    // At repeat 8 an episode keeps its 1000 env steps: 125 agent steps.
    let (config, eval, train) = run(Some("action_repeat=8"), &dir.join("eight"));
    assert!(config.contains("action_repeat: 8"), "{config}");
    assert!(eval.lines().skip(1).all(|l| l.ends_with(",8,")), "{eval}");
    assert_eq!(lengths(&train), ["125", "125"], "{train}");
    let steps: Vec<&str> = eval
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(steps, ["0", "1000", "2000"], "{eval}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configs_come_from_the_checkout_the_command_runs_in() {
    // A second checkout of the workspace whose random agent samples 7.
    let dir = scratch("other-checkout");
    let other = dir.join("checkout");
    std::fs::create_dir_all(other.join("configs/agents")).unwrap();
    std::fs::create_dir_all(other.join("harness")).unwrap();
    std::fs::write(other.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::write(other.join("harness/Cargo.toml"), "").unwrap();
    std::fs::write(other.join("configs/agents/random.yaml"), "batch_size: 7\n").unwrap();
    let work = other.join("some/folder");
    std::fs::create_dir_all(&work).unwrap();
    let out = dir.join("run");
    let o = Command::new(env!("CARGO_BIN_EXE_ctrlbench"))
        .current_dir(&work)
        .env_remove("CTRLBENCH_HOME")
        .args(["train", "--agent", "random", "--task", "cartpole-balance"])
        .args([
            "--steps",
            "1000",
            "--device",
            "cpu",
            "--set",
            "eval_every=0",
        ])
        .args(["--set", "eval_episodes=1", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config = std::fs::read_to_string(out.join("config.yaml")).unwrap();
    let configs = other.join("configs").display().to_string();
    assert!(config.contains("batch_size: 7"), "{config}");
    assert!(
        config.starts_with(&format!("# agent defaults from {configs}\n")),
        "{config}"
    );
    let meta = std::fs::read_to_string(out.join("meta.json")).unwrap();
    assert!(
        meta.contains(&format!("\"configs_dir\": \"{configs}\"")),
        "{meta}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
