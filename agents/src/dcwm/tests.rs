use super::*;

/// A small DCWM (same structure, small sizes) for fast tests.
fn tiny() -> DcwmConfig {
    DcwmConfig {
        latent_dim: 8,
        enc_mlp_dims: vec![16],
        mlp_dims: vec![32, 32],
        batch_size: 16,
        num_samples: 32,
        num_elites: 8,
        num_pi_trajs: 4,
        iterations: 2,
        r_min: Some(RewardBound::Fixed(0.0)),
        r_max: Some(RewardBound::Fixed(2.0)),
        ..DcwmConfig::default()
    }
}

fn filled_buffer(obs_dim: usize, act_dim: usize, episodes: usize, len: usize) -> ReplayBuffer {
    let mut r = Rng::new(11);
    let mut buf = ReplayBuffer::new(obs_dim, act_dim, episodes * (len + 1) + 2).unwrap();
    for _ in 0..episodes {
        let mut o: Vec<f32> = (0..obs_dim).map(|_| r.uniform(-1.0, 1.0) as f32).collect();
        buf.start_episode(&o);
        for t in 0..len {
            let a: Vec<f32> = (0..act_dim).map(|_| r.uniform(-1.0, 1.0) as f32).collect();
            // A simple deterministic system: o' = 0.9 o + 0.1 a (padded), r = 1 − |o₀|.
            o = o
                .iter()
                .enumerate()
                .map(|(i, x)| 0.9 * x + 0.1 * a[i % act_dim])
                .collect();
            let rew = 1.0 - o[0].abs();
            buf.push(&a, rew, false, t + 1 == len, &o).unwrap();
        }
    }
    buf
}

#[test]
fn nstep_targets_stop_at_termination_and_bootstrap_through_truncation() {
    // Two slices of 3 transitions: the first terminates at its 2nd step.
    let reward = [1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0];
    let terminated = [0.0f32, 1.0, 0.0, 0.0, 0.0, 0.0];
    let (ret, disc) = nstep_return(&reward, &terminated, 3, 3, 0.5);
    assert_eq!(ret, vec![1.5, 1.75]);
    assert_eq!(disc, vec![0.0, 0.125]);
    let (ret, disc) = nstep_return(&reward, &terminated, 3, 1, 0.99);
    assert_eq!(ret, vec![1.0, 1.0]);
    assert_eq!(disc, vec![0.99, 0.99]);
}

#[test]
fn exploration_noise_decays_linearly_then_stays() {
    let cfg = DcwmConfig::default();
    assert_eq!(exploration_noise(&cfg, 0), 1.0);
    assert!((exploration_noise(&cfg, 49) - 0.1).abs() < 1e-12);
    assert!((exploration_noise(&cfg, 1000) - 0.1).abs() < 1e-12);
    // linspace(1.0, 0.1, 50)[10]
    assert!((exploration_noise(&cfg, 10) - (1.0 - 0.9 * 10.0 / 49.0)).abs() < 1e-12);
}

#[test]
fn bad_configs_are_errors() {
    let e = |cfg: DcwmConfig| {
        Dcwm::with_config(cfg, 3, 1, Device::Cpu, 0)
            .err()
            .map(|e| e.to_string())
    };
    assert!(
        e(DcwmConfig {
            q_sample_size: 6,
            ..tiny()
        })
        .unwrap()
        .contains("q_sample_size")
    );
    assert!(
        e(DcwmConfig {
            use_fsq: false,
            ..tiny()
        })
        .unwrap()
        .contains("cross-entropy")
    );
    assert!(
        e(DcwmConfig {
            fsq_levels: vec![1],
            ..tiny()
        })
        .unwrap()
        .contains("fsq_levels")
    );
    // `auto` bounds are resolved from an environment first (`for_env`).
    assert!(e(DcwmConfig::default()).unwrap().contains("auto"));
    assert!(
        e(DcwmConfig {
            r_max: None,
            ..tiny()
        })
        .unwrap()
        .contains("both")
    );
    let y: serde_yaml::Value = serde_yaml::from_str("consistency_loss: hinge").unwrap();
    assert!(parse_config::<DcwmConfig>("dcwm", &y).is_err());
    let y: serde_yaml::Value = serde_yaml::from_str("latent_dims: 4").unwrap();
    assert!(parse_config::<DcwmConfig>("dcwm", &y).is_err());
}

#[test]
fn same_seed_same_updates_and_plans() {
    let buf = filled_buffer(5, 2, 3, 30);
    let run = || {
        let mut a = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 3).unwrap();
        let mut out = Vec::new();
        for _ in 0..5 {
            a.learn(&buf, 1).unwrap();
            out.push(a.state.world_model_loss);
            out.push(a.state.critic_loss);
        }
        a.begin_episode(Mode::Explore, 0);
        for k in 0..3 {
            let obs = [0.1f32 * k as f32, -0.2, 0.3, 0.0, 0.5];
            out.extend(
                a.act(&obs, Mode::Explore)
                    .unwrap()
                    .into_iter()
                    .map(f64::from),
            );
        }
        out
    };
    let x = run();
    let y = run();
    assert!(x.iter().all(|v| v.is_finite()), "{x:?}");
    assert_eq!(x, y);
}

#[test]
fn save_load_gives_identical_plans_and_updates() {
    let buf = filled_buffer(5, 2, 3, 30);
    let mut a = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 4).unwrap();
    for _ in 0..3 {
        a.learn(&buf, 1).unwrap();
    }
    let dir = std::env::temp_dir().join(format!("ctrlbench-dcwm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    a.save(&dir).unwrap();
    let mut b = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 99).unwrap();
    b.load(&dir).unwrap();
    let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5];
    for mode in [Mode::Eval(0), Mode::Explore] {
        a.begin_episode(mode, 0);
        b.begin_episode(mode, 0);
        for _ in 0..3 {
            assert_eq!(a.act(&obs, mode).unwrap(), b.act(&obs, mode).unwrap());
        }
    }
    a.learn(&buf, 1).unwrap();
    b.learn(&buf, 1).unwrap();
    assert_eq!(a.state.world_model_loss, b.state.world_model_loss);
    assert_eq!(a.state.critic_loss, b.state.critic_loss);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_interrupted_update_block_resumes_to_the_same_agent() {
    let buf = filled_buffer(5, 2, 3, 30);
    // Plays one episode; returns the updates asked for at its end.
    let play_episode = |a: &mut Dcwm| -> u64 {
        (0..30)
            .map(|t| a.update(&buf, 0, t + 1 == 30).unwrap())
            .sum()
    };
    // The pretraining block after the first episode: its 30 transitions.
    let mut a = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 4).unwrap();
    assert_eq!(play_episode(&mut a), 30);
    a.learn(&buf, 30).unwrap();
    a.end_episode(&buf).unwrap();
    assert_eq!(a.state.critic_updates, 30);

    // The same block cut after 12 updates, saved, and finished by a fresh agent.
    let mut b = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 4).unwrap();
    assert_eq!(play_episode(&mut b), 30);
    b.learn(&buf, 12).unwrap();
    let dir = std::env::temp_dir().join(format!("ctrlbench-dcwm-block-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    b.save(&dir).unwrap();
    let mut c = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 99).unwrap();
    c.load(&dir).unwrap();
    std::fs::remove_dir_all(dir).ok();
    c.learn(&buf, 18).unwrap();
    c.end_episode(&buf).unwrap();
    assert_eq!(c.state.critic_updates, 30);
    assert_eq!(a.state.world_model_loss, c.state.world_model_loss);
    assert_eq!(a.state.critic_loss, c.state.critic_loss);
    assert_eq!(a.state.codebook_usage, c.state.codebook_usage);
    let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5];
    a.begin_episode(Mode::Eval(0), 0);
    c.begin_episode(Mode::Eval(0), 0);
    assert_eq!(
        a.act(&obs, Mode::Eval(0)).unwrap(),
        c.act(&obs, Mode::Eval(0)).unwrap()
    );

    // After the next episode: a block of one episode's updates.
    assert_eq!(play_episode(&mut c), 30);
}

#[test]
fn world_model_learns_a_deterministic_system_and_uses_its_codebook() {
    // In f32 and in mixed precision (bf16 matmuls).
    for use_amp in [false, true] {
        let buf = filled_buffer(5, 2, 4, 50);
        let cfg = DcwmConfig { use_amp, ..tiny() };
        let mut a = Dcwm::with_config(cfg, 5, 2, Device::Cpu, 5).unwrap();
        a.learn(&buf, 1).unwrap();
        let first = (a.state.consistency_loss, a.state.reward_loss);
        for _ in 0..150 {
            a.learn(&buf, 1).unwrap();
        }
        let last = (a.state.consistency_loss, a.state.reward_loss);
        assert!(
            last.1 < 0.75 * first.1,
            "use_amp {use_amp}: reward loss {} -> {}",
            first.1,
            last.1
        );
        assert!(
            last.0 < first.0,
            "use_amp {use_amp}: consistency {} -> {}",
            first.0,
            last.0
        );
        a.measure_codebook_usage(&buf).unwrap();
        let usage = a.state.codebook_usage;
        assert!(usage > 0.0 && usage <= 100.0, "{usage}");
        a.begin_episode(Mode::Eval(0), 1);
        let act = a.act(&[0.0; 5], Mode::Eval(0)).unwrap();
        assert!(act.iter().all(|v| (-1.0..=1.0).contains(v)), "{act:?}");
    }
}

#[test]
fn ablation_variants_build_and_update() {
    let buf = filled_buffer(5, 2, 2, 30);
    let variants = [
        DcwmConfig {
            consistency_loss: ConsistencyLoss::Mse,
            ..tiny()
        },
        DcwmConfig {
            use_fsq: false,
            consistency_loss: ConsistencyLoss::Mse,
            ..tiny()
        },
        DcwmConfig {
            unc_prop_mode: UncPropMode::WeightedAvg,
            ..tiny()
        },
        DcwmConfig {
            discrete_encoding: DiscreteEncoding::Label,
            ..tiny()
        },
        DcwmConfig {
            discrete_encoding: DiscreteEncoding::OneHot,
            ..tiny()
        },
        DcwmConfig {
            fsq_levels: vec![8, 8],
            num_critics: 2,
            nstep: 3,
            ..tiny()
        },
        DcwmConfig {
            mpc: false,
            ..tiny()
        },
    ];
    for cfg in variants {
        let label = format!(
            "{:?}/{:?}/{:?}",
            cfg.consistency_loss, cfg.discrete_encoding, cfg.fsq_levels
        );
        let mut a = Dcwm::with_config(cfg, 5, 2, Device::Cpu, 6).unwrap();
        for _ in 0..2 {
            a.learn(&buf, 1).unwrap();
        }
        let l = (a.state.world_model_loss, a.state.critic_loss);
        assert!(l.0.is_finite() && l.1.is_finite(), "{label}: {l:?}");
        a.begin_episode(Mode::Eval(0), 1);
        let act = a.act(&[0.0; 5], Mode::Eval(0)).unwrap();
        assert!(
            act.iter().all(|v| (-1.0..=1.0).contains(v)),
            "{label}: {act:?}"
        );
    }
}

#[test]
fn an_update_is_a_function_of_its_batch_and_its_noise() {
    // Two agents with the same parameters but different random streams give
    // the same update when handed the same noise, and another update when
    // the smoothing noise is replaced.
    let buf = filled_buffer(5, 2, 3, 30);
    let mut a = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 4).unwrap();
    let dir = std::env::temp_dir().join(format!("ctrlbench-dcwm-noise-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    a.save(&dir).unwrap();
    let fresh = |seed| {
        let mut b = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, seed).unwrap();
        b.load(&dir).unwrap();
        b
    };
    let (mut b, mut c) = (fresh(7), fresh(8));
    std::fs::remove_dir_all(dir).ok();
    let batch = a.sample(&buf).unwrap();
    let rows = (batch.reward.len() / batch.horizon) as i64;
    let noise = a.draw_update_noise(rows, a.actor_due());
    let copy = |n: &update::UpdateNoise| update::UpdateNoise {
        gumbel: n.gumbel.as_ref().map(Tensor::copy),
        smoothing: n.smoothing.copy(),
        target_critics: n.target_critics.clone(),
        actor_critics: n.actor_critics.clone(),
    };
    let zero_smoothing = update::UpdateNoise {
        smoothing: noise.smoothing.zeros_like(),
        ..copy(&noise)
    };
    b.update_with(&batch, copy(&noise));
    a.update_with(&batch, noise);
    c.update_with(&batch, zero_smoothing);
    for agent in [&mut a, &mut b, &mut c] {
        agent.settle_metrics();
        assert!(agent.state.critic_loss.is_finite());
    }
    assert_eq!(a.state.world_model_loss, b.state.world_model_loss);
    assert_eq!(a.state.critic_loss, b.state.critic_loss);
    assert_eq!(a.state.world_model_loss, c.state.world_model_loss);
    assert_ne!(a.state.critic_loss, c.state.critic_loss);
}

#[test]
fn auto_reward_bounds_follow_the_suite_and_the_action_repeat() {
    let y: serde_yaml::Value = serde_yaml::from_str("{r_min: auto, r_max: auto}").unwrap();
    let cfg = parse_config::<DcwmConfig>("dcwm", &y).unwrap();
    assert_eq!(cfg, DcwmConfig::default());
    let mut spec = envs::benchmark_env("walker-walk", 0)
        .unwrap()
        .spec()
        .clone();
    assert_eq!(spec.reward_range, Some((0.0, 1.0)));
    for (repeat, hi) in [(1, 1.0), (2, 2.0), (8, 8.0)] {
        spec.action_repeat = repeat;
        let r = DcwmConfig::default().for_env(&spec).reward_range();
        assert_eq!(r, Some((0.0, hi)), "repeat {repeat}");
    }
    // A suite without guaranteed bounds (Meta-World): unbounded, as the
    // official head there.
    spec.reward_range = None;
    let cfg = DcwmConfig::default().for_env(&spec);
    assert_eq!(
        (cfg.r_min, cfg.r_max, cfg.reward_range()),
        (None, None, None)
    );
    assert!(cfg.check().is_ok());
    // Fixed bounds stay as given.
    let cfg = tiny().for_env(&spec);
    assert_eq!(cfg.reward_range(), Some((0.0, 2.0)));
}

#[test]
fn official_td_discount_leaves_one_step_targets_undiscounted() {
    let at = |td_discount, nstep| {
        DcwmConfig {
            td_discount,
            nstep,
            ..tiny()
        }
        .td_gamma()
    };
    assert_eq!(at(TdDiscount::Official, 1), 1.0);
    assert_eq!(at(TdDiscount::Official, 3), 0.99);
    assert_eq!(at(TdDiscount::Paper, 1), 0.99);
    assert_eq!(at(TdDiscount::Paper, 3), 0.99);
    // The target pieces with the official 1-step discount: r + 1·Q'.
    let (ret, disc) = nstep_return(&[0.5, 0.25], &[0.0, 0.0], 1, 1, at(TdDiscount::Official, 1));
    assert_eq!((ret, disc), (vec![0.5, 0.25], vec![1.0, 1.0]));
}

#[test]
fn critic_init_is_pytorch_default_or_orthogonal() {
    for (critic_init, zero_bias) in [(CriticInit::Pytorch, false), (CriticInit::Orthogonal, true)] {
        let cfg = DcwmConfig {
            critic_init,
            ..tiny()
        };
        let a = Dcwm::with_config(cfg, 5, 2, Device::Cpu, 1).unwrap();
        let vars = a.ac.critic_vs.variables();
        let b0 = &vars["b0"];
        let fan_in = vars["w0"].size()[1] as f64;
        let max = b0.abs().max().double_value(&[]);
        if zero_bias {
            assert_eq!(max, 0.0, "{critic_init:?}");
        } else {
            assert!(
                max > 0.0 && max <= 1.0 / fan_in.sqrt(),
                "{critic_init:?}: {max}"
            );
        }
    }
}

#[test]
fn batched_evaluation_plans_equal_sequential_ones() {
    let buf = filled_buffer(5, 2, 3, 30);
    let mut a = Dcwm::with_config(tiny(), 5, 2, Device::Cpu, 4).unwrap();
    a.learn(&buf, 3).unwrap();
    let obs = [
        [0.1f32, -0.2, 0.3, 0.0, 0.5],
        [0.4, 0.1, -0.3, 0.2, 0.0],
        [0.0; 5],
    ];
    let rows = obs.concat();
    let begin = |a: &mut Dcwm| {
        for slot in 0..3 {
            a.begin_episode(Mode::Eval(slot), 100 + slot as u64);
        }
    };
    begin(&mut a);
    // Two steps, so the second one starts from each episode's warm start.
    let batched: Vec<Vec<f32>> = (0..2)
        .map(|_| a.act_eval(&rows, &[0, 1, 2]).unwrap())
        .collect();
    begin(&mut a);
    for (step, together) in batched.iter().enumerate() {
        for (slot, o) in obs.iter().enumerate() {
            let one = a.act(o, Mode::Eval(slot)).unwrap();
            for (x, y) in one.iter().zip(&together[slot * 2..slot * 2 + 2]) {
                assert!(
                    (x - y).abs() < 1e-4,
                    "step {step} slot {slot}: {one:?} vs {:?}",
                    batched[step]
                );
            }
        }
    }
    assert_ne!(batched[0][0..2], batched[0][2..4]);
}
