//! The MuJoCo layer: loading, generated models, divergence handling.

use envs::Physics;

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
