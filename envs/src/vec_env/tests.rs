use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::*;
use crate::env::Info;
use crate::spaces::{BoxSpace, ObsLayout};
use crate::wrappers::TimeLimit;

/// A cheap MuJoCo task for the comparisons with single environments.
const TASK: &str = "cartpole-balance";

/// Environment `i` of the MuJoCo batches: [`TASK`] with episodes of 5 to 11
/// steps, so that they end at different steps.
fn short_episodes(i: usize) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(TimeLimit::new(crate::make(TASK)?, 5 + i % 7)?))
}

/// Counts shared by a batch of [`Scripted`] environments.
#[derive(Default)]
struct Counters {
    /// Steps taken by all the environments.
    steps: AtomicUsize,
    /// Resets made by all the environments (autoresets included).
    resets: AtomicUsize,
    /// Environments dropped.
    drops: AtomicUsize,
    /// For each step, the stepping environment's seed and thread name.
    stepped_by: Mutex<Vec<(u64, String)>>,
}

/// An environment without physics: its observation is `[seed, episode,
/// step, last action]`, its reward `action + seed`, and its episodes are
/// truncated after `limit` steps. In the first episode after seeding it can
/// diverge or panic at a given step.
struct Scripted {
    spec: EnvSpec,
    limit: usize,
    diverge_at: Option<usize>,
    panic_at: Option<usize>,
    /// Time each step takes.
    delay: Duration,
    seed: u64,
    episode: usize,
    step: usize,
    running: bool,
    counters: Arc<Counters>,
}

impl Scripted {
    fn new(counters: &Arc<Counters>, limit: usize) -> Self {
        Scripted {
            spec: EnvSpec {
                name: "scripted".into(),
                observation_space: BoxSpace::unbounded(4),
                action_space: BoxSpace::symmetric_unit(1),
                layout: ObsLayout::default(),
                max_episode_steps: Some(limit),
                control_timestep: 0.01,
                action_repeat: 1,
                info_names: vec![],
                reward_range: None,
            },
            limit,
            diverge_at: None,
            panic_at: None,
            delay: Duration::ZERO,
            seed: 0,
            episode: 0,
            step: 0,
            running: false,
            counters: Arc::clone(counters),
        }
    }

    fn write(&self, obs: &mut [f64], action: f64) {
        obs.copy_from_slice(&[
            self.seed as f64,
            self.episode as f64,
            self.step as f64,
            action,
        ]);
    }
}

impl Env for Scripted {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        self.counters.resets.fetch_add(1, Ordering::Relaxed);
        if let Some(seed) = seed {
            self.seed = seed;
            self.episode = 0;
        }
        self.episode += 1;
        self.step = 0;
        self.running = true;
        self.write(obs, 0.0);
        Ok(Info::default())
    }

    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        if !self.running {
            return Err(EnvError::NeedsReset);
        }
        check_action(&self.spec, action)?;
        self.counters.steps.fetch_add(1, Ordering::Relaxed);
        let thread = std::thread::current().name().unwrap_or("").to_string();
        self.counters
            .stepped_by
            .lock()
            .unwrap()
            .push((self.seed, thread));
        std::thread::sleep(self.delay);
        self.step += 1;
        let first_episode = self.episode == 1;
        if first_episode && self.panic_at == Some(self.step) {
            panic!("scripted panic");
        }
        if first_episode && self.diverge_at == Some(self.step) {
            self.running = false;
            return Err(PhysicsError {
                warnings: vec!["mjWARN_BADQACC"],
                time: self.step as f64,
            }
            .into());
        }
        self.write(obs, action[0]);
        let truncated = self.step >= self.limit;
        self.running = !truncated;
        Ok(Transition {
            reward: action[0] + self.seed as f64,
            terminated: false,
            truncated,
            info: Info::default(),
        })
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.counters.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// `n` scripted environments on `threads` threads; environment `i` has
/// episodes of `3 + i % 4` steps and is then adjusted by `script`.
fn scripted_batch(
    n: usize,
    threads: usize,
    counters: &Arc<Counters>,
    script: impl Fn(usize, &mut Scripted),
) -> VecEnv {
    VecEnv::from_fn(n, threads, |i| {
        let mut env = Scripted::new(counters, 3 + i % 4);
        script(i, &mut env);
        Ok(Box::new(env) as Box<dyn Env>)
    })
    .unwrap()
}

/// The bits of `values`, so that comparisons are exact.
fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Actions of step `t` for `n` environments of `a` action values, in [-1, 1].
fn actions_at(t: usize, n: usize, a: usize) -> Vec<f64> {
    (0..n * a)
        .map(|k| ((t * 7 + k * 3) % 11) as f64 / 5.0 - 1.0)
        .collect()
}

/// Everything a batch reports over `steps` steps after `reset(Some(seed))`,
/// as bits: observations, rewards, flags, discounts, the final observations
/// of the episodes that ended, finished flags and divergences.
fn trace(venv: &mut VecEnv, seed: u64, steps: usize) -> Vec<u64> {
    let mut out = bits(venv.reset(Some(seed)).unwrap());
    let (n, d, a) = (venv.len(), venv.spec().obs_dim(), venv.spec().action_dim());
    for t in 0..steps {
        let transitions = venv.step(&actions_at(t, n, a)).unwrap().to_vec();
        out.extend(bits(venv.obs()));
        for (i, tr) in transitions.iter().enumerate() {
            out.extend([
                tr.reward.to_bits(),
                u64::from(tr.terminated),
                u64::from(tr.truncated),
                tr.info.discount.to_bits(),
                u64::from(venv.finished()[i]),
                u64::from(venv.physics_errors()[i].is_some()),
            ]);
            if tr.done() {
                out.extend(bits(&venv.final_obs()[i * d..(i + 1) * d]));
            }
        }
    }
    out
}

/// The message of an [`EnvError::Invalid`], failing on anything else.
fn invalid_message(result: Result<&[Transition], EnvError>) -> String {
    match result {
        Err(EnvError::Invalid(message)) => message,
        Err(other) => panic!("expected an invalid-input error, got {other}"),
        Ok(_) => panic!("expected an invalid-input error, got a step"),
    }
}

#[test]
fn matches_single_environments_through_autoresets() {
    let (n, steps, seed) = (64, 40, 100);
    for threads in [1, 2] {
        let mut venv = VecEnv::from_fn(n, threads, short_episodes).unwrap();
        let mut singles: Vec<Box<dyn Env>> = (0..n).map(|i| short_episodes(i).unwrap()).collect();
        let d = venv.spec().obs_dim();
        let mut expected = Vec::with_capacity(n * d);
        for (i, env) in singles.iter_mut().enumerate() {
            expected.extend(env.reset(Some(seed + i as u64)).unwrap().0);
        }
        assert_eq!(bits(venv.reset(Some(seed)).unwrap()), bits(&expected));
        let mut resets = 0;
        for t in 0..steps {
            let actions = actions_at(t, n, 1);
            let transitions = venv.step(&actions).unwrap().to_vec();
            for (i, env) in singles.iter_mut().enumerate() {
                let s = env.step(&actions[i..i + 1]).unwrap();
                let tr = transitions[i];
                assert_eq!(
                    (tr.reward.to_bits(), tr.terminated, tr.truncated, tr.info),
                    (s.reward.to_bits(), s.terminated, s.truncated, s.info),
                    "threads {threads} step {t} environment {i}"
                );
                let row = i * d..(i + 1) * d;
                if s.terminated || s.truncated {
                    assert_eq!(bits(&venv.final_obs()[row.clone()]), bits(&s.obs));
                    expected[row].copy_from_slice(&env.reset(None).unwrap().0);
                    resets += 1;
                } else {
                    expected[row].copy_from_slice(&s.obs);
                }
            }
            assert_eq!(
                bits(venv.obs()),
                bits(&expected),
                "threads {threads} step {t}"
            );
        }
        assert!(resets >= 3 * n, "only {resets} autoresets");
        assert!(venv.finished().iter().all(|&f| !f));
        assert!(venv.physics_errors().iter().all(Option::is_none));
    }
}

#[test]
fn two_runs_with_the_same_seeds_are_identical() {
    let mut a = VecEnv::from_fn(16, 2, short_episodes).unwrap();
    let mut b = VecEnv::from_fn(16, 2, short_episodes).unwrap();
    let first = trace(&mut a, 7, 30);
    assert_eq!(trace(&mut b, 7, 30), first);
    // Reseeding the same batch replays it.
    assert_eq!(trace(&mut a, 7, 30), first);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for mode in [AutoReset::On, AutoReset::Off] {
        let run = |threads| {
            let counters = Arc::new(Counters::default());
            let mut venv = scripted_batch(10, threads, &counters, |i, env| {
                if i % 3 == 1 {
                    env.diverge_at = Some(1 + i % 4);
                }
            });
            venv.set_autoreset(mode);
            trace(&mut venv, 3, 12)
        };
        let one = run(1);
        for threads in [2, 3, 4, 10, 16] {
            assert_eq!(run(threads), one, "{mode:?} on {threads} threads");
        }
    }
}

#[test]
fn a_slow_thread_is_helped_and_results_stay_the_same() {
    // Two threads, home slices {0, 1} (the caller) and {2, 3} (the worker):
    // while the caller steps the slow environment 0, the worker runs out of
    // its own and takes environment 1.
    let run = |threads| {
        let counters = Arc::new(Counters::default());
        let mut venv = scripted_batch(4, threads, &counters, |i, env| {
            if i == 0 {
                env.delay = Duration::from_millis(200);
            }
        });
        let out = trace(&mut venv, 10, 3);
        (out, counters)
    };
    let (one, _) = run(1);
    let (two, counters) = run(2);
    assert_eq!(two, one);
    let stepped_by = counters.stepped_by.lock().unwrap();
    let env_1_on_worker = stepped_by
        .iter()
        .filter(|(seed, thread)| *seed == 11 && thread == "vec-env-1")
        .count();
    assert!(
        env_1_on_worker > 0,
        "environment 1 stayed on its home thread: {stepped_by:?}"
    );
}

#[test]
fn every_environment_is_stepped_once_per_step_while_threads_help_each_other() {
    // Uneven steps and more threads than this machine may have cores: threads
    // wake late and help each other's slices in changing orders. A claim
    // taken twice or missed would change the counts or the trace.
    let steps = 300;
    let run = |threads| {
        let counters = Arc::new(Counters::default());
        let mut venv = scripted_batch(9, threads, &counters, |i, env| {
            env.delay = Duration::from_micros(20 * (i % 3) as u64);
        });
        let mut out = Vec::new();
        for seed in 0..3 {
            out.extend(trace(&mut venv, seed, steps));
        }
        let count = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        (out, count(&counters.steps), count(&counters.resets))
    };
    let (one, _, one_resets) = run(1);
    for threads in [2, 3, 5] {
        let (out, stepped, resets) = run(threads);
        assert_eq!(stepped, 3 * 9 * steps, "steps taken on {threads} threads");
        assert_eq!(resets, one_resets, "resets made on {threads} threads");
        assert!(
            out == one,
            "results on {threads} threads differ from one thread's"
        );
    }
}

#[test]
fn evaluation_mode_keeps_finished_environments_finished() {
    let counters = Arc::new(Counters::default());
    let n = 6;
    let mut venv = scripted_batch(n, 2, &counters, |_, _| {});
    venv.set_autoreset(AutoReset::Off);
    assert_eq!(venv.autoreset(), AutoReset::Off);
    venv.reset(Some(0)).unwrap();
    for t in 1..=8 {
        let transitions = venv.step(&[0.5; 6]).unwrap().to_vec();
        for (i, tr) in transitions.iter().enumerate() {
            let limit = 3 + i % 4;
            let row = &venv.obs()[i * 4..(i + 1) * 4];
            assert_eq!(venv.finished()[i], t >= limit, "step {t} environment {i}");
            assert!(tr.truncated == (t >= limit) && !tr.terminated);
            if t >= limit {
                // The observation is the episode's last, step after step.
                assert_eq!(row, &venv.final_obs()[i * 4..(i + 1) * 4]);
                assert_eq!(row[2], limit as f64, "step {t} environment {i}");
            }
            if t == limit {
                assert_eq!(tr.reward, 0.5 + i as f64);
            } else if t > limit {
                assert_eq!(tr.reward, 0.0);
            }
        }
    }
    assert!(venv.all_finished());
    // Finished environments are not stepped.
    let limits: usize = (0..n).map(|i| 3 + i % 4).sum();
    assert_eq!(counters.steps.load(Ordering::Relaxed), limits);
    // Their actions are ignored, non-finite ones included.
    venv.step(&[f64::NAN; 6]).unwrap();
    assert_eq!(counters.steps.load(Ordering::Relaxed), limits);
    // A reset starts every environment again.
    venv.reset(None).unwrap();
    assert!(venv.finished().iter().all(|&f| !f));
    venv.step(&[0.0; 6]).unwrap();
    assert_eq!(counters.steps.load(Ordering::Relaxed), limits + n);
}

#[test]
fn a_diverging_environment_ends_its_episode_and_never_stops_the_others() {
    for mode in [AutoReset::On, AutoReset::Off] {
        let counters = Arc::new(Counters::default());
        let mut venv = scripted_batch(6, 2, &counters, |i, env| {
            if i == 4 {
                env.diverge_at = Some(2);
            }
        });
        venv.set_autoreset(mode);
        venv.reset(Some(0)).unwrap();
        venv.step(&[0.5; 6]).unwrap();
        let before = venv.obs()[16..20].to_vec();
        let t = venv.step(&[0.5; 6]).unwrap()[4];
        assert_eq!((t.reward, t.terminated, t.truncated), (0.0, false, true));
        let error = venv.physics_errors()[4].clone().expect("a physics error");
        assert_eq!(error.warnings, ["mjWARN_BADQACC"]);
        for (i, e) in venv.physics_errors().iter().enumerate() {
            assert_eq!(e.is_some(), i == 4, "{mode:?} environment {i}");
        }
        assert_eq!(venv.final_obs()[16..20], before[..]);
        match mode {
            AutoReset::On => {
                assert!(!venv.finished()[4]);
                assert_eq!(venv.obs()[16..20], [4.0, 2.0, 0.0, 0.0]);
            }
            AutoReset::Off => {
                assert!(venv.finished()[4]);
                assert_eq!(venv.obs()[16..20], before[..]);
            }
        }
        // The others took both steps.
        for i in [0, 1, 2, 3, 5] {
            assert_eq!(venv.obs()[i * 4 + 2], 2.0, "{mode:?} environment {i}");
        }
        // Training mode reports the divergence once; evaluation mode keeps
        // reporting the ending of the finished environment.
        venv.step(&[0.5; 6]).unwrap();
        assert_eq!(venv.physics_errors()[4].is_some(), mode == AutoReset::Off);
    }
}

#[test]
fn bad_actions_are_errors_naming_the_environment_and_step_nothing() {
    let counters = Arc::new(Counters::default());
    let n = 8;
    let mut venv = scripted_batch(n, 2, &counters, |_, _| {});
    venv.reset(Some(1)).unwrap();
    let before = venv.obs().to_vec();

    let message = invalid_message(venv.step(&[0.0; 7]));
    assert!(
        message.contains("7 values") && message.contains("8 environments"),
        "{message}"
    );
    let mut actions = [0.0; 8];
    actions[3] = f64::NAN;
    let message = invalid_message(venv.step(&actions));
    assert!(message.starts_with("environment 3: "), "{message}");
    actions[3] = 0.0;
    actions[5] = f64::INFINITY;
    let message = invalid_message(venv.step(&actions));
    assert!(message.starts_with("environment 5: "), "{message}");
    let mut rows: Vec<Vec<f64>> = (0..n).map(|_| vec![0.0]).collect();
    rows[6] = vec![0.0, 0.0];
    let message = invalid_message(venv.step_rows(&rows));
    assert!(
        message.starts_with("environment 6: ") && message.contains("2 values"),
        "{message}"
    );
    let message = invalid_message(venv.step_rows(&rows[..5]));
    assert!(message.contains("5 action rows"), "{message}");

    assert_eq!(counters.steps.load(Ordering::Relaxed), 0);
    assert_eq!(bits(venv.obs()), bits(&before));
    // Valid input still works afterwards.
    venv.step_rows(&[[0.25]; 8]).unwrap();
    assert_eq!(counters.steps.load(Ordering::Relaxed), n);
}

#[test]
fn other_environment_errors_are_returned_as_they_are() {
    let counters = Arc::new(Counters::default());
    let mut venv = scripted_batch(4, 2, &counters, |_, _| {});
    assert!(matches!(venv.step(&[0.0; 4]), Err(EnvError::NeedsReset)));
    venv.reset(Some(0)).unwrap();
    venv.step(&[0.0; 4]).unwrap();
}

#[test]
fn a_panicking_environment_is_an_error_not_a_hang() {
    // Environment 0 is stepped by the calling thread, 5 by a worker.
    for panicking in [0, 5] {
        let counters = Arc::new(Counters::default());
        let mut venv = scripted_batch(8, 2, &counters, |i, env| {
            if i == panicking {
                env.panic_at = Some(2);
            }
        });
        venv.reset(Some(0)).unwrap();
        venv.step(&[0.0; 8]).unwrap();
        let err = venv.step(&[0.0; 8]).unwrap_err();
        let named = format!("environment {panicking}: scripted panic");
        assert!(
            matches!(&err, EnvError::Panicked(m) if m.contains(&named)),
            "{err}"
        );
        // The batch stays unusable, and dropping it still joins its worker.
        assert!(matches!(venv.step(&[0.0; 8]), Err(EnvError::Panicked(_))));
        assert!(matches!(venv.reset(None), Err(EnvError::Panicked(_))));
        drop(venv);
        assert_eq!(counters.drops.load(Ordering::Relaxed), 8);
    }
}

#[test]
fn dropping_the_batch_stops_and_joins_its_workers() {
    for steps in [0, 3] {
        let counters = Arc::new(Counters::default());
        let mut venv = scripted_batch(8, 4, &counters, |_, _| {});
        assert_eq!(venv.threads(), 4);
        if steps > 0 {
            venv.reset(Some(0)).unwrap();
            for _ in 0..steps {
                venv.step(&[0.0; 8]).unwrap();
            }
        }
        let (done, dropped) = mpsc::channel();
        std::thread::spawn(move || {
            drop(venv);
            done.send(()).unwrap();
        });
        dropped
            .recv_timeout(Duration::from_secs(30))
            .expect("dropping the VecEnv hung");
        // Each worker held its environments until it returned.
        assert_eq!(counters.drops.load(Ordering::Relaxed), 8);
    }
}

#[test]
fn construction_checks_the_batch_and_bounds_the_threads() {
    let counters = Arc::new(Counters::default());
    let empty = VecEnv::new(Vec::new(), 2).err().expect("an empty batch");
    assert!(empty.to_string().contains("at least one"), "{empty}");
    let mixed: Vec<Box<dyn Env>> = vec![
        Box::new(Scripted::new(&counters, 3)) as Box<dyn Env>,
        crate::make(TASK).unwrap(),
    ];
    let err = VecEnv::new(mixed, 1).err().expect("mixed spaces");
    assert!(err.to_string().contains("environment 1"), "{err}");
    assert_eq!(scripted_batch(3, 8, &counters, |_, _| {}).threads(), 3);
    assert_eq!(scripted_batch(3, 0, &counters, |_, _| {}).threads(), 1);
}

#[test]
fn reset_each_seeds_every_environment_with_its_own_seed() {
    let seeds = [11u64, 3, 400, 3, 9];
    let mut venv = VecEnv::from_fn(seeds.len(), 2, short_episodes).unwrap();
    let obs = venv.reset_each(&seeds).unwrap().to_vec();
    let d = venv.spec().obs_dim();
    for (i, &seed) in seeds.iter().enumerate() {
        let mut single = short_episodes(i).unwrap();
        let (expected, _) = single.reset(Some(seed)).unwrap();
        assert_eq!(&obs[i * d..(i + 1) * d], &expected[..], "environment {i}");
    }
    let e = venv.reset_each(&seeds[..2]).unwrap_err().to_string();
    assert!(e.contains("2 seeds given for 5 environments"), "{e}");
}
