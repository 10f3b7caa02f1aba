// Starts the analysis worker: Trunk builds it as worker.js + worker_bg.wasm (no-modules).
importScripts("./worker.js");
wasm_bindgen("./worker_bg.wasm");
