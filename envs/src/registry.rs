//! The task registry: `make(name)` and `list()`.
//!
//! Names follow TD-MPC2/DCWM (`cartpole-swingup`, `cup-catch`,
//! `pointmass-easy`). Also accepted, for every task: underscores for hyphens
//! (`cartpole-swingup_sparse`), any case, and Gymnasium-style ids such as
//! `dm_control/cartpole-swingup-v0`.

use crate::dmc::{self, DmcEnv, TaskDef};
use crate::env::Env;
use crate::error::EnvError;

/// Every registered DeepMind Control Suite task, in listing order.
pub fn dmc_tasks() -> impl Iterator<Item = &'static TaskDef> {
    [
        dmc::acrobot::TASKS,
        dmc::ball_in_cup::TASKS,
        dmc::cartpole::TASKS,
        dmc::cheetah::TASKS,
        dmc::cup_spin::TASKS,
        dmc::dog::TASKS,
        dmc::finger::TASKS,
        dmc::fish::TASKS,
        dmc::hopper::TASKS,
        dmc::humanoid::TASKS,
        dmc::lqr::TASKS,
        dmc::manipulator::TASKS,
        dmc::pendulum::TASKS,
        dmc::point_mass::TASKS,
        dmc::quadruped::TASKS,
        dmc::reacher::TASKS,
        dmc::stacker::TASKS,
        dmc::swimmer::TASKS,
        dmc::walker::TASKS,
    ]
    .into_iter()
    .flatten()
}

/// The registered task names.
pub fn list() -> Vec<&'static str> {
    dmc_tasks().map(|t| t.name).collect()
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
    dmc_tasks()
        .find(|t| {
            t.name == c
                || t.aliases.contains(&c.as_str())
                || canonical(&format!("{}-{}", t.domain, t.task)) == c
        })
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
/// dm_control's time limit).
pub fn make_raw(name: &str) -> Result<DmcEnv, EnvError> {
    (find(name)?.build)()
}

/// Makes the raw task as a boxed [`Env`].
pub fn make(name: &str) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(make_raw(name)?))
}

/// Up to three registered names closest to `c` (edit distance, or sharing
/// the domain).
fn suggest(c: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = dmc_tasks()
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
    fn names_are_unique() {
        let mut names = list();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}
