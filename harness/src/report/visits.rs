//! Next-target statistics of `pointmass-seqnav` plays: for each pair of last
//! visited targets, the distribution of the target visited next, compared
//! with the task's second-order Markov chain and with a memoryless answer,
//! as a CSV table, a Markdown summary and the figure of the behavior-priors
//! talk (Tirumala et al.).
//!
//! # Inputs
//!
//! Play CSVs as `ctrlbench play` writes them for `pointmass-seqnav`: one row
//! per agent step with the columns `episode`, `visits` and `last_visited`
//! (other columns are ignored; the count and id columns can be renamed with
//! [`VisitsArgs::count_column`] and [`VisitsArgs::id_column`]). Rows of one
//! episode are consecutive rows with the same `episode` value. Empty cells
//! are NaN.
//!
//! A visit is recorded at each row where `visits` is larger than at the
//! previous row of the same episode (at the first row of an episode: larger
//! than 0); the visited target is that row's `last_visited` (ids as
//! [`envs::dmc::seqnav`]: 0 blue, 1 green, 2 black, 3 red). An episode's
//! recorded visits form its sequence of targets, and every three
//! consecutive ones `(prev, cur, next)` count once in
//! [`VisitCounts::counts`]`[prev][cur][next]`.
//!
//! - A row whose `visits` cell is empty carries no visit and is skipped.
//! - A row where `visits` grows by more than one records the one target it
//!   names (the visits in between are unknown) and logs a warning; the
//!   sequence is cut there, so no triple spans the missing visits.
//! - Errors name the file (and the line where there is one): a missing
//!   column, a cell that is not a number, an episode that is not finite, a
//!   `visits` value that is negative, fractional or falls within an
//!   episode, a `last_visited` id outside −1..=3, or a grown `visits` whose
//!   `last_visited` names no target.
//!
//! Each play CSV is a source with a label: `LABEL=PATH`, or a `PATH` whose
//! file stem is the label. Sources with the same label (the seeds of one
//! prior, say) add up: a label given twice sums the counts.
//!
//! # Outputs
//!
//! `ctrlbench` writes into the output directory:
//!
//! - `visits.csv` ([`write_table`]): `source,prev,cur,next,count,share,
//!   chain_probability`, one row for every `(prev, cur, next)` with
//!   `prev ≠ cur` and `next ≠ cur` (36 rows a source), targets by colour
//!   name. The first block, `source = chain`, holds the chain's
//!   probabilities (`count` empty, `share` = `chain_probability`); then one
//!   block per source, in order of first appearance: the triple's count,
//!   its share of the visits from `(prev, cur)` (empty when there are none)
//!   and the chain's probability.
//! - `summary.md` ([`summary_markdown`]): one row per source (see below),
//!   then reference rows for the chain itself and for the memoryless answer.
//! - `visits.png` ([`draw_figure`]): for one current target (`--target`,
//!   green by default), one panel for the chain and one per source; in each,
//!   three groups on the x axis (the previous target: each of the three
//!   other targets, with the number of visits from that pair for a source)
//!   and in each group one bar per possible next target (the three others
//!   of the current one), coloured as the targets, height the share, y from
//!   0 to 1.
//!
//! # Statistics ([`Summary`])
//!
//! For each pair `(prev, cur)`, `prev ≠ cur`, with at least one visit from
//! it, the observed distribution `P(next | prev, cur)` (counts over their
//! sum) is compared by total-variation distance (half the L1 distance) with
//!
//! - the chain's, `successor_probs(Some(prev), Some(cur))`: 0.9 on the
//!   preferred successor, 0.1 on the other allowed one, 0 on `prev` and
//!   `cur`;
//! - the memoryless answer, `successor_probs(None, Some(cur))`: 1/3 on each
//!   of the three others of `cur`, `prev` included: what a policy that
//!   ignores `prev` and goes uniformly to another target produces.
//!
//! `mean_tv_to_chain` and `mean_tv_to_memoryless` average these distances
//! over the pairs, each weighted by its number of visits. Between the chain
//! and the memoryless answer the distance is 17/30 ≈ 0.567 for every pair.
//! `preferred_share` is the share of visits from pairs with `prev ≠ cur`
//! that went to the pair's preferred successor: 0.9 for the chain; 1/3 for
//! the memoryless answer (the preferred successor is one of the three
//! others of `cur`, chosen uniformly; `prev` takes another third).
//!
//! # What the counts measure
//!
//! The task counts a visit wherever the point mass comes to rest at a target
//! other than the last visited one, whether or not it is the next target
//! the chain drew, and its observation shows that history. So the sequence
//! of visits is the policy's own: a policy that follows `next_target` visits
//! in the chain's order, and a prior played without it visits where it
//! chooses, which is what these statistics compare with the chain. Visits
//! cut off by the end of an episode weight the pairs slightly (slower
//! transitions are cut off more often).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use envs::dmc::seqnav::{N_TARGETS, TARGET_COLOURS, successor_probs};

mod figure;

pub use figure::draw_figure;

/// Number of targets (shorthand).
const N: usize = N_TARGETS;

/// Column naming the episode of a row.
pub const EPISODE_COLUMN: &str = "episode";
/// Default column counting the visits completed in the episode.
pub const COUNT_COLUMN: &str = "visits";
/// Default column naming the last visited target (−1 before the first).
pub const ID_COLUMN: &str = "last_visited";

/// Arguments of the next-target statistics command.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ctrlbench visits prior.csv --out visits/
  ctrlbench visits memoryless=prior-nomem.csv memory=prior-mem-s0.csv \\
      memory=prior-mem-s1.csv --out visits/ --target red")]
pub struct VisitsArgs {
    /// Play CSVs of `pointmass-seqnav` (`ctrlbench play --out`), each
    /// `LABEL=PATH` or a PATH (label = file stem); a label given twice sums
    /// the counts of its files.
    #[arg(required = true, value_name = "[LABEL=]PLAY_CSV")]
    pub plays: Vec<String>,
    /// Output directory: visits.csv, summary.md and visits.png.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Current target of the figure, by colour name (blue, green, black,
    /// red) or id (0-3).
    #[arg(long, default_value = "green")]
    pub target: String,
    /// Column counting the visits completed in the episode.
    #[arg(long, default_value = COUNT_COLUMN)]
    pub count_column: String,
    /// Column naming the last visited target (id, −1 before the first).
    #[arg(long, default_value = ID_COLUMN)]
    pub id_column: String,
}

/// Counts of consecutive visit triples of one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitCounts {
    /// `counts[prev][cur][next]`: how often `next` was visited right after
    /// `prev` then `cur`.
    pub counts: [[[u64; N]; N]; N],
    /// Episodes read.
    pub episodes: u64,
    /// Visits recorded (each target of the episodes' sequences).
    pub visits: u64,
}

impl VisitCounts {
    /// Reads a play CSV with the default columns (`visits`, `last_visited`);
    /// see the module documentation for the rules and the errors.
    pub fn from_play_csv(path: &Path) -> Result<VisitCounts> {
        Self::from_play_csv_columns(path, COUNT_COLUMN, ID_COLUMN)
    }

    /// Reads a play CSV, counting visits in `count_column` and reading the
    /// visited target in `id_column`.
    pub fn from_play_csv_columns(
        path: &Path,
        count_column: &str,
        id_column: &str,
    ) -> Result<VisitCounts> {
        let file = path.display();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .with_context(|| format!("opening the play CSV {file}"))?;
        let header = reader
            .headers()
            .with_context(|| format!("{file}: reading the header"))?
            .clone();
        let column = |name: &str| -> Result<usize> {
            header.iter().position(|h| h == name).ok_or_else(|| {
                anyhow!(
                    "{file}: no column `{name}` (header: {})",
                    header.iter().collect::<Vec<_>>().join(",")
                )
            })
        };
        let episode_col = column(EPISODE_COLUMN)?;
        let count_col = column(count_column)?;
        let id_col = column(id_column)?;

        let mut counts = VisitCounts::default();
        let mut episode: Option<f64> = None;
        // Visits at the previous row of the episode.
        let mut seen = 0u64;
        // The episode's sequence since its start or its last cut.
        let mut segment: Vec<usize> = Vec::new();
        let mut jumps = 0u64;
        let mut first_jump_line = 0u64;
        let mut skipped = 0u64;
        for record in reader.records() {
            let record = record.with_context(|| format!("{file}: reading a row"))?;
            let line = record.position().map_or(0, |p| p.line());
            let number = |idx: usize, name: &str| -> Result<f64> {
                let text = record.get(idx).unwrap_or("");
                if text.is_empty() {
                    return Ok(f64::NAN);
                }
                text.parse::<f64>().map_err(|_| {
                    anyhow!("{file}:{line}: column `{name}`: `{text}` is not a number")
                })
            };
            let ep = number(episode_col, EPISODE_COLUMN)?;
            if !ep.is_finite() {
                bail!("{file}:{line}: column `{EPISODE_COLUMN}`: no episode number");
            }
            if episode != Some(ep) {
                counts.add_sequence(&segment);
                segment.clear();
                episode = Some(ep);
                seen = 0;
                counts.episodes += 1;
            }
            let id = number(id_col, id_column)?;
            let known_id = id.fract() == 0.0 && (-1.0..N as f64).contains(&id);
            if !(id.is_nan() || known_id) {
                bail!(
                    "{file}:{line}: column `{id_column}`: target id {id} out of range \
                     (-1 before the first visit, 0 to {} after)",
                    N - 1
                );
            }
            let visits = number(count_col, count_column)?;
            if visits.is_nan() {
                skipped += 1;
                continue;
            }
            if visits < 0.0 || visits.fract() != 0.0 || !visits.is_finite() {
                bail!("{file}:{line}: column `{count_column}`: {visits} is not a count of visits");
            }
            let visits = visits as u64;
            if visits < seen {
                bail!(
                    "{file}:{line}: column `{count_column}` falls from {seen} to {visits} \
                     within episode {ep}"
                );
            }
            if visits > seen {
                if id.is_nan() || id < 0.0 {
                    bail!(
                        "{file}:{line}: `{count_column}` grows to {visits} but \
                         `{id_column}` names no target"
                    );
                }
                if visits - seen > 1 {
                    if jumps == 0 {
                        first_jump_line = line;
                    }
                    jumps += 1;
                    counts.add_sequence(&segment);
                    segment.clear();
                }
                segment.push(id as usize);
                seen = visits;
            }
        }
        counts.add_sequence(&segment);
        if jumps > 0 {
            tracing::warn!(
                "{file}: `{count_column}` grows by more than one in {jumps} row(s) (first at \
                 line {first_jump_line}): recorded only the target each names, and cut the \
                 sequence there"
            );
        }
        if skipped > 0 {
            tracing::debug!("{file}: {skipped} row(s) without a `{count_column}` value skipped");
        }
        Ok(counts)
    }

    /// Adds one sequence of visited targets: every three consecutive ones
    /// count once, and each target is a visit. Panics on an id of
    /// [`N_TARGETS`] or more.
    pub fn add_sequence(&mut self, targets: &[usize]) {
        for &t in targets {
            assert!(t < N, "target id {t} out of range");
        }
        for w in targets.windows(3) {
            self.counts[w[0]][w[1]][w[2]] += 1;
        }
        self.visits += targets.len() as u64;
    }

    /// Adds another source's counts to these.
    pub fn merge(&mut self, other: &VisitCounts) {
        let theirs = other.counts.iter().flatten().flatten();
        for (mine, theirs) in self.counts.iter_mut().flatten().flatten().zip(theirs) {
            *mine += theirs;
        }
        self.episodes += other.episodes;
        self.visits += other.visits;
    }

    /// Visits right after `prev` then `cur`.
    pub fn pair_count(&self, prev: usize, cur: usize) -> u64 {
        self.counts[prev][cur].iter().sum()
    }

    /// Visits right after `cur` whose previous target is known (triples
    /// with `cur` in the middle).
    pub fn from_count(&self, cur: usize) -> u64 {
        (0..N).map(|prev| self.pair_count(prev, cur)).sum()
    }

    /// All triples counted.
    pub fn triples(&self) -> u64 {
        (0..N).map(|cur| self.from_count(cur)).sum()
    }

    /// The observed distribution of the next target after `prev` then
    /// `cur` (shares of the visits from that pair); `None` without visits.
    pub fn conditional(&self, prev: usize, cur: usize) -> Option<[f64; N]> {
        let total = self.pair_count(prev, cur);
        if total == 0 {
            return None;
        }
        let mut shares = [0.0; N];
        for (share, &count) in shares.iter_mut().zip(&self.counts[prev][cur]) {
            *share = count as f64 / total as f64;
        }
        Some(shares)
    }

    /// The statistics of these counts, labelled `source`.
    pub fn summary(&self, source: &str) -> Summary {
        let means = Means::of(|prev, cur| {
            self.conditional(prev, cur)
                .map(|d| (self.pair_count(prev, cur) as f64, d))
        });
        Summary {
            source: source.to_string(),
            episodes: self.episodes,
            visits: self.visits,
            triples: self.triples(),
            mean_tv_to_chain: means.tv_to_chain,
            mean_tv_to_memoryless: means.tv_to_memoryless,
            preferred_share: means.preferred_share,
        }
    }
}

/// The statistics of one source (see the module documentation). The means
/// are NaN without triples.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Source label.
    pub source: String,
    /// Episodes read.
    pub episodes: u64,
    /// Visits recorded.
    pub visits: u64,
    /// Triples `(prev, cur, next)` counted.
    pub triples: u64,
    /// Visit-weighted mean total-variation distance from the observed
    /// `P(next | prev, cur)` to the chain's.
    pub mean_tv_to_chain: f64,
    /// The same to the memoryless answer (uniform over the others of `cur`).
    pub mean_tv_to_memoryless: f64,
    /// Share of the visits from pairs with `prev ≠ cur` that went to the
    /// pair's preferred successor.
    pub preferred_share: f64,
}

/// The summaries of `sources`, in order.
pub fn summaries(sources: &[(String, VisitCounts)]) -> Vec<Summary> {
    sources.iter().map(|(label, c)| c.summary(label)).collect()
}

/// A Markdown table of `summaries`, then the reference rows of the chain
/// and of the memoryless answer (every ordered pair of distinct targets
/// weighted alike: the chain's stationary distribution over pairs is
/// uniform). Ends with a newline.
pub fn summary_markdown(summaries: &[Summary]) -> String {
    let mut s = String::from(
        "| source | episodes | visits | triples | TV to chain | TV to memoryless | preferred share |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in summaries {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            m.source.replace('|', "\\|"),
            m.episodes,
            m.visits,
            m.triples,
            fmt_stat(m.mean_tv_to_chain),
            fmt_stat(m.mean_tv_to_memoryless),
            fmt_stat(m.preferred_share),
        );
    }
    let chain = Means::of(|prev, cur| Some((1.0, successor_probs(Some(prev), Some(cur)))));
    let memoryless = Means::of(|_, cur| Some((1.0, successor_probs(None, Some(cur)))));
    for (name, m) in [("chain", chain), ("memoryless", memoryless)] {
        let _ = writeln!(
            s,
            "| *{name} (reference)* | | | | {} | {} | {} |",
            fmt_stat(m.tv_to_chain),
            fmt_stat(m.tv_to_memoryless),
            fmt_stat(m.preferred_share),
        );
    }
    s
}

fn fmt_stat(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".to_string()
    }
}

/// Weighted means over the pairs `(prev, cur)` with `prev ≠ cur` (a pair
/// with `prev == cur` cannot occur in the task and is left out).
struct Means {
    tv_to_chain: f64,
    tv_to_memoryless: f64,
    preferred_share: f64,
}

impl Means {
    /// `pair(prev, cur)`: the pair's weight and its distribution of the
    /// next target, `None` to leave it out.
    fn of(pair: impl Fn(usize, usize) -> Option<(f64, [f64; N])>) -> Means {
        let (mut weight, mut chain, mut memoryless) = (0.0, 0.0, 0.0);
        let (mut preferred_weight, mut preferred) = (0.0, 0.0);
        for prev in 0..N {
            for cur in 0..N {
                if prev == cur {
                    continue;
                }
                let Some((w, dist)) = pair(prev, cur) else {
                    continue;
                };
                if w <= 0.0 {
                    continue;
                }
                weight += w;
                chain += w * total_variation(&dist, &successor_probs(Some(prev), Some(cur)));
                memoryless += w * total_variation(&dist, &successor_probs(None, Some(cur)));
                if let Some(k) = preferred_successor(prev, cur) {
                    preferred_weight += w;
                    preferred += w * dist[k];
                }
            }
        }
        Means {
            tv_to_chain: chain / weight,
            tv_to_memoryless: memoryless / weight,
            preferred_share: preferred / preferred_weight,
        }
    }
}

/// Half the L1 distance between two distributions.
pub fn total_variation(a: &[f64; N], b: &[f64; N]) -> f64 {
    0.5 * a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>()
}

/// The chain's likely successor of `prev` then `cur` (the one with
/// probability 0.9); `None` when `prev == cur`.
pub fn preferred_successor(prev: usize, cur: usize) -> Option<usize> {
    if prev == cur {
        return None;
    }
    let probs = successor_probs(Some(prev), Some(cur));
    (0..N).find(|&k| probs[k] > 0.5)
}

/// The three targets other than `cur`, in the task's cyclic order
/// (`cur + 1`, `cur + 2`, `cur + 3`, mod 4).
fn others_of(cur: usize) -> [usize; 3] {
    [(cur + 1) % N, (cur + 2) % N, (cur + 3) % N]
}

/// Every `(prev, cur, next)` with `prev ≠ cur` and `next ≠ cur`, in id order.
fn listed_triples() -> impl Iterator<Item = (usize, usize, usize)> {
    (0..N).flat_map(|prev| {
        (0..N).flat_map(move |cur| {
            (0..N)
                .filter(move |&next| prev != cur && next != cur)
                .map(move |next| (prev, cur, next))
        })
    })
}

/// A probability or share in the CSV: rounded to 1e-9 so that 1 − 0.9
/// reads `0.1`.
fn fmt_share(x: f64) -> String {
    format!("{}", (x * 1e9).round() / 1e9)
}

/// Writes the table `source,prev,cur,next,count,share,chain_probability`
/// (see the module documentation) to `out`.
pub fn write_table(sources: &[(String, VisitCounts)], out: &Path) -> Result<()> {
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("creating {}", out.display()))?;
    let context = || format!("writing {}", out.display());
    w.write_record([
        "source",
        "prev",
        "cur",
        "next",
        "count",
        "share",
        "chain_probability",
    ])
    .with_context(context)?;
    let colour = |id: usize| TARGET_COLOURS[id].to_string();
    for (prev, cur, next) in listed_triples() {
        let p = fmt_share(successor_probs(Some(prev), Some(cur))[next]);
        w.write_record([
            "chain".to_string(),
            colour(prev),
            colour(cur),
            colour(next),
            String::new(),
            p.clone(),
            p,
        ])
        .with_context(context)?;
    }
    for (label, counts) in sources {
        for (prev, cur, next) in listed_triples() {
            let share = counts
                .conditional(prev, cur)
                .map_or(String::new(), |d| fmt_share(d[next]));
            w.write_record([
                label.clone(),
                colour(prev),
                colour(cur),
                colour(next),
                counts.counts[prev][cur][next].to_string(),
                share,
                fmt_share(successor_probs(Some(prev), Some(cur))[next]),
            ])
            .with_context(context)?;
        }
    }
    w.flush().with_context(context)?;
    Ok(())
}

/// A target id from its colour name (any case) or its id.
pub fn target_id(name: &str) -> Result<usize> {
    let name = name.trim();
    if let Some(id) = TARGET_COLOURS
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
    {
        return Ok(id);
    }
    match name.parse::<usize>() {
        Ok(id) if id < N => Ok(id),
        _ => bail!(
            "unknown target `{name}`: one of {} (or an id 0 to {})",
            TARGET_COLOURS.join(", "),
            N - 1
        ),
    }
}

/// A play argument, `LABEL=PATH` or `PATH` (label = file stem); an existing
/// file whose name holds `=` is taken as a path.
pub fn parse_play(arg: &str) -> Result<(String, PathBuf)> {
    let as_path = Path::new(arg);
    if !as_path.exists()
        && let Some((label, path)) = arg.split_once('=')
    {
        if label.is_empty() || path.is_empty() {
            bail!("`{arg}`: expected LABEL=PATH or PATH");
        }
        return Ok((label.to_string(), PathBuf::from(path)));
    }
    let label = as_path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("`{arg}`: no file name to label it by; give LABEL=PATH"))?;
    Ok((label.to_string(), as_path.to_path_buf()))
}

/// Reads the play arguments into sources, in order of first appearance;
/// the files of one label add up.
pub fn load_sources(
    plays: &[String],
    count_column: &str,
    id_column: &str,
) -> Result<Vec<(String, VisitCounts)>> {
    let mut sources: Vec<(String, VisitCounts)> = Vec::new();
    for arg in plays {
        let (label, path) = parse_play(arg)?;
        let counts = VisitCounts::from_play_csv_columns(&path, count_column, id_column)?;
        match sources.iter_mut().find(|(l, _)| *l == label) {
            Some((_, sum)) => sum.merge(&counts),
            None => sources.push((label, counts)),
        }
    }
    Ok(sources)
}

/// The next-target statistics command: reads the plays, writes
/// `visits.csv`, `summary.md` and `visits.png` into `args.out` and prints
/// the summary table.
pub fn run(args: &VisitsArgs) -> Result<()> {
    let cur = target_id(&args.target)?;
    let sources = load_sources(&args.plays, &args.count_column, &args.id_column)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating directory {}", args.out.display()))?;
    write_table(&sources, &args.out.join("visits.csv"))?;
    let table = summary_markdown(&summaries(&sources));
    let md = format!(
        "# Next target by the last two visited targets\n\n\
         TV: visit-weighted mean total-variation distance between the observed \
         P(next | prev, cur) and the chain's, or the memoryless answer's (uniform over \
         the three others of cur). Preferred share: visits that went to the chain's \
         likely (0.9) successor; 0.9 for the chain, 1/3 without memory.\n\n{table}"
    );
    let md_path = args.out.join("summary.md");
    std::fs::write(&md_path, md).with_context(|| format!("writing {}", md_path.display()))?;
    draw_figure(&sources, cur, &args.out.join("visits.png"))?;
    print!("{table}");
    println!(
        "wrote visits.csv, summary.md, visits.png -> {}",
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests;
