// The search page in a real browser (Debian's chromium, headless, driven by
// playwright-core): pick the collection, search in English and Korean,
// switch mode, open related documents; a screenshot is saved.
//
//   node search_page.mjs --node-dir DIR --base-url URL --api-key KEY --screenshot FILE
import { createRequire } from "node:module";
import path from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const require = createRequire(path.join(args["node-dir"], "package.json"));
const { chromium } = require("playwright-core");

let failures = 0;
const fail = (msg) => {
  console.error("FAIL: " + msg);
  failures++;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(args["base-url"] + "/");

  // The key box: without the key the collections cannot be listed.
  await page.waitForSelector("#status.error");
  if (!(await page.locator("#key-box").getAttribute("open") !== null)) fail("the key box did not open on 401");
  await page.fill("#api-key", args["api-key"]);
  await page.dispatchEvent("#api-key", "change");
  await page.waitForFunction(() => document.querySelectorAll("#collection option").length >= 2);
  await page.selectOption("#collection", "docs");

  // English, hybrid (the default mode).
  await page.fill("#query", "flour eggs noodles");
  await page.press("#query", "Enter");
  await page.waitForSelector("#results li.hit");
  const first = await page.locator("#results li.hit").first().getAttribute("data-id");
  if (first !== "pasta") fail(`English search: first result ${first}, want pasta`);
  const marks = await page.locator("#results li.hit").first().locator("mark").allTextContents();
  if (!marks.map((m) => m.toLowerCase()).includes("flour")) fail(`no highlighted query term: ${JSON.stringify(marks)}`);
  if (!(await page.textContent("#status")).includes("hybrid")) fail("status does not name the mode");
  if (!(await page.locator("#results li.hit .percentile").count())) fail("no percentile shown");

  // Korean, then switching to BM25 reruns the search in that mode.
  await page.fill("#query", "한국의 수도");
  await page.press("#query", "Enter");
  await page.waitForFunction(() => document.querySelector("#results li.hit")?.dataset.id === "seoul");
  const koreanMarks = await page.locator("#results li.hit").first().locator("mark").allTextContents();
  if (!koreanMarks.includes("수도")) fail(`Korean term not highlighted: ${JSON.stringify(koreanMarks)}`);
  await page.check("input[name=mode][value=bm25]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("bm25"));
  await page.check("input[name=mode][value=dense]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("dense"));

  // Related documents of the moon: mars among them; and theirs in turn.
  await page.fill("#query", "tides of the ocean");
  await page.press("#query", "Enter");
  await page.waitForFunction(() => document.querySelector("#results li.hit")?.dataset.id === "moon");
  await page.locator("#results li.hit").first().locator(".related-button").click();
  await page.waitForSelector("#results li.hit >> nth=0 >> li.related-item");
  const related = await page.locator("#results li.hit").first().locator("li.related-item").evaluateAll((els) =>
    els.map((e) => e.dataset.id));
  if (!related.includes("mars")) fail(`related to moon: ${JSON.stringify(related)}`);
  await page.locator("#results li.hit").first().locator("li.related-item button").first().click();
  await page.waitForFunction(() => document.querySelectorAll("#results li.hit:first-child .related .related li.related-item").length > 0);
  await page.screenshot({ path: args.screenshot, fullPage: true });

  // Markup in a document stays text.
  await page.fill("#query", "script tag injection");
  await page.press("#query", "Enter");
  await page.waitForFunction(() => document.querySelector("#results li.hit")?.dataset.id === "html");
  if (await page.locator("#results img").count()) fail("a document's markup was rendered");

  if (pageErrors.length) fail("errors in the page: " + pageErrors.join("; "));
} finally {
  await browser.close();
}
if (failures) {
  console.error(`${failures} failure(s)`);
  process.exit(1);
}
console.log("ok");
