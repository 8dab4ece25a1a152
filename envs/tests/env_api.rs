//! The Env API: errors on bad input, episode boundaries, determinism,
//! wrappers and VecEnv.

use envs::{ActionRepeat, Env, EnvError, TimeLimit, VecEnv};

#[test]
fn bad_actions_are_errors_not_panics() {
    let mut env = envs::make("reacher-easy").unwrap();
    assert!(matches!(env.step(&[0.0, 0.0]), Err(EnvError::NeedsReset)));
    env.reset(Some(0)).unwrap();
    assert!(matches!(
        env.step(&[0.0]),
        Err(EnvError::ActionSize {
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        env.step(&[0.0, f64::NAN]),
        Err(EnvError::NonFiniteAction { index: 1, .. })
    ));
    assert!(matches!(
        env.step(&[f64::INFINITY, 0.0]),
        Err(EnvError::NonFiniteAction { index: 0, .. })
    ));
    let mut short = vec![0.0; 3];
    assert!(matches!(
        env.reset_into(None, &mut short),
        Err(EnvError::ObservationSize { .. })
    ));
    // After the errors the environment still works.
    assert!(env.step(&[0.1, -0.1]).is_ok());
}

#[test]
fn unknown_task_names_suggest_close_names() {
    let err = envs::make("cartpol-swingup").err().unwrap().to_string();
    assert!(err.contains("cartpole-swingup"), "{err}");
}

#[test]
fn episodes_end_with_truncation_at_the_time_limit_then_need_a_reset() {
    let mut env = envs::make("pendulum-swingup").unwrap();
    let limit = env.spec().max_episode_steps.unwrap();
    assert_eq!(limit, 1000);
    env.reset(Some(3)).unwrap();
    for t in 1..=limit {
        let s = env.step(&[0.3]).unwrap();
        assert!(!s.terminated);
        assert_eq!(s.truncated, t == limit, "step {t}");
        assert_eq!(s.info.discount, 1.0);
    }
    assert!(matches!(env.step(&[0.0]), Err(EnvError::NeedsReset)));
}

fn trajectory(env: &mut dyn Env, seed: u64, n: usize) -> Vec<f64> {
    let (mut out, _) = env.reset(Some(seed)).unwrap();
    let a = env.spec().action_dim();
    for i in 0..n {
        let action: Vec<f64> = (0..a)
            .map(|k| ((i * 7 + k * 3) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let s = env.step(&action).unwrap();
        out.extend(s.obs);
        out.push(s.reward);
        if s.terminated || s.truncated {
            break;
        }
    }
    out
}

#[test]
fn same_seed_same_trajectory_and_reset_seed_reproduces() {
    for task in envs::list() {
        let mut a = envs::make(task).unwrap();
        let mut b = envs::make(task).unwrap();
        let ta = trajectory(a.as_mut(), 11, 200);
        assert_eq!(
            ta,
            trajectory(b.as_mut(), 11, 200),
            "{task}: two environments"
        );
        assert_eq!(
            ta,
            trajectory(a.as_mut(), 11, 200),
            "{task}: reset(seed) again"
        );
        assert_ne!(ta, trajectory(b.as_mut(), 12, 200), "{task}: another seed");
    }
}

#[test]
fn every_task_passes_an_env_check() {
    for def in envs::tasks() {
        let task = def.name;
        let metaworld = def.source == envs::registry::Source::MetaWorld;
        let mut env = envs::make(task).unwrap();
        let spec = env.spec().clone();
        assert_eq!(spec.name, task, "{task}: built under its registered name");
        match def.source {
            envs::registry::Source::MetaWorld => {
                assert_eq!(spec.info_names, envs::metaworld::INFO_NAMES, "{task}")
            }
            envs::registry::Source::DmControl | envs::registry::Source::TdMpc2 => {
                assert!(spec.info_names.is_empty(), "{task}: DMC names no values")
            }
            // ctrlbench's own tasks name what they track (seqnav's visits).
            envs::registry::Source::Ctrlbench => {}
        }
        assert_eq!(
            spec.layout.dim(),
            spec.obs_dim(),
            "{task}: layout covers the observation"
        );
        let (obs, info) = env.reset(Some(0)).unwrap();
        assert!(
            spec.observation_space.contains(&obs),
            "{task}: reset obs in space"
        );
        assert_eq!(info.discount, 1.0);
        let space = &spec.action_space;
        assert!(
            space.low.iter().zip(&space.high).all(|(l, h)| l < h),
            "{task}: bounds"
        );
        let mid: Vec<f64> = space
            .low
            .iter()
            .zip(&space.high)
            .map(|(l, h)| if l.is_finite() { (l + h) / 2.0 } else { 0.0 })
            .collect();
        let s = env.step(&mid).unwrap();
        assert!(
            spec.observation_space.contains(&s.obs),
            "{task}: step obs in space"
        );
        assert!(s.reward.is_finite(), "{task}: reward");
        let named = spec.info_names.len();
        assert!(
            s.info.values[..named].iter().all(|v| v.is_finite()),
            "{task}: named values"
        );
        assert!(
            s.info.values[named..].iter().all(|v| v.is_nan()),
            "{task}: unnamed values"
        );
        assert_eq!(s.info.success.is_some(), metaworld, "{task}: success");
        // The benchmark protocol env exists for every task.
        let mut b = envs::benchmark_env(task, 0).unwrap();
        assert_eq!(
            b.spec().action_space,
            envs::BoxSpace::symmetric_unit(spec.action_dim())
        );
        b.reset(None).unwrap();
        b.step(&vec![0.0; spec.action_dim()]).unwrap();
    }
}

#[test]
fn action_repeat_sums_rewards_and_counts_env_steps() {
    let seed = 5;
    let actions: Vec<Vec<f64>> = (0..40)
        .map(|i| vec![((i % 5) as f64 - 2.0) / 2.0])
        .collect();
    // Reference: the raw env stepped twice per action.
    let mut raw = envs::make_raw("pendulum-swingup").unwrap();
    raw.reset(Some(seed)).unwrap();
    let mut expected = Vec::new();
    for a in &actions {
        let r = raw.step(a).unwrap().reward + raw.step(a).unwrap().reward;
        expected.push(r);
    }
    let mut rep = ActionRepeat::new(envs::make_raw("pendulum-swingup").unwrap(), 2).unwrap();
    assert_eq!(rep.spec().max_episode_steps, Some(500));
    rep.reset(Some(seed)).unwrap();
    let got: Vec<f64> = actions
        .iter()
        .map(|a| rep.step(a).unwrap().reward)
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn time_limit_truncates_and_benchmark_episodes_have_500_steps() {
    let mut env = TimeLimit::new(envs::make_raw("pointmass-easy").unwrap(), 7).unwrap();
    env.reset(Some(0)).unwrap();
    for t in 1..=7 {
        let s = env.step(&[0.0, 0.0]).unwrap();
        assert_eq!(s.truncated, t == 7);
        assert!(!s.terminated);
    }
    let mut b = envs::benchmark_env("cartpole-balance", 3).unwrap();
    assert_eq!(b.spec().max_episode_steps, Some(500));
    b.reset(None).unwrap();
    let mut n = 0;
    loop {
        n += 1;
        let s = b.step(&[0.0]).unwrap();
        if s.truncated || s.terminated {
            assert!(s.truncated && !s.terminated);
            break;
        }
    }
    assert_eq!(n, 500);
}

#[test]
fn vec_env_matches_single_environments_and_autoresets() {
    let n = 3;
    let steps = 1100; // crosses the 1000-step episode end
    for threads in [1, 2] {
        let mut venv = VecEnv::from_fn(n, threads, |_| envs::make("cartpole-swingup")).unwrap();
        venv.reset(Some(40)).unwrap();
        let mut singles: Vec<_> = (0..n)
            .map(|_| envs::make("cartpole-swingup").unwrap())
            .collect();
        let mut obs: Vec<Vec<f64>> = singles
            .iter_mut()
            .enumerate()
            .map(|(i, e)| e.reset(Some(40 + i as u64)).unwrap().0)
            .collect();
        assert_eq!(venv.obs(), obs.concat().as_slice());
        for t in 0..steps {
            let actions: Vec<f64> = (0..n).map(|i| (((t + i) % 7) as f64 - 3.0) / 3.0).collect();
            let trs = venv.step(&actions).unwrap().to_vec();
            for (i, env) in singles.iter_mut().enumerate() {
                let s = env.step(&actions[i..i + 1]).unwrap();
                assert_eq!(trs[i].reward, s.reward);
                assert_eq!(trs[i].truncated, s.truncated);
                if s.truncated {
                    assert_eq!(&venv.final_obs()[i * 5..(i + 1) * 5], s.obs.as_slice());
                    obs[i] = env.reset(None).unwrap().0;
                } else {
                    obs[i] = s.obs;
                }
            }
            assert_eq!(
                venv.obs(),
                obs.concat().as_slice(),
                "threads {threads} step {t}"
            );
        }
    }
}
