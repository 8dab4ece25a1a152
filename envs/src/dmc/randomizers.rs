//! dm_control's `suite/utils/randomizers.py`: random initial joint
//! configurations.
//!
//! Contract: draws from the task's [`RandomState`] in exactly dm_control's
//! order (joint order; `uniform`, `randn` and `rand` calls as dm_control makes
//! them) and normalises with numpy's rounding ([`numpy_norm`]), so the same
//! seed gives the same initial state bit for bit.

use crate::numpy::numpy_norm;
use crate::physics::Physics;
use crate::rng::RandomState;

/// Sets every hinge and slide joint with limits to a uniform value in its
/// range, every unlimited hinge to a uniform angle in [-π, π), every ball to a
/// random (limited) quaternion and every free joint's orientation to a random
/// quaternion — dm_control's `randomizers.randomize_limited_and_rotational_joints`,
/// drawing from `random` in joint order.
pub(crate) fn randomize_limited_and_rotational_joints(
    physics: &mut Physics,
    random: &mut RandomState,
) {
    use mujoco_rs::prelude::MjtJoint;
    let njnt = physics.model().ffi().njnt as usize;
    for j in 0..njnt {
        let (kind, limited, range, adr) = {
            let m = physics.model();
            (
                m.jnt_type()[j],
                m.jnt_limited()[j],
                m.jnt_range()[j],
                m.jnt_qposadr()[j] as usize,
            )
        };
        let qpos = physics.data_mut().qpos_mut();
        match (kind, limited) {
            (MjtJoint::mjJNT_HINGE | MjtJoint::mjJNT_SLIDE, true) => {
                qpos[adr] = random.uniform(range[0], range[1]);
            }
            (MjtJoint::mjJNT_HINGE, false) => {
                qpos[adr] = random.uniform(-std::f64::consts::PI, std::f64::consts::PI);
            }
            (MjtJoint::mjJNT_BALL, true) => {
                let q = random_limited_quaternion(random, range[1]);
                qpos[adr..adr + 4].copy_from_slice(&q);
            }
            (MjtJoint::mjJNT_BALL, false) => {
                let q = normalized4(random.randn(4));
                qpos[adr..adr + 4].copy_from_slice(&q);
            }
            (MjtJoint::mjJNT_FREE, _) => {
                let q = normalized4(random.rand(4));
                qpos[adr + 3..adr + 7].copy_from_slice(&q);
            }
            _ => {}
        }
    }
}

/// `v / np.linalg.norm(v)` for a 4-vector.
fn normalized4(v: Vec<f64>) -> [f64; 4] {
    let n = numpy_norm(&v);
    [v[0] / n, v[1] / n, v[2] / n, v[3] / n]
}

/// dm_control's `random_limited_quaternion`: a random axis and an angle in
/// `[0, limit)`, converted with `mju_axisAngle2Quat`.
fn random_limited_quaternion(random: &mut RandomState, limit: f64) -> [f64; 4] {
    let axis = random.randn(3);
    let n = numpy_norm(&axis);
    let axis = [axis[0] / n, axis[1] / n, axis[2] / n];
    let angle = random.rand(1)[0] * limit;
    let (s, c) = (angle / 2.0).sin_cos();
    [c, axis[0] * s, axis[1] * s, axis[2] * s]
}
