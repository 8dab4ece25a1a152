//! The Rust RandomState against numpy's, on a fixed program of draws
//! (scripts/numpy_reference.py produces numpy's side live), and numpy's
//! vector norm, exp and log as the tasks reproduce them.

mod common;

use envs::RandomState;

fn program(seed: u64) -> Vec<f64> {
    use std::f64::consts::PI;
    let mut r = RandomState::new(seed);
    let mut out = Vec::new();
    out.extend((0..5).map(|_| r.random_sample()));
    out.extend(r.randn(5));
    out.push(r.uniform(-3.0, 2.0));
    out.push(r.standard_normal());
    out.extend(r.uniform_n(-PI, PI, 3));
    out.extend(r.randint_n(0, 10, 5).into_iter().map(|x| x as f64));
    out.extend(r.randint_n(-5, 1_000_000, 3).into_iter().map(|x| x as f64));
    out.extend(r.randint_n(0, 1 << 40, 2).into_iter().map(|x| x as f64));
    out.extend(r.rand(2));
    out.extend(r.permutation(10).into_iter().map(|x| x as f64));
    out.extend(r.choice(7, 4, true, None).into_iter().map(|x| x as f64));
    out.extend(r.choice(6, 3, false, None).into_iter().map(|x| x as f64));
    out.extend(
        r.choice(4, 5, true, Some(&[0.1, 0.2, 0.3, 0.4]))
            .into_iter()
            .map(|x| x as f64),
    );
    out.extend(
        r.choice(5, 3, false, Some(&[0.5, 0.2, 0.1, 0.1, 0.1]))
            .into_iter()
            .map(|x| x as f64),
    );
    out.push(r.normal(1.5, 0.5));
    for n in [2, 3, 4, 7, 12] {
        for _ in 0..20 {
            out.push(envs::numpy::numpy_norm(&r.randn(n)));
        }
    }
    use envs::numpy::{numpy_exp, numpy_log};
    for _ in 0..200 {
        let d = r.uniform(0.0, 20.0);
        // (d * s) ** 2 on a NumPy scalar is libm's pow.
        let t = (d * 2.145966026289347).powf(std::hint::black_box(2.0));
        out.push(numpy_exp(-0.5 * t));
    }
    out.extend(r.uniform_n(-740.0, 705.0, 200).into_iter().map(numpy_exp));
    out.extend(r.uniform_n(1e-6, 10.0, 200).into_iter().map(numpy_log));
    out.extend(
        r.uniform_n(-30.0, 30.0, 200)
            .into_iter()
            .map(|x| numpy_log(numpy_exp(x))),
    );
    out
}

/// Entries of [`program`] that are `np.log` values (per seed, at the end).
const LOGS_PER_SEED: usize = 400;

#[test]
fn random_state_reproduces_numpy_exactly() {
    let reference: Vec<f64> = common::run_reference("numpy_reference.py", &[])
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let ours: Vec<f64> = [0u64, 1, 12345, (1 << 32) - 1]
        .into_iter()
        .flat_map(program)
        .collect();
    assert_eq!(ours.len(), reference.len(), "program length");
    let per_seed = ours.len() / 4;
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        if i % per_seed >= per_seed - LOGS_PER_SEED {
            // NumPy's log kernel rounds a hardware reciprocal estimate whose
            // last bits vary between CPU makers; ours follows the one
            // measured on AMD Zen 4. Elsewhere allow one unit in the last
            // place.
            let ulps = (a.to_bits() as i64 - b.to_bits() as i64).abs();
            assert!(ulps <= 1, "log {i}: rust {a} vs numpy {b} ({ulps} ulp)");
        } else {
            assert_eq!(a.to_bits(), b.to_bits(), "draw {i}: rust {a} vs numpy {b}");
        }
    }
}
