//! The MuJoCo layer: one model and its data, stepped with dm_control's semantics.
//!
//! dm_control's `mujoco.Physics` differs from a plain `mj_step` loop in ways
//! that change observations and rewards, and this type reproduces them:
//!
//! * **legacy step** (`Physics._step_with_up_to_date_position_velocity`): for
//!   non-RK4 integrators a control step is `mj_step2` (finishing the step whose
//!   `mj_step1` ran at the end of the previous one), `mj_step` for the remaining
//!   sub-steps, then `mj_step1`, so positions, contacts, `xpos`/`xmat` and
//!   position/velocity sensors describe the *new* state. RK4: `mj_step` × n, then
//!   `mj_step1`.
//! * **reset**: `mj_resetData` then `mj_forward` with actuation disabled, and
//!   the same forward again after the task has set the initial state.
//! * **divergence**: when MuJoCo raises a new warning during a step (bad qacc,
//!   NaN state, ...), dm_control raises `PhysicsError`; here `step` returns a
//!   [`PhysicsError`] naming the warnings.
//!
//! Loading a model first installs [`crate::mujoco_log::print_warnings_once`],
//! so a compiler warning repeated by every load (cheetah's deprecated
//! `settotalmass`) is printed once per process.

use std::path::{Path, PathBuf};

use mujoco_rs::mujoco_c::{mjtDisableBit, mjtIntegrator, mjtWarning};
use mujoco_rs::prelude::*;
use mujoco_rs::wrappers::mj_auxiliary::MjVfs;

use crate::error::{EnvError, PhysicsError};

/// MuJoCo's warning names, in `mjtWarning` order (as dm_control reports them).
const WARNING_NAMES: [&str; mjtWarning::mjNWARNING as usize] = [
    "mjWARN_INERTIA",
    "mjWARN_CONTACTFULL",
    "mjWARN_CNSTRFULL",
    "mjWARN_VGEOMFULL",
    "mjWARN_BADQPOS",
    "mjWARN_BADQVEL",
    "mjWARN_BADQACC",
];
const NWARNING: usize = mjtWarning::mjNWARNING as usize;

/// Environment variable that overrides where the dm_control suite assets live.
pub const ASSETS_ENV: &str = "CTRLBENCH_ASSETS";

/// The directory holding dm_control's suite XML files (`cartpole.xml`,
/// `common/`, `dog_assets/`): `$CTRLBENCH_ASSETS` if set, else the folder
/// `make setup` prepared for this checkout.
pub fn assets_dir() -> Result<PathBuf, EnvError> {
    let dir = std::env::var_os(ASSETS_ENV)
        .map(PathBuf::from)
        .or_else(|| option_env!("CTRLBENCH_ASSET_DIR").map(PathBuf::from));
    match dir {
        Some(d) if d.join("common").is_dir() => Ok(d),
        Some(d) => Err(EnvError::Assets(format!(
            "dm_control assets not found in {}: run `make setup` (or point {ASSETS_ENV} at dm_control/suite)",
            d.display()
        ))),
        None => Err(EnvError::Assets(format!(
            "dm_control assets are not configured: run `make setup` (or set {ASSETS_ENV})"
        ))),
    }
}

/// A MuJoCo model and its simulation state.
pub struct Physics {
    data: MjData<Box<MjModel>>,
    warnings_before: [i32; NWARNING],
}

impl Physics {
    /// Loads a model from a file in the suite asset directory (e.g. `"cartpole.xml"`).
    pub fn load(file: &str) -> Result<Self, EnvError> {
        let path = assets_dir()?.join(file);
        Self::from_xml_path(&path)
    }

    /// Loads a model from an XML file; includes resolve relative to it.
    pub fn from_xml_path(path: &Path) -> Result<Self, EnvError> {
        if !path.is_file() {
            return Err(EnvError::Assets(format!(
                "model file {} does not exist: run `make setup`",
                path.display()
            )));
        }
        crate::mujoco_log::print_warnings_once();
        let model = MjModel::from_xml(path)
            .map_err(|e| EnvError::Model(format!("{}: {e}", path.display())))?;
        Ok(Self::from_model(model))
    }

    /// Compiles a generated model (e.g. dm_control's swimmer with N links)
    /// as if it were the file `name` in the suite asset directory, so its
    /// includes (`./common/...`) resolve as they do for the suite's own files.
    pub fn from_xml_in_assets(xml: &str, name: &str) -> Result<Self, EnvError> {
        let path = assets_dir()?.join(name);
        crate::mujoco_log::print_warnings_once();
        let mut vfs = MjVfs::new();
        vfs.add_from_buffer(&path, xml.as_bytes())
            .map_err(|e| EnvError::Model(format!("{name}: {e}")))?;
        let model = MjModel::from_xml_vfs(&path, &vfs)
            .map_err(|e| EnvError::Model(format!("{name}: {e}")))?;
        Ok(Self::from_model(model))
    }

    /// Reads a file of the suite asset directory (to generate a model from it).
    pub fn read_asset(name: &str) -> Result<String, EnvError> {
        let path = assets_dir()?.join(name);
        std::fs::read_to_string(&path)
            .map_err(|e| EnvError::Assets(format!("{}: {e}: run `make setup`", path.display())))
    }

    fn from_model(model: MjModel) -> Self {
        Physics {
            data: MjData::new(Box::new(model)),
            warnings_before: [0; NWARNING],
        }
    }

    /// The compiled model.
    pub fn model(&self) -> &MjModel {
        self.data.model()
    }

    /// Mutable access to the model's parameters (sizes, positions, gains), as
    /// dm_control tasks edit `physics.model` during `initialize_episode`.
    /// Only values may change, never array sizes.
    pub fn model_mut(&mut self) -> &mut MjModel {
        // SAFETY: the model is owned by this data and callers only edit
        // parameter values; no size, index or address table changes.
        unsafe { self.data.model_mut() }
    }

    /// The simulation state.
    pub fn data(&self) -> &MjData<Box<MjModel>> {
        &self.data
    }

    /// Mutable simulation state.
    pub fn data_mut(&mut self) -> &mut MjData<Box<MjModel>> {
        &mut self.data
    }

    /// The physics timestep in seconds.
    pub fn timestep(&self) -> f64 {
        self.model().ffi().opt.timestep
    }

    /// Number of actuators.
    pub fn nu(&self) -> usize {
        self.model().ffi().nu as usize
    }

    /// Number of generalized positions.
    pub fn nq(&self) -> usize {
        self.model().ffi().nq as usize
    }

    /// Number of degrees of freedom.
    pub fn nv(&self) -> usize {
        self.model().ffi().nv as usize
    }

    /// `mj_resetData`, then `mj_forward` without actuation (dm_control's
    /// `Physics.reset`). Warnings raised here are ignored, as dm_control's
    /// `reset_context` ignores them.
    pub fn reset(&mut self) {
        self.data.reset();
        let _ = self.forward_without_actuation();
    }

    /// `mj_resetData` alone (Gymnasium's `MujocoEnv.reset` before
    /// `reset_model`): the model's defaults, no forward.
    pub fn reset_data(&mut self) {
        self.data.reset();
    }

    /// `n` plain `mj_step` calls (Gymnasium's `mj_step(nstep=n)`), checking
    /// for new warnings: the step of suites that are not dm_control's.
    pub fn step_plain(&mut self, n: usize) -> Result<(), PhysicsError> {
        self.mark_warnings();
        for _ in 0..n {
            self.data.step();
        }
        self.check_warnings()
    }

    /// `mj_forward` without actuation, after the task set the initial state
    /// (dm_control's `Physics.after_reset`).
    pub fn after_reset(&mut self) -> Result<(), PhysicsError> {
        self.forward_without_actuation()
    }

    /// `mj_forward`, checking for new warnings.
    pub fn forward(&mut self) -> Result<(), PhysicsError> {
        self.mark_warnings();
        self.data.forward();
        self.check_warnings()
    }

    fn forward_without_actuation(&mut self) -> Result<(), PhysicsError> {
        let flag = mjtDisableBit::mjDSBL_ACTUATION as i32;
        let old = self.data.model_opt().disableflags;
        self.data.model_opt_mut().disableflags = old | flag;
        let result = self.forward();
        self.data.model_opt_mut().disableflags = old;
        result
    }

    /// Advances `n_sub_steps` physics steps with dm_control's legacy step, so
    /// that all position- and velocity-dependent quantities are up to date.
    pub fn step(&mut self, n_sub_steps: usize) -> Result<(), PhysicsError> {
        self.mark_warnings();
        if self.model().ffi().opt.integrator != mjtIntegrator::mjINT_RK4 as i32 {
            self.data.step2();
            for _ in 1..n_sub_steps {
                self.data.step();
            }
        } else {
            for _ in 0..n_sub_steps {
                self.data.step();
            }
        }
        self.data.step1();
        self.check_warnings()
    }

    fn mark_warnings(&mut self) {
        for (b, w) in self.warnings_before.iter_mut().zip(self.data.warning()) {
            *b = w.number;
        }
    }

    fn check_warnings(&self) -> Result<(), PhysicsError> {
        let new = self
            .data
            .warning()
            .iter()
            .zip(self.warnings_before)
            .any(|(w, b)| w.number > b);
        if !new {
            return Ok(());
        }
        let warnings = self
            .data
            .warning()
            .iter()
            .zip(self.warnings_before)
            .enumerate()
            .filter(|(_, (w, b))| w.number > *b)
            .map(|(i, _)| WARNING_NAMES[i])
            .collect();
        Err(PhysicsError {
            warnings,
            time: self.data.time(),
        })
    }

    /// Copies the action into `ctrl` (dm_control's `set_control`; MuJoCo
    /// clamps to `ctrlrange` for control-limited actuators).
    pub fn set_control(&mut self, action: &[f64]) {
        self.data.ctrl_mut().copy_from_slice(action);
    }

    /// Action bounds as dm_control's `action_spec`: the actuator `ctrlrange`
    /// where control-limited, ±∞ otherwise.
    pub fn action_bounds(&self) -> (Vec<f64>, Vec<f64>) {
        let m = self.model();
        let limited = m.actuator_ctrllimited();
        let range = m.actuator_ctrlrange();
        (0..self.nu())
            .map(|i| {
                if limited[i] {
                    (range[i][0], range[i][1])
                } else {
                    (f64::NEG_INFINITY, f64::INFINITY)
                }
            })
            .unzip()
    }

    fn id(&self, kind: MjtObjBase, kind_name: &str, name: &str) -> Result<usize, EnvError> {
        self.model()
            .name_to_id(kind, name)
            .ok_or_else(|| EnvError::Model(format!("the model has no {kind_name} named '{name}'")))
    }

    /// Index of a body by name.
    pub fn body_id(&self, name: &str) -> Result<usize, EnvError> {
        self.id(MjtObjBase::mjOBJ_BODY, "body", name)
    }

    /// Index of a geom by name.
    pub fn geom_id(&self, name: &str) -> Result<usize, EnvError> {
        self.id(MjtObjBase::mjOBJ_GEOM, "geom", name)
    }

    /// Index of a site by name.
    pub fn site_id(&self, name: &str) -> Result<usize, EnvError> {
        self.id(MjtObjBase::mjOBJ_SITE, "site", name)
    }

    /// Index of a joint by name.
    pub fn joint_id(&self, name: &str) -> Result<usize, EnvError> {
        self.id(MjtObjBase::mjOBJ_JOINT, "joint", name)
    }

    /// Index of an actuator by name.
    pub fn actuator_id(&self, name: &str) -> Result<usize, EnvError> {
        self.id(MjtObjBase::mjOBJ_ACTUATOR, "actuator", name)
    }

    /// Address of a joint's first coordinate in `qpos`.
    pub fn joint_qpos_adr(&self, name: &str) -> Result<usize, EnvError> {
        let j = self.joint_id(name)?;
        Ok(self.model().jnt_qposadr()[j] as usize)
    }

    /// Address of a joint's first degree of freedom in `qvel`.
    pub fn joint_dof_adr(&self, name: &str) -> Result<usize, EnvError> {
        let j = self.joint_id(name)?;
        Ok(self.model().jnt_dofadr()[j] as usize)
    }

    /// Range of a sensor's values in `sensordata`.
    pub fn sensor_range(&self, name: &str) -> Result<std::ops::Range<usize>, EnvError> {
        let s = self.id(MjtObjBase::mjOBJ_SENSOR, "sensor", name)?;
        let adr = self.model().sensor_adr()[s] as usize;
        Ok(adr..adr + self.model().sensor_dim()[s] as usize)
    }

    /// `qpos`.
    pub fn qpos(&self) -> &[f64] {
        self.data.qpos()
    }

    /// `qvel`.
    pub fn qvel(&self) -> &[f64] {
        self.data.qvel()
    }

    /// `ctrl`.
    pub fn ctrl(&self) -> &[f64] {
        self.data.ctrl()
    }

    /// Orientation matrix (row-major 3×3) of a body frame.
    pub fn xmat(&self, body: usize) -> &[f64; 9] {
        &self.data.xmat()[body]
    }

    /// Position of a body frame.
    pub fn xpos(&self, body: usize) -> &[f64; 3] {
        &self.data.xpos()[body]
    }

    /// Position of a geom.
    pub fn geom_xpos(&self, geom: usize) -> &[f64; 3] {
        &self.data.geom_xpos()[geom]
    }

    /// Position of a site.
    pub fn site_xpos(&self, site: usize) -> &[f64; 3] {
        &self.data.site_xpos()[site]
    }

    /// `sensordata`.
    pub fn sensordata(&self) -> &[f64] {
        self.data.sensordata()
    }

    /// The full physics state (`mjSTATE_PHYSICS`: time, qpos, qvel, act, ...).
    pub fn state(&self) -> Box<[f64]> {
        self.data.state(MjtState::mjSTATE_PHYSICS as u32)
    }

    /// Simulation time in seconds.
    pub fn time(&self) -> f64 {
        self.data.time()
    }
}

/// Indices into a row-major 3×3 rotation matrix, named as dm_control's
/// `named.data.xmat[body, 'zz']`.
pub mod mat {
    /// x component of the frame's x axis.
    pub const XX: usize = 0;
    /// Row x, column z: x component of the frame's z axis.
    pub const XZ: usize = 2;
    /// z component of the frame's x axis.
    pub const ZX: usize = 6;
    /// z component of the frame's y axis.
    pub const ZY: usize = 7;
    /// z component of the frame's z axis.
    pub const ZZ: usize = 8;
}
