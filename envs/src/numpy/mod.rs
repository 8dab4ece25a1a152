//! numpy- and scipy-compatible numerics: the few computations whose
//! rounding decides whether a task reproduces dm_control or Meta-World bit
//! for bit.
//!
//! Contract: each function returns exactly (to the last bit) what the named
//! numpy/scipy call returns on the same machine, for the inputs the tasks
//! give it. [`numpy_dot_self`] / [`numpy_norm`] follow the `ddot` kernel that
//! numpy's OpenBLAS picks for this CPU; [`scipy_quat_from_matrix`] is
//! scipy's `Rotation.from_matrix` (Meta-World's object quaternions);
//! `CubicZoom` is scipy's `ndimage.zoom` with its defaults, as quadruped's
//! escape terrain uses it.
//! [`numpy_exp`] and [`numpy_log`] are NumPy's own SIMD kernels where it
//! uses them. numpy's random generator is [`crate::rng::RandomState`].

mod svml;

/// `x · x` as numpy computes it for short vectors (`np.dot`,
/// `np.linalg.norm`) on this CPU. numpy's OpenBLAS picks its `ddot` kernel
/// by CPU, and both kinds accumulate in order but round differently: the
/// kernels for AVX-512 CPUs (SkylakeX and later) add one fused multiply-add
/// per element, those for AVX2 CPUs (Haswell, Zen) and older add each
/// rounded square. The two results differ in the last bit for up to a third
/// of vectors, so dm_control's initial states (a normalised random
/// quaternion) depend on the CPU, and on chaotic systems so does the whole
/// trajectory; this follows the kernel numpy uses on the same machine.
pub fn numpy_dot_self(x: impl IntoIterator<Item = f64>) -> f64 {
    if openblas_ddot_fuses() {
        x.into_iter().fold(0.0, |s, v| v.mul_add(v, s))
    } else {
        x.into_iter().fold(0.0, |s, v| s + v * v)
    }
}

/// Whether numpy's OpenBLAS `ddot` runs a fused multiply-add kernel here:
/// its AVX-512 kernels, chosen when the CPU has AVX-512F.
fn openblas_ddot_fuses() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether numpy's SIMD dispatch reaches its AVX-512 (X86_V4) kernels here:
/// AVX-512 F, CD, VL, BW and DQ.
fn numpy_x86_v4() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `np.exp(x)` on a float64 scalar: on CPUs with AVX-512, NumPy's SVML
/// kernel (see `svml.rs`), which differs from libm in the last bit for
/// about 4% of inputs; elsewhere libm's `exp`, which NumPy calls there.
pub fn numpy_exp(x: f64) -> f64 {
    if numpy_x86_v4() {
        svml::exp(x)
    } else {
        x.exp()
    }
}

/// `np.log(x)` on a float64 scalar, as [`numpy_exp`]. The AVX-512 kernel
/// rounds a hardware reciprocal estimate, which this reproduces as AMD Zen
/// 4 computes it; on other AVX-512 CPUs NumPy's result may differ in the
/// last bit for about one input in 10^5.
pub fn numpy_log(x: f64) -> f64 {
    if numpy_x86_v4() { svml::log(x) } else { x.ln() }
}

/// `np.linalg.norm(x)` for short vectors (see [`numpy_dot_self`]).
pub fn numpy_norm(x: &[f64]) -> f64 {
    numpy_dot_self(x.iter().copied()).sqrt()
}

/// scipy's `Rotation.from_matrix(m).as_quat()` (scalar-last `[x, y, z, w]`,
/// no sign canonicalisation) for an orthonormal row-major matrix, as scipy
/// 1.17 computes it: Markley's method, picking the largest of the diagonal
/// and the trace (the first on ties), then a division by the norm summed
/// in order without fused multiply-adds.
pub fn scipy_quat_from_matrix(m: &[f64; 9]) -> [f64; 4] {
    let at = |r: usize, c: usize| m[3 * r + c];
    let tr = at(0, 0) + at(1, 1) + at(2, 2);
    let candidates = [at(0, 0), at(1, 1), at(2, 2), tr];
    let mut k = 0;
    for (i, &c) in candidates.iter().enumerate() {
        if c > candidates[k] {
            k = i;
        }
    }
    let mut q = [0.0; 4];
    if k < 3 {
        let (i, j, l) = (k, (k + 1) % 3, (k + 2) % 3);
        q[i] = 1.0 - tr + 2.0 * at(i, i);
        q[j] = at(j, i) + at(i, j);
        q[l] = at(l, i) + at(i, l);
        q[3] = at(l, j) - at(j, l);
    } else {
        q = [
            at(2, 1) - at(1, 2),
            at(0, 2) - at(2, 0),
            at(1, 0) - at(0, 1),
            1.0 + tr,
        ];
    }
    let norm = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    q.map(|v| v / norm)
}

/// scipy's `ndimage.zoom(input, factor)` of a square grid with its defaults
/// (cubic spline, `mode='constant'`, prefilter, `grid_mode=False`), as
/// dm_control smooths the escape terrain's bumps: the input is converted to
/// B-spline coefficients (mirror boundaries, axis 0 then axis 1), then each
/// output sample `k` is interpolated at input coordinate
/// `k (n - 1) / (out - 1)` with mirrored coefficient indices at the edges.
pub(crate) struct CubicZoom {
    n: usize,
    /// Side of the zoomed grid.
    pub(crate) out_len: usize,
    /// Per output index: the four input indices and their weights, or
    /// `None` outside the input (value 0).
    taps: Vec<Option<([usize; 4], [f64; 4])>>,
    coeffs: Vec<f64>,
    line: Vec<f64>,
    out: Vec<f64>,
}

/// The cubic B-spline's filter pole, `sqrt(3) - 2`.
const CUBIC_POLE: f64 = -0.267_949_192_431_122_7;

impl CubicZoom {
    /// The zoom of an `n × n` grid by `factor` (scipy rounds the output
    /// side `n * factor` half to even).
    pub(crate) fn new(n: usize, factor: f64) -> Self {
        let out_len = (n as f64 * factor).round_ties_even() as usize;
        let zoom = if out_len > 1 {
            (n - 1) as f64 / (out_len - 1) as f64
        } else {
            1.0
        };
        let taps = (0..out_len)
            .map(|k| {
                let cc = k as f64 * zoom;
                if cc < 0.0 || cc > (n - 1) as f64 {
                    return None;
                }
                let start = cc.floor() as i64 - 1;
                let idx = std::array::from_fn(|h| mirror_index(start + h as i64, n));
                Some((idx, cubic_weights(cc)))
            })
            .collect();
        CubicZoom {
            n,
            out_len,
            taps,
            coeffs: vec![0.0; n * n],
            line: vec![0.0; n],
            out: vec![0.0; out_len * out_len],
        }
    }

    /// The zoomed `out_len × out_len` grid (row-major) of an `n × n` input.
    pub(crate) fn apply(&mut self, input: &[f64]) -> &[f64] {
        let n = self.n;
        self.coeffs.copy_from_slice(input);
        if n > 1 {
            // Axis 0: every column.
            for c in 0..n {
                for r in 0..n {
                    self.line[r] = self.coeffs[r * n + c];
                }
                spline_filter_line(&mut self.line);
                for r in 0..n {
                    self.coeffs[r * n + c] = self.line[r];
                }
            }
            // Axis 1: every row.
            for r in 0..n {
                spline_filter_line(&mut self.coeffs[r * n..(r + 1) * n]);
            }
        }
        for (i, tap_i) in self.taps.iter().enumerate() {
            for (j, tap_j) in self.taps.iter().enumerate() {
                self.out[i * self.out_len + j] = match (tap_i, tap_j) {
                    (Some((ri, wi)), Some((cj, wj))) => {
                        let mut t = 0.0;
                        for a in 0..4 {
                            for b in 0..4 {
                                t += self.coeffs[ri[a] * n + cj[b]] * wi[a] * wj[b];
                            }
                        }
                        t
                    }
                    _ => 0.0,
                };
            }
        }
        &self.out
    }
}

/// An index outside `[0, len)` mirrored about the end samples.
fn mirror_index(idx: i64, len: usize) -> usize {
    let len = len as i64;
    if len <= 1 {
        return 0;
    }
    let s2 = 2 * len - 2;
    let mut idx = idx;
    if idx < 0 {
        idx += s2 * (-idx / s2);
        idx = if idx <= 1 - len { idx + s2 } else { -idx };
    } else if idx >= len {
        idx -= s2 * (idx / s2);
        if idx >= len {
            idx = s2 - idx;
        }
    }
    idx as usize
}

/// The four cubic B-spline weights at coordinate `x` (for the samples
/// `floor(x) - 1 ..= floor(x) + 2`).
fn cubic_weights(x: f64) -> [f64; 4] {
    let y = x - x.floor();
    let z = 1.0 - y;
    let w1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
    let w2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
    let w0 = z * z * z / 6.0;
    let w3 = 1.0 - w0 - w1 - w2;
    [w0, w1, w2, w3]
}

/// Converts one line of samples to cubic B-spline coefficients in place,
/// with mirror-symmetric boundaries (a causal and an anti-causal recursive
/// filter after the gain).
fn spline_filter_line(c: &mut [f64]) {
    let n = c.len();
    let z = CUBIC_POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    for v in c.iter_mut() {
        *v *= gain;
    }
    // Causal initialisation (mirror).
    let z_n_1 = z.powf((n - 1) as f64);
    let mut z_i = z;
    c[0] += z_n_1 * c[n - 1];
    for i in 1..n - 1 {
        c[0] += z_i * (c[i] + z_n_1 * c[n - 1 - i]);
        z_i *= z;
    }
    c[0] /= 1.0 - z_n_1 * z_n_1;
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // Anti-causal initialisation (mirror).
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RandomState;

    /// scipy.ndimage.zoom(RandomState(0).uniform(.15, 1, (30, 30)), 201 / 30),
    /// values printed by scipy 1.17.
    #[test]
    fn cubic_zoom_matches_scipy_bit_for_bit() {
        let mut random = RandomState::new(0);
        let bumps: Vec<f64> = (0..900).map(|_| random.uniform(0.15, 1.0)).collect();
        let mut zoom = CubicZoom::new(30, 201.0 / 30.0);
        assert_eq!(zoom.out_len, 201);
        let out = zoom.apply(&bumps);
        let expected = [
            ((0, 0), 0.6164914783382262),
            ((0, 1), 0.6235082608541967),
            ((1, 200), 0.4891723757595413),
            ((5, 7), 0.8544046257955905),
            ((100, 100), 0.30414718828717086),
            ((137, 64), 0.4953515581245582),
            ((199, 2), 0.7931444127630733),
            ((200, 200), 0.5041879933724044),
        ];
        for ((i, j), v) in expected {
            assert_eq!(out[i * 201 + j], v, "zoom[{i}, {j}]");
        }
        let sum: f64 = out.iter().sum();
        assert!((sum - 22982.72892465467).abs() < 1e-8, "sum {sum}");
    }
}
