//! The grasp terms of `SawyerXYZEnv` that many rewards share: whether both
//! finger pads push on an object (`touching_object`) and the caging reward
//! (`_gripper_caging_reward`), with metaworld's types: the gripper effort
//! is the float32 action, so the caging reward becomes float32 once the
//! gripper closes on the object (see [`Num`]).

use super::Sawyer;
use super::rewards::{Num, Sigmoid, hamacher, tolerance};
use crate::numpy::numpy_norm;

/// The arguments of `_gripper_caging_reward` after the action and object.
#[derive(Debug, Clone, Copy)]
pub struct Caging {
    /// Radius of the object's bounding sphere.
    pub obj_radius: f64,
    /// Pad-to-object distance counted as caged.
    pub pad_success_thresh: f64,
    /// Tool-to-object distance counted as reached (`medium_density`).
    pub object_reach_radius: f64,
    /// Tool-to-object distance in the x-z plane counted as caged.
    pub xz_thresh: f64,
    /// Gripper effort counted as fully closed.
    pub desired_gripper_effort: f64,
    /// Average with the caging term.
    pub high_density: bool,
    /// Average with a reach term.
    pub medium_density: bool,
}

impl Caging {
    /// metaworld's defaults for the optional arguments.
    pub const fn new(
        obj_radius: f64,
        pad_success_thresh: f64,
        object_reach_radius: f64,
        xz_thresh: f64,
    ) -> Self {
        Caging {
            obj_radius,
            pad_success_thresh,
            object_reach_radius,
            xz_thresh,
            desired_gripper_effort: 1.0,
            high_density: false,
            medium_density: false,
        }
    }

    /// With `high_density=True`.
    pub const fn high_density(self) -> Self {
        Caging {
            high_density: true,
            ..self
        }
    }

    /// With `medium_density=True`.
    pub const fn medium_density(self) -> Self {
        Caging {
            medium_density: true,
            ..self
        }
    }
}

/// `min(max(0, action[-1]), effort)` as Python computes it: the float32
/// gripper action while it lies in (0, effort], else the Python number 0 or
/// `effort`. NumPy 2 compares the float32 action with the Python number in
/// float32.
pub fn gripper_effort(action: &[f32; 4], effort: f64) -> Num {
    let a = action[3];
    if a > 0.0 {
        if (effort as f32) < a {
            Num::Py(effort)
        } else {
            Num::F32(a)
        }
    } else {
        Num::Py(0.0)
    }
}

impl Sawyer {
    /// `touching_object(geom)`: the constraint forces of the contacts
    /// between each finger pad and the geom, summed per pad in contact
    /// order, are both positive. (A contact without constraint rows has
    /// `efc_address` -1, which Python reads as the last row.)
    pub fn touching_object(&self, geom: usize) -> bool {
        let data = self.physics().data();
        // SAFETY: after the step's forward, efc_force holds the nefc
        // constraint forces of the current contacts.
        let forces = unsafe { data.efc_force() };
        let force = |pad: usize| {
            let mut sum = 0.0;
            for c in data.contact() {
                let (g1, g2) = (c.geom1 as usize, c.geom2 as usize);
                if (g1 == pad || g2 == pad) && (g1 == geom || g2 == geom) {
                    let row = if c.efc_address < 0 {
                        forces
                            .len()
                            .wrapping_sub(c.efc_address.unsigned_abs() as usize)
                    } else {
                        c.efc_address as usize
                    };
                    sum += forces.get(row).copied().unwrap_or(0.0);
                }
            }
            sum
        };
        force(self.left_pad_geom) > 0.0 && force(self.right_pad_geom) > 0.0
    }

    /// `_gripper_caging_reward(action, obj_pos, ...)` with the object's
    /// initial position `obj_init`.
    pub fn caging_reward(
        &self,
        action: &[f32; 4],
        obj: [f64; 3],
        obj_init: [f64; 3],
        c: Caging,
    ) -> Num {
        let left = self.body_pos(self.left_pad);
        let right = self.body_pos(self.right_pad);
        let caging_lr = [left[1], right[1]].map(|pad_y| {
            let pad_to_obj = (pad_y - obj[1]).abs();
            let pad_to_obj_init = (pad_y - obj_init[1]).abs();
            let margin = (pad_to_obj_init - c.pad_success_thresh).abs();
            tolerance(
                pad_to_obj,
                c.obj_radius,
                c.pad_success_thresh,
                margin,
                Sigmoid::LongTail,
            )
        });
        let caging_y = hamacher(Num::Py(caging_lr[0]), Num::Py(caging_lr[1]));
        let tcp = self.tcp_center();
        let init = self.init_tcp;
        let xz_margin = numpy_norm(&[obj_init[0] - init[0], obj_init[2] - init[2]]) - c.xz_thresh;
        let caging_xz = tolerance(
            numpy_norm(&[tcp[0] - obj[0], tcp[2] - obj[2]]),
            0.0,
            c.xz_thresh,
            xz_margin,
            Sigmoid::LongTail,
        );
        let effort = c.desired_gripper_effort;
        let gripper_closed = gripper_effort(action, effort) / Num::Py(effort);
        let caging = hamacher(caging_y, Num::Py(caging_xz));
        let gripping = if caging.get() > 0.97 {
            gripper_closed
        } else {
            Num::Py(0.0)
        };
        let mut caging_and_gripping = hamacher(caging, gripping);
        if c.high_density {
            caging_and_gripping = (caging_and_gripping + caging) / Num::Py(2.0);
        }
        if c.medium_density {
            let tcp_to_obj = numpy_norm(&[0, 1, 2].map(|i| obj[i] - tcp[i]));
            let tcp_to_obj_init = numpy_norm(&[0, 1, 2].map(|i| obj_init[i] - init[i]));
            let reach_margin = (tcp_to_obj_init - c.object_reach_radius).abs();
            let reach = tolerance(
                tcp_to_obj,
                0.0,
                c.object_reach_radius,
                reach_margin,
                Sigmoid::LongTail,
            );
            caging_and_gripping = (caging_and_gripping + Num::Py(reach)) / Num::Py(2.0);
        }
        caging_and_gripping
    }
}
