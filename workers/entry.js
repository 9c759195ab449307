// The module the runtime loads for each Worker (copied to workers/<name>/build/index.js by
// `cargo xtask build-worker`; `glue.js` is what wasm-bindgen generates for the Worker's crate).
//
// A plain object with `fetch`: the runtime calls it directly. The usual workers-rs entry is a
// WorkerEntrypoint class behind a Proxy, which the runtime constructs for every request; that
// cost more CPU per request in workerd than the whole rule-table decision (bench/levers.md).
//
// A Rust panic aborts the Wasm instance; the generated glue then builds a fresh instance on the
// next call (wasm-bindgen's abort handler and reset-state function), so no request is ever
// served by an instance whose state a panic left half-updated.
import { fetch } from "./glue.js";

export default { fetch };
