// Drives Debian's Chromium through the page with playwright-core: the card, one jet
// against the native command line, the out-of-support warning, bad and good CSV
// batches, cancelling, the phone layout, and screenshots as artifacts.
// Usage: node page.test.mjs --url URL --surrogate CLI --file SURROGATE
//            --published SURROGATE --artifacts DIR
// (--file: the demonstration file the page serves; --published: toy-variational's)
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { printed } from "../../web/numbers.js";
import {
  batchJets, chooseSurrogate, csvOf, NAMES, openPage, query as queryPage, startChromium,
} from "./chromium.mjs";

const options = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  options[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
}
for (const name of ["url", "surrogate", "file", "published", "artifacts"]) {
  if (!options[name]) {
    console.error(`usage: node page.test.mjs --url URL --surrogate CLI --file SURROGATE ` +
      `--published SURROGATE --artifacts DIR (missing --${name})`);
    process.exit(2);
  }
}
mkdirSync(options.artifacts, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), "cs-browser-"));

const LEVELS = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

// ---- the command line ----------------------------------------------------------

// `surrogate query` on these jets: one record per jet, column name -> printed text.
function cliQuery(jets, extra, file = options.file) {
  const input = join(scratch, "jets.csv");
  writeFileSync(input, csvOf(jets));
  const output = execFileSync(options.surrogate,
    ["query", file, "--input", input, ...extra], { encoding: "utf8" });
  const [header, ...rows] = output.trim().split("\n");
  const columns = header.split(",");
  return rows.map((row) => {
    const cells = row.split(",");
    return Object.fromEntries(columns.map((column, c) => [column, cells[c]]));
  });
}

// ---- a tiny harness ------------------------------------------------------------

const results = [];
async function test(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    const detail = String(error.stack || error).split("\n").join("\n      ");
    console.log(`FAIL  ${name}\n      ${detail}`);
  }
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

function same(actual, expected, what) {
  check(actual === expected, `${what}: page ${actual}, command line ${expected}`);
}

// Printed numbers of the page and the command line. Here they agree digit for digit;
// a machine whose native build rounds differently (other vector widths, fused
// multiply-add) may change the last printed digit, so a number may also differ by 1e-6
// relative, a few float32 roundings of the network. The count of exact matches is kept.
const agreement = { exact: 0, close: 0 };
function agrees(actual, expected, what) {
  if (actual === expected) {
    agreement.exact += 1;
    return;
  }
  const a = Number(actual);
  const b = Number(expected);
  const tolerance = 1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
  check(Math.abs(a - b) <= tolerance, `${what}: page ${actual}, command line ${expected}`);
  agreement.close += 1;
}

// ---- the browser ---------------------------------------------------------------

const { context, page, close } = await startChromium();
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
page.on("console", (message) => {
  if (message.type() === "error") {
    pageErrors.push(message.text());
  }
});
// Nothing may leave 127.0.0.1: the page loads no outside resources.
const outside = [];
page.on("request", (request) => {
  const url = new URL(request.url());
  if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "blob:" &&
    url.protocol !== "data:") {
    outside.push(request.url());
  }
});

// Fills the form and waits for the answer to exactly this jet and cut.
const query = (jet, cut = 0.5) => queryPage(page, jet, cut);

const topJet = {
  label_top: 1, jet_pt: 640, jet_eta: 0.3, jet_phi: -1.2, jet_energy: 900, jet_nparticles: 50,
};

await test("the page loads the demonstration surrogate and shows its card", async () => {
  const started = Date.now();
  await openPage(page, options.url);
  console.log(`      from opening the page to the first answer: ${Date.now() - started} ms`);
  // Published surrogates come first in the list; these tests use the demonstration file.
  if (await page.inputValue("#surrogate-list") !== "demonstration.surrogate") {
    await chooseSurrogate(page, "demonstration.surrogate", 11);
  }
  check(await page.isVisible("#demonstration"), "the demonstration notice is not shown");
  const card = await page.textContent("#card");
  for (const text of ["mimics", "training data", "method", "members", "11 × demonstration",
    "GeV", "jet transverse momentum"]) {
    check(card.includes(text), `the card does not mention "${text}"`);
  }
  const rows = await page.$$eval("#card-conditions tbody tr", (r) => r.length);
  same(rows, NAMES.length, "condition rows");
  const hint = await page.textContent("#condition-jet_pt-range");
  check(/training range .* GeV/.test(hint), `jet_pt's input shows no range: "${hint}"`);
});

// Every number of the page's answer to `jet` against `surrogate query` on `file`.
function compareWithCli(summary, jet, file, cut = 0.5) {
  const [cli] = cliQuery([jet], ["--levels", LEVELS.map(String).join(","), "--cuts", String(cut),
    "--per-member"], file);
  for (const name of ["mean_score", "aleatoric_std", "epistemic_std", "total_std",
    "same_noise_spread"]) {
    agrees(printed(summary[name]), cli[name], name);
  }
  agrees(printed(summary.tag_probability[0]), cli[`tag_probability_${cut}`], "tag probability");
  agrees(printed(summary.tag_probability_std[0]), cli[`tag_probability_std_${cut}`],
    "tag probability spread");
  LEVELS.forEach((level, l) => {
    const name = printed(level);
    agrees(printed(summary.quantiles[l]), cli[`quantile_${name}`], `quantile ${name}`);
    agrees(printed(summary.quantile_lower[l]), cli[`quantile_lower_${name}`], `lower ${name}`);
    agrees(printed(summary.quantile_upper[l]), cli[`quantile_upper_${name}`], `upper ${name}`);
  });
  summary.member_quantiles.forEach((quantiles, m) => {
    agrees(printed(summary.member_tag_probability[m][0]),
      cli[`member${m}_tag_probability_${cut}`], `member ${m} tag probability`);
    quantiles.forEach((value, l) => {
      agrees(printed(value), cli[`member${m}_quantile_${printed(LEVELS[l])}`],
        `member ${m} quantile ${printed(LEVELS[l])}`);
    });
  });
  agrees(printed(summary.support.distance), cli.support_distance, "support distance");
  same(summary.support.out_of_support ? "1" : "0", cli.out_of_support, "out of support");
  return cli;
}

await test("one jet gives the numbers the command line prints", async () => {
  const last = await query(topJet, 0.5);
  check(last.reply.ok, `the page answered an error: ${last.reply.error}`);
  const cli = compareWithCli(last.reply.jets[0], topJet, options.file);

  // What the page prints is the command line's text.
  const median = await page.textContent('#quantile-table tr[data-level="0.5"] td');
  agrees(median, cli["quantile_0.5"], "the median shown in the table");
  const shown = await page.textContent('#moments tr[data-quantity="tag probability"] td');
  agrees(shown, cli["tag_probability_0.5"], "the tag probability shown in the table");
  check(await page.isHidden("#support-warning"), "a jet inside the support shows the warning");
});

await test("a different working point for the same jet keeps its quantiles and answers as " +
  "the command line does", async () => {
  const atHalf = await query(topJet, 0.5);
  const last = await query(topJet, 0.9);
  check(last.reply.quantiles_kept === true, "the quantiles were solved again for the same jet");
  compareWithCli(last.reply.jets[0], topJet, options.file, 0.9);
  check(last.reply.jets[0].tag_probability[0] < atHalf.reply.jets[0].tag_probability[0],
    "the tag probability did not fall from the cut 0.5 to 0.9");
  const other = await query({ ...topJet, jet_eta: 0.4 }, 0.9);
  check(!other.reply.quantiles_kept, "quantiles kept for another jet");
});

await test("Monte Carlo draws with a seed are the draws of surrogate sample", async () => {
  await query(topJet, 0.5);
  await page.fill("#draw-count", "0");
  await page.click("#draw-run");
  const refused = await page.textContent("#draw-status");
  check(refused.includes("whole number from 1"), `n = 0: ${refused}`);

  await page.fill("#draw-count", "300");
  await page.fill("#draw-seed", "7");
  await page.click("#draw-run");
  await page.waitForFunction(() => window.surrogatePage.draws?.seed === 7 &&
    window.surrogatePage.draws?.n === 300, null, { timeout: 30000 });
  const draws = await page.evaluate(() => window.surrogatePage.draws.csv);
  const input = join(scratch, "jet.csv");
  writeFileSync(input, csvOf([topJet]));
  const cli = execFileSync(options.surrogate, ["sample", options.file, "--input", input, "--n",
    "300", "--seed", "7"], { encoding: "utf8" });
  const pageLines = draws.trim().split("\n");
  const cliLines = cli.trim().split("\n");
  same(pageLines.length, cliLines.length, "lines of draws");
  same(pageLines[0], cliLines[0], "header");
  cliLines.slice(1).forEach((line, k) => {
    const [jet, draw, member, score] = line.split(",");
    const cells = pageLines[k + 1].split(",");
    same(cells.slice(0, 3).join(","), [jet, draw, member].join(","), `draw ${k}: its member`);
    agrees(cells[3], score, `draw ${k}: score`);
  });
});


await test("a jet far above the training range in pt shows the out-of-support warning",
  async () => {
    const last = await query({ ...topJet, label_top: 0, jet_pt: 3000, jet_energy: 3500 }, 0.5);
    check(last.reply.jets[0].support.out_of_support, "the runtime did not flag the jet");
    await page.waitForSelector("#support-warning:not([hidden])");
    const warning = await page.textContent("#support-warning");
    check(warning.includes("Outside the training support"), `warning text: ${warning}`);
    check(warning.includes("jet_pt [GeV]"), `the warning does not name jet_pt: ${warning}`);
    check(await page.$eval("#condition-jet_pt", (input) => input.classList.contains("outside")),
      "the jet_pt input is not marked");
    await page.screenshot({ path: join(options.artifacts, "page-out-of-support.png"),
      fullPage: true });
    await query(topJet, 0.5);
    check(await page.isHidden("#support-warning"), "the warning stays after going back");
  });

async function uploadBatch(name, text) {
  await page.setInputFiles("#batch-file", {
    name, mimeType: "text/csv", buffer: Buffer.from(text),
  });
}

async function batchError() {
  await page.waitForSelector("#batch-error:not([hidden])", { timeout: 10000 });
  return page.textContent("#batch-error");
}

await test("broken CSV files give messages that say what is wrong", async () => {
  await uploadBatch("missing.csv", "label_top,jet_pt,jet_eta\n1,640,0.3\n");
  let message = await batchError();
  check(message.includes("missing columns jet_phi, jet_energy, jet_nparticles"),
    `missing columns: ${message}`);

  const good = csvOf([topJet]).trim();
  await uploadBatch("letters.csv", `${good}\n1,abc,0.3,-1.2,900,50\n`);
  message = await batchError();
  check(message.includes('line 3, column jet_pt: "abc" is not a finite number'),
    `non-number: ${message}`);

  await uploadBatch("short.csv", `${good}\n1,640,0.3\n`);
  message = await batchError();
  check(message.includes("line 3: 3 values for 6 columns"), `short row: ${message}`);

  await uploadBatch("unknown.csv", "label_top,jet_pt,jet_eta,jet_phi,jet_energy,jet_nparticles," +
    "jet_mass\n1,640,0.3,-1.2,900,50,80\n");
  message = await batchError();
  check(message.includes("unknown column jet_mass"), `unknown column: ${message}`);

  const many = Array.from({ length: 1001 }, () => topJet);
  await uploadBatch("many.csv", csvOf(many));
  message = await batchError();
  check(message.includes("at most 1000"), `too many rows: ${message}`);

  await uploadBatch("empty.csv", "");
  message = await batchError();
  check(message.includes("empty"), `empty file: ${message}`);

  // Nothing else broke: the single-jet answer still comes.
  const last = await query({ ...topJet, jet_pt: 655 }, 0.5);
  check(last.reply.ok, "the page stopped answering after bad files");
});

await test("a local file: a corrupt one is refused with a message, the JSON mirror opens",
  async () => {
    await page.setInputFiles("#surrogate-local", {
      name: "corrupt.surrogate", mimeType: "application/octet-stream",
      buffer: Buffer.from("not a surrogate at all"),
    });
    await page.waitForFunction(() =>
      document.getElementById("load-status").textContent.includes("corrupt.surrogate:"));
    const status = await page.textContent("#load-status");
    check(status.includes("not a usable surrogate file"), `status: ${status}`);
    check(status.includes("The previous surrogate stays open"), `status: ${status}`);
    const last = await query({ ...topJet, jet_pt: 660 }, 0.5);
    check(last.reply.ok && last.reply.jets[0].member_quantiles.length === 11,
      "the open surrogate changed after a refused file");

    const mirror = join(scratch, "three.surrogate.json");
    execFileSync(options.surrogate, ["demo-file", "--members", "3", "--json", "--output", mirror],
      { stdio: "ignore" });
    await page.setInputFiles("#surrogate-local", mirror);
    await page.waitForFunction(() => window.surrogatePage.card?.n_members === 3 &&
      window.surrogatePage.last?.reply?.jets?.[0]?.member_quantiles.length === 3, null,
      { timeout: 30000 });
    const card = await page.textContent("#card");
    check(card.includes("3 × demonstration"), "the card does not show the 3 members");

    // Back to the demonstration file for the tests that follow. The list still shows
    // it, so choosing it again fires no change event: send one.
    await page.selectOption("#surrogate-list", "demonstration.surrogate");
    await page.evaluate(() => document.getElementById("surrogate-list")
      .dispatchEvent(new Event("change")));
    await page.waitForFunction(() => window.surrogatePage.card?.n_members === 11 &&
      window.surrogatePage.last?.reply?.jets?.[0]?.member_quantiles.length === 11, null,
      { timeout: 30000 });
  });

await test("a CSV batch gives a table and a download in the command line's columns", async () => {
  const jets = batchJets(12);
  await uploadBatch("jets.csv", csvOf(jets));
  await page.waitForFunction(() => window.surrogatePage.batch?.file === "jets.csv" &&
    window.surrogatePage.batch?.state === "done", null, { timeout: 60000 });
  const batch = await page.evaluate(() => window.surrogatePage.batch);
  const [header, ...rows] = batch.csv.trim().split("\n");
  same(rows.length, 12, "result rows");
  const tableRows = await page.$$eval("#batch-table tbody tr", (r) => r.length);
  same(tableRows, 12, "rows shown");
  check(!(await page.isDisabled("#batch-download")), "the download button is disabled");
  const download = page.waitForEvent("download");
  await page.click("#batch-download");
  const file = await download;
  same(file.suggestedFilename(), "jets-surrogate.csv", "download name");

  // The page answers in calls of 5 jets shared among its workers; each jet's rows take
  // their own solver steps, so the command line on the whole file prints the same text.
  const whole = join(scratch, "whole.csv");
  writeFileSync(whole, csvOf(jets));
  const cli = execFileSync(options.surrogate, ["query", options.file, "--input", whole, "--cuts",
    "0.5"], { encoding: "utf8" });
  const [cliHeader, ...cliRows] = cli.trim().split("\n");
  same(header, cliHeader, "CSV header");
  same(cliRows.length, rows.length, "rows of the command line");
  cliRows.forEach((row, j) => {
    const cells = rows[j].split(",");
    row.split(",").forEach((cell, c) => agrees(cells[c], cell, `CSV row ${j + 1}, cell ${c + 1}`));
  });
});

await test("a long batch shows progress and can be cancelled", async () => {
  await uploadBatch("long.csv", csvOf(batchJets(1000)));
  await page.waitForFunction(() => window.surrogatePage.batch?.file === "long.csv" &&
    window.surrogatePage.batch?.done >= 10, null, { timeout: 60000 });
  const progress = await page.$eval("#batch-progress", (bar) => bar.value);
  check(progress >= 10, `progress bar at ${progress}`);
  await page.click("#batch-cancel");
  await page.waitForFunction(() => window.surrogatePage.batch?.state === "cancelled", null,
    { timeout: 30000 });
  const status = await page.textContent("#batch-status");
  check(/Cancelled after \d+ of 1000 jets/.test(status), `status: ${status}`);
});

await test("the layout fits a phone screen and the page loads nothing from outside", async () => {
  await page.screenshot({ path: join(options.artifacts, "page.png"), fullPage: true });
  const small = await context.newPage();
  await small.setViewportSize({ width: 390, height: 844 });
  await small.goto(options.url);
  await small.waitForFunction(() => window.surrogatePage?.last?.reply?.ok, null,
    { timeout: 30000 });
  const overflow = await small.evaluate(() =>
    document.documentElement.scrollWidth - window.innerWidth);
  await small.screenshot({ path: join(options.artifacts, "page-phone.png"), fullPage: true });
  await small.close();
  check(overflow <= 1, `the page is ${overflow} px wider than the phone's screen`);
  check(outside.length === 0, `requests outside 127.0.0.1: ${outside.join(", ")}`);
});

await test("a published surrogate opens, and its card links to its evaluation report", async () => {
  const listed = await page.$$eval("#surrogate-list option", (o) => o.map((x) => x.value));
  check(listed.includes("toy-variational.surrogate"),
    `models/published is not offered: the list holds ${listed.join(", ")}`);
  await chooseSurrogate(page, "toy-variational.surrogate", 11);
  check(!(await page.isVisible("#demonstration")), "a trained surrogate is called a demonstration");
  // The trainer's configuration (a value of several lines) has a row of its own.
  const facts = await page.$$eval("#card-facts dt", (terms) =>
    Object.fromEntries(terms.map((t) => [t.textContent, t.nextElementSibling.textContent])));
  check((facts.config ?? "").includes("batch-size = 4096; checkpoint = "),
    `the configuration's row reads: ${facts.config}`);
  check(!facts.hyperparameters.includes("config ="), "the configuration is among the one-liners");
  const href = await page.getAttribute("#report-link", "href");
  check(href, "the card has no link to the evaluation report");
  const report = await page.request.get(new URL(href, options.url).toString());
  same(report.status(), 200, "the report's HTTP status");
  check((await report.text()).includes("<h1>Evaluation of"), "the report is not the evaluation");
});

await test("a trained surrogate's answer, its members solved in several workers, is the " +
  "command line's", async () => {
  const workers = await page.evaluate(() => window.surrogatePage.workers);
  console.log(`      ${workers} Web Workers (the machine's processors, at most 4)`);
  const jet = { ...topJet, jet_pt: 580, label_top: 0 };
  const last = await query(jet, 0.5);
  check(last.reply.ok, `the page answered an error: ${last.reply.error}`);
  same(last.reply.workers ?? 1, Math.min(workers, 11), "workers that solved the members");
  compareWithCli(last.reply.jets[0], jet, options.published);
});

await test("no errors in the page's console", async () => {
  check(pageErrors.length === 0, pageErrors.join("\n"));
});

await close();
rmSync(scratch, { recursive: true, force: true });

const failed = results.filter((result) => !result.ok).length;
console.log(`${agreement.exact} numbers as the command line prints them, ` +
  `${agreement.close} others within 1e-6 relative`);
console.log(`screenshots in ${options.artifacts}`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
