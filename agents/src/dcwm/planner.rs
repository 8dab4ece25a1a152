//! MPPI planning in a learned latent space (Williams et al. 2015; the
//! variant of TD-MPC/TD-MPC2 that DCWM uses, `DCMPC.plan` in the official
//! code).
//!
//! Each iteration scores `num_samples` action sequences of `plan_horizon`
//! steps by their ρ-discounted predicted rewards plus a terminal value, keeps
//! the `num_elites` best, and refits a Gaussian (mean, std clamped to
//! `[min_std, max_std]`) with softmax weights `exp(temperature · (v − max v))`.
//! `num_pi_trajs` of the sequences come from rolling out the policy prior.
//! The mean is warm-started from the previous plan shifted by one step. The
//! executed action is drawn from the elites with their softmax weights (or the
//! mean's first action with `use_mppi_mean`).
//!
//! All samples go through each network in one batched pass; the noise of the
//! whole plan is drawn before the loop, so the only device → host copy is the
//! final action. [`plan_batch`] plans for several latents (evaluation
//! episodes) in the same passes, each with its own warm start and noise.

use tch::{Kind, Tensor};

/// What the planner needs from a world model and actor–critic.
pub trait LatentModel {
    /// Predicted rewards `[N]` for latents `[N, D]` and actions `[N, A]`.
    fn reward(&self, z: &Tensor, a: &Tensor) -> Tensor;
    /// Next latents `[N, D]` (planning propagation: the expected code).
    fn next(&self, z: &Tensor, a: &Tensor) -> Tensor;
    /// Policy prior actions `[N, A]` in [-1, 1], without noise.
    fn policy(&self, z: &Tensor) -> Tensor;
    /// Mean of the critics `members` (int64 indices on the device) at
    /// `(z, a)`: `[N]`.
    fn value(&self, z: &Tensor, a: &Tensor, members: &Tensor) -> Tensor;
}

/// MPPI settings (DCMPCConfig's planning block).
#[derive(Debug, Clone, PartialEq)]
pub struct MppiConfig {
    /// Refinement iterations.
    pub iterations: usize,
    /// Action sequences scored per iteration (policy ones included).
    pub num_samples: usize,
    /// Sequences kept to refit the distribution.
    pub num_elites: usize,
    /// Sequences from the policy prior.
    pub num_pi_trajs: usize,
    /// Steps per sequence.
    pub horizon: usize,
    /// Lower clamp of the sampling std.
    pub min_std: f64,
    /// Upper clamp (and initial value) of the sampling std.
    pub max_std: f64,
    /// Softmax temperature on elite values.
    pub temperature: f64,
    /// Discount of predicted rewards inside the plan (DCWM uses ρ).
    pub discount: f64,
    /// Execute the mean's first action instead of sampling an elite.
    pub use_mppi_mean: bool,
}

/// The random numbers of one plan, drawn together before the loop.
#[derive(Debug)]
pub struct PlanNoise {
    /// Standard normals for the sampled sequences, `[iters, H, N − N_pi, A]`.
    pub samples: Tensor,
    /// Standard normals added to the policy prior's actions, one vector per
    /// policy call shared by all its trajectories (as the official code's
    /// `torch.normal(0, scale)` with a per-dimension scale): `[H, A]`.
    pub prior: Tensor,
    /// The same for the terminal action of each iteration's value: `[iters, A]`.
    pub terminal: Tensor,
    /// One uniform in [0, 1) choosing the executed elite.
    pub choice: Tensor,
    /// Standard normals of the exploration noise on the executed action, `[A]`.
    pub explore: Tensor,
    /// The two (or `q_sample_size`) critics averaged in each iteration's value.
    pub critics: Vec<Vec<i64>>,
}

impl PlanNoise {
    /// Draws the noise of one plan with libtorch's generator (call inside a
    /// [`crate::rng::TorchStream::draw`]); `critics` come from the caller.
    pub fn draw(
        cfg: &MppiConfig,
        act_dim: usize,
        device: tch::Device,
        critics: Vec<Vec<i64>>,
    ) -> Self {
        let (i, h, a) = (cfg.iterations as i64, cfg.horizon as i64, act_dim as i64);
        let n = (cfg.num_samples - cfg.num_pi_trajs) as i64;
        let opts = (Kind::Float, device);
        PlanNoise {
            samples: Tensor::randn([i, h, n, a], opts),
            prior: Tensor::randn([h, a], opts),
            terminal: Tensor::randn([i, a], opts),
            choice: Tensor::rand([1], opts),
            explore: Tensor::randn([a], opts),
            critics,
        }
    }
}

/// Result of one plan.
#[derive(Debug)]
pub struct Plan {
    /// The action to execute, `[A]`, still on the device.
    pub action: Tensor,
    /// The final mean `[H, A]` (next plan's warm start).
    pub mean: Tensor,
    /// The final std of the first step `[A]`.
    pub std: Tensor,
}

fn noisy(a: Tensor, noise: &Tensor, std: f64) -> Tensor {
    (a + noise * std).clamp(-1.0, 1.0)
}

/// The values `[B, N]` of action sequences `[H, B, N, A]`, sequence set `b`
/// from latent `z0[b]` (`z0`: `[B, D]`):
/// `Σ_t ρ^t r̂_t + ρ^H · mean_{critics} Q(z_H, π(z_H) + noise)`, as
/// `_single_estimate_value` in the official code. `terminal_noise` is
/// `[B, A]`, `critics` the members of each set, `[B, q]`.
pub fn estimate_values(
    model: &dyn LatentModel,
    cfg: &MppiConfig,
    z0: &Tensor,
    actions: &Tensor,
    terminal_noise: &Tensor,
    prior_std: f64,
    critics: &Tensor,
) -> Tensor {
    let [_, b, n, a] = actions.size()[..] else {
        unreachable!("actions are [H, B, N, A]")
    };
    let d = z0.size()[1];
    let mut z = z0.unsqueeze(1).expand([b, n, d], false).reshape([b * n, d]);
    let mut g = Tensor::zeros([b * n], (Kind::Float, actions.device()));
    let mut discount = 1.0;
    for t in 0..cfg.horizon as i64 {
        let a_t = actions.get(t).reshape([b * n, a]);
        g += model.reward(&z, &a_t) * discount;
        z = model.next(&z, &a_t);
        discount *= cfg.discount;
    }
    let policy = model.policy(&z).view([b, n, a]);
    let a_h = noisy(policy, &terminal_noise.unsqueeze(1), prior_std).reshape([b * n, a]);
    // Each set averages its own critics.
    let values: Vec<Tensor> = (0..b)
        .map(|k| {
            let rows = k * n;
            model.value(
                &z.narrow(0, rows, n),
                &a_h.narrow(0, rows, n),
                &critics.get(k),
            )
        })
        .collect();
    (g + Tensor::cat(&values, 0) * discount).view([b, n])
}

/// Each iteration's values `[N]` (policy trajectories first) and elite
/// indices `[num_elites]` (in `topk` order), recorded by [`plan`].
#[derive(Debug, Default)]
pub struct PlanTrace {
    /// Values of every sequence, per iteration.
    pub values: Vec<Tensor>,
    /// Indices of the elites, per iteration.
    pub elites: Vec<Tensor>,
}

/// Plans from the latent `z0` (`[1, D]`). `prev_mean` (`[H, A]`) warm-starts
/// the mean shifted by one step; `prior_std` is the std of the noise on the
/// policy prior's actions (the agent's current exploration noise, in training
/// and evaluation alike, as the official code); `explore_std` > 0 adds
/// exploration noise to the executed action; `trace`, when given, records
/// each iteration's values and elites.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    model: &dyn LatentModel,
    cfg: &MppiConfig,
    z0: &Tensor,
    prev_mean: Option<&Tensor>,
    noise: &PlanNoise,
    prior_std: f64,
    explore_std: f64,
    trace: Option<&mut PlanTrace>,
) -> Plan {
    let mut batch = PlanTrace::default();
    let traced = trace.is_some();
    let plans = plan_batch(
        model,
        cfg,
        z0,
        &[prev_mean],
        &[noise],
        prior_std,
        explore_std,
        traced.then_some(&mut batch),
    );
    if let Some(t) = trace {
        t.values.extend(batch.values.iter().map(|v| v.get(0)));
        t.elites.extend(batch.elites.iter().map(|e| e.get(0)));
    }
    plans.into_iter().next().expect("one plan")
}

/// [`plan`] for `B` latents at once (`z0`: `[B, D]`), each with its own
/// warm start and noise: every network pass takes all `B × N` sequences, so
/// planning for `B` evaluation episodes costs one pass per step instead of
/// `B`. Plan `b` equals `plan` from `z0[b]` with `prev_means[b]` and
/// `noises[b]`, up to floating-point rounding; `trace` records `[B, N]`
/// values and `[B, num_elites]` elites.
#[allow(clippy::too_many_arguments)]
pub fn plan_batch(
    model: &dyn LatentModel,
    cfg: &MppiConfig,
    z0: &Tensor,
    prev_means: &[Option<&Tensor>],
    noises: &[&PlanNoise],
    prior_std: f64,
    explore_std: f64,
    mut trace: Option<&mut PlanTrace>,
) -> Vec<Plan> {
    let device = z0.device();
    let b = noises.len() as i64;
    let h = cfg.horizon as i64;
    let n_pi = cfg.num_pi_trajs as i64;
    let elites = cfg.num_elites as i64;
    let d = z0.size()[1];
    let act_dim = noises[0].explore.size()[0];
    let stack = |f: &dyn Fn(&PlanNoise) -> &Tensor, dim: i64| {
        Tensor::stack(&noises.iter().map(|n| f(n)).collect::<Vec<_>>(), dim)
    };
    // [iters, H, B, n, A], [H, B, A], [iters, B, A], [B], [B, A].
    let samples = stack(&|n| &n.samples, 2);
    let prior_noise = stack(&|n| &n.prior, 1);
    let terminal = stack(&|n| &n.terminal, 1);
    let choice = stack(&|n| &n.choice, 0).view([b]);
    let explore = stack(&|n| &n.explore, 0);
    // Each iteration's critics of each plan, uploaded once: [iters, B, q].
    let iters = noises[0].critics.len() as i64;
    let q = noises[0].critics.first().map_or(0, Vec::len) as i64;
    let critics: Vec<i64> = (0..iters as usize)
        .flat_map(|i| {
            noises
                .iter()
                .flat_map(move |n| n.critics[i].iter().copied())
        })
        .collect();
    let critics = Tensor::from_slice(&critics)
        .view([iters, b, q])
        .to_device(device);

    // Policy-prior trajectories: [H, B, n_pi, A].
    let prior = (n_pi > 0).then(|| {
        let mut z = z0
            .unsqueeze(1)
            .expand([b, n_pi, d], false)
            .reshape([b * n_pi, d]);
        let mut steps = Vec::with_capacity(cfg.horizon);
        for t in 0..h {
            let policy = model.policy(&z).view([b, n_pi, act_dim]);
            let a = noisy(policy, &prior_noise.get(t).unsqueeze(1), prior_std);
            if t + 1 < h {
                z = model.next(&z, &a.reshape([b * n_pi, act_dim]));
            }
            steps.push(a);
        }
        Tensor::stack(&steps, 0)
    });

    // Means and stds [H, B, A], warm-started per plan.
    let mut mean = Tensor::zeros([h, b, act_dim], (Kind::Float, device));
    for (k, prev) in prev_means.iter().enumerate() {
        if let Some(prev) = prev
            && h > 1
        {
            mean.narrow(0, 0, h - 1)
                .select(1, k as i64)
                .copy_(&prev.narrow(0, 1, h - 1));
        }
    }
    let mut std = Tensor::full([h, b, act_dim], cfg.max_std, (Kind::Float, device));
    let mut elite_actions = Tensor::zeros([h, b, 1, act_dim], (Kind::Float, device));
    let mut score = Tensor::ones([b, 1], (Kind::Float, device));
    for i in 0..cfg.iterations as i64 {
        let sampled = (mean.unsqueeze(2) + std.unsqueeze(2) * samples.get(i)).clamp(-1.0, 1.0);
        let actions = match &prior {
            Some(p) => Tensor::cat(&[p, &sampled], 2),
            None => sampled,
        };
        let value = estimate_values(
            model,
            cfg,
            z0,
            &actions,
            &terminal.get(i),
            prior_std,
            &critics.get(i),
        )
        .nan_to_num(0.0, None, None);
        let (elite_value, elite_idx) = value.topk(elites, 1, true, true);
        if let Some(t) = trace.as_deref_mut() {
            t.values.push(value.shallow_clone());
            t.elites.push(elite_idx.shallow_clone());
        }
        let gather = elite_idx
            .view([1, b, elites, 1])
            .expand([h, b, elites, act_dim], false);
        elite_actions = actions.gather(2, &gather, false);
        let (max_value, _) = elite_value.max_dim(1, true);
        score = ((elite_value - max_value) * cfg.temperature).exp();
        score = &score / score.sum_dim_intlist(1, true, Kind::Float);
        let w = score.view([1, b, elites, 1]);
        let denom = score.sum_dim_intlist(1, false, Kind::Float).view([1, b, 1]) + 1e-9;
        mean = (&w * &elite_actions).sum_dim_intlist(2, false, Kind::Float) / &denom;
        std = ((&w * (&elite_actions - mean.unsqueeze(2)).square()).sum_dim_intlist(
            2,
            false,
            Kind::Float,
        ) / &denom)
            .sqrt()
            .clamp(cfg.min_std, cfg.max_std);
    }
    // The executed actions, [B, A].
    let mut action = if cfg.use_mppi_mean {
        mean.get(0)
    } else {
        // Categorical over each plan's elites with probabilities `score`.
        let kept = elite_actions.size()[2];
        let cdf = score.cumsum(1, Kind::Float);
        let u = &choice * cdf.select(1, -1);
        let idx = cdf
            .lt_tensor(&u.unsqueeze(1))
            .sum_dim_intlist(1, false, Kind::Int64)
            .clamp_max(kept - 1);
        let gather = idx.view([b, 1, 1]).expand([b, 1, act_dim], false);
        elite_actions
            .get(0)
            .gather(1, &gather, false)
            .squeeze_dim(1)
    };
    if explore_std > 0.0 {
        action += &explore * explore_std;
    }
    let action = action.clamp(-1.0, 1.0);
    let first_std = std.get(0);
    (0..b)
        .map(|k| Plan {
            action: action.get(k),
            mean: mean.select(1, k),
            std: first_std.get(k),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// z' = z + a, r = −‖z + a − target‖², no terminal value, zero policy.
    struct Quadratic {
        target: Tensor,
    }

    impl LatentModel for Quadratic {
        fn reward(&self, z: &Tensor, a: &Tensor) -> Tensor {
            -(z + a - &self.target)
                .square()
                .sum_dim_intlist(-1, false, Kind::Float)
        }
        fn next(&self, z: &Tensor, a: &Tensor) -> Tensor {
            z + a
        }
        fn policy(&self, z: &Tensor) -> Tensor {
            z.zeros_like()
        }
        fn value(&self, z: &Tensor, _a: &Tensor, _m: &Tensor) -> Tensor {
            Tensor::zeros([z.size()[0]], (Kind::Float, z.device()))
        }
    }

    fn cfg() -> MppiConfig {
        MppiConfig {
            iterations: 6,
            num_samples: 512,
            num_elites: 64,
            num_pi_trajs: 24,
            horizon: 3,
            min_std: 0.05,
            max_std: 2.0,
            temperature: 0.5,
            discount: 0.9,
            use_mppi_mean: false,
        }
    }

    #[test]
    fn finds_the_optimum_of_a_quadratic_reward_under_a_linear_model() {
        // From z0 = (0.2, −0.1) the best first action reaches the target
        // (0.6, −0.5) at once: a0 = (0.4, −0.4), then a1 = a2 = 0.
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(5);
        let model = Quadratic {
            target: Tensor::from_slice(&[0.6f32, -0.5]),
        };
        let c = cfg();
        let z0 = Tensor::from_slice(&[0.2f32, -0.1]).view([1, 2]);
        let critics = vec![vec![0, 1]; c.iterations];
        let noise = PlanNoise::draw(&c, 2, Device::Cpu, critics);
        let p = plan(&model, &c, &z0, None, &noise, 0.0, 0.0, None);
        let a: Vec<f32> = Vec::try_from(p.action).unwrap();
        assert!(
            (a[0] - 0.4).abs() < 0.1 && (a[1] + 0.4).abs() < 0.1,
            "{a:?}"
        );
        let m: Vec<f32> = Vec::try_from(p.mean.view([-1])).unwrap();
        assert!(
            (m[0] - 0.4).abs() < 0.05 && (m[1] + 0.4).abs() < 0.05,
            "{m:?}"
        );
        for v in &m[2..] {
            assert!(v.abs() < 0.1, "later actions should be ~0: {m:?}");
        }
        // The refit distribution has shrunk around the optimum.
        let s: Vec<f32> = Vec::try_from(p.std).unwrap();
        assert!(s.iter().all(|&s| s < 0.3), "{s:?}");
    }

    #[test]
    fn warm_start_shifts_the_previous_mean() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(6);
        let model = Quadratic {
            target: Tensor::from_slice(&[0.0f32, 0.0]),
        };
        let c = MppiConfig {
            iterations: 0,
            use_mppi_mean: true,
            ..cfg()
        };
        let prev = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).view([3, 2]);
        let noise = PlanNoise::draw(&c, 2, Device::Cpu, vec![]);
        let z0 = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu));
        let p = plan(&model, &c, &z0, Some(&prev), &noise, 0.0, 0.0, None);
        let m: Vec<f32> = Vec::try_from(p.mean.view([-1])).unwrap();
        assert_eq!(m, vec![3.0, 4.0, 5.0, 6.0, 0.0, 0.0]);
    }

    #[test]
    fn a_batch_of_plans_equals_the_plans_one_by_one() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(7);
        let model = Quadratic {
            target: Tensor::from_slice(&[0.6f32, -0.5]),
        };
        let c = MppiConfig {
            num_samples: 64,
            num_elites: 8,
            num_pi_trajs: 4,
            ..cfg()
        };
        for use_mppi_mean in [false, true] {
            let c = MppiConfig {
                use_mppi_mean,
                ..c.clone()
            };
            let z0 = Tensor::from_slice(&[0.2f32, -0.1, 0.0, 0.3, -0.4, 0.5]).view([3, 2]);
            let noises: Vec<PlanNoise> = (0..3)
                .map(|k| PlanNoise::draw(&c, 2, Device::Cpu, vec![vec![k, 1]; c.iterations]))
                .collect();
            let prev = Tensor::from_slice(&[0.1f32, 0.2, 0.3, 0.4, 0.5, 0.6]).view([3, 2]);
            let prevs = [None, Some(&prev), None];
            let batch = plan_batch(
                &model,
                &c,
                &z0,
                &prevs,
                &noises.iter().collect::<Vec<_>>(),
                0.3,
                0.1,
                None,
            );
            for (k, got) in batch.iter().enumerate() {
                let one = plan(
                    &model,
                    &c,
                    &z0.narrow(0, k as i64, 1),
                    prevs[k],
                    &noises[k],
                    0.3,
                    0.1,
                    None,
                );
                for (x, y) in [
                    (&got.action, &one.action),
                    (&got.mean, &one.mean),
                    (&got.std, &one.std),
                ] {
                    let d = (x - y).abs().max().double_value(&[]);
                    assert!(d < 1e-5, "plan {k} (mean: {use_mppi_mean}): {x} vs {y}");
                }
            }
            // The plans differ: each has its own latent, warm start and noise.
            let d = (&batch[0].action - &batch[1].action)
                .abs()
                .max()
                .double_value(&[]);
            assert!(d > 1e-3, "{d}");
        }
    }
}
