//! The agent registry: names → constructors.
//!
//! To add an agent: write a module with a config struct
//! (`#[serde(deny_unknown_fields)]`, paper defaults in
//! `configs/agents/<name>.yaml`) and a type implementing [`Agent`], then add
//! one [`AgentEntry`] to [`AGENTS`].

use envs::EnvSpec;
use serde::de::DeserializeOwned;

use crate::agent::{Agent, AgentError, AgentInit};

/// One registered agent.
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
}

fn check<T: DeserializeOwned>(text: &str) -> Result<(), serde_yaml::Error> {
    serde_yaml::from_str::<T>(text).map(|_| ())
}

/// All registered agents.
pub static AGENTS: &[AgentEntry] = &[
    AgentEntry {
        name: "dcwm",
        about: "DCWM / DC-MPC: discrete codebook world model + MPPI planning (Scannell et al. 2025)",
        make: |init| Ok(Box::new(crate::dcwm::Dcwm::new(init)?)),
        check_yaml: check::<crate::dcwm::DcwmConfig>,
    },
    AgentEntry {
        name: "random",
        about: "uniform random actions in [-1, 1] (baseline, test agent)",
        make: |init| Ok(Box::new(crate::random::RandomAgent::new(init)?)),
        check_yaml: check::<crate::random::RandomConfig>,
    },
    AgentEntry {
        name: "sac",
        about: "Soft Actor-Critic with learned temperature (model-free baseline)",
        make: |init| Ok(Box::new(crate::sac::Sac::new(init)?)),
        check_yaml: check::<crate::sac::SacConfig>,
    },
    AgentEntry {
        name: "scripted",
        about: "deterministic sinusoid with velocity damping (test agent)",
        make: |init| Ok(Box::new(crate::scripted::ScriptedAgent::new(init)?)),
        check_yaml: check::<crate::scripted::ScriptedConfig>,
    },
];

/// Registered agent names.
pub fn names() -> Vec<&'static str> {
    AGENTS.iter().map(|a| a.name).collect()
}

/// The registry entry called `name`, or an error suggesting close names.
pub fn find(name: &str) -> Result<&'static AgentEntry, AgentError> {
    if let Some(a) = AGENTS.iter().find(|a| a.name == name) {
        return Ok(a);
    }
    let best = AGENTS
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

/// Builds agent `name` for `spec` with its resolved `config`.
pub fn make(
    name: &str,
    spec: &EnvSpec,
    config: &serde_yaml::Value,
    device: tch::Device,
    seed: u64,
) -> Result<Box<dyn Agent>, AgentError> {
    let entry = find(name)?;
    (entry.make)(&AgentInit {
        spec,
        config,
        device,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(
            e.contains("known agents: dcwm, random, sac, scripted"),
            "{e}"
        );
    }

    #[test]
    fn random_is_seeded_and_in_range_and_resumes() {
        let cfg: serde_yaml::Value = serde_yaml::from_str("batch_size: 0").unwrap();
        let s = spec();
        let mut a = make("random", &s, &cfg, tch::Device::Cpu, 3).unwrap();
        let mut b = make("random", &s, &cfg, tch::Device::Cpu, 3).unwrap();
        let obs = vec![0.0; s.obs_dim()];
        let x = a.act(&obs, Mode::Explore).unwrap();
        assert_eq!(x, b.act(&obs, Mode::Explore).unwrap());
        assert_eq!(x.len(), s.action_dim());
        assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)));
        let dir = std::env::temp_dir().join(format!("ctrlbench-agent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        a.save(&dir).unwrap();
        let next = a.act(&obs, Mode::Eval).unwrap();
        b.load(&dir).unwrap();
        assert_eq!(next, b.act(&obs, Mode::Eval).unwrap());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn config_errors_name_agent_and_key() {
        let cfg: serde_yaml::Value = serde_yaml::from_str("batch_sz: 3").unwrap();
        let e = make("random", &spec(), &cfg, tch::Device::Cpu, 0)
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
        let mut a = make("scripted", &s, &cfg, tch::Device::Cpu, 0).unwrap();
        let obs = vec![0.3; s.obs_dim()];
        a.begin_episode(Mode::Eval);
        let x = a.act(&obs, Mode::Eval).unwrap();
        a.begin_episode(Mode::Explore);
        assert_eq!(x, a.act(&obs, Mode::Explore).unwrap());
    }
}
