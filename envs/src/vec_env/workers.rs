//! The persistent worker threads of a [`super::VecEnv`] and the barrier that
//! releases them once per command.
//!
//! A [`Pool`] holds K shards. The calling thread runs shard 0 itself; each
//! other shard has one worker thread, spawned once, that waits for the
//! barrier's generation counter to move, runs its shard, and counts itself
//! off on the remaining counter. Waiting spins for [`SPIN`] and then parks
//! the thread, so an idle batch costs no CPU. A thread announces that it
//! parks before its last look at the condition, and the other side unparks
//! it only when announced (both sides sequentially consistent, so one of
//! them sees the other's write): a step whose threads are all spinning
//! touches no lock and makes no system call.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use super::shard::{Command, Failure, Shard};

/// How long a waiting thread spins before it parks: longer than the usual
/// gap between two steps of a batch (slices of a few environments finish a
/// step up to tens of microseconds apart, and waking a parked thread costs
/// as much on a virtual machine), short enough that an idle batch costs
/// nothing noticeable.
const SPIN: Duration = Duration::from_micros(200);

/// Spins until `ready` gives a value or [`SPIN`] has passed.
fn spin_until<T>(ready: impl Fn() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if let Some(v) = ready() {
                return Some(v);
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= SPIN {
            return None;
        }
    }
}

/// The barrier shared by the caller and the workers.
struct Control {
    /// Bumped by the caller to release the workers for one command.
    generation: AtomicU64,
    /// Workers that have not finished the current command.
    remaining: AtomicUsize,
    /// Set before the final release: the workers exit.
    stop: AtomicBool,
    /// Workers parked or about to park.
    workers_parked: AtomicUsize,
    /// The caller is parked or about to park, waiting for the workers.
    caller_parked: AtomicBool,
    /// The thread waiting for the workers (the latest caller to park).
    waiter: Mutex<Option<Thread>>,
}

impl Control {
    fn new() -> Self {
        Control {
            generation: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            workers_parked: AtomicUsize::new(0),
            caller_parked: AtomicBool::new(false),
            waiter: Mutex::new(None),
        }
    }

    /// Waits until the generation differs from `seen` and returns it.
    fn wait_for_release(&self, seen: u64) -> u64 {
        let released = || {
            let generation = self.generation.load(Ordering::Acquire);
            (generation != seen).then_some(generation)
        };
        if let Some(generation) = spin_until(released) {
            return generation;
        }
        self.workers_parked.fetch_add(1, Ordering::SeqCst);
        let generation = loop {
            let generation = self.generation.load(Ordering::SeqCst);
            if generation != seen {
                break generation;
            }
            thread::park();
        };
        self.workers_parked.fetch_sub(1, Ordering::SeqCst);
        generation
    }

    /// Bumps the generation, waking the workers that parked.
    fn release_workers(&self, workers: &[JoinHandle<()>]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if self.workers_parked.load(Ordering::SeqCst) > 0 {
            for worker in workers {
                worker.thread().unpark();
            }
        }
    }

    /// Counts a worker off; the last one wakes the waiting caller.
    fn finish_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1
            && self.caller_parked.load(Ordering::SeqCst)
            && let Some(waiter) = lock(&self.waiter).as_ref()
        {
            waiter.unpark();
        }
    }

    /// Waits until every worker has counted itself off.
    fn wait_for_workers(&self) {
        let done = || self.remaining.load(Ordering::Acquire) == 0;
        if spin_until(|| done().then_some(())).is_some() {
            return;
        }
        *lock(&self.waiter) = Some(thread::current());
        self.caller_parked.store(true, Ordering::SeqCst);
        while self.remaining.load(Ordering::SeqCst) != 0 {
            thread::park();
        }
        self.caller_parked.store(false, Ordering::SeqCst);
    }
}

/// K shards, the first run by the calling thread and each other one by its
/// own persistent worker thread.
pub(super) struct Pool {
    shards: Vec<Arc<Mutex<Shard>>>,
    workers: Vec<JoinHandle<()>>,
    control: Arc<Control>,
}

impl Pool {
    /// A pool over `shards` (at least one), spawning a worker thread for
    /// each shard after the first.
    pub(super) fn new(shards: Vec<Shard>) -> std::io::Result<Self> {
        assert!(!shards.is_empty(), "a pool needs a shard");
        let mut pool = Pool {
            shards: shards
                .into_iter()
                .map(|s| Arc::new(Mutex::new(s)))
                .collect(),
            workers: Vec::new(),
            control: Arc::new(Control::new()),
        };
        // On a failed spawn, dropping `pool` stops the workers spawned so far.
        for (k, shard) in pool.shards.iter().enumerate().skip(1) {
            let shard = Arc::clone(shard);
            let control = Arc::clone(&pool.control);
            let handle = thread::Builder::new()
                .name(format!("vec-env-{k}"))
                .spawn(move || work(&shard, &control))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Threads that run the shards (the caller and the workers).
    pub(super) fn threads(&self) -> usize {
        self.shards.len()
    }

    /// The shards in order, locked one at a time as the iterator advances.
    /// Call only between runs.
    pub(super) fn shards(&self) -> impl Iterator<Item = MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| lock(s))
    }

    /// Runs `command` on every shard, in parallel, and returns when all are
    /// done: the first panic if any environment panicked, else the first
    /// error in shard order.
    pub(super) fn run(&self, command: Command) -> Result<(), Failure> {
        for mut shard in self.shards() {
            shard.command = command;
        }
        let parallel = !self.workers.is_empty();
        if parallel {
            self.release();
        }
        execute(&self.shards[0]);
        if parallel {
            self.control.wait_for_workers();
        }
        let mut failures: Vec<Failure> =
            self.shards().filter_map(|mut s| s.failure.take()).collect();
        if failures.is_empty() {
            return Ok(());
        }
        let first = failures.iter().position(Failure::is_panic).unwrap_or(0);
        Err(failures.swap_remove(first))
    }

    /// Releases the workers for one command.
    fn release(&self) {
        let control = &self.control;
        control
            .remaining
            .store(self.workers.len(), Ordering::Relaxed);
        control.release_workers(&self.workers);
    }
}

impl Drop for Pool {
    /// Stops the workers and joins them.
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::Release);
        self.control.release_workers(&self.workers);
        for worker in self.workers.drain(..) {
            // A worker catches its shard's panics, so joining cannot fail
            // short of a bug in the barrier itself; nothing is left to do then.
            let _ = worker.join();
        }
    }
}

/// A worker thread: runs its shard once per release until stopped. The pool
/// is built at generation 0, so the first release is never missed.
fn work(shard: &Mutex<Shard>, control: &Control) {
    let mut seen = 0;
    loop {
        seen = control.wait_for_release(seen);
        if control.stop.load(Ordering::Acquire) {
            return;
        }
        execute(shard);
        control.finish_one();
    }
}

/// Executes a shard's command, recording an error or a panic in the shard.
fn execute(shard: &Mutex<Shard>) {
    let mut guard = lock(shard);
    let shard = &mut *guard;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| shard.execute()));
    shard.failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::Env(e)),
        Err(payload) => Some(Failure::Panic(
            shard.panic_context(&panic_message(&*payload)),
        )),
    };
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// Locks `m`, ignoring poisoning: a shard is only touched under
/// `catch_unwind`, so a poisoned lock holds no half-written state that the
/// failure report does not already cover.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
