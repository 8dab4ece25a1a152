//! Learning agents end to end through `ctrlbench train` on the CPU: a short
//! run must learn (beat the random agent by a wide margin: SAC on
//! cartpole-balance, a small DCWM on walker-stand, a small PETS on
//! cartpole-swingup), and the same seed must give the same run.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctrlbench-learn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `ctrlbench train` with `args`, into `out`; panics with stderr on failure.
fn train(out: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_ctrlbench"))
        .arg("train")
        .args(args)
        .args(["--device", "cpu", "--out"])
        .arg(out)
        .env("CTRLBENCH_LOG", "warn")
        .output()
        .expect("run ctrlbench");
    assert!(
        o.status.success(),
        "ctrlbench train {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Rows of a CSV without its `wall_time_s` column.
fn rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let wall = header.iter().position(|h| *h == "wall_time_s");
    lines
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| Some(*i) != wall)
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// The last evaluation's mean return.
fn final_return(dir: &Path) -> f64 {
    let text = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
    let last = text.lines().last().unwrap();
    last.split(',').nth(3).unwrap().parse().unwrap()
}

/// A small DCWM (the paper's structure at a fraction of its width) that
/// trains in seconds on a CPU.
const TINY_DCWM: &[&str] = &[
    "--set",
    "latent_dim=32",
    "--set",
    "mlp_dims=[128, 128]",
    "--set",
    "enc_mlp_dims=[128]",
    "--set",
    "batch_size=128",
    "--set",
    "num_samples=128",
    "--set",
    "num_elites=16",
    "--set",
    "num_pi_trajs=8",
    "--set",
    "iterations=3",
];

#[test]
fn sac_beats_the_random_agent_on_cartpole_balance() {
    let dir = scratch("sac");
    let common = [
        "--task",
        "cartpole-balance",
        "--seed",
        "1",
        "--steps",
        "20000",
        "--set",
        "eval_every=20000",
        "--set",
        "eval_episodes=5",
    ];
    train(
        &dir.join("random"),
        &[&["--agent", "random"], &common[..]].concat(),
    );
    train(
        &dir.join("sac"),
        &[
            &["--agent", "sac", "--set", "warmup_steps=1000"],
            &common[..],
        ]
        .concat(),
    );
    let (r, s) = (
        final_return(&dir.join("random")),
        final_return(&dir.join("sac")),
    );
    // At 10k env steps SAC is still between 360 and 550 on seeds 1-3 (and a
    // change of rounding moves a seed across a margin); at 20k it is at 920+.
    eprintln!("cartpole-balance after 20k env steps: random {r:.1}, sac {s:.1}");
    assert!(s > r + 150.0, "SAC did not learn: {s:.1} vs random {r:.1}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn dcwm_beats_the_random_agent_on_walker_stand() {
    // The small DCWM, planning, from 2 random episodes on: walker-stand
    // rewards standing tall and upright (the paper's DCWM is at ~900 by 25k
    // env steps). Both agents are evaluated on the same 20 initial states.
    // Random actions score ~140, and so does the untrained planner; the small
    // DCWM reaches 200-270 at 10k env steps (seeds 1-3).
    let dir = scratch("dcwm");
    let common = [
        "--task",
        "walker-stand",
        "--seed",
        "1",
        "--steps",
        "10000",
        "--set",
        "eval_every=0",
        "--set",
        "eval_episodes=20",
    ];
    train(
        &dir.join("random"),
        &[&["--agent", "random"], &common[..]].concat(),
    );
    let dcwm = [
        &["--agent", "dcwm"][..],
        &common[..],
        TINY_DCWM,
        &[
            "--set",
            "random_episodes=2",
            "--set",
            "exploration_noise_num_steps=5",
        ],
    ]
    .concat();
    train(&dir.join("dcwm"), &dcwm);
    let (r, d) = (
        final_return(&dir.join("random")),
        final_return(&dir.join("dcwm")),
    );
    eprintln!("walker-stand after 10k env steps: random {r:.1}, dcwm {d:.1}");
    assert!(d > r + 30.0, "DCWM did not learn: {d:.1} vs random {r:.1}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn pets_beats_the_random_agent_on_cartpole_swingup() {
    // PETS at small planner settings (population 64, 5 particles, horizon
    // 10, 3 iterations, the ensemble at full size) on cartpole-swingup with
    // its action repeat 8: one random episode, then 7 of PETS; 5 evaluation
    // episodes at 8k env steps. Random actions score 80-130; seed 1's small
    // PETS scored 485 (3 episodes) there, its training episodes rising from
    // 150 to 280-300. About a minute per seed.
    let dir = scratch("pets");
    let common = |seed: &'static str| {
        [
            "--task",
            "cartpole-swingup",
            "--seed",
            seed,
            "--steps",
            "8000",
            "--set",
            "eval_every=0",
            "--set",
            "eval_at=[8000]",
            "--set",
            "eval_episodes=5",
            "--set",
            "action_repeat=8",
        ]
    };
    for seed in ["1", "2"] {
        let random = dir.join(format!("random-{seed}"));
        train(
            &random,
            &[&["--agent", "random"][..], &common(seed)].concat(),
        );
        let pets = dir.join(format!("pets-{seed}"));
        let small = [
            "--set",
            "population=64",
            "--set",
            "num_particles=5",
            "--set",
            "horizon=10",
            "--set",
            "iterations=3",
        ];
        train(
            &pets,
            &[&["--agent", "pets"][..], &common(seed), &small].concat(),
        );
        let (r, p) = (final_return(&random), final_return(&pets));
        eprintln!("cartpole-swingup seed {seed} after 8k env steps: random {r:.1}, pets {p:.1}");
        assert!(
            p > r + PETS_MARGIN,
            "PETS did not learn (seed {seed}): {p:.1} vs random {r:.1}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

/// What the small PETS must beat the random agent by on cartpole-swingup.
const PETS_MARGIN: f64 = 150.0;

#[test]
fn sac_same_seed_same_first_2000_steps() {
    let dir = scratch("sac-det");
    let args = [
        "--agent",
        "sac",
        "--task",
        "cartpole-swingup",
        "--seed",
        "3",
        "--steps",
        "2000",
        "--set",
        "learning_starts=500",
        "--set",
        "eval_every=1000",
        "--set",
        "eval_episodes=1",
    ];
    train(&dir.join("a"), &args);
    train(&dir.join("b"), &args);
    for f in ["train.csv", "eval.csv"] {
        let (a, b) = (rows(&dir.join("a").join(f)), rows(&dir.join("b").join(f)));
        assert!(a.len() >= 2, "{f}: {a:?}");
        assert_eq!(a, b, "{f} differs between two runs with the same seed");
    }
    // Learning happened in those steps (losses are numbers, not empty).
    let train_rows = rows(&dir.join("a").join("train.csv"));
    assert!(
        train_rows
            .last()
            .unwrap()
            .split(',')
            .all(|v| !v.is_empty() && v != "NaN")
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn dcwm_same_seed_same_run_and_codebook_metrics() {
    let dir = scratch("dcwm-det");
    let args = [
        &[
            "--agent",
            "dcwm",
            "--task",
            "cartpole-swingup",
            "--seed",
            "2",
            "--steps",
            "3000",
            "--set",
            "random_episodes=1",
            "--set",
            "eval_every=3000",
            "--set",
            "eval_episodes=1",
        ][..],
        TINY_DCWM,
    ]
    .concat();
    train(&dir.join("a"), &args);
    train(&dir.join("b"), &args);
    for f in ["train.csv", "eval.csv"] {
        let (a, b) = (rows(&dir.join("a").join(f)), rows(&dir.join("b").join(f)));
        assert_eq!(a, b, "{f} differs between two runs with the same seed");
    }
    let text = std::fs::read_to_string(dir.join("a").join("train.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "codebook_active_percent")
        .expect("codebook usage column");
    let last: f64 = text
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(col)
        .unwrap()
        .parse()
        .unwrap();
    assert!(last > 0.0 && last <= 100.0, "codebook usage {last}");
    std::fs::remove_dir_all(dir).ok();
}
