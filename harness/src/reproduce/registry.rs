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
/// drawer-open, pick-place-wall, push-back and shelf-place).
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

/// The 10 Meta-World tasks of the ablation figures 3 and 6.
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
    /// One panel per task of the metric over env steps up to `x_max`; with
    /// `active_codes`, a second row of the codebook's active codes (%).
    PerTask {
        /// Right end of the curves.
        x_max: i64,
        /// Add the active-codes row.
        active_codes: bool,
    },
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
        // `make run`'s reproduction: 2 runs x 100k env steps on 2 cores.
        ("sac", _) => SAC_S_PER_STEP,
        // Small networks of the smoke budgets.
        ("dcwm", "smoke") => DCWM_SMOKE_S_PER_STEP,
        // Paper sizes: an update and a plan per agent step (1.63 s + 1.73 s,
        // `scripts/dcwm_official_check.py --size paper --time 20`, one
        // thread), two env steps per agent step.
        ("dcwm", _) => DCWM_PAPER_S_PER_STEP,
        _ => f64::NAN,
    }
}

const SAC_S_PER_STEP: f64 = 0.0026;
const DCWM_SMOKE_S_PER_STEP: f64 = 0.012;
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

const DMC: Source = Source {
    file: "dcwm/dmc-dcmpc",
    series: Some("DCWM"),
};
const MW: Source = Source {
    file: "dcwm/mw-dcmpc",
    series: Some("DCWM"),
};
const TDMPC2: Source = Source {
    file: "tdmpc2/tdmpc2/{task}",
    series: Some("TD-MPC2"),
};
const DREAMERV3: Source = Source {
    file: "tdmpc2/dreamerv3/{task}",
    series: Some("DreamerV3"),
};
const SAC: Source = Source {
    file: "tdmpc2/sac/{task}",
    series: Some("SAC"),
};
const TDMPC: Source = Source {
    file: "tdmpc2/tdmpc/{task}",
    series: Some("TD-MPC"),
};

const fn by_label(file: &'static str) -> Source {
    Source { file, series: None }
}

/// DCWM with the project's defaults (the official code's).
const DCWM_DEFAULT: &[(&str, &str)] = &[];

/// DCWM small enough for the smoke budgets: a pipeline check, not a result.
const DCWM_SMALL: &[(&str, &str)] = &[
    ("dcwm.latent_dim", "32"),
    ("dcwm.enc_mlp_dims", "[32]"),
    ("dcwm.mlp_dims", "[32, 32]"),
    ("dcwm.batch_size", "32"),
    ("dcwm.num_samples", "32"),
    ("dcwm.num_elites", "8"),
    ("dcwm.num_pi_trajs", "4"),
    ("dcwm.iterations", "2"),
    ("warmup_steps", "1000"),
];

const SMOKE_SAYS: &str = "smoke: a pipeline check with small networks, not a result";
const SHORT_SAYS: &str = "short: 100k env steps, 3 seeds, paper sizes";
const PAPER_SAYS: &str = "paper: the paper's steps and seeds";

/// A smoke budget on `tasks` (1 seed, 2k env steps, small networks).
const fn dcwm_smoke(tasks: &'static [&'static str]) -> BudgetSpec {
    BudgetSpec {
        name: "smoke",
        steps: 2000,
        seeds: 1,
        eval_every: 2000,
        eval_episodes: 1,
        tasks: Some(tasks),
        set: DCWM_SMALL,
        says: SMOKE_SAYS,
    }
}

const fn dcwm_short() -> BudgetSpec {
    BudgetSpec {
        name: "short",
        steps: 100_000,
        seeds: 3,
        eval_every: 25_000,
        eval_episodes: 10,
        tasks: None,
        set: &[],
        says: SHORT_SAYS,
    }
}

const fn dcwm_paper(steps: i64) -> BudgetSpec {
    BudgetSpec {
        name: "paper",
        steps,
        seeds: 3,
        eval_every: 25_000,
        eval_episodes: 10,
        tasks: None,
        set: &[],
        says: PAPER_SAYS,
    }
}

const DCWM_ONLY: &[Variant] = &[Variant {
    label: "DCWM",
    published: Some("DCWM"),
    set: Some(DCWM_DEFAULT),
    missing: "",
}];

const LATENT_SPACE: &[Variant] = &[
    Variant {
        label: "Discrete+CE+stoch (DCWM)",
        published: Some("DCWM"),
        set: Some(DCWM_DEFAULT),
        missing: "",
    },
    Variant {
        label: "Discrete+CE+det",
        published: Some("FSQ+cross-entropy+mse+delta"),
        set: None,
        missing: "needs the official use_delta and ce_logits_mode switches",
    },
    Variant {
        label: "Discrete+MSE",
        published: Some("FSQ+mse+standard+delta"),
        set: None,
        missing: "needs the official use_delta switch",
    },
    Variant {
        label: "SimNorm+MSE",
        published: Some("SimNorm+mse"),
        set: None,
        missing: "needs a SimNorm latent (TD-MPC2)",
    },
    Variant {
        label: "Continuous+MSE",
        published: Some("Cont+mse+standard"),
        set: None,
        missing: "needs the official use_delta switch",
    },
    Variant {
        label: "Continuous+MSE+delta",
        published: Some("Cont+mse+standard+delta"),
        set: None,
        missing: "needs the official use_delta switch",
    },
];

/// Every figure, `make run`'s first.
pub static FIGURES: &[FigureSpec] = &[
    FigureSpec {
        id: "sac-cartpole-swingup",
        title: "SAC on cartpole-swingup at 100k env steps",
        shows: "this project's SAC against the published SAC (TD-MPC2's baselines) and DCWM curves",
        layout: Layout::PerTask {
            x_max: 100_000,
            active_codes: false,
        },
        tasks: &["cartpole-swingup"],
        agent: "sac",
        variants: &[Variant {
            label: "SAC",
            published: None,
            set: Some(&[]),
            missing: "",
        }],
        sources: &[SAC, DMC],
        published_seeds: &[1, 2, 3],
        budgets: &[
            BudgetSpec {
                name: "smoke",
                steps: 4000,
                seeds: 1,
                eval_every: 2000,
                eval_episodes: 2,
                tasks: None,
                set: &[("warmup_steps", "1000")],
                says: SMOKE_SAYS,
            },
            BudgetSpec {
                name: "short",
                steps: 100_000,
                seeds: 2,
                eval_every: 10_000,
                eval_episodes: 10,
                tasks: None,
                set: &[],
                says: "short: 100k env steps, 2 seeds, paper sizes",
            },
            BudgetSpec {
                name: "paper",
                steps: 1_000_000,
                seeds: 3,
                eval_every: 25_000,
                eval_episodes: 10,
                tasks: None,
                set: &[],
                says: PAPER_SAYS,
            },
        ],
        notes: "",
    },
    FigureSpec {
        id: "dmc30",
        title: "DMControl, 30 tasks: aggregate and per-task curves",
        shows: "DCWM against the published DCWM, TD-MPC2, DreamerV3, SAC and TD-MPC runs",
        layout: Layout::Aggregate {
            bar_step: 1_000_000,
            x_max: 1_000_000,
        },
        tasks: DMC30,
        agent: "dcwm",
        variants: DCWM_ONLY,
        sources: &[DMC, TDMPC2, DREAMERV3, SAC, TDMPC],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["cartpole-swingup", "walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "The paper's notebook for this figure is not published: the layout (IQM and optimality gap at 1M, IQM curves, seeds 1-3) is this project's.",
    },
    FigureSpec {
        id: "mw45",
        title: "Meta-World, 45 tasks: aggregate success and per-task curves",
        shows: "DCWM's success rate against the published DCWM, TD-MPC2, DreamerV3, SAC and TD-MPC runs",
        layout: Layout::Aggregate {
            bar_step: 1_000_000,
            x_max: 1_000_000,
        },
        tasks: MW45,
        agent: "dcwm",
        variants: DCWM_ONLY,
        sources: &[MW, TDMPC2, DREAMERV3, SAC, TDMPC],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["mw-reach-wall"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "Runs need the Meta-World suite, not yet in this project. The paper's notebook is not published: the layout is this project's.",
    },
    FigureSpec {
        id: "fig3-latent-space",
        title: "Fig. 3: latent space (discrete + cross-entropy ablation), 10 DMC tasks",
        shows: "discrete, continuous and SimNorm latents with cross-entropy or MSE consistency losses",
        layout: Layout::Aggregate {
            bar_step: 500_000,
            x_max: 1_000_000,
        },
        tasks: ABLATION_DMC10,
        agent: "dcwm",
        variants: LATENT_SPACE,
        sources: &[by_label("dcwm/ablations/latent-space")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "Only the DMC half: the 10 Meta-World tasks wait for the Meta-World suite.",
    },
    FigureSpec {
        id: "fig4-discrete-encodings",
        title: "Fig. 4: discrete encodings (codes, label, one-hot)",
        shows: "how the FSQ code is fed to the networks: codes (DCWM), a label index, or one-hot",
        layout: Layout::PerTask {
            x_max: 1_500_000,
            active_codes: false,
        },
        tasks: &["dog-run", "humanoid-walk"],
        agent: "dcwm",
        variants: &[
            Variant {
                label: "Codes (DCWM)",
                published: Some("codes"),
                set: Some(&[("dcwm.discrete_encoding", "codes")]),
                missing: "",
            },
            Variant {
                label: "Label",
                published: Some("indices"),
                set: Some(&[("dcwm.discrete_encoding", "label")]),
                missing: "",
            },
            Variant {
                label: "One-hot",
                published: Some("one-hot"),
                set: Some(&[("dcwm.discrete_encoding", "one-hot")]),
                missing: "",
            },
        ],
        sources: &[by_label("dcwm/ablations/discrete-encodings")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_500_000),
        ],
        notes: "The paper's second row (against wall-clock hours) is not drawn yet; the runs record wall_time_s.",
    },
    FigureSpec {
        id: "fig7-codebook-size",
        title: "Fig. 7: codebook size (FSQ levels)",
        shows: "episode return and active codes for FSQ levels [8], [5,3], [8,4], [8,8]",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: true,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "L=[8]",
                published: Some("[8]"),
                set: Some(&[("dcwm.fsq_levels", "[8]")]),
                missing: "",
            },
            Variant {
                label: "L=[5,3]",
                published: Some("[5, 3]"),
                set: Some(&[("dcwm.fsq_levels", "[5, 3]")]),
                missing: "",
            },
            Variant {
                label: "L=[8,4]",
                published: Some("[8, 4]"),
                set: Some(&[("dcwm.fsq_levels", "[8, 4]")]),
                missing: "",
            },
            Variant {
                label: "L=[8,8]",
                published: Some("[8, 8]"),
                set: Some(&[("dcwm.fsq_levels", "[8, 8]")]),
                missing: "",
            },
        ],
        sources: &[by_label("dcwm/sensitivity/codebook-size")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "",
    },
    FigureSpec {
        id: "fig8-latent-dim",
        title: "Fig. 8: latent dimension",
        shows: "episode return and active codes for d = 128, 256, 512, 1024",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: true,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "d=128",
                published: Some("128"),
                set: Some(&[("dcwm.latent_dim", "128")]),
                missing: "",
            },
            Variant {
                label: "d=256",
                published: Some("256"),
                set: Some(&[("dcwm.latent_dim", "256")]),
                missing: "",
            },
            Variant {
                label: "d=512",
                published: Some("512"),
                set: Some(&[("dcwm.latent_dim", "512")]),
                missing: "",
            },
            Variant {
                label: "d=1024",
                published: Some("1024"),
                set: Some(&[("dcwm.latent_dim", "1024")]),
                missing: "",
            },
        ],
        sources: &[by_label("dcwm/sensitivity/latent-dimension")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "",
    },
    FigureSpec {
        id: "fig11-redq",
        title: "Fig. 11: REDQ-style 5 critics vs double Q",
        shows: "an ensemble of N_q = 5 critics (DCWM) against N_q = 2",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: false,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "N_q=5 (DCWM)",
                published: Some("$N_q=5$"),
                set: Some(&[("dcwm.num_critics", "5")]),
                missing: "",
            },
            Variant {
                label: "N_q=2",
                published: Some("$N_q=2$"),
                set: Some(&[("dcwm.num_critics", "2")]),
                missing: "",
            },
        ],
        sources: &[by_label("dcwm/ablations/redq-vs-double-q")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_000_000),
        ],
        notes: "",
    },
    FigureSpec {
        id: "fig6-tdmpc2-with-dcwm",
        title: "Fig. 6: TD-MPC2 with DCWM's world model, 10 DMC tasks",
        shows: "TD-MPC2, TD-MPC2 with an FSQ latent, and DCWM",
        layout: Layout::Aggregate {
            bar_step: 1_000_000,
            x_max: 1_000_000,
        },
        tasks: ABLATION_DMC10,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "DCWM",
                published: Some("DCWM"),
                set: None,
                missing: "published only: the figure compares it with variants this project lacks",
            },
            Variant {
                label: "TD-MPC2",
                published: Some("TD-MPC2"),
                set: None,
                missing: "needs a TD-MPC2 agent",
            },
            Variant {
                label: "TD-MPC2 w/ FSQ",
                published: Some("TD-MPC2 w/ FSQ"),
                set: None,
                missing: "needs a TD-MPC2 agent",
            },
        ],
        sources: &[by_label("dcwm/ablations/tdmpc2-with-dcwm")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only. The 10 Meta-World tasks are left out like Fig. 3's.",
    },
    FigureSpec {
        id: "fig9-continuous-vs-stochastic",
        title: "Fig. 9: continuous and stochastic latents",
        shows: "MSE, FSQ+MSE, Gaussian and GMM latents with log-likelihood, and DCWM",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: false,
        },
        tasks: &["dog-run", "dog-walk", "humanoid-walk"],
        agent: "dcwm",
        variants: &[
            Variant {
                label: "FSQ+log-lik. (DCWM)",
                published: Some("DCWM"),
                set: None,
                missing: "published only: the figure compares it with variants this project lacks",
            },
            Variant {
                label: "MSE",
                published: Some("Deterministic-MSE"),
                set: None,
                missing: "needs the official use_delta switch",
            },
            Variant {
                label: "FSQ+MSE",
                published: Some("FSQ-MSE"),
                set: None,
                missing: "needs the official use_delta switch",
            },
            Variant {
                label: "Gaussian+log-lik.",
                published: Some("Gaussian"),
                set: None,
                missing: "needs a Gaussian latent",
            },
            Variant {
                label: "GMM+log-lik.",
                published: Some("GMM-Rsample-NLL"),
                set: None,
                missing: "needs a Gaussian-mixture latent",
            },
        ],
        sources: &[by_label("dcwm/ablations/latent-space-cont-stoch")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only; the mw-assembly panel waits for the Meta-World suite.",
    },
    FigureSpec {
        id: "fig10-fsq-vq",
        title: "Fig. 10: FSQ vs VQ",
        shows: "FSQ codes (DCWM) against a VQ codebook, weighted average or sampled",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: false,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "FSQ (DCWM)",
                published: Some("codes"),
                set: None,
                missing: "published only: the figure compares it with variants this project lacks",
            },
            Variant {
                label: "VQ weighted-avg",
                published: Some("vq-weighted-avg"),
                set: None,
                missing: "needs a VQ codebook",
            },
            Variant {
                label: "VQ sample",
                published: Some("vq-sample"),
                set: None,
                missing: "needs a VQ codebook",
            },
        ],
        sources: &[by_label("dcwm/ablations/fsq-vq")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only.",
    },
    FigureSpec {
        id: "fig19-dreamerv3-fsq",
        title: "Fig. 19: DreamerV3 with FSQ",
        shows: "DreamerV3 with an FSQ latent (d=32, L=[8,4]) or its one-hot latent, and DCWM",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: false,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "DCWM",
                published: Some("DCWM (ours)"),
                set: None,
                missing: "published only: the figure compares it with variants this project lacks",
            },
            Variant {
                label: "DreamerV3 one-hot",
                published: Some("One-hot,d=32,c=32"),
                set: None,
                missing: "needs a DreamerV3 agent",
            },
            Variant {
                label: "DreamerV3 FSQ",
                published: Some("FSQ,d=32,c=[8, 4]"),
                set: None,
                missing: "needs a DreamerV3 agent",
            },
        ],
        sources: &[by_label("dcwm/ablations/dreamerv3-with-fsq")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only.",
    },
    FigureSpec {
        id: "fig20-reconstruction",
        title: "Fig. 20: reconstruction harms performance",
        shows: "DCWM with an observation-reconstruction loss against DCWM",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            active_codes: false,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            Variant {
                label: "DCWM",
                published: Some("DCWM (ours)"),
                set: None,
                missing: "published only: the figure compares it with variants this project lacks",
            },
            Variant {
                label: "DCWM w/ reconstruction",
                published: Some("DCWM w/ reconstruction"),
                set: None,
                missing: "needs a decoder and reconstruction loss",
            },
        ],
        sources: &[by_label("dcwm/ablations/reconstruction-harms-performance")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only.",
    },
];

/// The figure with this id, or an error listing the ids.
pub fn find(id: &str) -> anyhow::Result<&'static FigureSpec> {
    FIGURES.iter().find(|f| f.id == id).ok_or_else(|| {
        let ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        anyhow::anyhow!("unknown figure '{id}' (known: {})", ids.join(", "))
    })
}
