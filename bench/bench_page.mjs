// Times the page in headless Chromium (run by bench/bench_page.sh, which serves it):
// opening it, single-jet answers of the published toy-variational surrogate (11
// members, 99 quantiles, one tag probability; target under 200 ms), new working points
// for the same jet and a CSV batch.
// Usage: node bench_page.mjs --url URL [--queries N] [--batch JETS] [--output JSON]
import { writeFileSync } from "node:fs";

import {
  batchJets, chooseSurrogate, csvOf, openPage, query, startChromium,
} from "../tests/browser/chromium.mjs";

const options = { queries: "40", batch: "200" };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  options[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
}
const queries = Number(options.queries);
const batchSize = Number(options.batch);
if (!options.url || !(queries >= 1) || !(batchSize >= 1)) {
  console.error("usage: node bench_page.mjs --url URL [--queries N >= 1] [--batch JETS >= 1] " +
    "[--output JSON]");
  process.exit(2);
}

const PUBLISHED = "toy-variational.surrogate";
const WARM_UP = 3;

function statistics(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1],
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

const milliseconds = (value) => `${value.toFixed(1)} ms`;

const { page, close } = await startChromium();
const results = {};
try {
  let started = Date.now();
  await openPage(page, options.url);
  results.open_to_first_answer_ms = Date.now() - started;
  results.first_file = await page.evaluate(() => window.surrogatePage.fileName);
  results.workers = await page.evaluate(() => window.surrogatePage.workers);
  results.processors = await page.evaluate(() => navigator.hardwareConcurrency);
  results.browser = await page.evaluate(() => navigator.userAgent);
  await chooseSurrogate(page, PUBLISHED, 11);

  // Every query asks for a new jet, so each is computed, never a repeated answer.
  const jet = (k) => ({
    label_top: k % 2, jet_pt: 500 + (k * 37) % 450, jet_eta: -1.5 + (k % 31) / 10,
    jet_phi: -3 + (k % 59) / 10, jet_energy: 900 + (k * 53) % 900, jet_nparticles: 20 + k % 60,
  });
  const answer = [];
  const runtime = [];
  for (let k = 0; k < WARM_UP + queries; k++) {
    const last = await query(page, jet(k), 0.5);
    if (!last.reply.ok || last.reply.jets[0].member_quantiles.length !== 11) {
      throw new Error(`query ${k}: ${last.reply.error ?? "not 11 members"}`);
    }
    if (k >= WARM_UP) {
      answer.push(last.milliseconds);
      runtime.push(last.worker_milliseconds);
    }
  }
  results.single_jet = {
    surrogate: PUBLISHED, queries, warm_up: WARM_UP, answer_ms: statistics(answer),
    runtime_ms: statistics(runtime), under_200_ms: answer.filter((t) => t < 200).length,
    all_answer_ms: answer,
  };

  // New working points for the last jet: its quantiles are kept, only the tag
  // probability's backward solves run.
  const cuts = [];
  for (let k = 1; k <= 10; k++) {
    const last = await query(page, jet(WARM_UP + queries - 1), k / 11);
    if (!last.reply.ok || !last.reply.quantiles_kept) {
      throw new Error(`working point ${k / 11}: ${last.reply.error ?? "quantiles solved again"}`);
    }
    cuts.push(last.milliseconds);
  }
  results.new_working_point = { answers: cuts.length, answer_ms: statistics(cuts) };

  started = Date.now();
  await page.setInputFiles("#batch-file", {
    name: "bench.csv", mimeType: "text/csv", buffer: Buffer.from(csvOf(batchJets(batchSize))),
  });
  await page.waitForFunction(() => window.surrogatePage.batch?.file === "bench.csv" &&
    window.surrogatePage.batch?.state !== "running", null, { timeout: 600000 });
  const seconds = (Date.now() - started) / 1000;
  const batch = await page.evaluate(() => window.surrogatePage.batch);
  if (batch.state !== "done") {
    throw new Error(`the batch ended ${batch.state}: ${batch.error ?? ""}`);
  }
  results.batch = { jets: batchSize, seconds, jets_per_second: batchSize / seconds };
} finally {
  await close();
}

const single = results.single_jet;
console.log(`page benchmark in ${results.browser}`);
console.log(`  ${results.workers} Web Workers on ${results.processors} processors`);
console.log(`  opening the page to the first answer (${results.first_file}): ` +
  `${results.open_to_first_answer_ms} ms`);
console.log(`  single-jet answer, ${PUBLISHED}, ${queries} queries after ${WARM_UP} ` +
  `(11 members, 99 quantiles, one tag probability; target under 200 ms):`);
console.log(`    median ${milliseconds(single.answer_ms.median)}, 90% ` +
  `${milliseconds(single.answer_ms.p90)}, max ${milliseconds(single.answer_ms.max)}; ` +
  `${single.under_200_ms} of ${queries} under 200 ms`);
console.log(`    of it in the runtime: median ${milliseconds(single.runtime_ms.median)}`);
console.log(`  a new working point for the same jet (quantiles kept): median ` +
  `${milliseconds(results.new_working_point.answer_ms.median)}, max ` +
  `${milliseconds(results.new_working_point.answer_ms.max)}`);
console.log(`  batch of ${batchSize} jets (5 quantiles, one tag probability): ` +
  `${results.batch.seconds.toFixed(1)} s, ${results.batch.jets_per_second.toFixed(1)} jets/s`);
if (options.output) {
  writeFileSync(options.output, JSON.stringify(results, null, 1) + "\n");
  console.log(`  written to ${options.output}`);
}
