//! PETS (Chua et al. 2018, "Deep Reinforcement Learning in a Handful of
//! Trials using Probabilistic Dynamics Models"): a probabilistic ensemble of
//! the dynamics and reward, trajectory sampling through it, and the
//! cross-entropy method, as facebookresearch/mbrl-lib implements them
//! (`algorithms/pets.py`; MIT).
//!
//! - `model`: the ensemble, its loss, its training schedule and the input
//!   normaliser;
//! - `cem`: CEM over action sequences scored by propagated particles.
//!
//! # Contract
//!
//! Defaults are mbrl-lib's `exp/pets_cartpole.yaml` with
//! `dynamics_model/gaussian_mlp_ensemble.yaml` and `action_optimizer/cem.yaml`
//! (7 members, 5 elites, 4 hidden layers of 200 SiLU units, Adam lr 7.5e-4
//! with coupled L2 3e-5, batch 256, 25 epochs with patience 25, population
//! 350, horizon 15, 20 particles, 5 iterations, elite ratio 0.1, α 0.1),
//! with TS∞ propagation (the PETS paper's; mbrl-lib's default is TS1) and
//! a learned reward (an extra model output: DMC rewards are not functions
//! of the observation; under action repeat the model predicts the summed
//! reward). Step counts of mbrl-lib read as agent steps; the model retrains
//! after every training episode (the PETS paper's once per trial) unless
//! `train_every` sets a number of agent steps. PETS acts the same in
//! training and evaluation (no exploration noise); the warm start shifts
//! the last plan and resets to 0 at each episode.

pub mod cem;
pub mod model;

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::agent::{
    Agent, AgentError, AgentInit, EvalSlots, Mode, load_json, parse_config, save_json,
};
use crate::buffer::ReplayBuffer;
use crate::nn::Adam;
use crate::registry::NamedAgent;
use crate::rng::{Rng, TorchStream, derive_seed};
use cem::{CemSpec, PlanNoise, Propagation};
use model::{Ensemble, EnsembleSpec, Normalizer, TrainSchedule};

/// PETS hyperparameters (defaults: mbrl-lib's cartpole PETS, see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PetsConfig {
    /// Ensemble members.
    pub ensemble_size: usize,
    /// Members used for planning (best validation MSE).
    pub num_elites: usize,
    /// Hidden layers.
    pub num_layers: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Log-variance bounds (constants).
    pub logvar_bounds: (f64, f64),
    /// Adam learning rate.
    pub lr: f64,
    /// Coupled L2 weight decay (PyTorch `Adam(weight_decay=..)`).
    pub weight_decay: f64,
    /// Transitions per model batch.
    pub batch_size: usize,
    /// Epoch cap per retrain.
    pub num_epochs: usize,
    /// Epochs without improvement before a retrain stops (0: never).
    pub patience: usize,
    /// Relative improvement of a member's validation MSE that counts.
    pub improvement_threshold: f64,
    /// Retrain every this many agent steps; 0: after every training episode.
    pub train_every: u64,
    /// Particle propagation: ts-inf, ts1 or expectation.
    pub propagation: Propagation,
    /// Particles per action sequence.
    pub num_particles: usize,
    /// CEM population.
    pub population: usize,
    /// Planning horizon (agent steps).
    pub horizon: usize,
    /// CEM iterations.
    pub iterations: usize,
    /// Fraction of the population kept as elites.
    pub elite_ratio: f64,
    /// Smoothing of the CEM mean and variance.
    pub alpha: f64,
}

impl Default for PetsConfig {
    fn default() -> Self {
        PetsConfig {
            ensemble_size: 7,
            num_elites: 5,
            num_layers: 4,
            hidden: 200,
            logvar_bounds: (-10.0, 0.5),
            lr: 7.5e-4,
            weight_decay: 3e-5,
            batch_size: 256,
            num_epochs: 25,
            patience: 25,
            improvement_threshold: 0.01,
            train_every: 0,
            propagation: Propagation::TsInf,
            num_particles: 20,
            population: 350,
            horizon: 15,
            iterations: 5,
            elite_ratio: 0.1,
            alpha: 0.1,
        }
    }
}

impl PetsConfig {
    fn check(&self) -> Result<(), String> {
        let rows = self.population * self.num_particles;
        if self.num_elites == 0 || self.num_elites > self.ensemble_size {
            return Err(format!(
                "num_elites must be in 1..={} (ensemble_size), got {}",
                self.ensemble_size, self.num_elites
            ));
        }
        if self.propagation != Propagation::Expectation && !rows.is_multiple_of(self.num_elites) {
            return Err(format!(
                "population x num_particles ({rows}) must divide evenly over num_elites ({}) for {:?}",
                self.num_elites, self.propagation
            ));
        }
        if self.population == 0
            || self.horizon == 0
            || self.iterations == 0
            || self.batch_size == 0
            || self.num_particles == 0
            || self.hidden == 0
        {
            return Err(
                "population, horizon, iterations, batch_size, num_particles and hidden must be positive"
                    .into(),
            );
        }
        let ratio_ok = self.elite_ratio > 0.0 && self.elite_ratio <= 1.0;
        if !(0.0..=1.0).contains(&self.alpha) || !ratio_ok {
            return Err("alpha must be in [0, 1] and elite_ratio in (0, 1]".into());
        }
        // The elites' variance is unbiased: one elite has none.
        if self.cem().num_elites() < 2 {
            return Err(format!(
                "population x elite_ratio ({} x {}) must keep at least 2 CEM elites",
                self.population, self.elite_ratio
            ));
        }
        Ok(())
    }

    fn cem(&self) -> CemSpec {
        CemSpec {
            population: self.population,
            elite_ratio: self.elite_ratio,
            iterations: self.iterations,
            alpha: self.alpha,
            horizon: self.horizon,
            particles: self.num_particles,
            propagation: self.propagation,
        }
    }

    fn schedule(&self) -> TrainSchedule {
        TrainSchedule {
            batch_size: self.batch_size,
            num_epochs: self.num_epochs,
            patience: self.patience,
            improvement_threshold: self.improvement_threshold,
            num_elites: self.num_elites,
        }
    }
}

/// Counters, generators and what train.csv shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PetsState {
    agent_steps: u64,
    retrains: u64,
    trained: bool,
    normalizer: Normalizer,
    elites: Vec<i64>,
    rng: Rng,
    noise: TorchStream,
    #[serde(with = "crate::agent::nan_as_null")]
    model_nll: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    model_mse: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    train_epochs: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    elite_std: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    plan_ms: f64,
}

/// An evaluation episode's warm start and the stream its CEM noise comes
/// from (seeded by `begin_episode`, apart from the training stream).
struct EvalPlan {
    plan: Tensor,
    noise: TorchStream,
}

/// The PETS agent.
pub struct Pets {
    cfg: PetsConfig,
    device: Device,
    obs_dim: usize,
    act_dim: usize,
    model: Ensemble,
    opt: Adam,
    /// The warm start: the last plan shifted by one step.
    plan: Tensor,
    /// Each evaluation episode's warm start and noise stream.
    eval: EvalSlots<EvalPlan>,
    state: PetsState,
    /// Agent steps per episode, where the task has a time limit.
    episode_steps: Option<usize>,
}

impl Pets {
    /// A PETS agent for these sizes.
    pub fn with_config(
        cfg: PetsConfig,
        obs_dim: usize,
        act_dim: usize,
        device: Device,
        seed: u64,
    ) -> Result<Self, AgentError> {
        cfg.check().map_err(|message| AgentError::Config {
            agent: "pets".into(),
            message,
        })?;
        crate::device::apply_torch_threads();
        let spec = EnsembleSpec {
            members: cfg.ensemble_size,
            in_dim: obs_dim + act_dim,
            out_dim: obs_dim + 1,
            hidden: cfg.hidden,
            num_layers: cfg.num_layers,
            logvar_bounds: cfg.logvar_bounds,
        };
        let mut init = TorchStream::new(derive_seed(seed, "pets-init"));
        let model = Ensemble::new(spec, device, &mut init);
        let opt = Adam::new(&model.vs, cfg.lr).with_l2(cfg.weight_decay);
        let mut elites: Vec<i64> = (0..cfg.ensemble_size as i64).collect();
        elites.truncate(cfg.num_elites);
        let state = PetsState {
            agent_steps: 0,
            retrains: 0,
            trained: false,
            normalizer: Normalizer::identity(obs_dim + act_dim),
            elites,
            rng: Rng::new(derive_seed(seed, "pets-train")),
            noise: TorchStream::new(derive_seed(seed, "pets-plan")),
            model_nll: f64::NAN,
            model_mse: f64::NAN,
            train_epochs: f64::NAN,
            elite_std: f64::NAN,
            plan_ms: f64::NAN,
        };
        let mut pets = Pets {
            plan: Tensor::zeros([cfg.horizon as i64, act_dim as i64], (Kind::Float, device)),
            eval: EvalSlots::default(),
            cfg,
            device,
            obs_dim,
            act_dim,
            model,
            opt,
            state,
            episode_steps: None,
        };
        pets.model.elites = pets.state.elites.clone();
        Ok(pets)
    }

    /// The configuration.
    pub fn config(&self) -> &PetsConfig {
        &self.cfg
    }

    /// One retrain on the whole buffer: normaliser, bootstrap, epochs.
    pub fn retrain(&mut self, buffer: &ReplayBuffer) -> Result<(), AgentError> {
        let data = buffer.transitions();
        let n = data.reward.len();
        if n == 0 {
            return Ok(());
        }
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut inputs = Vec::with_capacity(n * (o + a));
        let mut targets = Vec::with_capacity(n * (o + 1));
        for i in 0..n {
            let obs = &data.obs[i * o..(i + 1) * o];
            inputs.extend(obs.iter().map(|&v| f64::from(v)));
            inputs.extend(
                data.action[i * a..(i + 1) * a]
                    .iter()
                    .map(|&v| f64::from(v)),
            );
            let next = &data.next_obs[i * o..(i + 1) * o];
            targets.extend(next.iter().zip(obs).map(|(n, o)| n - o));
            targets.push(data.reward[i]);
        }
        self.state.normalizer = Normalizer::fit(&inputs, o + a);
        let x = Tensor::from_slice(&inputs)
            .view([n as i64, (o + a) as i64])
            .to(self.device);
        let x = self.state.normalizer.apply(&x);
        let y = Tensor::from_slice(&targets)
            .view([n as i64, (o + 1) as i64])
            .to(self.device);
        let report = self.model.train(
            &x,
            &y,
            &self.cfg.schedule(),
            &mut self.opt,
            &mut self.state.rng,
        );
        self.state.elites = self.model.elites.clone();
        self.state.retrains += 1;
        self.state.trained = true;
        self.state.model_nll = report.nll;
        self.state.model_mse = report.mse;
        self.state.train_epochs = report.epochs as f64;
        Ok(())
    }
}

impl NamedAgent for Pets {
    type Config = PetsConfig;

    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: PetsConfig = parse_config("pets", init.config)?;
        let pets = Self::with_config(
            cfg,
            init.spec.obs_dim(),
            init.spec.action_dim(),
            init.device,
            init.seed,
        )?;
        Ok(Pets {
            episode_steps: init.spec.max_episode_steps,
            ..pets
        })
    }
}

impl Agent for Pets {
    fn begin_episode(&mut self, mode: Mode, seed: u64) {
        match mode {
            Mode::Explore => {
                let _ = self.plan.zero_();
            }
            Mode::Eval(slot) => self.eval.begin(
                slot,
                EvalPlan {
                    plan: self.plan.zeros_like(),
                    noise: TorchStream::new(derive_seed(seed, "pets-plan")),
                },
            ),
        }
    }

    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        if obs.len() != self.obs_dim {
            return Err(AgentError::Other(format!(
                "pets: expected {} observation values, got {}",
                self.obs_dim,
                obs.len()
            )));
        }
        let start = Instant::now();
        let spec = self.cfg.cem();
        let (act_dim, out_dim, device) = (self.act_dim, self.obs_dim + 1, self.device);
        // The episode's warm start and noise stream.
        let (warm, stream) = match mode {
            Mode::Explore => (&mut self.plan, &mut self.state.noise),
            Mode::Eval(slot) => {
                let e = self.eval.get_mut("pets", slot)?;
                (&mut e.plan, &mut e.noise)
            }
        };
        let noise = stream.draw(|| PlanNoise::draw(&spec, act_dim, out_dim, device));
        let obs_t = Tensor::from_slice(obs).to(self.device);
        let plan = cem::plan(
            &self.model,
            &self.state.normalizer,
            &obs_t,
            warm,
            &spec,
            &noise,
        );
        let first = plan.solution.select(0, 0).clamp(-1.0, 1.0);
        let action = Vec::<f32>::try_from(first.to(Device::Cpu))?;
        // Warm start: shift by one step, 0 at the end.
        let h = self.cfg.horizon as i64;
        *warm = Tensor::cat(
            &[
                plan.solution.narrow(0, 1, h - 1),
                Tensor::zeros([1, act_dim as i64], (Kind::Float, device)),
            ],
            0,
        );
        if mode != Mode::Explore {
            return Ok(action);
        }
        // train.csv's planner metrics describe training episodes.
        self.state.elite_std = plan.std.double_value(&[]);
        self.state.plan_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(action)
    }

    fn update(
        &mut self,
        buffer: &ReplayBuffer,
        _env_step: u64,
        episode_end: bool,
    ) -> Result<u64, AgentError> {
        self.state.agent_steps += 1;
        if buffer.is_empty() {
            return Ok(0);
        }
        let due = match self.cfg.train_every {
            0 => episode_end,
            k => self.state.agent_steps.is_multiple_of(k),
        };
        Ok(u64::from(due))
    }

    /// `n` retrains (each one `ModelTrainer.train` call).
    fn learn(&mut self, buffer: &ReplayBuffer, n: u64) -> Result<(), AgentError> {
        for _ in 0..n {
            self.retrain(buffer)?;
        }
        Ok(())
    }

    /// Retrains (each a full `ModelTrainer.train`) per agent step: one per
    /// episode or per `train_every` steps.
    fn updates_per_agent_step(&self) -> f64 {
        match (self.cfg.train_every, self.episode_steps) {
            (0, Some(n)) if n > 0 => 1.0 / n as f64,
            (0, _) => 0.0,
            (k, _) => 1.0 / k as f64,
        }
    }

    fn act_flops(&self) -> Option<f64> {
        // Rows through one member per decision, 2 FLOPs per weight.
        let c = &self.cfg;
        let (i, o, h) = (
            (self.obs_dim + self.act_dim) as f64,
            2.0 * (self.obs_dim + 1) as f64,
            c.hidden as f64,
        );
        let per_row = 2.0 * (i * h + (c.num_layers as f64 - 1.0) * h * h + h * o);
        let rows = (c.population * c.num_particles * c.horizon * c.iterations) as f64;
        Some(per_row * rows)
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        let s = &self.state;
        vec![
            ("model_retrains".into(), s.retrains as f64),
            ("model_nll".into(), s.model_nll),
            ("model_mse".into(), s.model_mse),
            ("model_epochs".into(), s.train_epochs),
            ("cem_elite_std".into(), s.elite_std),
            ("plan_ms".into(), s.plan_ms),
        ]
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        self.model.vs.save(dir.join("model.safetensors"))?;
        self.opt.save(&dir.join("model_opt.ot"))?;
        self.plan.save(dir.join("plan.ot"))?;
        save_json(dir, "pets.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        self.model.vs.load(dir.join("model.safetensors"))?;
        self.opt.load(&dir.join("model_opt.ot"))?;
        self.plan = Tensor::load(dir.join("plan.ot"))?.to(self.device);
        self.eval.clear();
        self.state = load_json(dir, "pets.json")?;
        self.model.elites = self.state.elites.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
