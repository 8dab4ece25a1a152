//! The report's `index.html`: figures and tables in one self-contained page.

use std::fmt::Write;

use super::analysis::{Analysis, metric_name};
use super::figures::FIGURES;
use super::stats::Estimate;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn ci(e: &Estimate) -> String {
    format!(
        "{} <span class=ci>[{}, {}]</span>",
        num(e.point),
        num(e.lo),
        num(e.hi)
    )
}

const STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.ci{color:#666;font-size:12px}img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
figure{margin:1.5em 0}figcaption{color:#555}";

/// Renders the page. `figures` are the names written under `figures/`.
pub fn render(a: &Analysis, figures: &[String], reps: usize, references: &[String]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>ctrlbench report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = writeln!(h, "<h1>ctrlbench report</h1>");
    let _ = writeln!(
        h,
        "<p>{} task(s), {} agent/variant series. Scores: DMC episode return (normalized: / 1000), Meta-World success rate. \
         Intervals are 95% percentile bootstrap CIs ({} replications; stratified over tasks for aggregates, as rliable). \
         Tables: <a href=summary.csv>summary.csv</a>, <a href=profile.csv>profile.csv</a>.</p>",
        a.tasks.len(),
        a.series.len(),
        reps
    );
    if !references.is_empty() {
        let _ = writeln!(
            h,
            "<p>Published reference curves (dashed): {}</p>",
            references
                .iter()
                .map(|r| format!("<code>{}</code>", escape(r)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let _ = writeln!(h, "<h2>Aggregate scores at the final evaluation</h2>");
    let _ = writeln!(
        h,
        "<table><tr><th class=l>agent</th><th class=l>variant</th><th>env step</th><th>tasks</th><th>runs</th>\
         <th>IQM</th><th>median</th><th>mean</th><th>optimality gap</th></tr>"
    );
    for g in &a.aggregates {
        if let Some(p) = g.points.last() {
            let _ = writeln!(
                h,
                "<tr><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&g.series.agent),
                escape(&g.series.variant),
                p.step,
                p.n_tasks,
                p.n_runs,
                ci(&p.agg.iqm),
                ci(&p.agg.median),
                ci(&p.agg.mean),
                ci(&p.agg.optimality_gap)
            );
        }
    }
    let _ = writeln!(h, "</table>");

    let _ = writeln!(h, "<h2>Figures</h2>");
    for fig in FIGURES {
        let (name, cap) = (fig.name, fig.caption);
        if figures.iter().any(|f| f == name) {
            let _ = writeln!(
                h,
                "<figure><a href=\"figures/{name}.svg\"><img src=\"figures/{name}.png\" alt=\"{name}\"></a><figcaption>{cap} (<a href=\"figures/{name}.svg\">SVG</a>)</figcaption></figure>"
            );
        }
    }

    let _ = writeln!(h, "<h2>Per-task scores at the last evaluation</h2>");
    let _ = writeln!(
        h,
        "<table><tr><th class=l>task</th><th class=l>metric</th><th class=l>agent</th><th class=l>variant</th><th>env step</th><th>seeds</th>\
         <th>mean</th><th>std</th><th>median</th><th>IQM</th></tr>"
    );
    for c in &a.curves {
        if let Some(p) = c.points.last() {
            let _ = writeln!(
                h,
                "<tr><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.task),
                metric_name(&c.task),
                escape(&c.series.agent),
                escape(&c.series.variant),
                p.step,
                p.stats.n,
                ci(&p.stats.mean),
                num(p.stats.std),
                ci(&p.stats.median),
                ci(&p.stats.iqm)
            );
        }
    }
    let _ = writeln!(h, "</table>\n</body></html>");
    h
}
