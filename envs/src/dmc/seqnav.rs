//! Sequential navigation (`pointmass-seqnav`): dm_control's planar point mass
//! visits coloured targets one after another, the next target drawn from a
//! second-order Markov chain, after the sequential-navigation example in
//! Tirumala et al.'s talk on behavior priors.
//!
//! The paper's and talk's own parameters (arena, target layout, transition
//! probabilities, reward) are unpublished: everything below is ctrlbench's own
//! design, and the task has no external reference to be parity-tested
//! against; it is unit-tested below.
//!
//! **Model.** dm_control's `point_mass.xml` with its actuators and dynamics
//! unchanged; its single `target` geom is replaced by four coloured sites
//! (sites take no part in contacts), `target_blue`, `target_green`,
//! `target_black` and `target_red`, of radius [`TARGET_RADIUS`] at
//! [`TARGET_POSITIONS`], the corners of a 0.2 m square in the middle of the
//! 0.58 m arena. Target ids follow the square clockwise (seen from the
//! default camera): 0 blue (−0.1, 0.1), 1 green (0.1, 0.1), 2 black
//! (0.1, −0.1), 3 red (−0.1, −0.1), so `(c + 1) % 4` is the neighbouring corner clockwise
//! and `(c + 2) % 4` the opposite one.
//!
//! **Episode.** dm_control's point-mass timing: 20 s at the model's 0.02 s
//! timestep, one physics step per control step, 1000 control steps, no
//! termination. The episode starts as `point_mass` `easy` does: the position
//! uniform in the arena (`randomize_limited_and_rotational_joints`), zero
//! velocity.
//!
//! **Next-target process** ([`successor_probs`]). The first target of an
//! episode is uniform over the four; once one target has been visited the
//! next is uniform over the three others; from then on it depends on the
//! last two visited targets: with `c` the last and `p` the one before, list
//! the others of `c` in cyclic order `o0 = c+1, o1 = c+2, o2 = c+3` (mod 4);
//! if `p = o_i`, the next target is `o_{i+1}` with probability
//! [`PREFERRED_PROBABILITY`] (0.9) and `o_{i+2}` with probability 0.1
//! (indices mod 3), never `p` and never `c`. Coming from the previous corner
//! clockwise the chain mostly continues clockwise (blue → green ⇒ black 0.9,
//! red 0.1), coming from the next corner it mostly crosses the diagonal, and
//! coming across the diagonal it mostly steps counter-clockwise. Two facts
//! make the task a test of memory in a behavior prior:
//!
//! * knowing the last two targets, the next one is predictable with
//!   probability 0.9;
//! * knowing only the last one, it is not: the chain on pairs `(p, c)` is
//!   doubly stochastic, so its stationary distribution is uniform over the
//!   12 ordered pairs and `P(next | c) = 1/3` for each of the three others.
//!
//! **Visits.** A target is visited when the point mass has stayed within
//! [`TARGET_RADIUS`] of its centre for [`DWELL`] consecutive control steps;
//! any target but the last visited one can be visited, the next target or
//! another (a *hit* is a visit of the next target). The visited target
//! becomes the last visited, a new next target is drawn from the chain given
//! the last two visited targets, and the dwell count restarts. So the
//! history a policy observes is the one it made: a policy that follows
//! `next_target` visits in the chain's order, and a behavior prior played as
//! a policy (without `next_target`) visits in its own order, which
//! `last_visited` records. The point mass's top speed is about 0.1 m/s
//! (actuator force 0.1 N against joint damping 1 N·s/m, time constant 0.3
//! s): a side of the square takes about 100 control steps, and crossing a
//! target through its centre at full speed keeps the mass inside it for
//! about 30, so a visit does not need a stop.
//!
//! **The leak a prior must not use.** When a visit completes the mass is
//! still moving the way it came, so its velocity tells where it came from:
//! a prior that sees `velocity` has a memory of the previous target. The
//! experiment's priors therefore see `position` and `targets` (and, with
//! memory, `last_targets`), not `velocity`. Their position inside the
//! target at the reveal still carries a little of the approach side (the
//! visit completes about 2 cm into the disc at full speed).
//!
//! **Reward.** Per control step: [`HIT_REWARD`] at the step a hit completes,
//! plus [`PROGRESS_WEIGHT`] times the step's progress toward the target it
//! was aimed at (the next target before the step): `d_before − d_after`.
//! The progress telescopes within a leg (the sum over a leg is the weight
//! times the distance covered toward its target), so hovering near a target
//! earns nothing and only hits add up; a leg of the square is worth about
//! 10 + 17 (the side 0.2 m minus the radius, times 100), and an episode
//! holds up to about nine legs. Progress per step is at most about ±0.2
//! (the top speed, 0.1 m/s, over 0.02 s), on the scale of dm_control's
//! per-step rewards, so the defaults of agents tuned on those (a KL or
//! entropy weight) carry over; the reward lies in [−0.3, 10.3] and the task
//! declares no reward range.
//!
//! **Observation** groups, in order: `position` (2, `qpos`), `velocity`
//! (2, `qvel`), `targets` (8, the four targets' x, y in id order),
//! `next_target` (4, one-hot), `last_targets` (8: one-hot of the last visited
//! target, then one-hot of the one before; zeros where there is none yet).
//! A policy sees all of it; a prior without memory sees `position`,
//! `velocity` and `targets`; a prior with memory adds `last_targets`.
//!
//! **Info** values ([`INFO_NAMES`]): `visits` (visits completed so far this
//! episode), `hits` (those of them at the next target), `last_visited` (the
//! id of the last visited target, −1 before the first visit) and
//! `next_target` (its id after the step). A visit
//! completes at the step where `visits` grows, and `last_visited` names it
//! then; both survive an action repeat (a visit takes more than one step).
//!
//! The episode state (next target, last two, dwell count) lives in the task,
//! is reset by `initialize_episode` and draws only from the environment's
//! `RandomState`, so a seeded reset reproduces the episode: the initial
//! position (two `uniform` draws), then one `random_sample` per next target.

use super::mjcf;
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// Number of targets.
pub const N_TARGETS: usize = 4;
/// Id of the blue target.
pub const BLUE: usize = 0;
/// Id of the green target.
pub const GREEN: usize = 1;
/// Id of the black target.
pub const BLACK: usize = 2;
/// Id of the red target.
pub const RED: usize = 3;
/// Colour names, by id.
pub const TARGET_COLOURS: [&str; N_TARGETS] = ["blue", "green", "black", "red"];
/// Names of the targets' sites in the model, by id.
pub const TARGET_SITES: [&str; N_TARGETS] =
    ["target_blue", "target_green", "target_black", "target_red"];
/// Target centres (x, y) in metres, by id: the corners of a 0.2 m square,
/// clockwise from the top left.
pub const TARGET_POSITIONS: [[f64; 2]; N_TARGETS] =
    [[-0.1, 0.1], [0.1, 0.1], [0.1, -0.1], [-0.1, -0.1]];
/// Target radius in metres: the point mass is at a target when its centre is
/// at most this far from the target's centre.
pub const TARGET_RADIUS: f64 = 0.03;
/// Height of the target sites' centres: that of the point mass's centre.
const TARGET_HEIGHT: f64 = 0.01;
/// The sites' colours (`rgba`), by id; half transparent.
const TARGET_RGBA: [&str; N_TARGETS] = ["0 0 1 0.5", "0 0.8 0 0.5", "0 0 0 0.5", "1 0 0 0.5"];
/// Consecutive control steps the point mass must stay at a target for its
/// visit to complete.
pub const DWELL: usize = 10;
/// Probability of the preferred successor of a pair of visited targets (the
/// other one of the two allowed gets the rest).
pub const PREFERRED_PROBABILITY: f64 = 0.9;
/// Reward of a hit (a visit of the next target).
pub const HIT_REWARD: f64 = 10.0;
/// Reward per metre of progress toward the next target.
pub const PROGRESS_WEIGHT: f64 = 100.0;
/// The task's per-step info values.
pub const INFO_NAMES: &[&str] = &["visits", "hits", "last_visited", "next_target"];
/// Episode length in seconds (dm_control's point mass).
const DEFAULT_TIME_LIMIT: f64 = 20.0;

/// The sequential-navigation task.
pub const TASKS: &[TaskDef] = &[TaskDef::ctrlbench(
    "pointmass-seqnav",
    "point_mass",
    "seqnav",
    load,
)];

/// The task, registered as `name`.
fn load(name: &str) -> Result<DmcEnv, EnvError> {
    let physics = Physics::from_xml_in_assets(&make_model()?, "point_mass.xml")?;
    let task = SeqNav::new(&physics)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// The task's MJCF: the suite's `point_mass.xml` with its `target` geom
/// replaced by the four target sites.
pub fn make_model() -> Result<String, EnvError> {
    let mut xml = Physics::read_asset("point_mass.xml")?;
    mjcf::remove_element(&mut xml, "geom", "target")?;
    let at = xml
        .find("</worldbody>")
        .ok_or_else(|| EnvError::Model("point_mass.xml: no </worldbody>".into()))?;
    let mut sites = String::new();
    for ((name, [x, y]), rgba) in TARGET_SITES.iter().zip(TARGET_POSITIONS).zip(TARGET_RGBA) {
        sites.push_str(&format!(
            "    <site name=\"{name}\" type=\"sphere\" pos=\"{x} {y} {TARGET_HEIGHT}\" \
             size=\"{TARGET_RADIUS}\" rgba=\"{rgba}\"/>\n"
        ));
    }
    xml.insert_str(at, &sites);
    Ok(xml)
}

/// The distribution of the next target given the last visited target `cur`
/// and the one visited before it, `prev` (ids below [`N_TARGETS`]).
///
/// No target visited yet (`cur` is `None`): uniform over all four. Only one
/// (`prev` is `None`, or not one of the others of `cur`): uniform over the
/// three others of `cur`. Otherwise, with the others of `cur` listed as
/// `o0 = cur+1, o1 = cur+2, o2 = cur+3` (mod 4) and `prev = o_i`:
/// `o_{i+1}` with [`PREFERRED_PROBABILITY`], `o_{i+2}` with the rest
/// (indices mod 3).
pub fn successor_probs(prev: Option<usize>, cur: Option<usize>) -> [f64; N_TARGETS] {
    let Some(cur) = cur else {
        return [1.0 / N_TARGETS as f64; N_TARGETS];
    };
    assert!(cur < N_TARGETS, "target id {cur} out of range");
    let others = [
        (cur + 1) % N_TARGETS,
        (cur + 2) % N_TARGETS,
        (cur + 3) % N_TARGETS,
    ];
    let mut probs = [0.0; N_TARGETS];
    match prev.and_then(|p| others.iter().position(|&o| o == p)) {
        Some(i) => {
            probs[others[(i + 1) % 3]] = PREFERRED_PROBABILITY;
            probs[others[(i + 2) % 3]] = 1.0 - PREFERRED_PROBABILITY;
        }
        None => {
            for o in others {
                probs[o] = 1.0 / 3.0;
            }
        }
    }
    probs
}

/// Draws the next target from [`successor_probs`] with one `random_sample`.
fn draw_next(prev: Option<usize>, cur: Option<usize>, random: &mut RandomState) -> usize {
    inverse_cdf(&successor_probs(prev, cur), random.random_sample())
}

/// The id whose cumulative probability (over ids in order, those of
/// probability 0 skipped) first exceeds the uniform draw `u` in [0, 1).
pub fn inverse_cdf(probs: &[f64; N_TARGETS], u: f64) -> usize {
    let mut cumulative = 0.0;
    let mut last = 0;
    for (id, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            cumulative += p;
            last = id;
            if u < cumulative {
                return id;
            }
        }
    }
    // Rounding left the cumulative sum just below 1 and `u` above it.
    last
}

/// One-hot encoding of a target id; zeros for `None`.
fn one_hot(id: Option<usize>) -> [f64; N_TARGETS] {
    let mut v = [0.0; N_TARGETS];
    if let Some(id) = id {
        v[id] = 1.0;
    }
    v
}

/// Visit the targets in the order the Markov chain draws them.
pub struct SeqNav {
    /// The target to visit next.
    next: usize,
    /// The last visited target.
    last: Option<usize>,
    /// The target visited before the last one.
    before_last: Option<usize>,
    /// The target the point mass is in (not the last visited), if any.
    resting_at: Option<usize>,
    /// Consecutive control steps it has been there.
    dwell: usize,
    /// Visits completed this episode.
    visits: usize,
    /// Visits of the next target this episode.
    hits: usize,
    /// Distance from the point mass to the next target after the last step
    /// (or the reset).
    distance: f64,
    /// The reward of the last step.
    reward: f64,
}

impl SeqNav {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        for site in TARGET_SITES {
            physics.site_id(site)?;
        }
        Ok(SeqNav {
            next: 0,
            last: None,
            before_last: None,
            resting_at: None,
            dwell: 0,
            visits: 0,
            hits: 0,
            distance: 0.0,
            reward: 0.0,
        })
    }

    /// Planar distance from the point mass (its slide joints' positions) to
    /// a target's centre.
    fn distance_to(physics: &Physics, target: usize) -> f64 {
        let p = physics.qpos();
        let [x, y] = TARGET_POSITIONS[target];
        (p[0] - x).hypot(p[1] - y)
    }
}

impl Task for SeqNav {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("position", 2),
            ("velocity", 2),
            ("targets", 2 * N_TARGETS),
            ("next_target", N_TARGETS),
            ("last_targets", 2 * N_TARGETS),
        ])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // The physics reset left the velocity at zero.
        randomize_limited_and_rotational_joints(physics, random);
        self.last = None;
        self.before_last = None;
        self.resting_at = None;
        self.dwell = 0;
        self.visits = 0;
        self.hits = 0;
        self.next = draw_next(None, None, random);
        self.distance = Self::distance_to(physics, self.next);
        self.reward = 0.0;
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, physics.qvel());
        for position in &TARGET_POSITIONS {
            put(out, &mut at, position);
        }
        put(out, &mut at, &one_hot(Some(self.next)));
        put(out, &mut at, &one_hot(self.last));
        put(out, &mut at, &one_hot(self.before_last));
    }

    fn reward(&self, _physics: &Physics) -> f64 {
        self.reward
    }

    fn reward_range(&self) -> Option<(f64, f64)> {
        None
    }

    fn after_step(&mut self, physics: &Physics, random: &mut RandomState) {
        let aimed = self.next;
        let after = Self::distance_to(physics, aimed);
        let mut reward = PROGRESS_WEIGHT * (self.distance - after);
        // Targets lie farther apart than two radii: at most one is here.
        let here = (0..N_TARGETS)
            .find(|&t| Self::distance_to(physics, t) <= TARGET_RADIUS)
            .filter(|&t| Some(t) != self.last);
        match here {
            Some(t) if self.resting_at == Some(t) => self.dwell += 1,
            Some(_) => self.dwell = 1,
            None => self.dwell = 0,
        }
        self.resting_at = here;
        if let Some(t) = here
            && self.dwell >= DWELL
        {
            self.visits += 1;
            if t == aimed {
                self.hits += 1;
                reward += HIT_REWARD;
            }
            self.before_last = self.last;
            self.last = Some(t);
            self.next = draw_next(self.before_last, self.last, random);
            self.resting_at = None;
            self.dwell = 0;
        }
        self.distance = Self::distance_to(physics, self.next);
        self.reward = reward;
    }

    fn info_names(&self) -> &'static [&'static str] {
        INFO_NAMES
    }

    fn info(&self, _physics: &Physics, out: &mut [f64]) {
        out[0] = self.visits as f64;
        out[1] = self.hits as f64;
        out[2] = self.last.map_or(-1.0, |id| id as f64);
        out[3] = self.next as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    const ZERO_ACTION: [f64; 2] = [0.0, 0.0];

    /// An environment reset with `seed`, and its first observation.
    fn reset(seed: u64) -> (DmcEnv, Vec<f64>) {
        let mut env = TASKS[0].make_raw().unwrap();
        let (obs, _) = env.reset(Some(seed)).unwrap();
        (env, obs)
    }

    /// The observation group `name` of `obs`.
    fn group<'a>(env: &DmcEnv, obs: &'a [f64], name: &str) -> &'a [f64] {
        let g = env.spec().layout.group(name).unwrap();
        &obs[g.offset..g.offset + g.len]
    }

    /// The id a one-hot vector encodes; `None` for zeros.
    fn hot(v: &[f64]) -> Option<usize> {
        assert!(v.iter().all(|&x| x == 0.0 || x == 1.0), "{v:?}");
        assert!(v.iter().filter(|&&x| x == 1.0).count() <= 1, "{v:?}");
        v.iter().position(|&x| x == 1.0)
    }

    /// Puts the point mass at rest at `(x, y)`.
    fn place(env: &mut DmcEnv, x: f64, y: f64) {
        let physics = env.physics_mut();
        let d = physics.data_mut();
        d.qpos_mut().copy_from_slice(&[x, y]);
        d.qvel_mut().fill(0.0);
        physics.forward().unwrap();
    }

    /// Steps with `action`; returns the step and its `last_visited`,
    /// `next_target` and `visits` info values.
    fn step(env: &mut DmcEnv, action: &[f64]) -> (crate::env::Step, f64, f64, f64) {
        let s = env.step(action).unwrap();
        let value = |name| s.info.value(env.spec(), name).unwrap();
        let (visited, next, visits) =
            (value("last_visited"), value("next_target"), value("visits"));
        (s, visited, next, visits)
    }

    #[test]
    fn transition_rule() {
        assert_eq!(successor_probs(None, None), [0.25; N_TARGETS]);
        for cur in 0..N_TARGETS {
            let prevs = std::iter::once(None).chain((0..N_TARGETS).map(Some));
            for prev in prevs {
                let p = successor_probs(prev, Some(cur));
                assert!(
                    (p.iter().sum::<f64>() - 1.0).abs() < 1e-12,
                    "{prev:?} {cur}: {p:?}"
                );
                assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
                assert_eq!(p[cur], 0.0, "{prev:?} {cur}: {p:?}");
                match prev.filter(|&prev| prev != cur) {
                    Some(prev) => {
                        assert_eq!(p[prev], 0.0, "{prev} {cur}: {p:?}");
                        let mut sorted = p;
                        sorted.sort_by(f64::total_cmp);
                        assert_eq!(sorted[..2], [0.0, 0.0]);
                        assert!((sorted[2] - 0.1).abs() < 1e-12 && sorted[3] == 0.9);
                    }
                    None => {
                        for (id, &x) in p.iter().enumerate() {
                            assert_eq!(x, if id == cur { 0.0 } else { 1.0 / 3.0 });
                        }
                    }
                }
            }
        }
        // The talk's example: blue then green, so black 0.9, red 0.1.
        let p = successor_probs(Some(BLUE), Some(GREEN));
        assert_eq!(p[BLACK], 0.9);
        assert!((p[RED] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn chain_is_predictable_from_two_targets_but_not_from_one() {
        let mut random = RandomState::new(0);
        let (mut prev, mut cur) = (None, None);
        let mut after_green = [0usize; N_TARGETS];
        let mut after_blue_green = [0usize; N_TARGETS];
        for _ in 0..200_000 {
            let next = draw_next(prev, cur, &mut random);
            if cur == Some(GREEN) {
                after_green[next] += 1;
                if prev == Some(BLUE) {
                    after_blue_green[next] += 1;
                }
            }
            prev = cur;
            cur = Some(next);
        }
        let n = after_green.iter().sum::<usize>() as f64;
        assert_eq!(after_green[GREEN], 0);
        for id in [BLUE, BLACK, RED] {
            let f = after_green[id] as f64 / n;
            assert!((f - 1.0 / 3.0).abs() < 0.01, "P({id} | green) = {f}");
        }
        let n = after_blue_green.iter().sum::<usize>() as f64;
        assert_eq!(after_blue_green[BLUE] + after_blue_green[GREEN], 0);
        let f = after_blue_green[BLACK] as f64 / n;
        assert!((f - 0.9).abs() < 0.01, "P(black | blue, green) = {f}");
    }

    #[test]
    fn the_reward_is_progress_plus_hits_and_telescopes() {
        let (mut env, obs) = reset(0);
        let target = hot(group(&env, &obs, "next_target")).unwrap();
        let [tx, ty] = TARGET_POSITIONS[target];
        let start = group(&env, &obs, "position").to_vec();
        let d0 = (start[0] - tx).hypot(start[1] - ty);
        // Away from the target for 30 steps, then a proportional controller
        // to it until the hit: the rewards sum to the weighted net progress
        // plus the hit.
        let mut total = 0.0;
        let mut obs = obs;
        for k in 0..1000 {
            let p = group(&env, &obs, "position").to_vec();
            let action = if k < 30 {
                [-(tx - p[0]).signum(), -(ty - p[1]).signum()]
            } else {
                [
                    (20.0 * (tx - p[0])).clamp(-1.0, 1.0),
                    (20.0 * (ty - p[1])).clamp(-1.0, 1.0),
                ]
            };
            let s = env.step(&action).unwrap();
            total += s.reward;
            assert!((-0.3..=10.3).contains(&s.reward), "{}", s.reward);
            if k < 30 {
                assert!(s.reward < 0.0, "moving away: {}", s.reward);
            }
            if s.info.value(env.spec(), "hits") == Some(1.0) {
                let p = env.physics().qpos();
                let d = (p[0] - tx).hypot(p[1] - ty);
                let expect = PROGRESS_WEIGHT * (d0 - d) + HIT_REWARD;
                assert!((total - expect).abs() < 1e-9, "{total} vs {expect}");
                assert!(d <= TARGET_RADIUS);
                return;
            }
            obs = s.obs;
        }
        panic!("no hit");
    }

    #[test]
    fn model_layout_and_first_observation() {
        let (env, obs) = reset(0);
        let groups: Vec<(&str, usize)> = env
            .spec()
            .layout
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.len))
            .collect();
        assert_eq!(
            groups,
            [
                ("position", 2),
                ("velocity", 2),
                ("targets", 8),
                ("next_target", 4),
                ("last_targets", 8)
            ]
        );
        assert_eq!(env.spec().info_names, INFO_NAMES.to_vec());
        assert_eq!(env.spec().max_episode_steps, Some(1000));
        assert_eq!(env.n_sub_steps(), 1);
        let physics = env.physics();
        assert!(physics.geom_id("target").is_err());
        for (id, site) in TARGET_SITES.iter().enumerate() {
            let [x, y] = TARGET_POSITIONS[id];
            let xpos = physics.site_xpos(physics.site_id(site).unwrap());
            for (a, b) in xpos.iter().zip([x, y, TARGET_HEIGHT]) {
                assert!((a - b).abs() < 1e-12, "{site}: {xpos:?}");
            }
            assert_eq!(group(&env, &obs, "targets")[2 * id..2 * id + 2], [x, y]);
        }
        assert_eq!(group(&env, &obs, "velocity"), [0.0, 0.0]);
        assert!(hot(group(&env, &obs, "next_target")).is_some());
        assert_eq!(group(&env, &obs, "last_targets"), [0.0; 8]);
        // Draw order: the two joint positions, then the first target.
        let mut random = RandomState::new(0);
        let x = random.uniform(-0.29, 0.29);
        let y = random.uniform(-0.29, 0.29);
        let first = draw_next(None, None, &mut random);
        let position = group(&env, &obs, "position");
        assert!((position[0] - x).abs() < 1e-12 && (position[1] - y).abs() < 1e-12);
        assert_eq!(hot(group(&env, &obs, "next_target")), Some(first));
    }

    #[test]
    fn a_visit_completes_after_the_dwell() {
        let (mut env, obs) = reset(0);
        let old = hot(group(&env, &obs, "next_target")).unwrap();
        let [x, y] = TARGET_POSITIONS[old];
        place(&mut env, x, y);
        for k in 1..=DWELL {
            let (s, visited, next, visits) = step(&mut env, &ZERO_ACTION);
            // At rest: no progress (after the first step, which counts the
            // jump `place` made); the hit pays at its step.
            if k > 1 {
                let want = if k == DWELL { HIT_REWARD } else { 0.0 };
                assert_eq!(s.reward, want, "step {k}");
            }
            let shown_next = hot(group(&env, &s.obs, "next_target")).unwrap();
            let last_targets = group(&env, &s.obs, "last_targets");
            assert_eq!(shown_next as f64, next);
            if k < DWELL {
                assert_eq!(visited, -1.0, "step {k}");
                assert_eq!(next, old as f64, "step {k}");
                assert_eq!(visits, 0.0);
                assert_eq!(last_targets, [0.0; 8]);
            } else {
                assert_eq!(visited, old as f64);
                assert_ne!(next, old as f64);
                assert_eq!(visits, 1.0);
                assert_eq!(hot(&last_targets[..4]), Some(old));
                assert_eq!(last_targets[4..], [0.0; 4]);
            }
        }
        // The next step is an ordinary one again.
        let (_, visited, next, visits) = step(&mut env, &ZERO_ACTION);
        assert_eq!(visited, old as f64);
        assert_ne!(next, old as f64);
        assert_eq!(visits, 1.0);
    }

    #[test]
    fn the_dwell_counts_consecutive_steps() {
        let (mut env, obs) = reset(1);
        let target = hot(group(&env, &obs, "next_target")).unwrap();
        let [x, y] = TARGET_POSITIONS[target];
        place(&mut env, x, y);
        for _ in 1..DWELL {
            assert_eq!(step(&mut env, &ZERO_ACTION).1, -1.0);
        }
        // One step outside restarts the count.
        place(&mut env, x - x.signum() * 0.1, y);
        assert_eq!(step(&mut env, &ZERO_ACTION).1, -1.0);
        place(&mut env, x, y);
        for _ in 1..DWELL {
            assert_eq!(step(&mut env, &ZERO_ACTION).1, -1.0);
        }
        assert_eq!(step(&mut env, &ZERO_ACTION).1, target as f64);
    }

    #[test]
    fn any_target_can_be_visited_once_in_a_row() {
        let (mut env, obs) = reset(2);
        let next = hot(group(&env, &obs, "next_target")).unwrap();
        let other = (next + 1) % N_TARGETS;
        let [x, y] = TARGET_POSITIONS[other];
        place(&mut env, x, y);
        let mut last = (-1.0, 0.0);
        for _ in 0..DWELL {
            let (s, visited, _, visits) = step(&mut env, &ZERO_ACTION);
            last = (visited, visits);
            assert_eq!(s.info.value(env.spec(), "hits"), Some(0.0));
        }
        // A visit, though not a hit; it is the history the observation shows.
        assert_eq!(last, (other as f64, 1.0));
        let (s, _, next_after, _) = step(&mut env, &ZERO_ACTION);
        assert_eq!(hot(&group(&env, &s.obs, "last_targets")[..4]), Some(other));
        assert_ne!(next_after, other as f64);
        // Resting on at the last visited target is not another visit.
        for _ in 0..3 * DWELL {
            assert_eq!(step(&mut env, &ZERO_ACTION).3, 1.0);
        }
    }

    /// An episode under a proportional controller towards the next target:
    /// the first observation, every step's `next_target` and the number of
    /// visits.
    fn rollout(env: &mut DmcEnv, seed: u64) -> (Vec<f64>, Vec<f64>, f64) {
        let (first, _) = env.reset(Some(seed)).unwrap();
        let mut obs = first.clone();
        let mut nexts = Vec::new();
        loop {
            let position = group(env, &obs, "position");
            let [tx, ty] = TARGET_POSITIONS[hot(group(env, &obs, "next_target")).unwrap()];
            let action = [
                (20.0 * (tx - position[0])).clamp(-1.0, 1.0),
                (20.0 * (ty - position[1])).clamp(-1.0, 1.0),
            ];
            let (s, _, next, visits) = step(env, &action);
            nexts.push(next);
            if s.terminated || s.truncated {
                assert!(s.truncated && !s.terminated);
                return (first, nexts, visits);
            }
            obs = s.obs;
        }
    }

    #[test]
    fn a_seed_reproduces_the_episode() {
        let mut env = TASKS[0].make_raw().unwrap();
        let a = rollout(&mut env, 0);
        let b = rollout(&mut env, 0);
        let c = rollout(&mut TASKS[0].make_raw().unwrap(), 0);
        assert_eq!(a.1.len(), 1000);
        assert!(a.2 >= 3.0, "{} visits", a.2);
        assert_eq!(a, b);
        assert_eq!(a, c);
        let other = rollout(&mut env, 1);
        assert_ne!(a.0, other.0);
        assert_ne!(a.1, other.1);
    }
}
