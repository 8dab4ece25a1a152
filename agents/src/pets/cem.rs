//! PETS planning: the cross-entropy method over action sequences, each
//! scored by particles propagated through the ensemble (mbrl-lib's
//! `planning/trajectory_opt.py` CEMOptimizer and `models/model_env.py`
//! `evaluate_action_sequences`, with the propagation of
//! `models/gaussian_mlp.py`).
//!
//! # Contract
//!
//! - CEM starts from `x0` (the previous plan shifted, the midpoint 0 at an
//!   episode's start) with variance `(ub − lb)² / 16`; each of `iterations`
//!   draws `population` sequences `μ + z·√min(((μ − lb)/2)², ((ub − μ)/2)², σ²)`
//!   with `z` a standard normal truncated at ±2, keeps the
//!   `⌈population · elite_ratio⌉` best and moves `μ ← α μ + (1 − α) mean`,
//!   `σ² ← α σ² + (1 − α) var` (unbiased) of the elites, and returns the
//!   final `μ`.
//! - A sequence's score is the mean over `particles` of the undiscounted sum
//!   of sampled rewards over the horizon; a NaN score becomes −1e-10.
//! - Particles: every sequence is repeated `particles` times; the
//!   `population · particles` rows are split evenly over the elite members
//!   by a random permutation: drawn once per CEM iteration and kept over the
//!   horizon (TS∞, `fixed_model`), drawn anew at every step (TS1,
//!   `random_model`), or every row through every elite with their means and
//!   log-variances averaged (`expectation`). Each step samples
//!   `mean + exp(lv / 2)·ε`; the state moves by the sampled delta.
//! - All randomness comes in a [`PlanNoise`], so a plan is a deterministic
//!   function of its inputs and noise (the reference check injects it).
//!   The whole population goes through the ensemble in one batched pass per
//!   horizon step; the only host read is the returned plan.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::model::{Ensemble, Normalizer, truncated_normal};

/// How particles use the ensemble's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Propagation {
    /// A member per particle for the whole horizon (TS∞, the PETS paper's).
    TsInf,
    /// A member per particle drawn at every step (TS1, mbrl-lib's default).
    Ts1,
    /// Every particle through the mean of the elites' Gaussians.
    Expectation,
}

/// CEM and particle settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CemSpec {
    /// Sequences per iteration.
    pub population: usize,
    /// Fraction kept as elites.
    pub elite_ratio: f64,
    /// Iterations.
    pub iterations: usize,
    /// Smoothing of mean and variance.
    pub alpha: f64,
    /// Planning horizon (agent steps).
    pub horizon: usize,
    /// Particles per sequence.
    pub particles: usize,
    /// Member assignment.
    pub propagation: Propagation,
}

impl CemSpec {
    /// Elites kept per iteration.
    pub fn num_elites(&self) -> usize {
        ((self.population as f64 * self.elite_ratio).ceil() as usize).clamp(1, self.population)
    }
}

/// The random draws of one plan.
pub struct PlanNoise {
    /// Truncated standard normals `[iterations, population, horizon, act]`.
    pub z: Tensor,
    /// Standard normals of the particles `[iterations, horizon, rows, out]`.
    pub eps: Tensor,
    /// Row permutations `[iterations, horizon, rows]` (TS∞ uses step 0's).
    pub perms: Tensor,
}

impl PlanNoise {
    /// Draws the noise with libtorch's generator (seed it first).
    pub fn draw(spec: &CemSpec, act_dim: usize, out_dim: usize, device: Device) -> Self {
        let (it, pop, h) = (
            spec.iterations as i64,
            spec.population as i64,
            spec.horizon as i64,
        );
        let rows = pop * spec.particles as i64;
        let perms: Vec<Tensor> = (0..it * h)
            .map(|_| Tensor::randperm(rows, (Kind::Int64, device)))
            .collect();
        PlanNoise {
            z: truncated_normal(&[it, pop, h, act_dim as i64], 1.0, device),
            eps: Tensor::randn([it, h, rows, out_dim as i64], (Kind::Float, device)),
            perms: Tensor::stack(&perms, 0).view([it, h, rows]),
        }
    }
}

/// What a plan returns.
pub struct Plan {
    /// The final mean `[horizon, act]`.
    pub solution: Tensor,
    /// Mean standard deviation of the final CEM distribution.
    pub std: Tensor,
}

/// Sum over the horizon of sampled rewards for each row: `actions`
/// `[rows, horizon, act]` from `obs` `[rows, obs]`; `eps` `[horizon, rows,
/// out]`, `perms` `[horizon, rows]`.
pub fn rollout_returns(
    model: &Ensemble,
    norm: &Normalizer,
    obs: &Tensor,
    actions: &Tensor,
    eps: &Tensor,
    perms: &Tensor,
    propagation: Propagation,
) -> Tensor {
    let (rows, horizon) = (actions.size()[0], actions.size()[1]);
    let elites = Tensor::from_slice(&model.elites).to(obs.device());
    let m = model.elites.len() as i64;
    let obs_dim = obs.size()[1];
    let mut state = obs.shallow_clone();
    let mut total = Tensor::zeros([rows], (Kind::Float, obs.device()));
    for t in 0..horizon {
        let a = actions.select(1, t);
        let x = norm.apply(&Tensor::cat(&[&state, &a], 1));
        let (mean, lv) = match propagation {
            Propagation::Expectation => {
                let xs = x.unsqueeze(0).expand([m, -1, -1], false);
                let (mean, lv) = model.forward(&xs, Some(&elites));
                (
                    mean.mean_dim(0, false, Kind::Float),
                    lv.mean_dim(0, false, Kind::Float),
                )
            }
            Propagation::TsInf | Propagation::Ts1 => {
                let perm = match propagation {
                    Propagation::TsInf => perms.select(0, 0),
                    _ => perms.select(0, t),
                };
                // Row perm[j] goes to elite j / (rows / m).
                let xp = x.index_select(0, &perm).view([m, rows / m, -1]);
                let (mean, lv) = model.forward(&xp, Some(&elites));
                let back = |v: Tensor| {
                    v.reshape([rows, -1])
                        .zeros_like()
                        .index_copy(0, &perm, &v.reshape([rows, -1]))
                };
                (back(mean), back(lv))
            }
        };
        let sample = mean + (lv * 0.5).exp() * eps.select(0, t);
        // Not in place: `state` starts as a broadcast view of one observation.
        let next = &state + sample.narrow(1, 0, obs_dim);
        state = next;
        total += sample.select(1, obs_dim);
    }
    total
}

/// CEM from `x0` (`[horizon, act]`) within [-1, 1], with the truncated
/// normals `z` (`[iterations, population, horizon, act]`); `objective`
/// scores the population `[population, horizon, act]` at an iteration
/// (higher is better).
pub fn optimize(
    x0: &Tensor,
    spec: &CemSpec,
    z: &Tensor,
    mut objective: impl FnMut(&Tensor, i64) -> Tensor,
) -> Plan {
    tch::no_grad(|| {
        let (lb, ub) = (-1.0f64, 1.0f64);
        let mut mu = x0.shallow_clone();
        let mut var = x0.ones_like() * ((ub - lb) * (ub - lb) / 16.0);
        let k = spec.num_elites() as i64;
        for i in 0..spec.iterations as i64 {
            let to_lb = (&mu - lb) / 2.0;
            let to_ub = (-&mu + ub) / 2.0;
            let std = to_lb.square().minimum(&to_ub.square()).minimum(&var).sqrt();
            let x = &mu + z.select(0, i) * std; // [pop, H, A]
            let scores = objective(&x, i).nan_to_num(-1e-10, None::<f64>, None::<f64>);
            let (_, top) = scores.topk(k, 0, true, true);
            let elites = x.index_select(0, &top);
            let e_mean = elites.mean_dim(0, false, Kind::Float);
            let e_var = elites.var_dim(0, true, false);
            mu = &mu * spec.alpha + e_mean * (1.0 - spec.alpha);
            var = &var * spec.alpha + e_var * (1.0 - spec.alpha);
        }
        Plan {
            std: var.sqrt().mean(Kind::Float),
            solution: mu,
        }
    })
}

/// Plans from `obs` (`[obs_dim]`) starting at `x0` (`[horizon, act]`): CEM
/// over the mean particle return.
pub fn plan(
    model: &Ensemble,
    norm: &Normalizer,
    obs: &Tensor,
    x0: &Tensor,
    spec: &CemSpec,
    noise: &PlanNoise,
) -> Plan {
    let (pop, p) = (spec.population as i64, spec.particles as i64);
    let states = obs.unsqueeze(0).expand([pop * p, -1], false);
    optimize(x0, spec, &noise.z, |x, i| {
        let actions = x.repeat_interleave_self_int(p, Some(0), None::<i64>);
        let returns = rollout_returns(
            model,
            norm,
            &states,
            &actions,
            &noise.eps.select(0, i),
            &noise.perms.select(0, i),
            spec.propagation,
        );
        returns.view([pop, p]).mean_dim(1, false, Kind::Float)
    })
}
