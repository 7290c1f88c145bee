// The Web Worker that runs the WebAssembly runtime, so the page never waits on a
// computation. Messages in: {id, type: "open", bytes} or {id, type: "summarize",
// jets, levels, cuts} or {id, type: "sample", jets, n, seed}, and for a summary split
// among workers {id, type: "solve", jets, levels, cuts, first_member, members} and
// {id, type: "combine", jets, levels, cuts, quantiles, tag_probability}; out: {id, ok,
// ...} with the runtime's answer or its error.
import createSurrogateModule from "./wasm/surrogate_wasm.mjs";

const runtime = createSurrogateModule().then(
  (module) => ({ module }),
  (error) => ({ error: `the WebAssembly runtime did not load: ${error}` }),
);

// The request is the message without its id and type.
function answer(module, { id, type, ...request }) {
  if (type === "open") {
    return JSON.parse(module.openSurrogate(new Uint8Array(request.bytes)));
  }
  const calls = {
    summarize: "summarize",
    solve: "solveMembers",
    combine: "combine",
    sample: "sample",
  };
  if (!(type in calls)) {
    return { ok: false, error: `unknown request "${type}"` };
  }
  return JSON.parse(module[calls[type]](JSON.stringify(request)));
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
