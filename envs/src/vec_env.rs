//! N environments stepped in parallel with rayon, with automatic reset.

use rayon::prelude::*;

use crate::env::{Env, EnvSpec, Transition};
use crate::error::EnvError;

/// A batch of environments of the same task, stepped in parallel.
///
/// Observations live in one row-major `n × obs_dim` buffer. When an episode
/// ends, the environment is reset in the same `step` call: its row holds the
/// first observation of the next episode, and the last observation of the
/// finished one is kept in [`VecEnv::final_obs`] (Gymnasium's same-step
/// autoreset).
pub struct VecEnv {
    envs: Vec<Box<dyn Env>>,
    spec: EnvSpec,
    obs: Vec<f64>,
    final_obs: Vec<f64>,
    transitions: Vec<Transition>,
    pool: Option<rayon::ThreadPool>,
}

impl VecEnv {
    /// Batches `envs` (all with the same spaces), stepped by `threads`
    /// worker threads; with one thread they are stepped in order on the
    /// calling thread.
    pub fn new(envs: Vec<Box<dyn Env>>, threads: usize) -> Result<Self, EnvError> {
        let first = envs
            .first()
            .ok_or_else(|| EnvError::Invalid("a VecEnv needs at least one environment".into()))?;
        let spec = first.spec().clone();
        if envs.iter().any(|e| {
            e.spec().obs_dim() != spec.obs_dim() || e.spec().action_dim() != spec.action_dim()
        }) {
            return Err(EnvError::Invalid(
                "VecEnv environments must share their spaces".into(),
            ));
        }
        let pool = match threads {
            0 | 1 => None,
            t => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .map_err(|e| EnvError::Invalid(format!("thread pool: {e}")))?,
            ),
        };
        let n = envs.len();
        Ok(VecEnv {
            obs: vec![0.0; n * spec.obs_dim()],
            final_obs: vec![0.0; n * spec.obs_dim()],
            transitions: vec![
                Transition {
                    reward: 0.0,
                    terminated: false,
                    truncated: false,
                    info: Default::default(),
                };
                n
            ],
            envs,
            spec,
            pool,
        })
    }

    /// `n` copies of a task built by `make(i)`.
    pub fn from_fn(
        n: usize,
        threads: usize,
        make: impl Fn(usize) -> Result<Box<dyn Env>, EnvError>,
    ) -> Result<Self, EnvError> {
        let envs = (0..n).map(make).collect::<Result<Vec<_>, _>>()?;
        Self::new(envs, threads)
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether the batch is empty (never: construction requires one).
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// The shared spec.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Current observations, `n × obs_dim`.
    pub fn obs(&self) -> &[f64] {
        &self.obs
    }

    /// Last observations of the episodes that ended in the latest step (rows
    /// of other environments are stale).
    pub fn final_obs(&self) -> &[f64] {
        &self.final_obs
    }

    /// Resets every environment; with `Some(seed)`, environment `i` is seeded
    /// with `seed + i` (as Gymnasium's vector environments do).
    pub fn reset(&mut self, seed: Option<u64>) -> Result<&[f64], EnvError> {
        let d = self.spec.obs_dim();
        let reset_one = |(i, (env, o)): (usize, (&mut Box<dyn Env>, &mut [f64]))| {
            env.reset_into(seed.map(|s| s.wrapping_add(i as u64)), o)
                .map(|_| ())
        };
        let (envs, obs) = (&mut self.envs, &mut self.obs);
        match &self.pool {
            Some(p) => p.install(|| {
                envs.par_iter_mut()
                    .zip(obs.par_chunks_mut(d))
                    .enumerate()
                    .try_for_each(reset_one)
            })?,
            None => envs
                .iter_mut()
                .zip(obs.chunks_mut(d))
                .enumerate()
                .try_for_each(reset_one)?,
        }
        Ok(&self.obs)
    }

    /// Steps every environment with its row of `actions` (`n × action_dim`).
    /// Finished episodes are reset (see the type's documentation).
    pub fn step(&mut self, actions: &[f64]) -> Result<&[Transition], EnvError> {
        let (d, a) = (self.spec.obs_dim(), self.spec.action_dim());
        if actions.len() != self.envs.len() * a {
            return Err(EnvError::ActionSize {
                expected: self.envs.len() * a,
                got: actions.len(),
            });
        }
        type Slot<'a> = (
            (
                ((&'a mut Box<dyn Env>, &'a mut [f64]), &'a mut [f64]),
                &'a mut Transition,
            ),
            &'a [f64],
        );
        let step_one = |((((env, o), f), t), act): Slot<'_>| {
            *t = env.step_into(act, o)?;
            if t.done() {
                f.copy_from_slice(o);
                env.reset_into(None, o)?;
            }
            Ok::<(), EnvError>(())
        };
        let (envs, obs, fin, tr) = (
            &mut self.envs,
            &mut self.obs,
            &mut self.final_obs,
            &mut self.transitions,
        );
        match &self.pool {
            Some(p) => p.install(|| {
                envs.par_iter_mut()
                    .zip(obs.par_chunks_mut(d))
                    .zip(fin.par_chunks_mut(d))
                    .zip(tr.par_iter_mut())
                    .zip(actions.par_chunks(a))
                    .try_for_each(step_one)
            })?,
            None => envs
                .iter_mut()
                .zip(obs.chunks_mut(d))
                .zip(fin.chunks_mut(d))
                .zip(tr.iter_mut())
                .zip(actions.chunks(a))
                .try_for_each(step_one)?,
        }
        Ok(&self.transitions)
    }
}
