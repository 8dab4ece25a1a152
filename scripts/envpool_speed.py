#!/usr/bin/env python3
"""EnvPool's batched stepping speed, for side-by-side comparison with ctrlbench.

Runs EnvPool's synchronous pool (batch_size = num_envs) of one task with
--envs environments on --threads threads through its gymnasium API, with
pre-drawn uniform random actions, for --steps control steps in all
(--steps / --envs batched calls). EnvPool resets a finished environment
inside the next call to `step` (that call returns the first observation), so
resets are part of the timed loop, as in a user's training loop.

The figure includes everything a Python user pays per batch: the call into
the pool, the wait for its threads, and the NumPy arrays it returns.

Prints one JSON object: {"task_id", "envpool", "envs", "threads",
"steps_per_s" (median of --repeats), "repeats" (each repeat's steps/s)}.

    envpool_speed.py --task-id CartpoleSwingup-v1 --envs 8 --threads 2
"""

import argparse
import json
import statistics
import sys
import time

import envpool
import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task-id", required=True, help="EnvPool task id, e.g. CartpoleSwingup-v1")
    p.add_argument("--envs", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20000, help="control steps in all")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    if args.task_id not in envpool.list_all_envs():
        print(f"EnvPool {envpool.__version__} has no task '{args.task_id}'", file=sys.stderr)
        return 2
    env = envpool.make(
        args.task_id,
        env_type="gymnasium",
        num_envs=args.envs,
        batch_size=args.envs,
        num_threads=args.threads,
        seed=args.seed,
    )
    space = env.action_space
    low = np.where(np.isfinite(space.low), space.low, -1.0)
    high = np.where(np.isfinite(space.high), space.high, 1.0)
    rng = np.random.RandomState(args.seed)
    actions = rng.uniform(low, high, size=(64, args.envs) + space.shape).astype(space.dtype)
    calls = max(1, -(-args.steps // args.envs))

    speeds = []
    for _ in range(max(1, args.repeats)):
        env.reset()
        start = time.perf_counter()
        for i in range(calls):
            env.step(actions[i % len(actions)])
        speeds.append(calls * args.envs / (time.perf_counter() - start))

    print(json.dumps({
        "task_id": args.task_id,
        "envpool": envpool.__version__,
        "envs": args.envs,
        "threads": args.threads,
        "steps_per_s": statistics.median(speeds),
        "repeats": speeds,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
