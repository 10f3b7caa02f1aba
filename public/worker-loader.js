// Starts the analysis worker (a module worker) from the page's own wasm: the page and the worker
// share one download. The build (scripts/precache.sh) writes this build's hashed names of the
// glue and the wasm here; the wasm's main sees a worker and starts the engine.
import init from "./__APP_GLUE__";

init({ module_or_path: "./__APP_WASM__" }).catch((e) => {
  self.postMessage([JSON.stringify({ error: { seq: 0, message: `the analysis worker did not start: ${e}` } })]);
});
