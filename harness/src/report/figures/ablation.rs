//! The ablation chart of a sweep: for each agent with several variants, the
//! final score (mean over seeds, 95 % CI) against the variant value, one
//! panel per task plus one for the aggregate IQM.

use std::collections::BTreeMap;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Plot;
use super::style::{Entry, FONT, Grid, PALETTE, draw_legend, finite, metric_label, style_mesh};
use crate::report::analysis::{Analysis, Series};
use crate::report::load::is_metaworld;
use crate::report::stats::Estimate;

/// Strips the common `key=` prefix of variant names: returns (key, values).
fn variant_axis(variants: &[String]) -> (String, Vec<String>) {
    let key = variants
        .first()
        .and_then(|v| v.split_once('=').map(|(k, _)| k.to_string()));
    match key {
        Some(k) if variants.iter().all(|v| v.starts_with(&format!("{k}="))) => {
            let vals = variants
                .iter()
                .map(|v| v[k.len() + 1..].to_string())
                .collect();
            (k, vals)
        }
        _ => ("variant".to_string(), variants.to_vec()),
    }
}

/// Sorts variant names numerically where they are numbers, else as text.
fn sort_variants(v: &mut [String]) {
    v.sort_by(|a, b| {
        let key = |s: &str| {
            s.rsplit('=')
                .next()
                .and_then(|x| x.trim().parse::<f64>().ok())
        };
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        }
    });
}

/// Agents with at least two variants (the grid variable of a sweep).
fn ablation_agents(a: &Analysis) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &a.series {
        m.entry(s.agent.clone())
            .or_default()
            .push(s.variant.clone());
    }
    m.retain(|_, v| v.len() >= 2);
    m
}

/// The figure applies when an agent has several variants.
pub(super) fn applies(a: &Analysis) -> bool {
    !ablation_agents(a).is_empty()
}

/// One panel per task plus the aggregate; the legend lists the agents.
fn ablation_layout(a: &Analysis) -> Grid {
    Grid::new(a.tasks.len() + 1, ablation_agents(a).len())
}

pub(super) fn size(a: &Analysis) -> (u32, u32) {
    ablation_layout(a).size()
}

/// What a panel shows: a task's final mean, or the aggregate IQM.
#[derive(Clone, Copy)]
enum Panel<'t> {
    Task(&'t str),
    Aggregate,
}

impl Panel<'_> {
    fn title(&self) -> &str {
        match *self {
            Panel::Task(t) => t,
            Panel::Aggregate => "aggregate IQM",
        }
    }

    fn y_desc(&self) -> &'static str {
        match *self {
            Panel::Task(t) => metric_label(t),
            Panel::Aggregate => "IQM normalized score",
        }
    }

    /// Scores in [0, 1]: normalized or a success rate.
    fn unit_range(&self) -> bool {
        match *self {
            Panel::Task(t) => is_metaworld(t),
            Panel::Aggregate => true,
        }
    }

    /// Final estimate of a series on this panel, if it has one.
    fn estimate(&self, a: &Analysis, s: &Series) -> Option<Estimate> {
        match *self {
            Panel::Task(task) => a
                .curves
                .iter()
                .find(|c| c.task == task && &c.series == s)
                .and_then(|c| c.points.last())
                .map(|p| p.stats.mean),
            Panel::Aggregate => a
                .aggregates
                .iter()
                .find(|g| &g.series == s)
                .and_then(|g| g.points.last())
                .map(|p| p.agg.iqm),
        }
    }
}

/// Final score per task (and aggregate IQM) against the variant value.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &Analysis) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let agents = ablation_agents(a);
    let mut variants: Vec<String> = agents.values().flatten().cloned().collect();
    sort_variants(&mut variants);
    variants.dedup();
    let (key, values) = variant_axis(&variants);
    let agent_color: BTreeMap<&String, RGBColor> = agents
        .keys()
        .enumerate()
        .map(|(i, a)| (a, PALETTE[i % PALETTE.len()]))
        .collect();
    let layout = ablation_layout(a);
    let entries: Vec<Entry> = agent_color
        .iter()
        .map(|(a, c)| Entry {
            label: (*a).clone(),
            color: *c,
            dashed: false,
        })
        .collect();
    let body = root
        .titled(
            &format!("Ablation over {key}: final score (mean over seeds, 95% CI)"),
            (FONT, 24),
        )
        .plot()?;
    let (grid, legend) = body.split_vertically(layout.panels_height());
    let mut panels_spec: Vec<Panel<'_>> = a.tasks.iter().map(|t| Panel::Task(t.as_str())).collect();
    panels_spec.push(Panel::Aggregate);
    let panels = grid.split_evenly((layout.rows, layout.cols));
    let nv = values.len() as i32;
    for (spec, panel) in panels_spec.iter().zip(panels.iter()) {
        // (agent, variant index, estimate)
        let mut pts: Vec<(&String, i32, Estimate)> = Vec::new();
        for (agent, vs) in &agents {
            for v in vs {
                let Some(idx) = variants.iter().position(|x| x == v) else {
                    continue;
                };
                let s = Series {
                    agent: agent.clone(),
                    variant: v.clone(),
                };
                if let Some(e) = spec.estimate(a, &s) {
                    pts.push((agent, idx as i32, finite(&e)));
                }
            }
        }
        let y_hi = if spec.unit_range() {
            1.0
        } else {
            pts.iter()
                .map(|(_, _, e)| e.hi.max(e.point))
                .fold(0.0f64, f64::max)
                .max(1.0)
                * 1.05
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(spec.title(), (FONT, 20))
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((0..(nv - 1).max(0)).into_segmented(), 0f64..y_hi)
            .plot()?;
        let fmt_x = |x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) => values.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        style_mesh(
            chart
                .configure_mesh()
                .x_desc(key.as_str())
                .y_desc(spec.y_desc())
                .x_label_formatter(&fmt_x)
                .y_label_formatter(&|y| {
                    if y_hi > 10.0 {
                        format!("{y:.0}")
                    } else {
                        format!("{y:.1}")
                    }
                }),
        )
        .draw()
        .plot()?;
        for (agent, color) in &agent_color {
            let mine: Vec<&(&String, i32, Estimate)> =
                pts.iter().filter(|(g, _, _)| g == agent).collect();
            let line: Vec<(SegmentValue<i32>, f64)> = mine
                .iter()
                .map(|(_, i, e)| (SegmentValue::CenterOf(*i), e.point))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .plot()?;
            chart
                .draw_series(mine.iter().map(|(_, i, e)| {
                    ErrorBar::new_vertical(
                        SegmentValue::CenterOf(*i),
                        e.lo,
                        e.point,
                        e.hi,
                        color.stroke_width(2),
                        12,
                    )
                }))
                .plot()?;
            chart
                .draw_series(
                    line.iter()
                        .map(|p| Circle::new(p.clone(), 4, color.filled())),
                )
                .plot()?;
        }
    }
    draw_legend(&legend, &entries)?;
    root.present().plot()
}
