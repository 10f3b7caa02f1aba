//! The wasm32 build (in headless Chromium, via wasm-bindgen-test) against the golden figures the
//! native build also matches: one input, one answer, whichever side computes it.
#![cfg(target_arch = "wasm32")]

#[path = "support/golden.rs"]
mod golden;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn wasm_build_matches_the_golden_figures() {
    let ours = golden::golden_value();
    let expected: serde_json::Value = serde_json::from_str(golden::GOLDEN).unwrap();
    assert_eq!(
        ours, expected,
        "wasm32 figures differ from tests/data/golden.json"
    );
}

#[wasm_bindgen_test]
fn broken_input_is_an_error_in_the_browser_too() {
    let err = powerpulse_shared::process(b"{\"c\": [", &powerpulse_shared::Options::default())
        .unwrap_err();
    assert!(err.to_string().contains("byte"), "{err}");
}
