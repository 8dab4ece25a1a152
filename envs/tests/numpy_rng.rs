//! The Rust RandomState against numpy's, on a fixed program of draws
//! (scripts/numpy_reference.py produces numpy's side live), and numpy's
//! vector norm as the tasks reproduce it.

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
    out
}

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
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "draw {i}: rust {a} vs numpy {b}");
    }
}
