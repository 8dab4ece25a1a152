//! From observations (ours and published) to a figure's panels and its
//! comparison table.
//!
//! # Contract
//!
//! - Per-task curves: mean over runs with a 95% bootstrap CI, per series.
//!   With runs of ours, the x axis spans ours (published curves are cut
//!   there); without, the figure's `x_max`.
//! - Aggregates (rliable, normalised scores: DMC return / 1000, Meta-World
//!   success rate): over our runs' tasks when there are runs (so both sides
//!   cover the same tasks), else over all the figure's tasks; at the steps
//!   every included task has. The bar step is the figure's, or our last
//!   aggregate step when our runs end earlier; published bars are read at
//!   the aligned step ([`align`]).
//! - Comparison rows: each of our (series, task, step) against the published
//!   series of the same name at the aligned step.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::figures::fmt_steps;
use crate::report::figures::paper::{PaperBar, PaperFigure, PaperLine, PaperPanel};
use crate::report::stats::{self, Bootstrap, Estimate};

use super::published::{Observation, align};
use super::registry::{ExtraRow, FigureSpec, Layout};

/// (series, published) -> task -> step -> run -> value.
type Table = BTreeMap<(String, bool), BTreeMap<String, BTreeMap<i64, BTreeMap<i64, f64>>>>;

fn table(obs: &[Observation], value: impl Fn(&Observation) -> Option<f64>) -> Table {
    let mut t = Table::new();
    for o in obs {
        if let Some(v) = value(o) {
            t.entry((o.series.clone(), o.published))
                .or_default()
                .entry(o.task.clone())
                .or_default()
                .entry(o.step)
                .or_default()
                .insert(o.run, v);
        }
    }
    t
}

/// Series keys in legend order: the figure's variants first, ours before
/// published, then the published series in the order of the sources, then
/// any other.
fn ordered(fig: &FigureSpec, t: &Table) -> Vec<(String, bool)> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    let names = fig
        .variants
        .iter()
        .map(|v| v.label)
        .chain(fig.sources.iter().filter_map(|s| s.series));
    for name in names {
        for published in [false, true] {
            let k = (name.to_string(), published);
            if t.contains_key(&k) && !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    for k in t.keys() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys
}

fn is_metaworld(task: &str) -> bool {
    task.starts_with("mw-")
}

fn normalized(task: &str, v: f64) -> f64 {
    if is_metaworld(task) { v } else { v / 1000.0 }
}

fn metric_label(tasks: &[&str]) -> &'static str {
    if tasks.iter().all(|t| is_metaworld(t)) {
        "success rate"
    } else {
        "episode return"
    }
}

/// Everything drawn and tabulated for one figure.
pub struct Built {
    /// The figure in the paper's layout.
    pub figure: PaperFigure,
    /// Per-task curves (aggregate figures only).
    pub curves: Option<PaperFigure>,
    /// Rows of `comparison.csv`.
    pub comparison: Vec<ComparisonRow>,
    /// The aggregates of the bar panels (aggregate figures only).
    pub aggregates: Vec<AggregateRow>,
}

/// One series' aggregates at the bar step (a row of `aggregates.csv`).
#[derive(Debug, Clone)]
pub struct AggregateRow {
    /// Series.
    pub series: String,
    /// Published data rather than ours.
    pub published: bool,
    /// The step read.
    pub step: i64,
    /// Tasks aggregated.
    pub n_tasks: usize,
    /// Runs over all tasks.
    pub n_runs: usize,
    /// IQM of normalised scores with its CI.
    pub iqm: Estimate,
    /// Optimality gap with its CI.
    pub optimality_gap: Estimate,
}

/// One row of `comparison.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Task.
    pub task: String,
    /// Series (variant label).
    pub series: String,
    /// Our env step.
    pub step: i64,
    /// Our runs.
    pub n: usize,
    /// Our mean with its 95% CI.
    pub ours: Estimate,
    /// The aligned published step, if any.
    pub published_step: Option<i64>,
    /// Published runs at that step.
    pub published_n: usize,
    /// Published mean, min and max over runs.
    pub published: Option<(f64, f64, f64)>,
    /// `yes`: our mean inside the published min–max over runs; `above` or
    /// `below` it; `n/a`: a smoke budget or nothing published to compare with.
    pub inside: &'static str,
}

/// Compares our curves with the published series of the same name.
pub fn compare(
    fig: &FigureSpec,
    obs: &[Observation],
    smoke: bool,
    boot: &Bootstrap,
) -> Vec<ComparisonRow> {
    let t = table(obs, |o| Some(o.score));
    let mut rows = Vec::new();
    for ((series, published), tasks) in &t {
        if *published {
            continue;
        }
        for (task, steps) in tasks {
            let theirs = t.get(&(series.clone(), true)).and_then(|m| m.get(task));
            let their_steps: Vec<i64> = theirs
                .map(|m| m.keys().copied().collect())
                .unwrap_or_default();
            for (&step, runs) in steps {
                let v: Vec<f64> = runs.values().copied().collect();
                let ours = stats::task_stats(&v, boot).mean;
                let aligned = align(step, &their_steps);
                let pub_values: Vec<f64> = aligned
                    .and_then(|p| theirs.and_then(|m| m.get(&p)))
                    .map(|r| r.values().copied().collect())
                    .unwrap_or_default();
                let published = (!pub_values.is_empty()).then(|| {
                    let min = pub_values.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = pub_values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (stats::mean(&pub_values), min, max)
                });
                let inside = match published {
                    Some((_, lo, hi)) if !smoke => {
                        if ours.point < lo {
                            "below"
                        } else if ours.point > hi {
                            "above"
                        } else {
                            "yes"
                        }
                    }
                    _ => "n/a",
                };
                rows.push(ComparisonRow {
                    task: task.clone(),
                    series: series.clone(),
                    step,
                    n: v.len(),
                    ours,
                    published_step: aligned,
                    published_n: pub_values.len(),
                    published,
                    inside,
                });
            }
        }
    }
    let order = |s: &str| {
        fig.variants
            .iter()
            .position(|v| v.label == s)
            .unwrap_or(usize::MAX)
    };
    let task_order = |s: &str| fig.tasks.iter().position(|t| *t == s).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| (task_order(&r.task), order(&r.series), r.step));
    rows
}

fn curve_points(
    steps: &BTreeMap<i64, BTreeMap<i64, f64>>,
    x_max: f64,
    boot: &Bootstrap,
) -> Vec<(f64, Estimate)> {
    steps
        .iter()
        .filter(|(s, _)| **s as f64 <= x_max)
        .map(|(s, runs)| {
            let v: Vec<f64> = runs.values().copied().collect();
            (*s as f64, stats::task_stats(&v, boot).mean)
        })
        .collect()
}

/// The right end of the curves: ours when there are runs, else the figure's.
fn x_extent(fig_x_max: i64, ours: &[&Observation]) -> f64 {
    match ours.iter().map(|o| o.step).max() {
        Some(m) => m as f64,
        None => fig_x_max as f64,
    }
}

/// A row of per-task panels: what it plots and how.
struct Row<'t> {
    /// Values per series, task, step and run.
    table: &'t Table,
    /// y axis description.
    y_desc: &'static str,
    /// Appended to the task in the panel title.
    suffix: &'static str,
    /// Fixed y range (Meta-World success rates get [0, 1] anyway).
    y_range: Option<(f64, f64)>,
}

/// Per-task panels of a row (one per task, in the figure's order).
fn task_panels(
    fig: &FigureSpec,
    tasks: &[&str],
    row: &Row<'_>,
    x_max: f64,
    boot: &Bootstrap,
) -> Vec<PaperPanel> {
    let keys = ordered(fig, row.table);
    tasks
        .iter()
        .map(|task| {
            let lines = keys
                .iter()
                .filter_map(|k| {
                    let steps = row.table.get(k)?.get(*task)?;
                    let points = curve_points(steps, x_max, boot);
                    (!points.is_empty()).then(|| PaperLine {
                        series: k.0.clone(),
                        published: k.1,
                        points,
                    })
                })
                .collect();
            let y_range = match row.y_range {
                None if is_metaworld(task) => Some((0.0, 1.0)),
                r => r,
            };
            PaperPanel::Curves {
                title: format!("{task}{}", row.suffix),
                x_desc: "env steps".into(),
                y_desc: row.y_desc.into(),
                y_range,
                steps_axis: true,
                lines,
            }
        })
        .collect()
}

/// Per-task panels of the metric against wall-clock hours (the mean over
/// the runs of the hours at each evaluation), for evaluations up to `x_max`
/// env steps.
fn wall_clock_panels(
    fig: &FigureSpec,
    tasks: &[&str],
    obs: &[Observation],
    x_max: f64,
    boot: &Bootstrap,
) -> Vec<PaperPanel> {
    let scores = table(obs, |o| o.hours.map(|_| o.score));
    let hours = table(obs, |o| o.hours);
    let keys = ordered(fig, &scores);
    tasks
        .iter()
        .map(|task| {
            let lines = keys
                .iter()
                .filter_map(|k| {
                    let steps = scores.get(k)?.get(*task)?;
                    let when = hours.get(k)?.get(*task)?;
                    let points: Vec<(f64, Estimate)> = steps
                        .iter()
                        .filter(|(s, _)| **s as f64 <= x_max)
                        .map(|(s, runs)| {
                            let h: Vec<f64> = when[s].values().copied().collect();
                            let v: Vec<f64> = runs.values().copied().collect();
                            (stats::mean(&h), stats::task_stats(&v, boot).mean)
                        })
                        .collect();
                    (!points.is_empty()).then(|| PaperLine {
                        series: k.0.clone(),
                        published: k.1,
                        points,
                    })
                })
                .collect();
            PaperPanel::Curves {
                title: format!("{task} against wall-clock"),
                x_desc: "hours (ours: this machine; published: the authors' GPU)".into(),
                y_desc: metric_label(tasks).into(),
                y_range: None,
                steps_axis: false,
                lines,
            }
        })
        .collect()
}

/// One series' normalised scores over the tasks at each step every task has:
/// the matrices (task x runs) rliable's aggregates take.
struct SeriesMatrices {
    series: String,
    published: bool,
    at_steps: Vec<(i64, Vec<Vec<f64>>)>,
}

/// The series that have every one of `tasks`, with their matrices.
fn matrices(fig: &FigureSpec, norm: &Table, tasks: &[&str]) -> Vec<SeriesMatrices> {
    let mut out = Vec::new();
    for k in ordered(fig, norm) {
        let per_task = &norm[&k];
        if !tasks.iter().all(|t| per_task.contains_key(*t)) {
            continue; // this series misses some of the tasks
        }
        let mut common: Option<BTreeSet<i64>> = None;
        for t in tasks {
            let these: BTreeSet<i64> = per_task[*t].keys().copied().collect();
            common = Some(match common {
                None => these,
                Some(c) => c.intersection(&these).copied().collect(),
            });
        }
        let at_steps = common
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                (
                    s,
                    tasks
                        .iter()
                        .map(|t| per_task[*t][&s].values().copied().collect())
                        .collect(),
                )
            })
            .collect();
        out.push(SeriesMatrices {
            series: k.0,
            published: k.1,
            at_steps,
        });
    }
    out
}

/// Tasks, in the figure's order, that have any observation.
fn tasks_with_data<'a>(
    fig: &'a FigureSpec,
    obs: &[Observation],
    published: Option<bool>,
) -> Vec<&'a str> {
    let present: BTreeSet<&str> = obs
        .iter()
        .filter(|o| published.is_none_or(|p| o.published == p))
        .map(|o| o.task.as_str())
        .collect();
    fig.tasks
        .iter()
        .copied()
        .filter(|t| present.contains(t))
        .collect()
}

/// The figure, its per-task curves (aggregate layouts) and the comparison.
pub fn build(
    fig: &FigureSpec,
    obs: &[Observation],
    title: &str,
    smoke: bool,
    reps: usize,
) -> Built {
    let bars_boot = Bootstrap {
        reps,
        confidence: 0.95,
        seed: 0,
    };
    let boot = Bootstrap {
        reps: reps.min(2000),
        confidence: 0.95,
        seed: 0,
    };
    let ours: Vec<&Observation> = obs.iter().filter(|o| !o.published).collect();
    let has_ours = !ours.is_empty();
    let scores = table(obs, |o| Some(o.score));
    let comparison = compare(fig, obs, smoke, &boot);
    match fig.layout {
        Layout::PerTask { x_max, extra_row } => {
            let x = x_extent(x_max, &ours);
            let tasks = if has_ours {
                tasks_with_data(fig, obs, Some(false))
            } else {
                tasks_with_data(fig, obs, None)
            };
            let scores_row = Row {
                table: &scores,
                y_desc: metric_label(&tasks),
                suffix: "",
                y_range: None,
            };
            let mut panels = task_panels(fig, &tasks, &scores_row, x, &boot);
            if extra_row == ExtraRow::WallClock {
                panels.extend(wall_clock_panels(fig, &tasks, obs, x, &boot));
            }
            if extra_row == ExtraRow::ActiveCodes {
                let active = table(obs, |o| o.active);
                let active_row = Row {
                    table: &active,
                    y_desc: "active codes (%)",
                    suffix: ": codebook active",
                    y_range: Some((0.0, 105.0)),
                };
                panels.extend(task_panels(fig, &tasks, &active_row, x, &boot));
            }
            Built {
                figure: PaperFigure {
                    title: title.to_string(),
                    cols: tasks.len().clamp(1, 4),
                    panels,
                },
                curves: None,
                comparison,
                aggregates: Vec::new(),
            }
        }
        Layout::Aggregate { bar_step, x_max } => {
            let x = x_extent(x_max, &ours);
            let tasks: Vec<&str> = if has_ours {
                tasks_with_data(fig, obs, Some(false))
            } else {
                tasks_with_data(fig, obs, None)
            };
            let norm = table(obs, |o| Some(normalized(&o.task, o.score)));
            let series_steps = matrices(fig, &norm, &tasks);
            let our_last = series_steps
                .iter()
                .filter(|m| !m.published)
                .filter_map(|m| m.at_steps.last().map(|(s, _)| *s))
                .max();
            let at = our_last.map_or(bar_step, |s| s.min(bar_step));
            let mut aggregates = Vec::new();
            let mut iqm_bars = Vec::new();
            let mut gap_bars = Vec::new();
            let mut lines = Vec::new();
            for SeriesMatrices {
                series,
                published,
                at_steps: pts,
            } in &series_steps
            {
                let steps: Vec<i64> = pts.iter().map(|(s, _)| *s).collect();
                let read = if *published {
                    align(at, &steps)
                } else {
                    steps.contains(&at).then_some(at)
                };
                if let Some(s) = read
                    && let Some((_, m)) = pts.iter().find(|(p, _)| *p == s)
                {
                    let a = stats::aggregates(m, &bars_boot);
                    aggregates.push(AggregateRow {
                        series: series.clone(),
                        published: *published,
                        step: s,
                        n_tasks: m.len(),
                        n_runs: m.iter().map(Vec::len).sum(),
                        iqm: a.iqm,
                        optimality_gap: a.optimality_gap,
                    });
                    iqm_bars.push(PaperBar {
                        series: series.clone(),
                        published: *published,
                        estimate: a.iqm,
                    });
                    gap_bars.push(PaperBar {
                        series: series.clone(),
                        published: *published,
                        estimate: a.optimality_gap,
                    });
                }
                let points: Vec<(f64, Estimate)> = pts
                    .iter()
                    .filter(|(s, _)| *s as f64 <= x)
                    .map(|(s, m)| (*s as f64, stats::aggregates(m, &boot).iqm))
                    .collect();
                if !points.is_empty() {
                    lines.push(PaperLine {
                        series: series.clone(),
                        published: *published,
                        points,
                    });
                }
            }
            let n = tasks.len();
            let panels = vec![
                PaperPanel::Bars {
                    title: format!("IQM at {} ({n} tasks)", fmt_steps(at as f64)),
                    bars: iqm_bars,
                },
                PaperPanel::Bars {
                    title: format!(
                        "Optimality gap at {} (lower is better)",
                        fmt_steps(at as f64)
                    ),
                    bars: gap_bars,
                },
                PaperPanel::Curves {
                    title: format!("IQM over env steps ({n} tasks)"),
                    x_desc: "env steps".into(),
                    y_desc: "IQM normalized score".into(),
                    y_range: Some((0.0, 1.0)),
                    steps_axis: true,
                    lines,
                },
            ];
            let scores_row = Row {
                table: &scores,
                y_desc: metric_label(&tasks),
                suffix: "",
                y_range: None,
            };
            let curve_panels = task_panels(fig, &tasks, &scores_row, x, &boot);
            Built {
                figure: PaperFigure {
                    title: title.to_string(),
                    cols: 3,
                    panels,
                },
                curves: Some(PaperFigure {
                    title: format!("{title}: per-task curves"),
                    cols: 5,
                    panels: curve_panels,
                }),
                comparison,
                aggregates,
            }
        }
    }
}
