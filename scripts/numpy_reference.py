#!/usr/bin/env python3
"""Draws a fixed program of numpy.random.RandomState calls and prints one
number per line. tests/numpy_rng.rs runs the same program on the Rust
RandomState and compares the outputs exactly."""

import numpy as np


def program(seed):
    r = np.random.RandomState(seed)
    out = []
    out += list(r.random_sample(5))
    out += list(r.randn(5))  # odd: leaves a cached Gaussian
    out += [r.uniform(-3.0, 2.0)]
    out += [r.standard_normal()]  # uses the cache
    out += list(r.uniform(-np.pi, np.pi, 3))
    out += list(r.randint(0, 10, 5))
    out += list(r.randint(-5, 1000000, 3))
    out += list(r.randint(0, 2**40, 2))
    out += list(r.rand(2))
    out += list(r.permutation(10))
    out += list(r.choice(7, 4))
    out += list(r.choice(6, 3, replace=False))
    out += list(r.choice(4, 5, p=[0.1, 0.2, 0.3, 0.4]))
    out += list(r.choice(5, 3, replace=False, p=[0.5, 0.2, 0.1, 0.1, 0.1]))
    out += [r.normal(1.5, 0.5)]
    # np.linalg.norm of short vectors (BLAS dot: the summation order matters).
    for n in (2, 3, 4, 7, 12):
        for _ in range(20):
            out += [np.linalg.norm(r.randn(n))]
    # np.exp and np.log on scalars (NumPy's own kernels on AVX-512 CPUs):
    # Meta-World's gaussian reward exp(-0.5 (2.145966026289347 d)^2), wide
    # exponents, and logs of small distances.
    for _ in range(200):
        d = r.uniform(0.0, 20.0)
        out += [np.exp(-0.5 * (d * 2.145966026289347) ** 2)]
    out += [np.exp(x) for x in r.uniform(-740.0, 705.0, 200)]
    out += [np.log(x) for x in r.uniform(1e-6, 10.0, 200)]
    out += [np.log(x) for x in np.exp(r.uniform(-30.0, 30.0, 200))]
    return out


if __name__ == "__main__":
    for seed in [0, 1, 12345, 2**32 - 1]:
        for x in program(seed):
            print(repr(float(x)))
