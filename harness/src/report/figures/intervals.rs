//! Final normalized scores per series: IQM, median, mean and optimality gap,
//! each a panel of horizontal CI bars with a tick at the point estimate.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Plot;
use super::style::{Colors, FONT, finite, style_mesh};
use crate::report::analysis::{Analysis, Series};
use crate::report::stats::Estimate;

/// Wide enough for four panels; one row of 48 px per series.
pub(super) fn size(a: &Analysis) -> (u32, u32) {
    let h = 140 + 48 * a.series.len() as u32;
    (1400, h.max(260))
}

/// Point estimates with CIs (IQM, median, mean, optimality gap) per series.
pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &Analysis) -> Result<()> {
    root.fill(&WHITE).plot()?;
    let colors = Colors::new(a);
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
        // As before the refactor, style_mesh's label_style (15 px) replaces
        // this y_label_style: the series names are drawn at 15 px.
        style_mesh(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_label_formatter(&fmt_y)
                .y_label_style((FONT, 17))
                .x_labels(5)
                .x_label_formatter(&|x| format!("{x:.1}"))
                .x_desc("normalized score"),
        )
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
