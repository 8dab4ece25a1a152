//! A small, fast, seedable random number generator with a saveable state.
//!
//! xoshiro256** (Blackman & Vigna) seeded through SplitMix64. Agents and the
//! run loop use it for exploration noise and replay sampling; its state is four
//! `u64`s, so checkpoints restore it exactly and resumed runs continue the same
//! stream.

use serde::{Deserialize, Serialize};

/// xoshiro256** generator. Same seed ⇒ same stream on every platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

/// One SplitMix64 step: advances `state` and returns a well-mixed value.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives an independent seed for a named stream of a run (e.g. the agent's
/// initialisation, the evaluation episodes), so one `u64` seeds everything.
pub fn derive_seed(seed: u64, stream: &str) -> u64 {
    let mut h = seed ^ 0x6A09_E667_F3BC_C909;
    for b in stream.bytes() {
        h = splitmix64(&mut (h ^ u64::from(b)));
    }
    splitmix64(&mut h)
}

/// libtorch's random generators are process-wide. Code that seeds them and
/// draws (parameter initialisation, on-device noise) holds this lock, so
/// agents running in parallel threads (`sweep --jobs`) stay reproducible.
pub static TORCH_RNG_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A reproducible stream of libtorch random draws: each draw reseeds
/// libtorch's generators (CPU and CUDA) from this stream's seed and a counter,
/// under [`TORCH_RNG_LOCK`]. Noise generated on the device (Gumbel samples,
/// MPPI proposals) then depends only on the agent's seed and on how many
/// draws it made, not on other agents in the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TorchStream {
    seed: u64,
    draws: u64,
}

impl TorchStream {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Self {
        TorchStream { seed, draws: 0 }
    }

    /// Runs `f` (which draws with libtorch's generators) after seeding them
    /// for this stream's next draw.
    pub fn draw<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let _guard = TORCH_RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = self.seed ^ self.draws.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.draws += 1;
        // Non-negative 63-bit seed (libtorch takes an i64).
        tch::manual_seed((splitmix64(&mut s) >> 1) as i64);
        f()
    }
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// A uniform random action: `dim` values in [-1, 1] (the benchmark's
    /// action box), as f32.
    pub fn uniform_action(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.uniform(-1.0, 1.0) as f32).collect()
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; `n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_state_roundtrip() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let saved = serde_json::to_string(&a).unwrap();
        let mut c: Rng = serde_json::from_str(&saved).unwrap();
        assert_eq!(a.next_u64(), c.next_u64());
        assert_ne!(Rng::new(8).next_u64(), Rng::new(7).next_u64());
    }

    #[test]
    fn ranges() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let x = r.uniform(-1.0, 1.0);
            assert!((-1.0..1.0).contains(&x));
            assert!(r.below(5) < 5);
        }
        assert_ne!(derive_seed(1, "eval"), derive_seed(1, "train"));
        assert_eq!(derive_seed(1, "eval"), derive_seed(1, "eval"));
    }
}
