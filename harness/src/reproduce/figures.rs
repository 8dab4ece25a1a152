//! The table of figures ([`FIGURES`]): each figure of the DCWM paper that
//! `ctrlbench reproduce` draws, with its variants' overrides and published
//! labels (as in the paper's data files and notebooks), its sources, panels
//! and budgets. The types are in [`super::registry`].

use super::registry::{
    ABLATION_DMC10, BudgetSpec, DMC30, ExtraRow, FigureSpec, Layout, MW45, SENSITIVITY4, Source,
    Variant,
};

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
/// TD-MPC's own curve (its repository's `results/`): every 20k env steps,
/// 5 seeds, where TD-MPC2's copy has every 100k.
const TDMPC_20K: Source = Source {
    file: "tdmpc/{task}",
    series: Some("TD-MPC"),
};

/// A variant this project runs with `set`, published as `published`.
const fn runs(
    label: &'static str,
    published: &'static str,
    set: &'static [(&'static str, &'static str)],
) -> Variant {
    Variant {
        label,
        published: Some(published),
        set: Some(set),
        missing: "",
    }
}

/// A variant shown from its published data only; `missing` says why.
const fn published_only(
    label: &'static str,
    published: &'static str,
    missing: &'static str,
) -> Variant {
    Variant {
        label,
        published: Some(published),
        set: None,
        missing,
    }
}

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
        eval_at: &[],
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
        eval_at: &[],
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
        eval_at: &[],
        tasks: None,
        set: &[],
        says: PAPER_SAYS,
    }
}

const DCWM_ONLY: &[Variant] = &[runs("DCWM", "DCWM", DCWM_DEFAULT)];

const LATENT_SPACE: &[Variant] = &[
    runs("Discrete+CE+stoch (DCWM)", "DCWM", DCWM_DEFAULT),
    published_only(
        "Discrete+CE+det",
        "FSQ+cross-entropy+mse+delta",
        "needs the official use_delta and ce_logits_mode switches",
    ),
    published_only(
        "Discrete+MSE",
        "FSQ+mse+standard+delta",
        "needs the official use_delta switch",
    ),
    published_only(
        "SimNorm+MSE",
        "SimNorm+mse",
        "needs a SimNorm latent (TD-MPC2)",
    ),
    published_only(
        "Continuous+MSE",
        "Cont+mse+standard",
        "needs the official use_delta switch",
    ),
    published_only(
        "Continuous+MSE+delta",
        "Cont+mse+standard+delta",
        "needs the official use_delta switch",
    ),
];

/// Smoke on walker-walk, short, and the paper's 1M env steps.
const WALKER_SMOKE_1M: &[BudgetSpec] = &[
    dcwm_smoke(&["walker-walk"]),
    dcwm_short(),
    dcwm_paper(1_000_000),
];

/// Every figure, `make run`'s first.
pub static FIGURES: &[FigureSpec] = &[
    FigureSpec {
        id: "sac-cartpole-swingup",
        title: "SAC on cartpole-swingup at 100k env steps",
        shows: "this project's SAC against the published SAC (TD-MPC2's baselines) and DCWM curves",
        layout: Layout::PerTask {
            x_max: 100_000,
            extra_row: ExtraRow::None,
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
                eval_at: &[],
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
                eval_at: &[],
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
                eval_at: &[],
                tasks: None,
                set: &[],
                says: PAPER_SAYS,
            },
        ],
        notes: "",
    },
    FigureSpec {
        id: "pets-cartpole-swingup",
        title: "PETS on cartpole-swingup at action repeat 8",
        shows: "this project's PETS (the learning check of configs/experiments/pets-check.yaml) beside the published TD-MPC and SAC curves; no published PETS numbers on DMC state tasks exist",
        layout: Layout::PerTask {
            x_max: 100_000,
            extra_row: ExtraRow::None,
        },
        tasks: &["cartpole-swingup"],
        agent: "pets",
        variants: &[Variant {
            label: "PETS",
            published: None,
            set: Some(&[]),
            missing: "",
        }],
        sources: &[TDMPC_20K, SAC],
        published_seeds: &[1, 2, 3, 4, 5],
        budgets: &[
            BudgetSpec {
                name: "smoke",
                steps: 4000,
                seeds: 1,
                eval_every: 0,
                eval_episodes: 2,
                eval_at: &[4000],
                tasks: None,
                set: &[
                    ("pets.population", "64"),
                    ("pets.num_particles", "5"),
                    ("pets.horizon", "10"),
                    ("pets.iterations", "3"),
                ],
                says: SMOKE_SAYS,
            },
            BudgetSpec {
                name: "short",
                steps: 20_000,
                seeds: 3,
                eval_every: 0,
                eval_episodes: 5,
                eval_at: &[20_000],
                tasks: None,
                set: &[],
                says: "short: 20k env steps, 3 seeds, mbrl-lib's cartpole sizes",
            },
            BudgetSpec {
                name: "paper",
                steps: 100_000,
                seeds: 3,
                eval_every: 0,
                eval_episodes: 5,
                eval_at: &[20_000, 40_000, 60_000, 80_000, 100_000],
                tasks: None,
                set: &[],
                says: "paper: 100k env steps, 3 seeds, mbrl-lib's cartpole sizes",
            },
        ],
        notes: "PETS plans every action in evaluation too, so it is evaluated only at the listed steps; its training episodes (train.csv) are its learning curve, as mbrl-lib reports them.",
    },
    FigureSpec {
        id: "dmc30",
        title: "DMControl, 30 tasks: aggregate and per-task curves (layout: this project's, the paper's notebook is not published)",
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
        title: "Meta-World, 45 tasks: aggregate success and per-task curves (layout: this project's, the paper's notebook is not published)",
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
        budgets: WALKER_SMOKE_1M,
        notes: "Only the DMC half: the 10 Meta-World tasks wait for the Meta-World suite.",
    },
    FigureSpec {
        id: "fig4-discrete-encodings",
        title: "Fig. 4: discrete encodings (codes, label, one-hot)",
        shows: "how the FSQ code is fed to the networks: codes (DCWM), a label index, or one-hot",
        layout: Layout::PerTask {
            x_max: 1_500_000,
            extra_row: ExtraRow::WallClock,
        },
        tasks: &["dog-run", "humanoid-walk"],
        agent: "dcwm",
        variants: &[
            runs(
                "Codes (DCWM)",
                "codes",
                &[("dcwm.discrete_encoding", "codes")],
            ),
            runs("Label", "indices", &[("dcwm.discrete_encoding", "label")]),
            runs(
                "One-hot",
                "one-hot",
                &[("dcwm.discrete_encoding", "one-hot")],
            ),
        ],
        sources: &[by_label("dcwm/ablations/discrete-encodings")],
        published_seeds: &[1, 2, 3],
        budgets: &[
            dcwm_smoke(&["walker-walk"]),
            dcwm_short(),
            dcwm_paper(1_500_000),
        ],
        notes: "The second row plots the return against wall-clock hours: ours on the machine that ran them, the published runs' on the authors' GPU.",
    },
    FigureSpec {
        id: "fig7-codebook-size",
        title: "Fig. 7: codebook size (FSQ levels)",
        shows: "episode return and active codes for FSQ levels [8], [5,3], [8,4], [8,8]",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            extra_row: ExtraRow::ActiveCodes,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            runs("L=[8]", "[8]", &[("dcwm.fsq_levels", "[8]")]),
            runs("L=[5,3]", "[5, 3]", &[("dcwm.fsq_levels", "[5, 3]")]),
            runs("L=[8,4]", "[8, 4]", &[("dcwm.fsq_levels", "[8, 4]")]),
            runs("L=[8,8]", "[8, 8]", &[("dcwm.fsq_levels", "[8, 8]")]),
        ],
        sources: &[by_label("dcwm/sensitivity/codebook-size")],
        published_seeds: &[1, 2, 3],
        budgets: WALKER_SMOKE_1M,
        notes: "",
    },
    FigureSpec {
        id: "fig8-latent-dim",
        title: "Fig. 8: latent dimension",
        shows: "episode return and active codes for d = 128, 256, 512, 1024",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            extra_row: ExtraRow::ActiveCodes,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            runs("d=128", "128", &[("dcwm.latent_dim", "128")]),
            runs("d=256", "256", &[("dcwm.latent_dim", "256")]),
            runs("d=512", "512", &[("dcwm.latent_dim", "512")]),
            runs("d=1024", "1024", &[("dcwm.latent_dim", "1024")]),
        ],
        sources: &[by_label("dcwm/sensitivity/latent-dimension")],
        published_seeds: &[1, 2, 3],
        budgets: WALKER_SMOKE_1M,
        notes: "",
    },
    FigureSpec {
        id: "fig11-redq",
        title: "Fig. 11: REDQ-style 5 critics vs double Q",
        shows: "an ensemble of N_q = 5 critics (DCWM) against N_q = 2",
        layout: Layout::PerTask {
            x_max: 1_000_000,
            extra_row: ExtraRow::None,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            runs("N_q=5 (DCWM)", "$N_q=5$", &[("dcwm.num_critics", "5")]),
            runs("N_q=2", "$N_q=2$", &[("dcwm.num_critics", "2")]),
        ],
        sources: &[by_label("dcwm/ablations/redq-vs-double-q")],
        published_seeds: &[1, 2, 3],
        budgets: WALKER_SMOKE_1M,
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
            published_only(
                "DCWM",
                "DCWM",
                "published only: the figure compares it with variants this project lacks",
            ),
            published_only("TD-MPC2", "TD-MPC2", "needs a TD-MPC2 agent"),
            published_only("TD-MPC2 w/ FSQ", "TD-MPC2 w/ FSQ", "needs a TD-MPC2 agent"),
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
            extra_row: ExtraRow::None,
        },
        tasks: &["dog-run", "dog-walk", "humanoid-walk"],
        agent: "dcwm",
        variants: &[
            published_only(
                "FSQ+log-lik. (DCWM)",
                "DCWM",
                "published only: the figure compares it with variants this project lacks",
            ),
            published_only(
                "MSE",
                "Deterministic-MSE",
                "needs the official use_delta switch",
            ),
            published_only("FSQ+MSE", "FSQ-MSE", "needs the official use_delta switch"),
            published_only("Gaussian+log-lik.", "Gaussian", "needs a Gaussian latent"),
            published_only(
                "GMM+log-lik.",
                "GMM-Rsample-NLL",
                "needs a Gaussian-mixture latent",
            ),
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
            extra_row: ExtraRow::None,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            published_only(
                "FSQ (DCWM)",
                "codes",
                "published only: the figure compares it with variants this project lacks",
            ),
            published_only("VQ weighted-avg", "vq-weighted-avg", "needs a VQ codebook"),
            published_only("VQ sample", "vq-sample", "needs a VQ codebook"),
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
            extra_row: ExtraRow::None,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            published_only(
                "DCWM",
                "DCWM (ours)",
                "published only: the figure compares it with variants this project lacks",
            ),
            published_only(
                "DreamerV3 one-hot",
                "One-hot,d=32,c=32",
                "needs a DreamerV3 agent",
            ),
            published_only(
                "DreamerV3 FSQ",
                "FSQ,d=32,c=[8, 4]",
                "needs a DreamerV3 agent",
            ),
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
            extra_row: ExtraRow::None,
        },
        tasks: SENSITIVITY4,
        agent: "dcwm",
        variants: &[
            published_only(
                "DCWM",
                "DCWM (ours)",
                "published only: the figure compares it with variants this project lacks",
            ),
            published_only(
                "DCWM w/ reconstruction",
                "DCWM w/ reconstruction",
                "needs a decoder and reconstruction loss",
            ),
        ],
        sources: &[by_label("dcwm/ablations/reconstruction-harms-performance")],
        published_seeds: &[1, 2, 3],
        budgets: &[],
        notes: "Published data only.",
    },
];
