#!/usr/bin/env python3
"""Numerical equivalence check: ctrlbench's DCWM agent against the official code.

What it checks. Both implementations start from the same weights (the official
agent's initial parameters) and consume the same batches and the same random
numbers; the script compares, with tolerances:
  - 3 consecutive full updates (world model, critics, and the actor on every
    second critic update): the encoder output and FSQ indices of the batch's
    first observations before each update, the losses and gradient norms, the
    TD targets, the post-clip gradient of every trained tensor, and every
    parameter (online and Polyak targets) after each update;
  - 4 MPPI plans on the updated networks (explore cold, explore warm, eval
    cold, eval warm): each iteration's values and elites, the final mean, the
    first step's std and the executed action.

Where the official code comes from. aidanscannell/dcmpc (DC-MPC / DCWM,
Scannell et al., ICLR 2025), from a local checkout whose path is given with
--dcmpc. That repository has no licence, so none of its code is copied into
this project: the script imports its `dcmpc.py` and `utils/` from that path,
stubs the modules it imports only for logging, clusters and replay buffers
(wandb, hydra_plugins, torchrl), and drives the real `DCMPC.update` and
`DCMPC.select_action`. Its random draws are replaced by monkeypatching
`torch.nn.functional.gumbel_softmax`, `torch.randn_like`, `torch.randperm`,
`torch.normal`, `torch.randn` and `torch.distributions.Categorical` with
functions that return the injected tensors (an unexpected or missing call is
an error).

Tolerances (f32, CPU): encoder output, losses, grad norms, TD targets and
plan values: max|Δ| / max|official| ≤ 1e-5; gradients, per tensor:
‖Δ‖/‖g‖ ≤ 1e-4 and cosine ≥ 0.9999; parameters after each update:
|Δ| ≤ 1e-6 on the elements whose gradient exceeded 1e-6 at every step so far
(Adam's first steps are ±lr·sign(g), so tiny gradients may flip; the fraction
and the largest |Δ| elsewhere are reported); Polyak targets: |Δ| ≤ 1e-7 or
≤ 4 ulp of the value on the same elements; FSQ indices exact (mismatches at
rounding ties are reported and allowed); elite sets equal unless the values
tie at rank num_elites (gap ≤ 1e-5); final mean, std and executed action:
|Δ| ≤ 1e-5.

The Rust side is `ctrlbench dcwm-replay WORKDIR`, which reads config.json,
weights.safetensors and inputs.safetensors from the work dir (written here)
and writes rust.safetensors and rust.json.

Environment. On first use the script creates a venv at
$CTRLBENCH_CACHE/dcwm-official-venv (CTRLBENCH_CACHE defaults to
~/.cache/ctrlbench) with `python3 -m venv`, links the project's torch 2.11
($CTRLBENCH_CACHE/torch-2.11.0/lib/python3.*/site-packages) into it with a
.pth file, and installs the pure-Python packages of VENV_PACKAGES (see also
dcwm_official_requirements.txt) with `pip install --no-deps`; then it
re-executes itself with the venv's python.

Usage:
    python3 scripts/dcwm_official_check.py --dcmpc PATH [--size small|paper]
        [--nstep 1|3] [--ctrlbench BIN] [--work DIR] [--time N] [--threads T]
        [--no-rust]

Timing (--time N): each side's update and plan, median of N calls after 3
warm-ups, same sizes, same thread count, back to back (the Rust side first,
the official side after the comparison). The Rust side also measures the
machine's f32 matrix-multiply rate and counts the plan's matmul FLOPs, so the
table states the plan's FLOP floor and how far each side is from it.

Outputs in the work dir: config.json, weights.safetensors, inputs.safetensors
(for Rust), official.safetensors (the official results, under the names of
rust.safetensors), comparison.md and comparison.json. Exit code 1 if a check
fails (or the Rust side could not run).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_venv  # noqa: E402
from reference_venv import cache_root  # noqa: E402

# Pure-Python dependencies of the official code (and safetensors), installed
# with --no-deps next to the linked torch 2.11. Same list as
# dcwm_official_requirements.txt.
VENV_PACKAGES = [
    "tensordict==0.15.3",
    "numpy==2.4.6",
    "cloudpickle==3.1.3",
    "packaging==26.4",
    "importlib_metadata==8.7.0",
    "zipp==4.1.2",
    "orjson==3.13.0",
    "pyvers==0.2.3",
    "einops==0.8.2",
    "einx==0.4.3",
    "frozendict==2.5.1",
    "vector-quantize-pytorch==1.32.0",
    "loguru==0.7.3",
    "torch-einops-utils==0.2.0",
    "safetensors==0.8.0",
    "termcolor==3.3.0",
]


# ----------------------------------------------------------------------------
# Venv
# ----------------------------------------------------------------------------


def reexec_in_venv():
    reference_venv.reexec_in_venv(
        "dcwm-official-venv", VENV_PACKAGES, "the official code's dependencies", __file__, ''
    )


# ----------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------

SIZES = {
    "small": dict(latent_dim=16, batch_size=32, mlp_dims=[64, 64], enc_mlp_dims=[32],
                  num_samples=64, num_elites=8, num_pi_trajs=4, obs=24, act=6, horizon=5),
    "paper": dict(latent_dim=512, batch_size=512, mlp_dims=[512, 512], enc_mlp_dims=[256],
                  num_samples=512, num_elites=64, num_pi_trajs=24, obs=24, act=6, horizon=5),
}
COMMON = dict(fsq_levels=[5, 3], iterations=6, plan_horizon=3, r_min=0.0, r_max=2.0,
              num_critics=5, q_sample_size=2, actor_update_freq=2, use_amp=False,
              compile=False, device="cpu", verbose=False)
UPDATES = 3
PLANS = [
    {"mode": "explore", "warm": False},
    {"mode": "explore", "warm": True},
    {"mode": "eval", "warm": False},
    {"mode": "eval", "warm": True},
]
PLAN_SIGMA = 0.5
DATA_SEED = 20250101

# Tolerances (see the module docstring of the note this check follows).
TOL_REL = 1e-5          # encoder output, losses, TD targets, grad norms, plan values
TOL_GRAD_REL = 1e-4     # per tensor ||Δ|| / ||g||
TOL_GRAD_COS = 0.9999   # per tensor cosine
TOL_PARAM = 1e-6        # |Δ| of online parameters where |g| > GRAD_FLOOR
TOL_TARGET = 1e-7       # |Δ| of Polyak targets (same mask), or TARGET_ULPS ulp of the value
TARGET_ULPS = 4         # a Polyak average rounds differently as lerp or as a·(1−τ) + b·τ: a few
                        # ulp, which exceed 1e-7 where |p| ≈ 1 (LayerNorm gains; ulp(1) = 1.2e-7)
GRAD_FLOOR = 1e-6
TOL_PLAN = 1e-5         # final mean / std / action, abs
TIE_GAP = 1e-5          # elites compared only when the gap at rank num_elites exceeds this


# ----------------------------------------------------------------------------
# Official code: import with stubs
# ----------------------------------------------------------------------------


def import_official(path):
    """Imports DCMPC, DCMPCConfig and ReplayBufferSamples from a dcmpc checkout."""
    import dataclasses
    import types

    def stub(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    class _Unused:
        """Stands for torchrl / replay-buffer classes the check never builds."""

        def __init__(self, *a, **k):
            raise RuntimeError("torchrl stub: not available in the equivalence check")

    # wandb: only `wandb.run` (None) and `wandb.log` are used.
    stub("wandb", run=None, log=lambda *a, **k: None, init=lambda *a, **k: None)
    # hydra-submitit-launcher: SlurmQueueConf is a base dataclass of the
    # cluster configs in utils/cluster_utils.py.
    stub("hydra_plugins")
    stub("hydra_plugins.hydra_submitit_launcher")
    stub("hydra_plugins.hydra_submitit_launcher.config",
         SlurmQueueConf=dataclasses.dataclass(type("SlurmQueueConf", (), {})))
    # torchrl: specs are only annotations; the replay buffer is replaced by
    # hand-built batches.
    names = ["BoundedTensorSpec", "CompositeSpec", "ReplayBuffer", "LazyMemmapStorage",
             "SliceSampler", "TensorDictReplayBuffer", "SamplerWithoutReplacement",
             "PrioritizedSliceSampler", "RandomSampler"]
    cls = {n: type(n, (_Unused,), {}) for n in names}
    tr = stub("torchrl")
    data = stub("torchrl.data", **cls)
    rbs = stub("torchrl.data.replay_buffers", **cls)
    smp = stub("torchrl.data.replay_buffers.samplers", **cls)
    tr.data, data.replay_buffers, rbs.samplers = data, rbs, smp

    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, "dcmpc.py")):
        sys.exit(f"error: {path}/dcmpc.py not found (--dcmpc takes a checkout of aidanscannell/dcmpc)")
    sys.path.insert(0, path)
    import dcmpc  # noqa: E402  (the official module)
    import utils.buffers  # noqa: E402

    return dcmpc.DCMPC, dcmpc.DCMPCConfig, utils.buffers.ReplayBufferSamples


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------


def make_cfg(DCMPCConfig, size, nstep):
    s = SIZES[size]
    kw = {k: v for k, v in s.items() if k not in ("obs", "act")}
    kw.update(COMMON)
    kw["nstep"] = nstep
    # The official exploration std is `linspace(start, end, N)[episode]`;
    # start = end makes it PLAN_SIGMA whatever the schedule's step.
    kw["exploration_noise_start"] = PLAN_SIGMA
    kw["exploration_noise_end"] = PLAN_SIGMA
    return DCMPCConfig(**kw)


def build_agent(DCMPC, DCMPCConfig, size, nstep):
    import torch
    from types import SimpleNamespace

    s = SIZES[size]
    cfg = make_cfg(DCMPCConfig, size, nstep)  # fresh: WorldModel mutates latent_dim
    torch.manual_seed(0)
    obs_spec = {"state": SimpleNamespace(shape=(s["obs"],))}
    act_spec = SimpleNamespace(shape=(s["act"],), low=-torch.ones(s["act"]), high=torch.ones(s["act"]))
    return DCMPC(cfg, obs_spec=obs_spec, act_spec=act_spec)


def rust_config(DCMPCConfig, agent, size, nstep, time_calls):
    cfg = make_cfg(DCMPCConfig, size, nstep)  # unmutated latent_dim
    keys = ["latent_dim", "fsq_levels", "enc_mlp_dims", "mlp_dims", "horizon", "rho", "enc_lr",
            "grad_clip_norm", "lr", "batch_size", "num_critics", "q_sample_size",
            "actor_update_freq", "nstep", "gamma", "tau", "policy_noise", "noise_clip",
            "iterations", "num_samples", "num_elites", "num_pi_trajs", "plan_horizon", "min_std",
            "max_std", "temperature", "r_min", "r_max", "use_fsq", "consistency_coef",
            "reward_coef", "consistency_loss", "unc_prop_mode", "straight_through_gumbel",
            "use_amp", "mpc", "use_mppi_mean"]
    d = {k: getattr(cfg, k) for k in keys}
    for k in ("grad_clip_norm", "rho", "gamma", "tau", "policy_noise", "noise_clip", "min_std",
              "max_std", "temperature", "r_min", "r_max", "enc_lr", "lr", "consistency_coef",
              "reward_coef"):
        d[k] = float(d[k])
    # AdamW's weight decay is not in the config: PyTorch's default.
    d["enc_weight_decay"] = float(agent.model_opt.param_groups[0]["weight_decay"])
    assert agent.model_opt.param_groups[0]["lr"] == cfg.enc_lr
    assert agent.q_opt.param_groups[0]["lr"] == cfg.lr and agent.pi_opt.param_groups[0]["lr"] == cfg.lr
    assert agent.q_opt.param_groups[0]["weight_decay"] == 0 and agent.pi_opt.param_groups[0]["weight_decay"] == 0
    d["td_discount"] = "official"
    d["critic_init"] = "pytorch"
    s = SIZES[size]
    return {"dcwm": d, "obs_dim": s["obs"], "act_dim": s["act"], "critic_updates": 1,
            "updates": UPDATES, "plans": PLANS, "plan_sigma": PLAN_SIGMA, "time_calls": time_calls}


def official_weights(agent):
    """The official initial parameters under their official names."""
    out = {}
    for k, v in agent.model.state_dict().items():
        if k.split(".")[0] in ("_encoder", "_trans", "_reward"):
            out["model." + k] = v
    for prefix, mod in (("_pi.", agent._pi), ("_pi_tar.", agent._pi_tar),
                        ("_Qs.", agent._Qs), ("Qs_tar.", agent.Qs_tar)):
        for k, v in mod.state_dict().items():
            out[prefix + k] = v
    return {k: v.detach().float().contiguous().clone() for k, v in out.items()}


def smooth(gen, shape, steps, scale=1.0):
    """Sums of random sinusoids along a time axis: [*shape, steps]."""
    import torch

    t = torch.arange(steps, dtype=torch.float32)
    out = torch.zeros(*shape, steps)
    for _ in range(3):
        w = 0.2 + 0.8 * torch.rand(*shape, 1, generator=gen)
        phi = 6.2832 * torch.rand(*shape, 1, generator=gen)
        amp = 0.3 + 0.7 * torch.rand(*shape, 1, generator=gen)
        out += amp * torch.sin(w * t + phi)
    return out * scale


def make_inputs(cfg, size, nstep):
    """Batches and random numbers of the 3 updates and 4 plans (Rust layouts)."""
    import torch

    s = SIZES[size]
    B, O, A, H = s["batch_size"], s["obs"], s["act"], cfg.horizon
    d = s["latent_dim"]
    C = 1
    for lv in cfg.fsq_levels:
        C *= lv
    T = max(H, nstep)
    Hp, I, N, Npi, K = cfg.plan_horizon, cfg.iterations, cfg.num_samples, cfg.num_pi_trajs, cfg.num_critics
    gen = torch.Generator().manual_seed(DATA_SEED)
    x = {}

    def members():
        return torch.randperm(K, generator=gen)[: cfg.q_sample_size].to(torch.int64)

    for k in range(UPDATES):
        offset = torch.randn(B, O, 1, generator=gen) * 0.5
        obs = smooth(gen, (B, O), T + 1) + offset + 0.05 * torch.randn(B, O, T + 1, generator=gen)
        obs = obs.permute(0, 2, 1).contiguous()                          # [B, T+1, O]
        act = torch.tanh(smooth(gen, (B, A), T, 1.2) + 0.3 * torch.randn(B, A, T, generator=gen))
        act = act.permute(0, 2, 1).contiguous()                          # [B, T, A]
        # Rewards in (0, 2) that depend on the next observation and the action.
        feat = obs[:, 1:, :4].mean(-1) - 0.5 * (act ** 2).mean(-1)
        rew = 1.0 + torch.tanh(1.5 * feat + 0.2 * torch.randn(B, T, generator=gen))
        x[f"u{k}.obs"] = obs
        x[f"u{k}.action"] = act
        x[f"u{k}.reward"] = rew.contiguous()
        x[f"u{k}.terminated"] = torch.zeros(B, T)
        e = torch.empty(H, B, C, d).exponential_(generator=gen)
        x[f"u{k}.gumbel"] = -torch.log(e)                                  # [H, B, C, d]
        x[f"u{k}.smoothing"] = torch.randn(B, A, generator=gen)
        x[f"u{k}.target_critics"] = members()
        x[f"u{k}.actor_critics"] = members()
    for p in range(len(PLANS)):
        row = p % B
        x[f"p{p}.obs"] = (x["u0.obs"][row, 0] + 0.1 * torch.randn(O, generator=gen)).contiguous()
        x[f"p{p}.samples"] = torch.randn(I, Hp, N - Npi, A, generator=gen)
        x[f"p{p}.prior"] = torch.randn(Hp, A, generator=gen)
        x[f"p{p}.terminal"] = torch.randn(I, A, generator=gen)
        x[f"p{p}.choice"] = torch.rand(1, generator=gen)
        x[f"p{p}.explore"] = torch.randn(A, generator=gen)
        x[f"p{p}.critics"] = torch.stack([members() for _ in range(I)])
    return {k: v.contiguous() for k, v in x.items()}


# ----------------------------------------------------------------------------
# Noise injection and capture
# ----------------------------------------------------------------------------


def unbatch(t):
    """The value of a tensor seen inside `vmap` with batch size 1, outside it."""
    import torch

    f = torch._C._functorch
    while f.is_batchedtensor(t):
        bdim = f.maybe_get_bdim(t)
        t = f.get_unwrapped(t)
        assert t.shape[bdim] == 1, t.shape
        t = t.select(bdim, 0)
    return t.detach().clone()


class Injector:
    """Replaces the official code's random draws by queued tensors.

    Each patched function pops the next tensor of its queue; a call with an
    empty queue, or a shape mismatch, raises. `check_empty` asserts that every
    queued tensor was used.
    """

    def __init__(self):
        self.queues = {n: [] for n in ("gumbel", "randn_like", "randperm", "normal", "randn", "choice")}
        self.saved = []
        self.log = []  # (name, shape) of each injection, for the report

    def push(self, name, *tensors):
        self.queues[name].extend(tensors)

    def pop(self, name, shape=None):
        q = self.queues[name]
        if not q:
            raise RuntimeError(f"unexpected extra call to the patched {name}")
        t = q.pop(0)
        if shape is not None and tuple(t.shape) != tuple(shape):
            raise RuntimeError(f"patched {name}: queued shape {tuple(t.shape)}, call wants {tuple(shape)}")
        self.log.append((name, tuple(t.shape)))
        return t

    def check_empty(self):
        left = {n: len(q) for n, q in self.queues.items() if q}
        if left:
            raise RuntimeError(f"injected noise not consumed: {left}")

    def _set(self, obj, name, value):
        self.saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def __enter__(self):
        import torch
        import torch.nn.functional as F

        inj = self

        def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
            # PyTorch's formula with g = -log(E), E ~ Exp(1), taken from the queue.
            g = inj.pop("gumbel", logits.shape).to(logits.dtype)
            y_soft = ((logits + g) / tau).softmax(dim)
            if not hard:
                return y_soft
            index = y_soft.max(dim, keepdim=True)[1]
            y_hard = torch.zeros_like(logits).scatter_(dim, index, 1.0)
            return y_hard - y_soft.detach() + y_soft

        def randn_like(x, *a, **k):
            return inj.pop("randn_like", x.shape).to(dtype=x.dtype).clone()

        def randperm(n, *a, **k):
            t = inj.pop("randperm", (n,))
            return t.clone()

        def normal(mean, std, *a, **k):
            eps = inj.pop("normal", std.shape if torch.is_tensor(std) else None)
            return mean + std * eps

        def randn(*size, **k):
            if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
                size = tuple(size[0])
            return inj.pop("randn", size).clone()

        class Categorical:
            """Inverse CDF with the queued uniform: the Rust planner's rule."""

            def __init__(self, probs=None, logits=None, validate_args=None):
                assert probs is not None
                self.probs = probs

            def sample(self, sample_shape=()):
                u = inj.pop("choice").reshape(())
                cdf = torch.cumsum(self.probs, 0)
                idx = (cdf < u * cdf[-1]).sum().clamp(max=self.probs.shape[0] - 1)
                return idx.to(torch.int64)

        self._set(F, "gumbel_softmax", gumbel_softmax)
        self._set(torch, "randn_like", randn_like)
        self._set(torch, "randperm", randperm)
        self._set(torch, "normal", normal)
        self._set(torch, "randn", randn)
        self._set(torch.distributions, "Categorical", Categorical)
        return self

    def __exit__(self, *exc):
        while self.saved:
            obj, name, value = self.saved.pop()
            setattr(obj, name, value)
        return False


def full_perm(first, n):
    """A permutation of range(n) starting with `first`."""
    import torch

    first = [int(i) for i in first]
    return torch.tensor(first + [i for i in range(n) if i not in first], dtype=torch.int64)


def param_names(agent):
    names = {}
    for prefix, mod in (("model.", agent.model), ("_pi.", agent._pi), ("_Qs.", agent._Qs)):
        for n, p in mod.named_parameters():
            names[id(p)] = prefix + n
    return names


class Batch:
    """The replay buffer `DCMPC.update` samples from: always the same batch."""

    def __init__(self, samples):
        self.samples = samples

    def sample(self, *a, **k):
        return self.samples


def official_batch(ReplayBufferSamples, x, k):
    """Time-major ReplayBufferSamples from the batch-major inputs of update k."""
    import torch
    from tensordict import TensorDict

    obs = x[f"u{k}.obs"].transpose(0, 1).contiguous()        # [T+1, B, O]
    T, B = obs.shape[0] - 1, obs.shape[1]
    return ReplayBufferSamples(
        observations=TensorDict({"state": obs[:T]}, batch_size=(T, B)),
        actions=x[f"u{k}.action"].transpose(0, 1).contiguous(),
        next_observations=TensorDict({"state": obs[1:]}, batch_size=(T, B)),
        dones=torch.zeros(T, B, dtype=torch.bool),
        terminateds=x[f"u{k}.terminated"].transpose(0, 1).to(torch.int),
        rewards=x[f"u{k}.reward"].transpose(0, 1).contiguous(),
        next_state_gammas=torch.ones(T, B, dtype=torch.float32),
        zs=None,
        next_zs=None,
    )


def encode_first(agent, obs0):
    import torch
    from tensordict import TensorDict

    with torch.no_grad():
        z = agent.model._encoder["state"](obs0)
        td = agent.model.encode(TensorDict({"state": obs0}, batch_size=(obs0.shape[0],)))
    return z.detach().clone(), td["indices"].to(torch.int64).clone()


def run_official(agent, ReplayBufferSamples, x, cfg, inj_overrides=None):
    """Runs 3 updates and 4 plans with injected noise; returns the results
    under the names of rust.safetensors."""
    import torch
    import torch.nn.functional as F
    from tensordict import TensorDict

    x = dict(x)
    if inj_overrides:
        x.update(inj_overrides)
    res = {}
    names = param_names(agent)
    K, H = cfg.num_critics, cfg.horizon
    grads = {}

    def hook(opt, args, kwargs):
        for group in opt.param_groups:
            for p in group["params"]:
                assert p.grad is not None, names[id(p)]
                grads[names[id(p)]] = p.grad.detach().clone()

    handles = [o.register_step_pre_hook(hook) for o in (agent.model_opt, agent.q_opt, agent.pi_opt)]
    agent.critic_update_counter = 1
    td_targets = []
    orig_mse = F.mse_loss

    def mse_loss(input, target, *a, **k):
        td_targets.append(target.detach()[0].clone())
        return orig_mse(input, target, *a, **k)

    try:
        for k in range(UPDATES):
            z0, idx = encode_first(agent, x[f"u{k}.obs"][:, 0])
            res[f"u{k}.z0"], res[f"u{k}.indices"] = z0, idx
            actor_due = (agent.critic_update_counter + 1) % cfg.actor_update_freq == 0
            grads.clear()
            td_targets.clear()
            with Injector() as inj:
                g = x[f"u{k}.gumbel"]                                   # [H, B, C, d]
                inj.push("gumbel", *[g[t].permute(0, 2, 1) for t in range(H)])
                inj.push("randn_like", x[f"u{k}.smoothing"])
                inj.push("randperm", full_perm(x[f"u{k}.target_critics"], K))
                if actor_due:
                    inj.push("randperm", full_perm(x[f"u{k}.actor_critics"], K))
                F.mse_loss = mse_loss
                try:
                    info = agent.update(Batch(official_batch(ReplayBufferSamples, x, k)), 1)
                finally:
                    F.mse_loss = orig_mse
                inj.check_empty()
            assert ("actor_loss" in info) == actor_due
            assert len(td_targets) == 1
            res[f"u{k}.td_target"] = td_targets[0]
            scalars = {"consistency_loss": "tc_loss", "reward_loss": "reward_loss",
                       "world_model_grad_norm": "grad_norm", "critic_loss": "q_loss",
                       "critic_grad_norm": "q_grad_norm"}
            if actor_due:
                scalars.update(actor_loss="actor_loss", actor_grad_norm="pi_grad_norm")
            for ours, theirs in scalars.items():
                res[f"u{k}.{ours}"] = torch.tensor([info[theirs]], dtype=torch.float32)
            for n, gr in grads.items():
                res[f"u{k}.grad.{n}"] = gr
            for n, p in official_weights(agent).items():
                res[f"u{k}.param.{n}"] = p
    finally:
        for h in handles:
            h.remove()

    # Plans on the updated networks.
    prev = {}
    for p, spec in enumerate(PLANS):
        eval_mode = spec["mode"] == "eval"
        warm = spec["warm"] and spec["mode"] in prev
        values, elites, sqrts = [], [], []
        orig_sev = agent._single_estimate_value
        orig_topk, orig_sqrt = torch.topk, torch.sqrt

        def sev(z, actions, _orig=orig_sev):
            v = _orig(z, actions)
            values.append(unbatch(v).reshape(-1).nan_to_num(0))
            return v

        def topk(*a, **kw):
            r = orig_topk(*a, **kw)
            elites.append(unbatch(r.indices).reshape(-1).to(torch.int64))
            return r

        def sqrt(*a, **kw):
            r = orig_sqrt(*a, **kw)
            sqrts.append(unbatch(r))
            return r

        with Injector() as inj:
            inj.push("normal", *[x[f"p{p}.prior"][t] for t in range(cfg.plan_horizon)])
            inj.push("normal", *[x[f"p{p}.terminal"][i] for i in range(cfg.iterations)])
            inj.push("randn", *[x[f"p{p}.samples"][i] for i in range(cfg.iterations)])
            if not eval_mode:
                inj.push("randn", x[f"p{p}.explore"])
            inj.push("randperm", *[full_perm(x[f"p{p}.critics"][i], K) for i in range(cfg.iterations)])
            inj.push("choice", x[f"p{p}.choice"])
            if warm:
                agent._prev_mean = prev[spec["mode"]].clone()
            agent._single_estimate_value = sev
            torch.topk, torch.sqrt = topk, sqrt
            try:
                obs = TensorDict({"state": x[f"p{p}.obs"]}, batch_size=[])
                a = agent.select_action(obs, t0=not warm, eval_mode=eval_mode)
            finally:
                torch.topk, torch.sqrt = orig_topk, orig_sqrt
                del agent._single_estimate_value
            inj.check_empty()
        assert len(values) == len(elites) == len(sqrts) == cfg.iterations
        prev[spec["mode"]] = agent._prev_mean.detach().clone()
        std = sqrts[-1].clamp(cfg.min_std, cfg.max_std)[0]
        if eval_mode:  # the returned std is then the MPPI std itself
            assert torch.equal(agent.mppi_std.reshape(-1), std), (agent.mppi_std, std)
        res[f"p{p}.action"] = a.reshape(-1).detach().clone()
        res[f"p{p}.mean"] = agent._prev_mean.reshape(cfg.plan_horizon, -1).detach().clone()
        res[f"p{p}.std"] = std.clone()
        res[f"p{p}.values"] = torch.stack(values)
        res[f"p{p}.elites"] = torch.stack(elites)
    return {k: v.contiguous() for k, v in res.items()}


# ----------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------


def _f(t):
    return t.double().reshape(-1)


def compare(off, rust, cfg, agent):
    """Rows of the comparison table: dicts with quantity, max_abs, max_rel,
    tol, passed, note."""
    import torch

    rows = []

    def row(q, max_abs, max_rel, tol, passed, note=""):
        rows.append(dict(quantity=q, max_abs=max_abs, max_rel=max_rel, tol=tol,
                         passed=bool(passed), note=note))

    def missing(key):
        if key not in rust:
            row(key, None, None, "-", False, "missing in rust.safetensors")
            return True
        if tuple(rust[key].shape) != tuple(off[key].shape):
            row(key, None, None, "-", False,
                f"shape {tuple(rust[key].shape)} vs official {tuple(off[key].shape)}")
            return True
        return False

    def rel_row(key, tol=TOL_REL, name=None):
        if missing(key):
            return
        a, b = _f(off[key]), _f(rust[key])
        d = (a - b).abs()
        m = d.max().item() if d.numel() else 0.0
        scale = a.abs().max().item() if a.numel() else 0.0
        rel = m / scale if scale > 0 else (0.0 if m == 0 else float("inf"))
        ok = bool(torch.isfinite(b).all()) and rel <= tol
        row(name or key, m, rel, f"rel ≤ {tol:g}", ok)

    fsq = agent.model._fsq
    b = len(cfg.fsq_levels)
    # Elements whose grad exceeded GRAD_FLOOR at every step so far.
    mask = {}
    for k in range(UPDATES):
        u = f"u{k}"
        # Encoder output and FSQ indices before update k.
        rel_row(f"{u}.z0")
        key = f"{u}.indices"
        if not missing(key):
            mis = off[key] != rust[key]
            n = int(mis.sum())
            frac = n / mis.numel()
            note = f"{n}/{mis.numel()} differ"
            ok = n == 0
            if n:
                # A mismatch is a rounding tie when the official bounded value
                # is within 1e-5 of a rounding boundary.
                z = off[f"{u}.z0"].view(*off[f"{u}.z0"].shape[:-1], -1, b)
                half_l = (fsq._levels - 1) * (1 + 1e-3) / 2
                offset = torch.where(fsq._levels % 2 == 0, 0.5, 0.0)
                shift = torch.atanh(offset / half_l)
                bz = torch.tanh(z + shift) * half_l - offset
                dist = ((bz - bz.floor()) - 0.5).abs().min(-1).values
                ties = (dist[mis] < 1e-5).all().item()
                note += ", all at rounding ties" if ties else ", NOT at rounding ties"
                ok = ties
            row(key, float(n), frac, "exact (ties reported)", ok, note)
        for s in ("consistency_loss", "reward_loss", "world_model_grad_norm", "critic_loss",
                  "critic_grad_norm", "actor_loss", "actor_grad_norm"):
            key = f"{u}.{s}"
            if key in off:
                rel_row(key)
            elif key in rust:
                row(key, None, None, "-", False, "Rust stepped the actor, official did not")
        rel_row(f"{u}.td_target")
        # Gradients, per optimizer.
        stepped = set()
        for group in ("model", "_Qs", "_pi"):
            keys = sorted(n for n in off if n.startswith(f"{u}.grad.{group}."))
            if not keys:
                if any(n.startswith(f"{u}.grad.{group}.") for n in rust):
                    row(f"{u}.grad.{group}.*", None, None, "-", False, "Rust has grads, official did not step")
                continue
            stepped.add(group)
            worst, worst_name, min_cos, max_abs, bad = 0.0, "", 1.0, 0.0, []
            for key in keys:
                if missing(key):
                    bad.append(key)
                    continue
                g, r = _f(off[key]), _f(rust[key])
                dn, gn = (g - r).norm().item(), g.norm().item()
                rel = dn / gn if gn > 0 else (0.0 if dn == 0 else float("inf"))
                cos = (g @ r).item() / (gn * r.norm().item()) if gn > 0 and r.norm() > 0 else (1.0 if dn == 0 else 0.0)
                max_abs = max(max_abs, (g - r).abs().max().item())
                if rel > worst:
                    worst, worst_name = rel, key
                min_cos = min(min_cos, cos)
                if not (rel <= TOL_GRAD_REL and cos >= TOL_GRAD_COS):
                    bad.append(key)
                n = key[len(f"{u}.grad."):]
                m = off[key].abs() > GRAD_FLOOR
                mask[n] = mask[n] & m if n in mask else m
            note = f"{len(keys)} tensors, min cos {min_cos:.7f}, worst {worst_name[len(u) + 6:]}"
            if bad:
                note += f"; failing: {', '.join(b[len(u) + 6:] for b in bad[:6])}"
            row(f"{u}.grad.{group}.*", max_abs, worst,
                f"‖Δ‖/‖g‖ ≤ {TOL_GRAD_REL:g}, cos ≥ {TOL_GRAD_COS}", not bad, note)
        # Parameters after update k.
        for group, src, tol in (("model", "model", TOL_PARAM), ("_pi", "_pi", TOL_PARAM),
                                ("_Qs", "_Qs", TOL_PARAM), ("_pi_tar", "_pi", TOL_TARGET),
                                ("Qs_tar", "_Qs", TOL_TARGET)):
            keys = sorted(n for n in off if n.startswith(f"{u}.param.{group}."))
            is_target = group.endswith("_tar")
            in_max, in_ulps, out_max, out_n, tot, bad, alias = 0.0, 0.0, 0.0, 0, 0, [], 0
            for key in keys:
                if missing(key):
                    bad.append(key)
                    continue
                n = key[len(f"{u}.param.{group}."):]
                o64 = off[key].double()
                d = (o64 - rust[key].double()).abs()
                m = mask.get(f"{src}.{n}")
                if m is None:  # never stepped: all elements count
                    m = torch.ones_like(d, dtype=torch.bool)
                # Allowed difference per element.
                allowed = torch.full_like(d, tol)
                if is_target:
                    a32 = off[key].abs()
                    ulp = (torch.nextafter(a32, torch.full_like(a32, float("inf"))) - a32).double()
                    allowed = torch.maximum(allowed, TARGET_ULPS * ulp)
                    over = m & (d > tol)  # where the ulp allowance is needed
                    in_ulps = max(in_ulps, (d / ulp)[over].max().item() if over.any() else 0.0)
                tot += d.numel()
                if m.any():
                    in_max = max(in_max, d[m].max().item())
                    if (d[m] > allowed[m]).any():
                        bad.append(key)
                if (~m).any():
                    out_n += int((~m).sum())
                    out_max = max(out_max, d[~m].max().item())
                if not torch.isfinite(rust[key]).all():
                    bad.append(key)
                # Diagnostic: a Rust snapshot equal to the next update's value
                # where the official values differ points to a shared storage.
                nxt = f"u{k + 1}.param.{group}.{n}"
                if nxt in rust and nxt in off and torch.equal(rust[key], rust[nxt]) \
                        and not torch.equal(off[key], off[nxt]):
                    alias += 1
            tol_s = f"abs ≤ {tol:g}" + (f" or ≤ {TARGET_ULPS} ulp" if is_target else "")
            note = (f"{len(keys)} tensors"
                    + (f", max {in_ulps:.0f} ulp where |Δ| > {tol:g}" if is_target else "")
                    + f"; elsewhere ({out_n}/{tot} = {out_n / max(tot, 1):.2%} elements with "
                    f"|g| ≤ {GRAD_FLOOR:g} at some step): max |Δ| {out_max:.3g}")
            if bad:
                note += f"; failing: {', '.join(sorted(set(b[len(u) + 7:] for b in bad))[:4])}"
                if len(set(bad)) > 4:
                    note += f" (+{len(set(bad)) - 4})"
            if alias:
                note += (f"; {alias} Rust tensors equal their u{k + 1} value while the official "
                         "ones changed (snapshot aliases the live parameter?)")
            row(f"{u}.param.{group}.* (|g|>{GRAD_FLOOR:g})", in_max, None, tol_s, not bad, note)

    # Plans.
    E = cfg.num_elites
    for p, spec in enumerate(PLANS):
        tag = f"p{p}.* ({spec['mode']}, {'warm' if spec['warm'] else 'cold'})"
        key = f"p{p}.values"
        if not missing(key):
            a, bv = off[key].double(), rust[key].double()
            d = (a - bv).abs()
            rel = (d.max(1).values / a.abs().max(1).values.clamp_min(1e-30)).max().item()
            row(f"p{p}.values", d.max().item(), rel, f"rel ≤ {TOL_REL:g} per iteration",
                bool(torch.isfinite(bv).all()) and rel <= TOL_REL, tag)
        key = f"p{p}.elites"
        if not missing(key):
            notes, ok = [], True
            for i in range(cfg.iterations):
                v = off[f"p{p}.values"][i].double()
                top = v.sort(descending=True).values
                gap = (top[E - 1] - top[E]).item() if v.numel() > E else float("inf")
                so, sr = set(off[key][i].tolist()), set(rust[key][i].tolist())
                if so != sr:
                    if gap > TIE_GAP:
                        ok = False
                        notes.append(f"it{i}: sets differ (gap {gap:.2g})")
                    else:
                        notes.append(f"it{i}: tie at rank {E} (gap {gap:.2g}), sets differ")
                elif not torch.equal(off[key][i], rust[key][i]):
                    notes.append(f"it{i}: same set, order differs")
            row(key, None, None, f"sets equal if gap > {TIE_GAP:g}", ok, "; ".join(notes) or "all equal")
        for s in ("mean", "std", "action"):
            key = f"p{p}.{s}"
            if missing(key):
                continue
            d = (off[key].double() - rust[key].double()).abs().max().item()
            row(key, d, None, f"abs ≤ {TOL_PLAN:g}", d <= TOL_PLAN)
    extra = sorted(set(rust) - set(off))
    if extra:
        row("extra Rust outputs", None, None, "-", True, ", ".join(extra[:10]) + (" …" if len(extra) > 10 else ""))
    return rows


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def table(rows):
    head = "| quantity | max abs diff | max rel diff | tolerance | pass | note |\n|---|---|---|---|---|---|\n"

    def cell(v):
        return str(v).replace("|", "\\|")

    body = "".join(
        f"| {cell(r['quantity'])} | {fmt(r['max_abs'])} | {fmt(r['max_rel'])} | {cell(r['tol'])} | "
        f"{'yes' if r['passed'] else '**NO**'} | {cell(r['note'])} |\n"
        for r in rows
    )
    return head + body


# ----------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------


def time_official(agent, ReplayBufferSamples, x, cfg, n):
    """Median ms of the official update (update 0's batch every call, the
    actor stepping every second call) and plan (plan 0's setting and
    observation, as the Rust side times), after 3 warm-up calls each. The
    real random draws are used (no injection)."""
    from tensordict import TensorDict

    def median_ms(f):
        ts = []
        for i in range(3 + n):
            t0 = time.perf_counter()
            f()
            if i >= 3:
                ts.append(1e3 * (time.perf_counter() - t0))
        return statistics.median(ts)

    spec = PLANS[0]
    obs = TensorDict({"state": x["p0.obs"]}, batch_size=[])
    pln = median_ms(lambda: agent.select_action(obs, t0=not spec["warm"], eval_mode=spec["mode"] == "eval"))
    rb = Batch(official_batch(ReplayBufferSamples, x, 0))
    upd = median_ms(lambda: agent.update(rb, 1))
    return upd, pln


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dcmpc", required=True, help="checkout of aidanscannell/dcmpc (holds dcmpc.py)")
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--nstep", type=int, choices=[1, 3], default=1)
    p.add_argument("--ctrlbench", help="ctrlbench binary (default $CTRLBENCH_CACHE/target/release/ctrlbench)")
    p.add_argument("--work", help="work dir (default $CTRLBENCH_CACHE/dcwm-official-check/<size>[-nstep3])")
    p.add_argument("--time", type=int, default=0, metavar="N", help="time N calls per side (N ≥ 20; 0: no timing)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (both sides)")
    p.add_argument("--no-rust", action="store_true", help="official half only (no comparison)")
    a = p.parse_args(argv)
    if a.time and a.time < 20:
        p.error("--time N needs N ≥ 20 (or 0)")
    return a


def main():
    args = parse_args()
    reexec_in_venv()

    import warnings

    warnings.filterwarnings("ignore")
    import torch
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(args.threads)
    DCMPC, DCMPCConfig, ReplayBufferSamples = import_official(args.dcmpc)

    work = Path(args.work) if args.work else (
        cache_root() / "dcwm-official-check" / (args.size + ("" if args.nstep == 1 else f"-nstep{args.nstep}")))
    work.mkdir(parents=True, exist_ok=True)
    binary = Path(args.ctrlbench) if args.ctrlbench else cache_root() / "target" / "release" / "ctrlbench"

    agent = build_agent(DCMPC, DCMPCConfig, args.size, args.nstep)
    cfg = agent.cfg
    config = rust_config(DCMPCConfig, agent, args.size, args.nstep, args.time)
    (work / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file(official_weights(agent), str(work / "weights.safetensors"))
    x = make_inputs(cfg, args.size, args.nstep)
    save_file(x, str(work / "inputs.safetensors"))
    print(f"wrote {work}/config.json, weights.safetensors, inputs.safetensors", flush=True)

    rust_cmd = [str(binary), "dcwm-replay", "--torch-threads", str(args.threads), str(work)]
    rust_env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    rust_ok = False
    if not args.no_rust:
        print("rust side: " + " ".join(rust_cmd), flush=True)
        if not binary.exists():
            print(f"error: {binary} not found", file=sys.stderr)
        else:
            r = subprocess.run(rust_cmd, env=rust_env)
            rust_ok = r.returncode == 0 and (work / "rust.safetensors").exists()
            if not rust_ok:
                print(f"error: the Rust side failed (exit code {r.returncode})", file=sys.stderr)

    t0 = time.perf_counter()
    off = run_official(agent, ReplayBufferSamples, x, cfg)
    print(f"official side: {time.perf_counter() - t0:.1f} s", flush=True)
    save_file(off, str(work / "official.safetensors"))

    if args.no_rust:
        print(f"official results in {work}/official.safetensors (no comparison: --no-rust)")
        return 0
    if not rust_ok:
        return 1

    rust = load_file(str(work / "rust.safetensors"))
    rows = compare(off, rust, cfg, agent)
    md = table(rows)
    failed = [r["quantity"] for r in rows if not r["passed"]]
    summary = f"{len(rows) - len(failed)}/{len(rows)} checks pass" + (f"; failing: {', '.join(failed)}" if failed else "")

    timing = None
    if args.time:
        rust_times = json.loads((work / "rust.json").read_text()) if (work / "rust.json").exists() else {}
        upd, pln = time_official(agent, ReplayBufferSamples, x, cfg, args.time)
        ru = statistics.median(rust_times["update_ms"]) if rust_times.get("update_ms") else None
        rp = statistics.median(rust_times["plan_ms"]) if rust_times.get("plan_ms") else None
        timing = {"threads": args.threads, "calls": args.time,
                  "official_update_ms": upd, "official_plan_ms": pln,
                  "rust_update_ms": ru, "rust_plan_ms": rp}
        md += (f"\n**Timing** (median ms, {args.time} calls after 3 warm-ups, f32, CPU, "
               f"{args.threads} threads; update: update 0's batch, the actor every second call; "
               f"plan: plan 0's setting)\n\n| call | official | ctrlbench | official/ours |\n|---|---|---|---|\n")
        for name, o, r in (("update", upd, ru), ("plan", pln, rp)):
            md += f"| {name} | {o:.2f} | {fmt(r)} | {fmt(o / r) if r else '-'} |\n"
        gflop, rate = rust_times.get("plan_gflop"), rust_times.get("matmul_gflops")
        if gflop and rate and rp:
            floor = 1e3 * gflop / rate
            timing.update({"plan_gflop": gflop, "matmul_gflops": rate, "plan_floor_ms": floor})
            md += (f"\nPlan FLOP floor: {gflop:.1f} GFLOP of matrix multiplies per plan at the "
                   f"f32 matmul rate of {rate:.1f} GFLOP/s measured by the Rust side in the same run "
                   f"= {floor:.1f} ms. The official plan takes {pln / floor:.2f}x the floor, "
                   f"ctrlbench's {rp / floor:.2f}x; no f32 implementation on this machine can be "
                   f"more than {pln / floor:.2f}x faster than the official plan.\n")

    cmd_self = " ".join(["python3", os.path.relpath(__file__)] + sys.argv[1:])
    md = (f"# DCWM: ctrlbench vs official code ({args.size}, nstep {args.nstep})\n\n"
          f"Commands:\n\n    {cmd_self}\n    {' '.join(rust_cmd)}\n\n{summary}\n\n" + md)
    (work / "comparison.md").write_text(md)
    (work / "comparison.json").write_text(json.dumps(
        {"size": args.size, "nstep": args.nstep, "rows": rows, "timing": timing,
         "passed": not failed, "commands": {"check": cmd_self, "rust": " ".join(rust_cmd)}},
        indent=2) + "\n")
    print(md)
    print(f"wrote {work}/comparison.md and comparison.json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
