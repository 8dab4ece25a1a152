//! Experiment files: a sweep of agents × tasks × grid variants × seeds,
//! its named budgets, task suites, the expansion into runs and shards.
//!
//! An experiment's run settings patch the defaults and a budget's patch the
//! experiment's; every run then resolves as a single run does (agent
//! defaults for the task, then `set:`, the grid variant and `--set`), and
//! `{seed}` and `{results}` in its agent settings' strings are filled in
//! ([`fill_run_placeholders`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_yaml::Value;

use super::{
    Origin, Override, RunConfig, RunSettings, agent_defaults, apply_overrides, configs_dir,
    is_run_key, line_of, other_agents, resolve, take_run_defaults, undeprecated, yaml_error,
    yaml_label,
};

/// Seeds: a count `n` (seeds 1..=n) or an explicit list.
#[derive(Debug, Clone, PartialEq)]
pub enum Seeds {
    /// Seeds 1..=n.
    Count(u64),
    /// These seeds.
    List(Vec<u64>),
}

impl Seeds {
    /// The seed list.
    pub fn list(&self) -> Vec<u64> {
        match self {
            Seeds::Count(n) => (1..=*n).collect(),
            Seeds::List(l) => l.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SeedsVisitor;
        impl<'de> serde::de::Visitor<'de> for SeedsVisitor {
            type Value = Seeds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count n (seeds 1..=n) or a list of seeds, whole numbers from 0")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Seeds, E> {
                Ok(Seeds::Count(n))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Seeds, A::Error> {
                let mut list = Vec::new();
                while let Some(seed) = seq.next_element::<Value>()? {
                    match seed.as_u64() {
                        Some(s) => list.push(s),
                        None => {
                            return Err(serde::de::Error::custom(format_args!(
                                "seed {} is not a whole number from 0",
                                super::yaml_inline(&seed)
                            )));
                        }
                    }
                }
                Ok(Seeds::List(list))
            }
        }
        d.deserialize_any(SeedsVisitor)
    }
}

/// A named budget: replaces the experiment's seeds, tasks and any run
/// settings (`steps`, `eval_every`, ...), and adds agent overrides (`set:`,
/// after the experiment's).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Budget {
    /// Seeds (count or list).
    #[serde(default)]
    pub seeds: Option<Seeds>,
    /// Tasks instead of the experiment's (a subset, usually).
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
    /// Overrides applied after the experiment's `set:` (`dcwm.mlp_dims: [64]`).
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    /// Run settings it sets.
    #[serde(flatten)]
    pub run: BTreeMap<String, Value>,
}

/// Built-in budgets (an experiment's `budgets:` entry of the same name wins).
/// `paper` is the experiment as written.
pub fn builtin_budget(name: &str) -> Option<Budget> {
    let (seeds, run) = match name {
        "smoke" => (
            1,
            "{steps: 4000, eval_every: 2000, eval_episodes: 2, checkpoint_every: 2000}",
        ),
        "short" => (3, "{steps: 100000, eval_every: 10000}"),
        "paper" => return Some(Budget::default()),
        _ => return None,
    };
    Some(Budget {
        seeds: Some(Seeds::Count(seeds)),
        run: serde_yaml::from_str(run).ok()?,
        ..Budget::default()
    })
}

/// An experiment file (`configs/experiments/*.yaml`): a sweep of agents ×
/// tasks × grid variants × seeds. Its other keys are run settings
/// ([`RunSettings`]: `steps`, which it must give, `eval_every`, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct Experiment {
    /// Name; results go to `<results>/<name>/`.
    pub name: String,
    /// Agents to run.
    pub agents: Vec<String>,
    /// Tasks.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Suites (`configs/suites/<name>.yaml`), expanded after `tasks`.
    #[serde(default)]
    pub suites: Vec<String>,
    /// Seeds (count or list).
    pub seeds: Seeds,
    /// Fixed overrides for all runs (`dcwm.latent_dim: 512`).
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    /// Grid of overrides; each combination is a variant.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<Value>>,
    /// Named variants, each a set of overrides (`codes: {dcwm.discrete_encoding:
    /// codes}`); crossed with the grid. A variant's name is its directory and
    /// its label in reports. An agent runs the variants that set one of its
    /// keys or a run setting (or nothing), and once without a variant when
    /// none does.
    #[serde(default)]
    pub variants: BTreeMap<String, BTreeMap<String, Value>>,
    /// Named budgets.
    #[serde(default)]
    pub budgets: BTreeMap<String, Budget>,
    /// Run settings.
    #[serde(flatten)]
    pub run: BTreeMap<String, Value>,
}

/// A task suite file (`configs/suites/*.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Suite name.
    pub name: String,
    /// Task names.
    pub tasks: Vec<String>,
}

/// A loaded and validated experiment.
#[derive(Debug, Clone)]
pub struct LoadedExperiment {
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub experiment: Experiment,
    /// Canonical tasks, suites expanded, duplicates removed, in order.
    pub tasks: Vec<String>,
    /// Each agent's defaults.
    pub defaults: BTreeMap<String, Value>,
    text: String,
}

/// The first item of `items` that an earlier one equals.
fn first_repeat<T: PartialEq>(items: &[T]) -> Option<&T> {
    (items.iter().enumerate()).find_map(|(i, x)| items[..i].contains(x).then_some(x))
}

/// Reads a suite by name (`configs/suites/<name>.yaml`) or path.
pub fn load_suite(name: &str) -> Result<Suite> {
    let path = if name.ends_with(".yaml") || name.contains('/') {
        PathBuf::from(name)
    } else {
        configs_dir().join("suites").join(format!("{name}.yaml"))
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading suite '{name}' ({})", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| yaml_error(&path, &e))
}

/// Reads and validates an experiment file: YAML shape, agents, tasks,
/// suites, and every `set:`/`grid:` key.
pub fn load_experiment(path: &Path) -> Result<LoadedExperiment> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading experiment {}", path.display()))?;
    let experiment: Experiment = serde_yaml::from_str(&text).map_err(|e| yaml_error(path, &e))?;
    let at = |needle: &str| Origin::File(path.to_path_buf(), line_of(&text, needle));
    // Its run settings and its budgets' must be run settings of the right type.
    RunSettings::default().patched(&experiment.run, &at)?;
    for budget in experiment.budgets.values() {
        RunSettings::default().patched(&budget.run, &at)?;
    }
    if !experiment.run.contains_key("steps") {
        bail!(
            "{}: missing key 'steps' (env steps per run)",
            path.display()
        );
    }
    let name = &experiment.name;
    let name_ok = !name.starts_with('.')
        && !name.is_empty()
        && (name.chars()).all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !name_ok {
        bail!(
            "{}: name '{name}' names the results directory: use letters, digits, '.', '_' and '-', \
             not starting with '.'",
            at("name")
        );
    }
    if experiment.agents.is_empty() {
        bail!("{}: 'agents' is empty", at("agents"));
    }
    if let Some(a) = first_repeat(&experiment.agents) {
        bail!("{}: agent '{a}' is listed twice", at("agents"));
    }
    let mut defaults = BTreeMap::new();
    for a in &experiment.agents {
        agents::registry::find(a).map_err(|e| anyhow!("{}: {e}", at(a)))?;
        defaults.insert(a.clone(), agent_defaults(a)?);
    }
    let mut names: Vec<(String, Origin)> = experiment
        .tasks
        .iter()
        .map(|t| (t.clone(), at(t)))
        .collect();
    for s in &experiment.suites {
        let suite = load_suite(s).map_err(|e| anyhow!("{}: {e:#}", at(s)))?;
        names.extend(suite.tasks.into_iter().map(|t| (t, at(s))));
    }
    let mut tasks: Vec<String> = Vec::new();
    for (t, origin) in names {
        let def = envs::find(&t).map_err(|e| anyhow!("{origin}: {e}"))?;
        if !tasks.iter().any(|x| x == def.name) {
            tasks.push(def.name.to_string());
        }
    }
    if tasks.is_empty() {
        bail!("{}: no tasks: give 'tasks' or 'suites'", path.display());
    }
    for (key, values) in &experiment.grid {
        if values.is_empty() {
            bail!("{}: grid key '{key}' has no values", at(key));
        }
        // Two equal values would be one run directory written twice.
        if let Some(v) = first_repeat(values) {
            bail!(
                "{}: grid key '{key}' lists {} twice",
                at(key),
                crate::config::yaml_inline(v)
            );
        }
    }
    for name in experiment.variants.keys() {
        if name.is_empty() || name.contains(['/', ' ', ',', '=']) {
            bail!(
                "{}: variant name '{name}' must be non-empty, without '/', ' ', ',' or '='",
                at(name)
            );
        }
    }
    let budget_seeds = (experiment.budgets.values()).filter_map(|b| b.seeds.as_ref());
    for seeds in std::iter::once(&experiment.seeds).chain(budget_seeds) {
        let list = seeds.list();
        if list.is_empty() {
            bail!("{}: 'seeds' is empty", at("seeds"));
        }
        if let Some(s) = first_repeat(&list) {
            bail!("{}: seed {s} is listed twice", at("seeds"));
        }
    }
    let loaded = LoadedExperiment {
        path: path.to_path_buf(),
        experiment,
        tasks,
        defaults,
        text,
    };
    // Check every set/grid key (and value type) against each agent.
    for agent in &loaded.experiment.agents {
        let mut overrides = loaded.file_overrides(&loaded.experiment.set);
        for (k, vs) in &loaded.experiment.grid {
            overrides.extend(vs.iter().map(|v| Override {
                key: k.clone(),
                value: v.clone(),
                origin: loaded.origin_of(k),
            }));
        }
        for v in loaded.experiment.variants.values() {
            overrides.extend(loaded.file_overrides(v));
        }
        for b in loaded.experiment.budgets.values() {
            overrides.extend(loaded.file_overrides(&b.set));
        }
        let mut cfg = loaded.defaults[agent].clone();
        take_run_defaults(&mut cfg);
        let mut run = RunSettings::default();
        let others = other_agents(agent, &loaded.experiment.agents);
        let overrides = overrides
            .iter()
            .map(|o| undeprecated(o, &loaded.tasks[0]))
            .collect::<Result<Vec<_>>>()?;
        apply_overrides(agent, &mut run, &mut cfg, &overrides, &others, false)?;
    }
    Ok(loaded)
}

/// One run of a sweep, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// The resolved config.
    pub config: RunConfig,
    /// Output directory.
    pub dir: PathBuf,
}

impl PlannedRun {
    /// `task/agent[/variant]/seed-n`.
    pub fn label(&self) -> String {
        let c = &self.config;
        match &c.variant {
            Some(v) => format!("{}/{}/{v}/seed-{}", c.task, c.agent, c.seed),
            None => format!("{}/{}/seed-{}", c.task, c.agent, c.seed),
        }
    }
}

/// Output directory of a run: `<results>/<experiment>/<task>/<agent>[/<variant>]/seed-<n>`.
pub fn run_dir(results: &Path, c: &RunConfig) -> PathBuf {
    let mut d = results.join(&c.experiment).join(&c.task).join(&c.agent);
    if let Some(v) = &c.variant {
        d = d.join(v);
    }
    d.join(format!("seed-{}", c.seed))
}

impl LoadedExperiment {
    fn origin_of(&self, key: &str) -> Origin {
        Origin::File(self.path.clone(), line_of(&self.text, key))
    }

    fn file_overrides(&self, map: &BTreeMap<String, Value>) -> Vec<Override> {
        map.iter()
            .map(|(k, v)| Override {
                key: k.clone(),
                value: v.clone(),
                origin: self.origin_of(k),
            })
            .collect()
    }

    /// Expands to runs in a fixed order: task × agent × variant × seed.
    pub fn expand(
        &self,
        budget: Option<&str>,
        cli: &[Override],
        results: &Path,
    ) -> Result<Vec<PlannedRun>> {
        let e = &self.experiment;
        let context = format!(
            "{}{}",
            self.path.display(),
            budget.map(|b| format!(" (budget {b})")).unwrap_or_default()
        );
        let budget = match budget {
            None => Budget::default(),
            Some(b) => match e.budgets.get(b).cloned().or_else(|| builtin_budget(b)) {
                Some(b) => b,
                None => {
                    let mut known: Vec<&str> = vec!["smoke", "short", "paper"];
                    known.extend(e.budgets.keys().map(String::as_str));
                    known.sort();
                    known.dedup();
                    bail!("unknown budget '{b}' (known: {})", known.join(", "));
                }
            },
        };
        // Run settings: defaults < the experiment's < the budget's.
        let at = |key: &str| self.origin_of(key);
        let base = RunSettings::default()
            .patched(&e.run, &at)?
            .patched(&budget.run, &at)?;
        base.warn_unreached_eval_at(&context);
        let seeds = budget.seeds.as_ref().unwrap_or(&e.seeds).list();
        let mut set = self.file_overrides(&e.set);
        set.extend(self.file_overrides(&budget.set));
        let tasks = match &budget.tasks {
            None => self.tasks.clone(),
            Some(names) => names
                .iter()
                .map(|t| {
                    envs::find(t)
                        .map(|d| d.name.to_string())
                        .map_err(|err| anyhow!("{}: {err}", at(t)))
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let mut runs = Vec::new();
        for task in &tasks {
            for agent in &e.agents {
                let others = other_agents(agent, &e.agents);
                // The grid keys that apply to this agent: its own and run-level.
                let grid: Vec<(&String, &Vec<Value>)> = e
                    .grid
                    .iter()
                    .filter(|(k, _)| {
                        let first = k.split('.').next().unwrap_or("");
                        first == agent || is_run_key(first)
                    })
                    .collect();
                // The named variants that set something for this agent (its
                // own keys or run settings); an agent that none of them
                // touches (the SAC baseline beside bprior's variants) runs
                // once, unnamed.
                let touches = |set: &BTreeMap<String, Value>| {
                    set.is_empty()
                        || set.keys().any(|k| {
                            let first = k.split('.').next().unwrap_or("");
                            first == agent || is_run_key(first)
                        })
                };
                let named: Vec<(Option<&String>, Vec<Override>)> = e
                    .variants
                    .iter()
                    .filter(|(_, set)| touches(set))
                    .map(|(name, set)| (Some(name), self.file_overrides(set)))
                    .collect();
                let named = if named.is_empty() {
                    vec![(None, Vec::new())]
                } else {
                    named
                };
                for (name, named_overrides) in &named {
                    for combo in cartesian(&grid.iter().map(|(_, v)| v.len()).collect::<Vec<_>>()) {
                        let variant_overrides: Vec<Override> = grid
                            .iter()
                            .zip(&combo)
                            .map(|((k, vs), &i)| Override {
                                key: (*k).clone(),
                                value: vs[i].clone(),
                                origin: self.origin_of(k),
                            })
                            .collect();
                        let grid_label = (!variant_overrides.is_empty()).then(|| {
                            variant_overrides
                                .iter()
                                .map(|o| {
                                    let short = o.key.rsplit('.').next().unwrap_or(&o.key);
                                    format!("{short}={}", yaml_label(&o.value))
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                                .replace(['/', ' '], "_")
                        });
                        let variant = match (name, grid_label) {
                            (Some(n), Some(g)) => Some(format!("{n},{g}")),
                            (Some(n), None) => Some((*n).clone()),
                            (None, g) => g,
                        };
                        let all: Vec<Override> = set
                            .iter()
                            .chain(named_overrides)
                            .chain(&variant_overrides)
                            .chain(cli)
                            .cloned()
                            .collect();
                        let defaults = &self.defaults[agent];
                        let (run, cfg) =
                            resolve(agent, task, defaults, &base, &all, &others, false)?;
                        for &seed in &seeds {
                            let config = RunConfig {
                                experiment: e.name.clone(),
                                agent: agent.clone(),
                                task: task.clone(),
                                seed,
                                variant: variant.clone(),
                                run: run.clone(),
                                agent_config: cfg.clone(),
                            }
                            .resolved()
                            .map_err(|e| anyhow!("{}: {e}", self.origin_of("action_repeat")))?;
                            let config = RunConfig {
                                agent_config: fill_run_placeholders(
                                    &config.agent_config,
                                    seed,
                                    results,
                                ),
                                ..config
                            };
                            let dir = run_dir(results, &config);
                            runs.push(PlannedRun { config, dir });
                        }
                    }
                }
            }
        }
        Ok(runs)
    }
}

/// The agent config with `{seed}` (the run's seed) and `{results}` (the
/// sweep's results folder) filled in wherever a string value holds them, so
/// a run can name another experiment's run of the same seed
/// (`bprior.prior_from: "{results}/source/cartpole-swingup/bprior/seed-{seed}"`).
/// The run's config.yaml records the filled-in values.
pub fn fill_run_placeholders(v: &Value, seed: u64, results: &Path) -> Value {
    match v {
        Value::String(s) if s.contains('{') => Value::String(
            s.replace("{seed}", &seed.to_string())
                .replace("{results}", &results.display().to_string()),
        ),
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|x| fill_run_placeholders(x, seed, results))
                .collect(),
        ),
        Value::Mapping(m) => Value::Mapping(
            m.iter()
                .map(|(k, x)| (k.clone(), fill_run_placeholders(x, seed, results)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// All index combinations for dimensions of the given sizes (one empty
/// combination for no dimensions).
fn cartesian(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &n in sizes {
        out = out
            .into_iter()
            .flat_map(|c| {
                (0..n).map(move |i| {
                    let mut c = c.clone();
                    c.push(i);
                    c
                })
            })
            .collect();
    }
    out
}

/// A shard `i/n` (0 ≤ i < n): runs whose index in the expanded order is ≡ i mod n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's index, 0-based.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("invalid shard '{s}': expected i/n with 0 <= i < n (e.g. 0/4)");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let index: usize = i.trim().parse().map_err(|_| err())?;
        let count: usize = n.trim().parse().map_err(|_| err())?;
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Keeps this shard's runs.
    pub fn select<T>(&self, runs: Vec<T>) -> Vec<T> {
        runs.into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index)
            .map(|(_, r)| r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover() {
        let all: Vec<usize> = (0..11).collect();
        let mut seen = vec![];
        for i in 0..3 {
            seen.extend(Shard { index: i, count: 3 }.select(all.clone()));
        }
        seen.sort();
        assert_eq!(seen, all);
        assert!("3/3".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
    }

    #[test]
    fn run_placeholders_are_filled_in_strings_only() {
        let v: Value = serde_yaml::from_str(
            "{prior_from: '{results}/src/seed-{seed}', n: 3, l: ['{seed}', 2], m: {k: '{seed}'}}",
        )
        .unwrap();
        let f = fill_run_placeholders(&v, 4, Path::new("/r"));
        let want: Value =
            serde_yaml::from_str("{prior_from: /r/src/seed-4, n: 3, l: ['4', 2], m: {k: '4'}}")
                .unwrap();
        assert_eq!(f, want);
    }

    #[test]
    fn cartesian_product() {
        assert_eq!(cartesian(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(cartesian(&[2, 2]).len(), 4);
    }
}
