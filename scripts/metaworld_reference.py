#!/usr/bin/env python3
"""Reference trajectories from the real Meta-World (metaworld 3.1.1), for
parity checks.

A case runs one v3 task the way TD-MPC2 and DCWM build it, with seed s:
construct the goal-observable class with `seed=s`, call `np.random.seed(s)`,
unfreeze the goal (`_freeze_rand_vec = False`), `reset()`, then step with the
actions of a CSV file (no header, one row per step) as float32 arrays. When
an episode is truncated (500 steps) and actions remain, the env is reset
again (the global NumPy stream continues) and the reset row is written. The
output has the format of `ctrlbench env rollout` for Meta-World tasks:

    t,reward,discount,success,near_object,grasp_success,grasp_reward,
    in_place_reward,obj_to_target,unscaled_reward,obs_0,...,obs_38

A reset row has empty reward, discount and info values. Floats are written
with repr() (shortest round-trip) after widening to float64.

MuJoCo 3.17.0 has 12 values per equality constraint where metaworld 3.1.1
writes 11 into the mocap weld; the weld row is written into the first 11
(the 12th, which this weld does not use, keeps its compiled value).

One case:
    metaworld_reference.py --task reach --seed 3 --actions A.csv --out O.csv
Many cases in one process (a JSON list of objects with the same keys, and
"protocol": true for the benchmark protocol of TD-MPC2 and DCWM instead of
the raw task, "benchmark": true for metaworld's benchmark mode
(`gym.make('Meta-World/MT1', env_name=..., seed=s)`), or "scripted": N to take
N actions from metaworld's scripted policy with noise and write them to the
"actions" file):
    metaworld_reference.py --batch cases.json
"""

import argparse
import json
import os
import sys
import warnings

os.environ.setdefault("MUJOCO_GL", "disable")
warnings.filterwarnings("ignore")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
from metaworld import sawyer_xyz_env  # noqa: E402
from metaworld.env_dict import ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE  # noqa: E402

INFO_KEYS = [
    "success",
    "near_object",
    "grasp_success",
    "grasp_reward",
    "in_place_reward",
    "obj_to_target",
    "unscaled_reward",
]
WELD = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0]


def reset_mocap_welds(self):
    if self.model.nmocap > 0 and self.model.eq_data is not None:
        for i in range(self.model.eq_data.shape[0]):
            if self.model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
                self.model.eq_data[i, : len(WELD)] = np.array(WELD)


sawyer_xyz_env.SawyerMocapBase.reset_mocap_welds = reset_mocap_welds


def read_actions(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(x) for x in line.split(",")])
    return np.array(rows, dtype=np.float64).reshape(-1, 4).astype(np.float32)


def make(task, seed):
    cls = ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE[f"{task}-v3-goal-observable"]
    env = cls(seed=seed)
    np.random.seed(seed)
    env._freeze_rand_vec = False
    return env


def make_benchmark(task, seed):
    """metaworld's benchmark mode: `gym.make('Meta-World/MT1', ...)`, whose
    resets pick one of 50 task vectors drawn once from the seed."""
    import gymnasium as gym

    return gym.make("Meta-World/MT1", env_name=f"{task}-v3", seed=seed)


def num(x):
    return repr(float(x))


class ScriptedActions:
    """metaworld's scripted policy for the task plus Gaussian noise (std
    0.1, from its own generator), as float32: actions that grasp, push and
    place, so that the rewards' float32 branches run. Each action is
    appended to `path` as it is taken."""

    def __init__(self, task, seed, steps, path):
        from metaworld.policies import ENV_POLICY_MAP

        self.policy = ENV_POLICY_MAP[f"{task}-v3"]()
        self.noise = np.random.RandomState(seed + 4000)
        self.steps = steps
        self.file = open(path, "w")

    def __len__(self):
        return self.steps

    def take(self, obs):
        a = (self.policy.get_action(obs) + self.noise.normal(0.0, 0.1, 4)).astype(np.float32)
        self.file.write(",".join(repr(float(x)) for x in a) + "\n")
        self.file.flush()
        return a


def rollout(task, seed, actions, out, benchmark=False):
    env = make_benchmark(task, seed) if benchmark else make(task, seed)
    obs, _ = env.reset()
    scripted = isinstance(actions, ScriptedActions)
    blank = "," * (2 + len(INFO_KEYS))
    with open(out, "w") as f:
        f.write("t,reward,discount," + ",".join(INFO_KEYS) + "," + ",".join(f"obs_{i}" for i in range(len(obs))) + "\n")
        f.write(f"0{blank}," + ",".join(num(x) for x in obs) + "\n")
        t, ended = 0, False
        for a in actions if not scripted else range(len(actions)):
            t += 1
            if ended:
                obs, _ = env.reset()
                f.write(f"{t}{blank}," + ",".join(num(x) for x in obs) + "\n")
                t += 1
            if scripted:
                a = actions.take(obs)
            obs, reward, terminated, truncated, info = env.step(a)
            values = ",".join(num(info[k]) for k in INFO_KEYS)
            f.write(f"{t},{num(reward)},1.0,{values}," + ",".join(num(x) for x in obs) + "\n")
            ended = terminated or truncated


def protocol_rollout(task, seed, actions, out):
    """The benchmark protocol of TD-MPC2's and DCWM's Meta-World wrappers:
    after each reset one zero-action step (float64 zeros) whose result is
    discarded, then each action applied twice with the rewards summed and
    the info values of the second substep (TD-MPC2's; DCWM also records
    whether either substep succeeded); 100 agent steps per episode."""
    env = make(task, seed)
    episode = 100

    def reset():
        obs, _ = env.reset()
        env.step(np.zeros(4))
        return obs

    obs = reset()
    blank = "," * (2 + len(INFO_KEYS))
    with open(out, "w") as f:
        f.write("t,reward,discount," + ",".join(INFO_KEYS) + "," + ",".join(f"obs_{i}" for i in range(len(obs))) + "\n")
        f.write(f"0{blank}," + ",".join(num(x) for x in obs) + "\n")
        t, steps = 0, 0
        for a in actions:
            t += 1
            if steps == episode:
                obs = reset()
                steps = 0
                f.write(f"{t}{blank}," + ",".join(num(x) for x in obs) + "\n")
                t += 1
            reward = 0.0
            for _ in range(2):
                obs, r, _, _, info = env.step(a.copy())
                reward += r
            steps += 1
            values = ",".join(num(info[k]) for k in INFO_KEYS)
            f.write(f"{t},{num(reward)},1.0,{values}," + ",".join(num(x) for x in obs) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", help="v3 task name without the suffix, e.g. reach or pick-place")
    p.add_argument("--seed", type=int)
    p.add_argument("--actions")
    p.add_argument("--out")
    p.add_argument("--batch", help="JSON file with a list of cases")
    args = p.parse_args()
    if args.batch:
        with open(args.batch) as f:
            cases = json.load(f)
    else:
        if None in (args.task, args.seed, args.actions, args.out):
            p.error("give --batch, or all of --task --seed --actions --out")
        cases = [dict(task=args.task, seed=args.seed, actions=args.actions, out=args.out)]
    for c in cases:
        if c.get("scripted"):
            actions = ScriptedActions(c["task"], int(c["seed"]), int(c["scripted"]), c["actions"])
            rollout(c["task"], int(c["seed"]), actions, c["out"])
            continue
        actions = read_actions(c["actions"])
        if c.get("protocol"):
            protocol_rollout(c["task"], int(c["seed"]), actions, c["out"])
        else:
            rollout(c["task"], int(c["seed"]), actions, c["out"], benchmark=bool(c.get("benchmark")))


if __name__ == "__main__":
    sys.exit(main())
