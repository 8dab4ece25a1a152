//! The replay buffer shared by all agents.
//!
//! Episode-aware ring buffer of **slots**. A slot holds one observation and,
//! unless it is the last observation of an episode, the transition taken from
//! it (action, reward, terminated, truncated). An episode of `T` transitions
//! occupies `T + 1` consecutive slots, so each observation is stored once: the
//! next observation of a transition is the next slot, and each episode adds one
//! slot for its final observation (0.2% of a 500-step DMC episode).
//!
//! Memory is the data itself: observations and actions as `f32`, reward as
//! `f32`, one flag byte — [`ReplayBuffer::bytes_per_transition`] bytes per
//! transition (humanoid: 67 + 21 floats ⇒ 357 bytes; 10M transitions ≈ 3.6 GB).
//! Storage grows with the data in small steps and ends exactly at `capacity`.
//!
//! When full, the oldest slot is overwritten and the episode bookkeeping
//! shrinks the oldest episode from its start, so samples never use a
//! half-overwritten episode. Sampling takes the caller's [`Rng`], so agents own
//! (and checkpoint) their sampling stream.
//!
//! ```
//! use agents::{ReplayBuffer, Rng};
//! let mut buf = ReplayBuffer::new(3, 1, 1000).unwrap();
//! buf.start_episode(&[0.0, 0.0, 0.0]);
//! for t in 0..10 {
//!     let next = [t as f32 + 1.0; 3];
//!     buf.push(&[0.5], 1.0, false, t == 9, &next).unwrap();
//! }
//! let mut rng = Rng::new(0);
//! let batch = buf.sample_nstep(4, 3, 0.99, &mut rng).unwrap();
//! assert_eq!(batch.obs.len(), 4 * 3);
//! let slices = buf.sample_slices(2, 5, &mut rng).unwrap(); // H = 5, never across episodes
//! assert_eq!(slices.obs.len(), 2 * 6 * 3);
//! ```

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::Path;

use crate::rng::Rng;

const HAS_ACTION: u8 = 1;
const TERMINATED: u8 = 2;
const TRUNCATED: u8 = 4;
const MAGIC: &[u8; 8] = b"CTRLBUF1";

/// Errors of the replay buffer.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    /// Not enough data for the request.
    #[error("replay buffer: {0}")]
    NotEnoughData(String),
    /// Wrong sizes or a push outside an episode.
    #[error("replay buffer: {0}")]
    Invalid(String),
    /// Reading or writing a saved buffer.
    #[error("replay buffer file {path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// The cause (in the message, not a separate source, so that it
        /// is printed once).
        cause: std::io::Error,
    },
}

/// One stored episode: `len` transitions starting at absolute slot `start`
/// (its final observation is slot `start + len`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Episode {
    start: u64,
    len: u64,
}

/// A batch of (n-step) transitions, batch-major and flat.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionBatch {
    /// Observations, `batch × obs_dim`.
    pub obs: Vec<f32>,
    /// Actions, `batch × action_dim`.
    pub action: Vec<f32>,
    /// n-step discounted reward sums `Σ_k γ^k r_{t+k}`, `batch`.
    pub reward: Vec<f32>,
    /// Observation to bootstrap from, `batch × obs_dim`.
    pub next_obs: Vec<f32>,
    /// Bootstrap factor `γ^m` (m = steps summed), 0 after a terminal state, `batch`.
    pub discount: Vec<f32>,
}

/// A batch of sub-trajectories of horizon `H`, batch-major and flat; a slice
/// never crosses an episode boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceBatch {
    /// Horizon `H` (transitions per slice).
    pub horizon: usize,
    /// Observations, `batch × (H + 1) × obs_dim`.
    pub obs: Vec<f32>,
    /// Actions, `batch × H × action_dim`.
    pub action: Vec<f32>,
    /// Rewards, `batch × H`.
    pub reward: Vec<f32>,
    /// 1.0 where the transition reached a terminal state, `batch × H`.
    pub terminated: Vec<f32>,
}

/// Episode-aware replay buffer (see the module docs).
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    obs_dim: usize,
    action_dim: usize,
    capacity: usize,
    obs: Vec<f32>,
    action: Vec<f32>,
    reward: Vec<f32>,
    flags: Vec<u8>,
    /// Slots written since creation; the next slot's absolute index.
    written: u64,
    /// Transitions currently stored.
    transitions: u64,
    /// Stored episodes, oldest first.
    episodes: VecDeque<Episode>,
    /// The newest episode is still running.
    in_episode: bool,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` slots (≈ transitions; each episode also
    /// uses one slot for its final observation). `capacity` ≥ 2.
    pub fn new(obs_dim: usize, action_dim: usize, capacity: usize) -> Result<Self, BufferError> {
        if capacity < 2 {
            return Err(BufferError::Invalid(format!(
                "capacity must be at least 2, got {capacity}"
            )));
        }
        Ok(ReplayBuffer {
            obs_dim,
            action_dim,
            capacity,
            obs: Vec::new(),
            action: Vec::new(),
            reward: Vec::new(),
            flags: Vec::new(),
            written: 0,
            transitions: 0,
            episodes: VecDeque::new(),
            in_episode: false,
        })
    }

    /// Observation size.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action size.
    pub fn action_dim(&self) -> usize {
        self.action_dim
    }

    /// Capacity in slots.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.transitions as usize
    }

    /// No transitions stored.
    pub fn is_empty(&self) -> bool {
        self.transitions == 0
    }

    /// Episodes (complete or running) with at least one stored slot.
    pub fn num_episodes(&self) -> usize {
        self.episodes.len()
    }

    /// Bytes of storage per transition: observation and action as f32, an f32
    /// reward and one flag byte.
    pub fn bytes_per_transition(&self) -> usize {
        Self::bytes_per_transition_for(self.obs_dim, self.action_dim)
    }

    /// [`Self::bytes_per_transition`] for given sizes.
    pub fn bytes_per_transition_for(obs_dim: usize, action_dim: usize) -> usize {
        4 * (obs_dim + action_dim) + 4 + 1
    }

    /// Bytes currently allocated by the buffer (data + episode index).
    pub fn memory_bytes(&self) -> usize {
        4 * (self.obs.capacity() + self.action.capacity() + self.reward.capacity())
            + self.flags.capacity()
            + self.episodes.capacity() * std::mem::size_of::<Episode>()
            + std::mem::size_of::<Self>()
    }

    fn oldest(&self) -> u64 {
        self.written.saturating_sub(self.capacity as u64)
    }

    fn phys(&self, abs: u64) -> usize {
        (abs % self.capacity as u64) as usize
    }

    fn obs_at(&self, abs: u64) -> &[f32] {
        let p = self.phys(abs) * self.obs_dim;
        &self.obs[p..p + self.obs_dim]
    }

    fn action_at(&self, abs: u64) -> &[f32] {
        let p = self.phys(abs) * self.action_dim;
        &self.action[p..p + self.action_dim]
    }

    fn flags_at(&self, abs: u64) -> u8 {
        self.flags[self.phys(abs)]
    }

    /// Writes an observation into a new slot, evicting the oldest when full.
    fn write_slot(&mut self, obs: &[f32]) -> u64 {
        let abs = self.written;
        if (abs as usize) < self.capacity {
            if self.flags.len() == self.flags.capacity() {
                // Grow in steps of 1/8 (≥ 4096 slots), never past capacity.
                let len = self.flags.len();
                let extra = (len / 8).max(4096).min(self.capacity - len);
                self.obs.reserve_exact(extra * self.obs_dim);
                self.action.reserve_exact(extra * self.action_dim);
                self.reward.reserve_exact(extra);
                self.flags.reserve_exact(extra);
            }
            self.obs.extend_from_slice(obs);
            self.action
                .extend(std::iter::repeat_n(0.0, self.action_dim));
            self.reward.push(0.0);
            self.flags.push(0);
        } else {
            let evicted = abs - self.capacity as u64;
            if let Some(front) = self.episodes.front_mut() {
                debug_assert_eq!(front.start, evicted);
                if front.len == 0 {
                    self.episodes.pop_front();
                } else {
                    front.start += 1;
                    front.len -= 1;
                    self.transitions -= 1;
                }
            }
            let p = self.phys(abs);
            self.obs[p * self.obs_dim..(p + 1) * self.obs_dim].copy_from_slice(obs);
            self.action[p * self.action_dim..(p + 1) * self.action_dim].fill(0.0);
            self.reward[p] = 0.0;
            self.flags[p] = 0;
        }
        self.written += 1;
        abs
    }

    /// Starts an episode with its first observation. A running episode is
    /// closed as it is (its samples bootstrap from its last observation).
    pub fn start_episode(&mut self, obs: &[f32]) {
        assert_eq!(obs.len(), self.obs_dim, "observation size");
        let start = self.write_slot(obs);
        self.episodes.push_back(Episode { start, len: 0 });
        self.in_episode = true;
    }

    /// Appends a transition of the running episode: the action taken from the
    /// last observation, its reward and flags, and the next observation.
    /// `terminated` or `truncated` ends the episode.
    pub fn push(
        &mut self,
        action: &[f32],
        reward: f32,
        terminated: bool,
        truncated: bool,
        next_obs: &[f32],
    ) -> Result<(), BufferError> {
        if !self.in_episode {
            return Err(BufferError::Invalid(
                "push outside an episode: call start_episode first".into(),
            ));
        }
        if action.len() != self.action_dim || next_obs.len() != self.obs_dim {
            return Err(BufferError::Invalid(format!(
                "expected action {} and observation {} values, got {} and {}",
                self.action_dim,
                self.obs_dim,
                action.len(),
                next_obs.len()
            )));
        }
        let last = self.written - 1;
        let p = self.phys(last);
        self.action[p * self.action_dim..(p + 1) * self.action_dim].copy_from_slice(action);
        self.reward[p] = reward;
        self.flags[p] = HAS_ACTION
            | if terminated { TERMINATED } else { 0 }
            | if truncated { TRUNCATED } else { 0 };
        self.write_slot(next_obs);
        if let Some(back) = self.episodes.back_mut() {
            back.len += 1;
        }
        self.transitions += 1;
        if terminated || truncated {
            self.in_episode = false;
        }
        Ok(())
    }

    /// Every stored transition, oldest first (`discount` = 0 after a
    /// terminal state, else 1): what models trained on the whole buffer
    /// (PETS) read.
    pub fn transitions(&self) -> TransitionBatch {
        let n = self.transitions as usize;
        let mut out = TransitionBatch {
            obs: Vec::with_capacity(n * self.obs_dim),
            action: Vec::with_capacity(n * self.action_dim),
            reward: Vec::with_capacity(n),
            next_obs: Vec::with_capacity(n * self.obs_dim),
            discount: Vec::with_capacity(n),
        };
        for e in &self.episodes {
            for abs in e.start..e.start + e.len {
                out.obs.extend_from_slice(self.obs_at(abs));
                out.action.extend_from_slice(self.action_at(abs));
                out.reward.push(self.reward[self.phys(abs)]);
                out.next_obs.extend_from_slice(self.obs_at(abs + 1));
                let terminal = self.flags_at(abs) & TERMINATED != 0;
                out.discount.push(if terminal { 0.0 } else { 1.0 });
            }
        }
        out
    }

    /// A uniformly drawn transition's absolute slot.
    fn draw_transition(&self, rng: &mut Rng) -> u64 {
        let oldest = self.oldest();
        let span = self.written - oldest;
        loop {
            // At least one slot in two is a transition, so this ends quickly.
            let abs = oldest + rng.below(span);
            if self.flags_at(abs) & HAS_ACTION != 0 {
                return abs;
            }
        }
    }

    /// `batch` uniformly sampled one-step transitions (`discount` = 0 after a
    /// terminal state, else 1).
    pub fn sample(&self, batch: usize, rng: &mut Rng) -> Result<TransitionBatch, BufferError> {
        self.sample_nstep(batch, 1, 1.0, rng)
    }

    /// `batch` uniformly sampled transitions with `n`-step returns: rewards
    /// are summed with discount `gamma` until `n` steps, a terminal state (no
    /// bootstrap: `discount` = 0) or the end of the stored episode (a time
    /// limit, or the newest transition: bootstrap from there).
    pub fn sample_nstep(
        &self,
        batch: usize,
        n: usize,
        gamma: f32,
        rng: &mut Rng,
    ) -> Result<TransitionBatch, BufferError> {
        if self.transitions == 0 {
            return Err(BufferError::NotEnoughData("no transitions stored".into()));
        }
        if n == 0 {
            return Err(BufferError::Invalid("n-step returns need n >= 1".into()));
        }
        let mut out = TransitionBatch {
            obs: Vec::with_capacity(batch * self.obs_dim),
            action: Vec::with_capacity(batch * self.action_dim),
            reward: Vec::with_capacity(batch),
            next_obs: Vec::with_capacity(batch * self.obs_dim),
            discount: Vec::with_capacity(batch),
        };
        for _ in 0..batch {
            let i = self.draw_transition(rng);
            let (mut ret, mut g, mut j) = (0.0f32, 1.0f32, i);
            let mut terminal = false;
            for k in 0..n {
                let f = self.flags_at(j);
                ret += g * self.reward[self.phys(j)];
                g *= gamma;
                if f & TERMINATED != 0 {
                    terminal = true;
                    break;
                }
                let next_is_transition = self.flags_at(j + 1) & HAS_ACTION != 0;
                if f & TRUNCATED != 0 || !next_is_transition || k + 1 == n {
                    break;
                }
                j += 1;
            }
            out.obs.extend_from_slice(self.obs_at(i));
            out.action.extend_from_slice(self.action_at(i));
            out.reward.push(ret);
            out.next_obs.extend_from_slice(self.obs_at(j + 1));
            out.discount.push(if terminal { 0.0 } else { g });
        }
        Ok(out)
    }

    /// `batch` sub-trajectories of `horizon` consecutive transitions (and
    /// `horizon + 1` observations) from one episode each, start uniform over
    /// all valid starts.
    pub fn sample_slices(
        &self,
        batch: usize,
        horizon: usize,
        rng: &mut Rng,
    ) -> Result<SliceBatch, BufferError> {
        if horizon == 0 {
            return Err(BufferError::Invalid("slices need horizon >= 1".into()));
        }
        if !self.episodes.iter().any(|e| e.len >= horizon as u64) {
            return Err(BufferError::NotEnoughData(format!(
                "no stored episode has {horizon} transitions"
            )));
        }
        let h = horizon as u64;
        let mut out = SliceBatch {
            horizon,
            obs: Vec::with_capacity(batch * (horizon + 1) * self.obs_dim),
            action: Vec::with_capacity(batch * horizon * self.action_dim),
            reward: Vec::with_capacity(batch * horizon),
            terminated: Vec::with_capacity(batch * horizon),
        };
        let oldest = self.oldest();
        let span = self.written - oldest;
        for _ in 0..batch {
            // Every episode's last slot has no action, so H consecutive
            // transitions always lie in one episode.
            let s = loop {
                let s = oldest + rng.below(span);
                if s + h < self.written && (s..s + h).all(|k| self.flags_at(k) & HAS_ACTION != 0) {
                    break s;
                }
            };
            for k in s..=s + h {
                out.obs.extend_from_slice(self.obs_at(k));
            }
            for k in s..s + h {
                out.action.extend_from_slice(self.action_at(k));
                out.reward.push(self.reward[self.phys(k)]);
                out.terminated.push(if self.flags_at(k) & TERMINATED != 0 {
                    1.0
                } else {
                    0.0
                });
            }
        }
        Ok(out)
    }

    /// Writes the buffer (data, episode index) to `path`.
    pub fn save(&self, path: &Path) -> Result<(), BufferError> {
        let io = |cause| BufferError::Io {
            path: path.display().to_string(),
            cause,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        let header = [
            self.obs_dim as u64,
            self.action_dim as u64,
            self.capacity as u64,
            self.written,
            self.transitions,
            u64::from(self.in_episode),
            self.episodes.len() as u64,
        ];
        let mut bytes = Vec::with_capacity(8 * (8 + 2 * self.episodes.len()));
        bytes.extend_from_slice(MAGIC);
        for v in header {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for e in &self.episodes {
            bytes.extend_from_slice(&e.start.to_le_bytes());
            bytes.extend_from_slice(&e.len.to_le_bytes());
        }
        bytes.extend_from_slice(&(self.flags.len() as u64).to_le_bytes());
        w.write_all(&bytes).map_err(io)?;
        for data in [&self.obs, &self.action, &self.reward] {
            for chunk in data.chunks(1 << 16) {
                let b: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
                w.write_all(&b).map_err(io)?;
            }
        }
        w.write_all(&self.flags).map_err(io)?;
        w.flush().map_err(io)?;
        w.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)
    }

    /// Reads a buffer written by [`Self::save`].
    pub fn load(path: &Path) -> Result<Self, BufferError> {
        let io = |cause| BufferError::Io {
            path: path.display().to_string(),
            cause,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        // The sizes a header promises, checked against the file before
        // anything is allocated for them.
        let damaged = |expected: Option<u64>| {
            BufferError::Invalid(format!(
                "{} is truncated or damaged: its header describes {} bytes, the file has {file_len}",
                path.display(),
                expected.map_or("more than 2^64".into(), |n| n.to_string()),
            ))
        };
        let mut r = std::io::BufReader::new(file);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic).map_err(io)?;
        if &magic != MAGIC {
            return Err(BufferError::Invalid(format!(
                "{} is not a ctrlbench replay buffer",
                path.display()
            )));
        }
        let mut get = || -> std::io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        };
        let mut header = [0u64; 7];
        for h in header.iter_mut() {
            *h = get().map_err(io)?;
        }
        let [
            obs_dim,
            action_dim,
            capacity,
            written,
            transitions,
            in_episode,
            n_episodes,
        ] = header;
        // magic, header, episode index, slot count.
        let index_end = match n_episodes
            .checked_mul(16)
            .and_then(|n| n.checked_add(8 * 9))
        {
            Some(n) if n <= file_len => n,
            other => return Err(damaged(other)),
        };
        let mut episodes = VecDeque::with_capacity(n_episodes as usize);
        for _ in 0..n_episodes {
            let start = get().map_err(io)?;
            let len = get().map_err(io)?;
            episodes.push_back(Episode { start, len });
        }
        let slots = get().map_err(io)?;
        // Per slot: observation, action and reward as f32, one flag byte.
        let total = (obs_dim.checked_add(action_dim))
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(1))
            .and_then(|n| n.checked_mul(slots))
            .and_then(|n| n.checked_add(index_end));
        if total != Some(file_len) {
            return Err(damaged(total));
        }
        let slots = slots as usize;
        let (obs_dim, action_dim) = (obs_dim as usize, action_dim as usize);
        let mut read_f32 = |n: usize| -> std::io::Result<Vec<f32>> {
            let mut bytes = vec![0u8; n * 4];
            r.read_exact(&mut bytes)?;
            Ok(bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        };
        let obs = read_f32(slots * obs_dim).map_err(io)?;
        let action = read_f32(slots * action_dim).map_err(io)?;
        let reward = read_f32(slots).map_err(io)?;
        let mut flags = vec![0u8; slots];
        r.read_exact(&mut flags).map_err(io)?;
        Ok(ReplayBuffer {
            obs_dim,
            action_dim,
            capacity: capacity as usize,
            obs,
            action,
            reward,
            flags,
            written,
            transitions,
            episodes,
            in_episode: in_episode != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Episodes of given lengths; obs = [episode, t], action = [t], reward = t.
    fn filled(capacity: usize, lens: &[(usize, bool)]) -> ReplayBuffer {
        let mut b = ReplayBuffer::new(2, 1, capacity).unwrap();
        for (e, &(len, terminal)) in lens.iter().enumerate() {
            b.start_episode(&[e as f32, 0.0]);
            for t in 0..len {
                let last = t + 1 == len;
                b.push(
                    &[t as f32],
                    t as f32,
                    last && terminal,
                    last && !terminal,
                    &[e as f32, t as f32 + 1.0],
                )
                .unwrap();
            }
        }
        b
    }

    #[test]
    fn next_obs_is_the_next_slot() {
        let b = filled(100, &[(5, false), (7, false)]);
        assert_eq!(b.len(), 12);
        assert_eq!(b.num_episodes(), 2);
        let mut rng = Rng::new(0);
        let s = b.sample(200, &mut rng).unwrap();
        for i in 0..200 {
            let (o, n) = (&s.obs[2 * i..2 * i + 2], &s.next_obs[2 * i..2 * i + 2]);
            assert_eq!(o[0], n[0], "same episode");
            assert_eq!(o[1] + 1.0, n[1]);
            assert_eq!(s.action[i], o[1]);
            assert_eq!(s.reward[i], o[1]);
            assert_eq!(s.discount[i], 1.0);
        }
    }

    #[test]
    fn nstep_stops_at_terminal_and_bootstraps_through_truncation() {
        // Episode 0 terminates after 3 steps, episode 1 is truncated after 3.
        let b = filled(100, &[(3, true), (3, false)]);
        let mut rng = Rng::new(1);
        let s = b.sample_nstep(400, 5, 0.5, &mut rng).unwrap();
        for i in 0..400 {
            let (e, t) = (s.obs[2 * i], s.obs[2 * i + 1]);
            // rewards t, t+1, .. until the end of the 3-step episode
            let steps = 3 - t as usize;
            let expect: f32 = (0..steps)
                .map(|k| 0.5f32.powi(k as i32) * (t + k as f32))
                .sum();
            assert!((s.reward[i] - expect).abs() < 1e-6);
            assert_eq!(s.next_obs[2 * i + 1], 3.0, "bootstraps from the final obs");
            let discount = if e == 0.0 {
                0.0
            } else {
                0.5f32.powi(steps as i32)
            };
            assert_eq!(s.discount[i], discount);
        }
        // n = 2 in the middle of an episode: γ² bootstrap from t + 2.
        let b = filled(100, &[(10, false)]);
        let s = b.sample_nstep(100, 2, 0.9, &mut rng).unwrap();
        for i in 0..100 {
            let t = s.obs[2 * i + 1];
            if t < 8.0 {
                assert_eq!(s.next_obs[2 * i + 1], t + 2.0);
                assert!((s.discount[i] - 0.81).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn slices_never_cross_episodes() {
        let b = filled(1000, &[(4, false), (2, true), (9, false), (6, false)]);
        let mut rng = Rng::new(2);
        let h = 4;
        let s = b.sample_slices(300, h, &mut rng).unwrap();
        let mut starts = std::collections::BTreeSet::new();
        for i in 0..300 {
            let obs = &s.obs[i * (h + 1) * 2..(i + 1) * (h + 1) * 2];
            let e = obs[0];
            starts.insert((e as i32, obs[1] as i32));
            for k in 0..=h {
                assert_eq!(obs[2 * k], e);
                assert_eq!(obs[2 * k + 1], obs[1] + k as f32);
            }
        }
        // valid starts: ep0: 1, ep2: 6, ep3: 3 → all 10 seen
        assert_eq!(starts.len(), 10);
        assert!(b.sample_slices(1, 10, &mut rng).is_err());
    }

    #[test]
    fn overwriting_keeps_episodes_consistent() {
        // 5 episodes × (10 transitions + 1 final obs) = 55 slots in a 32-slot ring.
        let b = filled(32, &[(10, false); 5]);
        assert_eq!(b.written, 55);
        let stored: u64 = b.episodes.iter().map(|e| e.len + 1).sum();
        assert_eq!(stored, 32);
        assert_eq!(
            b.len() as u64,
            b.episodes.iter().map(|e| e.len).sum::<u64>()
        );
        assert_eq!(b.episodes.front().unwrap().start, 55 - 32);
        let mut rng = Rng::new(3);
        let s = b.sample_slices(200, 3, &mut rng).unwrap();
        for i in 0..200 {
            let obs = &s.obs[i * 8..(i + 1) * 8];
            assert!(obs[0] >= 2.0, "only episodes still stored");
            for k in 0..4 {
                assert_eq!(obs[2 * k], obs[0]);
                assert_eq!(obs[2 * k + 1], obs[1] + k as f32);
            }
        }
        let t = b.sample(500, &mut rng).unwrap();
        assert!(t.obs.chunks(2).all(|o| o[0] >= 2.0));
    }

    #[test]
    fn save_load_roundtrip_and_same_samples() {
        let b = filled(40, &[(10, false), (7, true), (12, false), (9, false)]);
        let dir = std::env::temp_dir().join(format!("ctrlbench-buf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("buffer.bin");
        b.save(&path).unwrap();
        let c = ReplayBuffer::load(&path).unwrap();
        assert_eq!(c.len(), b.len());
        assert_eq!(c.episodes, b.episodes);
        let (mut r1, mut r2) = (Rng::new(5), Rng::new(5));
        assert_eq!(
            b.sample_slices(16, 3, &mut r1).unwrap(),
            c.sample_slices(16, 3, &mut r2).unwrap()
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_damaged_file_is_an_error_before_any_allocation() {
        let b = filled(40, &[(10, false), (7, true)]);
        let dir = std::env::temp_dir().join(format!("ctrlbench-bufbad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("buffer.bin");
        b.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let message = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            ReplayBuffer::load(&path).unwrap_err().to_string()
        };
        // An episode count of 2^64 - 1 and of 2^40 (offset 56: the header's
        // last value), and a file cut short by one byte.
        for n in [u64::MAX, 1 << 40] {
            let mut bad = bytes.clone();
            bad[56..64].copy_from_slice(&n.to_le_bytes());
            assert!(message(&bad).contains("truncated or damaged"), "{n}");
        }
        assert!(message(&bytes[..bytes.len() - 1]).contains("truncated or damaged"));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(ReplayBuffer::load(&path).unwrap().len(), b.len());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn memory_is_the_data_itself() {
        // humanoid-walk: 67 observations, 21 actions.
        assert_eq!(ReplayBuffer::bytes_per_transition_for(67, 21), 357);
        let cap = 100_000;
        let mut b = ReplayBuffer::new(67, 21, cap).unwrap();
        let obs = vec![0.5f32; 67];
        let act = vec![0.1f32; 21];
        for _ in 0..300 {
            b.start_episode(&obs);
            for t in 0..500 {
                b.push(&act, 1.0, false, t == 499, &obs).unwrap();
            }
        }
        assert_eq!(b.flags.len(), cap);
        let data = cap * b.bytes_per_transition();
        let mem = b.memory_bytes();
        assert!(
            mem >= data && (mem as f64) < data as f64 * 1.01,
            "{mem} vs {data}"
        );
    }
}
