//! Swimmer domain: a procedurally generated planar N-link swimmer in a
//! viscous fluid that swims its nose to a target (dm_control
//! `suite/swimmer.py`).
//!
//! The model is generated from `swimmer.xml` as dm_control's `_make_model`
//! does: a chain of `n_bodies - 1` segments under the head, each with a
//! visual and an inertial geom, a site and a limited hinge of range
//! `±360/n_bodies` degrees; one motor per hinge; a velocimeter and a gyro per
//! segment site in a second sensor section; tracking cameras moved away by
//! `n_bodies / 6`.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 30.0;
const CONTROL_TIMESTEP: f64 = 0.03;

/// The swimmer tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("swimmer-swimmer6", "swimmer", "swimmer6", |name| make_swimmer(name, 6)),
    TaskDef::dmc("swimmer-swimmer15", "swimmer", "swimmer15", |name| make_swimmer(name, 15)),
];

/// A swimmer environment with `n_bodies` bodies (head included).
pub fn make_swimmer(name: &str, n_bodies: usize) -> Result<DmcEnv, EnvError> {
    let xml = make_model(n_bodies)?;
    let physics = Physics::from_xml_in_assets(&xml, "swimmer.xml")?;
    let task = Swimmer::new(&physics)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// The MJCF of a swimmer with `n_bodies` bodies, generated from the suite's
/// `swimmer.xml` (dm_control's `_make_model`).
pub fn make_model(n_bodies: usize) -> Result<String, EnvError> {
    if n_bodies < 3 {
        return Err(EnvError::Invalid(format!(
            "at least 3 bodies required, received {n_bodies}"
        )));
    }
    let base = Physics::read_asset("swimmer.xml")?;
    let malformed = |what: &str| EnvError::Model(format!("swimmer.xml: {what}"));

    // The chain of segments, each nested in the previous one.
    let joint_limit = 360.0 / n_bodies as f64;
    let mut chain = String::new();
    let mut actuators = String::from("<actuator>\n");
    let mut sensors = String::from("<sensor>\n");
    for i in 0..n_bodies - 1 {
        chain.push_str(&format!(
            "<body name=\"segment_{i}\" pos=\"0 .1 0\">\
             <geom class=\"visual\" name=\"visual_{i}\"/>\
             <geom class=\"inertial\" name=\"inertial_{i}\"/>\
             <site name=\"site_{i}\"/>\
             <joint name=\"joint_{i}\" range=\"{:?} {:?}\"/>\n",
            -joint_limit, joint_limit
        ));
        actuators.push_str(&format!(
            "<motor name=\"motor_{i}\" joint=\"joint_{i}\"/>\n"
        ));
        sensors.push_str(&format!(
            "<velocimeter name=\"velocimeter_{i}\" site=\"site_{i}\"/>\n\
             <gyro name=\"gyro_{i}\" site=\"site_{i}\"/>\n"
        ));
    }
    chain.push_str(&"</body>".repeat(n_bodies - 1));
    chain.push('\n');
    actuators.push_str("</actuator>\n");
    sensors.push_str("</sensor>\n");

    // The head is the first body of the worldbody; the chain is its last child.
    let worldbody = base
        .find("<worldbody>")
        .ok_or_else(|| malformed("no worldbody"))?;
    let head_start = worldbody
        + base[worldbody..]
            .find("<body")
            .ok_or_else(|| malformed("no head body"))?;
    let head_end = head_start
        + 1
        + base[head_start + 1..]
            .find("</body>")
            .ok_or_else(|| malformed("unterminated head body"))?;
    if base[head_start + 1..head_end].contains("<body") {
        return Err(malformed("the head body has unexpected child bodies"));
    }
    let root_end = base
        .rfind("</mujoco>")
        .ok_or_else(|| malformed("no closing mujoco tag"))?;

    let head = scale_tracking_cameras(&base[head_start..head_end], n_bodies as f64 / 6.0)?;
    let mut xml = String::with_capacity(base.len() + chain.len() + 4096);
    xml.push_str(&base[..head_start]);
    xml.push_str(&head);
    xml.push_str(&chain);
    xml.push_str(&base[head_end..root_end]);
    xml.push_str(&actuators);
    xml.push_str(&sensors);
    xml.push_str(&base[root_end..]);
    Ok(xml)
}

/// Multiplies the `pos` of every `trackcom` camera in `text` by `scale`,
/// writing each coordinate as Python's `str(float)` does.
fn scale_tracking_cameras(text: &str, scale: f64) -> Result<String, EnvError> {
    let bad = |what: &str| EnvError::Model(format!("swimmer.xml camera: {what}"));
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("<camera") {
        let len = rest[start..]
            .find('>')
            .ok_or_else(|| bad("unterminated tag"))?
            + 1;
        let tag = &rest[start..start + len];
        out.push_str(&rest[..start]);
        if tag.contains("mode=\"trackcom\"") {
            let p = tag.find(" pos=\"").ok_or_else(|| bad("no pos"))? + 6;
            let q = p + tag[p..].find('"').ok_or_else(|| bad("unterminated pos"))?;
            let scaled = tag[p..q]
                .split(' ')
                .map(|d| {
                    d.parse::<f64>()
                        .map(|v| format!("{:?}", v * scale))
                        .map_err(|_| bad("pos is not numeric"))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(" ");
            out.push_str(&tag[..p]);
            out.push_str(&scaled);
            out.push_str(&tag[q..]);
        } else {
            out.push_str(tag);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Swim the nose to a target placed at random, near (probability 0.2) or far.
pub struct Swimmer {
    head: usize,
    nose: usize,
    target: usize,
    target_light: usize,
    /// Number of bodies (head and segments).
    n_bodies: usize,
    /// Start of the velocimeter/gyro pairs in `sensordata`.
    body_sensors: usize,
}

impl Swimmer {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        let target_light = physics
            .model()
            .name_to_id(MjtObjBase::mjOBJ_LIGHT, "target_light")
            .ok_or_else(|| EnvError::Model("the model has no light named 'target_light'".into()))?;
        let body_sensors = physics.sensor_range("head_vel")?.start;
        let n_bodies = physics.nv() - 2;
        if body_sensors + 6 * n_bodies != physics.sensordata().len() {
            return Err(EnvError::Model(
                "swimmer sensors do not match its bodies".into(),
            ));
        }
        Ok(Swimmer {
            head: physics.body_id("head")?,
            nose: physics.geom_id("nose")?,
            target: physics.geom_id("target")?,
            target_light,
            n_bodies,
            body_sensors,
        })
    }

    /// Vector from nose to target in the head's frame (x and y).
    fn nose_to_target(&self, physics: &Physics) -> [f64; 2] {
        let t = physics.geom_xpos(self.target);
        let n = physics.geom_xpos(self.nose);
        let d = [t[0] - n[0], t[1] - n[1], t[2] - n[2]];
        let r = physics.xmat(self.head);
        [
            d[0] * r[0] + d[1] * r[3] + d[2] * r[6],
            d[0] * r[1] + d[1] * r[4] + d[2] * r[7],
        ]
    }
}

impl Task for Swimmer {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("joints", self.n_bodies - 1),
            ("to_target", 2),
            ("body_velocities", 3 * self.n_bodies),
        ])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // Random joint angles.
        randomize_limited_and_rotational_joints(physics, random);
        // Random target position.
        let close_target = random.random_sample() < 0.2;
        let target_box = if close_target { 0.3 } else { 2.0 };
        let xpos = random.uniform(-target_box, target_box);
        let ypos = random.uniform(-target_box, target_box);
        let model = physics.model_mut();
        model.geom_pos_mut()[self.target][0] = xpos;
        model.geom_pos_mut()[self.target][1] = ypos;
        model.light_pos_mut()[self.target_light][0] = xpos;
        model.light_pos_mut()[self.target_light][1] = ypos;
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        // Internal joint angles (without the root's x, y and rotation).
        put(out, &mut at, &physics.qpos()[3..]);
        put(out, &mut at, &self.nose_to_target(physics));
        // Local body velocities: linear x, y and rotational z of each body.
        let sensors = &physics.sensordata()[self.body_sensors..];
        for body in sensors.chunks_exact(6) {
            put(out, &mut at, &[body[0], body[1], body[5]]);
        }
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let target_size = physics.model().geom_size()[self.target][0];
        let d = self.nose_to_target(physics);
        let dist = (d[0] * d[0] + d[1] * d[1]).sqrt();
        Tolerance::bounds(0.0, target_size)
            .margin(5.0 * target_size)
            .sigmoid(Sigmoid::LongTail)
            .eval(dist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_model_has_the_chain_actuators_and_sensors() {
        let Ok(xml) = make_model(6) else {
            return; // assets not set up
        };
        let physics = Physics::from_xml_in_assets(&xml, "swimmer.xml").unwrap();
        let m = physics.model().ffi();
        assert_eq!(m.nbody, 7); // world, head, 5 segments
        assert_eq!(m.njnt, 8);
        assert_eq!(m.nu, 5);
        assert_eq!(m.nsensor, 6 + 10);
        assert_eq!(physics.sensordata().len(), 12 + 6 * 6);
        assert!(physics.body_id("segment_4").is_ok());
        assert!(physics.joint_id("joint_4").is_ok());
        assert!(physics.actuator_id("motor_4").is_ok());
        assert!(physics.site_id("site_4").is_ok());
        let range = physics.model().jnt_range()[physics.joint_id("joint_0").unwrap()];
        assert!((range[1] - 60f64.to_radians()).abs() < 1e-12);
        assert!(make_model(2).is_err());
    }
}
