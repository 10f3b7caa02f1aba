//! Mounts the PowerPulse dashboard on the page, or runs the analysis engine when this same wasm
//! is started by the worker (`public/worker-loader.js`).

use wasm_bindgen::JsCast;

fn main() {
    console_error_panic_hook::set_once();
    if js_sys::global().dyn_ref::<web_sys::Window>().is_some() {
        leptos::mount::mount_to_body(powerpulse_app::App);
    } else {
        powerpulse_app::engine::start();
    }
}
