//! PETS against mbrl-lib itself (`mbrl==0.2.0`, run by
//! `scripts/pets_reference.py` in its own venv under the cache, created on
//! first use): on the same weights, inputs and injected noise, the
//! ensemble's loss, outputs and gradients, the normaliser, CEM on a fixed
//! objective, and TS∞ propagation over a horizon agree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use agents::pets::cem::{self, CemSpec, Propagation};
use agents::pets::model::{Ensemble, EnsembleSpec, Normalizer};
use agents::rng::TorchStream;
use tch::{Device, Kind, Tensor};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pets_reference.py")
}

fn python(args: &[&str]) {
    let o = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "pets_reference.py {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read(path: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// Largest |a − b| relative to the largest |b| (or 1).
fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    let a = a.to_kind(Kind::Double);
    let b = b.to_kind(Kind::Double);
    let scale = b.abs().max().double_value(&[]).max(1.0);
    (a - b).abs().max().double_value(&[]) / scale
}

#[test]
fn pets_parts_equal_mbrl_lib_on_fixed_weights_inputs_and_noise() {
    let root = std::env::temp_dir().join(format!("ctrlbench-pets-ref-{}", std::process::id()));
    for seed in [1u64, 2] {
        let dir = root.join(format!("seed-{seed}"));
        let d = dir.to_str().unwrap();
        python(&["--make-inputs", d, "--seed", &seed.to_string()]);
        python(&[d]);
        check(&dir);
    }
    std::fs::remove_dir_all(root).ok();
}

fn check(dir: &Path) {
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let inp = read(&dir.join("inputs.safetensors"));
    let refr = read(&dir.join("reference.safetensors"));
    let n = &cfg["nll"];
    let size = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap() as usize;
    let spec = EnsembleSpec {
        members: size(n, "ensemble_size"),
        in_dim: size(n, "in_size"),
        out_dim: size(n, "out_size"),
        hidden: size(n, "hid_size"),
        num_layers: size(n, "num_layers"),
        logvar_bounds: (-10.0, 0.5),
    };
    let mut model = Ensemble::new(spec, Device::Cpu, &mut TorchStream::new(0));
    tch::no_grad(|| {
        for (name, var) in model.vs.variables() {
            var.shallow_clone().copy_(&inp[&name]);
        }
        model.min_logvar = inp["min_logvar"].copy();
        model.max_logvar = inp["max_logvar"].copy();
    });

    // The loss, the bounded outputs and the gradients.
    let (mean, lv) = model.forward(&inp["model_in"], None);
    let e = rel_err(&mean, &refr["mean"]);
    eprintln!("mean {e:.2e}");
    assert!(e < 1e-6, "mean: {e}");
    let e = rel_err(&lv, &refr["logvar"]);
    // baddbmm here, matmul + bias there: a few float32 ulps near the bounds.
    eprintln!("logvar {e:.2e}");
    assert!(e < 1e-5, "logvar: {e}");
    let loss = model.nll(&inp["model_in"], &inp["target"]);
    let e = rel_err(&loss.view([1]), &refr["nll"]);
    eprintln!("nll {e:.2e}");
    assert!(
        e < 1e-6,
        "nll {} vs {}: {e}",
        loss.double_value(&[]),
        refr["nll"].double_value(&[0])
    );
    loss.backward();
    for (name, var) in model.vs.variables() {
        let e = rel_err(&var.grad(), &refr[&format!("grad.{name}")]);
        eprintln!("grad {name} {e:.2e}");
        assert!(e < 1e-6, "gradient of {name}: {e}");
    }

    // The normaliser (float64).
    let d = size(&cfg["normalizer"], "dim");
    let data: Vec<f64> = Vec::try_from(inp["norm_data"].reshape([-1])).unwrap();
    let norm = Normalizer::fit(&data, d);
    let mean = Tensor::from_slice(&norm.mean);
    let std = Tensor::from_slice(&norm.std);
    assert!(
        rel_err(&mean, &refr["norm_mean"].view([-1])) < 1e-12,
        "normaliser mean"
    );
    assert!(
        rel_err(&std, &refr["norm_std"].view([-1])) < 1e-12,
        "normaliser std"
    );
    let x = norm.apply(&inp["norm_x"]);
    assert!(
        rel_err(&x, &refr["norm_x_normalized"]) < 1e-6,
        "normalised inputs"
    );

    // CEM on -Σ w (x - c)² with mbrl-lib's draws.
    let c = &cfg["cem"];
    let spec = CemSpec {
        population: size(c, "population_size"),
        elite_ratio: c["elite_ratio"].as_f64().unwrap(),
        iterations: size(c, "num_iterations"),
        alpha: c["alpha"].as_f64().unwrap(),
        horizon: size(c, "horizon"),
        particles: 1,
        propagation: Propagation::TsInf,
    };
    let (w, target) = (&inp["cem_w"], &inp["cem_c"]);
    let plan = cem::optimize(&inp["cem_x0"], &spec, &inp["cem_noise"], |x, _| {
        -(w * (x - target).square()).sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float)
    });
    let e = rel_err(&plan.solution, &refr["cem_solution"]);
    eprintln!("cem solution {e:.2e}");
    assert!(e < 1e-6, "CEM solution: {e}");

    // TS∞ over the horizon through the elites, with mbrl-lib's permutation
    // and Gaussian draws.
    let t = &cfg["tsinf"];
    let horizon = size(t, "horizon") as i64;
    if let Some(elites) = t["elites"].as_array() {
        model.elites = elites.iter().map(|v| v.as_i64().unwrap()).collect();
    }
    let ts_norm = Normalizer {
        mean: Vec::try_from(inp["ts_norm_mean"].reshape([-1])).unwrap(),
        std: Vec::try_from(inp["ts_norm_std"].reshape([-1])).unwrap(),
    };
    let perm = &refr["ts_perm"];
    let perms: Vec<Tensor> = (0..horizon).map(|_| perm.shallow_clone()).collect();
    let perms = Tensor::stack(&perms, 0);
    let returns = tch::no_grad(|| {
        cem::rollout_returns(
            &model,
            &ts_norm,
            &inp["ts_obs0"],
            &inp["ts_actions"].permute([1, 0, 2]),
            &inp["ts_noise"],
            &perms,
            Propagation::TsInf,
        )
    });
    let expected = refr["ts_rewards"].sum_dim_intlist([0i64].as_slice(), false, Kind::Float);
    let e = rel_err(&returns, &expected);
    eprintln!("ts-inf returns {e:.2e}");
    assert!(e < 1e-6, "TS-inf returns {returns} vs {expected}: {e}");
}
