//! The data of a [`super::VecEnv`]: its environments and its row-major
//! buffers, shared by the threads that step it, and the per-environment rules
//! of a step (autoreset, evaluation mode, divergence).
//!
//! # Access discipline
//!
//! Every buffer is a [`Column`]: one row of cells per environment, in one
//! allocation, so that the caller hands actions to the threads and reads
//! their results with no copy and no lock. Two rules make this sound:
//!
//! * **During a run**, row `i` of every column is read and written only by
//!   the thread that claimed environment `i` for that run (each environment
//!   is claimed exactly once per run, see [`super::workers`]); the command
//!   is only read.
//! * **Between runs**, only the owner of the batch (the [`super::workers::Pool`],
//!   through `&self` to read and `&mut self` to write) touches the columns.
//!   A run is [`super::workers::Pool::run`], which takes `&mut self` and
//!   returns only when every thread has finished it; the release of a run
//!   and each thread's finish are synchronising atomic operations, so each
//!   side sees what the other wrote.
//!
//! A thread writes a row only when its value changes, except for the
//! observation and the transition, which every step produces: between the
//! threads' caches, a step then moves the action rows out and the
//! observation and transition rows back, and little else.

use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::env::{Env, Info, Transition};
use crate::error::{EnvError, PhysicsError};

use super::AutoReset;

/// What a run does to every environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Command {
    /// Step the environment with its action, handling an episode's end by
    /// the given mode.
    Step(AutoReset),
    /// Reset the environment; `Some(seed)` seeds environment `i` (its index
    /// in the batch) with `seed + i`.
    Reset(Option<u64>),
    /// Reset environment `i` with its own seed (row `i` of the seeds).
    ResetEach,
}

/// Why an environment's command did not complete.
#[derive(Debug)]
pub(super) enum Failure {
    /// The environment returned an error other than a divergence.
    Env(EnvError),
    /// The environment panicked; the message names its index.
    Panic(String),
}

impl Failure {
    /// Whether the failure is a panic.
    pub(super) fn is_panic(&self) -> bool {
        matches!(self, Failure::Panic(_))
    }

    /// The error `step` or `reset` returns for it.
    pub(super) fn into_error(self) -> EnvError {
        match self {
            Failure::Env(e) => e,
            Failure::Panic(message) => EnvError::Panicked(message),
        }
    }
}

/// `width` cells per environment in one row-major allocation, accessed by
/// the discipline of the [module documentation](self).
pub(super) struct Column<T> {
    cells: Box<[UnsafeCell<T>]>,
    width: usize,
}

// SAFETY: the cells are only reached through `row_mut` and `all`, whose
// contracts (the module's access discipline) give each row one thread at a
// time, or only readers; values move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Column<T> {}

impl<T> Column<T> {
    /// `n` rows of `width` cells, each made by `fill`.
    fn new(n: usize, width: usize, mut fill: impl FnMut() -> T) -> Self {
        Column {
            cells: (0..n * width).map(|_| UnsafeCell::new(fill())).collect(),
            width,
        }
    }

    /// Row `i`, writable.
    ///
    /// # Safety
    /// The calling thread holds environment `i`'s claim in the current run,
    /// or no run is in progress and the caller is the batch's owner acting
    /// through `&mut self`; either way nothing else reaches the row while the
    /// returned slice lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row_mut(&self, i: usize) -> &mut [T] {
        let row = &self.cells[i * self.width..(i + 1) * self.width];
        // SAFETY: `UnsafeCell<T>` has the layout of `T`, the row's cells are
        // consecutive, and the caller guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(UnsafeCell::raw_get(row.as_ptr()), self.width) }
    }

    /// Every row, read-only.
    ///
    /// # Safety
    /// Nothing writes the column while the slice lives: no run is in progress
    /// and none starts (the batch's owner reads through `&self`, a run needs
    /// `&mut self`), or the column is one that a run only reads.
    unsafe fn all(&self) -> &[T] {
        // SAFETY: as in `row_mut`, with only readers.
        unsafe {
            std::slice::from_raw_parts(UnsafeCell::raw_get(self.cells.as_ptr()), self.cells.len())
        }
    }
}

/// The environments of a batch and its buffers.
pub(super) struct Batch {
    envs: Column<Box<dyn Env>>,
    /// The seed of each environment's next [`Command::ResetEach`].
    seeds: Column<u64>,
    /// The actions of the next step, `n × action_dim`.
    actions: Column<f64>,
    /// The current observations, `n × obs_dim`.
    obs: Column<f64>,
    /// The last observation of each environment's latest ended episode.
    final_obs: Column<f64>,
    /// The transition of each environment's latest step.
    transitions: Column<Transition>,
    /// Whether each environment's episode ended without autoreset.
    finished: Column<bool>,
    /// The divergence that ended each environment's episode, as reported by
    /// its latest step.
    physics_errors: Column<Option<PhysicsError>>,
    /// Why each environment's latest command did not complete.
    failures: Column<Option<Failure>>,
    /// Whether any environment recorded a failure since the last collection.
    failed: AtomicBool,
    /// The command of the current run (one cell).
    command: Column<Command>,
}

impl Batch {
    /// A batch of `envs` with observations of `obs_dim` and actions of
    /// `action_dim` values.
    pub(super) fn new(envs: Vec<Box<dyn Env>>, obs_dim: usize, action_dim: usize) -> Self {
        let n = envs.len();
        let mut envs = envs.into_iter();
        Batch {
            envs: Column::new(n, 1, || envs.next().expect("one environment per row")),
            seeds: Column::new(n, 1, || 0),
            actions: Column::new(n, action_dim, || 0.0),
            obs: Column::new(n, obs_dim, || 0.0),
            final_obs: Column::new(n, obs_dim, || 0.0),
            transitions: Column::new(n, 1, idle_transition),
            finished: Column::new(n, 1, || false),
            physics_errors: Column::new(n, 1, || None),
            failures: Column::new(n, 1, || None),
            failed: AtomicBool::new(false),
            command: Column::new(1, 1, || Command::Reset(None)),
        }
    }

    /// Number of environments.
    pub(super) fn len(&self) -> usize {
        self.finished.cells.len()
    }

    /// Sets the command of the next run and, through `action_of`, the
    /// action row of every environment when it is a step.
    ///
    /// # Safety
    /// No run is in progress (the owner acts through `&mut self`).
    pub(super) unsafe fn prepare<'a>(
        &self,
        command: Command,
        action_of: Option<&dyn Fn(usize) -> &'a [f64]>,
    ) {
        // SAFETY: no run is in progress (the caller's contract).
        unsafe {
            // Written only when it changes, so that a run of steps leaves
            // the command's cache line shared by every thread.
            let current = &mut self.command.row_mut(0)[0];
            if *current != command {
                *current = command;
            }
            if let Some(action_of) = action_of {
                for i in 0..self.len() {
                    self.actions.row_mut(i).copy_from_slice(action_of(i));
                }
            }
        }
    }

    /// Sets every environment's seed for [`Command::ResetEach`].
    ///
    /// # Safety
    /// No run is in progress (the owner acts through `&mut self`).
    pub(super) unsafe fn set_seeds(&self, seeds: &[u64]) {
        for (i, &seed) in seeds.iter().enumerate() {
            // SAFETY: no run is in progress (the caller's contract).
            unsafe { self.seeds.row_mut(i)[0] = seed };
        }
    }

    /// Runs the current command on environment `i`, recording an error or a
    /// panic at its index.
    ///
    /// # Safety
    /// The calling thread holds environment `i`'s claim in the current run.
    pub(super) unsafe fn execute(&self, i: usize) {
        // SAFETY: the command is only read during a run, and the calling
        // thread holds row `i` of every column (the caller's contract).
        let (command, mut row, failure) = unsafe {
            let row = Row {
                env: &mut self.envs.row_mut(i)[0],
                seed: self.seeds.row_mut(i)[0],
                action: self.actions.row_mut(i),
                obs: self.obs.row_mut(i),
                final_obs: self.final_obs.row_mut(i),
                transition: &mut self.transitions.row_mut(i)[0],
                finished: &mut self.finished.row_mut(i)[0],
                physics_error: &mut self.physics_errors.row_mut(i)[0],
            };
            (
                *self.command.all().first().expect("one command"),
                row,
                &mut self.failures.row_mut(i)[0],
            )
        };
        let recorded = match panic::catch_unwind(AssertUnwindSafe(|| row.execute(command, i))) {
            Ok(Ok(())) => return,
            Ok(Err(e)) => Failure::Env(e),
            Err(payload) => {
                Failure::Panic(format!("environment {i}: {}", panic_message(&*payload)))
            }
        };
        *failure = Some(recorded);
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Takes the failures recorded since the last call: the first panic if
    /// any environment panicked, else the failure of the lowest-indexed
    /// failing environment.
    ///
    /// # Safety
    /// No run is in progress (the owner acts through `&mut self`).
    pub(super) unsafe fn take_failure(&self) -> Option<Failure> {
        // A look before the swap, so that the flag's cache line (beside the
        // columns' addresses, which every thread reads) stays shared.
        if !self.failed.load(Ordering::Relaxed) || !self.failed.swap(false, Ordering::Relaxed) {
            return None;
        }
        // SAFETY: no run is in progress (the caller's contract).
        let mut failures: Vec<Failure> = (0..self.len())
            .filter_map(|i| unsafe { self.failures.row_mut(i)[0].take() })
            .collect();
        let first = failures.iter().position(Failure::is_panic).unwrap_or(0);
        (!failures.is_empty()).then(|| failures.swap_remove(first))
    }

    /// What the latest command left in the buffers.
    ///
    /// # Safety
    /// No run is in progress and none starts while the view lives (the
    /// owner reads through `&self`, a run needs `&mut self`).
    pub(super) unsafe fn results(&self) -> Results<'_> {
        // SAFETY: the caller's contract is that of `Column::all`.
        unsafe {
            Results {
                obs: self.obs.all(),
                final_obs: self.final_obs.all(),
                transitions: self.transitions.all(),
                finished: self.finished.all(),
                physics_errors: self.physics_errors.all(),
            }
        }
    }
}

/// The buffers of a batch as the latest command left them (see
/// [`super::VecEnv`]'s accessors of the same names).
pub(super) struct Results<'a> {
    pub(super) obs: &'a [f64],
    pub(super) final_obs: &'a [f64],
    pub(super) transitions: &'a [Transition],
    pub(super) finished: &'a [bool],
    pub(super) physics_errors: &'a [Option<PhysicsError>],
}

/// One environment's rows of the batch, held by the thread that claimed it.
struct Row<'a> {
    env: &'a mut Box<dyn Env>,
    seed: u64,
    action: &'a [f64],
    obs: &'a mut [f64],
    final_obs: &'a mut [f64],
    transition: &'a mut Transition,
    finished: &'a mut bool,
    physics_error: &'a mut Option<PhysicsError>,
}

impl Row<'_> {
    /// Executes `command` on environment `index`.
    fn execute(&mut self, command: Command, index: usize) -> Result<(), EnvError> {
        match command {
            Command::Step(mode) => self.step(mode),
            Command::Reset(seed) => self.reset(seed.map(|s| s.wrapping_add(index as u64))),
            Command::ResetEach => self.reset(Some(self.seed)),
        }
    }

    /// Steps the environment. A finished environment is left as it is and
    /// reports its ending again with reward 0; a divergence ends the episode
    /// as a truncation.
    fn step(&mut self, mode: AutoReset) -> Result<(), EnvError> {
        if *self.finished {
            self.transition.reward = 0.0;
            return Ok(());
        }
        self.clear_physics_error();
        *self.transition = match self.env.step_into(self.action, self.obs) {
            Ok(t) => t,
            Err(EnvError::Physics(e)) => {
                *self.physics_error = Some(e);
                diverged_transition()
            }
            Err(e) => return Err(e),
        };
        if self.transition.done() {
            self.final_obs.copy_from_slice(self.obs);
            match mode {
                AutoReset::On => {
                    self.env.reset_into(None, self.obs)?;
                }
                AutoReset::Off => *self.finished = true,
            }
        }
        Ok(())
    }

    /// Resets the environment, with `seed` when one is given.
    fn reset(&mut self, seed: Option<u64>) -> Result<(), EnvError> {
        self.env.reset_into(seed, self.obs)?;
        *self.transition = idle_transition();
        if *self.finished {
            *self.finished = false;
        }
        self.clear_physics_error();
        Ok(())
    }

    /// Clears the recorded divergence, writing only when there is one.
    fn clear_physics_error(&mut self) {
        if self.physics_error.is_some() {
            *self.physics_error = None;
        }
    }
}

/// The transition reported before the first step of an episode.
fn idle_transition() -> Transition {
    Transition {
        reward: 0.0,
        terminated: false,
        truncated: false,
        info: Info::default(),
    }
}

/// The transition of a step whose physics diverged: the episode is cut
/// (truncated, not terminal) with reward 0.
fn diverged_transition() -> Transition {
    Transition {
        truncated: true,
        ..idle_transition()
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}
