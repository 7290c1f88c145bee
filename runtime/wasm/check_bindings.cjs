// Runs the bindings under Node and checks that every failure comes back as
// {ok: false, error} with a message, never as a thrown C++ exception.
// It also checks that a summary solved in parts (solveMembers) and joined (combine),
// as the page's workers do it, is the summary itself, character for character.
// Usage: node --no-experimental-fetch check_bindings.cjs surrogate_wasm_node.js FILE
const fs = require("node:fs");
const path = require("node:path");
const createSurrogateModule = require(path.resolve(process.argv[2]));
const surrogateFile = process.argv[3];

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

  const opened = JSON.parse(module.openSurrogate(new Uint8Array(fs.readFileSync(surrogateFile))));
  if (!opened.ok) {
    throw new Error(`${surrogateFile}: ${opened.error}`);
  }
  const members = opened.card.n_members;
  const jets = [
    { label_top: 1, jet_pt: 640, jet_eta: 0.3, jet_phi: -1.2, jet_energy: 900, jet_nparticles: 50 },
    { label_top: 0, jet_pt: 2500, jet_eta: -1.1, jet_phi: 2, jet_energy: 3000, jet_nparticles: 20 },
  ];
  const query = { jets, levels: [0.05, 0.5, 0.95], cuts: [0.5, 0.8] };
  const whole = module.summarize(JSON.stringify(query));
  // Three parts of unequal size, joined in member order.
  const cuts = [0, Math.floor(members / 3), Math.floor((2 * members) / 3), members];
  const joined = { ...query, quantiles: [], tag_probability: [] };
  for (let k = 0; k < 3; k++) {
    const part = JSON.parse(module.solveMembers(JSON.stringify(
      { ...query, first_member: cuts[k], members: cuts[k + 1] - cuts[k] })));
    if (!part.ok) {
      throw new Error(`solveMembers, part ${k}: ${part.error}`);
    }
    joined.quantiles.push(...part.quantiles);
    joined.tag_probability.push(...part.tag_probability);
  }
  const combined = module.combine(JSON.stringify(joined));
  if (combined !== whole || !JSON.parse(whole).ok) {
    throw new Error(`the combined parts differ from the summary:\n${combined}\n${whole}`);
  }
  console.log(`ok: ${members} members in three parts combine to the summary exactly`);

  // The page's new working point for the same jet: the tag probabilities alone, joined
  // with the quantiles already solved, are the summary at that working point.
  const moved = { ...query, cuts: [0.3] };
  const tags = JSON.parse(module.solveMembers(JSON.stringify(
    { ...moved, first_member: 0, members, quantiles: false })));
  if (!tags.ok || "quantiles" in tags || tags.tag_probability.length !== members) {
    throw new Error(`solveMembers without quantiles: ${JSON.stringify(tags).slice(0, 300)}`);
  }
  const kept = module.combine(JSON.stringify(
    { ...moved, quantiles: joined.quantiles, tag_probability: tags.tag_probability }));
  if (kept !== module.summarize(JSON.stringify(moved))) {
    throw new Error(`kept quantiles with new tag probabilities differ from the summary:\n${kept}`);
  }
  console.log("ok: kept quantiles with the tag probabilities of a new cut are its summary");
  expectFailure(module.solveMembers(JSON.stringify({ ...query, first_member: 0, members,
    quantiles: "no" })), "\"quantiles\" must be true or false", "quantiles: \"no\"");

  const broken = (change) => JSON.stringify({ ...joined, ...change(joined) });
  expectFailure(module.combine(broken((j) => ({ quantiles: j.quantiles.slice(1) }))),
    `one array per member, ${members} in all`, "combine with a member missing");
  expectFailure(module.combine(broken((j) => ({
    tag_probability: [[0.5, null, 0.1, 0.2], ...j.tag_probability.slice(1)] }))),
  "tag_probability[0] holds something that is not a number", "combine with a null");
  expectFailure(module.combine(broken((j) => ({
    tag_probability: [[0.5, 1.5, 0.1, 0.2], ...j.tag_probability.slice(1)] }))),
  "a value outside [0, 1]", "combine with a probability of 1.5");
  expectFailure(module.combine(broken((j) => ({
    quantiles: [j.quantiles[0].slice(1), ...j.quantiles.slice(1)] }))),
  "quantiles[0] must hold", "combine with a short member");
  expectFailure(module.solveMembers(JSON.stringify({ ...query, first_member: members - 1,
    members: 2 })), `asked of a surrogate with ${members} members`, "members past the last");
}).catch((error) => {
  console.error(error);
  process.exit(1);
});
