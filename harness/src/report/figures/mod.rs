//! Figures with plotters, each written as PNG and SVG: learning curves per
//! task, the aggregate IQM curve, point estimates with CIs, the performance
//! profile and, for sweeps over a grid variable, an ablation chart.
//!
//! Colours follow the Okabe–Ito colour-blind-safe palette; published
//! reference curves are dashed; shaded bands are 95 % bootstrap CIs.
//!
//! # Contract
//!
//! [`FIGURES`] is the one list of figures, in report order. A [`Figure`]
//! holds all that identifies it: its name (the files `<name>.png` and
//! `<name>.svg` under the report's `figures/`), its caption in `index.html`,
//! its canvas size, its drawing (one generic function, monomorphised for the
//! PNG and the SVG backend) and whether it applies to an analysis. [`render`]
//! writes the figures that apply, `html` captions them from this list and
//! the report test expects these names. A new figure is one entry here plus
//! its drawing.
//!
//! Modules: `style` (palette, legend, grid layout, mesh style, the chart of
//! curves with CI bands), `curves` (per-task curves, aggregate IQM,
//! performance profile), `intervals` (final estimates with CIs), `ablation`
//! (final score against the variant of a sweep), `paper` (the panels of a
//! paper's figure, drawn by `ctrlbench reproduce`).

mod ablation;
mod curves;
mod intervals;
pub mod paper;
mod style;

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::Analysis;

pub(crate) use style::FONT;
pub use style::fmt_steps;

/// plotters' errors (generic over the backend) as `anyhow` errors.
pub(crate) trait Plot<T> {
    fn plot(self) -> Result<T>;
}

impl<T, E: std::fmt::Debug> Plot<T> for std::result::Result<T, E> {
    fn plot(self) -> Result<T> {
        self.map_err(|e| anyhow!("drawing failed: {e:?}"))
    }
}

/// A figure: its identity, canvas size, drawing and when it applies.
pub struct Figure {
    /// File stem under `figures/` and the figure's name in the report.
    pub name: &'static str,
    /// Caption under the figure in `index.html`.
    pub caption: &'static str,
    /// Canvas size in pixels, the same for PNG and SVG.
    size: fn(&Analysis) -> (u32, u32),
    /// The drawing, once per backend.
    draw: PngAndSvg,
    /// Whether the analysis has what the figure shows.
    applies: fn(&Analysis) -> bool,
}

/// One drawing function monomorphised for each backend.
struct PngAndSvg {
    png: for<'p> fn(&DrawingArea<BitMapBackend<'p>, Shift>, &Analysis) -> Result<()>,
    svg: for<'p> fn(&DrawingArea<SVGBackend<'p>, Shift>, &Analysis) -> Result<()>,
}

/// `png_and_svg!(f)`, `f` generic as
/// `fn f<DB: DrawingBackend>(&DrawingArea<DB, Shift>, &Analysis) -> Result<()>`:
/// its instances for the PNG and the SVG backend.
macro_rules! png_and_svg {
    ($draw:path) => {{
        fn png(root: &DrawingArea<BitMapBackend<'_>, Shift>, a: &Analysis) -> Result<()> {
            $draw(root, a)
        }
        fn svg(root: &DrawingArea<SVGBackend<'_>, Shift>, a: &Analysis) -> Result<()> {
            $draw(root, a)
        }
        PngAndSvg { png, svg }
    }};
}

fn always(_: &Analysis) -> bool {
    true
}

/// Every figure, in the order of the report.
pub static FIGURES: &[Figure] = &[
    Figure {
        name: "curves",
        caption: "Learning curves per task: mean over seeds with 95% CI bands; dashed: published references.",
        size: curves::curves_size,
        draw: png_and_svg!(curves::draw_curves),
        applies: always,
    },
    Figure {
        name: "aggregate_iqm",
        caption: "Aggregate IQM of normalized scores over env steps (steps every task was evaluated at).",
        size: curves::chart_size,
        draw: png_and_svg!(curves::draw_aggregate_iqm),
        applies: always,
    },
    Figure {
        name: "intervals",
        caption: "Final aggregate point estimates with 95% stratified bootstrap CIs (optimality gap: lower is better).",
        size: intervals::size,
        draw: png_and_svg!(intervals::draw),
        applies: always,
    },
    Figure {
        name: "performance_profile",
        caption: "Performance profile: fraction of runs with normalized score above τ at the final evaluation.",
        size: curves::chart_size,
        draw: png_and_svg!(curves::draw_profile),
        applies: always,
    },
    Figure {
        name: "ablation",
        caption: "Ablation: final score against the variant of each agent, per task and aggregated.",
        size: ablation::size,
        draw: png_and_svg!(ablation::draw),
        applies: ablation::applies,
    },
];

/// Renders the figures of [`FIGURES`] that apply into `dir` as `<name>.png`
/// and `<name>.svg`; returns the names written (`curves`, `aggregate_iqm`,
/// `intervals`, `performance_profile`, and `ablation` when an agent has
/// several variants).
pub fn render(a: &Analysis, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow!("creating directory {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for f in FIGURES.iter().filter(|f| (f.applies)(a)) {
        let size = (f.size)(a);
        let png = dir.join(format!("{}.png", f.name));
        (f.draw.png)(&BitMapBackend::new(&png, size).into_drawing_area(), a)?;
        let svg = dir.join(format!("{}.svg", f.name));
        (f.draw.svg)(&SVGBackend::new(&svg, size).into_drawing_area(), a)?;
        written.push(f.name.to_string());
    }
    Ok(written)
}
