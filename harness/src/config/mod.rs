//! YAML configuration: run settings, agent defaults, `--set` overrides and
//! experiment files (sweeps with grids and named budgets).
//!
//! Precedence, lowest first: agent defaults (`configs/agents/<agent>.yaml`) and
//! run defaults < experiment fields < budget < experiment `set:` < budget
//! `set:` < named `variants:` < `grid:` variant < `--set` on the command line. Keys are dotted paths: a run setting
//! (`steps`, `eval_every`, ...) or `<agent>.<key>` for an agent's config (in
//! `train`, a bare agent key works too). Unknown keys and wrong types are
//! errors naming the file, line and key.

mod experiment;
mod yaml;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_yaml::Value;
use yaml::{kind, line_of, same_kind, yaml_error};
pub use yaml::{yaml_inline, yaml_label};

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
    /// Further evaluations at these env steps (at the first agent step at or
    /// after each), beside `eval_every`, so that runs can be read at the
    /// steps a published curve was (DCWM's sweeps: 1k, 26k, 51k). With
    /// `eval_every: 0` only these (and the final one) run.
    #[serde(default)]
    pub eval_at: Vec<u64>,
    /// Env steps of uniform random actions before the agent acts (the loop
    /// draws them; the agent learns nothing before). Default: what the
    /// agent's YAML declares (SAC 5,000 as CleanRL's `learning_starts`; DCWM
    /// 10 episodes as the official `random_episodes`), else 0. Deprecated
    /// names, still accepted with a warning: `seed_steps`, SAC's
    /// `learning_starts`, DCWM's `random_episodes` (in episodes).
    #[serde(default, alias = "seed_steps")]
    pub warmup_steps: Option<u64>,
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

/// Names of the run-level keys: the fields of [`RunSettings`], in order.
pub fn run_keys() -> Vec<String> {
    match serde_yaml::to_value(RunSettings::default()) {
        Ok(Value::Mapping(m)) => m
            .keys()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `key` names a run setting (or a deprecated name of one).
pub fn is_run_key(key: &str) -> bool {
    key == "seed_steps" || run_keys().iter().any(|k| k == key)
}

/// Deprecated names of the warm-up ("random actions first"), each with the
/// env steps one unit of it stands for (`None`: one episode of the suite).
const WARMUP_ALIASES: &[(&str, Option<u64>)] = &[
    ("seed_steps", Some(1)),
    ("learning_starts", Some(1)),
    ("random_episodes", None),
];

/// `o` with a deprecated name of the warm-up replaced by `warmup_steps`
/// (converted to env steps of `task`'s suite), with a warning; other
/// overrides unchanged.
fn undeprecated(o: &Override, task: &str) -> Result<Override> {
    let last = o.key.rsplit('.').next().unwrap_or(&o.key);
    let Some(&(_, unit)) = WARMUP_ALIASES.iter().find(|(n, _)| *n == last) else {
        return Ok(o.clone());
    };
    let per = match unit {
        Some(u) => u,
        None => envs::protocol_of(task)?.episode_env_steps as u64,
    };
    let n = o
        .value
        .as_u64()
        .ok_or_else(|| anyhow!("{}: {} must be a whole number", o.origin, o.key))?;
    warn_once(&format!(
        "{}: '{}' is deprecated: it sets the run setting warmup_steps = {} env steps",
        o.origin,
        o.key,
        n * per
    ));
    Ok(Override {
        key: "warmup_steps".into(),
        value: Value::from(n * per),
        origin: o.origin.clone(),
    })
}

/// Logs `message` as a warning the first time it is given.
fn warn_once(message: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.iter().any(|m| m == message) {
        tracing::warn!("{message}");
        seen.push(message.to_string());
    }
}

/// Takes the run settings an agent's YAML declares (`warmup_steps`) out of
/// its config.
pub fn take_run_defaults(agent_config: &mut Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Value::Mapping(m) = agent_config {
        for key in run_keys() {
            if let Some(v) = m.remove(key.as_str()) {
                out.insert(key, v);
            }
        }
    }
    out
}

impl RunSettings {
    /// These settings with the run keys of `patch` (an experiment's or a
    /// budget's) replacing theirs; `origin` names where a key came from.
    pub fn patched(
        &self,
        patch: &BTreeMap<String, Value>,
        origin: &dyn Fn(&str) -> Origin,
    ) -> Result<Self> {
        let mut v = serde_yaml::to_value(self)?;
        for (given, value) in patch {
            let key = if given == "seed_steps" {
                warn_once(&format!(
                    "{}: 'seed_steps' is deprecated: it sets the run setting warmup_steps",
                    origin(given)
                ));
                "warmup_steps"
            } else {
                given.as_str()
            };
            if !is_run_key(key) {
                bail!(
                    "{}: unknown key '{key}' (run settings: {})",
                    origin(given),
                    run_keys().join(", ")
                );
            }
            v[key] = value.clone();
            serde_yaml::from_value::<RunSettings>(v.clone())
                .map_err(|e| anyhow!("{}: {given}: {e}", origin(given)))?
                .check()
                .map_err(|e| anyhow!("{}: {e}", origin(given)))?;
        }
        Ok(serde_yaml::from_value(v)?)
    }

    /// `Err` for settings no run can have (an evaluation of no episodes).
    pub fn check(&self) -> Result<()> {
        if self.eval_episodes == 0 {
            bail!("eval_episodes must be at least 1");
        }
        if let Some(n) = self.buffer_capacity.filter(|&n| n < 2) {
            bail!("buffer_capacity must be at least 2 transitions, got {n}");
        }
        Ok(())
    }

    /// Logs a warning when `eval_at` lists steps beyond `steps` (a budget
    /// that shortens an experiment): those evaluations do not run. `context`
    /// names where the settings came from.
    pub fn warn_unreached_eval_at(&self, context: &str) {
        let beyond: Vec<String> = (self.eval_at.iter())
            .filter(|&&s| s > self.steps)
            .map(|s| s.to_string())
            .collect();
        if !beyond.is_empty() {
            tracing::warn!(
                "{context}: eval_at lists {} beyond steps ({}); those evaluations do not run",
                beyond.join(", "),
                self.steps
            );
        }
    }
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            steps: 100_000,
            eval_every: 10_000,
            eval_episodes: 10,
            eval_at: Vec::new(),
            warmup_steps: None,
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
    /// The config with the suite's defaults filled in (the action repeat;
    /// no warm-up where none was set), as a run records it. Errors on an
    /// unknown task, a repeat of 0 or settings [`RunSettings::check`] refuses.
    pub fn resolved(mut self) -> Result<Self> {
        self.run.check()?;
        let protocol = self.protocol()?;
        self.run.action_repeat = Some(protocol.action_repeat as u64);
        self.run.warmup_steps = Some(self.run.warmup_steps.unwrap_or(0));
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

/// An agent's defaults, read from `configs/agents/<agent>.yaml` (for an
/// agent registered from another crate, when the project has no such file:
/// the defaults it registered) and checked against the agent's typed config.
/// Run settings in it (`warmup_steps`) are the agent's defaults for them;
/// [`take_run_defaults`] separates them.
pub fn agent_defaults(agent: &str) -> Result<Value> {
    let entry = agents::registry::find(agent)?;
    let path = configs_dir().join("agents").join(format!("{agent}.yaml"));
    let text = match (std::fs::read_to_string(&path), entry.defaults) {
        (Ok(text), _) => text,
        (Err(_), Some(builtin)) => builtin.to_string(),
        (Err(e), None) => {
            return Err(anyhow::Error::new(e).context(format!(
                "reading the defaults of agent '{agent}': {}",
                path.display()
            )));
        }
    };
    // The run settings an agent declares are not part of its typed config;
    // their lines are blanked for the check, so errors keep their lines.
    let keys = run_keys();
    let agent_only: String = text
        .lines()
        .map(|l| {
            let key = l.split(':').next().unwrap_or("").trim_end();
            if keys.iter().any(|k| k == key) { "" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (entry.check_yaml)(&agent_only).map_err(|e| yaml_error(&path, &e))?;
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
        } else if is_run_key(parts[0]) {
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
                .map_err(|e| anyhow!("{}: {}={}: {e}", o.origin, o.key, yaml_inline(&o.value)))?;
        } else if other_agents.iter().any(|a| a == parts[0]) && parts.len() > 1 {
            continue;
        } else if bare_agent_keys && agent_config.get(parts[0]).is_some() {
            set_agent_key(agent, agent_config, &parts, o)?;
        } else {
            bail!(
                "{}: unknown key '{}': use a run setting ({}) or <agent>.<key> (agents: {})",
                o.origin,
                o.key,
                run_keys().join(", "),
                agents::registry::names().join(", ")
            );
        }
    }
    Ok(())
}

/// The agents of the registry other than `agent`, plus `more` (their keys
/// in shared overrides are skipped for `agent`).
pub(crate) fn other_agents(agent: &str, more: &[String]) -> Vec<String> {
    let mut others: Vec<String> = agents::registry::names()
        .into_iter()
        .map(String::from)
        .chain(more.iter().cloned())
        .filter(|a| a != agent)
        .collect();
    others.dedup();
    others
}

/// Resolves one run's settings and agent config: the agent's defaults for
/// the task, `base` run settings, then `overrides` in order. `bare_keys`
/// lets a bare key name an agent setting (the command line of `train`).
fn resolve(
    agent: &str,
    task: &str,
    defaults: &Value,
    base: &RunSettings,
    overrides: &[Override],
    others: &[String],
    bare_keys: bool,
) -> Result<(RunSettings, Value)> {
    let mut cfg = agent_task_defaults(agent, defaults, task)?;
    // The agent's own run-setting defaults fill what the experiment left unset.
    let declared = take_run_defaults(&mut cfg);
    let mut run = serde_yaml::to_value(base)?;
    for (key, value) in declared {
        if run[key.as_str()].is_null() {
            run[key.as_str()] = value;
        }
    }
    let mut run: RunSettings = serde_yaml::from_value(run)
        .with_context(|| format!("the run-setting defaults of agent '{agent}'"))?;
    let overrides = overrides
        .iter()
        .map(|o| undeprecated(o, task))
        .collect::<Result<Vec<_>>>()?;
    apply_overrides(agent, &mut run, &mut cfg, &overrides, others, bare_keys)?;
    Ok((run, cfg))
}

/// The configuration of a single run (`train`, `bench agent`): the agent's
/// defaults for the task, the default run settings with `steps`, then the
/// command line's `--set` overrides (bare agent keys allowed).
pub fn single_run(
    agent: &str,
    task: &str,
    seed: u64,
    steps: u64,
    overrides: &[Override],
) -> Result<RunConfig> {
    let task = envs::find(task)?.name.to_string();
    let base = RunSettings {
        steps,
        ..RunSettings::default()
    };
    let others = other_agents(agent, &[]);
    let defaults = agent_defaults(agent)?;
    let (run, agent_config) = resolve(agent, &task, &defaults, &base, overrides, &others, true)?;
    RunConfig {
        experiment: "train".into(),
        agent: agent.to_string(),
        task,
        seed,
        variant: None,
        run,
        agent_config,
    }
    .resolved()
}

pub use experiment::{
    Budget, Experiment, LoadedExperiment, PlannedRun, Seeds, Shard, Suite, builtin_budget,
    load_experiment, load_suite, run_dir,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_task_agent_settings_name_real_tasks_and_settings() {
        for entry in agents::registry::all() {
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
                // The official DCWM Meta-World settings wait for the suite:
                // their names are the official configs' (`mw-<task>`).
                let waiting = task.starts_with("mw-") && envs::find(task).is_err();
                if !waiting {
                    let def =
                        envs::find(task).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    assert_eq!(def.name, task, "use the registered name");
                }
                let mut cfg = agent_task_defaults(entry.name, &defaults, task).unwrap();
                take_run_defaults(&mut cfg);
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
        let hard = agent_task_defaults("dcwm", &d, "mw-pick-place").unwrap();
        let easy = agent_task_defaults("dcwm", &d, "mw-reach-wall").unwrap();
        for (cfg, episodes) in [(&hard, 500), (&easy, 250)] {
            assert_eq!(cfg["exploration_noise_num_steps"], Value::from(episodes));
            assert_eq!(cfg["nstep"], Value::from(3));
            assert_eq!(cfg["warmup_steps"], Value::from(2000));
        }
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
    fn run_keys_are_the_fields_of_the_run_settings() {
        let keys = run_keys();
        assert_eq!(keys.first().map(String::as_str), Some("steps"));
        assert!(keys.iter().any(|k| k == "action_repeat"), "{keys:?}");
        let patch: BTreeMap<String, Value> =
            serde_yaml::from_str("{eval_every: 5, action_repeat: 8}").unwrap();
        let at = |k: &str| Origin::File("x.yaml".into(), k.len());
        let run = RunSettings::default().patched(&patch, &at).unwrap();
        assert_eq!((run.eval_every, run.action_repeat), (5, Some(8)));
        let bad: BTreeMap<String, Value> = serde_yaml::from_str("{steps: many}").unwrap();
        let e = RunSettings::default()
            .patched(&bad, &at)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.yaml:5: steps:"), "{e}");
    }

    #[test]
    fn the_warmup_is_one_run_setting_with_agent_defaults_and_old_names() {
        let warmup = |agent: &str, set: &[&str]| {
            let set: Vec<Override> = set
                .iter()
                .map(|s| Override::parse_cli(s).unwrap())
                .collect();
            single_run(agent, "cartpole-swingup", 1, 1000, &set)
                .unwrap()
                .run
                .warmup_steps
        };
        // Declared by the agents' YAML, none for agents that declare none.
        assert_eq!(warmup("sac", &[]), Some(5000));
        assert_eq!(warmup("dcwm", &[]), Some(10_000));
        assert_eq!(warmup("random", &[]), Some(0));
        assert_eq!(warmup("sac", &["warmup_steps=700"]), Some(700));
        // The former names: SAC's env steps, DCWM's episodes, the loop's steps.
        assert_eq!(warmup("sac", &["learning_starts=600"]), Some(600));
        assert_eq!(warmup("sac", &["sac.learning_starts=600"]), Some(600));
        assert_eq!(warmup("dcwm", &["random_episodes=2"]), Some(2000));
        assert_eq!(warmup("random", &["seed_steps=300"]), Some(300));
        let patch: BTreeMap<String, Value> = serde_yaml::from_str("{seed_steps: 7}").unwrap();
        let at = |_: &str| Origin::CommandLine;
        let run = RunSettings::default().patched(&patch, &at).unwrap();
        assert_eq!(run.warmup_steps, Some(7));
        // A config.yaml written before the rename reads the same.
        let old: RunSettings = serde_yaml::from_str(
            "{steps: 10, eval_every: 5, eval_episodes: 1, seed_steps: 3, checkpoint_every: 5, \
             buffer_capacity: null}",
        )
        .unwrap();
        assert_eq!(old.warmup_steps, Some(3));
    }

    #[test]
    fn agent_defaults_in_yaml_equal_the_rust_defaults() {
        // configs/agents/*.yaml is the truth; the typed configs' `Default`
        // must say the same, key for key (a key the YAML lacks could not be
        // overridden). Each agent's YAML also declares its warm-up.
        fn keys(v: &Value) -> Vec<String> {
            let mut k: Vec<String> = v
                .as_mapping()
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            k.sort();
            k
        }
        fn check<T>(agent: &str, warmup: u64)
        where
            T: serde::de::DeserializeOwned + Serialize + Default + PartialEq + std::fmt::Debug,
        {
            let mut yaml = agent_defaults(agent).unwrap();
            let declared = take_run_defaults(&mut yaml);
            assert_eq!(declared["warmup_steps"], Value::from(warmup), "{agent}");
            let typed: T = serde_yaml::from_value(yaml.clone()).unwrap();
            assert_eq!(typed, T::default(), "{agent}");
            let rust = serde_yaml::to_value(T::default()).unwrap();
            assert_eq!(keys(&yaml), keys(&rust), "{agent}.yaml keys");
        }
        check::<agents::sac::SacConfig>("sac", 5000);
        check::<agents::dcwm::DcwmConfig>("dcwm", 10_000);
        check::<agents::bprior::BPriorConfig>("bprior", 5000);
    }
}
