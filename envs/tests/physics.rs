//! The MuJoCo layer: loading, generated models, divergence handling.

use envs::{Env, EnvError, Physics};

#[test]
fn a_generated_model_compiles_like_the_file() {
    let xml = Physics::read_asset("cartpole.xml").unwrap();
    let generated = Physics::from_xml_in_assets(&xml, "cartpole_generated.xml").unwrap();
    let file = Physics::load("cartpole.xml").unwrap();
    assert_eq!(generated.nq(), file.nq());
    assert_eq!(generated.model().ffi().ngeom, file.model().ffi().ngeom);
}

#[test]
fn missing_model_file_names_make_setup() {
    let err = Physics::load("no-such-domain.xml")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("make setup"), "{err}");
}

#[test]
fn a_diverging_simulation_ends_the_episode_and_reset_recovers() {
    let mut env = envs::make_raw("cartpole-swingup").unwrap();
    env.reset(Some(0)).unwrap();
    env.physics_mut().data_mut().qvel_mut()[1] = f64::NAN;
    let err = env.step(&[0.0]).unwrap_err();
    match &err {
        EnvError::Physics(p) => assert!(
            p.warnings.iter().any(|w| w.starts_with("mjWARN_BADQ")),
            "{p}"
        ),
        other => panic!("expected a physics error, got {other}"),
    }
    assert!(err.to_string().contains("reset"), "{err}");
    // The episode is over until the next reset.
    assert!(matches!(env.step(&[0.0]), Err(EnvError::NeedsReset)));
    let (obs, _) = env.reset(Some(0)).unwrap();
    assert!(obs.iter().all(|x| x.is_finite()));
    assert!(env.step(&[0.5]).is_ok());
}

#[test]
fn huge_actions_on_an_unlimited_actuator_are_clamped_or_reported_never_a_panic() {
    let mut env = envs::make_raw("acrobot-swingup").unwrap();
    env.reset(Some(1)).unwrap();
    for _ in 0..200 {
        match env.step(&[1e300]) {
            Ok(s) if s.truncated || s.terminated => break,
            Ok(_) => {}
            Err(EnvError::Physics(_)) => break,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
}

#[test]
fn every_dm_control_task_reports_divergence_and_recovers_on_reset() {
    for task in envs::dmc::tasks().map(|t| t.name) {
        let mut env = envs::make_raw(task).unwrap();
        env.reset(Some(2)).unwrap();
        let nv = env.physics().nv();
        env.physics_mut().data_mut().qvel_mut()[nv - 1] = f64::NAN;
        let a = vec![0.0; env.spec().action_dim()];
        match env.step(&a) {
            Err(EnvError::Physics(p)) => assert!(!p.warnings.is_empty(), "{task}"),
            other => panic!("{task}: expected a physics error, got {other:?}"),
        }
        let (obs, _) = env.reset(None).unwrap();
        assert!(
            obs.iter().all(|x| x.is_finite()),
            "{task}: reset after divergence"
        );
        env.step(&a).unwrap();
    }
}

#[test]
fn humanoid_with_a_coarse_timestep_and_violent_velocities_never_panics() {
    let mut env = envs::make_raw("humanoid-run").unwrap();
    env.reset(Some(0)).unwrap();
    env.physics_mut().data_mut().model_opt_mut().timestep = 0.05;
    for v in env.physics_mut().data_mut().qvel_mut() {
        *v = 1e6;
    }
    let a = vec![1.0; env.spec().action_dim()];
    let mut ended = false;
    for _ in 0..1000 {
        match env.step(&a) {
            Ok(s) if s.terminated || s.truncated => {
                ended = true;
                break;
            }
            Ok(s) => assert!(s.reward.is_finite()),
            Err(EnvError::Physics(_)) => {
                ended = true;
                break;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert!(ended);
    env.reset(Some(0)).unwrap();
}
