//! The persistent worker threads of a [`super::VecEnv`], the barrier that
//! releases them once per command, and the claiming of environments.
//!
//! A [`Pool`] holds a [`Batch`] of environments and K threads: the calling
//! thread and K − 1 worker threads, spawned once. Each thread has a home
//! slice of consecutive environments (sizes differing by at most one). On a
//! command, every thread claims its home environments in order from its
//! slice's cursor and runs them; a thread whose slice is exhausted then
//! claims what is left of the other slices, so a thread that falls behind (a
//! costlier step, a descheduled core) is helped instead of waited for. An
//! environment is claimed exactly once per command (one `fetch_add` on its
//! slice's cursor) and otherwise stays with its home thread, so its
//! simulation data stays in that core's cache. Each thread rewinds its own
//! cursor when it starts a command (a cursor left by the previous command is
//! exhausted, so a helper that looks at it before the rewind finds nothing
//! to claim), and the caller touches no other thread's cursor but to help.
//!
//! Workers wait for the barrier's generation counter to move, claim and run
//! environments, and count themselves off on the remaining counter. Waiting
//! spins for [`SPIN`] and then parks the thread, so an idle batch costs no
//! CPU. A thread announces that it parks before its last look at the
//! condition, and the other side unparks it only when announced (both sides
//! sequentially consistent, so one of them sees the other's write): a step
//! whose threads are all spinning touches no lock and makes no system call.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use super::batch::{Batch, Command, Failure, Results};

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

/// The barrier shared by the caller and the workers, on cache lines of its
/// own: its counters change every command, and the batch's addresses, which
/// every claim reads, must not share a line with them.
#[repr(align(128))]
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
    /// The next environment index to hand out; at or past `home.end` once
    /// exhausted, as it is between commands.
    next: AtomicUsize,
    /// The slice's environment indices.
    home: Range<usize>,
}

/// What the caller and the workers share: the batch, the cursors and the
/// barrier.
struct Shared {
    batch: Batch,
    cursors: Vec<Cursor>,
    control: Control,
}

impl Shared {
    /// Rewinds thread `home`'s cursor, then claims and runs environments
    /// until none is left: first its home slice, then the other slices in
    /// turn.
    fn run_claims(&self, home: usize) {
        let own = &self.cursors[home];
        own.next.store(own.home.start, Ordering::Relaxed);
        let k = self.cursors.len();
        for cursor in (home..k).chain(0..home).map(|t| &self.cursors[t]) {
            // A look before the `fetch_add`: an exhausted slice is left
            // without taking its cursor's cache line from its home thread.
            while cursor.next.load(Ordering::Relaxed) < cursor.home.end {
                let i = cursor.next.fetch_add(1, Ordering::Relaxed);
                if i >= cursor.home.end {
                    break;
                }
                // SAFETY: the `fetch_add` handed index `i` to this thread
                // alone for this command.
                unsafe { self.batch.execute(i) };
            }
        }
    }
}

/// A batch of environments and K threads, the first of which is the calling
/// thread and each other one a persistent worker thread.
pub(super) struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A pool over `batch` (at least one environment) run by `threads`
    /// threads (at least one, at most one per environment), spawning
    /// `threads - 1` workers.
    pub(super) fn new(batch: Batch, threads: usize) -> std::io::Result<Self> {
        assert!(batch.len() > 0, "a pool needs an environment");
        let k = threads.clamp(1, batch.len());
        let cursors = split_range(batch.len(), k)
            .map(|home| Cursor {
                next: AtomicUsize::new(home.end),
                home,
            })
            .collect();
        let mut pool = Pool {
            shared: Arc::new(Shared {
                batch,
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

    /// Threads that run the environments (the caller and the workers).
    pub(super) fn threads(&self) -> usize {
        self.shared.cursors.len()
    }

    /// What the latest command left in the batch's buffers.
    pub(super) fn results(&self) -> Results<'_> {
        // SAFETY: a run needs `&mut self`, so none is in progress or starts
        // while the view borrows `self`.
        unsafe { self.shared.batch.results() }
    }

    /// Sets every environment's seed for [`Command::ResetEach`].
    pub(super) fn set_seeds(&mut self, seeds: &[u64]) {
        // SAFETY: no run is in progress: runs happen inside `run`, which
        // needs `&mut self` and returns when every thread has finished.
        unsafe { self.shared.batch.set_seeds(seeds) }
    }

    /// Runs `command` on every environment, in parallel, after loading the
    /// actions given by `action_of` (a step's), and returns when all are
    /// done: the first panic if any environment panicked, else the error of
    /// the lowest-indexed failing environment.
    pub(super) fn run<'a>(
        &mut self,
        command: Command,
        action_of: Option<&dyn Fn(usize) -> &'a [f64]>,
    ) -> Result<(), Failure> {
        let batch = &self.shared.batch;
        // SAFETY (both calls): no run is in progress, as in `set_seeds`; the
        // workers are waiting for the release or have finished.
        unsafe { batch.prepare(command, action_of) };
        let parallel = !self.workers.is_empty();
        if parallel {
            self.release();
        }
        self.shared.run_claims(0);
        if parallel {
            self.shared.control.wait_for_workers();
        }
        match unsafe { batch.take_failure() } {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// Releases the workers for one command; the generation's sequentially
    /// consistent bump publishes the batch's command and actions written
    /// before it.
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
            // A worker catches its environments' panics, so joining cannot fail
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

/// A worker thread with home slice `home`: claims and runs environments once per
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

/// Locks `m`, ignoring poisoning: the lock guards only the waiting thread's
/// handle, which no panic leaves half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
