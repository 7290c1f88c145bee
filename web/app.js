// The page's logic: choose a surrogate, show its card, query one jet as its
// conditions change, and run CSV batches in chunks with progress and cancel. All
// computation happens in worker.js; this module only talks to it and draws.
import {
  CsvError,
  MAX_BATCH_JETS,
  parseJets,
  printed,
  resultColumns,
  resultRecord,
  short,
  toCsv,
} from "./numbers.js";
import { DensityPlot } from "./plot.js";

// 99 levels for the plot and the table, as the runtime's default; the batch uses
// the command line's default levels.
const LEVELS = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
const TABLE_LEVELS = [0.01, 0.05, 0.16, 0.5, 0.84, 0.95, 0.99];
const BATCH_LEVELS = [0.05, 0.16, 0.5, 0.84, 0.95];
// Jets per worker call in batch mode: small calls keep the progress steady and a
// cancel quick. Each jet's rows take their own solver steps, so the answers do not
// depend on how the jets are cut into calls.
const BATCH_CHUNK = 5;
const SHOWN_BATCH_ROWS = 100;

const $ = (id) => document.getElementById(id);

// What the tests (and a curious reader in the console) can look at.
const page = {
  card: null,
  queries: 0,
  last: null,
  batch: null,
  draws: null,
  errors: [],
  opened: 0,  // files opened so far
};
window.surrogatePage = page;

// ---- the workers ------------------------------------------------------------

// Each worker runs its own copy of the runtime with the same file open. A single
// jet's members are split among them and the first joins the solutions, which
// travel as exact numbers, so the answer is what one worker alone would give, to
// the last bit. A batch's calls go to the workers side by side.
const N_WORKERS = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
const workers = [];
// Whether worker k holds the file that worker 0 holds (a failed open leaves a
// worker out until the next file opens everywhere).
const holdsFile = [];
const waiting = new Map();
let nextId = 1;

function workerFailed(event) {
  const message = `a computation worker failed: ${event.message || "unknown error"}`;
  page.errors.push(message);
  showLoadStatus(message, true);
  for (const resolve of waiting.values()) {
    resolve({ ok: false, error: message });
  }
  waiting.clear();
}

for (let k = 0; k < N_WORKERS; k++) {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event) => {
    const reply = event.data;
    const resolve = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (resolve) {
      resolve(reply);
    }
  };
  worker.onerror = workerFailed;
  workers.push(worker);
  holdsFile.push(false);
}
page.workers = N_WORKERS;

// Sends `message` to worker k (the first by default) and resolves with its reply.
function call(message, transfer = [], k = 0) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    workers[k].postMessage({ ...message, id }, transfer);
  });
}

function readyWorkers() {
  return workers.map((_, k) => k).filter((k) => holdsFile[k]);
}

// Opens the file in every worker at once; worker 0's answer decides.
async function openEverywhere(bytes) {
  const copies = workers.map((_, k) => (k === 0 ? bytes : bytes.slice(0)));
  const replies = await Promise.all(copies.map((copy, k) =>
    call({ type: "open", bytes: copy }, [copy], k)));
  if (replies[0].ok) {
    replies.forEach((reply, k) => { holdsFile[k] = reply.ok; });
  } else {
    // Worker 0 keeps the previous file; the others may not.
    replies.forEach((reply, k) => { holdsFile[k] = holdsFile[k] && !reply.ok; });
  }
  return replies[0];
}

// The members' quantile solutions of the last jet summarized, with what they belong to
// (the open file, the jet, the levels): a new working point for the same jet then
// needs only the members' backward solves for the tag probability, a few
// milliseconds, and the answer is the same to the last bit.
let solvedJet = null;

// One jet's summary, its members solved by the ready workers side by side.
async function summarizeJet(jet, levels, cuts) {
  const ready = readyWorkers();
  const members = page.card.n_members;
  const query = { jets: [jet], levels, cuts };
  if (ready.length === 0) {
    return call({ type: "summarize", ...query });  // the worker says why it cannot
  }
  const key = JSON.stringify({ opened: page.opened, jet, levels });
  if (solvedJet?.key === key) {
    const tags = await call({ type: "solve", ...query, first_member: 0, members,
      quantiles: false }, [], ready[0]);
    if (!tags.ok) {
      return tags;
    }
    const reply = await call({ type: "combine", ...query, quantiles: solvedJet.quantiles,
      tag_probability: tags.tag_probability }, [], ready[0]);
    reply.worker_milliseconds += tags.worker_milliseconds;
    reply.workers = 1;
    reply.quantiles_kept = true;
    return reply;
  }
  const parts = Math.min(ready.length, members);
  const solved = await Promise.all(ready.slice(0, parts).map((k, part) => {
    const first = Math.floor((part * members) / parts);
    const last = Math.floor(((part + 1) * members) / parts);
    return call({ type: "solve", ...query, first_member: first, members: last - first }, [], k);
  }));
  const failed = solved.find((reply) => !reply.ok);
  if (failed) {
    return failed;
  }
  const quantiles = solved.flatMap((part) => part.quantiles);
  const reply = await call({
    type: "combine",
    ...query,
    quantiles,
    tag_probability: solved.flatMap((part) => part.tag_probability),
  }, [], ready[0]);
  if (reply.ok) {
    solvedJet = { key, quantiles };
  }
  reply.worker_milliseconds += Math.max(...solved.map((part) => part.worker_milliseconds));
  reply.workers = parts;
  return reply;
}

// ---- helpers ----------------------------------------------------------------

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function withUnit(name, unit) {
  return unit ? `${name} [${unit}]` : name;
}

function unitSuffix(unit) {
  return unit ? ` ${unit}` : "";
}

function median(condition) {
  const index = condition.quantile_levels.indexOf(0.5);
  return index >= 0 ? condition.quantiles[index] : 0.5 * (condition.min + condition.max);
}

function showLoadStatus(text, isError = false) {
  const status = $("load-status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function showError(id, text) {
  const node = $(id);
  node.textContent = text || "";
  node.hidden = !text;
}

// ---- choosing and opening a surrogate -----------------------------------------

async function listPublished() {
  const list = $("surrogate-list");
  try {
    const response = await fetch("surrogates/index.json");
    if (!response.ok) {
      throw new Error(`surrogates/index.json: HTTP ${response.status}`);
    }
    const index = await response.json();
    page.reports = {};
    for (const entry of index.surrogates) {
      const option = element("option", entry.title);
      option.value = entry.file;
      list.append(option);
      if (entry.report) {
        page.reports[entry.file] = entry.report;
      }
    }
    if (index.surrogates.length === 0) {
      showLoadStatus("No published surrogate is listed; open a local file.");
      return;
    }
    await openPublished(list.value);
  } catch (error) {
    showLoadStatus(`The list of published surrogates could not be read (${error.message}); ` +
      "open a local file instead.", true);
  }
}

async function openPublished(file) {
  showLoadStatus(`Loading ${file}…`);
  try {
    const response = await fetch(`surrogates/${file}`);
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    await openBytes(await response.arrayBuffer(), file);
  } catch (error) {
    showLoadStatus(`${file} could not be fetched: ${error.message}`, true);
  }
}

async function openBytes(bytes, name) {
  const reply = await openEverywhere(bytes);
  if (!reply.ok) {
    const kept = page.card ? " The previous surrogate stays open." : "";
    showLoadStatus(`${name}: ${reply.error}.${kept}`, true);
    return;
  }
  page.card = reply.card;
  page.fileName = name;
  page.opened += 1;
  showLoadStatus(`Opened ${name}: ${reply.card.n_members} members, checksum and test ` +
    "vectors verified.");
  showCard(reply.card);
  buildJetForm(reply.card);
  for (const id of ["card", "jet", "answer", "batch"]) {
    $(id).hidden = false;
  }
  resetBatch();
  scheduleQuery(0);
}

// ---- the card ---------------------------------------------------------------

function showCard(card) {
  $("demonstration").hidden = !card.demonstration;
  const facts = $("card-facts");
  facts.replaceChildren();
  const members = card.members.map((group) => `${group.count} × ${group.origin}`).join(", ");
  const rows = [
    ["mimics", card.tagger],
    ["training data", card.training_data],
    ["method", `${card.method}, created ${card.created}`],
    ["description", card.description],
    ["members", `${card.n_members} (${members}), ${card.parameters_per_member} parameters each`],
    ["velocity field", card.architecture],
    ["solver",
      `${card.solver}, atol ${printed(card.solver_atol)}, rtol ${printed(card.solver_rtol)}`],
    ["support", `${card.support_jets} training jets; out of support beyond Mahalanobis ` +
      `distance ${printed(card.support_threshold, 4)} or outside a condition's range`],
    ["file", `format ${card.format}, written by ${card.producer}`],
  ];
  const oneLine = card.hyperparameters.filter((entry) => !entry.value.includes("\n"));
  if (oneLine.length > 0) {
    rows.push(["hyperparameters",
      oneLine.map((entry) => `${entry.key} = ${entry.value}`).join("; ")]);
  }
  // A value of several lines (the trainer's whole configuration) gets a row of its
  // own, its lines separated as the one-line values are.
  for (const entry of card.hyperparameters.filter((e) => e.value.includes("\n"))) {
    rows.push([entry.key, entry.value.trim().split("\n").join("; ")]);
  }
  if (card.metrics.length > 0) {
    rows.push(["metrics",
      card.metrics.map((metric) => `${metric.key} = ${printed(metric.value)}`).join("; ")]);
  }
  for (const [term, description] of rows) {
    facts.append(element("dt", term), element("dd", description));
  }
  const report = (page.reports || {})[page.fileName];
  if (report) {
    const link = element("a", "figures and results against the tagger and the exact truth");
    link.href = report;
    link.id = "report-link";
    const entry = element("dd", "");
    entry.append(link);
    facts.append(element("dt", "evaluation"), entry);
  }

  const body = $("card-conditions").querySelector("tbody");
  body.replaceChildren();
  for (const condition of card.conditions) {
    const row = element("tr");
    row.append(
      element("td", condition.name, "name"),
      element("td", condition.unit || "none"),
      element("td", condition.description),
      element("td", `${printed(condition.min, 5)} to ${printed(condition.max, 5)}`),
      element("td", printed(median(condition), 5)),
    );
    body.append(row);
  }
}

// ---- the jet's conditions -----------------------------------------------------

function buildJetForm(card) {
  const form = $("jet-form");
  form.replaceChildren();
  for (const condition of card.conditions) {
    const id = `condition-${condition.name}`;
    const box = element("div", undefined, "condition");
    const label = element("label", withUnit(condition.name, condition.unit));
    label.htmlFor = id;
    const input = element("input");
    input.id = id;
    input.type = "number";
    input.step = "any";
    input.inputMode = "decimal";
    input.dataset.condition = condition.name;
    input.dataset.defaultValue = printed(median(condition), 4);
    input.value = input.dataset.defaultValue;
    const hint = element("small",
      `training range ${printed(condition.min, 4)} to ${printed(condition.max, 4)}` +
      unitSuffix(condition.unit));
    hint.id = `${id}-range`;
    input.setAttribute("aria-describedby", hint.id);
    input.addEventListener("input", () => scheduleQuery());
    box.append(label, input, hint);
    form.append(box);
  }
  markRanges();
}

function markRanges() {
  for (const condition of page.card.conditions) {
    const input = $(`condition-${condition.name}`);
    const value = Number(input.value);
    const outside = input.value !== "" && (value < condition.min || value > condition.max);
    input.classList.toggle("outside", outside);
  }
}

// The jet in the form, or an error message naming the first bad condition.
function readJet() {
  const jet = {};
  for (const condition of page.card.conditions) {
    const text = $(`condition-${condition.name}`).value.trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) {
      return { error: `${withUnit(condition.name, condition.unit)}: enter a number` };
    }
    jet[condition.name] = value;
  }
  return { jet };
}

function readCut() {
  const cut = Number($("cut-value").value);
  return cut > 0 && cut < 1 ? cut : null;
}

// ---- one-jet queries ---------------------------------------------------------

// One query at a time: while one runs, later changes wait and the newest is sent.
let queryTimer = null;
let queryRunning = false;
let queryAgain = false;

function scheduleQuery(delay = 120) {
  clearTimeout(queryTimer);
  queryTimer = setTimeout(runQuery, delay);
}

function workersText(n) {
  return n === 1 ? "a Web Worker" : `${n} Web Workers side by side`;
}

async function runQuery() {
  if (!page.card) {
    return;
  }
  if (queryRunning) {
    queryAgain = true;
    return;
  }
  markRanges();
  const { jet, error } = readJet();
  const cut = readCut();
  if (error || cut === null) {
    showError("query-error", error || "The cut must be a number strictly between 0 and 1.");
    return;
  }
  showError("query-error", "");

  queryRunning = true;
  document.body.dataset.query = "running";
  $("answer").classList.add("stale");
  $("timing").textContent = "Computing…";
  const started = performance.now();
  const reply = await summarizeJet(jet, LEVELS, [cut]);
  if (reply.ok) {
    showAnswer(jet, reply.jets[0]);
  } else {
    showError("query-error", reply.error);
  }
  const milliseconds = performance.now() - started;
  page.queries += 1;
  const inWorker = reply.worker_milliseconds ?? 0;
  page.last = { jet, cut, reply, milliseconds, worker_milliseconds: inWorker };
  $("timing").textContent = reply.ok
    ? `Answered in ${milliseconds.toFixed(0)} ms (${inWorker.toFixed(0)} ms of it in the ` +
      `runtime, in ${workersText(reply.workers ?? 1)}): ${page.card.n_members} members, ` +
      (reply.quantiles_kept
        ? `the tag probability at the new working point; the ${LEVELS.length} quantile ` +
          "levels kept from the same jet's previous answer."
        : `${LEVELS.length} quantile levels, one working point.`)
    : "No answer for these inputs; the one shown is for earlier inputs.";
  queryRunning = false;
  document.body.dataset.query = "idle";
  // After an error the shown answer belongs to earlier inputs and stays marked.
  $("answer").classList.toggle("stale", !reply.ok);
  if (queryAgain) {
    queryAgain = false;
    runQuery();
  }
}

function supportMessage(support) {
  const names = support.outside_range.map((name) => {
    const condition = page.card.conditions.find((c) => c.name === name);
    if (!condition) {
      return name;
    }
    return `${withUnit(name, condition.unit)} (training range ${printed(condition.min, 4)} to ` +
      `${printed(condition.max, 4)})`;
  });
  const parts = [];
  if (names.length > 0) {
    parts.push(`outside the training range: ${names.join(", ")}`);
  }
  parts.push(`Mahalanobis distance to the training conditions ${printed(support.distance, 4)} ` +
    `(threshold ${printed(page.card.support_threshold, 4)}; ` +
    `${printed(100 * support.distance_quantile, 4)}% of training jets are closer)`);
  return parts;
}

function showAnswer(jet, summary) {
  const warning = $("support-warning");
  warning.hidden = !summary.support.out_of_support;
  if (summary.support.out_of_support) {
    warning.replaceChildren(
      element("strong", "Outside the training support. "),
      element("span", "The surrogate never saw jets like this one; its answer is an " +
        "extrapolation and may be wrong by more than the epistemic spread shows: " +
        supportMessage(summary.support).join("; ") + "."),
    );
  }

  const cut = summary.cuts[0];
  $("tag-headline").replaceChildren(
    element("span", `P(score > ${printed(cut)}) = `),
    element("strong", `${short(summary.tag_probability[0])} ± ` +
      `${short(summary.tag_probability_std[0])}`, "tag-value"),
    element("span", ` (the ± is the epistemic spread: the standard deviation over the ` +
      `${summary.member_tag_probability.length} members)`, "note"),
  );

  plot.show(summary);

  const moments = $("moments").querySelector("tbody");
  moments.replaceChildren();
  const rows = [
    ["tag probability", summary.tag_probability[0], `P(score > ${printed(cut)}), ensemble mean`],
    ["tag probability spread", summary.tag_probability_std[0], "epistemic: over members"],
    ["mean score", summary.mean_score, ""],
    ["aleatoric std", summary.aleatoric_std, "spread of one jet's score (detector)"],
    ["epistemic std", summary.epistemic_std, "spread of the members' means (training)"],
    ["total std", summary.total_std, "total² = aleatoric² + epistemic²"],
    ["same-noise spread", summary.same_noise_spread, "max − min over members, same noise"],
    ["support distance", summary.support.distance, "Mahalanobis, normalized conditions"],
  ];
  for (const [name, value, note] of rows) {
    const row = element("tr");
    row.dataset.quantity = name;
    row.append(element("th", name), element("td", printed(value), "number"), element("td", note));
    moments.append(row);
  }

  fillQuantiles(summary);
}

function fillQuantiles(summary) {
  const body = $("quantile-table").querySelector("tbody");
  const levels = $("all-levels").checked ? LEVELS : TABLE_LEVELS;
  body.replaceChildren();
  for (const level of levels) {
    const l = summary.quantile_levels.indexOf(level);
    if (l < 0) {
      continue;
    }
    const row = element("tr");
    row.dataset.level = printed(level);
    row.append(
      element("th", printed(level)),
      element("td", printed(summary.quantiles[l]), "number"),
      element("td", printed(summary.quantile_lower[l]), "number"),
      element("td", printed(summary.quantile_upper[l]), "number"),
    );
    body.append(row);
  }
}

// ---- Monte Carlo draws ----------------------------------------------------------

const MAX_DRAWS = 100000;

async function runDraws() {
  const status = $("draw-status");
  status.classList.remove("error");
  const { jet, error } = readJet();
  const n = Number($("draw-count").value);
  const seed = Number($("draw-seed").value);
  let problem = error;
  if (!problem && !(Number.isInteger(n) && n >= 1 && n <= MAX_DRAWS)) {
    problem = `draws: enter a whole number from 1 to ${MAX_DRAWS}`;
  }
  if (!problem && !(Number.isSafeInteger(seed) && seed >= 0)) {
    problem = "seed: enter a whole number from 0 up";
  }
  if (problem) {
    status.textContent = problem;
    status.classList.add("error");
    return;
  }

  $("draw-run").disabled = true;
  status.textContent = `Drawing ${n} scores…`;
  const reply = await call({ type: "sample", jets: [jet], n, seed });
  $("draw-run").disabled = false;
  if (!reply.ok) {
    status.textContent = reply.error;
    status.classList.add("error");
    page.draws = null;
    $("draw-download").disabled = true;
    return;
  }

  // The command line's columns: the jet's index, the draw, its member, the score.
  const lines = ["jet,draw,member,score"];
  reply.scores.forEach((score, k) => lines.push(`0,${k},${reply.members[k]},${printed(score)}`));
  page.draws = { jet, n, seed, csv: lines.join("\n") + "\n" };
  const cut = readCut() ?? 0.5;
  const mean = reply.scores.reduce((sum, score) => sum + score, 0) / n;
  const above = reply.scores.filter((score) => score > cut).length / n;
  status.textContent = `${n} draws with seed ${seed}: mean score ${short(mean)}, a share of ` +
    `${short(above)} above the cut ${printed(cut)} (Monte Carlo error about ` +
    `${short(Math.sqrt(Math.max(above * (1 - above), 1 / n) / n))}).`;
  $("draw-download").disabled = false;
}

// ---- batch mode ---------------------------------------------------------------

let batchRun = null;

function resetBatch() {
  if (batchRun) {
    batchRun.cancelled = true;
  }
  batchRun = null;
  page.batch = null;
  $("batch-file").value = "";
  $("batch-table").replaceChildren();
  $("batch-status").textContent = "";
  $("batch-progress").hidden = true;
  $("batch-cancel").disabled = true;
  $("batch-download").disabled = true;
  showError("batch-error", "");
}

async function runBatch(file) {
  if (batchRun) {
    batchRun.cancelled = true;
  }
  showError("batch-error", "");
  $("batch-table").replaceChildren();
  $("batch-download").disabled = true;
  const names = page.card.conditions.map((condition) => condition.name);
  const cut = readCut() ?? 0.5;

  let jets;
  try {
    jets = parseJets(await file.text(), names, MAX_BATCH_JETS);
  } catch (error) {
    const message = error instanceof CsvError ? error.message : `cannot read it: ${error}`;
    showError("batch-error", `${file.name}: ${message}`);
    $("batch-status").textContent = "Nothing was computed.";
    page.batch = { file: file.name, error: message };
    return;
  }

  const run = { cancelled: false };
  batchRun = run;
  const columns = resultColumns(names, BATCH_LEVELS, [cut]);
  const records = [];
  const progress = $("batch-progress");
  progress.hidden = false;
  progress.max = jets.length;
  progress.value = 0;
  $("batch-cancel").disabled = false;
  page.batch = { file: file.name, jets: jets.length, done: 0, state: "running" };
  const started = performance.now();

  // A round gives every ready worker one call of BATCH_CHUNK jets.
  const ready = readyWorkers();
  const round = BATCH_CHUNK * ready.length;
  for (let start = 0; start < jets.length && !run.cancelled; start += round) {
    const calls = [];
    for (let k = 0; k < ready.length && start + k * BATCH_CHUNK < jets.length; k++) {
      const first = start + k * BATCH_CHUNK;
      const chunk = jets.slice(first, first + BATCH_CHUNK);
      const request = { type: "summarize", jets: chunk, levels: BATCH_LEVELS, cuts: [cut] };
      calls.push(call(request, [], ready[k]).then((reply) => ({ first, chunk, reply })));
    }
    const answers = await Promise.all(calls);
    if (run.cancelled) {
      break;
    }
    const failed = answers.find(({ reply }) => !reply.ok);
    if (failed) {
      showError("batch-error", `${file.name}, jets ${failed.first + 1} to ` +
        `${failed.first + failed.chunk.length}: ${failed.reply.error}`);
      run.cancelled = true;
      page.batch.state = "failed";
      break;
    }
    for (const { chunk, reply } of answers) {
      reply.jets.forEach((summary, j) => records.push(resultRecord(names, chunk[j], summary)));
    }
    progress.value = records.length;
    page.batch.done = records.length;
    $("batch-status").textContent = `${records.length} of ${jets.length} jets done…`;
  }

  if (batchRun !== run) {
    return;  // replaced by a newer batch or a newly opened surrogate
  }
  batchRun = null;
  $("batch-cancel").disabled = true;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (records.length === jets.length) {
    page.batch.state = "done";
    $("batch-status").textContent = `${jets.length} jets done in ${seconds} s.`;
  } else if (page.batch.state !== "failed") {
    page.batch.state = "cancelled";
    $("batch-status").textContent = `Cancelled after ${records.length} of ${jets.length} ` +
      "jets; the table and the download hold the jets done so far.";
  }
  page.batch.csv = toCsv(columns, records);
  showBatchTable(columns, records);
  $("batch-download").disabled = records.length === 0;
}

function showBatchTable(columns, records) {
  const table = $("batch-table");
  table.replaceChildren();
  if (records.length === 0) {
    return;
  }
  const caption = element("caption", records.length > SHOWN_BATCH_ROWS
    ? `The first ${SHOWN_BATCH_ROWS} of ${records.length} jets (the download holds all)`
    : `${records.length} jets`);
  const head = element("thead");
  const headRow = element("tr");
  for (const column of columns) {
    headRow.append(element("th", column));
  }
  head.append(headRow);
  const body = element("tbody");
  for (const record of records.slice(0, SHOWN_BATCH_ROWS)) {
    const row = element("tr");
    for (const value of record) {
      row.append(element("td", printed(value), "number"));
    }
    body.append(row);
  }
  table.append(caption, head, body);
}

function download(text, name) {
  const blob = new Blob([text], { type: "text/csv" });
  const link = element("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// ---- wiring -------------------------------------------------------------------

const plot = new DensityPlot($("plot"), () => readCut() ?? 0.5);

$("surrogate-list").addEventListener("change", (event) => openPublished(event.target.value));
$("surrogate-local").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) {
    showLoadStatus(`Reading ${file.name}…`);
    await openBytes(await file.arrayBuffer(), file.name);
  }
});
$("reset-jet").addEventListener("click", () => {
  for (const input of $("jet-form").querySelectorAll("input")) {
    input.value = input.dataset.defaultValue;
  }
  scheduleQuery(0);
});
// A new working point for the same jet is answered in milliseconds (its quantiles are
// kept), so the slider asks at once; one query runs at a time and the newest position
// follows when it returns.
$("cut-range").addEventListener("input", (event) => {
  $("cut-value").value = event.target.value;
  plot.redraw();
  scheduleQuery(0);
});
$("cut-value").addEventListener("input", (event) => {
  const cut = readCut();
  if (cut !== null) {
    $("cut-range").value = String(cut);
  }
  plot.redraw();
  scheduleQuery();
});
$("batch-file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) {
    runBatch(file);
  }
});
$("batch-cancel").addEventListener("click", () => {
  if (batchRun) {
    batchRun.cancelled = true;
  }
});
$("batch-download").addEventListener("click", () => {
  if (page.batch?.csv) {
    download(page.batch.csv, page.batch.file.replace(/\.csv$/i, "") + "-surrogate.csv");
  }
});
$("draw-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runDraws();
});
$("draw-download").addEventListener("click", () => {
  if (page.draws) {
    download(page.draws.csv, `draws-seed-${page.draws.seed}.csv`);
  }
});
$("all-levels").addEventListener("change", () => {
  if (page.last?.reply?.ok) {
    fillQuantiles(page.last.reply.jets[0]);
  }
});
$("jet-form").addEventListener("submit", (event) => event.preventDefault());
$("batch-limit").textContent = String(MAX_BATCH_JETS);

listPublished();
