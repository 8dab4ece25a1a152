//! Statistics of evaluation scores, following rliable (Agarwal et al., "Deep
//! Reinforcement Learning at the Edge of the Statistical Precipice", 2021).
//!
//! Scores across tasks are held as a *score matrix*: one `Vec<f64>` of run
//! scores per task (runs may differ in number between tasks). With equal run
//! counts this is rliable's `(num_runs x num_tasks)` matrix, and every
//! estimator here equals rliable's:
//!
//! - IQM: `scipy.stats.trim_mean(scores, 0.25, axis=None)` over all runs of
//!   all tasks;
//! - mean / median: of the per-task mean scores;
//! - optimality gap: `gamma - mean(min(scores, gamma))` over all runs;
//! - score distribution (performance profile): fraction of all runs with a
//!   score strictly above tau;
//! - confidence intervals: percentile stratified bootstrap, i.e. runs are
//!   resampled with replacement within each task independently
//!   (`rliable.library.StratifiedBootstrap` with `task_bootstrap=False`), and
//!   the interval ends are `numpy.percentile` (linear interpolation) of the
//!   bootstrap distribution.
//!
//! The bootstrap runs its replications in parallel (rayon); each replication
//! draws from its own generator seeded from `(seed, replication)`, so results
//! do not depend on the number of threads.

use rayon::prelude::*;

/// A point estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The statistic on the observed data.
    pub point: f64,
    /// Lower end of the confidence interval.
    pub lo: f64,
    /// Upper end of the confidence interval.
    pub hi: f64,
}

/// Sum in numpy's order (pairwise summation with 8 accumulators), so means
/// agree with numpy to the last bit in most cases.
pub fn pairwise_sum(x: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = x.len();
    if n < 8 {
        let mut s = 0.0;
        for v in x {
            s += v;
        }
        s
    } else if n <= BLOCK {
        let mut r = [0.0; 8];
        r.copy_from_slice(&x[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += x[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &x[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&x[..n2]) + pairwise_sum(&x[n2..])
    }
}

/// Arithmetic mean (`numpy.mean`); NaN for no data.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    pairwise_sum(x) / x.len() as f64
}

/// Sample standard deviation (ddof = 1, as pandas); NaN for fewer than two values.
pub fn std(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    let d: Vec<f64> = x.iter().map(|v| (v - m) * (v - m)).collect();
    (pairwise_sum(&d) / (x.len() - 1) as f64).sqrt()
}

fn sorted(x: &[f64]) -> Vec<f64> {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// Median (`numpy.median`: mean of the two middle values for even counts).
pub fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let s = sorted(x);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// `scipy.stats.trim_mean(x, proportion)`: cut `floor(proportion * n)` values
/// from each end, then take the mean.
pub fn trim_mean(x: &[f64], proportion: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let s = sorted(x);
    let n = s.len();
    let cut = (proportion * n as f64) as usize;
    if cut >= n - cut {
        return f64::NAN;
    }
    mean(&s[cut..n - cut])
}

/// Interquartile mean: the 25 % trimmed mean.
pub fn iqm(x: &[f64]) -> f64 {
    trim_mean(x, 0.25)
}

/// `numpy.percentile(x, q)` with linear interpolation, `q` in percent.
pub fn percentile(x: &[f64], q: f64) -> f64 {
    percentile_sorted(&sorted(x), q)
}

fn percentile_sorted(s: &[f64], q: f64) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    let pos = q / 100.0 * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    let t = pos - lo as f64;
    // numpy's lerp: a + (b - a) * t, mirrored for t >= 0.5.
    let (a, b) = (s[lo], s[hi]);
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

fn flatten(m: &[Vec<f64>]) -> Vec<f64> {
    m.iter().flatten().copied().collect()
}

/// rliable `aggregate_iqm`: IQM over the scores of all runs of all tasks.
pub fn aggregate_iqm(m: &[Vec<f64>]) -> f64 {
    iqm(&flatten(m))
}

/// rliable `aggregate_mean`: mean over tasks of the per-task mean scores.
pub fn aggregate_mean(m: &[Vec<f64>]) -> f64 {
    let per_task: Vec<f64> = m.iter().map(|t| mean(t)).collect();
    mean(&per_task)
}

/// rliable `aggregate_median`: median over tasks of the per-task mean scores.
pub fn aggregate_median(m: &[Vec<f64>]) -> f64 {
    let per_task: Vec<f64> = m.iter().map(|t| mean(t)).collect();
    median(&per_task)
}

/// rliable `aggregate_optimality_gap`: `gamma - mean(min(scores, gamma))`
/// over all runs of all tasks.
pub fn optimality_gap(m: &[Vec<f64>], gamma: f64) -> f64 {
    let clipped: Vec<f64> = m.iter().flatten().map(|v| v.min(gamma)).collect();
    gamma - mean(&clipped)
}

/// rliable `score_distributions`: for each tau, the fraction of all runs of
/// all tasks whose score is strictly above tau.
pub fn score_distribution(m: &[Vec<f64>], taus: &[f64]) -> Vec<f64> {
    let all = flatten(m);
    taus.iter()
        .map(|&tau| {
            let above: Vec<f64> = all
                .iter()
                .map(|&v| if v > tau { 1.0 } else { 0.0 })
                .collect();
            mean(&above)
        })
        .collect()
}

/// Small, fast generator (xoshiro256++ seeded by SplitMix64) for resampling.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for stream `stream` of seed `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// A uniform index in `0..n` (n > 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// Percentile stratified bootstrap settings.
#[derive(Debug, Clone, Copy)]
pub struct Bootstrap {
    /// Number of bootstrap replications.
    pub reps: usize,
    /// Coverage of the interval (0.95 for 95 % CIs).
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            reps: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

impl Bootstrap {
    /// Point estimates and percentile CIs of the statistics `f` computes on a
    /// score matrix, resampling runs within each task independently.
    pub fn estimate<F>(&self, m: &[Vec<f64>], f: F) -> Vec<Estimate>
    where
        F: Fn(&[Vec<f64>]) -> Vec<f64> + Sync,
    {
        let point = f(m);
        let k = point.len();
        let replicate = |rep: usize| {
            let mut rng = Rng::new(self.seed, rep as u64);
            let sample: Vec<Vec<f64>> = m
                .iter()
                .map(|runs| {
                    (0..runs.len())
                        .map(|_| runs[rng.below(runs.len())])
                        .collect()
                })
                .collect();
            f(&sample)
        };
        let draws: Vec<Vec<f64>> = if self.reps * m.iter().map(Vec::len).sum::<usize>() > 20_000 {
            (0..self.reps).into_par_iter().map(replicate).collect()
        } else {
            (0..self.reps).map(replicate).collect()
        };
        let tail = 100.0 * (1.0 - self.confidence) / 2.0;
        (0..k)
            .map(|i| {
                let col: Vec<f64> = sorted(&draws.iter().map(|d| d[i]).collect::<Vec<_>>());
                Estimate {
                    point: point[i],
                    lo: percentile_sorted(&col, tail),
                    hi: percentile_sorted(&col, 100.0 - tail),
                }
            })
            .collect()
    }
}

/// The rliable aggregates of one score matrix (normalized scores).
#[derive(Debug, Clone, Copy)]
pub struct Aggregates {
    /// Interquartile mean over all runs.
    pub iqm: Estimate,
    /// Mean of per-task means.
    pub mean: Estimate,
    /// Median of per-task means.
    pub median: Estimate,
    /// Optimality gap at threshold 1.
    pub optimality_gap: Estimate,
}

/// IQM, mean, median and optimality gap (threshold `gamma` = 1) with
/// stratified bootstrap CIs, as rliable's `get_interval_estimates`.
pub fn aggregates(m: &[Vec<f64>], boot: &Bootstrap) -> Aggregates {
    let e = boot.estimate(m, |x| {
        vec![
            aggregate_iqm(x),
            aggregate_mean(x),
            aggregate_median(x),
            optimality_gap(x, 1.0),
        ]
    });
    Aggregates {
        iqm: e[0],
        mean: e[1],
        median: e[2],
        optimality_gap: e[3],
    }
}

/// Performance profile (score distribution at each tau) with stratified
/// bootstrap CIs, as rliable's `create_performance_profile`.
pub fn performance_profile(m: &[Vec<f64>], taus: &[f64], boot: &Bootstrap) -> Vec<Estimate> {
    boot.estimate(m, |x| score_distribution(x, taus))
}

/// Statistics of one task over its runs (seeds).
#[derive(Debug, Clone, Copy)]
pub struct TaskStats {
    /// Number of runs.
    pub n: usize,
    /// Mean with bootstrap CI.
    pub mean: Estimate,
    /// Sample standard deviation (ddof = 1).
    pub std: f64,
    /// Median with bootstrap CI.
    pub median: Estimate,
    /// Interquartile mean with bootstrap CI.
    pub iqm: Estimate,
}

/// Mean, std, median and IQM of one task's run scores, CIs by bootstrap over runs.
pub fn task_stats(runs: &[f64], boot: &Bootstrap) -> TaskStats {
    let m = [runs.to_vec()];
    let e = boot.estimate(&m, |x| vec![mean(&x[0]), median(&x[0]), iqm(&x[0])]);
    TaskStats {
        n: runs.len(),
        mean: e[0],
        std: std(runs),
        median: e[1],
        iqm: e[2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_mean_matches_scipy_cut_rule() {
        // n = 10: cut 2 from each end.
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(trim_mean(&x, 0.25), 5.5);
        // n = 3: int(0.75) = 0, nothing cut.
        assert_eq!(iqm(&[1.0, 2.0, 9.0]), 4.0);
        // n = 4: cut one each side.
        assert_eq!(iqm(&[0.0, 1.0, 2.0, 100.0]), 1.5);
    }

    #[test]
    fn percentile_is_numpy_linear() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile(&x, 2.5) - 1.075).abs() < 1e-15);
        assert!((percentile(&x, 97.5) - 3.925).abs() < 1e-15);
        assert_eq!(percentile(&x, 100.0), 4.0);
    }

    #[test]
    fn aggregates_and_profile() {
        let m = vec![vec![0.1, 0.2, 0.3], vec![0.9, 1.2, 0.6]];
        assert!((aggregate_mean(&m) - 0.55).abs() < 1e-15);
        assert!((optimality_gap(&m, 1.0) - (1.0 - 3.1 / 6.0)).abs() < 1e-15);
        assert_eq!(score_distribution(&m, &[0.5, 1.0]), vec![0.5, 1.0 / 6.0]);
        let b = Bootstrap::default();
        let a = aggregates(&m, &b);
        assert!(a.iqm.lo <= a.iqm.point && a.iqm.point <= a.iqm.hi);
        // Deterministic for a fixed seed.
        assert_eq!(aggregates(&m, &b).iqm.lo, a.iqm.lo);
    }

    #[test]
    fn pairwise_sum_long() {
        let x: Vec<f64> = (0..1000).map(|i| i as f64 * 0.1).collect();
        assert!((pairwise_sum(&x) - 49950.0).abs() < 1e-9);
    }
}
