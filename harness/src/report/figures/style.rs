//! Shared chrome of every figure: the Okabe–Ito palette and font, series
//! colours, the legend below a chart, the grid layout of the multi-panel
//! figures, the mesh style, and the chart of curves with CI bands that the
//! curves, aggregate IQM and performance profile figures draw.

use std::collections::BTreeMap;

use anyhow::Result;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Plot;
use crate::report::analysis::{Analysis, Series};
use crate::report::load::is_metaworld;
use crate::report::stats::Estimate;

pub(crate) const FONT: &str = "DejaVu Sans";

/// Okabe–Ito palette, yellow last (low contrast on white).
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// A curve to draw: points with CIs, colour, dashed (published reference).
pub(super) struct Line {
    pub points: Vec<(f64, Estimate)>,
    pub color: RGBColor,
    /// A published reference: dashed, with a fainter band.
    pub dashed: bool,
}

/// One entry of a legend.
pub(super) struct Entry {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
}

/// Colours of the series (results first, then references).
pub(super) struct Colors {
    ours: BTreeMap<Series, RGBColor>,
    reference: BTreeMap<Series, RGBColor>,
}

impl Colors {
    pub fn new(a: &Analysis) -> Self {
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

    pub fn of(&self, s: &Series) -> RGBColor {
        self.ours.get(s).copied().unwrap_or(PALETTE[0])
    }

    pub fn of_ref(&self, s: &Series) -> RGBColor {
        self.reference.get(s).copied().unwrap_or(PALETTE[6])
    }

    pub fn legend(&self, with_refs: bool) -> Vec<Entry> {
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

pub(super) fn metric_label(task: &str) -> &'static str {
    if is_metaworld(task) {
        "success rate"
    } else {
        "episode return"
    }
}

const LEGEND_ROW: u32 = 28;
const LEGEND_COL: u32 = 330;

pub(super) fn legend_height(n: usize, width: u32) -> u32 {
    let per_row = (width / LEGEND_COL).max(1) as usize;
    (n.div_ceil(per_row) as u32) * LEGEND_ROW + 16
}

pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<()> {
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

/// Height of the title band above a grid of panels.
const TITLE_H: u32 = 40;
const PANEL_W: u32 = 460;
const PANEL_H: u32 = 340;

/// Layout of a multi-panel figure: a title band, a grid of panels (at most
/// three a row) and a legend below. Gives both the canvas size and, when
/// drawing, where the panels end and the legend starts.
pub(super) struct Grid {
    pub cols: usize,
    pub rows: usize,
    width: u32,
    legend: u32,
    entries: usize,
}

impl Grid {
    pub fn new(panels: usize, legend_entries: usize) -> Self {
        Self::with_cols(panels, 3, legend_entries)
    }

    /// At most `max_cols` panels a row.
    pub fn with_cols(panels: usize, max_cols: usize, legend_entries: usize) -> Self {
        let cols = panels.clamp(1, max_cols.max(1));
        let rows = panels.div_ceil(cols);
        let width = PANEL_W * cols as u32;
        Grid {
            cols,
            rows,
            width,
            legend: legend_height(legend_entries, width),
            entries: legend_entries,
        }
    }

    /// The same grid on a canvas at least `width` wide (panels widen).
    pub fn at_least(self, width: u32) -> Self {
        let width = self.width.max(width);
        Grid {
            width,
            legend: legend_height(self.entries, width),
            ..self
        }
    }

    /// Height of the panels: the canvas less the title band and the legend.
    pub fn panels_height(&self) -> u32 {
        self.rows as u32 * PANEL_H
    }

    /// Canvas size.
    pub fn size(&self) -> (u32, u32) {
        (self.width, TITLE_H + self.panels_height() + self.legend)
    }
}

/// The mesh style every chart shares: fonts and grid line colours. Call it
/// last in the chain, right before `draw()`: its `label_style` overrides any
/// earlier `x_label_style`/`y_label_style`.
pub(super) fn style_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
}

fn band(points: &[(f64, Estimate)]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points.iter().map(|(x, e)| (*x, e.hi)).collect();
    p.extend(points.iter().rev().map(|(x, e)| (*x, e.lo)));
    p
}

pub(super) fn finite(e: &Estimate) -> Estimate {
    // A single run has a degenerate but finite CI; keep NaN out of polygons.
    let f = |v: f64| if v.is_finite() { v } else { e.point };
    Estimate {
        point: e.point,
        lo: f(e.lo),
        hi: f(e.hi),
    }
}

/// A chart of curves with CI bands.
pub(super) struct CurveChart<'c> {
    pub title: &'c str,
    pub x_desc: &'c str,
    pub y_desc: &'c str,
    pub x_max: f64,
    pub y_range: (f64, f64),
    pub lines: &'c [Line],
    /// Label the x axis as env steps (`12.5k`) rather than `0.5`.
    pub steps_axis: bool,
}

/// Draws curves with CI bands into a chart area.
pub(super) fn curve_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &CurveChart<'_>,
) -> Result<()> {
    let y_range = c.y_range;
    let mut chart = ChartBuilder::on(area)
        .caption(c.title, (FONT, 20))
        .margin(10)
        // Room for the half of the last x label that passes the axis end.
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..c.x_max.max(1e-9), y_range.0..y_range.1)
        .plot()?;
    let fmt_x = |x: &f64| {
        if c.steps_axis {
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
    style_mesh(
        chart
            .configure_mesh()
            .x_desc(c.x_desc)
            .y_desc(c.y_desc)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y),
    )
    .draw()
    .plot()?;
    for l in c.lines {
        let (color, dashed) = (l.color, l.dashed);
        let pts: Vec<(f64, Estimate)> = l.points.iter().map(|(x, e)| (*x, finite(e))).collect();
        if pts.len() > 1 {
            let alpha = if dashed { 0.12 } else { 0.22 };
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&pts),
                    color.mix(alpha).filled(),
                )))
                .plot()?;
        }
        let line: Vec<(f64, f64)> = pts.iter().map(|(x, e)| (*x, e.point)).collect();
        if dashed {
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
        if line.len() == 1 || (!dashed && line.len() <= 30) {
            chart
                .draw_series(line.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .plot()?;
        }
    }
    Ok(())
}
