//! The quadruped's body as every quadruped task sees it: dm_control's
//! quadruped `Physics` helpers (egocentric state, torso frame, upright
//! reward, IMU and toe sensors) and `_find_non_contacting_height`.
//!
//! Contract: model indices are looked up once in [`Body::new`]; every method
//! reads (or, for [`Body::find_non_contacting_height`], resets and writes)
//! the given physics exactly as dm_control's `suite/quadruped.py` does.

use mujoco_rs::prelude::{MjtJoint, MjtSensor};

use crate::dmc::put;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::error::EnvError;
use crate::physics::{Physics, mat};

/// Model indices shared by the tasks (dm_control's quadruped `Physics`).
pub(super) struct Body {
    torso: usize,
    root_qpos: usize,
    /// `qpos` / `qvel` addresses of the hinge joints, in joint order.
    hinge_qpos: Vec<usize>,
    hinge_dof: Vec<usize>,
    velocimeter: std::ops::Range<usize>,
    /// `sensordata` indices of the gyro and accelerometer sensors.
    imu: Vec<usize>,
    /// `sensordata` indices of the force and torque sensors.
    force_torque: Vec<usize>,
}

impl Body {
    pub(super) fn new(physics: &Physics) -> Result<Self, EnvError> {
        let m = physics.model();
        let (mut hinge_qpos, mut hinge_dof) = (Vec::new(), Vec::new());
        for j in 0..m.ffi().njnt as usize {
            if m.jnt_type()[j] == MjtJoint::mjJNT_HINGE {
                hinge_qpos.push(m.jnt_qposadr()[j] as usize);
                hinge_dof.push(m.jnt_dofadr()[j] as usize);
            }
        }
        Ok(Body {
            torso: physics.body_id("torso")?,
            root_qpos: physics.joint_qpos_adr("root")?,
            hinge_qpos,
            hinge_dof,
            velocimeter: physics.sensor_range("velocimeter")?,
            imu: sensor_indices(
                physics,
                &[MjtSensor::mjSENS_GYRO, MjtSensor::mjSENS_ACCELEROMETER],
            ),
            force_torque: sensor_indices(
                physics,
                &[MjtSensor::mjSENS_FORCE, MjtSensor::mjSENS_TORQUE],
            ),
        })
    }

    pub(super) fn common_layout(&self, na: usize) -> Vec<(&'static str, usize)> {
        vec![
            ("egocentric_state", 2 * self.hinge_qpos.len() + na),
            ("torso_velocity", 3),
            ("torso_upright", 1),
            ("imu", self.imu.len()),
            ("force_torque", self.force_torque.len()),
        ]
    }

    /// `_common_observations`: egocentric state (hinge positions and
    /// velocities, actuator activations), torso velocity, torso uprightness,
    /// IMU and `arcsinh` of the toe force/torque sensors.
    pub(super) fn common_observations(&self, physics: &Physics, out: &mut [f64], at: &mut usize) {
        let (qpos, qvel) = (physics.qpos(), physics.qvel());
        for &a in &self.hinge_qpos {
            put(out, at, &[qpos[a]]);
        }
        for &a in &self.hinge_dof {
            put(out, at, &[qvel[a]]);
        }
        put(out, at, physics.data().act());
        let sensordata = physics.sensordata();
        put(out, at, &sensordata[self.velocimeter.clone()]);
        put(out, at, &[self.torso_upright(physics)]);
        for &i in &self.imu {
            put(out, at, &[sensordata[i]]);
        }
        for &i in &self.force_torque {
            put(out, at, &[sensordata[i].asinh()]);
        }
    }

    /// z component of the torso's z axis.
    fn torso_upright(&self, physics: &Physics) -> f64 {
        physics.xmat(self.torso)[mat::ZZ]
    }

    /// Velocimeter reading (torso velocity in its own frame).
    pub(super) fn torso_velocity(&self, physics: &Physics) -> [f64; 3] {
        let s = &physics.sensordata()[self.velocimeter.clone()];
        [s[0], s[1], s[2]]
    }

    /// `_upright_reward`: 1 when the torso's z axis is within
    /// `deviation_angle` degrees of vertical, falling linearly to 0 upside
    /// down.
    pub(super) fn upright_reward(&self, physics: &Physics, deviation_angle: f64) -> f64 {
        let deviation = (deviation_angle * (std::f64::consts::PI / 180.0)).cos();
        Tolerance::bounds(deviation, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(1.0 + deviation)
            .value_at_margin(0.0)
            .eval(self.torso_upright(physics))
    }

    /// Moves the torso up from the floor in 1 cm steps, with the given
    /// orientation and horizontal position, until nothing touches
    /// (`_find_non_contacting_height`; each try is a full reset).
    pub(super) fn find_non_contacting_height(
        &self,
        physics: &mut Physics,
        orientation: [f64; 4],
        x: f64,
        y: f64,
    ) -> Result<(), EnvError> {
        let mut z = 0.0;
        let mut attempts = 0;
        loop {
            physics.reset();
            let q = &mut physics.data_mut().qpos_mut()[self.root_qpos..self.root_qpos + 7];
            q[..3].copy_from_slice(&[x, y, z]);
            q[3..].copy_from_slice(&orientation);
            // A full contact buffer raises a physics error here: dm_control
            // ignores it and tries the next height.
            let _ = physics.after_reset();
            let contacts = physics.data().ncon();
            z += 0.01;
            attempts += 1;
            if attempts > 10_000 {
                return Err(EnvError::Invalid(
                    "quadruped: failed to find a non-contacting configuration".into(),
                ));
            }
            if contacts == 0 {
                return Ok(());
            }
        }
    }

    /// `v @ torso_frame`: a world vector in the torso frame.
    pub(super) fn to_torso_frame(&self, physics: &Physics, v: [f64; 3]) -> [f64; 3] {
        let m = physics.xmat(self.torso);
        std::array::from_fn(|j| v[0] * m[j] + v[1] * m[3 + j] + v[2] * m[6 + j])
    }

    /// World position of the torso.
    pub(super) fn torso_pos(&self, physics: &Physics) -> [f64; 3] {
        *physics.xpos(self.torso)
    }
}

/// `sensordata` indices of every sensor whose type is one of `types`, in
/// sensor order.
pub(super) fn sensor_indices(physics: &Physics, types: &[MjtSensor]) -> Vec<usize> {
    let m = physics.model();
    (0..m.ffi().nsensor as usize)
        .filter(|&s| types.contains(&m.sensor_type()[s]))
        .flat_map(|s| {
            let adr = m.sensor_adr()[s] as usize;
            adr..adr + m.sensor_dim()[s] as usize
        })
        .collect()
}
