//! The run loop against an agent that schedules update blocks and crashes on
//! demand: interrupted runs resume to the uninterrupted run's files.

use std::path::{Path, PathBuf};

use agents::{Agent, DeviceChoice, Mode, ReplayBuffer};
use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::checkpoint::LoopState;
use super::evaluation::evaluate_checkpoint_with;
use super::files::{Meta, git_commit};
use super::*;
use crate::config::RunSettings;
use agents::AgentError;
use agents::agent::{load_json, save_json};

/// Asks for a 2,500-update block after its first episode and 7 updates
/// after each later one. Each update folds its index into `value`, so
/// train.csv shows how many updates ran, and in which order. Fails, as a
/// crash would, on reaching update `crash_at`, or in evaluation episode
/// `crash_in_eval` (counted from 1 in this process).
#[derive(Default, Serialize, Deserialize)]
struct BlockAgent {
    episodes: u64,
    updates: u64,
    value: u64,
    #[serde(skip)]
    crash_at: Option<u64>,
    #[serde(skip)]
    crash_in_eval: Option<u64>,
    #[serde(skip)]
    eval_episodes: u64,
}

impl Agent for BlockAgent {
    fn begin_episode(&mut self, mode: Mode, _seed: u64) {
        if matches!(mode, Mode::Eval(_)) {
            self.eval_episodes += 1;
        }
    }

    fn act(&mut self, _obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        if matches!(mode, Mode::Eval(_)) && self.crash_in_eval == Some(self.eval_episodes) {
            return Err(AgentError::Other("crashed in evaluation".into()));
        }
        // What the agent learned shows in its evaluation returns.
        Ok(vec![(self.value % 101) as f32 / 50.0 - 1.0])
    }

    fn update(&mut self, _: &ReplayBuffer, _: u64, end: bool) -> Result<u64, AgentError> {
        if !end {
            return Ok(0);
        }
        self.episodes += 1;
        Ok(if self.episodes == 1 { 2500 } else { 7 })
    }

    fn learn(&mut self, _: &ReplayBuffer, n: u64) -> Result<(), AgentError> {
        for _ in 0..n {
            if self.crash_at == Some(self.updates) {
                return Err(AgentError::Other("crashed".into()));
            }
            self.updates += 1;
            self.value = (self.value * 31 + self.updates) % 1_000_003;
        }
        Ok(())
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        vec![
            ("updates".into(), self.updates as f64),
            ("value".into(), self.value as f64),
        ]
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        save_json(dir, "block.json", self)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        let (crash_at, crash_in_eval) = (self.crash_at, self.crash_in_eval);
        *self = BlockAgent {
            crash_at,
            crash_in_eval,
            ..load_json(dir, "block.json")?
        };
        Ok(())
    }
}

/// eval.csv and train.csv without their wall_time_s columns.
fn csvs(dir: &Path) -> Vec<String> {
    ["eval.csv", "train.csv"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
            let wall = header.iter().position(|h| *h == "wall_time_s").unwrap();
            text.lines()
                .map(|l| {
                    let mut cells: Vec<&str> = l.split(',').collect();
                    cells.remove(wall);
                    cells.join(",")
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// A 4,000-step cartpole-balance run of [`BlockAgent`] (4 episodes).
fn block_config(eval_every: u64, checkpoint_every: u64) -> RunConfig {
    RunConfig {
        experiment: "block".into(),
        agent: "block".into(),
        task: "cartpole-balance".into(),
        seed: 3,
        variant: None,
        run: RunSettings {
            steps: 4000,
            eval_every,
            eval_episodes: 1,
            checkpoint_every,
            ..RunSettings::default()
        },
        agent_config: serde_yaml::Value::Null,
    }
}

fn block_run(cfg: &RunConfig, dir: &Path, agent: BlockAgent) -> Result<Outcome> {
    let env = run_env(cfg, "train").unwrap();
    let eval_envs = EvalEnvs::new(cfg, cfg.run.eval_episodes).unwrap();
    run_agent(
        cfg,
        dir,
        Box::new(agent),
        env,
        eval_envs,
        "cpu",
        &mut |_| {},
    )
}

fn checkpoint_state(dir: &Path) -> LoopState {
    serde_json::from_slice(&std::fs::read(dir.join("checkpoint/state.json")).unwrap()).unwrap()
}

/// Fresh `full` and `cut` run directories under a per-test root.
fn block_dirs(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("ctrlbench-{name}-{}", std::process::id()));
    let (full, cut) = (root.join("full"), root.join("cut"));
    for d in [&full, &cut] {
        std::fs::create_dir_all(d).unwrap();
    }
    (root, full, cut)
}

/// Runs `cfg` uninterrupted into `full` and, cut by a crash in its
/// `eval`-th evaluation episode, into `cut`; returns the uninterrupted
/// CSVs.
fn run_full_and_cut_in_eval(cfg: &RunConfig, full: &Path, cut: &Path, eval: u64) -> Vec<String> {
    block_run(cfg, full, BlockAgent::default()).unwrap();
    let crash = BlockAgent {
        crash_in_eval: Some(eval),
        ..BlockAgent::default()
    };
    let err = block_run(cfg, cut, crash).unwrap_err();
    assert!(err.to_string().contains("crashed in evaluation"), "{err}");
    csvs(full)
}

#[test]
fn a_run_cut_inside_an_update_block_resumes_to_identical_results() {
    let cfg = block_config(2000, RunSettings::default().checkpoint_every);
    let (root, full, cut) = block_dirs("block");
    block_run(&cfg, &full, BlockAgent::default()).unwrap();
    let reference = csvs(&full);
    // 4 episodes; after the first, 2,500 updates, then 7 per episode.
    let last = reference[1].lines().last().unwrap();
    assert!(last.starts_with("4000,3,"), "{last}");
    assert!(last.contains(",2521,"), "{last}");

    // A crash at update 1,500: the checkpoint after the first 1,000 of
    // the block is on disk, and no train.csv row yet.
    let crash = BlockAgent {
        crash_at: Some(1500),
        ..BlockAgent::default()
    };
    let err = block_run(&cfg, &cut, crash).unwrap_err();
    assert!(err.to_string().contains("crashed"), "{err}");
    assert!(has_checkpoint(&cut));
    let rows = std::fs::read_to_string(cut.join("train.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1, "{rows}");
    assert!(checkpoint_state(&cut).episode_end.is_some());
    block_run(&cfg, &cut, BlockAgent::default()).unwrap();
    assert_eq!(csvs(&cut), reference);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_finished_run_without_its_meta_json_is_not_run_over() {
    let cfg = block_config(2000, 1000);
    let (root, full, _) = block_dirs("no-meta");
    block_run(&cfg, &full, BlockAgent::default()).unwrap();
    let before = csvs(&full);
    std::fs::write(full.join("meta.json"), "{\"complete\": tr").unwrap();
    let err = block_run(&cfg, &full, BlockAgent::default()).unwrap_err();
    assert!(err.to_string().contains("no readable meta.json"), "{err}");
    assert_eq!(csvs(&full), before);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn meta_records_the_commit_of_the_start_and_of_each_resume() {
    let cfg = block_config(2000, 1000);
    let (root, full, cut) = block_dirs("meta-commits");
    run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
    // A meta.json from before the resumes' commits were recorded.
    let path = cut.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    meta["resumed_at"] = serde_json::json!(["2026-01-01T00:00:00Z"]);
    meta.as_object_mut().unwrap().remove("resumed_git_commits");
    std::fs::write(&path, meta.to_string()).unwrap();
    block_run(&cfg, &cut, BlockAgent::default()).unwrap();
    let meta: Meta = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(meta.git_commit, git_commit());
    assert_eq!(meta.resumed_at.len(), 2);
    assert_eq!(meta.resumed_git_commits, [None, git_commit()]);
    assert!(meta.complete);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_run_cut_during_an_evaluation_resumes_at_that_evaluation() {
    // Evaluations at 0, 2,000 and 4,000 steps; a checkpoint due at
    // 2,000 (the update block after the first episode checkpointed at
    // 1,000).
    let cfg = block_config(2000, 1000);
    let (root, full, cut) = block_dirs("eval-cut");
    // A crash in the evaluation at 2,000 steps: the training before it
    // is checkpointed.
    let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
    assert_eq!(reference[0].lines().count(), 4, "{}", reference[0]);
    // train.csv's episode_reward_max is the running maximum of the returns.
    let mut lines = reference[1].lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ret, max) = (col("episode_reward"), col("episode_reward_max"));
    let mut running = f64::NEG_INFINITY;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        running = running.max(row[ret].parse().unwrap());
        assert_eq!(row[max], csv_f64(running), "{line}");
    }
    let state = checkpoint_state(&cut);
    assert_eq!((state.env_step, state.last_eval_step), (2000, Some(0)));
    block_run(&cfg, &cut, BlockAgent::default()).unwrap();
    assert_eq!(csvs(&cut), reference);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_run_cut_after_an_evaluation_does_not_play_it_again() {
    // Evaluations at 0, 2,000 and 4,000 steps; checkpoints at 2,000 before
    // and after its evaluation.
    let cfg = block_config(2000, 1000);
    let (root, full, cut) = block_dirs("after-eval-cut");
    block_run(&cfg, &full, BlockAgent::default()).unwrap();
    let reference = csvs(&full);
    // A crash in the updates at the end of the third episode (3,000
    // steps), before that step's checkpoint.
    let crash = BlockAgent {
        crash_at: Some(2510),
        ..BlockAgent::default()
    };
    let err = block_run(&cfg, &cut, crash).unwrap_err();
    assert!(err.to_string().contains("crashed"), "{err}");
    let state = checkpoint_state(&cut);
    assert_eq!((state.env_step, state.last_eval_step), (2000, Some(2000)));
    // Resumed, the run's first evaluation is its final one: a second
    // evaluation in this process would crash it.
    let one_eval = BlockAgent {
        crash_in_eval: Some(2),
        ..BlockAgent::default()
    };
    block_run(&cfg, &cut, one_eval).unwrap();
    assert_eq!(csvs(&cut), reference);
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn a_run_cut_during_its_final_evaluation_does_not_train_again() {
    // The CPU budget's setting: one evaluation, at the end.
    let cfg = block_config(0, RunSettings::default().checkpoint_every);
    let (root, full, cut) = block_dirs("final-eval-cut");
    let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 1);
    let state = checkpoint_state(&cut);
    assert_eq!((state.env_step, state.last_eval_step), (4000, None));
    // Resumed, the run only evaluates: any update would crash it.
    let no_updates = BlockAgent {
        crash_at: Some(2521),
        ..BlockAgent::default()
    };
    block_run(&cfg, &cut, no_updates).unwrap();
    assert_eq!(csvs(&cut), reference);
    std::fs::remove_dir_all(root).ok();
}

/// Evaluates `dir`'s checkpoint with a fresh [`BlockAgent`].
fn evaluate_block_checkpoint(
    dir: &Path,
    cfg: &RunConfig,
    episodes: Option<usize>,
    on_step: &mut dyn FnMut(),
) -> Result<CheckpointEvaluation> {
    let envs = EvalEnvs::new(cfg, episodes.unwrap_or(cfg.run.eval_episodes)).unwrap();
    let agent = Box::new(BlockAgent::default());
    evaluate_checkpoint_with(dir, cfg.clone(), agent, envs, episodes, on_step)
}

#[test]
fn evaluating_a_checkpoint_plays_the_runs_own_evaluation() {
    let cfg = block_config(2000, 1000);
    let (root, full, cut) = block_dirs("evaluate-checkpoint");
    // Cut in the evaluation at 2,000 steps, checkpointed just before it.
    let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
    let mut steps = 0;
    let e = evaluate_block_checkpoint(&cut, &cfg, Some(2), &mut || steps += 1).unwrap();
    assert_eq!((e.env_step, e.pending_updates), (2000, 0));
    assert_eq!(e.evaluation.returns.len(), 2);
    assert_eq!(steps, 1000, "two episodes of 500 agent steps");
    let rows: Vec<Vec<String>> = reference[0]
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    // eval.csv without wall_time_s: agent,env,env_step,episode_reward,...
    let at = |step: &str| rows.iter().find(|r| r[2] == step).unwrap()[3].clone();
    // The run's evaluation at 2,000 played the first of these episodes
    // with the trained agent; the one at 0 did not.
    assert_eq!(csv_f64(e.evaluation.returns[0]), at("2000"));
    assert_ne!(at("0"), at("2000"));
    // Nothing in the run changed: it resumes to the uninterrupted result.
    block_run(&cfg, &cut, BlockAgent::default()).unwrap();
    assert_eq!(csvs(&cut), reference);
    // A complete run keeps its final weights: the agent that made the
    // last evaluation.
    let mut last = BlockAgent::default();
    last.load(&final_weights_dir(&cut)).unwrap();
    assert_eq!((last.updates, last.episodes), (2521, 4));
    // A complete run has no checkpoint left.
    let err = evaluate_block_checkpoint(&cut, &cfg, None, &mut || {}).unwrap_err();
    assert!(err.to_string().contains("is complete"), "{err}");
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn evaluating_a_run_without_a_checkpoint_says_so() {
    let cfg = block_config(2000, 1000);
    let (root, dir, _) = block_dirs("evaluate-none");
    let err = evaluate_block_checkpoint(&dir, &cfg, None, &mut || {}).unwrap_err();
    assert!(err.to_string().contains("no checkpoint yet"), "{err}");
    let err = evaluate_checkpoint(&dir, DeviceChoice::Cpu, None, &mut || {}).unwrap_err();
    assert!(err.to_string().contains("not a run directory"), "{err}");
    std::fs::remove_dir_all(root).ok();
}

#[test]
fn listed_evaluation_steps_are_evaluated_once_each() {
    // 4 episodes of 500 agent steps (1,000 env steps); no periodic
    // evaluation: rows at the listed steps (the first agent step reaching
    // each) and at the end.
    let mut cfg = block_config(0, RunSettings::default().checkpoint_every);
    cfg.run.eval_at = vec![1, 1500, 1501, 2600];
    let (root, full, _) = block_dirs("eval-at");
    block_run(&cfg, &full, BlockAgent::default()).unwrap();
    let eval = std::fs::read_to_string(full.join("eval.csv")).unwrap();
    let header = eval.lines().next().unwrap();
    let col = header.split(',').position(|c| c == "env_step").unwrap();
    let steps: Vec<u64> = eval
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(steps, vec![2, 1500, 1502, 2600, 4000], "{eval}");
    std::fs::remove_dir_all(root).ok();
}

/// `agent` with its defaults and `sets` on a 4,000-step cartpole-balance
/// run evaluated every `eval_every` env steps, 4 episodes each time.
fn agent_config(agent: &str, sets: &[&str], eval_every: u64) -> RunConfig {
    let overrides: Vec<_> = sets
        .iter()
        .map(|s| crate::config::Override::parse_cli(s).unwrap())
        .collect();
    let mut cfg =
        crate::config::single_run(agent, "cartpole-balance", 5, 4000, &overrides).unwrap();
    cfg.run.eval_every = eval_every;
    cfg.run.eval_episodes = 4;
    cfg
}

const TINY_DCWM: [&str; 6] = [
    "latent_dim=8",
    "enc_mlp_dims=[16]",
    "mlp_dims=[32, 32]",
    "num_samples=32",
    "num_elites=8",
    "iterations=2",
];

#[test]
fn evaluation_side_by_side_equals_one_episode_at_a_time() {
    for (agent, sets) in [
        ("random", &[][..]),
        ("sac", &[][..]),
        ("dcwm", &TINY_DCWM[..]),
    ] {
        let cfg = agent_config(agent, sets, 2000);
        let mut played = Vec::new();
        for batch in [4, 1] {
            let mut envs = EvalEnvs::new(&cfg, batch).unwrap();
            let mut a =
                evaluation::run_agent_instance(&cfg, envs.spec(), tch::Device::Cpu).unwrap();
            let mut steps = 0;
            let e = evaluation::play_evaluation(&cfg, a.as_mut(), &mut envs, 2000, 4, &mut || {
                steps += 1
            })
            .unwrap();
            assert_eq!(steps, 4 * 500, "{agent}: agent steps of 4 episodes");
            played.push(e.returns);
        }
        let (side_by_side, one_at_a_time) = (&played[0], &played[1]);
        for (x, y) in side_by_side.iter().zip(one_at_a_time) {
            // Batched network passes round differently: a small relative gap.
            assert!(
                (x - y).abs() <= 1e-3 * y.abs().max(1.0),
                "{agent}: {side_by_side:?} vs {one_at_a_time:?}"
            );
        }
        assert!(
            side_by_side.windows(2).any(|w| w[0] != w[1]),
            "{agent}: {side_by_side:?}"
        );
    }
}

#[test]
fn evaluating_does_not_change_training() {
    // DCWM learns after its first episode and plans from then on.
    let dcwm: Vec<&str> = TINY_DCWM
        .iter()
        .copied()
        .chain(["warmup_steps=1000", "utd_ratio=0.1"])
        .collect();
    for (agent, sets) in [("random", &[][..]), ("dcwm", &dcwm[..])] {
        let root =
            std::env::temp_dir().join(format!("ctrlbench-evalfree-{agent}-{}", std::process::id()));
        let trained = |eval_every: u64| {
            let mut cfg = agent_config(agent, sets, eval_every);
            cfg.run.eval_episodes = 2;
            let dir = root.join(eval_every.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let env = run_env(&cfg, "train").unwrap();
            let a = evaluation::run_agent_instance(&cfg, env.spec(), tch::Device::Cpu).unwrap();
            let envs = EvalEnvs::new(&cfg, 2).unwrap();
            run_agent(&cfg, &dir, a, env, envs, "cpu", &mut |_| {}).unwrap();
            csvs(&dir)
        };
        let (often, rarely) = (trained(2000), trained(4000));
        assert_eq!(often[1], rarely[1], "{agent}: train.csv");
        assert_eq!(often[0].lines().count(), 4, "{agent}: {}", often[0]);
        assert_eq!(rarely[0].lines().count(), 3, "{agent}: {}", rarely[0]);
        std::fs::remove_dir_all(root).ok();
    }
}
