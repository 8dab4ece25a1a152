//! The figure of `ctrlbench visits`: for one current target, the
//! distribution of the next target by the last two visited targets, one
//! panel per source beside the chain's.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::*;
use crate::report::figures::{FONT, Plot};
/// Bar colours by target id; black as dark grey so that it shows.
const TARGET_RGB: [RGBColor; N] = [
    RGBColor(30, 90, 220), // blue
    RGBColor(20, 160, 40), // green
    RGBColor(75, 75, 75),  // black
    RGBColor(215, 40, 40), // red
];
const TITLE_H: u32 = 40;
const PANEL_W: u32 = 520;
const PANEL_H: u32 = 360;
const LEGEND_H: u32 = 52;
const MAX_COLS: usize = 3;
/// Slots on a panel's x axis: a gap, three bars, a gap, ... (three groups).
const LAST_SLOT: i32 = 12;

/// Panels a row and rows of a figure of `panels` panels.
fn grid(panels: usize) -> (usize, usize) {
    let cols = panels.clamp(1, MAX_COLS);
    (cols, panels.div_ceil(cols).max(1))
}

fn figure_size(panels: usize) -> (u32, u32) {
    let (cols, rows) = grid(panels);
    (
        (PANEL_W * cols as u32).max(640),
        TITLE_H + PANEL_H * rows as u32 + LEGEND_H,
    )
}

/// One panel: its title, the next-target distribution after each of the
/// three others of the current target, and (for a source) the visits from
/// each pair.
struct Panel {
    title: String,
    shares: [Option<[f64; N]>; 3],
    visits: Option<[u64; 3]>,
}

/// Draws the figure for current target `cur` (an id) to `out_png`: a panel
/// for the chain, then one per source (see the module documentation).
pub fn draw_figure(sources: &[(String, VisitCounts)], cur: usize, out_png: &Path) -> Result<()> {
    if cur >= N {
        bail!("target id {cur} out of range (0 to {})", N - 1);
    }
    if let Some(dir) = out_png.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating directory {}", dir.display()))?;
    }
    let size = figure_size(1 + sources.len());
    let root = BitMapBackend::new(out_png, size).into_drawing_area();
    draw(&root, sources, cur).with_context(|| format!("drawing {}", out_png.display()))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sources: &[(String, VisitCounts)],
    cur: usize,
) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let others = others_of(cur);
    let mut panels = vec![Panel {
        title: "chain".to_string(),
        shares: others.map(|prev| Some(successor_probs(Some(prev), Some(cur)))),
        visits: None,
    }];
    for (label, counts) in sources {
        let mut label = label.clone();
        if label.chars().count() > 28 {
            label = label.chars().take(27).collect::<String>() + "…";
        }
        panels.push(Panel {
            title: format!(
                "{label} ({} visits from {})",
                counts.from_count(cur),
                TARGET_COLOURS[cur]
            ),
            shares: others.map(|prev| counts.conditional(prev, cur)),
            visits: Some(others.map(|prev| counts.pair_count(prev, cur))),
        });
    }
    let (cols, rows) = grid(panels.len());
    let title = format!(
        "Next target after {}, by the target visited before it",
        TARGET_COLOURS[cur]
    );
    let body = root.titled(&title, (FONT, 22)).plot()?;
    let (area, legend) = body.split_vertically(PANEL_H * rows as u32);
    let areas = area.split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        draw_panel(area, panel, &others)?;
    }
    draw_legend(&legend, &others)?;
    root.present().plot()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    others: &[usize; 3],
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 20))
        .margin(10)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((0..LAST_SLOT).into_segmented(), 0f64..1.0)
        .plot()?;
    let labels: Vec<String> = others
        .iter()
        .enumerate()
        .map(|(g, &prev)| match panel.visits {
            Some(v) => format!("{} ({})", TARGET_COLOURS[prev], v[g]),
            None => TARGET_COLOURS[prev].to_string(),
        })
        .collect();
    // Group g holds the bars at slots 4g+1..=4g+3; its label sits under the
    // middle one.
    let fmt_x = |x: &SegmentValue<i32>| match x {
        SegmentValue::CenterOf(s) => (0..3)
            .find(|g| 4 * g + 2 == *s)
            .map(|g| labels[g as usize].clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let fmt_y = |y: &f64| format!("{y:.1}");
    let x_desc = if panel.visits.is_some() {
        "previous target (visits)"
    } else {
        "previous target"
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * (LAST_SLOT as usize + 1))
        .y_labels(6)
        .x_label_formatter(&fmt_x)
        .y_label_formatter(&fmt_y)
        .x_desc(x_desc)
        .y_desc("share of next target")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .plot()?;
    for (g, shares) in panel.shares.iter().enumerate() {
        let g = g as i32;
        let Some(shares) = shares else {
            let style = (FONT, 14)
                .into_font()
                .color(&RGBColor(120, 120, 120))
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(
                    "no visits".to_string(),
                    (SegmentValue::CenterOf(4 * g + 2), 0.04),
                    style,
                )))
                .plot()?;
            continue;
        };
        let bars = others.iter().enumerate().map(|(k, &next)| {
            let slot = 4 * g + 1 + k as i32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(slot), 0.0),
                    (SegmentValue::Exact(slot + 1), shares[next]),
                ],
                TARGET_RGB[next].filled(),
            );
            bar.set_margin(0, 0, 2, 2);
            bar
        });
        chart.draw_series(bars).plot()?;
    }
    Ok(())
}

/// The legend band: a swatch and the colour name of each possible next
/// target.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    others: &[usize; 3],
) -> Result<()> {
    const PREFIX_W: i32 = 130;
    const ENTRY_W: i32 = 110;
    let (w, h) = area.dim_in_pixel();
    let total = PREFIX_W + 3 * ENTRY_W;
    let x0 = ((w as i32 - total) / 2).max(0);
    let y = (h as i32 / 2).max(12);
    let text = |s: &str, x: i32| {
        Text::new(
            s.to_string(),
            (x, y),
            (FONT, 17)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    area.draw(&text("next target:", x0)).plot()?;
    for (k, &id) in others.iter().enumerate() {
        let x = x0 + PREFIX_W + k as i32 * ENTRY_W;
        area.draw(&Rectangle::new(
            [(x, y - 9), (x + 18, y + 9)],
            TARGET_RGB[id].filled(),
        ))
        .plot()?;
        area.draw(&text(TARGET_COLOURS[id], x + 26)).plot()?;
    }
    Ok(())
}
