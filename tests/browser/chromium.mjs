// What the page's tests and its benchmark (bench/bench_page.mjs) share: Debian's
// Chromium started headless on a fresh profile folder, and one query through the form.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const NAMES = ["label_top", "jet_pt", "jet_eta", "jet_phi", "jet_energy",
  "jet_nparticles"];

// A persistent context on a fresh profile folder (the --user-data-dir of TOOLCHAIN.md);
// close() also removes the folder.
export async function startChromium(viewport = { width: 1200, height: 900 }) {
  const profile = mkdtempSync(join(tmpdir(), "cs-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

// Opens the page and waits for its first answer.
export async function openPage(page, url) {
  await page.goto(url);
  await page.waitForSelector("#card:not([hidden])", { timeout: 30000 });
  await page.waitForFunction(() => window.surrogatePage.last?.reply?.ok, null,
    { timeout: 30000 });
}

// Chooses a listed surrogate and waits until its answer with `members` members is shown.
export async function chooseSurrogate(page, name, members) {
  await page.selectOption("#surrogate-list", name);
  await page.waitForFunction(([file, n]) => window.surrogatePage.fileName === file &&
    window.surrogatePage.last?.reply?.jets?.[0]?.member_quantiles.length === n, [name, members],
  { timeout: 30000 });
}

// Fills the form and waits for the answer to exactly this jet and cut; returns the
// page's record of it (jet, cut, reply, milliseconds, worker_milliseconds).
export async function query(page, jet, cut = 0.5) {
  for (const name of NAMES) {
    await page.fill(`#condition-${name}`, String(jet[name]));
  }
  await page.fill("#cut-value", String(cut));
  await page.waitForFunction(([expected, expectedCut]) => {
    const last = window.surrogatePage.last;
    return document.body.dataset.query === "idle" && last && last.cut === expectedCut &&
      Object.keys(expected).every((name) => last.jet[name] === expected[name]);
  }, [jet, cut], { timeout: 20000 });
  return page.evaluate(() => window.surrogatePage.last);
}

// n jets spread over the training ranges, for batches.
export function batchJets(n) {
  return Array.from({ length: n }, (_, j) => ({
    label_top: j % 2, jet_pt: 450 + (j * 37) % 400, jet_eta: -1 + (j % 21) / 10,
    jet_phi: -3 + (j % 61) / 10, jet_energy: 700 + (j * 53) % 600, jet_nparticles: 20 + j % 50,
  }));
}

export function csvOf(jets) {
  return [NAMES.join(","), ...jets.map((jet) => NAMES.map((name) => jet[name]).join(","))]
    .join("\n") + "\n";
}
