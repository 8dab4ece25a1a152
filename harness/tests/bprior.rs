//! Behavior priors end to end through the `ctrlbench` binary: a short
//! bprior run on the sequential navigation, its prior played as a policy
//! (`play`), the next-target statistics of that play (`visits`), and a
//! second run starting from the first run's prior.

mod common;

use std::path::Path;
use std::process::Output;

use common::{ctrlbench, ok};

/// Small networks and a short warm-up, so the run takes seconds.
const SMALL: &[&str] = &[
    "--set",
    "warmup_steps=400",
    "--set",
    "eval_episodes=1",
    "--set",
    "bprior.batch_size=32",
    "--set",
    "bprior.hidden=[32, 32]",
    "--set",
    "bprior.prior_hidden=[32, 32]",
    "--set",
    "bprior.prior_obs=[position, targets, last_targets]",
];

/// A short bprior run on `pointmass-seqnav` into `out`, with [`SMALL`]
/// networks and `extra` settings.
fn train(out: &Path, seed: &str, steps: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--agent",
        "bprior",
        "--task",
        "pointmass-seqnav",
        "--seed",
        seed,
        "--steps",
        steps,
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    ctrlbench(&args)
}

#[test]
fn a_prior_is_learned_played_counted_and_reused() {
    let dir = common::scratch("bprior-e2e");
    let src = dir.join("src");
    ok(&train(&src, "1", "1200", &[]));
    let train_csv = std::fs::read_to_string(src.join("train.csv")).unwrap();
    let header = train_csv.lines().next().unwrap();
    for column in ["kl", "prior_std", "alpha"] {
        assert!(header.split(',').any(|c| c == column), "{header}");
    }
    assert!(src.join("final/agent/prior.json").is_file());

    // The prior played as a policy: one row per agent step with the task's
    // info values.
    let play = dir.join("play.csv");
    ok(&ctrlbench(&[
        "play",
        src.to_str().unwrap(),
        "--set",
        "bprior.act_with=prior",
        "--explore",
        "--episodes",
        "2",
        "--device",
        "cpu",
        "--out",
        play.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&play).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("episode,step,reward,visits,hits,last_visited,next_target")
    );
    assert_eq!(lines.count(), 2 * 500);
    let out = dir.join("visits");
    ok(&ctrlbench(&[
        "visits",
        &format!("prior={}", play.display()),
        "--out",
        out.to_str().unwrap(),
    ]));
    for file in ["visits.csv", "summary.md", "visits.png"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // A second run on the task starts from that prior, frozen; a prior of
    // other groups is refused with a clear error.
    let dst = dir.join("dst");
    let from = format!("bprior.prior_from={}", src.display());
    ok(&train(
        &dst,
        "2",
        "1000",
        &["--set", &from, "--set", "bprior.prior_train=false"],
    ));
    let bad = dir.join("bad");
    let o = train(
        &bad,
        "3",
        "1000",
        &["--set", &from, "--set", "bprior.prior_obs=all"],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("observation groups") && !err.contains("panicked"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
