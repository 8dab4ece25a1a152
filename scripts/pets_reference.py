#!/usr/bin/env python3
"""Reference side of the PETS equivalence check: mbrl-lib's own code.

`python3 scripts/pets_reference.py DIR` reads DIR/config.json and
DIR/inputs.safetensors, runs mbrl-lib (facebookresearch/mbrl-lib, PyPI
`mbrl==0.2.0`, MIT) on them and writes DIR/reference.safetensors and
DIR/reference.json (scalars, versions, timings). Every number comes from
mbrl-lib's classes and functions; the script only loads weights, injects the
random draws and collects the outputs. The Rust side (agents/src/pets/) reads
the same two input files and is compared against reference.safetensors.

`--make-inputs DIR [--seed S]` writes a small random test case (sizes below).
`--time N` times mbrl-lib's full CEM planning decision at the cartpole sizes.

Sections (each runs when config.json has its key; the key names of
inputs.safetensors and reference.safetensors are listed under CONTRACT below):

nll -- mbrl.models.GaussianMLP(in_size, out_size, device="cpu", num_layers,
    ensemble_size, hid_size, deterministic=False, propagation_method=None,
    learn_logvar_bounds, activation_fn_cfg={"_target_": "torch.nn.SiLU"}).
    Its parameters are overwritten with the inputs `layer{l}.weight/bias`
    (l < num_layers: `hidden_layers[l][0]`, an EnsembleLinearLayer;
    l = num_layers: `mean_and_logvar`), `min_logvar`, `max_logvar`.
    EnsembleLinearLayer: weight [E, in, out], bias [E, 1, out],
    forward `x.matmul(weight) + bias` with x [E, B, in] (no transpose, unlike
    nn.Linear). The output layer is 2*out wide: columns [:out] are the mean,
    [out:] the raw log-variance, which GaussianMLP._default_forward bounds with
        lv = max_logvar - softplus(max_logvar - lv)
        lv = min_logvar + softplus(lv - min_logvar).
    Computed: `model.loss(model_in, target)` (GaussianMLP._nll_loss:
    mbrl.util.math.gaussian_nll(reduce=False) = (mu - y)^2 * exp(-lv) + lv,
    mean over batch and dims, sum over members, + 0.01 * (sum max_logvar -
    sum min_logvar)), `.backward()` on it, and
    `model.forward(model_in, use_propagation=False)` for mean/logvar.
    With learn_logvar_bounds=false (mbrl's PETS setting) the bounds have
    requires_grad=False and no gradient is written for them.

normalizer -- mbrl.util.math.Normalizer(d, "cpu", dtype=torch.double):
    `update_stats(norm_data)` (mean; torch.std, unbiased; std < 1e-12 -> 1)
    and `normalize(norm_x)` = (x - mean) / std, all float64.

cem -- mbrl.planning.CEMOptimizer(num_iterations, elite_ratio,
    population_size, lower_bound=[[lb]*A]*H, upper_bound=[[ub]*A]*H, alpha,
    device="cpu", return_mean_elites=True, clipped_normal=False)
    `.optimize(J, x0=cem_x0, callback=...)` maximising
    J(x) = -sum_{h,a} w[h,a] * (x[h,a] - c[h,a])^2 (x: [pop, H, A], the sum
    is `(w * (x - c) ** 2).sum(dim=(1, 2))`, negated).
    Noise injection: CEMOptimizer._sample_population calls
    `mbrl.util.math.truncated_normal_(population)` once per iteration; that
    module attribute is replaced, for the duration of optimize, by a function
    that copies `cem_noise[i]` into the population tensor in place (it
    checks the shape and that mean=0, std=1 were asked for). mbrl then forms
    `z * sqrt(min(((mu - lb)/2)^2, ((ub - mu)/2)^2, var)) + mu`.
    The per-iteration mu/var are recorded by wrapping the instance's
    `_update_population_params` (the original is called; its outputs are
    cloned); population and values come from the optimize callback. The
    same optimisation is repeated with return_mean_elites=False for
    `cem_best_solution` (best sample over all iterations).

tsinf -- one-step propagation of the GaussianMLP above over a horizon,
    through mbrl's own PETS stack: GaussianMLP(propagation_method=
    "fixed_model") [optionally set_elite(elites)] wrapped in
    mbrl.models.OneDTransitionRewardModel(target_is_delta=True,
    normalize=True, normalize_double_precision=True, learned_rewards=True)
    whose input_normalizer.mean/std are set to ts_norm_mean/ts_norm_std,
    wrapped in mbrl.models.ModelEnv(termination_fn = never, reward_fn=None).
    `ModelEnv.reset(ts_obs0)` then `ModelEnv.step(ts_actions[t], state,
    sample=True)` for t < Hz. What mbrl does per step:
        model_in = ((cat(obs_f32, act_f32) - mean_f64) / std_f64).float()
        mean, lv = GaussianMLP._forward_from_indices(model_in, perm)
        out = torch.normal(mean, sqrt(exp(lv)))          # [P, obs+1]
        next_obs = out[:, :-1] + obs ; reward = out[:, -1]
    TS-inf in mbrl: reset_1d calls `sample_propagation_indices(P)` =
    torch.randperm(P) once per trajectory (per ModelEnv.reset, i.e. once per
    CEM iteration in planning) and every step uses it: row perm[k] goes to
    (elite) member k // (P / M), M = #elites (all members when no elites
    set), so P must be a multiple of M and each member gets exactly P / M
    particles. The input `ts_members[j]` (the ensemble member index, 0..E-1,
    of particle j; must be an elite when elites are set, P/M particles each)
    is turned into that permutation, `perm = stable argsort of the elite
    position of ts_members`; alternatively an input `ts_perm` [P] is used as
    is. Noise injection: `torch.randperm` is replaced during ModelEnv.reset
    (returns perm) and `torch.normal` during each ModelEnv.step (returns
    `z * std + mean` with z = ts_noise[t], the formula of ATen's
    normal(Tensor mean, Tensor std): output.normal_(0,1).mul_(std).add_(mean)).
    Each patched function checks shapes and that it is called exactly once.

Timing (`--time N`): the cartpole PETS decision of mbrl-lib
    (GaussianMLP 7 members / 5 elites, 4x200 SiLU, obs 5 + act 1 -> 5 + 1
    reward; OneDTransitionRewardModel with the double-precision normalizer;
    ModelEnv; `mbrl.planning.create_trajectory_optim_agent_for_model` with the
    action_optimizer/cem.yaml + algorithm/pets.yaml agent config: pop 350,
    5 iterations, elite_ratio 0.1, alpha 0.1, horizon 15, 20 particles),
    `agent.act(obs)` with the real random draws; median seconds of N calls
    after 2 warm-up calls, torch threads from --threads (default 1).

Deviations from a stock mbrl 0.2.0 install. mbrl 0.2.0 pins hydra-core==1.0.3
and omegaconf<2.1, which do not import on Python 3.11 (dataclass "mutable
default" error); the venv uses hydra-core 1.3.2 and omegaconf 2.3.0. Hydra
>= 1.1 instantiates nested `_target_` configs recursively, so the agent config
of --time carries `_recursive_: false` (1.0.3's behaviour). The planning,
model and math modules of 0.2.0 are byte-identical to mbrl-lib HEAD 3f93ccc
(v0.2.0..HEAD changes only mbrl/util/common.py create_one_dim_tr_model and
adds mbrl/util/huggingface.py). `--mbrl-src PATH` imports mbrl from a source
checkout instead of the installed wheel.

Environment. On first use the script creates a venv at
$CTRLBENCH_CACHE/pets-reference-venv (CTRLBENCH_CACHE defaults to
~/.cache/ctrlbench) with `python3 -m venv`, links the project's torch 2.11
($CTRLBENCH_CACHE/torch-2.11.0/lib/python3.*/site-packages) into it with a
.pth file, installs VENV_PACKAGES (same list as
pets_reference_requirements.txt) with `pip install --no-deps`, and
re-executes itself with the venv's python.

Usage:
    python3 scripts/pets_reference.py --make-inputs DIR [--seed S]
    python3 scripts/pets_reference.py DIR [--threads T] [--time N]
    python3 scripts/pets_reference.py --time N [--threads T]
        [--propagation fixed_model|random_model]
"""

CONTRACT = """
config.json (every section optional):
  "seed": int (informational)
  "nll": {"in_size", "out_size", "ensemble_size", "hid_size", "num_layers" (4),
          "batch", "learn_logvar_bounds" (false)}
  "normalizer": {"dim", "n", "m"}
  "cem": {"num_iterations", "elite_ratio", "population_size", "horizon",
          "action_dim", "lower_bound", "upper_bound" (floats, same for all
          entries), "alpha"}
  "tsinf": {"obs_dim", "act_dim", "particles", "horizon",
            "elites" (list of member indices, or null = all members)}
           (uses the nll model: in_size = obs_dim + act_dim,
            out_size = obs_dim + 1, reward last)

inputs.safetensors (f32 unless noted, other float dtypes are cast to f32; E members,
    L = num_layers, H = hid_size):
  layer{l}.weight [E, in_l, out_l], layer{l}.bias [E, 1, out_l], l = 0..L
      (layer0: in_size -> H; 1..L-1: H -> H; layer L: H -> 2*out_size,
       columns [:out_size] mean, [out_size:] log-variance)
  min_logvar [1, out_size], max_logvar [1, out_size]
  model_in [E, B, in_size], target [E, B, out_size]
  norm_data [N, d] f64, norm_x [M, d] f64
  cem_x0 [H, A], cem_w [H, A], cem_c [H, A], cem_noise [iters, pop, H, A]
      (truncated standard normals, |z| <= 2)
  ts_obs0 [P, obs_dim], ts_actions [Hz, P, act_dim], ts_members [P] i64
      (or ts_perm [P] i64), ts_noise [Hz, P, obs_dim + 1],
  ts_norm_mean [1, in_size] f64, ts_norm_std [1, in_size] f64

reference.safetensors:
  nll [1]; nll_per_member [E] (gaussian_nll mean over batch and dims, no
      bound term); mean [E, B, out_size]; logvar [E, B, out_size] (bounded);
  grad.layer{l}.weight, grad.layer{l}.bias (shapes of the weights);
      grad.min_logvar, grad.max_logvar only when learn_logvar_bounds
  norm_mean [1, d] f64, norm_std [1, d] f64, norm_x_normalized [M, d] f64
  cem_solution [H, A] (final mu, return_mean_elites=True);
      cem_best_solution [H, A] (return_mean_elites=False);
      cem_mu [iters, H, A], cem_var [iters, H, A] (after each update);
      cem_population [iters, pop, H, A]; cem_values [iters, pop];
      cem_elite_idx [iters, elite_num] i64 (values.topk order)
  ts_next_obs [Hz, P, obs_dim]; ts_rewards [Hz, P];
      ts_model_in [Hz, P, in_size] (normalised f32 model input);
      ts_pred_mean [Hz, P, obs_dim + 1]; ts_pred_std [Hz, P, obs_dim + 1]
      (sqrt(exp(lv)) as mbrl computes it); ts_perm [P] i64 (mbrl's
      propagation indices); ts_members [P] i64
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_venv  # noqa: E402
from reference_venv import cache_root  # noqa: E402

# Pure-Python dependencies of `import mbrl.models, mbrl.planning,
# mbrl.util.math` (and safetensors), installed with --no-deps next to the
# linked torch 2.11. Same list as pets_reference_requirements.txt.
VENV_PACKAGES = [
    "mbrl==0.2.0",
    "hydra-core==1.3.2",
    "omegaconf==2.3.0",
    "antlr4-python3-runtime==4.9.3",
    "PyYAML==6.0.2",
    "gymnasium==0.26.3",
    "gymnasium-notices==0.0.1",
    "cloudpickle==3.1.3",
    "numpy==2.4.6",
    "safetensors==0.8.0",
    "termcolor==3.3.0",
    "tqdm==4.67.1",
    "packaging==26.4",
]

# --make-inputs sizes.
TEST_SIZES = dict(
    nll=dict(in_size=6, out_size=4, ensemble_size=3, hid_size=16, num_layers=4, batch=8,
             learn_logvar_bounds=False),
    normalizer=dict(dim=5, n=50, m=7),
    cem=dict(num_iterations=3, elite_ratio=0.2, population_size=20, horizon=4, action_dim=2,
             lower_bound=-1.0, upper_bound=1.0, alpha=0.1),
    # in_size 6 = obs 3 + act 3; out_size 4 = obs 3 + reward.
    tsinf=dict(obs_dim=3, act_dim=3, particles=6, horizon=3, elites=[2, 0]),
)

# --time sizes (mbrl-lib's pets_cartpole with DMC cartpole's obs 5 / act 1 and a
# learned reward).
TIME_SIZES = dict(obs_dim=5, act_dim=1, ensemble_size=7, num_elites=5, hid_size=200,
                  num_layers=4, population_size=350, num_particles=20, planning_horizon=15,
                  num_iterations=5, elite_ratio=0.1, alpha=0.1)


# ----------------------------------------------------------------------------
# Venv
# ----------------------------------------------------------------------------


def reexec_in_venv():
    reference_venv.reexec_in_venv(
        "pets-reference-venv", VENV_PACKAGES, "mbrl 0.2.0 and its import dependencies", __file__, '(or pass --mbrl-src with a checkout of facebookresearch/mbrl-lib v0.2.0)'
    )


def import_mbrl(src):
    """Imports mbrl (from `src` when given) and returns the module."""
    if src:
        src = os.path.abspath(src)
        if not os.path.isfile(os.path.join(src, "mbrl", "__init__.py")):
            sys.exit(f"error: {src}/mbrl/__init__.py not found (--mbrl-src takes a mbrl-lib checkout)")
        sys.path.insert(0, src)
    try:
        import mbrl
        import mbrl.models
        import mbrl.planning
        import mbrl.util.math
    except Exception as e:  # noqa: BLE001 -- reported with the cause
        sys.exit(f"error: cannot import mbrl ({type(e).__name__}: {e})")
    return mbrl


# ----------------------------------------------------------------------------
# Injection of random draws
# ----------------------------------------------------------------------------


class Patch:
    """Temporarily replaces obj.name; counts calls; `expect` calls exactly."""

    def __init__(self, obj, name, fn, expect):
        self.obj, self.name, self.fn, self.expect = obj, name, fn, expect
        self.calls = 0

    def __enter__(self):
        self.saved = getattr(self.obj, self.name)

        def wrapped(*a, **k):
            self.calls += 1
            if self.calls > self.expect:
                raise RuntimeError(f"unexpected extra call to the patched {self.name}")
            return self.fn(*a, **k)

        setattr(self.obj, self.name, wrapped)
        return self

    def __exit__(self, exc_type, *exc):
        setattr(self.obj, self.name, self.saved)
        if exc_type is None and self.calls != self.expect:
            raise RuntimeError(f"patched {self.name}: {self.calls} calls, expected {self.expect}")
        return False


def check_shape(name, t, shape):
    if tuple(t.shape) != tuple(shape):
        raise SystemExit(f"error: {name} has shape {tuple(t.shape)}, expected {tuple(shape)}")


def need(x, name, shape=None, dtype=None):
    import torch

    if name not in x:
        raise SystemExit(f"error: inputs.safetensors lacks {name}")
    t = x[name]
    if shape is not None:
        check_shape(name, t, shape)
    if dtype is not None and t.dtype != dtype:
        raise SystemExit(f"error: {name} is {t.dtype}, expected {dtype}")
    return t if dtype is not None else t.to(torch.float32)


# ----------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------


def layer_modules(model, num_layers):
    """`layer{l}` -> the EnsembleLinearLayer mbrl builds for it."""
    mods = {f"layer{l}": model.hidden_layers[l][0] for l in range(num_layers)}
    mods[f"layer{num_layers}"] = model.mean_and_logvar
    return mods


def build_gaussian_mlp(mbrl, c, x, propagation_method=None):
    import torch

    E, L = c["ensemble_size"], c.get("num_layers", 4)
    model = mbrl.models.GaussianMLP(
        c["in_size"], c["out_size"], device="cpu", num_layers=L, ensemble_size=E,
        hid_size=c["hid_size"], deterministic=False, propagation_method=propagation_method,
        learn_logvar_bounds=bool(c.get("learn_logvar_bounds", False)),
        activation_fn_cfg={"_target_": "torch.nn.SiLU"},
    )
    with torch.no_grad():
        for key, mod in layer_modules(model, L).items():
            for p in ("weight", "bias"):
                param = getattr(mod, p)
                param.copy_(need(x, f"{key}.{p}", param.shape))
        for p in ("min_logvar", "max_logvar"):
            param = getattr(model, p)
            param.copy_(need(x, p, param.shape))
    return model


def run_nll(mbrl, cfg, x, out, info):
    import torch

    c = cfg["nll"]
    E, B, L = c["ensemble_size"], c["batch"], c.get("num_layers", 4)
    model = build_gaussian_mlp(mbrl, c, x)
    model_in = need(x, "model_in", (E, B, c["in_size"]))
    target = need(x, "target", (E, B, c["out_size"]))
    model.zero_grad(set_to_none=True)
    loss, _meta = model.loss(model_in, target)
    loss.backward()
    out["nll"] = loss.detach().reshape(1).clone()
    info["nll"] = float(loss)
    for key, mod in layer_modules(model, L).items():
        for p in ("weight", "bias"):
            g = getattr(mod, p).grad
            if g is None:
                raise RuntimeError(f"no gradient for {key}.{p}")
            out[f"grad.{key}.{p}"] = g.detach().clone()
    for p in ("min_logvar", "max_logvar"):
        g = getattr(model, p).grad
        if g is not None:
            out[f"grad.{p}"] = g.detach().clone()
    with torch.no_grad():
        mean, logvar = model.forward(model_in, use_propagation=False)
        out["mean"] = mean.clone()
        out["logvar"] = logvar.clone()
        per = mbrl.util.math.gaussian_nll(mean, logvar, target, reduce=False).mean((1, 2))
        out["nll_per_member"] = per.clone()
    info["nll_param_names"] = [n for n, _ in model.named_parameters()]


def run_normalizer(mbrl, cfg, x, out, info):
    import torch

    c = cfg["normalizer"]
    d = c["dim"]
    data = need(x, "norm_data", (c["n"], d), torch.float64)
    xs = need(x, "norm_x", (c["m"], d), torch.float64)
    norm = mbrl.util.math.Normalizer(d, "cpu", dtype=torch.double)
    norm.update_stats(data)
    out["norm_mean"] = norm.mean.clone()
    out["norm_std"] = norm.std.clone()
    out["norm_x_normalized"] = norm.normalize(xs).clone()
    info["normalizer_eps"] = norm.eps


def cem_bounds(c):
    H, A = c["horizon"], c["action_dim"]
    return [[float(c["lower_bound"])] * A] * H, [[float(c["upper_bound"])] * A] * H


def run_cem_once(mbrl, c, x, return_mean_elites):
    import torch

    H, A, it, pop = c["horizon"], c["action_dim"], c["num_iterations"], c["population_size"]
    x0 = need(x, "cem_x0", (H, A))
    w = need(x, "cem_w", (H, A))
    cc = need(x, "cem_c", (H, A))
    noise = need(x, "cem_noise", (it, pop, H, A))
    if noise.abs().max() > 2:
        raise SystemExit("error: cem_noise must be truncated normals (|z| <= 2)")
    lb, ub = cem_bounds(c)
    opt = mbrl.planning.CEMOptimizer(
        c["num_iterations"], c["elite_ratio"], pop, lb, ub, c["alpha"], device="cpu",
        return_mean_elites=return_mean_elites, clipped_normal=False,
    )
    rec = {"mu": [], "var": [], "pop": [], "val": [], "idx": []}
    orig_update = opt._update_population_params

    def update(elite, mu, dispersion):
        new_mu, new_disp = orig_update(elite, mu, dispersion)
        rec["mu"].append(new_mu.detach().clone())
        rec["var"].append(new_disp.detach().clone())
        return new_mu, new_disp

    opt._update_population_params = update
    step = {"i": 0}

    def fill(tensor, mean=0, std=1):
        if mean != 0 or std != 1:
            raise RuntimeError(f"truncated_normal_ called with mean={mean}, std={std}")
        check_shape("population", tensor, (pop, H, A))
        tensor.copy_(noise[step["i"]])
        step["i"] += 1
        return tensor

    def objective(population):
        return -(w * (population - cc) ** 2).sum(dim=(1, 2))

    def callback(population, values, i):
        rec["pop"].append(population.detach().clone())
        rec["val"].append(values.detach().clone())
        rec["idx"].append(values.topk(int(opt.elite_num))[1].clone())

    with Patch(mbrl.util.math, "truncated_normal_", fill, expect=it):
        sol = opt.optimize(objective, x0=x0.clone(), callback=callback)
    return sol.detach().clone(), rec, int(opt.elite_num)


def run_cem(mbrl, cfg, x, out, info):
    import torch

    c = cfg["cem"]
    sol, rec, elite_num = run_cem_once(mbrl, c, x, return_mean_elites=True)
    best, _, _ = run_cem_once(mbrl, c, x, return_mean_elites=False)
    out["cem_solution"] = sol
    out["cem_best_solution"] = best
    out["cem_mu"] = torch.stack(rec["mu"])
    out["cem_var"] = torch.stack(rec["var"])
    out["cem_population"] = torch.stack(rec["pop"])
    out["cem_values"] = torch.stack(rec["val"])
    out["cem_elite_idx"] = torch.stack(rec["idx"]).to(torch.int64)
    info["cem_elite_num"] = elite_num
    info["cem_final_value"] = float(
        -(need(x, "cem_w") * (sol - need(x, "cem_c")) ** 2).sum())


def members_to_perm(members, elites, E):
    """The permutation mbrl's fixed_model propagation uses so that particle j
    goes through member members[j]: perm = stable argsort of elite positions."""
    import torch

    order = list(elites) if elites is not None else list(range(E))
    P, M = members.numel(), len(order)
    if P % M:
        raise SystemExit(f"error: tsinf particles {P} is not a multiple of the {M} (elite) members")
    pos = torch.full((E,), -1, dtype=torch.int64)
    pos[torch.tensor(order, dtype=torch.int64)] = torch.arange(M)
    ppos = pos[members]
    if (ppos < 0).any() or (members < 0).any() or (members >= E).any():
        raise SystemExit(f"error: ts_members must index the members {order}")
    counts = torch.bincount(ppos, minlength=M)
    if (counts != P // M).any():
        raise SystemExit(
            f"error: mbrl's fixed_model propagation gives each member exactly {P // M} particles; "
            f"ts_members gives {counts.tolist()} (members {order})")
    return torch.sort(ppos, stable=True)[1]


def perm_to_members(perm, elites, E):
    import torch

    order = list(elites) if elites is not None else list(range(E))
    P, M = perm.numel(), len(order)
    members = torch.empty(P, dtype=torch.int64)
    members[perm] = torch.tensor(order, dtype=torch.int64).repeat_interleave(P // M)
    return members


class _NoEnv:
    """The two attributes ModelEnv reads from a gym env."""

    def __init__(self, obs_dim, act_dim):
        import gymnasium
        import numpy as np

        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)


def never_done(act, next_obs):
    import torch

    return torch.zeros(next_obs.shape[0], 1, dtype=torch.bool, device=next_obs.device)


def run_tsinf(mbrl, cfg, x, out, info):
    import torch

    c, m = cfg["tsinf"], cfg["nll"]
    od, ad, P, Hz = c["obs_dim"], c["act_dim"], c["particles"], c["horizon"]
    E = m["ensemble_size"]
    if m["in_size"] != od + ad or m["out_size"] != od + 1:
        raise SystemExit(
            f"error: tsinf needs nll.in_size = obs_dim + act_dim ({od + ad}) and "
            f"nll.out_size = obs_dim + 1 ({od + 1}); config has {m['in_size']}, {m['out_size']}")
    elites = c.get("elites")
    model = build_gaussian_mlp(mbrl, m, x, propagation_method="fixed_model")
    if elites is not None:
        if sorted(set(elites)) != sorted(elites) or not all(0 <= e < E for e in elites):
            raise SystemExit(f"error: tsinf.elites {elites} must be distinct members < {E}")
        model.set_elite(elites)  # (mbrl ignores a list of all E members)
        if len(elites) == E:
            elites = None
    dyn = mbrl.models.OneDTransitionRewardModel(
        model, target_is_delta=True, normalize=True, normalize_double_precision=True,
        learned_rewards=True)
    dyn.input_normalizer.mean = need(x, "ts_norm_mean", (1, od + ad), torch.float64).clone()
    dyn.input_normalizer.std = need(x, "ts_norm_std", (1, od + ad), torch.float64).clone()
    obs0 = need(x, "ts_obs0", (P, od))
    actions = need(x, "ts_actions", (Hz, P, ad))
    noise = need(x, "ts_noise", (Hz, P, od + 1))
    if "ts_perm" in x:
        perm = need(x, "ts_perm", (P,), torch.int64)
        if not torch.equal(torch.sort(perm)[0], torch.arange(P)):
            raise SystemExit("error: ts_perm is not a permutation")
        members = perm_to_members(perm, elites, E)
    else:
        members = need(x, "ts_members", (P,), torch.int64)
        perm = members_to_perm(members, elites, E)

    env = mbrl.models.ModelEnv(_NoEnv(od, ad), dyn, termination_fn=never_done, reward_fn=None,
                               generator=torch.Generator().manual_seed(0))
    captured = {"in": [], "mean": [], "std": []}
    orig_forward = model.forward

    def forward(xin, *a, **k):
        captured["in"].append(xin.detach().clone())
        return orig_forward(xin, *a, **k)

    model.forward = forward

    def randperm(n, *a, **k):
        if n != P:
            raise RuntimeError(f"randperm({n}) but {P} particles")
        return perm.clone()

    with Patch(torch, "randperm", randperm, expect=1):
        state = env.reset(obs0.numpy(), return_as_np=False)
    if not torch.equal(state["propagation_indices"], perm):
        raise RuntimeError("mbrl did not take the injected propagation indices")
    next_obs, rewards = [], []
    for t in range(Hz):
        def normal(mean, std, *a, _z=noise[t], **k):
            check_shape("torch.normal mean", mean, (P, od + 1))
            captured["mean"].append(mean.detach().clone())
            captured["std"].append(std.detach().clone())
            return _z * std + mean

        with Patch(torch, "normal", normal, expect=1):
            nobs, rew, _done, state = env.step(actions[t], state, sample=True)
        next_obs.append(nobs.clone())
        rewards.append(rew.reshape(P).clone())
    model.forward = orig_forward
    out["ts_next_obs"] = torch.stack(next_obs)
    out["ts_rewards"] = torch.stack(rewards)
    out["ts_model_in"] = torch.stack(captured["in"])
    out["ts_pred_mean"] = torch.stack(captured["mean"])
    out["ts_pred_std"] = torch.stack(captured["std"])
    out["ts_perm"] = perm.clone()
    out["ts_members"] = members.clone()
    info["ts_elites"] = elites


SECTIONS = [("nll", run_nll), ("normalizer", run_normalizer), ("cem", run_cem),
            ("tsinf", run_tsinf)]


# ----------------------------------------------------------------------------
# Test inputs
# ----------------------------------------------------------------------------


def truncated_standard_normal(gen, shape):
    import torch

    z = torch.randn(shape, generator=gen)
    while True:
        bad = z.abs() > 2
        n = int(bad.sum())
        if n == 0:
            return z
        z[bad] = torch.randn(n, generator=gen)


def make_inputs(mbrl, work, seed):
    """Random inputs of TEST_SIZES. Weights: mbrl's own init (truncated normal,
    std 1/(2 sqrt(in))) under torch.manual_seed(seed), plus small random biases
    and bounds perturbed around mbrl's -10 / 0.5 (so that per-dimension
    broadcasting and both softplus branches are exercised)."""
    import torch
    from safetensors.torch import save_file

    cfg = json.loads(json.dumps(TEST_SIZES))
    cfg["seed"] = seed
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    m = cfg["nll"]
    E, B, L, I, O = m["ensemble_size"], m["batch"], m["num_layers"], m["in_size"], m["out_size"]
    model = mbrl.models.GaussianMLP(I, O, device="cpu", num_layers=L, ensemble_size=E,
                                    hid_size=m["hid_size"], activation_fn_cfg={"_target_": "torch.nn.SiLU"})
    x = {}
    for key, mod in layer_modules(model, L).items():
        # Scaled up so that the log-variance head reaches both bounds' softplus regions.
        scale = 4.0 if key == f"layer{L}" else 1.0
        x[f"{key}.weight"] = (mod.weight.detach() * scale).contiguous()
        x[f"{key}.bias"] = 0.1 * torch.randn(mod.bias.shape, generator=g)
    x["min_logvar"] = -10.0 + 0.5 * torch.randn(1, O, generator=g)
    x["min_logvar"][0, 0] = -1.5  # within reach of the raw log-variances: the lower softplus acts
    x["max_logvar"] = 0.5 + 0.5 * torch.randn(1, O, generator=g)
    x["model_in"] = torch.randn(E, B, I, generator=g)
    x["target"] = 0.5 * torch.randn(E, B, O, generator=g)

    n = cfg["normalizer"]
    data = torch.randn(n["n"], n["dim"], generator=g, dtype=torch.float64)
    data = data * torch.linspace(0.1, 3.0, n["dim"], dtype=torch.float64) + 2.0
    data[:, 2] = 1.25  # constant column: std 0 -> 1
    x["norm_data"] = data
    x["norm_x"] = torch.randn(n["m"], n["dim"], generator=g, dtype=torch.float64) * 2

    c = cfg["cem"]
    H, A, it, pop = c["horizon"], c["action_dim"], c["num_iterations"], c["population_size"]
    x["cem_x0"] = torch.rand(H, A, generator=g) - 0.5
    x["cem_w"] = 0.5 + 1.5 * torch.rand(H, A, generator=g)
    x["cem_c"] = 1.6 * torch.rand(H, A, generator=g) - 0.8
    x["cem_noise"] = truncated_standard_normal(g, (it, pop, H, A))

    t = cfg["tsinf"]
    od, ad, P, Hz = t["obs_dim"], t["act_dim"], t["particles"], t["horizon"]
    order = t["elites"] if t["elites"] is not None else list(range(E))
    members = torch.tensor(order, dtype=torch.int64).repeat_interleave(P // len(order))
    x["ts_members"] = members[torch.randperm(P, generator=g)]
    x["ts_obs0"] = torch.randn(P, od, generator=g)
    x["ts_actions"] = 2 * torch.rand(Hz, P, ad, generator=g) - 1
    x["ts_noise"] = torch.randn(Hz, P, od + 1, generator=g)
    x["ts_norm_mean"] = 0.3 * torch.randn(1, od + ad, generator=g, dtype=torch.float64)
    x["ts_norm_std"] = 0.5 + torch.rand(1, od + ad, generator=g, dtype=torch.float64)

    work.mkdir(parents=True, exist_ok=True)
    (work / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    save_file({k: v.contiguous() for k, v in x.items()}, str(work / "inputs.safetensors"))
    print(f"wrote {work}/config.json, inputs.safetensors (seed {seed})", flush=True)


# ----------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------


def time_planning(mbrl, n, propagation, seed):
    """Median seconds per mbrl-lib PETS decision (TrajectoryOptimizerAgent.act)."""
    import numpy as np
    import omegaconf
    import torch

    s = TIME_SIZES
    torch.manual_seed(seed)
    od, ad = s["obs_dim"], s["act_dim"]
    model = mbrl.models.GaussianMLP(
        od + ad, od + 1, device="cpu", num_layers=s["num_layers"], ensemble_size=s["ensemble_size"],
        hid_size=s["hid_size"], deterministic=False, propagation_method=propagation,
        learn_logvar_bounds=False, activation_fn_cfg={"_target_": "torch.nn.SiLU"})
    model.set_elite(list(range(s["num_elites"])))
    dyn = mbrl.models.OneDTransitionRewardModel(
        model, target_is_delta=True, normalize=True, normalize_double_precision=True,
        learned_rewards=True, num_elites=s["num_elites"])
    dyn.input_normalizer.update_stats(torch.randn(1000, od + ad, dtype=torch.float64))
    env = mbrl.models.ModelEnv(_NoEnv(od, ad), dyn, termination_fn=never_done, reward_fn=None,
                               generator=torch.Generator().manual_seed(seed))
    agent_cfg = omegaconf.OmegaConf.create({
        # algorithm/pets.yaml `agent`; `_recursive_: false` restores hydra 1.0.3's
        # non-recursive instantiate (hydra >= 1.1 would build optimizer_cfg first).
        "_target_": "mbrl.planning.TrajectoryOptimizerAgent",
        "_recursive_": False,
        "action_lb": "???",
        "action_ub": "???",
        "planning_horizon": s["planning_horizon"],
        "replan_freq": 1,
        "verbose": False,
        # action_optimizer/cem.yaml with pets_cartpole.yaml's values.
        "optimizer_cfg": {
            "_target_": "mbrl.planning.CEMOptimizer",
            "num_iterations": s["num_iterations"],
            "elite_ratio": s["elite_ratio"],
            "population_size": s["population_size"],
            "alpha": s["alpha"],
            "lower_bound": "???",
            "upper_bound": "???",
            "return_mean_elites": True,
            "device": "cpu",
            "clipped_normal": False,
        },
    })
    agent = mbrl.planning.create_trajectory_optim_agent_for_model(
        env, agent_cfg, num_particles=s["num_particles"])
    if type(agent.optimizer.optimizer).__name__ != "CEMOptimizer":
        raise RuntimeError("agent config did not build a CEMOptimizer")
    agent.reset()
    rng = np.random.default_rng(seed)
    ts = []
    for i in range(2 + n):
        obs = rng.standard_normal(od).astype(np.float32)
        t0 = time.perf_counter()
        a = agent.act(obs)
        dt = time.perf_counter() - t0
        if not np.all(np.isfinite(a)) or a.shape != (ad,):
            raise RuntimeError(f"bad action {a}")
        if i >= 2:
            ts.append(dt)
    rows = s["population_size"] * s["num_particles"] * s["planning_horizon"] * s["num_iterations"]
    med = statistics.median(ts)
    return {
        "seconds_per_decision_median": med,
        "seconds_per_decision_min": min(ts),
        "seconds_per_decision_max": max(ts),
        "calls": n,
        "warmup_calls": 2,
        "rows_per_decision": rows,
        "us_per_row": 1e6 * med / rows,
        "propagation": propagation,
        "torch_threads": torch.get_num_threads(),
        "sizes": s,
    }


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__ + CONTRACT,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", help="work dir with config.json and inputs.safetensors")
    p.add_argument("--make-inputs", metavar="DIR", help="write a random test case to DIR and exit")
    p.add_argument("--seed", type=int, default=0, help="seed of --make-inputs and --time (default 0)")
    p.add_argument("--time", type=int, default=0, metavar="N",
                   help="time N mbrl-lib PETS decisions at the cartpole sizes (N >= 3)")
    p.add_argument("--propagation", choices=["fixed_model", "random_model"], default="fixed_model",
                   help="propagation of --time (default fixed_model = TS-inf)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--mbrl-src", help="import mbrl from this mbrl-lib checkout instead of the wheel")
    a = p.parse_args(argv)
    if a.make_inputs and a.dir:
        p.error("give either DIR or --make-inputs DIR")
    if not (a.make_inputs or a.dir or a.time):
        p.error("nothing to do: give DIR, --make-inputs DIR or --time N")
    if a.time and a.time < 3:
        p.error("--time N needs N >= 3 (or 0)")
    return a


def versions(mbrl):
    import hydra
    import numpy
    import omegaconf
    import torch

    return {"mbrl": mbrl.__version__, "mbrl_path": os.path.dirname(mbrl.__file__),
            "torch": torch.__version__, "numpy": numpy.__version__, "hydra": hydra.__version__,
            "omegaconf": omegaconf.__version__, "python": platform.python_version()}


def main():
    args = parse_args()
    reexec_in_venv()

    import warnings

    warnings.filterwarnings("ignore")
    import torch
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(args.threads)
    mbrl = import_mbrl(args.mbrl_src)

    if args.make_inputs:
        make_inputs(mbrl, Path(args.make_inputs), args.seed)
        return 0

    info = {"versions": versions(mbrl), "torch_threads": args.threads, "timings_s": {}}
    if args.dir:
        work = Path(args.dir)
        for f in ("config.json", "inputs.safetensors"):
            if not (work / f).exists():
                sys.exit(f"error: {work / f} not found")
        cfg = json.loads((work / "config.json").read_text())
        x = load_file(str(work / "inputs.safetensors"))
        out = {}
        ran = []
        for name, fn in SECTIONS:
            if name not in cfg:
                continue
            if name == "tsinf" and "nll" not in cfg:
                sys.exit("error: config.json has tsinf but no nll (tsinf uses the nll model)")
            t0 = time.perf_counter()
            fn(mbrl, cfg, x, out, info)
            info["timings_s"][name] = time.perf_counter() - t0
            ran.append(name)
        bad = [k for k, v in out.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        info["sections"] = ran
        info["non_finite"] = bad
        info["shapes"] = {k: f"{list(v.shape)} {str(v.dtype).replace('torch.', '')}"
                          for k, v in sorted(out.items())}
    if args.time:
        t = time_planning(mbrl, args.time, args.propagation, args.seed)
        info["planning_timing"] = t
        print(f"mbrl-lib PETS decision ({args.propagation}, {args.threads} thread(s)): "
              f"median {t['seconds_per_decision_median']:.3f} s over {args.time} calls "
              f"({t['us_per_row']:.2f} us/row)", flush=True)
    if args.dir:
        save_file({k: v.contiguous() for k, v in out.items()}, str(work / "reference.safetensors"))
        (work / "reference.json").write_text(json.dumps(info, indent=2) + "\n")
        print(f"wrote {work}/reference.safetensors ({len(out)} tensors), reference.json; "
              f"sections: {', '.join(ran)}", flush=True)
        if bad:
            print(f"error: non-finite outputs: {bad}", file=sys.stderr)
            return 1
    else:
        print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
