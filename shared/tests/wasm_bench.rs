//! The pipeline's speed in wasm32, in headless Chromium, on a generated export the size of the
//! issue's target (18,000 chats, about 47 MB). A benchmark, not a test: ignored unless asked for
//! (`scripts/bench` runs it with `--include-ignored` in release mode and reports the timings).
#![cfg(target_arch = "wasm32")]

use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{process, Filter, Options};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
#[ignore = "benchmark: run by scripts/bench"]
fn pipeline_on_a_47_mb_export() {
    let bytes = generate(&SynthOptions {
        conversations: 18_000,
        ..SynthOptions::default()
    });
    let opts = Options::default();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = js_sys::Date::now();
        let d = process(&bytes, &opts).expect("generated export parses");
        let m = d.metrics(&Filter::default());
        runs.push(js_sys::Date::now() - t);
        assert!(m.core.total_conversations > 17_000);
    }
    runs.sort_by(f64::total_cmp);
    console_log!(
        "BENCH wasm pipeline: {:.1} MB, median {:.0} ms, min {:.0} ms, max {:.0} ms ({} runs)",
        bytes.len() as f64 / 1e6,
        runs[runs.len() / 2],
        runs[0],
        runs[runs.len() - 1],
        runs.len()
    );
    console_log!("FIGURE wasm_median_ms {:.0}", runs[runs.len() / 2]);
}
