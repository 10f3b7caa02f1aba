#!/usr/bin/env bash
# Trunk post_build hook: writes the built files' names into the service worker's precache list,
# so the offline shell matches this build's hashed asset names, and the glue's into the worker's loader.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?run by Trunk}"
# The worker runs the page's wasm: its loader imports the glue by this build's hashed name.
glue=$(cd "$dir" && ls powerpulse-app-*.js)
wasm=$(cd "$dir" && ls powerpulse-app-*_bg.wasm)
sed -i -e "s|__APP_GLUE__|$glue|" -e "s|__APP_WASM__|$wasm|" "$dir/worker-loader.js"
files=$(cd "$dir" && find . -type f ! -name 'sw.js' ! -name '*.br' ! -name '*.gz' | sed 's|^\./||' | sort)
list='"./"'
for f in $files; do list="$list, \"./$f\""; done
build=$(cd "$dir" && cat $files | sha256sum | cut -c1-12)
sed -i -e "s|\[/\*__PRECACHE__\*/\]|[$list]|" -e "s|__BUILD__|$build|" "$dir/sw.js"
