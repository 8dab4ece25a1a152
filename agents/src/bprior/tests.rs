use std::path::PathBuf;

use super::*;

fn spec(task: &str) -> EnvSpec {
    envs::benchmark_env(task, 0).unwrap().spec().clone()
}

fn tiny() -> BPriorConfig {
    BPriorConfig {
        hidden: vec![32, 32],
        prior_hidden: vec![32, 32],
        batch_size: 16,
        ..BPriorConfig::default()
    }
}

fn batch(n: usize, obs_dim: usize, act_dim: usize, seed: u64) -> TransitionBatch {
    let mut r = Rng::new(seed);
    let mut v = |k: usize| {
        (0..k)
            .map(|_| r.uniform(-1.0, 1.0) as f32)
            .collect::<Vec<_>>()
    };
    TransitionBatch {
        obs: v(n * obs_dim),
        action: v(n * act_dim),
        reward: v(n),
        next_obs: v(n * obs_dim),
        discount: vec![0.99; n],
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctrlbench-bprior-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gaussian(mean: &[f64], log_std: &[f64]) -> TanhGaussian {
    TanhGaussian {
        mean: Tensor::from_slice(mean).view([1, -1]),
        log_std: Tensor::from_slice(log_std).view([1, -1]),
    }
}

#[test]
fn closed_form_kl_matches_a_monte_carlo_estimate_on_squashed_actions() {
    let p = gaussian(&[0.3, -1.2], &[-0.5, 0.2]);
    let q = gaussian(&[-0.4, 0.1], &[0.1, -0.3]);
    let exact = squashed_gaussian_kl(&p, &q).double_value(&[0, 0]);
    // E_{a~p}[log p(a) − log q(a)] with the densities of the squashed
    // actions (each with its tanh Jacobian), from 200k samples of a fixed
    // generator.
    let n = 200_000;
    let mut rng = Rng::new(11);
    let eps: Vec<f64> = (0..2 * n).map(|_| rng.normal()).collect();
    let eps = Tensor::from_slice(&eps).view([n as i64, 2]);
    let u = &p.mean + p.log_std.exp() * eps;
    let d = p.log_prob_pre_tanh(&u) - q.log_prob_pre_tanh(&u);
    let mc = d.mean(Kind::Double).double_value(&[]);
    let se = d.std(true).double_value(&[]) / (n as f64).sqrt();
    assert!(
        (mc - exact).abs() < 4.0 * se,
        "closed form {exact}, Monte Carlo {mc} ± {se}"
    );
    // And it is zero between equal distributions, positive otherwise.
    assert_eq!(squashed_gaussian_kl(&p, &p).double_value(&[0, 0]), 0.0);
    assert!(exact > 0.0);
}

#[test]
fn td_target_subtracts_the_weighted_kl() {
    let r = Tensor::from_slice(&[1.0f32, 1.0]).view([2, 1]);
    let d = Tensor::from_slice(&[0.99f32, 0.0]).view([2, 1]);
    let q = Tensor::from_slice(&[10.0f32, 10.0]).view([2, 1]);
    let kl = Tensor::from_slice(&[2.0f32, 2.0]).view([2, 1]);
    let y = Vec::<f32>::try_from(kl_td_target(&r, &d, &q, &kl, 0.5).view([-1])).unwrap();
    assert!(
        (y[0] - (1.0 + 0.99 * (10.0 - 0.5 * 2.0))).abs() < 1e-5,
        "{y:?}"
    );
    // No bootstrap (and no KL) after a terminal state.
    assert_eq!(y[1], 1.0);
}

#[test]
fn the_critic_target_uses_the_kl_to_the_target_prior() {
    // The agent's target with two values of α differs by exactly
    // Δα · d · KL(π(·|s') ‖ π̄0(·|s'^D)), the KL computed here on its own.
    let s = spec("reacher-easy");
    let mut a = BPrior::with_config(tiny(), &s, Device::Cpu, 5).unwrap();
    let bt = batch(16, s.obs_dim(), s.action_dim(), 3);
    for i in 0..5 {
        a.update_on(&batch(16, s.obs_dim(), s.action_dim(), 10 + i));
    }
    let t = |v: &[f32], c: usize| a.to_tensor(v, c);
    let (reward, discount) = (t(&bt.reward, 1), t(&bt.discount, 1));
    let next_obs = t(&bt.next_obs, s.obs_dim());
    let eps = Tensor::zeros([16, 2], (Kind::Float, Device::Cpu));
    let y1 = a.td_target(&reward, &discount, &next_obs, &eps, 0.1);
    let y2 = a.td_target(&reward, &discount, &next_obs, &eps, 2.1);
    let kl =
        tch::no_grad(|| squashed_gaussian_kl(&a.policy(&next_obs), &a.target_prior(&next_obs)));
    assert!(kl.min().double_value(&[]) > 0.0);
    let diff = (&y1 - &y2 - &discount * &kl * 2.0)
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-4, "{diff}");
    // And the bootstrap is min_i Q̄_i(s', a') at a' = tanh(μ) (zero noise).
    let q = tch::no_grad(|| {
        BPrior::q(&a.target, &next_obs, &a.policy(&next_obs).mode())
            .min_dim(0, false)
            .0
    });
    let expect = &reward + &discount * (q - &kl * 0.1);
    let diff = (&y1 - expect).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn the_prior_sees_exactly_its_groups() {
    let s = spec("reacher-easy"); // position(2) to_target(2) velocity(2)
    let a = BPrior::with_config(tiny(), &s, Device::Cpu, 1).unwrap();
    assert_eq!(
        a.prior_meta().groups,
        vec![("position".to_string(), 2), ("velocity".to_string(), 2)]
    );
    let obs = |to_target: f32, velocity: f32| {
        Tensor::from_slice(&[0.1f32, -0.2, to_target, to_target, velocity, 0.3]).view([1, 6])
    };
    let mean = |o: &Tensor| Vec::<f32>::try_from(a.prior(o).mean.view([-1])).unwrap();
    // The hidden group changes nothing; a seen one does.
    assert_eq!(mean(&obs(0.0, 0.5)), mean(&obs(0.9, 0.5)));
    assert_ne!(mean(&obs(0.0, 0.5)), mean(&obs(0.0, -0.5)));
    // The policy sees everything.
    let pol = |o: &Tensor| Vec::<f32>::try_from(a.policy(o).mean.view([-1])).unwrap();
    assert_ne!(pol(&obs(0.0, 0.5)), pol(&obs(0.9, 0.5)));
    // `all`, explicit lists, and errors naming the groups.
    let groups = |sel: &str| {
        let sel: PriorObs = serde_yaml::from_str(sel).unwrap();
        prior_groups(&s, &sel).map(|g| g.into_iter().map(|(n, _)| n).collect::<Vec<_>>())
    };
    assert_eq!(
        groups("all").unwrap(),
        ["position", "to_target", "velocity"]
    );
    assert_eq!(groups("[velocity]").unwrap(), ["velocity"]);
    let e = groups("[speed]").unwrap_err().to_string();
    assert!(
        e.contains("'speed'") && e.contains("position, to_target, velocity"),
        "{e}"
    );
    assert!(groups("some").is_err());
    assert!(groups("[]").is_err());
    // `auto` on other domains: the body, not the objects and targets.
    let auto = |task: &str| {
        prior_groups(&spec(task), &PriorObs::Keyword("auto".into()))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        auto("manipulator-bring-ball"),
        ["arm_pos", "arm_vel", "touch", "hand_pos"]
    );
    assert_eq!(
        auto("quadruped-fetch"),
        [
            "egocentric_state",
            "torso_velocity",
            "torso_upright",
            "imu",
            "force_torque"
        ]
    );
    assert_eq!(auto("walker-walk"), ["orientations", "height", "velocity"]);
}

#[test]
fn distillation_moves_the_prior_toward_the_policy_and_leaves_the_policy() {
    let s = spec("cartpole-swingup");
    let mut a = BPrior::with_config(tiny(), &s, Device::Cpu, 2).unwrap();
    let bt = batch(64, s.obs_dim(), s.action_dim(), 9);
    let obs = a.to_tensor(&bt.obs, s.obs_dim());
    let kl = |a: &BPrior| {
        tch::no_grad(|| squashed_gaussian_kl(&a.policy(&obs), &a.prior(&obs)))
            .mean(Kind::Float)
            .double_value(&[])
    };
    let actor_before: Vec<Tensor> = a
        .actor_vs
        .trainable_variables()
        .iter()
        .map(|t| t.copy())
        .collect();
    let before = kl(&a);
    for _ in 0..200 {
        a.distil(&obs);
    }
    let after = kl(&a);
    assert!(after < 0.2 * before, "KL(π ‖ π0) {before} -> {after}");
    for (b, t) in actor_before.iter().zip(a.actor_vs.trainable_variables()) {
        assert!(b.equal(&t), "distillation changed the policy");
    }
}

#[test]
fn same_seed_same_updates_and_save_load_gives_identical_actions() {
    let s = spec("reacher-easy");
    let cfg = BPriorConfig {
        target_kl: Some(0.5),
        ..tiny()
    };
    let mut a = BPrior::with_config(cfg.clone(), &s, Device::Cpu, 7).unwrap();
    let mut b = BPrior::with_config(cfg.clone(), &s, Device::Cpu, 7).unwrap();
    let (la, lb): (Vec<f64>, Vec<f64>) = (0..20)
        .map(|i| {
            let bt = batch(16, s.obs_dim(), s.action_dim(), i);
            (a.update_on(&bt), b.update_on(&bt))
        })
        .unzip();
    assert_eq!(la, lb);
    assert!(la.iter().all(|l| l.is_finite()));
    assert_eq!(a.metrics(), b.metrics());
    let dir = temp_dir("ckpt");
    a.save(&dir).unwrap();
    let mut c = BPrior::with_config(cfg, &s, Device::Cpu, 99).unwrap();
    c.load(&dir).unwrap();
    let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5, -0.1];
    for mode in [Mode::Eval(0), Mode::Explore] {
        assert_eq!(a.act(&obs, mode).unwrap(), c.act(&obs, mode).unwrap());
    }
    let bt = batch(16, s.obs_dim(), s.action_dim(), 100);
    assert_eq!(a.update_on(&bt), c.update_on(&bt));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_saved_prior_transfers_and_a_mismatch_is_a_clear_error() {
    let easy = spec("reacher-easy");
    let mut src = BPrior::with_config(tiny(), &easy, Device::Cpu, 3).unwrap();
    for i in 0..5 {
        src.update_on(&batch(16, easy.obs_dim(), easy.action_dim(), i));
    }
    let run = temp_dir("transfer");
    let saved = run.join("final").join("agent");
    std::fs::create_dir_all(&saved).unwrap();
    src.save(&saved).unwrap();

    // Another reacher task: the same groups; frozen, acting with the prior.
    let hard = spec("reacher-hard");
    let cfg = BPriorConfig {
        prior_from: Some(run.display().to_string()),
        prior_train: false,
        act_with: ActWith::Prior,
        ..tiny()
    };
    let mut dst = BPrior::with_config(cfg.clone(), &hard, Device::Cpu, 4).unwrap();
    let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5, -0.1];
    src.cfg.act_with = ActWith::Prior;
    assert_eq!(
        src.act(&obs, Mode::Eval(0)).unwrap(),
        dst.act(&obs, Mode::Eval(0)).unwrap()
    );
    // Frozen: updates leave the prior (and its target) as loaded.
    let before = dst.act(&obs, Mode::Eval(0)).unwrap();
    for i in 0..5 {
        dst.update_on(&batch(16, hard.obs_dim(), hard.action_dim(), 10 + i));
    }
    assert_eq!(before, dst.act(&obs, Mode::Eval(0)).unwrap());

    // A prior that saw other groups, or another action space, is refused.
    let all = BPriorConfig {
        prior_obs: PriorObs::Keyword("all".into()),
        ..cfg.clone()
    };
    let e = BPrior::with_config(all, &hard, Device::Cpu, 4)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("observation groups") && e.contains("to_target(2)"),
        "{e}"
    );
    let cheetah = spec("cheetah-run");
    let e = BPrior::with_config(
        BPriorConfig {
            prior_obs: PriorObs::Groups(vec!["position".into(), "velocity".into()]),
            ..cfg.clone()
        },
        &cheetah,
        Device::Cpu,
        4,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("observation groups"), "{e}");
    let e = BPrior::with_config(
        BPriorConfig {
            prior_from: Some(
                std::env::temp_dir()
                    .join("no-such-run")
                    .display()
                    .to_string(),
            ),
            ..cfg
        },
        &hard,
        Device::Cpu,
        4,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("holds no prior"), "{e}");
    std::fs::remove_dir_all(run).ok();
}

#[test]
fn tuned_alpha_rises_when_the_kl_exceeds_its_target() {
    let s = spec("reacher-easy");
    let cfg = BPriorConfig {
        target_kl: Some(0.0),
        prior_train: false,
        alpha_lr: 1e-2,
        ..tiny()
    };
    let mut a = BPrior::with_config(cfg, &s, Device::Cpu, 1).unwrap();
    let start = a.alpha();
    for i in 0..20 {
        a.update_on(&batch(16, s.obs_dim(), s.action_dim(), i));
    }
    assert!(a.alpha() > start, "α {start} -> {}", a.alpha());
}

#[test]
fn learns_a_one_step_task() {
    // A contextual bandit without bootstrap: reward −(a − 0.5)², so the
    // best action is 0.5 everywhere; the policy's mean action gets there
    // while the prior follows it.
    let s = spec("pendulum-swingup"); // 1 action
    let cfg = BPriorConfig {
        batch_size: 64,
        alpha: 1e-3,
        ..tiny()
    };
    let mut a = BPrior::with_config(cfg, &s, Device::Cpu, 1).unwrap();
    let mut rng = Rng::new(5);
    for i in 0..600 {
        let mut bt = batch(64, s.obs_dim(), 1, 1000 + i);
        bt.action = (0..64).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
        bt.reward = bt.action.iter().map(|&x| -(x - 0.5) * (x - 0.5)).collect();
        bt.discount = vec![0.0; 64];
        a.update_on(&bt);
    }
    let obs = vec![0.2f32; s.obs_dim()];
    let act = a.act(&obs, Mode::Eval(0)).unwrap()[0];
    assert!((act - 0.5).abs() < 0.15, "policy action {act}");
    a.cfg.act_with = ActWith::Prior;
    let prior = a.act(&obs, Mode::Eval(0)).unwrap()[0];
    assert!((prior - 0.5).abs() < 0.25, "prior action {prior}");
}

#[test]
fn bad_config_is_an_error() {
    let s = spec("reacher-easy");
    for cfg in [
        BPriorConfig { num_q: 0, ..tiny() },
        BPriorConfig {
            alpha: 0.0,
            ..tiny()
        },
        BPriorConfig {
            target_kl: Some(-1.0),
            ..tiny()
        },
        BPriorConfig {
            log_std_bounds: (1.0, -1.0),
            ..tiny()
        },
        BPriorConfig {
            prior_tau: 2.0,
            ..tiny()
        },
    ] {
        assert!(BPrior::with_config(cfg, &s, Device::Cpu, 0).is_err());
    }
    let y: serde_yaml::Value = serde_yaml::from_str("prior_ob: all").unwrap();
    assert!(parse_config::<BPriorConfig>("bprior", &y).is_err());
    let y: serde_yaml::Value = serde_yaml::from_str("act_with: critic").unwrap();
    assert!(parse_config::<BPriorConfig>("bprior", &y).is_err());
}
