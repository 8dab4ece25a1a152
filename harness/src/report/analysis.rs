//! From evaluation records to learning curves, aggregates and profiles.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use rayon::prelude::*;

use super::load::{Record, is_metaworld};
use super::stats::{self, Aggregates, Bootstrap, Estimate, TaskStats};

/// An agent and its variant: one line in the figures.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Series {
    /// Agent name.
    pub agent: String,
    /// Variant (grid point); empty if none.
    pub variant: String,
}

impl Series {
    /// Legend label: `agent` or `agent [variant]`.
    pub fn label(&self) -> String {
        if self.variant.is_empty() {
            self.agent.clone()
        } else {
            format!("{} [{}]", self.agent, self.variant)
        }
    }
}

/// Statistics over seeds at one evaluation step.
#[derive(Debug, Clone, Copy)]
pub struct CurvePoint {
    /// Environment steps.
    pub step: i64,
    /// Statistics of the task metric over runs.
    pub stats: TaskStats,
}

/// The learning curve of one series on one task.
#[derive(Debug, Clone)]
pub struct TaskCurve {
    /// Task name.
    pub task: String,
    /// Agent and variant.
    pub series: Series,
    /// Points in increasing step order.
    pub points: Vec<CurvePoint>,
}

/// Aggregate (normalized, across tasks) statistics at one step.
#[derive(Debug, Clone, Copy)]
pub struct AggregatePoint {
    /// Environment steps.
    pub step: i64,
    /// Number of tasks.
    pub n_tasks: usize,
    /// Number of runs over all tasks.
    pub n_runs: usize,
    /// rliable aggregates with CIs.
    pub agg: Aggregates,
}

/// Aggregates of one series over the steps all of its tasks were evaluated at.
#[derive(Debug, Clone)]
pub struct AggregateCurve {
    /// Agent and variant.
    pub series: Series,
    /// Tasks included.
    pub tasks: Vec<String>,
    /// Points in increasing step order.
    pub points: Vec<AggregatePoint>,
    /// Performance profile at the last point.
    pub profile: Vec<Estimate>,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Tasks of the results, sorted.
    pub tasks: Vec<String>,
    /// Series of the results, sorted.
    pub series: Vec<Series>,
    /// Learning curves of the results.
    pub curves: Vec<TaskCurve>,
    /// Learning curves of the reference files on the results' tasks.
    pub reference: Vec<TaskCurve>,
    /// Aggregates per series.
    pub aggregates: Vec<AggregateCurve>,
    /// Thresholds of the performance profiles.
    pub taus: Vec<f64>,
    /// Problems with the comparison that do not stop the report (an
    /// aggregate over runs with different action repeats).
    pub warnings: Vec<String>,
}

/// Name of the metric of a task.
pub fn metric_name(task: &str) -> &'static str {
    if is_metaworld(task) {
        "success_rate"
    } else {
        "episode_reward"
    }
}

/// Run scores: (task, series) -> step -> seed -> value.
type Grouped = BTreeMap<(String, Series), Steps>;

/// step -> seed -> value.
type Steps = BTreeMap<i64, BTreeMap<i64, f64>>;

fn group(records: &[Record], normalized: bool) -> Result<Grouped> {
    let mut g: Grouped = BTreeMap::new();
    for r in records {
        let v = if normalized {
            r.normalized()
        } else {
            r.metric()
        };
        let Some(v) = v else {
            bail!(
                "{} / {} seed {} step {}: no {} value",
                r.task,
                r.agent,
                r.seed,
                r.env_step,
                if r.is_metaworld() {
                    "episode_success"
                } else {
                    "episode_reward"
                }
            );
        };
        let key = (
            r.task.clone(),
            Series {
                agent: r.agent.clone(),
                variant: r.variant.clone(),
            },
        );
        // A repeated (run, step) keeps the last row, as a resumed run's log would.
        g.entry(key)
            .or_default()
            .entry(r.env_step)
            .or_default()
            .insert(r.seed, v);
    }
    Ok(g)
}

fn curves(g: &Grouped, boot: &Bootstrap) -> Vec<TaskCurve> {
    g.par_iter()
        .map(|((task, series), steps)| TaskCurve {
            task: task.clone(),
            series: series.clone(),
            points: steps
                .iter()
                .map(|(&step, seeds)| {
                    let v: Vec<f64> = seeds.values().copied().collect();
                    CurvePoint {
                        step,
                        stats: stats::task_stats(&v, boot),
                    }
                })
                .collect(),
        })
        .collect()
}

/// One warning per series whose runs used more than one action repeat:
/// their steps count the same env steps but different numbers of agent
/// decisions, so their aggregate compares unlike runs.
fn mixed_action_repeats(records: &[Record]) -> Vec<String> {
    let mut repeats: BTreeMap<Series, BTreeSet<i64>> = BTreeMap::new();
    for r in records {
        if let Some(k) = r.action_repeat {
            let series = Series {
                agent: r.agent.clone(),
                variant: r.variant.clone(),
            };
            repeats.entry(series).or_default().insert(k);
        }
    }
    repeats
        .into_iter()
        .filter(|(_, ks)| ks.len() > 1)
        .map(|(s, ks)| {
            let ks: Vec<String> = ks.iter().map(i64::to_string).collect();
            format!(
                "{}: the aggregate mixes runs with action repeats {}",
                s.label(),
                ks.join(", ")
            )
        })
        .collect()
}

/// Thresholds of the performance profile: 0 to 1 in steps of 0.02.
pub fn default_taus() -> Vec<f64> {
    (0..=50).map(|i| i as f64 / 50.0).collect()
}

/// Learning curves, aggregates and profiles of `records`, with reference
/// curves for the same tasks from `reference`.
pub fn analyze(records: &[Record], reference: &[Record], boot: &Bootstrap) -> Result<Analysis> {
    let raw = group(records, false)?;
    let norm = group(records, true)?;
    let tasks: BTreeSet<String> = raw.keys().map(|(t, _)| t.clone()).collect();
    let series: BTreeSet<Series> = raw.keys().map(|(_, s)| s.clone()).collect();
    let ref_records: Vec<Record> = reference
        .iter()
        .filter(|r| tasks.contains(&r.task) && r.metric().is_some())
        .cloned()
        .collect();
    let ref_grouped = group(&ref_records, false)?;
    let taus = default_taus();

    let mut aggregates = Vec::new();
    for s in &series {
        let per_task: Vec<(&String, &Steps)> = norm
            .iter()
            .filter(|((_, ss), _)| ss == s)
            .map(|((t, _), steps)| (t, steps))
            .collect();
        // Steps at which every task has at least one run.
        let mut common: Option<BTreeSet<i64>> = None;
        for (_, steps) in &per_task {
            let these: BTreeSet<i64> = steps.keys().copied().collect();
            common = Some(match common {
                None => these,
                Some(c) => c.intersection(&these).copied().collect(),
            });
        }
        let common: Vec<i64> = common.unwrap_or_default().into_iter().collect();
        let matrices: Vec<Vec<Vec<f64>>> = common
            .iter()
            .map(|step| {
                per_task
                    .iter()
                    .map(|(_, steps)| steps[step].values().copied().collect())
                    .collect()
            })
            .collect();
        let points: Vec<AggregatePoint> = common
            .par_iter()
            .zip(matrices.par_iter())
            .map(|(&step, m)| AggregatePoint {
                step,
                n_tasks: m.len(),
                n_runs: m.iter().map(Vec::len).sum(),
                agg: stats::aggregates(m, boot),
            })
            .collect();
        let profile = matrices
            .last()
            .map(|m| stats::performance_profile(m, &taus, boot))
            .unwrap_or_default();
        aggregates.push(AggregateCurve {
            series: s.clone(),
            tasks: per_task.iter().map(|(t, _)| (*t).clone()).collect(),
            points,
            profile,
        });
    }
    Ok(Analysis {
        warnings: mixed_action_repeats(records),
        tasks: tasks.into_iter().collect(),
        series: series.into_iter().collect(),
        curves: curves(&raw, boot),
        reference: curves(&ref_grouped, boot),
        aggregates,
        taus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(agent: &str, task: &str, seed: i64, action_repeat: Option<i64>) -> Record {
        Record {
            agent: agent.into(),
            variant: String::new(),
            task: task.into(),
            seed,
            env_step: 1000,
            reward: Some(500.0),
            success: None,
            action_repeat,
            final_success: None,
        }
    }

    #[test]
    fn an_aggregate_over_different_action_repeats_is_warned_about() {
        let records = vec![
            record("pets", "cartpole-swingup", 1, Some(8)),
            record("pets", "walker-walk", 1, Some(2)),
            record("sac", "cartpole-swingup", 1, Some(2)),
            record("sac", "walker-walk", 1, None),
        ];
        let boot = Bootstrap {
            reps: 10,
            confidence: 0.95,
            seed: 0,
        };
        let a = analyze(&records, &[], &boot).unwrap();
        assert_eq!(
            a.warnings,
            ["pets: the aggregate mixes runs with action repeats 2, 8"]
        );
    }
}
