//! The report's statistics against the `rliable` package (PyPI), computed
//! live in the reference venv on a fixed score matrix: point estimates equal,
//! bootstrap CIs within Monte Carlo noise.

#[path = "../../envs/tests/common/mod.rs"]
mod common;

use ctrlbench::report::stats::{self, Bootstrap, Estimate, Rng};
use serde_json::{Value, json};

const REPS: usize = 5000;

/// Fixed scores: `n_tasks` tasks x `n_runs` runs, normalized scale with some
/// values above 1 (to exercise the optimality-gap clipping) and ties.
fn matrix(seed: u64, n_tasks: usize, n_runs: usize, level: f64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed, 0);
    (0..n_tasks)
        .map(|t| {
            (0..n_runs)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    let v = level + 0.1 * t as f64 + 0.5 * (u - 0.5);
                    // Round to 3 decimals: ties, and exact values in JSON.
                    (v.clamp(0.0, 1.3) * 1000.0).round() / 1000.0
                })
                .collect()
        })
        .collect()
}

fn triple(v: &Value) -> [f64; 3] {
    let a = v.as_array().expect("array");
    [
        a[0].as_f64().unwrap(),
        a[1].as_f64().unwrap(),
        a[2].as_f64().unwrap(),
    ]
}

fn check(what: &str, ours: &Estimate, theirs: [f64; 3], ci_tol: f64) {
    assert!(
        (ours.point - theirs[0]).abs() <= 1e-12,
        "{what}: point {} vs rliable {}",
        ours.point,
        theirs[0]
    );
    assert!(
        (ours.lo - theirs[1]).abs() < ci_tol && (ours.hi - theirs[2]).abs() < ci_tol,
        "{what}: CI [{}, {}] vs rliable [{}, {}]",
        ours.lo,
        ours.hi,
        theirs[1],
        theirs[2]
    );
}

#[test]
fn aggregates_profiles_and_task_stats_match_rliable() {
    let algorithms = [
        ("low", matrix(1, 5, 10, 0.2)),
        ("mid", matrix(2, 5, 10, 0.5)),
        ("high", matrix(3, 5, 10, 0.8)),
    ];
    let tasks: Vec<Vec<f64>> = matrix(4, 3, 8, 0.4);
    let taus: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
    let spec = json!({
        "reps": REPS,
        "seed": 0,
        "taus": taus,
        "algorithms": algorithms.iter().map(|(k, m)| (k.to_string(), json!(m))).collect::<serde_json::Map<_, _>>(),
        "tasks": tasks,
    });
    let dir = common::scratch("stats-rliable");
    let input = dir.join("scores.json");
    std::fs::write(&input, spec.to_string()).unwrap();
    let out = common::run_reference("rliable_reference.py", &[input.to_str().unwrap()]);
    let r: Value = serde_json::from_str(&out).expect("reference JSON");

    let boot = Bootstrap {
        reps: REPS,
        confidence: 0.95,
        seed: 7,
    };
    for (name, m) in &algorithms {
        let ours = stats::aggregates(m, &boot);
        let theirs = &r["aggregates"][name];
        check(
            &format!("{name} IQM"),
            &ours.iqm,
            triple(&theirs["iqm"]),
            0.02,
        );
        check(
            &format!("{name} mean"),
            &ours.mean,
            triple(&theirs["mean"]),
            0.02,
        );
        check(
            &format!("{name} median"),
            &ours.median,
            triple(&theirs["median"]),
            0.02,
        );
        check(
            &format!("{name} optimality gap"),
            &ours.optimality_gap,
            triple(&theirs["optimality_gap"]),
            0.02,
        );
        // Profiles are fractions of 50 runs: a percentile can move by one run
        // (0.02) between two Monte Carlo draws.
        let prof = stats::performance_profile(m, &taus, &boot);
        let tp = &r["profiles"][name];
        for (i, e) in prof.iter().enumerate() {
            let t = [
                tp["point"][i].as_f64().unwrap(),
                tp["lo"][i].as_f64().unwrap(),
                tp["hi"][i].as_f64().unwrap(),
            ];
            check(&format!("{name} profile tau={}", taus[i]), e, t, 0.021);
        }
    }
    for (i, runs) in tasks.iter().enumerate() {
        let ours = stats::task_stats(runs, &boot);
        let theirs = &r["tasks"][i];
        check(
            &format!("task {i} mean"),
            &ours.mean,
            triple(&theirs["mean"]),
            0.02,
        );
        check(
            &format!("task {i} median"),
            &ours.median,
            triple(&theirs["median"]),
            0.03,
        );
        check(
            &format!("task {i} IQM"),
            &ours.iqm,
            triple(&theirs["iqm"]),
            0.02,
        );
        let std = theirs["std"].as_f64().unwrap();
        assert!(
            (ours.std - std).abs() <= 1e-12,
            "task {i} std {} vs {std}",
            ours.std
        );
    }
}

#[test]
fn iqm_equals_scipy_trim_mean_on_odd_sizes() {
    // Point estimates only (no bootstrap): sizes where floor(0.25 n) matters.
    for n in [1usize, 2, 3, 5, 7, 9, 13] {
        let m = matrix(10 + n as u64, 1, n, 0.5);
        let spec =
            json!({"reps": 10, "seed": 0, "taus": [0.5], "algorithms": {"a": m}, "tasks": []});
        let dir = common::scratch(&format!("stats-iqm-{n}"));
        let input = dir.join("scores.json");
        std::fs::write(&input, spec.to_string()).unwrap();
        let out = common::run_reference("rliable_reference.py", &[input.to_str().unwrap()]);
        let r: Value = serde_json::from_str(&out).unwrap();
        let theirs = triple(&r["aggregates"]["a"]["iqm"])[0];
        let ours = stats::aggregate_iqm(&m);
        assert!((ours - theirs).abs() <= 1e-12, "n={n}: {ours} vs {theirs}");
    }
}
