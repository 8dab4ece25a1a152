//! A random number generator that reproduces `numpy.random.RandomState`.
//!
//! dm_control tasks draw their initial states from a legacy numpy
//! `RandomState(seed)` (MT19937 with numpy's legacy integer seeding). To start
//! an episode in exactly the state dm_control starts it in, this module
//! reproduces the legacy generator bit for bit: the same 32-bit stream, the
//! same 53-bit doubles, the polar Gaussian method with its cached second value,
//! masked rejection sampling for integers.
//!
//! Reference: numpy `random/_mt19937.pyx`, `random/mtrand.pyx`,
//! `random/src/legacy/legacy-distributions.c`,
//! `random/src/distributions/distributions.c`.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The legacy numpy random generator (`numpy.random.RandomState`).
#[derive(Clone, Debug)]
pub struct RandomState {
    key: Box<[u32; N]>,
    pos: usize,
    has_gauss: bool,
    gauss: f64,
}

impl RandomState {
    /// `RandomState(seed)`. Seeds below 2^32 use numpy's integer seeding, so
    /// they give numpy's stream; larger seeds (which numpy rejects) seed from
    /// the array `[low 32 bits, high 32 bits]`, as `RandomState([lo, hi])` does.
    pub fn new(seed: u64) -> Self {
        let mut rs = RandomState {
            key: Box::new([0; N]),
            pos: N,
            has_gauss: false,
            gauss: 0.0,
        };
        if seed <= u32::MAX as u64 {
            rs.init_genrand(seed as u32);
        } else {
            rs.init_by_array(&[seed as u32, (seed >> 32) as u32]);
        }
        rs
    }

    /// A generator seeded from operating-system entropy (numpy's `RandomState()`).
    pub fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        Self::new(h.finish())
    }

    fn init_genrand(&mut self, seed: u32) {
        let mut s = seed;
        for i in 0..N {
            self.key[i] = s;
            s = 1_812_433_253u32
                .wrapping_mul(s ^ (s >> 30))
                .wrapping_add(i as u32 + 1);
        }
        self.pos = N;
        self.has_gauss = false;
        self.gauss = 0.0;
    }

    fn init_by_array(&mut self, init_key: &[u32]) {
        self.init_genrand(19_650_218);
        let key = &mut self.key;
        let (mut i, mut j) = (1usize, 0usize);
        let mut k = N.max(init_key.len());
        while k > 0 {
            key[i] = (key[i] ^ (key[i - 1] ^ (key[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(init_key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                key[0] = key[N - 1];
                i = 1;
            }
            if j >= init_key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            key[i] = (key[i] ^ (key[i - 1] ^ (key[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                key[0] = key[N - 1];
                i = 1;
            }
            k -= 1;
        }
        key[0] = 0x8000_0000;
        self.pos = N;
    }

    fn generate(&mut self) {
        let key = &mut self.key;
        let mix = |a: u32, b: u32, c: u32| {
            let y = (a & UPPER_MASK) | (b & LOWER_MASK);
            c ^ (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for i in 0..N - M {
            key[i] = mix(key[i], key[i + 1], key[i + M]);
        }
        for i in N - M..N - 1 {
            key[i] = mix(key[i], key[i + 1], key[i + M - N]);
        }
        key[N - 1] = mix(key[N - 1], key[0], key[M - 1]);
        self.pos = 0;
    }

    /// The next raw 32-bit output of MT19937.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next 64-bit output (two 32-bit outputs, high word first).
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        (hi << 32) | self.next_u32() as u64
    }

    /// `random_sample()`: a double in [0, 1) with 53 random bits.
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `rand(n)`: `n` doubles in [0, 1).
    pub fn rand(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.random_sample()).collect()
    }

    /// `uniform(low, high)`: `low + (high - low) * random_sample()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let range = high - low;
        low + range * self.random_sample()
    }

    /// `uniform(low, high, n)`.
    pub fn uniform_n(&mut self, low: f64, high: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform(low, high)).collect()
    }

    /// `standard_normal()` / `randn()`: the polar (Marsaglia) method, which
    /// produces two values and caches the second, exactly as numpy's legacy
    /// `legacy_gauss`.
    pub fn standard_normal(&mut self) -> f64 {
        if self.has_gauss {
            self.has_gauss = false;
            let g = self.gauss;
            self.gauss = 0.0;
            return g;
        }
        let (x1, x2, r2) = loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                break (x1, x2, r2);
            }
        };
        let f = (-2.0 * r2.ln() / r2).sqrt();
        self.gauss = f * x1;
        self.has_gauss = true;
        f * x2
    }

    /// `randn(n)`.
    pub fn randn(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.standard_normal()).collect()
    }

    /// `normal(loc, scale)`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// An integer in `[0, max]` by masked rejection sampling (numpy's
    /// `random_bounded_uint64` with `use_masked=True`, the legacy default).
    fn bounded_u64(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u32::MAX as u64 {
            if max == u32::MAX as u64 {
                return self.next_u32() as u64;
            }
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        if max == u64::MAX {
            return self.next_u64();
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `randint(low, high)`: an integer in `[low, high)`. Panics if `low >= high`
    /// (numpy raises `ValueError`).
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "randint: low >= high");
        let range = (high as i128 - low as i128 - 1) as u64;
        (low as i128 + self.bounded_u64(range) as i128) as i64
    }

    /// `randint(low, high, n)`.
    pub fn randint_n(&mut self, low: i64, high: i64, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.randint(low, high)).collect()
    }

    /// An integer in `[0, max]` as numpy's `random_interval` (used by `shuffle`).
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        loop {
            let v = if max <= u32::MAX as u64 {
                (self.next_u32() as u64) & mask
            } else {
                self.next_u64() & mask
            };
            if v <= max {
                return v;
            }
        }
    }

    /// `permutation(n)`: a random permutation of `0..n` (Fisher–Yates from the end,
    /// as numpy's legacy `shuffle`).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u64) as usize;
            v.swap(i, j);
        }
        v
    }

    /// `choice(n, size, replace, p)`: indices into a population of `n`, as the
    /// legacy `RandomState.choice` draws them.
    pub fn choice(
        &mut self,
        n: usize,
        size: usize,
        replace: bool,
        p: Option<&[f64]>,
    ) -> Vec<usize> {
        assert!(n > 0, "choice: empty population");
        match (replace, p) {
            (true, None) => (0..size)
                .map(|_| self.randint(0, n as i64) as usize)
                .collect(),
            (true, Some(p)) => {
                let cdf = normalized_cdf(p);
                (0..size)
                    .map(|_| {
                        let u = self.random_sample();
                        cdf.partition_point(|&c| c <= u)
                    })
                    .collect()
            }
            (false, None) => {
                assert!(size <= n, "choice: sample larger than population");
                let mut perm = self.permutation(n);
                perm.truncate(size);
                perm
            }
            (false, Some(p)) => {
                // numpy: repeatedly draw with the remaining probability mass.
                assert!(size <= n, "choice: sample larger than population");
                let mut p = p.to_vec();
                let mut found: Vec<usize> = Vec::with_capacity(size);
                while found.len() < size {
                    let left = size - found.len();
                    let x: Vec<f64> = (0..left).map(|_| self.random_sample()).collect();
                    for &f in &found {
                        p[f] = 0.0;
                    }
                    let cdf = normalized_cdf(&p);
                    let mut new: Vec<usize> = x
                        .iter()
                        .map(|&u| cdf.partition_point(|&c| c <= u))
                        .collect();
                    // numpy keeps the first occurrence of each new index, in draw order.
                    let mut seen = std::collections::HashSet::new();
                    new.retain(|i| seen.insert(*i));
                    found.extend(new);
                }
                found
            }
        }
    }
}

/// `cdf = cumsum(p); cdf /= cdf[-1]`, as numpy's `choice`.
fn normalized_cdf(p: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = p
        .iter()
        .map(|&x| {
            acc += x;
            acc
        })
        .collect();
    let last = *cdf.last().unwrap_or(&1.0);
    for c in &mut cdf {
        *c /= last;
    }
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_output_of_the_reference_mt19937() {
        // The reference implementation's test vector: init_genrand(5489) starts
        // with 3499211612.
        let mut rs = RandomState::new(5489);
        assert_eq!(rs.next_u32(), 3_499_211_612);
    }

    #[test]
    fn gaussian_cache_is_consumed_in_pairs() {
        let mut a = RandomState::new(7);
        let x = a.standard_normal();
        let y = a.standard_normal();
        let mut b = RandomState::new(7);
        let v = b.randn(2);
        assert_eq!(v, vec![x, y]);
        assert_ne!(x, y);
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut rs = RandomState::new(3);
        let mut p = rs.permutation(50);
        p.sort();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }
}
