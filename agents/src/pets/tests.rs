//! PETS's parts on cases with known answers: CEM on a quadratic, TS∞
//! particles against a row-by-row loop, the loss against its formula, the
//! normaliser, a retrain that learns a linear system, checkpoints.

use super::*;
use crate::rng::Rng;

fn small() -> PetsConfig {
    PetsConfig {
        ensemble_size: 3,
        num_elites: 2,
        hidden: 16,
        num_layers: 2,
        batch_size: 32,
        num_epochs: 30,
        population: 16,
        num_particles: 4,
        horizon: 4,
        iterations: 3,
        ..PetsConfig::default()
    }
}

fn tiny_model(seed: u64) -> Ensemble {
    let spec = EnsembleSpec {
        members: 3,
        in_dim: 3,
        out_dim: 3,
        hidden: 8,
        num_layers: 2,
        logvar_bounds: (-10.0, 0.5),
    };
    Ensemble::new(spec, Device::Cpu, &mut TorchStream::new(seed))
}

#[test]
fn cem_converges_to_the_maximum_of_a_quadratic() {
    let spec = CemSpec {
        population: 200,
        elite_ratio: 0.1,
        iterations: 12,
        alpha: 0.1,
        horizon: 3,
        particles: 1,
        propagation: Propagation::TsInf,
    };
    let target = Tensor::from_slice(&[0.5f32, -0.3, 0.8, 0.1, -0.9, 0.0]).view([3, 2]);
    let z =
        TorchStream::new(1).draw(|| model::truncated_normal(&[12, 200, 3, 2], 1.0, Device::Cpu));
    assert!(z.abs().max().double_value(&[]) <= 2.0);
    let plan = cem::optimize(
        &Tensor::zeros([3, 2], (Kind::Float, Device::Cpu)),
        &spec,
        &z,
        |x, _| {
            -(x - &target)
                .square()
                .sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float)
        },
    );
    let err = (plan.solution - &target).abs().max().double_value(&[]);
    assert!(err < 0.05, "CEM ended {err} from the maximum");
    assert_eq!(spec.num_elites(), 20);
}

#[test]
fn ts_inf_particles_equal_a_row_by_row_rollout() {
    let mut model = tiny_model(3);
    model.elites = vec![2, 0];
    let norm = Normalizer {
        mean: vec![0.1, -0.2, 0.0],
        std: vec![2.0, 0.5, 1.0],
    };
    let rows = 6i64;
    let mut r = Rng::new(4);
    let mut v = |n: usize| {
        (0..n)
            .map(|_| r.uniform(-1.0, 1.0) as f32)
            .collect::<Vec<_>>()
    };
    let obs = Tensor::from_slice(&v(12)).view([rows, 2]);
    let actions = Tensor::from_slice(&v(18)).view([rows, 3, 1]);
    let eps = Tensor::from_slice(&v(54)).view([3, rows, 3]);
    let perm = Tensor::from_slice(&[4i64, 1, 5, 0, 3, 2]);
    let perms = Tensor::stack(&[&perm, &perm.flip([0]), &perm], 0);
    let got = cem::rollout_returns(
        &model,
        &norm,
        &obs,
        &actions,
        &eps,
        &perms,
        Propagation::TsInf,
    );
    // Row perm[j] belongs to elite j / 3 for the whole horizon.
    let perm_v: Vec<i64> = Vec::try_from(&perm).unwrap();
    for row in 0..rows {
        let j = perm_v.iter().position(|&p| p == row).unwrap() as i64;
        let member = Tensor::from_slice(&[model.elites[(j / 3) as usize]]);
        let mut s = obs.get(row).view([1, 2]);
        let mut total = 0.0;
        for t in 0..3 {
            let a = actions.get(row).get(t).view([1, 1]);
            let x = norm.apply(&Tensor::cat(&[&s, &a], 1)).unsqueeze(0);
            let (mean, lv) = model.forward(&x, Some(&member));
            let sample =
                mean.squeeze_dim(0) + (lv.squeeze_dim(0) * 0.5).exp() * eps.get(t).get(row);
            let next = &s + sample.narrow(1, 0, 2);
            s = next;
            total += sample.get(0).get(2).double_value(&[]);
        }
        let g = got.get(row).double_value(&[]);
        assert!((g - total).abs() < 1e-5, "row {row}: {g} vs {total}");
    }
}

#[test]
fn the_loss_is_the_gaussian_nll_summed_over_members_with_soft_bounds() {
    let model = tiny_model(5);
    let x = Tensor::randn([3, 7, 3], (Kind::Float, Device::Cpu));
    let y = Tensor::randn([3, 7, 3], (Kind::Float, Device::Cpu));
    let (mean, lv) = model.forward(&x, None);
    assert!(lv.max().double_value(&[]) < 0.5 && lv.min().double_value(&[]) > -10.0);
    let mut expected = 0.0;
    for m in 0..3 {
        let d = (mean.get(m) - y.get(m)).square() * (-lv.get(m)).exp() + lv.get(m);
        expected += d.mean(Kind::Float).double_value(&[]);
    }
    expected += 0.01 * (0.5 * 3.0 - (-10.0) * 3.0);
    let got = model.nll(&x, &y).double_value(&[]);
    assert!(
        (got - expected).abs() < 1e-4 * expected.abs(),
        "{got} vs {expected}"
    );
}

#[test]
fn the_normaliser_uses_the_unbiased_std_and_leaves_constant_inputs_unscaled() {
    let data = [1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
    let n = Normalizer::fit(&data, 2);
    assert_eq!(n.mean, vec![3.0, 5.0]);
    assert_eq!(n.std, vec![2.0, 1.0]);
    let x = n.apply(&Tensor::from_slice(&[5.0f32, 6.0]));
    assert_eq!(Vec::<f32>::try_from(x).unwrap(), vec![1.0, 1.0]);
}

/// A buffer of episodes of a linear system `s' = 0.9 s + 0.5 a`, reward `-s²`.
fn linear_buffer(episodes: usize, seed: u64) -> ReplayBuffer {
    let mut b = ReplayBuffer::new(2, 1, 10_000).unwrap();
    let mut r = Rng::new(seed);
    for _ in 0..episodes {
        let mut s = [r.uniform(-1.0, 1.0) as f32, r.uniform(-1.0, 1.0) as f32];
        b.start_episode(&s);
        for t in 0..50 {
            let a = r.uniform(-1.0, 1.0) as f32;
            let next = [0.9 * s[0] + 0.5 * a, 0.9 * s[1] - 0.2 * a];
            let reward = -(s[0] * s[0] + s[1] * s[1]);
            b.push(&[a], reward, false, t == 49, &next).unwrap();
            s = next;
        }
    }
    b
}

#[test]
fn a_retrain_learns_a_linear_system_and_plans_towards_reward() {
    let buffer = linear_buffer(8, 1);
    let mut pets = Pets::with_config(small(), 2, 1, Device::Cpu, 7).unwrap();
    pets.retrain(&buffer).unwrap();
    let first = (pets.state.model_nll, pets.state.model_mse);
    pets.retrain(&buffer).unwrap();
    let m = pets.metrics();
    let mse = m.iter().find(|(k, _)| k == "model_mse").unwrap().1;
    // Against predicting no change and no reward: the mean square target.
    let data = buffer.transitions();
    let mut sq = 0.0;
    for i in 0..data.reward.len() {
        for j in 0..2 {
            let d = f64::from(data.next_obs[2 * i + j] - data.obs[2 * i + j]);
            sq += d * d;
        }
        sq += f64::from(data.reward[i]).powi(2);
    }
    let zero = sq / (3 * data.reward.len()) as f64;
    assert!(
        mse < 0.1 * zero,
        "elite MSE {mse} after two retrains (first {first:?}); predicting zero: {zero}"
    );
    assert_eq!(pets.model.elites.len(), 2);
    // From s = (1, 0), reward -|s|^2 favours a negative first action (s0' = 0.9 + 0.5 a).
    pets.begin_episode(Mode::Explore, 0);
    let a = pets.act(&[1.0, 0.0], Mode::Explore).unwrap();
    assert!(a[0] < -0.3, "action {a:?}");
}

#[test]
fn a_checkpoint_restores_the_same_plans() {
    let buffer = linear_buffer(2, 2);
    let mut a = Pets::with_config(small(), 2, 1, Device::Cpu, 11).unwrap();
    a.retrain(&buffer).unwrap();
    let _ = a.act(&[0.2, 0.1], Mode::Explore).unwrap();
    let dir = std::env::temp_dir().join(format!("ctrlbench-pets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    a.save(&dir).unwrap();
    let mut b = Pets::with_config(small(), 2, 1, Device::Cpu, 99).unwrap();
    b.load(&dir).unwrap();
    for obs in [[0.3f32, -0.4], [0.0, 0.9]] {
        assert_eq!(
            a.act(&obs, Mode::Explore).unwrap(),
            b.act(&obs, Mode::Explore).unwrap()
        );
    }
    a.retrain(&buffer).unwrap();
    b.retrain(&buffer).unwrap();
    assert_eq!(a.state.model_mse, b.state.model_mse);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_settings_are_config_errors() {
    let too_many = PetsConfig {
        num_elites: 9,
        ..PetsConfig::default()
    };
    assert!(Pets::with_config(too_many, 3, 1, Device::Cpu, 0).is_err());
    let uneven = PetsConfig {
        population: 7,
        num_particles: 3,
        ..PetsConfig::default()
    };
    let err = Pets::with_config(uneven, 3, 1, Device::Cpu, 0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("divide evenly"), "{err}");
}

#[test]
fn evaluation_episodes_plan_apart_from_training() {
    let buffer = linear_buffer(2, 2);
    let trained = || {
        let mut p = Pets::with_config(small(), 2, 1, Device::Cpu, 11).unwrap();
        p.retrain(&buffer).unwrap();
        p.begin_episode(Mode::Explore, 0);
        p
    };
    let (mut a, mut b) = (trained(), trained());
    let obs = [[0.3f32, -0.4], [0.0, 0.9], [0.5, 0.1]];
    let plain: Vec<_> = obs
        .iter()
        .map(|o| a.act(o, Mode::Explore).unwrap())
        .collect();
    // Two evaluation episodes between training steps change nothing in training.
    let mut interleaved = Vec::new();
    let mut evaluated = Vec::new();
    for (i, o) in obs.iter().enumerate() {
        interleaved.push(b.act(o, Mode::Explore).unwrap());
        if i == 0 {
            b.begin_episode(Mode::Eval(0), 21);
            b.begin_episode(Mode::Eval(1), 22);
        }
        evaluated.push(b.act_eval(&[*o, *o].concat(), &[0, 1]).unwrap());
    }
    assert_eq!(plain, interleaved);
    // Each slot draws from its own seed: the same observation, other plans.
    assert_ne!(evaluated[0][0], evaluated[0][1]);
    // A slot replays from its seed.
    let mut c = trained();
    c.begin_episode(Mode::Eval(3), 22);
    assert_eq!(c.act(&obs[0], Mode::Eval(3)).unwrap()[0], evaluated[0][1]);
}
