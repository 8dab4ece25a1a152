//! N environments of one task stepped in parallel by persistent threads.
//!
//! # Contract
//!
//! * **Layout.** Observations live in one row-major `n × obs_dim` buffer
//!   ([`VecEnv::obs`]); actions are given as one row-major `n × action_dim`
//!   slice ([`VecEnv::step`]) or as one row per environment
//!   ([`VecEnv::step_rows`]).
//! * **Same results as single environments, whatever the thread count.**
//!   After `reset(Some(seed))`, environment `i` is seeded with `seed + i` (as
//!   Gymnasium's vector environments do) and receives exactly the calls a
//!   single environment stepped on its own would: observations, rewards,
//!   flags, infos and final observations are bitwise those of N single
//!   environments, and identical for 1 or K threads.
//! * **Training mode ([`AutoReset::On`], the default).** Gymnasium's
//!   same-step autoreset: when an episode ends, the environment is reset in
//!   the same `step` call; its row of [`VecEnv::obs`] holds the first
//!   observation of the next episode, and the last observation of the
//!   finished one is in its row of [`VecEnv::final_obs`].
//! * **Evaluation mode ([`AutoReset::Off`]).** An environment whose episode
//!   ends stays finished until the next [`VecEnv::reset`]: it is marked in
//!   [`VecEnv::finished`], its observation row stays the episode's last (also
//!   copied to `final_obs`), its physics is not stepped, its action is
//!   ignored (not even checked beyond its width), and every later step
//!   reports its ending again with reward 0 (the same flags and info).
//! * **Divergence.** When an environment's simulation diverges
//!   ([`EnvError::Physics`]), its episode ends as a truncation with reward 0
//!   and the error is reported at its index in [`VecEnv::physics_errors`];
//!   the observation row keeps the last observation the environment wrote
//!   (copied to `final_obs`). It is then reset (training) or finished
//!   (evaluation) like any other ending, and the other environments are
//!   unaffected.
//! * **Bad input.** An action slice of the wrong length, a row of the wrong
//!   width or a non-finite value in a running environment's action is an
//!   [`EnvError::Invalid`] naming the environment (`"environment 3: ..."`),
//!   and nothing is stepped.
//! * **Other errors.** Any other error of an environment (e.g.
//!   [`EnvError::NeedsReset`] before the first reset) is returned by `step`
//!   or `reset` as it is, the one of the lowest-indexed failing environment;
//!   the batch must then be reset.
//! * **Panics.** A panic inside an environment, on any thread, becomes an
//!   [`EnvError::Panicked`] naming the environment; the batch then refuses
//!   every call with that error (drop it and build a new one).
//!
//! # Threading model
//!
//! With `threads = K` (at most one per environment) the environments are
//! split into K contiguous home slices whose sizes differ by at most one.
//! The calling thread steps the first slice itself and K − 1 worker threads,
//! spawned once by the constructor, step the others. A thread that has
//! stepped its own slice goes on with the environments other threads have
//! not yet claimed, so a slower thread is helped rather than waited for,
//! while an environment stays on its home thread (and in its cache) whenever
//! the threads keep pace. The caller works rather than only waits because a
//! waiting caller beside K spinning workers would put K + 1 busy threads on
//! K cores: on a 2-core machine, two workers plus the caller thrash.
//!
//! The batch's buffers (actions, observations, final observations,
//! transitions, flags, errors) are row-major arrays shared by the threads
//! without locks: during a step, the thread that claimed environment `i`
//! (exactly one) alone touches row `i`; between steps, only the batch's
//! owner does. One `step` writes the action rows, releases the workers by
//! bumping a generation counter, steps environments until none is left
//! unclaimed and waits for a remaining-count to reach zero; the observations
//! and transitions are then read where the threads wrote them, with no copy.
//! A thread writes the rows that a step may leave unchanged (final
//! observations, flags, errors, failures) only when they change, so the
//! data that moves between the cores' caches in a step is the action,
//! observation and transition rows and the barrier's counters. Waiting
//! threads (idle workers and the caller) spin briefly, then park, so a batch
//! between steps costs no CPU; a thread is unparked only when it announced
//! that it parks, so a step whose threads are spinning makes no system call.
//! Nothing is stepped in the background: every environment moves only
//! inside `step` and `reset`. Dropping the batch stops and joins its
//! workers.

mod batch;
mod workers;

#[cfg(test)]
mod tests;

use crate::env::{Env, EnvSpec, Transition, check_action};
use crate::error::{EnvError, PhysicsError};

use batch::{Batch, Command, Failure};
use workers::Pool;

/// What happens to an environment whose episode ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoReset {
    /// Reset it in the same step (training; Gymnasium's same-step autoreset).
    #[default]
    On,
    /// Leave it finished until the next [`VecEnv::reset`] (evaluation).
    Off,
}

/// A batch of environments of the same task, stepped in parallel (see the
/// [module documentation](crate::vec_env) for the guarantees and the threading model).
pub struct VecEnv {
    spec: EnvSpec,
    autoreset: AutoReset,
    /// The panic that made the batch unusable, if one did.
    broken: Option<String>,
    pool: Pool,
}

impl VecEnv {
    /// Batches `envs` (at least one, all with the same spaces), stepped by
    /// `threads` threads counting the caller's: `threads - 1` worker threads
    /// are spawned (none for 0 or 1), at most one thread per environment.
    /// Training mode ([`AutoReset::On`]).
    pub fn new(envs: Vec<Box<dyn Env>>, threads: usize) -> Result<Self, EnvError> {
        let spec = shared_spec(&envs)?;
        let batch = Batch::new(envs, spec.obs_dim(), spec.action_dim());
        let pool = Pool::new(batch, threads)
            .map_err(|e| EnvError::Invalid(format!("cannot start a VecEnv worker thread: {e}")))?;
        Ok(VecEnv {
            spec,
            autoreset: AutoReset::On,
            broken: None,
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
        self.pool.results().finished.len()
    }

    /// Whether the batch is empty (never: construction requires one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Threads that step the batch, the caller's included.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// The shared spec.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// What happens to environments whose episode ends.
    pub fn autoreset(&self) -> AutoReset {
        self.autoreset
    }

    /// Sets what happens to environments whose episode ends, from the next
    /// step on. Environments already finished stay finished until
    /// [`VecEnv::reset`], whatever the mode.
    pub fn set_autoreset(&mut self, autoreset: AutoReset) {
        self.autoreset = autoreset;
    }

    /// Current observations, `n × obs_dim`.
    pub fn obs(&self) -> &[f64] {
        self.pool.results().obs
    }

    /// Last observations of the episodes that ended, `n × obs_dim`: a row is
    /// current for an environment whose transition in the latest step is
    /// done, stale for the others.
    pub fn final_obs(&self) -> &[f64] {
        self.pool.results().final_obs
    }

    /// Transitions of the latest step (what [`VecEnv::step`] returned).
    pub fn transitions(&self) -> &[Transition] {
        self.pool.results().transitions
    }

    /// Which environments are finished (evaluation mode only: in training
    /// mode every ending is followed by a reset).
    pub fn finished(&self) -> &[bool] {
        self.pool.results().finished
    }

    /// Whether every environment is finished.
    pub fn all_finished(&self) -> bool {
        self.finished().iter().all(|&f| f)
    }

    /// For each environment, the divergence that ended its episode if the
    /// latest step reported that ending (in evaluation mode, a finished
    /// environment keeps reporting it until the next reset).
    pub fn physics_errors(&self) -> &[Option<PhysicsError>] {
        self.pool.results().physics_errors
    }

    /// Resets every environment; with `Some(seed)`, environment `i` is seeded
    /// with `seed + i` (as Gymnasium's vector environments do). Clears the
    /// finished flags and the physics errors.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<&[f64], EnvError> {
        self.run(Command::Reset(seed), None)?;
        Ok(self.obs())
    }

    /// Resets environment `i` with `seeds[i]` (one seed per environment:
    /// evaluation episodes keep the seeds they would have on their own).
    /// Clears the finished flags and the physics errors.
    pub fn reset_each(&mut self, seeds: &[u64]) -> Result<&[f64], EnvError> {
        if seeds.len() != self.len() {
            return Err(EnvError::Invalid(format!(
                "{} seeds given for {} environments",
                seeds.len(),
                self.len()
            )));
        }
        self.pool.set_seeds(seeds);
        self.run(Command::ResetEach, None)?;
        Ok(self.obs())
    }

    /// Steps every environment with its row of `actions` (`n × action_dim`,
    /// row-major). Episode ends are handled by the autoreset mode (see the
    /// module documentation).
    pub fn step(&mut self, actions: &[f64]) -> Result<&[Transition], EnvError> {
        let (n, a) = (self.len(), self.spec.action_dim());
        if actions.len() != n * a {
            return Err(EnvError::Invalid(format!(
                "actions have {} values but {n} environments of {a} action values need {}",
                actions.len(),
                n * a
            )));
        }
        self.step_with(&|i: usize| &actions[i * a..(i + 1) * a])
    }

    /// [`VecEnv::step`] with one action row per environment.
    pub fn step_rows<R: AsRef<[f64]>>(&mut self, actions: &[R]) -> Result<&[Transition], EnvError> {
        if actions.len() != self.len() {
            return Err(EnvError::Invalid(format!(
                "{} action rows given for {} environments",
                actions.len(),
                self.len()
            )));
        }
        self.step_with(&|i: usize| actions[i].as_ref())
    }

    /// Checks every action, hands them to the environments and steps.
    fn step_with<'a>(
        &mut self,
        action_of: &impl Fn(usize) -> &'a [f64],
    ) -> Result<&[Transition], EnvError> {
        self.check_actions(action_of)?;
        self.run(Command::Step(self.autoreset), Some(action_of))?;
        Ok(self.transitions())
    }

    /// Checks each environment's action: its width always, its values when
    /// the environment is running.
    fn check_actions<'a>(&self, action_of: &impl Fn(usize) -> &'a [f64]) -> Result<(), EnvError> {
        let a = self.spec.action_dim();
        for (i, &finished) in self.finished().iter().enumerate() {
            let action = action_of(i);
            if finished && action.len() == a {
                continue;
            }
            check_action(&self.spec, action)
                .map_err(|e| EnvError::Invalid(format!("environment {i}: {e}")))?;
        }
        Ok(())
    }

    /// Runs `command` on every environment, with the actions of `action_of`
    /// for a step; a panic makes the batch unusable.
    fn run<'a>(
        &mut self,
        command: Command,
        action_of: Option<&dyn Fn(usize) -> &'a [f64]>,
    ) -> Result<(), EnvError> {
        if let Some(message) = &self.broken {
            return Err(EnvError::Panicked(message.clone()));
        }
        let outcome = self.pool.run(command, action_of);
        if let Err(Failure::Panic(message)) = &outcome {
            self.broken = Some(message.clone());
        }
        outcome.map_err(Failure::into_error)
    }
}

/// The spec of `envs`, which must be non-empty and share their spaces.
fn shared_spec(envs: &[Box<dyn Env>]) -> Result<EnvSpec, EnvError> {
    let first = envs
        .first()
        .ok_or_else(|| EnvError::Invalid("a VecEnv needs at least one environment".into()))?;
    let spec = first.spec().clone();
    if let Some(i) = envs.iter().position(|e| {
        e.spec().obs_dim() != spec.obs_dim() || e.spec().action_dim() != spec.action_dim()
    }) {
        return Err(EnvError::Invalid(format!(
            "VecEnv environments must share their spaces: environment {i} differs from environment 0"
        )));
    }
    Ok(spec)
}
