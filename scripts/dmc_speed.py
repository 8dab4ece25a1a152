#!/usr/bin/env python3
"""dm_control's own stepping speed, for side-by-side comparison with ctrlbench.

Measures, on one task and one thread, with pre-drawn random actions:
  * env_step: dm_control `env.step(action)` (observation + reward), resetting
    when an episode ends, as a user's loop does;
  * mj_step:  a Python loop of `mujoco.mj_step` x n_sub_steps on the task's
    model (no observation or reward).
Prints one JSON object: {"task", "n_sub_steps", "env_step", "mj_step"} in
control steps per second (median of --repeats).

    dmc_speed.py --domain walker --task walk --steps 20000
"""

import argparse
import json
import statistics
import os
import sys
import time
import warnings

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from dm_control import suite  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--domain", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    env = suite.load(args.domain, args.task, task_kwargs={"random": args.seed})
    spec = env.action_spec()
    low = np.where(np.isfinite(spec.minimum), spec.minimum, -1.0)
    high = np.where(np.isfinite(spec.maximum), spec.maximum, 1.0)
    rng = np.random.RandomState(args.seed)
    actions = rng.uniform(low, high, size=(1024,) + spec.shape)
    n_sub = env._n_sub_steps  # physics steps per control step

    env_speeds = []
    for _ in range(max(1, args.repeats)):
        ts = env.reset()
        start = time.perf_counter()
        for i in range(args.steps):
            ts = env.step(actions[i % len(actions)])
            if ts.last():
                ts = env.reset()
        env_speeds.append(args.steps / (time.perf_counter() - start))

    physics = env.physics
    model, data = physics.model.ptr, physics.data.ptr
    raw_speeds = []
    for _ in range(max(1, args.repeats)):
        env.reset()
        start = time.perf_counter()
        for i in range(args.steps):
            data.ctrl[:] = actions[i % len(actions)]
            mujoco.mj_step(model, data, n_sub)
        raw_speeds.append(args.steps / (time.perf_counter() - start))

    print(json.dumps({
        "task": f"{args.domain}/{args.task}",
        "n_sub_steps": n_sub,
        "env_step": statistics.median(env_speeds),
        "mj_step": statistics.median(raw_speeds),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
