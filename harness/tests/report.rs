//! `ctrlbench report` and `ctrlbench export` end to end on a small synthetic
//! results directory written by the test: files produced, tables consistent,
//! export round trip (CSV and Parquet), one clear error for bad input.

mod common;

use common::{ctrlbench, stderr};

use std::path::{Path, PathBuf};

use polars::prelude::*;

const HEADER: &str = "agent,env,env_step,episode_reward,episode_success,seed,variant,wall_time_s,\
                      episodes,action_repeat";
const STEPS: [i64; 4] = [0, 5000, 10000, 15000];

/// Deterministic synthetic score in [0, 1] growing with the step.
fn score(task: usize, agent: usize, variant: usize, seed: i64, step: i64) -> f64 {
    let progress = step as f64 / 15000.0;
    let skill = 0.35 + 0.25 * agent as f64 + 0.1 * variant as f64 - 0.1 * task as f64;
    let noise = ((seed * 7 + step / 1000 + task as i64 * 3) % 5) as f64 * 0.03;
    (0.05 + skill * progress + noise).clamp(0.0, 1.0)
}

/// 2 tasks (DMC + Meta-World) x 2 agents (the second with 2 variants) x 3 seeds.
fn synthetic_results(root: &Path) -> usize {
    let tasks = ["walker-walk", "mw-reach"];
    let runs = [
        ("alpha", ""),
        ("beta", "latent_dim=128"),
        ("beta", "latent_dim=512"),
    ];
    let mut rows = 0;
    for (ti, task) in tasks.iter().enumerate() {
        for (ri, (agent, variant)) in runs.iter().enumerate() {
            let ai = if *agent == "alpha" { 0 } else { 1 };
            let vi = if ri == 2 { 1 } else { 0 };
            for seed in 1..=3i64 {
                let mut dir = root.join("exp").join(task).join(agent);
                if !variant.is_empty() {
                    dir = dir.join(variant);
                }
                let dir = dir.join(format!("seed-{seed}"));
                std::fs::create_dir_all(&dir).unwrap();
                let mut csv = format!("{HEADER}\n");
                for step in STEPS {
                    let s = score(ti, ai, vi, seed, step);
                    let (reward, success) = if task.starts_with("mw-") {
                        (
                            format!("{}", 4000.0 * s),
                            format!("{}", (s * 10.0).round() / 10.0),
                        )
                    } else {
                        (format!("{}", 1000.0 * s), String::new())
                    };
                    csv.push_str(&format!(
                        "{agent},{task},{step},{reward},{success},{seed},{variant},{},10,2\n",
                        step as f64 * 0.01
                    ));
                    rows += 1;
                }
                std::fs::write(dir.join("eval.csv"), csv).unwrap();
            }
        }
    }
    rows
}

fn write_references(dir: &Path) -> (PathBuf, PathBuf) {
    // DCWM published format (no episode_success column, float steps).
    let dcwm = dir.join("dmc-dcmpc.csv");
    let mut s = String::from("agent,env,env_step,episode_reward,seed\n");
    for seed in 1..=3 {
        for (i, step) in [0.0, 7500.0, 15000.0].iter().enumerate() {
            s.push_str(&format!(
                "DCWM,walker-walk,{step:.1},{},{seed}\nDCWM,cheetah-run,{step:.1},5.0,{seed}\n",
                100.0 + 300.0 * i as f64 + 10.0 * seed as f64
            ));
        }
    }
    std::fs::write(&dcwm, s).unwrap();
    // TD-MPC2 format: task from the file name, agent from the directory.
    let tdir = dir.join("tdmpc2");
    std::fs::create_dir_all(&tdir).unwrap();
    let tdmpc2 = tdir.join("mw-reach.csv");
    std::fs::write(
        &tdmpc2,
        "step,success,seed\n0,0.0,1\n10000,0.5,1\n0,0.1,2\n10000,0.7,2\n",
    )
    .unwrap();
    (dcwm, tdmpc2)
}

fn read_csv(path: &Path) -> DataFrame {
    LazyCsvReader::new(PlRefPath::new(path.to_str().unwrap()))
        .with_has_header(true)
        .with_infer_schema_length(None)
        .finish()
        .unwrap()
        .collect()
        .unwrap()
}

#[test]
fn report_writes_tables_figures_and_html() {
    let dir = common::scratch("report-full");
    let results = dir.join("results");
    synthetic_results(&results);
    let (dcwm, tdmpc2) = write_references(&dir);
    let out = dir.join("report");
    let o = ctrlbench(&[
        "report",
        results.to_str().unwrap(),
        "--reference",
        dcwm.to_str().unwrap(),
        "--reference",
        tdmpc2.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--reps",
        "500",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every figure: the synthetic results have a sweep, so `ablation` applies.
    for name in ctrlbench::report::figures::FIGURES.iter().map(|f| f.name) {
        for ext in ["png", "svg"] {
            let f = out.join("figures").join(format!("{name}.{ext}"));
            let len = std::fs::metadata(&f)
                .unwrap_or_else(|_| panic!("{} missing", f.display()))
                .len();
            assert!(len > 5000, "{} is only {len} bytes", f.display());
        }
    }
    let svg = std::fs::read_to_string(out.join("figures/curves.svg")).unwrap();
    for text in [
        "walker-walk",
        "mw-reach",
        "alpha",
        "beta [latent_dim=128]",
        "DCWM (published)",
        "tdmpc2 (published)",
        "env steps",
        "episode return",
        "success rate",
    ] {
        assert!(svg.contains(text), "curves.svg lacks '{text}'");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("figures/curves.png") && html.contains("summary.csv"));
    assert!(html.contains("Optimality gap") || html.contains("optimality gap"));

    // runs.csv: one row per run, its last and best evaluation in the task's
    // metric.
    let r = read_csv(&out.join("runs.csv"));
    assert_eq!(r.height(), 2 * 3 * 3);
    let last_step = *STEPS.last().unwrap();
    for i in 0..r.height() {
        let task = r.column("task").unwrap().str().unwrap().get(i).unwrap();
        let agent = r.column("agent").unwrap().str().unwrap().get(i).unwrap();
        let variant = r
            .column("variant")
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .unwrap_or("");
        let seed = r.column("seed").unwrap().i64().unwrap().get(i).unwrap();
        let (ti, ai, vi) = (
            usize::from(task == "mw-reach"),
            usize::from(agent == "beta"),
            usize::from(variant == "latent_dim=512"),
        );
        let last = r.column("last").unwrap().f64().unwrap().get(i).unwrap();
        let s = score(ti, ai, vi, seed, last_step);
        let expected = if ti == 1 {
            (s * 10.0).round() / 10.0
        } else {
            1000.0 * s
        };
        assert!(
            (last - expected).abs() < 1e-9,
            "{task} {agent} {variant} {seed}: {last}"
        );
        let best = r.column("best").unwrap().f64().unwrap().get(i).unwrap();
        assert!(best >= last);
        assert_eq!(
            r.column("evaluations").unwrap().i64().unwrap().get(i),
            Some(STEPS.len() as i64)
        );
    }

    // summary.csv: 2 tasks x 3 series x 4 steps task rows + 3 series x 4 steps aggregate rows.
    let s = read_csv(&out.join("summary.csv"));
    assert_eq!(s.height(), 2 * 3 * 4 + 3 * 4);
    let scope = s.column("scope").unwrap().str().unwrap();
    let task = s.column("task").unwrap().str().unwrap();
    let agent = s.column("agent").unwrap().str().unwrap();
    let step = s.column("env_step").unwrap().i64().unwrap();
    let mean = s.column("mean").unwrap().f64().unwrap();
    let iqm = s.column("iqm").unwrap().f64().unwrap();
    let lo = s.column("mean_ci_low").unwrap().f64().unwrap();
    let hi = s.column("mean_ci_high").unwrap().f64().unwrap();
    let mut checked = 0;
    for i in 0..s.height() {
        assert!(lo.get(i).unwrap() <= mean.get(i).unwrap() + 1e-12);
        assert!(hi.get(i).unwrap() >= mean.get(i).unwrap() - 1e-12);
        if scope.get(i) == Some("task")
            && task.get(i) == Some("walker-walk")
            && agent.get(i) == Some("alpha")
            && step.get(i) == Some(10000)
        {
            let want: f64 = (1..=3)
                .map(|sd| 1000.0 * score(0, 0, 0, sd, 10000))
                .sum::<f64>()
                / 3.0;
            assert!((mean.get(i).unwrap() - want).abs() < 1e-9);
            // Three seeds: IQM = trim_mean(x, 0.25) cuts nothing = the mean.
            assert!((iqm.get(i).unwrap() - want).abs() < 1e-9);
            checked += 1;
        }
        if scope.get(i) == Some("aggregate")
            && agent.get(i) == Some("alpha")
            && step.get(i) == Some(15000)
        {
            // Normalized: walker-walk / 1000 and the mw-reach success rate.
            let mut all: Vec<f64> = (1..=3).map(|sd| score(0, 0, 0, sd, 15000)).collect();
            all.extend((1..=3).map(|sd| (score(1, 0, 0, sd, 15000) * 10.0).round() / 10.0));
            let want = ctrlbench::report::stats::iqm(&all);
            assert!((iqm.get(i).unwrap() - want).abs() < 1e-12);
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    let p = read_csv(&out.join("profile.csv"));
    assert_eq!(p.height(), 3 * 51);
}

#[test]
fn export_round_trips_csv_and_parquet() {
    let dir = common::scratch("report-export");
    let results = dir.join("results");
    let rows = synthetic_results(&results);
    for name in ["all.csv", "all.parquet"] {
        let f = dir.join(name);
        let o = ctrlbench(&[
            "export",
            results.to_str().unwrap(),
            "--out",
            f.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let df = if name.ends_with(".csv") {
            read_csv(&f)
        } else {
            let file = std::fs::File::open(&f).unwrap();
            ParquetReader::new(file).finish().unwrap()
        };
        assert_eq!(df.height(), rows, "{name}");
        let cols: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        // Files written before a later column (final_success) load with it empty.
        assert_eq!(cols.join(","), format!("{HEADER},final_success"), "{name}");
        // The same values as written: compare the sum of rewards and a sample row.
        let want: f64 = {
            let mut s = 0.0;
            for (ti, task) in ["walker-walk", "mw-reach"].iter().enumerate() {
                for (ai, vi) in [(0, 0), (1, 0), (1, 1)] {
                    for seed in 1..=3 {
                        for step in STEPS {
                            let sc = score(ti, ai, vi, seed, step);
                            s += if task.starts_with("mw-") {
                                4000.0 * sc
                            } else {
                                1000.0 * sc
                            };
                        }
                    }
                }
            }
            s
        };
        let got: f64 = df
            .column("episode_reward")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .sum();
        assert!((got - want).abs() < 1e-6, "{name}: {got} vs {want}");
        let success = df.column("episode_success").unwrap();
        assert_eq!(
            success.null_count(),
            rows / 2,
            "{name}: DMC rows have no success"
        );
        let variant = df.column("variant").unwrap().str().unwrap();
        assert!(variant.iter().any(|v| v == Some("latent_dim=512")));
    }
}

#[test]
fn bad_input_gives_one_clear_error() {
    let dir = common::scratch("report-bad");
    let results = dir.join("results");
    synthetic_results(&results);
    let r = results.to_str().unwrap();

    // Unsupported export format: named, nothing read.
    let o = ctrlbench(&["export", r, "--out", dir.join("x.xlsx").to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("x.xlsx") && stderr(&o).contains(".parquet"),
        "{}",
        stderr(&o)
    );

    // Empty and missing directories.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for d in [empty.clone(), dir.join("nope")] {
        for verb in ["report", "export"] {
            let o = ctrlbench(&[
                verb,
                d.to_str().unwrap(),
                "--out",
                dir.join("o.csv").to_str().unwrap(),
            ]);
            assert!(!o.status.success(), "{verb} {}", d.display());
            let e = stderr(&o);
            assert!(e.contains(d.to_str().unwrap()), "{e}");
            assert!(!e.contains("panicked"), "{e}");
        }
    }

    // A malformed value, a missing column, a ragged row: the file is named.
    let cases = [
        (
            "bad-value",
            format!("{HEADER}\nalpha,walker-walk,0,abc,,1,,0,10\n"),
        ),
        (
            "no-column",
            "agent,env,episode_reward,seed\nalpha,walker-walk,1.0,1\n".to_string(),
        ),
        (
            "ragged",
            format!("{HEADER}\nalpha,walker-walk,0,1.0,,1,,0,10,7,8\n"),
        ),
        (
            "empty-agent",
            format!("{HEADER}\n,walker-walk,0,1.0,,1,,0,10\n"),
        ),
    ];
    for (name, text) in cases {
        let bad_root = dir.join(name);
        synthetic_results(&bad_root);
        let f = bad_root.join("exp/walker-walk/alpha/seed-2/eval.csv");
        std::fs::write(&f, text).unwrap();
        for verb in ["report", "export"] {
            let o = ctrlbench(&[
                verb,
                bad_root.to_str().unwrap(),
                "--out",
                dir.join(format!("{name}.csv")).to_str().unwrap(),
            ]);
            assert!(!o.status.success(), "{name} {verb} succeeded");
            let e = stderr(&o);
            assert!(e.contains(f.to_str().unwrap()), "{name} {verb}: {e}");
            assert!(!e.contains("panicked"), "{e}");
        }
    }

    // Unknown reference format and missing reference file.
    let weird = dir.join("weird.csv");
    std::fs::write(&weird, "a,b\n1,2\n").unwrap();
    for f in [weird, dir.join("missing.csv")] {
        let o = ctrlbench(&[
            "report",
            r,
            "--reference",
            f.to_str().unwrap(),
            "--out",
            dir.join("rep").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        assert!(stderr(&o).contains(f.to_str().unwrap()), "{}", stderr(&o));
    }
}
