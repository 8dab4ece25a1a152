//! The figures `ctrlbench reproduce` knows: one [`FigureSpec`] each in
//! [`FIGURES`], holding what the figure shows, its tasks, the agent and its
//! variants as config overrides (with the label each has in the published
//! data), the published files it is compared with, its panels and its
//! budgets with their cost.
//!
//! Published labels and the tasks, steps and aggregation of each figure are
//! those of the DCWM paper (Scannell et al., "Discrete Codebook World Models
//! for Continuous Control", ICLR 2025) and of its plotting notebooks
//! (`results/plotting/*.ipynb` of aidanscannell/dcmpc): the ablations use
//! seeds 1-3, rliable's IQM and optimality gap with 50,000 bootstrap
//! replications, and DMC scores as return / 1000. The notebooks of the main
//! DMC and Meta-World figures are not in that repository, so their layout is
//! this project's (stated on those figures).

pub use super::figures::FIGURES;

/// The 30 DMC tasks of the DCWM paper (`configs/suites/dmc30.yaml`).
pub const DMC30: &[&str] = &[
    "acrobot-swingup",
    "cartpole-balance",
    "cartpole-balance-sparse",
    "cartpole-swingup",
    "cartpole-swingup-sparse",
    "cheetah-run",
    "cup-catch",
    "cup-spin",
    "dog-run",
    "dog-stand",
    "dog-trot",
    "dog-walk",
    "finger-spin",
    "finger-turn-easy",
    "finger-turn-hard",
    "fish-swim",
    "hopper-hop",
    "hopper-stand",
    "humanoid-run",
    "humanoid-stand",
    "humanoid-walk",
    "pendulum-spin",
    "pendulum-swingup",
    "quadruped-run",
    "quadruped-walk",
    "reacher-easy",
    "reacher-hard",
    "walker-run",
    "walker-stand",
    "walker-walk",
];

/// The 45 Meta-World tasks of the DCWM paper (MT50 without reach,
/// drawer-open, pick-place-wall, push-back and shelf-place;
/// `configs/suites/mw45.yaml`).
pub const MW45: &[&str] = &[
    "mw-assembly",
    "mw-basketball",
    "mw-bin-picking",
    "mw-box-close",
    "mw-button-press",
    "mw-button-press-topdown",
    "mw-button-press-topdown-wall",
    "mw-button-press-wall",
    "mw-coffee-button",
    "mw-coffee-pull",
    "mw-coffee-push",
    "mw-dial-turn",
    "mw-disassemble",
    "mw-door-close",
    "mw-door-lock",
    "mw-door-open",
    "mw-door-unlock",
    "mw-drawer-close",
    "mw-faucet-close",
    "mw-faucet-open",
    "mw-hammer",
    "mw-hand-insert",
    "mw-handle-press",
    "mw-handle-press-side",
    "mw-handle-pull",
    "mw-handle-pull-side",
    "mw-lever-pull",
    "mw-peg-insert-side",
    "mw-peg-unplug-side",
    "mw-pick-out-of-hole",
    "mw-pick-place",
    "mw-plate-slide",
    "mw-plate-slide-back",
    "mw-plate-slide-back-side",
    "mw-plate-slide-side",
    "mw-push",
    "mw-push-wall",
    "mw-reach-wall",
    "mw-soccer",
    "mw-stick-pull",
    "mw-stick-push",
    "mw-sweep",
    "mw-sweep-into",
    "mw-window-close",
    "mw-window-open",
];

/// The 10 DMC tasks of the ablation figures 3 and 6.
pub const ABLATION_DMC10: &[&str] = &[
    "acrobot-swingup",
    "dog-run",
    "dog-stand",
    "dog-trot",
    "dog-walk",
    "humanoid-run",
    "humanoid-stand",
    "humanoid-walk",
    "reacher-hard",
    "walker-walk",
];

/// The 10 Meta-World tasks of the ablation figures 3 and 6
/// (`configs/suites/mw10.yaml`).
pub const ABLATION_MW10: &[&str] = &[
    "mw-button-press",
    "mw-door-open",
    "mw-drawer-close",
    "mw-drawer-open",
    "mw-peg-insert-side",
    "mw-pick-place",
    "mw-push",
    "mw-reach",
    "mw-window-close",
    "mw-window-open",
];

/// The four tasks of the sensitivity and appendix ablations.
pub const SENSITIVITY4: &[&str] = &["walker-walk", "reacher-hard", "dog-run", "humanoid-walk"];

/// How a figure is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// rliable aggregates over the tasks: IQM and optimality gap at
    /// `bar_step`, and IQM over env steps up to `x_max`; per-task curves in a
    /// second file.
    Aggregate {
        /// Env steps of the bar panels.
        bar_step: i64,
        /// Right end of the curves.
        x_max: i64,
    },
    /// One panel per task of the metric over env steps up to `x_max`, and
    /// maybe a second row.
    PerTask {
        /// Right end of the curves.
        x_max: i64,
        /// The second row.
        extra_row: ExtraRow,
    },
}

/// The second row of a per-task figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExtraRow {
    /// None.
    None,
    /// The codebook's active codes (%) over env steps (Figs. 7 and 8).
    ActiveCodes,
    /// The metric against wall-clock hours: ours on this machine, the
    /// published runs' on the authors' GPU (Fig. 4).
    WallClock,
}

/// A variant of the figure's agent.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The label in the figure (and the variant's directory).
    pub label: &'static str,
    /// Its label in the published file (`None`: not published).
    pub published: Option<&'static str>,
    /// Config overrides (`None`: this project cannot run it; `missing` says why).
    pub set: Option<&'static [(&'static str, &'static str)]>,
    /// Why it cannot run here (empty when it can), as a phrase.
    pub missing: &'static str,
}

/// A published file compared with the figure.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// Path under `data/published/` (`.csv.gz` added); `{task}` is replaced
    /// by each task (TD-MPC2's one file per task).
    pub file: &'static str,
    /// Series name of the whole file, for files of one agent (TD-MPC2's
    /// baselines, DCWM's main results). `None`: the file's variant column
    /// names the series, mapped through the figure's variants.
    pub series: Option<&'static str>,
}

/// A budget: how much to run.
#[derive(Debug, Clone, Copy)]
pub struct BudgetSpec {
    /// `smoke`, `short` or `paper`.
    pub name: &'static str,
    /// Env steps per run.
    pub steps: i64,
    /// Seeds 1..=seeds.
    pub seeds: u64,
    /// Env steps between evaluations.
    pub eval_every: i64,
    /// Episodes per evaluation.
    pub eval_episodes: u64,
    /// Evaluate at these env steps instead of every `eval_every` (from 0):
    /// for agents whose evaluation is costly (PETS plans every action).
    pub eval_at: &'static [i64],
    /// Tasks (`None`: the figure's runnable tasks).
    pub tasks: Option<&'static [&'static str]>,
    /// Extra overrides (smaller networks for `smoke`).
    pub set: &'static [(&'static str, &'static str)],
    /// What the budget is, in the figure's title.
    pub says: &'static str,
}

/// A figure of the registry.
#[derive(Debug, Clone, Copy)]
pub struct FigureSpec {
    /// Id on the command line.
    pub id: &'static str,
    /// Title (the paper's figure number where it has one).
    pub title: &'static str,
    /// What it shows.
    pub shows: &'static str,
    /// Panels.
    pub layout: Layout,
    /// Tasks, in the paper's order.
    pub tasks: &'static [&'static str],
    /// The agent its variants configure.
    pub agent: &'static str,
    /// Variants (one, unnamed in the published file, for a single agent).
    pub variants: &'static [Variant],
    /// Published data.
    pub sources: &'static [Source],
    /// Seeds of the published data used (the notebooks use 1-3).
    pub published_seeds: &'static [i64],
    /// Budgets.
    pub budgets: &'static [BudgetSpec],
    /// What cannot run yet, and layout notes.
    pub notes: &'static str,
}

impl FigureSpec {
    /// The budget of this name.
    pub fn budget(&self, name: &str) -> Option<&BudgetSpec> {
        self.budgets.iter().find(|b| b.name == name)
    }

    /// Variants this project can run.
    pub fn runnable(&self) -> impl Iterator<Item = &Variant> {
        self.variants.iter().filter(|v| v.set.is_some())
    }

    /// Whether this project can run any of it: an agent variant and a task
    /// the environments have.
    pub fn can_run(&self) -> bool {
        self.runnable().next().is_some() && !self.runnable_tasks().is_empty()
    }

    /// The figure's tasks that are registered environments.
    pub fn runnable_tasks(&self) -> Vec<&'static str> {
        self.tasks
            .iter()
            .copied()
            .filter(|t| envs::find(t).is_ok())
            .collect()
    }

    /// The published label of a variant label (or the label itself).
    pub fn series_of_published(&self, published: &str) -> Option<&'static str> {
        self.variants
            .iter()
            .find(|v| v.published == Some(published))
            .map(|v| v.label)
    }
}

/// CPU seconds per env step of one run on one core, measured at the
/// budget's sizes; the basis of the cost estimates.
pub fn cpu_seconds_per_env_step(agent: &str, budget: &str) -> f64 {
    match (agent, budget) {
        // `make run`: 2 runs x 100k env steps in 9 min 46 s on 2 cores.
        ("sac", _) => SAC_S_PER_STEP,
        // Small networks of the smoke budgets: `reproduce fig11-redq --budget
        // smoke`, 2 runs x 2k env steps, 8.4 s and 10.0 s.
        ("dcwm", "smoke") => DCWM_SMOKE_S_PER_STEP,
        // `bench agent --agent pets --task cartpole-swingup --fill 20000`:
        // 2.66 s per decision (8 env steps), one thread; small: the
        // learning test's planner, 90 s for 8k env steps.
        ("pets", "smoke") => 0.011,
        ("pets", _) => 0.33,
        // Paper sizes: an update and a plan per agent step (1.63 s + 1.73 s,
        // `scripts/dcwm_official_check.py --size paper --time 20`, one
        // thread), two env steps per agent step.
        ("dcwm", _) => DCWM_PAPER_S_PER_STEP,
        // SAC's networks plus a prior: the behavior-prior sweeps, 50k env
        // steps of cartpole in 420-560 s and 100k of pointmass-seqnav in
        // 980-1750 s, two runs side by side on 2 cores.
        ("bprior", _) => BPRIOR_S_PER_STEP,
        _ => f64::NAN,
    }
}

const SAC_S_PER_STEP: f64 = 0.0055;
const DCWM_SMOKE_S_PER_STEP: f64 = 0.005;
const BPRIOR_S_PER_STEP: f64 = 0.012;
const DCWM_PAPER_S_PER_STEP: f64 = 1.68;

/// GPU hours per million env steps of one DCWM run on the authors' GPU
/// (the `time` column of the published discrete-encodings data: about 14 h
/// per 1M env steps for codes).
pub const DCWM_GPU_HOURS_PER_MILLION: f64 = 14.0;

/// Estimated cost of a figure at a budget: (runs, CPU hours on one core
/// per run summed, GPU hours on the authors' GPU where known).
pub fn cost(f: &FigureSpec, b: &BudgetSpec) -> (usize, f64, Option<f64>) {
    let tasks = b.tasks.map_or(f.runnable_tasks().len(), <[_]>::len);
    let runs = tasks * f.runnable().count() * b.seeds as usize;
    let steps = runs as f64 * b.steps as f64;
    let cpu = steps * cpu_seconds_per_env_step(f.agent, b.name) / 3600.0;
    let gpu =
        (f.agent == "dcwm" && b.name != "smoke").then(|| steps / 1e6 * DCWM_GPU_HOURS_PER_MILLION);
    (runs, cpu, gpu)
}

/// The figure with this id, or an error listing the ids.
pub fn find(id: &str) -> anyhow::Result<&'static FigureSpec> {
    FIGURES.iter().find(|f| f.id == id).ok_or_else(|| {
        let ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        anyhow::anyhow!("unknown figure '{id}' (known: {})", ids.join(", "))
    })
}
