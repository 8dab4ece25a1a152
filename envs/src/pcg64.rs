//! NumPy's `Generator(PCG64(SeedSequence(seed)))`, bit for bit, for the
//! draws Meta-World's benchmark mode makes: gymnasium's
//! `seeding.np_random(seed)` builds this generator, and metaworld's task
//! sampler calls `choice(n)` on it.
//!
//! The algorithms and constants follow NumPy (BSD-3-Clause):
//! `numpy/random/bit_generator.pyx` (SeedSequence's hash mixing),
//! `numpy/random/src/pcg64/pcg64.{h,c}` (PCG64 XSL-RR 128/64 and its
//! buffered 32-bit output), `numpy/random/_common.pxd` (doubles),
//! `numpy/random/src/distributions/distributions.c` and
//! `_bounded_integers.pyx.in` (uniform; Lemire's bounded integers with
//! `rng = high - 1 - low`). Checked against numpy 2.4.6 for 211 seeds up to
//! 2^128 - 1: seeded states, raw outputs and mixed draws, bit for bit.

// ---------------------------------------------------------------- SeedSequence
// Constants from numpy/random/bit_generator.pyx.
const DEFAULT_POOL_SIZE: usize = 4;
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16; // uint32 itemsize * 8 / 2

/// Follows bit_generator.pyx `hashmix` (the multiplier is updated in place).
#[inline]
fn hashmix(mut value: u32, hash_const: &mut u32) -> u32 {
    value ^= *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    value = value.wrapping_mul(*hash_const);
    value ^= value >> XSHIFT;
    value
}

/// Follows bit_generator.pyx `mix`.
#[inline]
fn mix(x: u32, y: u32) -> u32 {
    let mut r = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^= r >> XSHIFT;
    r
}

/// Follows bit_generator.pyx `_int_to_uint32_array`: non-negative int split
/// into uint32 words, lowest first; 0 -> [0].
pub fn int_to_u32_words(mut n: u128) -> Vec<u32> {
    let mut out = Vec::new();
    if n == 0 {
        out.push(0);
    }
    while n > 0 {
        out.push(n as u32);
        n >>= 32;
    }
    out
}

/// `np.random.SeedSequence(entropy)` with default pool size 4 and no spawn key.
#[derive(Clone, Debug)]
pub struct SeedSequence {
    pub pool: [u32; DEFAULT_POOL_SIZE],
}

impl SeedSequence {
    /// SeedSequence for a Python int seed (any value < 2^128).
    pub fn new(seed: u128) -> Self {
        Self::from_entropy_words(&int_to_u32_words(seed))
    }

    /// Follows `SeedSequence.__init__` + `mix_entropy` with an already
    /// assembled entropy array (empty spawn key => no zero padding).
    pub fn from_entropy_words(entropy: &[u32]) -> Self {
        let mut mixer = [0u32; DEFAULT_POOL_SIZE];
        let mut hc = INIT_A;
        // Add in the entropy up to the pool size.
        for i in 0..DEFAULT_POOL_SIZE {
            let v = if i < entropy.len() { entropy[i] } else { 0 };
            mixer[i] = hashmix(v, &mut hc);
        }
        // Mix all bits together so late bits can affect earlier bits.
        for i_src in 0..DEFAULT_POOL_SIZE {
            for i_dst in 0..DEFAULT_POOL_SIZE {
                if i_src != i_dst {
                    let h = hashmix(mixer[i_src], &mut hc);
                    mixer[i_dst] = mix(mixer[i_dst], h);
                }
            }
        }
        // Add any remaining entropy.
        for &w in entropy.iter().skip(DEFAULT_POOL_SIZE) {
            for m in mixer.iter_mut() {
                let h = hashmix(w, &mut hc);
                *m = mix(*m, h);
            }
        }
        SeedSequence { pool: mixer }
    }

    /// Follows `SeedSequence.generate_state(n_words, np.uint32)`.
    pub fn generate_state_u32(&self, n_words: usize) -> Vec<u32> {
        let mut hc = INIT_B;
        let mut out = Vec::with_capacity(n_words);
        for i in 0..n_words {
            let mut v = self.pool[i % DEFAULT_POOL_SIZE];
            v ^= hc;
            hc = hc.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hc);
            v ^= v >> XSHIFT;
            out.push(v);
        }
        out
    }

    /// Follows `generate_state(n_words, np.uint64)`: 2*n_words uint32 words,
    /// viewed little-endian (low word first) as uint64.
    pub fn generate_state_u64(&self, n_words: usize) -> Vec<u64> {
        self.generate_state_u32(2 * n_words)
            .chunks(2)
            .map(|c| (c[0] as u64) | ((c[1] as u64) << 32))
            .collect()
    }
}

/// Convenience: `SeedSequence(seed).generate_state(n_words, uint32)`.
pub fn seed_sequence_state(seed: u128, n_words: usize) -> Vec<u32> {
    SeedSequence::new(seed).generate_state_u32(n_words)
}

// ---------------------------------------------------------------- PCG64
// PCG_DEFAULT_MULTIPLIER_128 from pcg64.h (HIGH=2549297995355413924, LOW=4865540595714422341).
const PCG_MULT: u128 = 0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645;

/// `np.random.PCG64` (XSL-RR variant, not DXSM) plus the Generator methods used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcg64 {
    pub state: u128,
    pub inc: u128,
    /// pcg64_state.has_uint32 / uinteger: buffered high half for next_u32.
    pub has_uint32: bool,
    pub uinteger: u32,
}

impl Pcg64 {
    /// `PCG64(SeedSequence(seed))` == gymnasium `np_random(seed)` generator.
    pub fn from_seed(seed: u64) -> Self {
        Self::from_seed_u128(seed as u128)
    }

    /// Same, for Python int seeds up to 2^128 - 1.
    pub fn from_seed_u128(seed: u128) -> Self {
        Self::from_seed_sequence(&SeedSequence::new(seed))
    }

    /// Follows `PCG64.__init__`: val = generate_state(4, uint64);
    /// pcg64_set_seed(seed=val[0..2], inc=val[2..4]); _reset_state_variables.
    pub fn from_seed_sequence(ss: &SeedSequence) -> Self {
        let v = ss.generate_state_u64(4);
        let initstate = ((v[0] as u128) << 64) | v[1] as u128;
        let initseq = ((v[2] as u128) << 64) | v[3] as u128;
        Self::from_state_seq(initstate, initseq)
    }

    /// Follows pcg_setseq_128_srandom_r.
    pub fn from_state_seq(initstate: u128, initseq: u128) -> Self {
        let mut r = Pcg64 {
            state: 0,
            inc: (initseq << 1) | 1,
            has_uint32: false,
            uinteger: 0,
        };
        r.step();
        r.state = r.state.wrapping_add(initstate);
        r.step();
        r
    }

    /// pcg_setseq_128_step_r
    #[inline]
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    /// pcg64_next64 (= bit_generator.random_raw()): step then XSL-RR output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let hi = (self.state >> 64) as u64;
        let lo = self.state as u64;
        (hi ^ lo).rotate_right((hi >> 58) as u32)
    }

    /// pcg64_next32: if a buffered half is present return it (and clear the
    /// flag); otherwise draw a u64, return its LOW 32 bits and buffer the HIGH 32.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.has_uint32 {
            self.has_uint32 = false;
            return self.uinteger;
        }
        let next = self.next_u64();
        self.has_uint32 = true;
        self.uinteger = (next >> 32) as u32;
        next as u32
    }

    /// pcg64_double / _common.pxd uint64_to_double; `Generator.random()`.
    /// Always consumes a fresh u64; does not touch the 32-bit buffer.
    #[inline]
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9007199254740992.0)
    }

    /// `Generator.uniform(low, high)` (scalar): random_uniform(low, high-low)
    /// = low + (high - low) * next_double.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let range = high - low;
        assert!(range.is_finite(), "high - low range exceeds valid bounds");
        low + range * self.random()
    }

    /// `Generator.integers(low, high)` with default dtype=int64, endpoint=False,
    /// size=None. Follows _rand_int64 (rng = (high-1) - low, off = low) and
    /// random_bounded_uint64_fill with use_masked=False.
    pub fn integers(&mut self, low: i64, high: i64) -> i64 {
        let hi_incl = high.checked_sub(1).expect("high out of bounds");
        assert!(low <= hi_incl, "low >= high");
        let rng = (hi_incl as i128 - low as i128) as u64;
        let off = low as u64;
        off.wrapping_add(self.bounded_u64(rng)) as i64
    }

    /// `Generator.choice(n)` for an int n (replace=True, p=None):
    /// `integers(0, n, size=(), dtype=int64)` -> same draws as integers(0, n).
    pub fn choice(&mut self, n: i64) -> i64 {
        assert!(n > 0, "a must be a positive integer");
        self.integers(0, n)
    }

    /// random_bounded_uint64_fill for cnt == 1, use_masked == false.
    /// Returns a value in [0, rng] (closed).
    pub fn bounded_u64(&mut self, rng: u64) -> u64 {
        if rng == 0 {
            0
        } else if rng <= 0xFFFF_FFFF {
            if rng == 0xFFFF_FFFF {
                self.next_u32() as u64
            } else {
                self.buffered_bounded_lemire_u32(rng as u32) as u64
            }
        } else if rng == u64::MAX {
            self.next_u64()
        } else {
            self.bounded_lemire_u64(rng)
        }
    }

    /// distributions.c buffered_bounded_lemire_uint32 (the bcnt/buf args are
    /// unused there; randomness comes from next_uint32, i.e. the PCG64 32-bit
    /// buffer). `rng` is the inclusive range (n - 1), rng != u32::MAX.
    fn buffered_bounded_lemire_u32(&mut self, rng: u32) -> u32 {
        let rng_excl = rng + 1;
        let mut m = (self.next_u32() as u64) * rng_excl as u64;
        let mut leftover = m as u32;
        if leftover < rng_excl {
            let threshold = (u32::MAX - rng) % rng_excl;
            while leftover < threshold {
                m = (self.next_u32() as u64) * rng_excl as u64;
                leftover = m as u32;
            }
        }
        (m >> 32) as u32
    }

    /// distributions.c bounded_lemire_uint64 (__uint128_t branch).
    fn bounded_lemire_u64(&mut self, rng: u64) -> u64 {
        let rng_excl = rng + 1;
        let mut m = (self.next_u64() as u128) * rng_excl as u128;
        let mut leftover = m as u64;
        if leftover < rng_excl {
            let threshold = (u64::MAX - rng) % rng_excl;
            while leftover < threshold {
                m = (self.next_u64() as u128) * rng_excl as u128;
                leftover = m as u64;
            }
        }
        (m >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by numpy 2.4.6:
    /// `Generator(PCG64(SeedSequence(42))).bit_generator.random_raw(3)`, and
    /// six `choice(50)`, a `uniform(-1, 1)` and an `integers(0, 7)` for seed
    /// 2^40 + 3 (the choices share 64-bit outputs through the 32-bit buffer).
    #[test]
    fn matches_numpy_outputs() {
        let mut g = Pcg64::from_seed(42);
        let raw: Vec<u64> = (0..3).map(|_| g.next_u64()).collect();
        assert_eq!(
            raw,
            [
                14276969152011380360,
                8095878257575067585,
                15838336090824644132
            ]
        );
        let mut g = Pcg64::from_seed((1 << 40) + 3);
        let choices: Vec<i64> = (0..6).map(|_| g.choice(50)).collect();
        assert_eq!(choices, [36, 38, 22, 49, 19, 23]);
        assert_eq!(g.uniform(-1.0, 1.0), -f64::from_bits(0x3feb_d97c_7baa_715c));
        assert_eq!(g.integers(0, 7), 5);
    }
}
