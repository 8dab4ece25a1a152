//! The task registry: `make(name)` and `list()` over every suite.
//!
//! Names follow TD-MPC2/DCWM (`cartpole-swingup`, `cup-catch`,
//! `pointmass-easy`, `mw-pick-place`). Also accepted, for every task:
//! underscores for hyphens (`cartpole-swingup_sparse`), any case, and
//! Gymnasium-style ids such as `dm_control/cartpole-swingup-v0`; for
//! Meta-World tasks, metaworld's names (`reach-v3`, `Meta-World/reach-v3`).
//!
//! Each suite lists its tasks as [`TaskDef`]s (the DeepMind Control Suite in
//! [`crate::dmc::tasks`], Meta-World in [`crate::metaworld::tasks`]);
//! [`tasks`] chains the suites. A dm_control task builds a [`DmcEnv`]
//! ([`Build::Dmc`]), a Meta-World task a [`MetaWorldEnv`]
//! ([`Build::MetaWorld`]), any other a boxed [`Env`] ([`Build::Env`]);
//! [`make`] works for all, [`make_raw`] for dm_control tasks only.

use crate::dmc::DmcEnv;
use crate::env::Env;
use crate::error::EnvError;
use crate::metaworld::MetaWorldEnv;

/// A registered task.
#[derive(Clone, Copy, Debug)]
pub struct TaskDef {
    /// Registered name (TD-MPC2/DCWM style, e.g. `cartpole-swingup-sparse`).
    pub name: &'static str,
    /// The suite's domain (dm_control's, e.g. `cartpole`).
    pub domain: &'static str,
    /// The suite's task within the domain (e.g. `swingup_sparse`).
    pub task: &'static str,
    /// Extra accepted names (underscores and `dm_control/...-v0` forms are
    /// accepted for every task without listing them).
    pub aliases: &'static [&'static str],
    /// Where the task is defined (and what the parity tests compare with).
    pub source: Source,
    /// Builds the raw environment; called with [`TaskDef::name`].
    pub build: Build,
}

/// How a task's raw environment is built: a function of the registered
/// name, which it uses as the environment's [`crate::EnvSpec::name`].
#[derive(Clone, Copy, Debug)]
pub enum Build {
    /// A dm_control `control.Environment`.
    Dmc(fn(&'static str) -> Result<DmcEnv, EnvError>),
    /// A Meta-World task.
    MetaWorld(fn(&'static str) -> Result<MetaWorldEnv, EnvError>),
    /// Any other environment (suites that are not dm_control).
    Env(fn(&'static str) -> Result<Box<dyn Env>, EnvError>),
}

impl TaskDef {
    /// A task of any suite.
    pub const fn new(
        name: &'static str,
        domain: &'static str,
        task: &'static str,
        source: Source,
        build: Build,
    ) -> Self {
        TaskDef {
            name,
            domain,
            task,
            aliases: &[],
            source,
            build,
        }
    }

    /// A dm_control suite task.
    pub const fn dmc(
        name: &'static str,
        domain: &'static str,
        task: &'static str,
        build: fn(&'static str) -> Result<DmcEnv, EnvError>,
    ) -> Self {
        Self::new(name, domain, task, Source::DmControl, Build::Dmc(build))
    }

    /// A task defined by ctrlbench on a dm_control model.
    pub const fn ctrlbench(
        name: &'static str,
        domain: &'static str,
        task: &'static str,
        build: fn(&'static str) -> Result<DmcEnv, EnvError>,
    ) -> Self {
        Self::new(name, domain, task, Source::Ctrlbench, Build::Dmc(build))
    }

    /// One of TD-MPC2's extra DMControl tasks.
    pub const fn tdmpc2(
        name: &'static str,
        domain: &'static str,
        task: &'static str,
        build: fn(&'static str) -> Result<DmcEnv, EnvError>,
    ) -> Self {
        Self::new(name, domain, task, Source::TdMpc2, Build::Dmc(build))
    }

    /// The task with extra accepted names.
    pub const fn aliases(self, aliases: &'static [&'static str]) -> Self {
        TaskDef { aliases, ..self }
    }

    /// The benchmark protocol of the task's suite.
    pub fn protocol(&self) -> crate::Protocol {
        match self.source {
            Source::DmControl | Source::TdMpc2 | Source::Ctrlbench => crate::DMC_PROTOCOL,
            Source::MetaWorld => crate::METAWORLD_PROTOCOL,
        }
    }

    /// Builds the raw environment.
    pub fn make(&self) -> Result<Box<dyn Env>, EnvError> {
        match self.build {
            Build::Dmc(build) => Ok(Box::new(build(self.name)?)),
            Build::MetaWorld(build) => Ok(Box::new(build(self.name)?)),
            Build::Env(build) => build(self.name),
        }
    }

    /// Builds the raw dm_control environment (its own action space, no action
    /// repeat, dm_control's time limit); an [`EnvError::Invalid`] for a task
    /// of another suite.
    pub fn make_raw(&self) -> Result<DmcEnv, EnvError> {
        match self.build {
            Build::Dmc(build) => build(self.name),
            Build::MetaWorld(_) | Build::Env(_) => Err(EnvError::Invalid(format!(
                "{} is not a dm_control task: it has no raw dm_control environment",
                self.name
            ))),
        }
    }
}

/// Where a task's definition comes from (and so its suite's protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// dm_control's suite: parity-tested step by step against dm_control.
    DmControl,
    /// TD-MPC2's extra DMControl tasks (`tdmpc2/envs/tasks/`), which have no
    /// installable reference: their reward definitions are tested directly.
    TdMpc2,
    /// Meta-World v3 (metaworld 3.1.1): parity-tested step by step against
    /// metaworld.
    MetaWorld,
    /// Tasks defined by ctrlbench itself on dm_control's models (the
    /// behavior-prior experiments' sequential navigation): no external
    /// reference, so they are unit-tested, not parity-tested.
    Ctrlbench,
}

/// Every registered task, suite by suite, in listing order.
pub fn tasks() -> impl Iterator<Item = &'static TaskDef> {
    crate::dmc::tasks().chain(crate::metaworld::tasks())
}

/// The registered task names.
pub fn list() -> Vec<&'static str> {
    tasks().map(|t| t.name).collect()
}

/// Canonical form of a user-given name: lower case, hyphens only, no
/// `dm_control/` prefix or `-vN` suffix.
fn canonical(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase().replace('_', "-");
    for prefix in ["dm-control/", "dmc/"] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest.to_string();
        }
    }
    if let Some(rest) = n.strip_prefix("meta-world/") {
        n = format!("mw-{rest}");
    }
    if let Some(pos) = n.rfind("-v")
        && !n[pos + 2..].is_empty()
        && n[pos + 2..].bytes().all(|b| b.is_ascii_digit())
    {
        n.truncate(pos);
    }
    n
}

/// Looks up a task definition by name or alias.
pub fn find(name: &str) -> Result<&'static TaskDef, EnvError> {
    let c = canonical(name);
    // Meta-World's own names (`reach-v3`) are its tasks' names without `mw-`.
    let mw = format!("mw-{c}");
    tasks()
        .find(|t| {
            t.name == c
                || t.aliases.contains(&c.as_str())
                || canonical(&format!("{}-{}", t.domain, t.task)) == c
        })
        .or_else(|| tasks().find(|t| t.source == Source::MetaWorld && t.name == mw))
        .ok_or_else(|| EnvError::UnknownTask {
            name: name.to_string(),
            suggestions: suggest(&c),
        })
}

/// The benchmark protocol of a task's suite.
pub fn protocol_of(name: &str) -> Result<crate::Protocol, EnvError> {
    Ok(find(name)?.protocol())
}

/// Makes the raw dm_control task (its own action space, no action repeat,
/// dm_control's time limit); an [`EnvError::Invalid`] for a task of another
/// suite.
pub fn make_raw(name: &str) -> Result<DmcEnv, EnvError> {
    find(name)?.make_raw()
}

/// Makes the raw task (any suite) as a boxed [`Env`].
pub fn make(name: &str) -> Result<Box<dyn Env>, EnvError> {
    find(name)?.make()
}

/// Up to three registered names closest to `c` (edit distance, or sharing
/// the domain).
fn suggest(c: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = tasks()
        .map(|t| (edit_distance(c, t.name), t.name))
        .filter(|(d, name)| {
            *d <= 4.max(c.len() / 3) || name.split('-').next() == c.split('-').next()
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Levenshtein distance (for "did you mean" suggestions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_the_same_task() {
        for alias in [
            "cartpole-swingup-sparse",
            "cartpole-swingup_sparse",
            "dm_control/cartpole-swingup_sparse-v0",
            "Cartpole-Swingup-Sparse",
        ] {
            assert_eq!(
                find(alias).unwrap().name,
                "cartpole-swingup-sparse",
                "{alias}"
            );
        }
        assert_eq!(find("point_mass-easy").unwrap().name, "pointmass-easy");
        assert_eq!(
            find("dm_control/pointmass-easy-v0").unwrap().name,
            "pointmass-easy"
        );
    }

    #[test]
    fn unknown_task_suggests_close_names() {
        let err = find("cartpole-swingupp").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("did you mean cartpole-swingup"), "{msg}");
        let err = find("zzz").unwrap_err().to_string();
        assert!(err.contains("ctrlbench envs"), "{err}");
    }

    #[test]
    fn builds_receive_the_registered_name() {
        for name in [
            "cartpole-balance",
            "cup-catch",
            "pendulum-spin",
            "lqr-lqr-2-1",
        ] {
            let def = find(name).unwrap();
            assert_eq!(def.make().unwrap().spec().name, name);
            assert_eq!(def.make_raw().unwrap().spec().name, name);
        }
        assert_eq!(find("lqr-2-1").unwrap().name, "lqr-lqr-2-1");
        assert_eq!(find("ball-in-cup-catch").unwrap().name, "cup-catch");
        assert_eq!(find("cup-spin").unwrap().source, Source::TdMpc2);
        // dm_control's and TD-MPC2's 47, and ctrlbench's own.
        let count = |s: Source| crate::dmc::tasks().filter(|t| t.source == s).count();
        assert_eq!(count(Source::DmControl) + count(Source::TdMpc2), 47);
        assert_eq!(find("pointmass-seqnav").unwrap().source, Source::Ctrlbench);
        assert_eq!(count(Source::Ctrlbench), 1);
        assert_eq!(find("reach-v3").unwrap().name, "mw-reach");
        assert_eq!(find("Meta-World/reach-v3").unwrap().name, "mw-reach");
        assert_eq!(
            find("mw-button-press-topdown-wall").unwrap().source,
            Source::MetaWorld
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names = list();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}
