#!/usr/bin/env python3
"""metaworld's own stepping speed, for side-by-side comparison with ctrlbench.

Measures, on one Meta-World v3 task and one thread, with pre-drawn random
float32 actions:
  * env_step: metaworld's `env.step(action)` (observation, reward, info) on
    the goal-observable class with unfrozen goals, resetting when an episode
    is truncated; the resets are timed apart (reset_ms);
  * mj_step:  a Python loop of the mocap move (within the task's bounds),
    `mujoco.mj_step` x 5 and
    `mujoco.mj_forward` on the task's model (what a step needs at least).
Prints one JSON object: {"task", "env_step", "mj_step", "reset_ms"}, control
steps per second (median of --repeats).

    metaworld_speed.py --task pick-place --steps 20000
"""

import argparse
import json
import statistics
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metaworld_reference  # noqa: E402  (patches metaworld for MuJoCo 3.17)
import mujoco  # noqa: E402
import numpy as np  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, help="v3 task name without the suffix, e.g. reach")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    env = metaworld_reference.make(args.task, args.seed)
    rng = np.random.RandomState(args.seed)
    actions = rng.uniform(-1.0, 1.0, size=(1024, 4)).astype(np.float32)

    env_speeds, reset_times = [], []
    for _ in range(max(1, args.repeats)):
        env.reset()
        in_resets = 0.0
        start = time.perf_counter()
        for i in range(args.steps):
            _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
            if terminated or truncated:
                r = time.perf_counter()
                env.reset()
                dt = time.perf_counter() - r
                in_resets += dt
                reset_times.append(dt)
        total = time.perf_counter() - start
        env_speeds.append(args.steps / (total - in_resets))

    model, data = env.model, env.data
    raw_speeds = []
    for _ in range(max(1, args.repeats)):
        env.reset()
        timed, start = 0.0, time.perf_counter()
        for i in range(args.steps):
            if i > 0 and i % env.max_path_length == 0:
                # Episodes restart as env.step's do (resets untimed).
                timed += time.perf_counter() - start
                env.reset()
                start = time.perf_counter()
            a = actions[i % len(actions)].astype(np.float64)
            data.mocap_pos[0] = np.clip(data.mocap_pos[0] + a[:3] * 0.01, env.mocap_low, env.mocap_high)
            data.ctrl[:] = (a[3], -a[3])
            mujoco.mj_step(model, data, nstep=5)
            mujoco.mj_forward(model, data)
        timed += time.perf_counter() - start
        raw_speeds.append(args.steps / timed)

    json.dump(
        {
            "task": args.task,
            "env_step": statistics.median(env_speeds),
            "mj_step": statistics.median(raw_speeds),
            "reset_ms": 1e3 * float(np.mean(reset_times)) if reset_times else None,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
