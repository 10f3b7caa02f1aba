//! The native build against the committed golden figures (the wasm32 build is checked against
//! the same file in `wasm.rs`, so the two agree). Regenerate after a deliberate change of the
//! definitions with `UPDATE_GOLDEN=1 cargo test -p powerpulse-shared --test golden`.

#[path = "support/golden.rs"]
mod golden;

#[test]
fn native_build_matches_the_golden_figures() {
    let ours = golden::golden_value();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.json");
        std::fs::write(path, serde_json::to_string_pretty(&ours).unwrap() + "\n").unwrap();
        return;
    }
    let expected: serde_json::Value = serde_json::from_str(golden::GOLDEN).unwrap();
    assert_eq!(
        ours, expected,
        "native figures differ from tests/data/golden.json"
    );
}
