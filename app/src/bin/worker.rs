//! The Web Worker: parsing, analysis, metrics and storage, off the page's thread.

fn main() {
    console_error_panic_hook::set_once();
    powerpulse_app::engine::start();
}
