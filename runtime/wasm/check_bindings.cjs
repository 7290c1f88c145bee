// Runs the bindings under Node and checks that every failure comes back as
// {ok: false, error} with a message, never as a thrown C++ exception.
// Usage: node --no-experimental-fetch check_bindings.cjs surrogate_wasm_node.js
const path = require("node:path");
const createSurrogateModule = require(path.resolve(process.argv[2]));

function expectFailure(answer, words, what) {
  const reply = JSON.parse(answer);
  if (reply.ok !== false || typeof reply.error !== "string" || !reply.error.includes(words)) {
    throw new Error(`${what}: expected an error mentioning "${words}", got ${answer}`);
  }
  console.log(`ok: ${what}: ${reply.error}`);
}

createSurrogateModule().then((module) => {
  const request = JSON.stringify({ jets: [{ jet_pt: 640 }], levels: [0.5], cuts: [0.5] });
  expectFailure(module.summarize(request), "no surrogate is open", "summarize before open");
  expectFailure(module.openSurrogate(new Uint8Array([1, 2, 3])), "not a usable surrogate file",
    "three bytes");
  const truncated = new Uint8Array([0x89, 0x53, 0x55, 0x52, 0x52, 0x4f, 0x47, 0x0a, 1, 0, 0, 0]);
  expectFailure(module.openSurrogate(truncated), "not a usable surrogate file", "a cut-off file");
  expectFailure(module.openSurrogate("{\"magic\": 5}"), "not a usable surrogate file",
    "a JSON file with a wrong magic");
  expectFailure(module.summarize("not json"), "no surrogate is open", "a bad request");
  expectFailure(module.sample(JSON.stringify({ jets: [{}], n: 10, seed: 1 })),
    "no surrogate is open", "sample before open");
  console.log("the bindings return every error as a message");
}).catch((error) => {
  console.error(error);
  process.exit(1);
});
