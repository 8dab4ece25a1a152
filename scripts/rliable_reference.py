#!/usr/bin/env python3
"""rliable's point estimates and percentile stratified-bootstrap CIs for a
fixed score matrix, printed as JSON (the reference of harness/tests/stats_rliable.rs).

Input (JSON file):
  {"reps": 5000, "seed": 0, "taus": [0.0, 0.1, ...],
   "algorithms": {"A": [[task0 run scores...], [task1 run scores...], ...], ...},
   "tasks": [[run scores...], ...]}
Every task of an algorithm has the same number of runs (rliable's
(num_runs x num_tasks) matrix is the transpose).

Output: {"aggregates": {"A": {"iqm": [point, lo, hi], "mean": ..., "median": ...,
          "optimality_gap": ...}},
         "profiles": {"A": {"point": [...], "lo": [...], "hi": [...]}},
         "tasks": [{"mean": [p, lo, hi], "median": [...], "iqm": [...], "std": s}, ...]}

Usage: rliable_reference.py INPUT.json
"""
import json
import sys

import numpy as np
import scipy.stats
from rliable import library as rly
from rliable import metrics


def triple(point, ci, i):
    return [float(point[i]), float(ci[0][i]), float(ci[1][i])]


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    reps = int(spec["reps"])
    seed = int(spec["seed"])
    taus = np.array(spec["taus"], dtype=float)
    scores = {k: np.array(v, dtype=float).T for k, v in spec["algorithms"].items()}

    def aggregate(x):
        return np.array([
            metrics.aggregate_iqm(x),
            metrics.aggregate_mean(x),
            metrics.aggregate_median(x),
            metrics.aggregate_optimality_gap(x, 1.0),
        ])

    np.random.seed(seed)
    points, cis = rly.get_interval_estimates(scores, aggregate, reps=reps)
    aggregates = {
        k: {name: triple(points[k], cis[k], i)
            for i, name in enumerate(["iqm", "mean", "median", "optimality_gap"])}
        for k in scores
    }

    np.random.seed(seed + 1)
    profiles, profile_cis = rly.create_performance_profile(scores, taus, reps=reps)
    profiles_out = {
        k: {"point": [float(v) for v in profiles[k]],
            "lo": [float(v) for v in profile_cis[k][0]],
            "hi": [float(v) for v in profile_cis[k][1]]}
        for k in scores
    }

    def task_stats(x):
        v = x[:, 0]
        return np.array([np.mean(v), np.median(v), scipy.stats.trim_mean(v, 0.25)])

    tasks = []
    for i, runs in enumerate(spec.get("tasks", [])):
        x = np.array(runs, dtype=float)[:, None]
        np.random.seed(seed + 2 + i)
        p, c = rly.get_interval_estimates({"t": x}, task_stats, reps=reps)
        tasks.append({
            "mean": triple(p["t"], c["t"], 0),
            "median": triple(p["t"], c["t"], 1),
            "iqm": triple(p["t"], c["t"], 2),
            "std": float(np.std(x[:, 0], ddof=1)),
        })

    json.dump({"aggregates": aggregates, "profiles": profiles_out, "tasks": tasks},
              sys.stdout)


if __name__ == "__main__":
    main()
