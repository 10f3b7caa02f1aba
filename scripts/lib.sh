# Shared helpers of the PowerPulse scripts (sourced, not run).
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# A clean clone builds once: incremental caches would only add gigabytes to the disk it needs.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

TRUNK_VERSION="0.21.14"
# Must equal the wasm-bindgen version pinned in app/Cargo.toml (and so in Cargo.lock).
WASM_BINDGEN_VERSION="0.2.130"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# Variables that make cargo (and Trunk, which runs cargo) build for wasm32 on this machine.
# std is always rebuilt without reference types and multi-value: Debian's wasm-opt (binaryen 108)
# breaks wasm-bindgen's externref table otherwise. The compiler is rustup's stable where it has
# the wasm32 target and the std sources, else Debian's Rust 1.96 linked as the `web` toolchain.
# POWERPULSE_WASM=debian forces the fallback (to check it on a machine where rustup works).
wasm_env() {
  export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types,-multivalue"
  if [ "${POWERPULSE_WASM:-}" != debian ] && rustup_wasm_ready; then
    return 0
  fi
  export RUSTUP_TOOLCHAIN=web
}

rustup_wasm_ready() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown &&
    rustup component list --installed 2>/dev/null | grep -q '^rust-src'
}

# The Chromium flags that work headless as root on a closed network.
CHROME_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage"
