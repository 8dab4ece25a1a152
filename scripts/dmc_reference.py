#!/usr/bin/env python3
"""Reference trajectories from the real dm_control, for parity checks.

Runs `suite.load(domain, task, task_kwargs={'random': seed})`, resets it,
applies the actions of a CSV file (no header, one row per step) and writes the
trajectory in the format of `ctrlbench env rollout`:

    t,reward,discount,obs_0,...,obs_{n-1}

The first row is the reset observation (empty reward and discount); each
further row is the result of the next action row. When an episode ends and
actions remain, the environment is reset (its random stream continues) and
the reset row is written. Floats are written with repr() (shortest
round-trip).

One case:
    dmc_reference.py --domain cartpole --task swingup --seed 3 --actions A.csv --out O.csv
Many cases in one process (a JSON list of objects with the same four keys
plus "out"):
    dmc_reference.py --batch cases.json
"""

import argparse
import json
import os
import sys
import warnings

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from dm_control import suite  # noqa: E402
from dm_control.mujoco import engine  # noqa: E402

if os.environ["MUJOCO_GL"] == "disable":
    # Without a rendering backend, dm_control's `physics.contexts` raises
    # instead of reporting that there are none. quadruped-escape asks for it
    # only to re-upload its new heightfield to the GPU, which has no effect on
    # the physics: answer "no rendering contexts" so the task runs headless.
    engine.Physics.contexts = property(lambda self: None)


def read_actions(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(x) for x in line.split(",")])
    return np.array(rows, dtype=np.float64)


def flat(observation):
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in observation.values()])


def rollout(domain, task, seed, actions, out):
    env = suite.load(domain, task, task_kwargs={"random": seed})
    ts = env.reset()
    with open(out, "w") as f:
        obs = flat(ts.observation)
        f.write("t,reward,discount," + ",".join(f"obs_{i}" for i in range(len(obs))) + "\n")
        f.write("0,,," + ",".join(repr(float(x)) for x in obs) + "\n")
        t = 0
        for a in actions:
            t += 1
            if ts.last():
                # The next episode, as ctrlbench writes it: the reset row,
                # then the step (the task's random stream continues).
                ts = env.reset()
                f.write(f"{t},,," + ",".join(repr(float(x)) for x in flat(ts.observation)) + "\n")
                t += 1
            ts = env.step(a)
            obs = flat(ts.observation)
            f.write(f"{t},{float(ts.reward)!r},{float(ts.discount)!r}," + ",".join(repr(float(x)) for x in obs) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--domain")
    p.add_argument("--task")
    p.add_argument("--seed", type=int)
    p.add_argument("--actions")
    p.add_argument("--out")
    p.add_argument("--batch", help="JSON file with a list of cases")
    args = p.parse_args()
    if args.batch:
        with open(args.batch) as f:
            cases = json.load(f)
    else:
        if None in (args.domain, args.task, args.seed, args.actions, args.out):
            p.error("give --domain --task --seed --actions --out, or --batch")
        cases = [vars(args)]
    for c in cases:
        rollout(c["domain"], c["task"], int(c["seed"]), read_actions(c["actions"]), c["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
