//! A reproduction's `comparison.csv` and `index.html`.

use std::path::Path;

use anyhow::{Context, Result};

use super::build::{AggregateRow, Built, ComparisonRow};
use super::registry::FigureSpec;
use crate::report::html::escape;

/// Columns of `comparison.csv`.
pub const COMPARISON_COLUMNS: &str = "task,variant,env_step,n_runs,mean,ci_low,ci_high,published_step,published_n_runs,published_mean,published_min,published_max,inside_published_range";

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV text of the comparison rows.
pub fn comparison_csv(rows: &[ComparisonRow]) -> String {
    let mut out = format!("{COMPARISON_COLUMNS}\n");
    for r in rows {
        let (pm, lo, hi) = r.published.map_or(
            (String::new(), String::new(), String::new()),
            |(m, lo, hi)| (num(m), num(lo), num(hi)),
        );
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&r.task),
            field(&r.series),
            r.step,
            r.n,
            num(r.ours.point),
            num(r.ours.lo),
            num(r.ours.hi),
            r.published_step.map(|s| s.to_string()).unwrap_or_default(),
            r.published_n,
            pm,
            lo,
            hi,
            r.inside
        ));
    }
    out
}

/// Columns of `aggregates.csv`.
pub const AGGREGATE_COLUMNS: &str = "series,published,env_step,n_tasks,n_runs,iqm,iqm_ci_low,iqm_ci_high,optimality_gap,optimality_gap_ci_low,optimality_gap_ci_high";

/// The CSV text of the bar panels' aggregates.
pub fn aggregates_csv(rows: &[AggregateRow]) -> String {
    let mut out = format!("{AGGREGATE_COLUMNS}\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            field(&r.series),
            r.published,
            r.step,
            r.n_tasks,
            r.n_runs,
            num(r.iqm.point),
            num(r.iqm.lo),
            num(r.iqm.hi),
            num(r.optimality_gap.point),
            num(r.optimality_gap.lo),
            num(r.optimality_gap.hi)
        ));
    }
    out
}

/// Writes `text` to `path` atomically (a temporary file renamed).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The page: budget, figures, what is missing, the comparison table, sources.
pub fn html(fig: &FigureSpec, built: &Built, budget_says: &str, reps: usize) -> String {
    let mut s = String::new();
    s.push_str("<!doctype html><html><head><meta charset=\"utf-8\">");
    s.push_str(&format!("<title>{}</title>", escape(&built.figure.title)));
    s.push_str("<style>body{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em}img{max-width:100%}table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,td:nth-child(2){text-align:left}.no{background:#fde0dc}.yes{background:#e0f2e0}.budget{background:#fff3cd;padding:.6em;border:1px solid #e0c060}</style></head><body>");
    s.push_str(&format!("<h1>{}</h1>", escape(fig.title)));
    s.push_str(&format!(
        "<p class=\"budget\"><b>Budget</b>: {}</p>",
        escape(budget_says)
    ));
    s.push_str(&format!("<p>{}</p>", escape(fig.shows)));
    if !fig.notes.is_empty() {
        s.push_str(&format!("<p>{}</p>", escape(fig.notes)));
    }
    let missing: Vec<String> = fig
        .variants
        .iter()
        .filter(|v| v.set.is_none())
        .map(|v| format!("<li>{}: {}</li>", escape(v.label), escape(v.missing)))
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!("<ul>{}</ul>", missing.join("")));
    }
    s.push_str("<img src=\"figure.png\" alt=\"figure\">");
    s.push_str(&format!(
        "<p>Solid: this project's runs; dashed: published runs (seeds {}). Shaded: 95% bootstrap CIs of the mean over runs (per task) or rliable's stratified bootstrap (aggregates, {reps} replications for the bars, at most 2,000 for curves). DMC scores are normalised as return / 1000, Meta-World's are success rates.</p>",
        fig.published_seeds.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    ));
    if built.curves.is_some() {
        s.push_str("<h2>Per-task curves</h2><img src=\"curves.png\" alt=\"per-task curves\">");
    }
    if !built.aggregates.is_empty() {
        s.push_str("<h2>Aggregates of the bar panels</h2><p>rliable's IQM and optimality gap of normalised scores with 95% stratified bootstrap CIs (<code>aggregates.csv</code>).</p>");
        s.push_str(&table(&aggregates_csv(&built.aggregates), |_| ""));
    }
    if !built.comparison.is_empty() {
        s.push_str("<h2>Comparison with the published runs</h2><p>Our mean at each evaluation against the published runs of the same variant at the nearest published step within 1k env steps: their mean and their range over seeds (<code>comparison.csv</code>).</p>");
        s.push_str(&table(&comparison_csv(&built.comparison), |line| {
            if line.ends_with(",above") || line.ends_with(",below") {
                " class=\"no\""
            } else if line.ends_with(",yes") {
                " class=\"yes\""
            } else {
                ""
            }
        }));
    }
    let sources: Vec<String> = fig
        .sources
        .iter()
        .map(|src| {
            format!(
                "<li><code>data/published/{}.csv.gz</code></li>",
                escape(src.file)
            )
        })
        .collect();
    s.push_str(&format!("<h2>Published data</h2><ul>{}</ul><p>Sources and licences: <code>data/published/README.md</code>.</p>", sources.join("")));
    s.push_str("</body></html>\n");
    s
}

/// An HTML table of CSV text (header row first); `class` gives each data
/// row's attributes. Numbers show 3 decimals (integers as they are).
fn table(csv_text: &str, class: impl Fn(&str) -> &'static str) -> String {
    let mut lines = csv_text.lines();
    let mut s = String::from("<table><tr>");
    for c in lines.next().unwrap_or("").split(',') {
        s.push_str(&format!("<th>{}</th>", escape(c)));
    }
    s.push_str("</tr>");
    for line in lines {
        s.push_str(&format!("<tr{}>", class(line)));
        for cell in line.split(',') {
            let cell = cell
                .parse::<f64>()
                .map(|v| {
                    if v.fract() == 0.0 {
                        format!("{v}")
                    } else {
                        format!("{v:.3}")
                    }
                })
                .unwrap_or_else(|_| cell.to_string());
            s.push_str(&format!("<td>{}</td>", escape(&cell)));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}
