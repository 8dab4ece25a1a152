//! `ctrlbench reproduce` end to end: the registry expands to valid sweeps,
//! every figure with published data renders from that data alone, one smoke
//! reproduction runs and draws, and the comparison's range logic on
//! hand-made data; the staged behavior-prior figures run their stages and
//! report.

mod common;

use common::{ctrlbench, stderr};

use std::path::Path;

use ctrlbench::reproduce::build::compare;
use ctrlbench::reproduce::published::Observation;
use ctrlbench::reproduce::{registry, slug, staged, write_experiment};

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn every_figure_budget_expands_to_valid_runs_with_its_variants() {
    let dir = common::scratch("reproduce-expand");
    let mut expanded = 0;
    for fig in registry::FIGURES.iter().filter(|f| f.can_run()) {
        for b in fig.budgets {
            let d = dir.join(fig.id).join(b.name);
            let exp = write_experiment(fig, b, &d)
                .unwrap_or_else(|e| panic!("{} {}: {e:#}", fig.id, b.name));
            let runs = exp.expand(None, &[], &d).unwrap();
            let (n, cpu, _) = registry::cost(fig, b);
            assert_eq!(runs.len(), n, "{} {}", fig.id, b.name);
            assert!(
                cpu.is_finite() && cpu > 0.0,
                "{} {}: cost {cpu}",
                fig.id,
                b.name
            );
            for r in &runs {
                let v = r.config.variant.as_deref().unwrap();
                assert!(
                    fig.runnable().any(|x| slug(x.label) == v),
                    "{}: variant {v}",
                    fig.id
                );
                assert_eq!(r.config.run.steps as i64, b.steps);
            }
            expanded += runs.len();
        }
    }
    assert!(expanded > 100, "{expanded} runs");
    // The variants set what their labels say.
    let fig = registry::find("fig8-latent-dim").unwrap();
    let b = fig.budget("short").unwrap();
    let d = dir.join("fig8");
    let runs = write_experiment(fig, b, &d)
        .unwrap()
        .expand(None, &[], &d)
        .unwrap();
    let r = runs
        .iter()
        .find(|r| r.config.variant.as_deref() == Some("d-256"))
        .unwrap();
    assert_eq!(r.config.agent_config["latent_dim"].as_u64(), Some(256));
}

#[test]
fn list_names_every_figure_first_and_bad_input_is_one_clear_error() {
    let o = ctrlbench(&["reproduce", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let ids: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    let expected: Vec<&str> = registry::FIGURES
        .iter()
        .map(|f| f.id)
        .chain(staged::STAGED.iter().map(|f| f.id))
        .collect();
    assert_eq!(ids, expected);
    assert!(text.contains("CPU-hours"));

    let o = ctrlbench(&["reproduce", "fig99"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown figure 'fig99'"),
        "{}",
        stderr(&o)
    );
    let o = ctrlbench(&["reproduce", "dmc30", "--budget", "huge"]);
    assert!(
        stderr(&o).contains("unknown budget 'huge'"),
        "{}",
        stderr(&o)
    );
    let o = ctrlbench(&["reproduce", "fig10-fsq-vq", "--budget", "short"]);
    assert!(stderr(&o).contains("--published-only"), "{}", stderr(&o));
    let o = ctrlbench(&["reproduce", "bprior-seqnav", "--budget", "paper"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown budget 'paper'") && stderr(&o).contains("smoke, full"),
        "{}",
        stderr(&o)
    );
    let o = ctrlbench(&["reproduce", "bprior-seqnav", "--published-only"]);
    assert!(stderr(&o).contains("no published data"), "{}", stderr(&o));
    let o = ctrlbench(&["reproduce", "bprior-transfer", "--shard", "0/2"]);
    assert!(stderr(&o).contains("without --shard"), "{}", stderr(&o));
}

#[test]
fn staged_figures_run_their_stages_in_order_and_report_the_last() {
    let dir = common::scratch("reproduce-staged");
    let results = dir.to_str().unwrap();
    // Every stage of every staged figure is a valid experiment at both
    // budgets, and a later stage's runs name their source runs.
    for fig in staged::STAGED {
        for b in staged::BUDGETS {
            let size = staged::size(fig, b).unwrap_or_else(|e| panic!("{} {b}: {e:#}", fig.id));
            assert_eq!(size.len(), fig.stages.len());
            assert!(size.iter().all(|&(runs, steps)| runs > 0 && steps > 0));
        }
    }
    // The transfer: the source stage, then the target stage whose transfer
    // run loads the source run of its seed.
    let args = ["--budget", "smoke", "--device", "cpu", "--results", results];
    let o = ctrlbench(&[&["reproduce", "bprior-transfer"][..], &args].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let fig = dir.join("reproduce/bprior-transfer/smoke");
    let transfer = fig.join("runs/bprior-transfer/cartpole-swingup-sparse/bprior/transfer/seed-1");
    let config = std::fs::read_to_string(transfer.join("config.yaml")).unwrap();
    let source = fig
        .canonicalize()
        .unwrap()
        .join("runs/bprior-transfer-source/cartpole-swingup/bprior/seed-1");
    assert!(config.contains(&source.display().to_string()), "{config}");
    let summary = std::fs::read_to_string(fig.join("report/summary.csv")).unwrap();
    for series in ["sac,", "bprior,transfer", "bprior,random", "bprior,online"] {
        assert!(summary.contains(series), "{series}");
    }
    assert!(fig.join("report/index.html").is_file());

    // The navigation: the runs, each prior played, the visits figure; a
    // rerun plays nothing again.
    let o = ctrlbench(&[&["reproduce", "bprior-seqnav"][..], &args].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let fig = dir.join("reproduce/bprior-seqnav/smoke");
    let play = fig.join("plays/memory/seed-1.csv");
    let played = std::fs::metadata(&play).unwrap().modified().unwrap();
    assert!(fig.join("plays/memoryless/seed-1.csv").is_file());
    for file in ["visits.csv", "summary.md", "visits.png"] {
        assert!(fig.join("visits").join(file).is_file(), "{file}");
    }
    let table = std::fs::read_to_string(fig.join("visits/visits.csv")).unwrap();
    assert!(table.contains("\nmemory,") && table.contains("\nmemoryless,"));
    let o = ctrlbench(&[&["reproduce", "bprior-seqnav"][..], &args].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&play).unwrap().modified().unwrap(),
        played
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_published_source_of_every_figure_is_shipped() {
    let dir = ctrlbench::reproduce::published::data_dir();
    for fig in registry::FIGURES {
        for src in fig.sources {
            let files: Vec<String> = if src.file.contains("{task}") {
                fig.tasks
                    .iter()
                    .map(|t| src.file.replace("{task}", t))
                    .collect()
            } else {
                vec![src.file.to_string()]
            };
            let shipped = files
                .iter()
                .filter(|f| dir.join(format!("{f}.csv.gz")).is_file())
                .count();
            assert!(shipped > 0, "{}: no file of {}", fig.id, src.file);
        }
    }
    // TD-MPC's own curve: 5 seeds every 20k env steps (98 at 20k, 574 at
    // 40k on average).
    let fig = registry::find("pets-cartpole-swingup").unwrap();
    let obs = ctrlbench::reproduce::published::load_figure(fig, &dir).unwrap();
    let at = |step: i64| {
        let v: Vec<f64> = obs
            .iter()
            .filter(|o| o.series == "TD-MPC" && o.step == step)
            .map(|o| o.score)
            .collect();
        (v.len(), v.iter().sum::<f64>() / v.len() as f64)
    };
    let (n, mean) = at(20_000);
    assert_eq!(n, 5);
    assert!((mean - 98.2).abs() < 1e-9, "{mean}");
    let (n, mean) = at(40_000);
    assert_eq!(n, 5);
    assert!((mean - 573.8).abs() < 1e-9, "{mean}");
}

#[test]
fn every_figure_renders_from_its_published_data_alone() {
    let dir = common::scratch("reproduce-published");
    let results = dir.display().to_string();
    for fig in registry::FIGURES {
        let o = ctrlbench(&[
            "reproduce",
            fig.id,
            "--published-only",
            "--reps",
            "500",
            "--results",
            &results,
        ]);
        assert!(o.status.success(), "{}: {}", fig.id, stderr(&o));
        let out = dir.join("reproduce").join(fig.id).join("published-only");
        for f in ["figure.png", "figure.svg", "index.html", "comparison.csv"] {
            let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{}: {f} missing or empty", fig.id);
        }
        let svg = std::fs::read_to_string(out.join("figure.svg")).unwrap();
        // Every published variant appears in the legend.
        for v in fig.variants.iter().filter(|v| v.published.is_some()) {
            let label = format!("{} (published)", v.label).replace('&', "&amp;");
            assert!(
                svg.contains(&label),
                "{}: no '{label}' in the figure",
                fig.id
            );
        }
        assert!(
            rows(&out.join("comparison.csv")).is_empty(),
            "{}: nothing of ours to compare",
            fig.id
        );
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(
            html.contains("published data only"),
            "{}: the page states no budget",
            fig.id
        );
    }
}

#[test]
fn a_smoke_reproduction_runs_draws_and_compares() {
    let dir = common::scratch("reproduce-smoke");
    let results = dir.display().to_string();
    let args = [
        "reproduce",
        "sac-cartpole-swingup",
        "--budget",
        "smoke",
        "--reps",
        "500",
        "--device",
        "cpu",
        "--results",
        &results,
    ];
    let o = ctrlbench(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("reproduce/sac-cartpole-swingup/smoke");
    assert!(
        out.join("runs/cartpole-swingup/sac/sac/seed-1/eval.csv")
            .is_file()
    );
    let comparison = rows(&out.join("comparison.csv"));
    let steps: Vec<&str> = comparison.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(steps, ["0", "2000", "4000"]);
    // Step 0 has TD-MPC2's SAC runs beside it; a smoke budget is never judged.
    assert_eq!(comparison[0][7], "0");
    assert_eq!(comparison[0][8], "3");
    assert!(comparison.iter().all(|r| r[12] == "n/a"));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("smoke: a pipeline check"));
    // Re-running draws again without running anything.
    let before = std::fs::metadata(out.join("runs/cartpole-swingup/sac/sac/seed-1/eval.csv"))
        .unwrap()
        .modified()
        .unwrap();
    let o = ctrlbench(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::metadata(out.join("runs/cartpole-swingup/sac/sac/seed-1/eval.csv"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

fn obs(series: &str, published: bool, run: i64, step: i64, score: f64) -> Observation {
    Observation {
        series: series.into(),
        published,
        task: "walker-walk".into(),
        run,
        step,
        score,
        active: None,
        hours: None,
    }
}

#[test]
fn ours_is_inside_the_published_range_at_the_aligned_step() {
    let fig = registry::find("fig11-redq").unwrap();
    let boot = ctrlbench::report::stats::Bootstrap {
        reps: 200,
        confidence: 0.95,
        seed: 0,
    };
    let data = vec![
        // Published at 0 and 25k (floored from 1k and 26k), seeds 1-3.
        obs("N_q=2", true, 1, 25_000, 300.0),
        obs("N_q=2", true, 2, 25_000, 500.0),
        obs("N_q=2", true, 3, 25_000, 700.0),
        obs("N_q=2", true, 1, 50_000, 900.0),
        // Ours at 26k (inside), at 51k (outside: above 900), at 40k (no
        // published step within 1k).
        obs("N_q=2", false, 1, 26_000, 600.0),
        obs("N_q=2", false, 2, 26_000, 400.0),
        obs("N_q=2", false, 1, 51_000, 950.0),
        obs("N_q=2", false, 1, 40_000, 800.0),
        // A variant without published data.
        obs("N_q=5 (DCWM)", false, 1, 26_000, 100.0),
    ];
    let rows = compare(fig, &data, false, &boot);
    let got: Vec<(&str, i64, Option<i64>, &str)> = rows
        .iter()
        .map(|r| (r.series.as_str(), r.step, r.published_step, r.inside))
        .collect();
    assert_eq!(
        got,
        [
            ("N_q=5 (DCWM)", 26_000, None, "n/a"),
            ("N_q=2", 26_000, Some(25_000), "yes"),
            ("N_q=2", 40_000, None, "n/a"),
            ("N_q=2", 51_000, Some(50_000), "above"),
        ]
    );
    let r = &rows[1];
    assert_eq!((r.n, r.published_n), (2, 3));
    assert_eq!(r.ours.point, 500.0);
    assert_eq!(r.published, Some((500.0, 300.0, 700.0)));
    // Smoke budgets are never judged.
    assert!(
        compare(fig, &data, true, &boot)
            .iter()
            .all(|r| r.inside == "n/a")
    );
}
