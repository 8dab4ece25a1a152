//! The agent registry: names → constructors.
//!
//! The built-in agents are one line each in [`crate::AGENTS`] (beside their
//! `pub mod`); a crate that depends on ctrlbench adds its own at start-up
//! with [`register`] (`ctrlbench::main_with` does it), so they run with the
//! same command line against the same task suites.
//!
//! The README's recipe for a new agent, compiled (inside this crate,
//! `agents::` is `crate::`):
//!
//! ```
//! use std::path::Path;
//!
//! use agents::agent::{Agent, AgentError, AgentInit, Mode, load_json, parse_config, save_json};
//! use agents::buffer::ReplayBuffer;
//! use agents::registry::{AgentEntry, NamedAgent};
//! use agents::rng::Rng;
//!
//! /// configs/agents/mine.yaml holds the defaults of every field.
//! #[derive(Debug, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct MineConfig {
//!     pub batch_size: usize,
//!     pub updates_per_episode: u64,
//! }
//!
//! pub struct Mine {
//!     cfg: MineConfig,
//!     rng: Rng, // + networks on init.device
//!     action_dim: usize,
//! }
//!
//! impl NamedAgent for Mine {
//!     type Config = MineConfig;
//!
//!     fn new(init: &AgentInit) -> Result<Self, AgentError> {
//!         Ok(Mine {
//!             cfg: parse_config("mine", init.config)?,
//!             rng: Rng::new(init.seed),
//!             action_dim: init.spec.action_dim(), // init.spec.layout names the observation groups
//!         })
//!     }
//! }
//!
//! impl Agent for Mine {
//!     fn act(&mut self, _obs: &[f32], _mode: Mode) -> Result<Vec<f32>, AgentError> {
//!         Ok(vec![0.0; self.action_dim]) // in [-1, 1]; explore only in Mode::Explore
//!     }
//!
//!     fn update(&mut self, _buf: &ReplayBuffer, _env_step: u64, end: bool) -> Result<u64, AgentError> {
//!         Ok(if end { self.cfg.updates_per_episode } else { 0 }) // e.g. DCWM: 500 after each episode
//!     }
//!
//!     fn learn(&mut self, buf: &ReplayBuffer, n: u64) -> Result<(), AgentError> {
//!         for _ in 0..n {
//!             let _batch = buf.sample_slices(self.cfg.batch_size, 3, &mut self.rng)?; // H = 3
//!             // ... a gradient step on batch.obs / batch.action / batch.reward
//!         }
//!         Ok(())
//!     }
//!
//!     fn metrics(&self) -> Vec<(String, f64)> {
//!         vec![] // train.csv columns
//!     }
//!
//!     fn save(&self, dir: &Path) -> Result<(), AgentError> {
//!         save_json(dir, "mine.json", &self.rng) // everything: networks, optimisers, RNG
//!     }
//!
//!     fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
//!         self.rng = load_json(dir, "mine.json")?;
//!         Ok(())
//!     }
//! }
//!
//! // Its line in `AGENTS`; from another crate, `agents::register(entry)`.
//! const MINE: AgentEntry = AgentEntry::of::<Mine>("mine", "what it is");
//!
//! // It runs: built from its registry entry, one episode of 3 steps.
//! let spec = envs::benchmark_env("cartpole-swingup", 0)?.spec().clone();
//! let cfg = serde_yaml::from_str("{batch_size: 2, updates_per_episode: 4}")?;
//! let init = AgentInit {
//!     spec: &spec,
//!     config: &cfg,
//!     device: tch::Device::Cpu,
//!     seed: 1,
//!     warmup_steps: 0,
//! };
//! let mut agent = (MINE.make)(&init)?;
//! let mut buf = ReplayBuffer::new(spec.obs_dim(), spec.action_dim(), 16)?;
//! buf.start_episode(&vec![0.0; spec.obs_dim()]);
//! for t in 0..3 {
//!     let a = agent.act(&vec![0.0; spec.obs_dim()], Mode::Explore)?;
//!     buf.push(&a, 0.0, false, t == 2, &vec![0.0; spec.obs_dim()])?;
//!     let n = agent.update(&buf, 2 * (t + 1), t == 2)?;
//!     agent.learn(&buf, n)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::RwLock;

use envs::EnvSpec;
use serde::de::DeserializeOwned;

use crate::agent::{Agent, AgentError, AgentInit};

/// One registered agent.
#[derive(Clone, Copy)]
pub struct AgentEntry {
    /// Name used on the command line and in configs.
    pub name: &'static str,
    /// One line describing it.
    pub about: &'static str,
    /// Builds the agent.
    pub make: fn(&AgentInit) -> Result<Box<dyn Agent>, AgentError>,
    /// Parses a YAML config text into the agent's typed config, so that
    /// unknown keys and wrong types are reported with line numbers.
    pub check_yaml: fn(&str) -> Result<(), serde_yaml::Error>,
    /// Its default configuration as YAML text, for agents registered from
    /// outside this repository (`include_str!` of their file). `None`: the
    /// defaults are `configs/agents/<name>.yaml` of the project.
    pub defaults: Option<&'static str>,
}

impl AgentEntry {
    /// The entry of agent type `A`, built by [`NamedAgent::new`] from its
    /// typed config `A::Config`.
    pub const fn of<A: NamedAgent>(name: &'static str, about: &'static str) -> Self {
        AgentEntry {
            name,
            about,
            make: make_boxed::<A>,
            check_yaml: check::<A::Config>,
            defaults: None,
        }
    }

    /// The same entry with its default configuration built in.
    pub const fn with_defaults(self, yaml: &'static str) -> Self {
        AgentEntry {
            defaults: Some(yaml),
            ..self
        }
    }
}

/// An agent that the registry can build: a typed config and a constructor.
pub trait NamedAgent: Agent + Sized + 'static {
    /// The agent's configuration (use `#[serde(deny_unknown_fields)]`).
    type Config: DeserializeOwned;

    /// Builds the agent; `init.config` holds its resolved configuration
    /// ([`crate::parse_config`] turns it into `Self::Config`).
    fn new(init: &AgentInit) -> Result<Self, AgentError>;
}

fn make_boxed<A: NamedAgent>(init: &AgentInit) -> Result<Box<dyn Agent>, AgentError> {
    // libtorch's thread count is per thread: the configured one (1 by
    // default) on the thread that makes and runs the agent.
    crate::device::apply_torch_threads();
    Ok(Box::new(A::new(init)?))
}

fn check<T: DeserializeOwned>(text: &str) -> Result<(), serde_yaml::Error> {
    serde_yaml::from_str::<T>(text).map(|_| ())
}

/// Agents registered at start-up, after the built-in ones.
static REGISTERED: RwLock<Vec<AgentEntry>> = RwLock::new(Vec::new());

/// Adds an agent to the registry (for this process). Errors when the name
/// is taken.
pub fn register(entry: AgentEntry) -> Result<(), AgentError> {
    if all().iter().any(|a| a.name == entry.name) {
        return Err(AgentError::Other(format!(
            "an agent named '{}' is already registered",
            entry.name
        )));
    }
    REGISTERED
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    Ok(())
}

/// Every agent: the built-in ones ([`crate::AGENTS`]), then the registered.
pub fn all() -> Vec<AgentEntry> {
    let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    crate::AGENTS
        .iter()
        .chain(registered.iter())
        .copied()
        .collect()
}

/// Registered agent names.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|a| a.name).collect()
}

/// The registry entry called `name`, or an error suggesting close names.
pub fn find(name: &str) -> Result<AgentEntry, AgentError> {
    let all = all();
    if let Some(a) = all.iter().find(|a| a.name == name) {
        return Ok(*a);
    }
    let best = all
        .iter()
        .map(|a| (envs::registry::edit_distance(name, a.name), a.name))
        .min()
        .filter(|&(d, n)| d <= 2.max(n.len() / 3));
    Err(AgentError::Unknown {
        name: name.to_string(),
        hint: best
            .map(|(_, n)| format!(" (did you mean '{n}'?)"))
            .unwrap_or_default(),
        known: names().join(", "),
    })
}

/// Builds agent `name` for `spec` with its resolved `config`, the run's
/// seed and warm-up.
pub fn make(
    name: &str,
    spec: &EnvSpec,
    config: &serde_yaml::Value,
    device: tch::Device,
    seed: u64,
    warmup_steps: u64,
) -> Result<Box<dyn Agent>, AgentError> {
    let entry = find(name)?;
    (entry.make)(&AgentInit {
        spec,
        config,
        device,
        seed,
        warmup_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AGENTS;
    use crate::agent::Mode;

    fn spec() -> EnvSpec {
        envs::benchmark_env("cartpole-swingup", 0)
            .unwrap()
            .spec()
            .clone()
    }

    #[test]
    fn unknown_agent_suggests_close_names() {
        let e = find("randm").err().unwrap().to_string();
        assert!(e.contains("did you mean 'random'"), "{e}");
        let known = AGENTS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ");
        assert!(e.contains(&format!("known agents: {known}")), "{e}");
    }

    #[test]
    fn random_is_seeded_and_in_range_and_resumes() {
        let cfg: serde_yaml::Value = serde_yaml::from_str("batch_size: 0").unwrap();
        let s = spec();
        let mut a = make("random", &s, &cfg, tch::Device::Cpu, 3, 0).unwrap();
        let mut b = make("random", &s, &cfg, tch::Device::Cpu, 3, 0).unwrap();
        let obs = vec![0.0; s.obs_dim()];
        let x = a.act(&obs, Mode::Explore).unwrap();
        assert_eq!(x, b.act(&obs, Mode::Explore).unwrap());
        assert_eq!(x.len(), s.action_dim());
        assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)));
        let dir = std::env::temp_dir().join(format!("ctrlbench-agent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        a.save(&dir).unwrap();
        // Evaluation draws from its own stream: training goes on as saved.
        a.begin_episode(Mode::Eval(1), 7);
        let evaluated = a.act(&obs, Mode::Eval(1)).unwrap();
        let next = a.act(&obs, Mode::Explore).unwrap();
        b.load(&dir).unwrap();
        assert_eq!(next, b.act(&obs, Mode::Explore).unwrap());
        b.begin_episode(Mode::Eval(1), 7);
        assert_eq!(evaluated, b.act(&obs, Mode::Eval(1)).unwrap());
        assert_ne!(evaluated, next);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn config_errors_name_agent_and_key() {
        let cfg: serde_yaml::Value = serde_yaml::from_str("batch_sz: 3").unwrap();
        let e = make("random", &spec(), &cfg, tch::Device::Cpu, 0, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("random config") && e.contains("batch_sz"), "{e}");
        let e = (find("scripted").unwrap().check_yaml)("amplitude: 1\nperiod: x\ndamping: 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn scripted_is_deterministic() {
        let cfg: serde_yaml::Value =
            serde_yaml::from_str("{amplitude: 0.8, period: 40, damping: 0.1}").unwrap();
        let s = spec();
        let mut a = make("scripted", &s, &cfg, tch::Device::Cpu, 0, 0).unwrap();
        let obs = vec![0.3; s.obs_dim()];
        a.begin_episode(Mode::Eval(0), 0);
        let x = a.act(&obs, Mode::Eval(0)).unwrap();
        a.begin_episode(Mode::Explore, 0);
        assert_eq!(x, a.act(&obs, Mode::Explore).unwrap());
    }
}
