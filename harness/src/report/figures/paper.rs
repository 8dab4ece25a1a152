//! A paper's figure: a grid of panels, each either curves over a shared x
//! axis (per-task learning curves, IQM over env steps, active codes) or
//! interval bars (IQM or optimality gap at one step), above one legend.
//!
//! # Contract
//!
//! Lines and bars carry a series name and whether they are published data.
//! A series has one colour in every panel; this project's results are
//! solid, published data dashed (curves) or hatched lighter (bars), so a
//! published curve and ours of the same variant share a colour. The legend
//! lists each (series, published) pair once, in order of first appearance.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Plot;
use super::style::{
    CurveChart, Entry, FONT, Grid, Line, PALETTE, curve_chart, draw_legend, finite, style_mesh,
};
use crate::report::stats::Estimate;

/// A curve in a panel.
#[derive(Debug, Clone)]
pub struct PaperLine {
    /// Series name (`DCWM`, `Codes`, `TD-MPC2`).
    pub series: String,
    /// Published data (dashed) rather than this project's runs.
    pub published: bool,
    /// (x, mean with CI) in increasing x.
    pub points: Vec<(f64, Estimate)>,
}

/// One interval bar of a bars panel.
#[derive(Debug, Clone)]
pub struct PaperBar {
    /// Series name.
    pub series: String,
    /// Published data rather than this project's runs.
    pub published: bool,
    /// Point estimate and CI.
    pub estimate: Estimate,
}

/// A panel of a paper figure.
#[derive(Debug, Clone)]
pub enum PaperPanel {
    /// Curves with CI bands.
    Curves {
        /// Panel title.
        title: String,
        /// x axis description.
        x_desc: String,
        /// y axis description.
        y_desc: String,
        /// y range; `None`: from the data, starting at 0.
        y_range: Option<(f64, f64)>,
        /// Label the x axis as env steps (`250k`) rather than plain numbers.
        steps_axis: bool,
        /// The curves.
        lines: Vec<PaperLine>,
    },
    /// Horizontal interval bars, one row per series.
    Bars {
        /// Panel title (`IQM at 1M`).
        title: String,
        /// The bars, top to bottom.
        bars: Vec<PaperBar>,
    },
}

/// A figure: title, panels (row-major, at most `cols` a row).
#[derive(Debug, Clone)]
pub struct PaperFigure {
    /// Title band text (carries the budget).
    pub title: String,
    /// Panels a row at most.
    pub cols: usize,
    /// The panels.
    pub panels: Vec<PaperPanel>,
}

impl PaperFigure {
    /// Each (series, published) pair once, in order of first appearance.
    fn keys(&self) -> Vec<(String, bool)> {
        let mut keys: Vec<(String, bool)> = Vec::new();
        let mut add = |s: &str, p: bool| {
            if !keys.iter().any(|(k, q)| k == s && *q == p) {
                keys.push((s.to_string(), p));
            }
        };
        for panel in &self.panels {
            match panel {
                PaperPanel::Curves { lines, .. } => {
                    lines.iter().for_each(|l| add(&l.series, l.published))
                }
                PaperPanel::Bars { bars, .. } => {
                    bars.iter().for_each(|b| add(&b.series, b.published))
                }
            }
        }
        keys
    }

    /// Colour of a series: ours first in palette order, then published-only.
    fn colors(&self) -> Vec<(String, RGBColor)> {
        let mut names: Vec<String> = Vec::new();
        let keys = self.keys();
        for (s, _) in keys.iter().filter(|(_, p)| !p) {
            if !names.contains(s) {
                names.push(s.clone());
            }
        }
        for (s, _) in &keys {
            if !names.contains(s) {
                names.push(s.clone());
            }
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, PALETTE[i % PALETTE.len()]))
            .collect()
    }

    fn legend(&self, colors: &[(String, RGBColor)]) -> Vec<Entry> {
        self.keys()
            .into_iter()
            .map(|(s, published)| Entry {
                label: if published {
                    format!("{s} (published)")
                } else {
                    format!("{s} (ours)")
                },
                color: color_of(colors, &s),
                dashed: published,
            })
            .collect()
    }

    fn layout(&self) -> Grid {
        // Wide enough for the title (22 px font, ~11 px a character).
        let title = 40 + 11 * self.title.chars().count() as u32;
        Grid::with_cols(self.panels.len(), self.cols, self.keys().len()).at_least(title)
    }
}

fn color_of(colors: &[(String, RGBColor)], s: &str) -> RGBColor {
    colors
        .iter()
        .find(|(k, _)| k == s)
        .map_or(PALETTE[6], |(_, c)| *c)
}

/// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg`.
pub fn render_paper(fig: &PaperFigure, dir: &Path, stem: &str) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow!("creating directory {}: {e}", dir.display()))?;
    let size = fig.layout().size();
    let png = dir.join(format!("{stem}.png"));
    draw(&BitMapBackend::new(&png, size).into_drawing_area(), fig)?;
    let svg = dir.join(format!("{stem}.svg"));
    draw(&SVGBackend::new(&svg, size).into_drawing_area(), fig)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &PaperFigure) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let colors = fig.colors();
    let layout = fig.layout();
    let body = root.titled(&fig.title, (FONT, 22)).plot()?;
    let (grid, legend) = body.split_vertically(layout.panels_height());
    let areas = grid.split_evenly((layout.rows, layout.cols));
    for (panel, area) in fig.panels.iter().zip(areas.iter()) {
        match panel {
            PaperPanel::Curves {
                title,
                x_desc,
                y_desc,
                y_range,
                steps_axis,
                lines,
            } => {
                let lines: Vec<Line> = lines
                    .iter()
                    .map(|l| Line {
                        points: l.points.clone(),
                        color: color_of(&colors, &l.series),
                        dashed: l.published,
                    })
                    .collect();
                let x_max = lines
                    .iter()
                    .flat_map(|l| l.points.iter().map(|(x, _)| *x))
                    .fold(0.0, f64::max);
                let chart = CurveChart {
                    title,
                    x_desc,
                    y_desc,
                    x_max,
                    y_range: y_range.unwrap_or_else(|| data_range(&lines)),
                    lines: &lines,
                    steps_axis: *steps_axis,
                };
                curve_chart(area, &chart)?;
            }
            PaperPanel::Bars { title, bars } => draw_bars(area, title, bars, &colors)?,
        }
    }
    draw_legend(&legend, &fig.legend(&colors))?;
    root.present().plot()
}

/// From 0 (or below) to 5% above the highest CI end.
fn data_range(lines: &[Line]) -> (f64, f64) {
    let values = || {
        lines
            .iter()
            .flat_map(|l| l.points.iter().flat_map(|(_, e)| [e.lo, e.point, e.hi]))
            .filter(|v| v.is_finite())
    };
    let hi = values().fold(0.0f64, f64::max);
    let lo = values().fold(0.0f64, f64::min);
    (lo, if hi <= 0.0 { 1.0 } else { hi * 1.05 })
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[PaperBar],
    colors: &[(String, RGBColor)],
) -> Result<()> {
    let n = bars.len().max(1) as i32;
    let hi = bars
        .iter()
        .map(|b| b.estimate.hi.max(b.estimate.point))
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    let labels: Vec<String> = bars
        .iter()
        .map(|b| {
            let s: String = b.series.chars().take(24).collect();
            if b.published {
                s
            } else {
                format!("{s} (ours)")
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(200)
        // At least two segments: a range of one is degenerate.
        .build_cartesian_2d(0f64..hi, (0..(n - 1).max(1)).into_segmented())
        .plot()?;
    let fmt_y = |y: &SegmentValue<i32>| match y {
        SegmentValue::CenterOf(i) if *i < n => labels
            .get((n - 1 - *i) as usize)
            .cloned()
            .unwrap_or_default(),
        _ => String::new(),
    };
    style_mesh(
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_label_formatter(&fmt_y)
            .x_labels(5)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .x_desc("normalized score"),
    )
    .draw()
    .plot()?;
    for (i, b) in bars.iter().enumerate() {
        let i = n - 1 - i as i32; // first bar on top
        let c = color_of(colors, &b.series);
        let e = finite(&b.estimate);
        let alpha = if b.published { 0.3 } else { 0.6 };
        let mut bar = Rectangle::new(
            [
                (e.lo, SegmentValue::Exact(i)),
                (e.hi, SegmentValue::Exact(i + 1)),
            ],
            c.mix(alpha).filled(),
        );
        bar.set_margin(8, 8, 0, 0);
        let tick_w = hi * 0.006;
        let mut tick = Rectangle::new(
            [
                (e.point - tick_w, SegmentValue::Exact(i)),
                (e.point + tick_w, SegmentValue::Exact(i + 1)),
            ],
            BLACK.filled(),
        );
        tick.set_margin(5, 5, 0, 0);
        chart.draw_series([bar, tick]).plot()?;
    }
    Ok(())
}
