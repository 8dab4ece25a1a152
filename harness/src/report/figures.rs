//! Figures with plotters, each written as PNG and SVG: learning curves per
//! task, the aggregate IQM curve, point estimates with CIs, the performance
//! profile and, for sweeps over a grid variable, an ablation chart.
//!
//! Colours follow the Okabe–Ito colour-blind-safe palette; published
//! reference curves are dashed; shaded bands are 95 % bootstrap CIs.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::{Analysis, Series, TaskCurve};
use super::load::is_metaworld;
use super::stats::Estimate;

const FONT: &str = "DejaVu Sans";

/// Okabe–Ito palette, yellow last (low contrast on white).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

trait Plot<T> {
    fn plot(self) -> Result<T>;
}

impl<T, E: std::fmt::Debug> Plot<T> for std::result::Result<T, E> {
    fn plot(self) -> Result<T> {
        self.map_err(|e| anyhow!("drawing failed: {e:?}"))
    }
}

/// A curve to draw: points with CIs, colour, dashed (published reference).
type Line = (Vec<(f64, Estimate)>, RGBColor, bool);

/// One entry of a legend.
struct Entry {
    label: String,
    color: RGBColor,
    dashed: bool,
}

/// Colours of the series (results first, then references).
struct Colors {
    ours: BTreeMap<Series, RGBColor>,
    reference: BTreeMap<Series, RGBColor>,
}

impl Colors {
    fn new(a: &Analysis) -> Self {
        let ours: BTreeMap<Series, RGBColor> = a
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), PALETTE[i % PALETTE.len()]))
            .collect();
        let mut refs: Vec<Series> = a.reference.iter().map(|c| c.series.clone()).collect();
        refs.sort();
        refs.dedup();
        let reference = refs
            .into_iter()
            .enumerate()
            .map(|(j, s)| (s, PALETTE[(ours.len() + j) % PALETTE.len()]))
            .collect();
        Colors { ours, reference }
    }

    fn of(&self, s: &Series) -> RGBColor {
        self.ours.get(s).copied().unwrap_or(PALETTE[0])
    }

    fn of_ref(&self, s: &Series) -> RGBColor {
        self.reference.get(s).copied().unwrap_or(PALETTE[6])
    }

    fn legend(&self, with_refs: bool) -> Vec<Entry> {
        let mut v: Vec<Entry> = self
            .ours
            .iter()
            .map(|(s, c)| Entry {
                label: s.label(),
                color: *c,
                dashed: false,
            })
            .collect();
        if with_refs {
            v.extend(self.reference.iter().map(|(s, c)| Entry {
                label: format!("{} (published)", s.label()),
                color: *c,
                dashed: true,
            }));
        }
        v
    }
}

/// `12500` -> `12.5k`, `1000000` -> `1M`.
pub fn fmt_steps(x: f64) -> String {
    let a = x.abs();
    let trim = |v: f64| {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if a >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

fn metric_label(task: &str) -> &'static str {
    if is_metaworld(task) {
        "success rate"
    } else {
        "episode return"
    }
}

const LEGEND_ROW: u32 = 28;
const LEGEND_COL: u32 = 330;

fn legend_height(n: usize, width: u32) -> u32 {
    let per_row = (width / LEGEND_COL).max(1) as usize;
    (n.div_ceil(per_row) as u32) * LEGEND_ROW + 16
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Result<()> {
    let (w, _) = area.dim_in_pixel();
    let per_row = (w / LEGEND_COL).max(1) as usize;
    let used = per_row.min(entries.len()) as u32 * LEGEND_COL;
    let x0 = (w.saturating_sub(used) / 2) as i32;
    for (i, e) in entries.iter().enumerate() {
        let x = x0 + (i % per_row) as i32 * LEGEND_COL as i32;
        let y = 8 + (i / per_row) as i32 * LEGEND_ROW as i32 + LEGEND_ROW as i32 / 2;
        let style = e.color.stroke_width(3);
        if e.dashed {
            for k in 0..3 {
                area.draw(&PathElement::new(
                    vec![(x + k * 12, y), (x + k * 12 + 7, y)],
                    style,
                ))
                .plot()?;
            }
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + 32, y)], style))
                .plot()?;
        }
        let mut label = e.label.clone();
        if label.chars().count() > 36 {
            label = label.chars().take(35).collect::<String>() + "…";
        }
        area.draw(&Text::new(
            label,
            (x + 40, y - 9),
            (FONT, 17).into_font().color(&BLACK),
        ))
        .plot()?;
    }
    Ok(())
}

fn band(points: &[(f64, Estimate)]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points.iter().map(|(x, e)| (*x, e.hi)).collect();
    p.extend(points.iter().rev().map(|(x, e)| (*x, e.lo)));
    p
}

fn finite(e: &Estimate) -> Estimate {
    // A single run has a degenerate but finite CI; keep NaN out of polygons.
    let f = |v: f64| if v.is_finite() { v } else { e.point };
    Estimate {
        point: e.point,
        lo: f(e.lo),
        hi: f(e.hi),
    }
}

/// Draws curves with CI bands into a chart area.
#[allow(clippy::too_many_arguments)]
fn curve_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x_max: f64,
    y_range: (f64, f64),
    lines: &[Line],
    steps_axis: bool,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(10)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..x_max.max(1e-9), y_range.0..y_range.1)
        .plot()?;
    let fmt_x = |x: &f64| {
        if steps_axis {
            fmt_steps(*x)
        } else {
            format!("{x:.1}")
        }
    };
    let fmt_y = |y: &f64| {
        let r = y_range.1 - y_range.0;
        if r > 10.0 {
            format!("{y:.0}")
        } else {
            format!("{y:.1}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .plot()?;
    for (pts, color, dashed) in lines {
        let pts: Vec<(f64, Estimate)> = pts.iter().map(|(x, e)| (*x, finite(e))).collect();
        if pts.len() > 1 {
            let alpha = if *dashed { 0.12 } else { 0.22 };
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&pts),
                    color.mix(alpha).filled(),
                )))
                .plot()?;
        }
        let line: Vec<(f64, f64)> = pts.iter().map(|(x, e)| (*x, e.point)).collect();
        if *dashed {
            chart
                .draw_series(DashedLineSeries::new(
                    line.clone(),
                    8,
                    5,
                    color.stroke_width(2),
                ))
                .plot()?;
        } else {
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .plot()?;
        }
        if line.len() == 1 || (!*dashed && line.len() <= 30) {
            chart
                .draw_series(line.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .plot()?;
        }
    }
    Ok(())
}

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
        .flat_map(|(p, _, _)| p.iter().map(|(_, e)| e.hi.max(e.point)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let lo = lines
        .iter()
        .flat_map(|(p, _, _)| p.iter().map(|(_, e)| e.lo.min(e.point)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::min);
    let hi = if hi <= 0.0 { 1.0 } else { hi * 1.05 };
    (lo, hi)
}

/// Grid of per-task learning curves (mean over seeds, 95 % CI bands).
fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    colors: &Colors,
    cols: usize,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let (w, h) = root.dim_in_pixel();
    let entries = colors.legend(!a.reference.is_empty());
    let body = root
        .titled(
            "Learning curves (mean over seeds, shaded: 95% bootstrap CI)",
            (FONT, 24),
        )
        .plot()?;
    let (grid, legend) = body.split_vertically(h - 40 - legend_height(entries.len(), w));
    let rows = a.tasks.len().div_ceil(cols);
    let panels = grid.split_evenly((rows, cols));
    for (task, panel) in a.tasks.iter().zip(panels.iter()) {
        let mut lines = Vec::new();
        for c in a.curves.iter().filter(|c| &c.task == task) {
            lines.push((curve_points(c), colors.of(&c.series), false));
        }
        // The x axis spans this project's results; references are cut there.
        let x_max = lines
            .iter()
            .flat_map(|(p, _, _)| p.iter().map(|(x, _)| *x))
            .fold(0.0, f64::max);
        for c in a.reference.iter().filter(|c| &c.task == task) {
            let pts: Vec<(f64, Estimate)> = curve_points(c)
                .into_iter()
                .filter(|(x, _)| *x <= x_max)
                .collect();
            if !pts.is_empty() {
                lines.push((pts, colors.of_ref(&c.series), true));
            }
        }
        let yr = y_range_for(task, &lines);
        curve_chart(
            panel,
            task,
            "env steps",
            metric_label(task),
            x_max,
            yr,
            &lines,
            true,
        )?;
    }
    draw_legend(&legend, &entries)?;
    root.present().plot()
}

/// Aggregate IQM of normalized scores over env steps.
fn draw_aggregate_iqm<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    colors: &Colors,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let (w, h) = root.dim_in_pixel();
    let entries = colors.legend(false);
    let (chart_area, legend) = root.split_vertically(h - legend_height(entries.len(), w));
    let lines: Vec<_> = a
        .aggregates
        .iter()
        .map(|g| {
            (
                g.points
                    .iter()
                    .map(|p| (p.step as f64, p.agg.iqm))
                    .collect::<Vec<_>>(),
                colors.of(&g.series),
                false,
            )
        })
        .collect();
    let x_max = lines
        .iter()
        .flat_map(|(p, _, _)| p.iter().map(|(x, _)| *x))
        .fold(0.0, f64::max);
    let n_tasks = a.tasks.len();
    curve_chart(
        &chart_area,
        &format!("Aggregate IQM over {n_tasks} task(s) (shaded: 95% stratified bootstrap CI)"),
        "env steps",
        "IQM normalized score",
        x_max,
        (0.0, 1.0),
        &lines,
        true,
    )?;
    draw_legend(&legend, &entries)?;
    root.present().plot()
}

/// Performance profiles at each series' last aggregate step.
fn draw_profile<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    colors: &Colors,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let (w, h) = root.dim_in_pixel();
    let entries = colors.legend(false);
    let (chart_area, legend) = root.split_vertically(h - legend_height(entries.len(), w));
    let lines: Vec<_> = a
        .aggregates
        .iter()
        .filter(|g| !g.profile.is_empty())
        .map(|g| {
            (
                a.taus
                    .iter()
                    .copied()
                    .zip(g.profile.iter().copied())
                    .collect(),
                colors.of(&g.series),
                false,
            )
        })
        .collect();
    curve_chart(
        &chart_area,
        "Performance profile at the final evaluation (95% CI)",
        "normalized score τ",
        "fraction of runs with score > τ",
        1.0,
        (0.0, 1.0),
        &lines,
        false,
    )?;
    draw_legend(&legend, &entries)?;
    root.present().plot()
}

/// Point estimates with CIs (IQM, median, mean, optimality gap) per series.
fn draw_intervals<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    colors: &Colors,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let finals: Vec<(&Series, [Estimate; 4])> = a
        .aggregates
        .iter()
        .filter_map(|g| {
            g.points.last().map(|p| {
                (
                    &g.series,
                    [p.agg.iqm, p.agg.median, p.agg.mean, p.agg.optimality_gap],
                )
            })
        })
        .collect();
    let body = root
        .titled(
            "Final normalized scores: point estimate and 95% stratified bootstrap CI",
            (FONT, 22),
        )
        .plot()?;
    let names = ["IQM", "Median", "Mean", "Optimality gap"];
    let n = finals.len() as i32;
    let label_chars = finals
        .iter()
        .map(|(s, _)| s.label().chars().count())
        .max()
        .unwrap_or(4)
        .min(40) as u32;
    let (w, _) = body.dim_in_pixel();
    let label_px = (20 + label_chars * 9).min(w / 2);
    // The first panel also holds the series names as its y-axis labels.
    let pw = (w - label_px) / 4;
    let panels = body.split_by_breakpoints(
        [label_px + pw, label_px + 2 * pw, label_px + 3 * pw],
        [] as [u32; 0],
    );
    let labels: Vec<String> = finals
        .iter()
        .map(|(s, _)| {
            let l = s.label();
            if l.chars().count() > 40 {
                l.chars().take(39).collect::<String>() + "…"
            } else {
                l
            }
        })
        .collect();
    for (k, panel) in panels.iter().enumerate() {
        let lo = finals
            .iter()
            .map(|(_, e)| e[k].lo.min(e[k].point))
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::min);
        let hi = finals
            .iter()
            .map(|(_, e)| e[k].hi.max(e[k].point))
            .filter(|v| v.is_finite())
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(names[k], (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(if k == 0 { label_px } else { 6 })
            .build_cartesian_2d(lo..hi, (0..(n - 1).max(0)).into_segmented())
            .plot()?;
        let fmt_y = |y: &SegmentValue<i32>| match y {
            SegmentValue::CenterOf(i) if k == 0 => labels
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_label_formatter(&fmt_y)
            .y_label_style((FONT, 17))
            .x_labels(5)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .x_desc("normalized score")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .plot()?;
        for (i, (s, e)) in finals.iter().enumerate() {
            let i = n - 1 - i as i32; // first series on top
            let c = colors.of(s);
            let e = finite(&e[k]);
            let mut bar = Rectangle::new(
                [
                    (e.lo, SegmentValue::Exact(i)),
                    (e.hi, SegmentValue::Exact(i + 1)),
                ],
                c.mix(0.55).filled(),
            );
            bar.set_margin(10, 10, 0, 0);
            let tick_w = (hi - lo) * 0.006;
            let mut tick = Rectangle::new(
                [
                    (e.point - tick_w, SegmentValue::Exact(i)),
                    (e.point + tick_w, SegmentValue::Exact(i + 1)),
                ],
                BLACK.filled(),
            );
            tick.set_margin(6, 6, 0, 0);
            chart.draw_series([bar, tick]).plot()?;
        }
    }
    root.present().plot()
}

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

/// Final score per task (and aggregate IQM) against the variant value.
fn draw_ablation<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: &Analysis,
    cols: usize,
) -> Result<()> {
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
    let (w, h) = root.dim_in_pixel();
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
    let (grid, legend) = body.split_vertically(h - 40 - legend_height(entries.len(), w));
    let mut panels_spec: Vec<String> = a.tasks.clone();
    panels_spec.push("aggregate IQM".to_string());
    let rows = panels_spec.len().div_ceil(cols);
    let panels = grid.split_evenly((rows, cols));
    let nv = values.len() as i32;
    for (name, panel) in panels_spec.iter().zip(panels.iter()) {
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
                let est = if name == "aggregate IQM" {
                    a.aggregates
                        .iter()
                        .find(|g| g.series == s)
                        .and_then(|g| g.points.last())
                        .map(|p| p.agg.iqm)
                } else {
                    a.curves
                        .iter()
                        .find(|c| &c.task == name && c.series == s)
                        .and_then(|c| c.points.last())
                        .map(|p| p.stats.mean)
                };
                if let Some(e) = est {
                    pts.push((agent, idx as i32, finite(&e)));
                }
            }
        }
        let y_desc = if name == "aggregate IQM" {
            "IQM normalized score"
        } else {
            metric_label(name)
        };
        let y_hi = if name == "aggregate IQM" || is_metaworld(name) {
            1.0
        } else {
            pts.iter()
                .map(|(_, _, e)| e.hi.max(e.point))
                .fold(0.0f64, f64::max)
                .max(1.0)
                * 1.05
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(name, (FONT, 20))
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((0..(nv - 1).max(0)).into_segmented(), 0f64..y_hi)
            .plot()?;
        let fmt_x = |x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) => values.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .x_desc(key.as_str())
            .y_desc(y_desc)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&|y| {
                if y_hi > 10.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.1}")
                }
            })
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
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

macro_rules! both {
    ($dir:expr, $name:expr, $size:expr, $written:expr, |$root:ident| $body:expr) => {{
        let png = $dir.join(format!("{}.png", $name));
        {
            let $root = BitMapBackend::new(&png, $size).into_drawing_area();
            $body?;
        }
        let svg = $dir.join(format!("{}.svg", $name));
        {
            let $root = SVGBackend::new(&svg, $size).into_drawing_area();
            $body?;
        }
        $written.push($name.to_string());
    }};
}

/// Renders all figures into `dir` as `<name>.png` and `<name>.svg`; returns
/// the names written (`curves`, `aggregate_iqm`, `intervals`,
/// `performance_profile`, and `ablation` when an agent has several variants).
pub fn render(a: &Analysis, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow!("creating directory {}: {e}", dir.display()))?;
    let colors = Colors::new(a);
    let mut written = Vec::new();
    let cols = a.tasks.len().clamp(1, 3);
    let rows = a.tasks.len().div_ceil(cols) as u32;
    let w = 460 * cols as u32;
    let legend_n = colors.legend(!a.reference.is_empty()).len();
    let h = 40 + rows * 340 + legend_height(legend_n, w);
    both!(dir, "curves", (w, h), written, |root| draw_curves(
        &root, a, &colors, cols
    ));
    let lh = legend_height(a.series.len(), 900);
    both!(dir, "aggregate_iqm", (900, 520 + lh), written, |root| {
        draw_aggregate_iqm(&root, a, &colors)
    });
    let ih = 140 + 48 * a.series.len() as u32;
    both!(dir, "intervals", (1400, ih.max(260)), written, |root| {
        draw_intervals(&root, a, &colors)
    });
    both!(
        dir,
        "performance_profile",
        (900, 520 + lh),
        written,
        |root| { draw_profile(&root, a, &colors) }
    );
    if !ablation_agents(a).is_empty() {
        let panels = a.tasks.len() + 1;
        let cols = panels.clamp(1, 3);
        let rows = panels.div_ceil(cols) as u32;
        let w = 460 * cols as u32;
        let h = 40 + rows * 340 + legend_height(ablation_agents(a).len(), w);
        both!(dir, "ablation", (w, h), written, |root| draw_ablation(
            &root, a, cols
        ));
    }
    Ok(written)
}
