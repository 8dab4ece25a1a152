//! The persistent worker threads of a [`super::VecEnv`], the barrier that
//! releases them once per command, and the claiming of environments.
//!
//! A [`Pool`] holds one [`Slot`] per environment and K threads: the calling
//! thread and K − 1 worker threads, spawned once. Each thread has a home
//! slice of consecutive slots (sizes differing by at most one). On a
//! command, every thread claims its home slots in order from its slice's
//! cursor and runs them; a thread whose slice is exhausted then claims what
//! is left of the other slices, so a thread that falls behind (a costlier
//! step, a descheduled core) is helped instead of waited for. A slot is
//! claimed exactly once per command (one `fetch_add` on its slice's cursor)
//! and otherwise stays with its home thread, so its simulation data stays in
//! that core's cache.
//!
//! Workers wait for the barrier's generation counter to move, claim and run
//! slots, and count themselves off on the remaining counter. Waiting spins
//! for [`SPIN`] and then parks the thread, so an idle batch costs no CPU. A
//! thread announces that it parks before its last look at the condition, and
//! the other side unparks it only when announced (both sides sequentially
//! consistent, so one of them sees the other's write): a step whose threads
//! are all spinning touches no lock and makes no system call.

use std::any::Any;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use super::slot::{Command, Failure, Slot};

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

/// A home slice's claim cursor, on its own cache line so that claiming in
/// one slice does not disturb the threads claiming in another.
#[repr(align(128))]
struct Cursor {
    /// The next slot index to hand out; past `home.end` once exhausted.
    next: AtomicUsize,
    /// The slice's slot indices.
    home: Range<usize>,
}

/// What the caller and the workers share: the slots, the cursors and the
/// barrier.
struct Shared {
    slots: Vec<Mutex<Slot>>,
    cursors: Vec<Cursor>,
    control: Control,
}

impl Shared {
    /// Claims and runs slots until none is left: first the home slice of
    /// thread `home`, then the other slices in turn.
    fn run_claims(&self, home: usize) {
        let k = self.cursors.len();
        for cursor in (home..k).chain(0..home).map(|t| &self.cursors[t]) {
            loop {
                let i = cursor.next.fetch_add(1, Ordering::Relaxed);
                if i >= cursor.home.end {
                    break;
                }
                execute(&self.slots[i]);
            }
        }
    }
}

/// One slot per environment and K threads, the first of which is the
/// calling thread and each other one a persistent worker thread.
pub(super) struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A pool over `slots` (at least one) run by `threads` threads (at
    /// least one, at most one per slot), spawning `threads - 1` workers.
    pub(super) fn new(slots: Vec<Slot>, threads: usize) -> std::io::Result<Self> {
        assert!(!slots.is_empty(), "a pool needs a slot");
        let k = threads.clamp(1, slots.len());
        let cursors = split_range(slots.len(), k)
            .map(|home| Cursor {
                next: AtomicUsize::new(home.start),
                home,
            })
            .collect();
        let mut pool = Pool {
            shared: Arc::new(Shared {
                slots: slots.into_iter().map(Mutex::new).collect(),
                cursors,
                control: Control::new(),
            }),
            workers: Vec::new(),
        };
        // On a failed spawn, dropping `pool` stops the workers spawned so far.
        for home in 1..k {
            let shared = Arc::clone(&pool.shared);
            let handle = thread::Builder::new()
                .name(format!("vec-env-{home}"))
                .spawn(move || work(&shared, home))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Threads that run the slots (the caller and the workers).
    pub(super) fn threads(&self) -> usize {
        self.shared.cursors.len()
    }

    /// The slots in order, locked one at a time as the iterator advances.
    /// Call only between runs.
    pub(super) fn slots(&self) -> impl Iterator<Item = MutexGuard<'_, Slot>> {
        self.shared.slots.iter().map(lock)
    }

    /// Runs `command` on every slot, in parallel, and returns when all are
    /// done: the first panic if any environment panicked, else the error of
    /// the lowest-indexed failing environment.
    pub(super) fn run(&self, command: Command) -> Result<(), Failure> {
        for mut slot in self.slots() {
            slot.command = command;
        }
        for cursor in &self.shared.cursors {
            cursor.next.store(cursor.home.start, Ordering::Relaxed);
        }
        let parallel = !self.workers.is_empty();
        if parallel {
            self.release();
        }
        self.shared.run_claims(0);
        if parallel {
            self.shared.control.wait_for_workers();
        }
        let mut failures: Vec<Failure> =
            self.slots().filter_map(|mut s| s.failure.take()).collect();
        if failures.is_empty() {
            return Ok(());
        }
        let first = failures.iter().position(Failure::is_panic).unwrap_or(0);
        Err(failures.swap_remove(first))
    }

    /// Releases the workers for one command; the generation's sequentially
    /// consistent bump publishes the cursors stored before it.
    fn release(&self) {
        let control = &self.shared.control;
        control
            .remaining
            .store(self.workers.len(), Ordering::Relaxed);
        control.release_workers(&self.workers);
    }
}

impl Drop for Pool {
    /// Stops the workers and joins them.
    fn drop(&mut self) {
        let control = &self.shared.control;
        control.stop.store(true, Ordering::Release);
        control.release_workers(&self.workers);
        for worker in self.workers.drain(..) {
            // A worker catches its slots' panics, so joining cannot fail
            // short of a bug in the barrier itself; nothing is left to do then.
            let _ = worker.join();
        }
    }
}

/// `0..n` as `parts` consecutive ranges whose sizes differ by at most one,
/// the longer ones first.
fn split_range(n: usize, parts: usize) -> impl Iterator<Item = Range<usize>> {
    let (base, extra) = (n / parts, n % parts);
    (0..parts).scan(0, move |start, k| {
        let range = *start..*start + base + usize::from(k < extra);
        *start = range.end;
        Some(range)
    })
}

/// A worker thread with home slice `home`: claims and runs slots once per
/// release until stopped. The pool is built at generation 0, so the first
/// release is never missed.
fn work(shared: &Shared, home: usize) {
    let control = &shared.control;
    let mut seen = 0;
    loop {
        seen = control.wait_for_release(seen);
        if control.stop.load(Ordering::Acquire) {
            return;
        }
        shared.run_claims(home);
        control.finish_one();
    }
}

/// Executes a slot's command, recording an error or a panic in the slot.
fn execute(slot: &Mutex<Slot>) {
    let mut guard = lock(slot);
    let slot = &mut *guard;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| slot.execute()));
    slot.failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Failure::Env(e)),
        Err(payload) => Some(Failure::Panic(format!(
            "environment {}: {}",
            slot.index,
            panic_message(&*payload)
        ))),
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

/// Locks `m`, ignoring poisoning: a slot is only touched under
/// `catch_unwind`, so a poisoned lock holds no half-written state that the
/// failure report does not already cover.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
