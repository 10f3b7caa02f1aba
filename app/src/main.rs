//! Mounts the PowerPulse dashboard.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(powerpulse_app::App);
}
