//! YAML configuration: run settings, agent defaults, `--set` overrides and
//! experiment files (sweeps with grids and named budgets).
//!
//! Precedence, lowest first: agent defaults (`configs/agents/<agent>.yaml`) and
//! run defaults < experiment fields < budget < experiment `set:` < `grid:`
//! variant < `--set` on the command line. Keys are dotted paths: a run setting
//! (`steps`, `eval_every`, ...) or `<agent>.<key>` for an agent's config (in
//! `train`, a bare agent key works too). Unknown keys and wrong types are
//! errors naming the file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

/// Settings of one run besides the agent's own config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// Environment steps to train for (including action repeat).
    pub steps: u64,
    /// Evaluate every this many env steps (also at step 0 and at the end).
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
    /// Env steps of uniform random actions before the agent acts.
    pub seed_steps: u64,
    /// Checkpoint (for resume) at the first episode end after this many env
    /// steps since the last checkpoint.
    pub checkpoint_every: u64,
    /// Replay capacity in transitions; default: the whole run.
    pub buffer_capacity: Option<usize>,
    /// Environment steps per agent step; default: the suite's protocol (DMC
    /// 2). Episodes keep the suite's raw length (DMC: 1000 env steps). A
    /// run's `config.yaml` records the value it ran with.
    #[serde(default)]
    pub action_repeat: Option<u64>,
}

/// Names of the run-level keys (the fields of [`RunSettings`]).
pub const RUN_KEYS: &[&str] = &[
    "steps",
    "eval_every",
    "eval_episodes",
    "seed_steps",
    "checkpoint_every",
    "buffer_capacity",
    "action_repeat",
];

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            steps: 100_000,
            eval_every: 10_000,
            eval_episodes: 10,
            seed_steps: 0,
            checkpoint_every: 50_000,
            buffer_capacity: None,
            action_repeat: None,
        }
    }
}

/// The full resolved configuration of one run (written as `config.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Experiment name (`train` for single runs).
    pub experiment: String,
    /// Agent name.
    pub agent: String,
    /// Canonical task name.
    pub task: String,
    /// The run's seed.
    pub seed: u64,
    /// Grid variant (`latent_dim=128`), if any.
    pub variant: Option<String>,
    /// Run settings.
    pub run: RunSettings,
    /// The agent's resolved config.
    pub agent_config: Value,
}

impl RunConfig {
    /// The config with the suite's defaults filled in (the action repeat),
    /// as a run records it. Errors on an unknown task or a repeat of 0.
    pub fn resolved(mut self) -> Result<Self> {
        let protocol = self.protocol()?;
        self.run.action_repeat = Some(protocol.action_repeat as u64);
        Ok(self)
    }

    /// The task's benchmark protocol with this run's action repeat.
    pub fn protocol(&self) -> Result<envs::Protocol> {
        let suite = envs::protocol_of(&self.task)?;
        match self.run.action_repeat {
            None => Ok(suite),
            Some(0) => bail!("action_repeat must be at least 1"),
            Some(k) => Ok(suite.with_action_repeat(k as usize)),
        }
    }

    /// Whether `self` and `other` describe the same run once their suite
    /// defaults are filled in (a config.yaml written before the action
    /// repeat was recorded ran with the suite's).
    pub fn same_run(&self, other: &RunConfig) -> bool {
        match (self.clone().resolved(), other.clone().resolved()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self == other,
        }
    }
}

/// Where an override came from (for error messages).
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// `--set` on the command line.
    CommandLine,
    /// A key in a file, at a line.
    File(PathBuf, usize),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::CommandLine => f.write_str("--set"),
            Origin::File(p, line) => write!(f, "{}:{line}", p.display()),
        }
    }
}

/// One `key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key.
    pub key: String,
    /// YAML value.
    pub value: Value,
    /// Where it came from.
    pub origin: Origin,
}

impl Override {
    /// Parses `key=value` (value as YAML: `3`, `0.5`, `[8, 4]`, `true`, `abc`).
    pub fn parse_cli(s: &str) -> Result<Self> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {s}: expected key=value"))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            bail!("--set {s}: empty key");
        }
        let value: Value = serde_yaml::from_str(value)
            .with_context(|| format!("--set {s}: the value is not valid YAML"))?;
        Ok(Override {
            key: key.to_string(),
            value,
            origin: Origin::CommandLine,
        })
    }
}

/// The configs directory (`<project>/configs`).
pub fn configs_dir() -> PathBuf {
    crate::project_dir().join("configs")
}

/// Formats a serde_yaml error as `file:line: message`.
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> anyhow::Error {
    match e.location() {
        Some(l) => anyhow!("{}:{}: {e}", path.display(), l.line()),
        None => anyhow!("{}: {e}", path.display()),
    }
}

/// The 1-based line of the first occurrence of `needle` in `text` (for
/// errors about values that serde already accepted), else 1.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

/// An agent's defaults, read from `configs/agents/<agent>.yaml` and checked
/// against the agent's typed config.
pub fn agent_defaults(agent: &str) -> Result<Value> {
    let entry = agents::registry::find(agent)?;
    let path = configs_dir().join("agents").join(format!("{agent}.yaml"));
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading the defaults of agent '{agent}': {}",
            path.display()
        )
    })?;
    (entry.check_yaml)(&text).map_err(|e| yaml_error(&path, &e))?;
    let v: Value = serde_yaml::from_str(&text).map_err(|e| yaml_error(&path, &e))?;
    Ok(match v {
        Value::Null => Value::Mapping(Default::default()),
        v => v,
    })
}

/// An agent's defaults for one task: `configs/agents/<agent>.yaml` with the
/// task's entry of `configs/agents/<agent>.tasks.yaml` (when that file
/// exists) merged on top. Experiment and command-line overrides apply after.
pub fn agent_task_defaults(agent: &str, defaults: &Value, task: &str) -> Result<Value> {
    let path = configs_dir()
        .join("agents")
        .join(format!("{agent}.tasks.yaml"));
    let mut cfg = defaults.clone();
    if !path.exists() {
        return Ok(cfg);
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let tasks: BTreeMap<String, serde_yaml::Mapping> =
        serde_yaml::from_str(&text).map_err(|e| yaml_error(&path, &e))?;
    if let Some(entry) = tasks.get(task) {
        let (Value::Mapping(base), at) = (&mut cfg, line_of(&text, task)) else {
            bail!(
                "{}: the defaults of '{agent}' are not a mapping",
                path.display()
            );
        };
        for (k, v) in entry {
            let key = k.as_str().unwrap_or_default();
            match base.get(k) {
                Some(old) if same_kind(old, v) => {
                    base.insert(k.clone(), v.clone());
                }
                Some(old) => bail!(
                    "{}:{at}: {task}.{key} should be {}, got {}",
                    path.display(),
                    kind(old),
                    kind(v)
                ),
                None => bail!(
                    "{}:{at}: {task}: '{key}' is not a setting of agent '{agent}'",
                    path.display()
                ),
            }
        }
    }
    Ok(cfg)
}

/// Whether `new` may replace `old` (same YAML kind; integers where floats are).
fn same_kind(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Null, _) | (_, Value::Null) => true,
        (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) => true,
        (Value::Number(a), Value::Number(b)) => a.is_f64() || !b.is_f64(),
        (Value::Sequence(_), Value::Sequence(_)) | (Value::Mapping(_), Value::Mapping(_)) => true,
        _ => false,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Sets `path` in an agent config that must already have it (from defaults).
fn set_agent_key(agent: &str, config: &mut Value, path: &[&str], o: &Override) -> Result<()> {
    let mut node = config;
    for (i, part) in path.iter().enumerate() {
        let known: Vec<String> = node
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let Some(child) = node.get_mut(*part) else {
            bail!(
                "{}: unknown key '{}' for agent '{agent}' (known keys: {})",
                o.origin,
                o.key,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            );
        };
        if i + 1 == path.len() {
            if !same_kind(child, &o.value) {
                bail!(
                    "{}: key '{}' must be {} like its default, got {}",
                    o.origin,
                    o.key,
                    kind(child),
                    kind(&o.value)
                );
            }
            *child = o.value.clone();
            return Ok(());
        }
        node = child;
    }
    Ok(())
}

/// Applies overrides to one run: run-level keys to `run`, `<agent>.key` (or
/// a bare key of this agent when `bare_agent_keys`) to `agent_config`; keys of
/// other agents in `other_agents` are skipped.
pub fn apply_overrides(
    agent: &str,
    run: &mut RunSettings,
    agent_config: &mut Value,
    overrides: &[Override],
    other_agents: &[String],
    bare_agent_keys: bool,
) -> Result<()> {
    for o in overrides {
        let parts: Vec<&str> = o.key.split('.').collect();
        if parts[0] == agent && parts.len() > 1 {
            set_agent_key(agent, agent_config, &parts[1..], o)?;
        } else if RUN_KEYS.contains(&parts[0]) {
            if parts.len() > 1 {
                bail!(
                    "{}: '{}': run setting '{}' has no sub-keys",
                    o.origin,
                    o.key,
                    parts[0]
                );
            }
            let mut v = serde_yaml::to_value(&*run)?;
            v[parts[0]] = o.value.clone();
            *run = serde_yaml::from_value(v)
                .map_err(|e| anyhow!("{}: {}={}: {e}", o.origin, o.key, render(&o.value)))?;
        } else if other_agents.iter().any(|a| a == parts[0]) && parts.len() > 1 {
            continue;
        } else if bare_agent_keys && agent_config.get(parts[0]).is_some() {
            set_agent_key(agent, agent_config, &parts, o)?;
        } else {
            bail!(
                "{}: unknown key '{}': use a run setting ({}) or <agent>.<key> (agents: {})",
                o.origin,
                o.key,
                RUN_KEYS.join(", "),
                agents::registry::names().join(", ")
            );
        }
    }
    Ok(())
}

/// A compact rendering of a YAML value (variant names, messages).
pub fn render(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Sequence(s) => s.iter().map(render).collect::<Vec<_>>().join("-"),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .replace('\n', " "),
    }
}

/// Seeds: a count `n` (seeds 1..=n) or an explicit list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
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

/// A named budget: replaces the experiment's steps, seeds and intervals.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Env steps per run.
    pub steps: Option<u64>,
    /// Seeds (count or list).
    pub seeds: Option<Seeds>,
    /// Evaluation interval.
    pub eval_every: Option<u64>,
    /// Episodes per evaluation.
    pub eval_episodes: Option<usize>,
    /// Checkpoint interval.
    pub checkpoint_every: Option<u64>,
    /// Random-action steps at the start.
    pub seed_steps: Option<u64>,
}

/// Built-in budgets (an experiment's `budgets:` entry of the same name wins).
/// `paper` is the experiment as written.
pub fn builtin_budget(name: &str) -> Option<Budget> {
    match name {
        "smoke" => Some(Budget {
            steps: Some(4_000),
            seeds: Some(Seeds::Count(1)),
            eval_every: Some(2_000),
            eval_episodes: Some(2),
            checkpoint_every: Some(2_000),
            seed_steps: None,
        }),
        "short" => Some(Budget {
            steps: Some(100_000),
            seeds: Some(Seeds::Count(3)),
            eval_every: Some(10_000),
            ..Budget::default()
        }),
        "paper" => Some(Budget::default()),
        _ => None,
    }
}

/// An experiment file (`configs/experiments/*.yaml`): a sweep of agents ×
/// tasks × grid variants × seeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Env steps per run.
    pub steps: u64,
    /// Evaluation interval in env steps.
    #[serde(default)]
    pub eval_every: Option<u64>,
    /// Episodes per evaluation (default 10).
    #[serde(default)]
    pub eval_episodes: Option<usize>,
    /// Random-action steps at the start.
    #[serde(default)]
    pub seed_steps: Option<u64>,
    /// Checkpoint interval.
    #[serde(default)]
    pub checkpoint_every: Option<u64>,
    /// Fixed overrides for all runs (`dcwm.latent_dim: 512`).
    #[serde(default)]
    pub set: BTreeMap<String, Value>,
    /// Grid of overrides; each combination is a variant.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<Value>>,
    /// Named budgets.
    #[serde(default)]
    pub budgets: BTreeMap<String, Budget>,
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
    if experiment.agents.is_empty() {
        bail!("{}: 'agents' is empty", at("agents"));
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
    }
    if experiment.seeds.list().is_empty() {
        bail!("{}: 'seeds' is empty", at("seeds"));
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
        let mut cfg = loaded.defaults[agent].clone();
        let mut run = RunSettings::default();
        let others = loaded.other_agents(agent);
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

    fn other_agents(&self, agent: &str) -> Vec<String> {
        agents::registry::names()
            .into_iter()
            .map(String::from)
            .chain(self.experiment.agents.iter().cloned())
            .filter(|a| a != agent)
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
        let base = RunSettings {
            steps: budget.steps.unwrap_or(e.steps),
            eval_every: budget.eval_every.or(e.eval_every).unwrap_or(10_000),
            eval_episodes: budget.eval_episodes.or(e.eval_episodes).unwrap_or(10),
            seed_steps: budget.seed_steps.or(e.seed_steps).unwrap_or(0),
            checkpoint_every: budget
                .checkpoint_every
                .or(e.checkpoint_every)
                .unwrap_or(50_000),
            buffer_capacity: None,
            action_repeat: None,
        };
        let seeds = budget.seeds.as_ref().unwrap_or(&e.seeds).list();
        let set = self.file_overrides(&e.set);
        let mut runs = Vec::new();
        for task in &self.tasks {
            for agent in &e.agents {
                let others = self.other_agents(agent);
                // The grid keys that apply to this agent: its own and run-level.
                let grid: Vec<(&String, &Vec<Value>)> = e
                    .grid
                    .iter()
                    .filter(|(k, _)| {
                        let first = k.split('.').next().unwrap_or("");
                        first == agent || RUN_KEYS.contains(&first)
                    })
                    .collect();
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
                    let variant = (!variant_overrides.is_empty()).then(|| {
                        variant_overrides
                            .iter()
                            .map(|o| {
                                let short = o.key.rsplit('.').next().unwrap_or(&o.key);
                                format!("{short}={}", render(&o.value))
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                            .replace(['/', ' '], "_")
                    });
                    let mut run = base.clone();
                    let mut cfg = agent_task_defaults(agent, &self.defaults[agent], task)?;
                    let all: Vec<Override> = set
                        .iter()
                        .chain(&variant_overrides)
                        .chain(cli)
                        .cloned()
                        .collect();
                    apply_overrides(agent, &mut run, &mut cfg, &all, &others, false)?;
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
                        let dir = run_dir(results, &config);
                        runs.push(PlannedRun { config, dir });
                    }
                }
            }
        }
        Ok(runs)
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
    fn per_task_agent_settings_name_real_tasks_and_settings() {
        for entry in agents::AGENTS {
            let path = configs_dir()
                .join("agents")
                .join(format!("{}.tasks.yaml", entry.name));
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let tasks: BTreeMap<String, Value> = serde_yaml::from_str(&text).unwrap();
            assert!(!tasks.is_empty());
            let defaults = agent_defaults(entry.name).unwrap();
            for task in tasks.keys() {
                let def = envs::find(task).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(def.name, task, "use the registered name");
                let cfg = agent_task_defaults(entry.name, &defaults, task).unwrap();
                (entry.check_yaml)(&serde_yaml::to_string(&cfg).unwrap()).unwrap();
            }
        }
        // The DCWM settings reach the resolved config.
        let d = agent_defaults("dcwm").unwrap();
        let dog = agent_task_defaults("dcwm", &d, "dog-run").unwrap();
        assert_eq!(dog["latent_dim"], Value::from(1024));
        assert_eq!(dog["nstep"], Value::from(3));
        let walker = agent_task_defaults("dcwm", &d, "walker-walk").unwrap();
        assert_eq!(walker["latent_dim"], Value::from(512));
    }

    #[test]
    fn cli_overrides_parse_yaml_values() {
        let o = Override::parse_cli("dcwm.fsq_levels=[8, 4]").unwrap();
        assert_eq!(o.key, "dcwm.fsq_levels");
        assert!(o.value.is_sequence());
        assert!(Override::parse_cli("steps").is_err());
        assert!(Override::parse_cli("a..b=1").is_err());
    }

    #[test]
    fn run_keys_and_types_are_checked() {
        let mut run = RunSettings::default();
        let mut cfg: Value = serde_yaml::from_str("batch_size: 32").unwrap();
        let set = |s: &str| vec![Override::parse_cli(s).unwrap()];
        apply_overrides("random", &mut run, &mut cfg, &set("steps=500"), &[], true).unwrap();
        assert_eq!(run.steps, 500);
        apply_overrides(
            "random",
            &mut run,
            &mut cfg,
            &set("batch_size=8"),
            &[],
            true,
        )
        .unwrap();
        assert_eq!(cfg["batch_size"], Value::from(8));
        let e = apply_overrides("random", &mut run, &mut cfg, &set("steps=abc"), &[], true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("steps=abc"), "{e}");
        let e = apply_overrides(
            "random",
            &mut run,
            &mut cfg,
            &set("random.batch_size=x"),
            &[],
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must be an integer"), "{e}");
        let e = apply_overrides("random", &mut run, &mut cfg, &set("bogus=1"), &[], true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key 'bogus'"), "{e}");
    }

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
    fn cartesian_product() {
        assert_eq!(cartesian(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(cartesian(&[2, 2]).len(), 4);
    }
}
