// The Web Worker that runs the WebAssembly runtime, so the page never waits on a
// computation. Messages in: {id, type: "open", bytes} or {id, type: "summarize",
// jets, levels, cuts} or {id, type: "sample", jets, n, seed}; out: {id, ok, ...} with
// the runtime's answer or its error.
import createSurrogateModule from "./wasm/surrogate_wasm.mjs";

const runtime = createSurrogateModule().then(
  (module) => ({ module }),
  (error) => ({ error: `the WebAssembly runtime did not load: ${error}` }),
);

function answer(module, message) {
  if (message.type === "open") {
    return JSON.parse(module.openSurrogate(new Uint8Array(message.bytes)));
  }
  if (message.type === "summarize") {
    const request = { jets: message.jets, levels: message.levels, cuts: message.cuts };
    return JSON.parse(module.summarize(JSON.stringify(request)));
  }
  if (message.type === "sample") {
    const request = { jets: message.jets, n: message.n, seed: message.seed };
    return JSON.parse(module.sample(JSON.stringify(request)));
  }
  return { ok: false, error: `unknown request "${message.type}"` };
}

self.onmessage = async (event) => {
  const message = event.data;
  const loaded = await runtime;
  if (loaded.error) {
    self.postMessage({ id: message.id, ok: false, error: loaded.error });
    return;
  }
  const started = performance.now();
  let reply;
  try {
    reply = answer(loaded.module, message);
  } catch (error) {
    reply = { ok: false, error: String(error) };
  }
  reply.id = message.id;
  reply.worker_milliseconds = performance.now() - started;
  self.postMessage(reply);
};
