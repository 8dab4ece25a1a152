//! Curves over env steps or thresholds: the grid of per-task learning curves
//! (with published references dashed), the aggregate IQM of normalized scores
//! and the performance profile at the final evaluation. The last two share
//! one frame: a single chart above a legend of the series.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Plot;
use super::style::{
    Colors, CurveChart, FONT, Grid, Line, curve_chart, draw_legend, legend_height, metric_label,
};
use crate::report::analysis::{Analysis, TaskCurve};
use crate::report::load::is_metaworld;
use crate::report::stats::Estimate;

fn curve_points(c: &TaskCurve) -> Vec<(f64, Estimate)> {
    c.points
        .iter()
        .map(|p| (p.step as f64, p.stats.mean))
        .collect()
}

fn y_range_for(task: &str, lines: &[Line]) -> (f64, f64) {
    if is_metaworld(task) {
        return (0.0, 1.0);
    }
    let hi = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(_, e)| e.hi.max(e.point)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let lo = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(_, e)| e.lo.min(e.point)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::min);
    let hi = if hi <= 0.0 { 1.0 } else { hi * 1.05 };
    (lo, hi)
}

/// Largest x of the lines (0 without points).
fn x_extent(lines: &[Line]) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(x, _)| *x))
        .fold(0.0, f64::max)
}

/// The curves figure's title.
const CURVES_TITLE: &str = "Learning curves (mean over seeds, shaded: 95% bootstrap CI)";

/// The narrowest curves canvas: its title fits on one line.
const CURVES_MIN_W: u32 = 760;

/// The curves figure: one panel per task; the legend lists the references
/// too when there are any. Sizes the canvas and places the panels.
fn curves_layout(a: &Analysis) -> Grid {
    let legend = Colors::new(a).legend(!a.reference.is_empty()).len();
    Grid::new(a.tasks.len(), legend).at_least(CURVES_MIN_W)
}

pub(super) fn curves_size(a: &Analysis) -> (u32, u32) {
    curves_layout(a).size()
}

/// Grid of per-task learning curves (mean over seeds, 95 % CI bands).
pub(super) fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let colors = Colors::new(a);
    let layout = curves_layout(a);
    let entries = colors.legend(!a.reference.is_empty());
    let body = root.titled(CURVES_TITLE, (FONT, 24)).plot()?;
    let (grid, legend) = body.split_vertically(layout.panels_height());
    let panels = grid.split_evenly((layout.rows, layout.cols));
    for (task, panel) in a.tasks.iter().zip(panels.iter()) {
        let mut lines = Vec::new();
        for c in a.curves.iter().filter(|c| &c.task == task) {
            lines.push(Line {
                points: curve_points(c),
                color: colors.of(&c.series),
                dashed: false,
            });
        }
        // The x axis spans this project's results; references are cut there.
        let x_max = x_extent(&lines);
        for c in a.reference.iter().filter(|c| &c.task == task) {
            let points: Vec<(f64, Estimate)> = curve_points(c)
                .into_iter()
                .filter(|(x, _)| *x <= x_max)
                .collect();
            if !points.is_empty() {
                lines.push(Line {
                    points,
                    color: colors.of_ref(&c.series),
                    dashed: true,
                });
            }
        }
        let chart = CurveChart {
            title: task,
            x_desc: "env steps",
            y_desc: metric_label(task),
            x_max,
            y_range: y_range_for(task, &lines),
            lines: &lines,
            steps_axis: true,
        };
        curve_chart(panel, &chart)?;
    }
    draw_legend(&legend, &entries)?;
    root.present().plot()
}

/// Canvas of a single chart above a legend of the series (aggregate IQM,
/// performance profile).
pub(super) fn chart_size(a: &Analysis) -> (u32, u32) {
    (900, 520 + legend_height(a.series.len(), 900))
}

/// A single chart above a legend of the series (results only).
fn draw_single<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    colors: &Colors,
    chart: &CurveChart<'_>,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let (w, h) = root.dim_in_pixel();
    let entries = colors.legend(false);
    let (chart_area, legend) = root.split_vertically(h - legend_height(entries.len(), w));
    curve_chart(&chart_area, chart)?;
    draw_legend(&legend, &entries)?;
    root.present().plot()
}

/// Aggregate IQM of normalized scores over env steps.
pub(super) fn draw_aggregate_iqm<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
) -> Result<()> {
    let colors = Colors::new(a);
    let lines: Vec<Line> = a
        .aggregates
        .iter()
        .map(|g| Line {
            points: g
                .points
                .iter()
                .map(|p| (p.step as f64, p.agg.iqm))
                .collect(),
            color: colors.of(&g.series),
            dashed: false,
        })
        .collect();
    let n_tasks = a.tasks.len();
    let title =
        format!("Aggregate IQM over {n_tasks} task(s) (shaded: 95% stratified bootstrap CI)");
    let chart = CurveChart {
        title: &title,
        x_desc: "env steps",
        y_desc: "IQM normalized score",
        x_max: x_extent(&lines),
        y_range: (0.0, 1.0),
        lines: &lines,
        steps_axis: true,
    };
    draw_single(root, &colors, &chart)
}

/// Performance profiles at each series' last aggregate step.
pub(super) fn draw_profile<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
) -> Result<()> {
    let colors = Colors::new(a);
    let lines: Vec<Line> = a
        .aggregates
        .iter()
        .filter(|g| !g.profile.is_empty())
        .map(|g| Line {
            points: a
                .taus
                .iter()
                .copied()
                .zip(g.profile.iter().copied())
                .collect(),
            color: colors.of(&g.series),
            dashed: false,
        })
        .collect();
    let chart = CurveChart {
        title: "Performance profile at the final evaluation (95% CI)",
        x_desc: "normalized score τ",
        y_desc: "fraction of runs with score > τ",
        x_max: 1.0,
        y_range: (0.0, 1.0),
        lines: &lines,
        steps_axis: false,
    };
    draw_single(root, &colors, &chart)
}
