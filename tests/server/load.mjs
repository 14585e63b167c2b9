// A bounded load on `simile serve`: N clients for a fixed time, each sending
// a mix of embedding requests, searches, upserts, deletes and bad requests,
// one at a time. Reports throughput, latency percentiles per kind, statuses
// and the server's RSS and open files; exits 1 on any 5xx, on a bad request
// not answered 4xx, on RSS growth past --max-rss-growth after warm-up, or on
// more open files at the end than after warm-up plus --max-fd-growth.
//
//   node load.mjs --base-url URL [--api-key KEY] [--clients 16] [--seconds 10]
//                 [--collection NAME] [--mix embed:4,batch:1,search:4,bad:1]
//                 [--pid PID] [--max-rss-growth 0.5] [--max-fd-growth 16]
//                 [--warmup SECONDS] [--texts FILE] [--json]
//
// upsert and delete write documents "load-0" .. "load-199" of --collection,
// so the collection's size stays bounded however long the load runs.
//
// --mix embed-only kinds let bench/server_load.sh compare the server's
// embedding throughput with the CLI's on the same texts (--texts: one per line).
import { readdirSync, readFileSync } from "node:fs";

const opts = {
  "base-url": "", "api-key": "", clients: "16", seconds: "10", collection: "", mix: "embed:4,batch:1,search:4,bad:1",
  pid: "", "max-rss-growth": "0.5", "max-fd-growth": "16", warmup: "", texts: "", json: "", "batch-size": "8",
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("--")) continue;
  const k = a.slice(2);
  if (k === "json") opts.json = "1";
  else opts[k] = process.argv[++i];
}
const base = opts["base-url"];
const headers = { "Content-Type": "application/json" };
if (opts["api-key"]) headers.Authorization = "Bearer " + opts["api-key"];
const texts = opts.texts
  ? readFileSync(opts.texts, "utf8").split("\n").filter((l) => l.trim())
  : ["hello world", "서울은 대한민국의 수도이다.", "How do I rotate my log files every night?",
     "A jet engine compresses air and burns fuel.", "개는 매일 산책이 필요하다.", "Mars has the tallest volcano."];
const batchSize = parseInt(opts["batch-size"], 10);
const mix = opts.mix.split(",").flatMap((part) => {
  const [kind, weight] = part.split(":");
  return Array(parseInt(weight || "1", 10)).fill(kind);
});

let textIndex = 0;
const nextText = () => texts[textIndex++ % texts.length];
const bad = [
  ["POST", "/v1/embeddings", "{\"input\": "],
  ["POST", "/v1/embeddings", JSON.stringify({ input: 42 })],
  ["POST", "/v1/embeddings", JSON.stringify({ input: "x", model: "no-such-model" })],
  ["POST", "/v1/embeddings", JSON.stringify({ input: [[101, 2 ** 30]] })],
  ["POST", "/v1/embeddings", JSON.stringify({ input: "x", dimensions: -3 })],
  ["GET", "/v1/nothing", null],
  ["POST", "/collections/no-such-collection/search", JSON.stringify({ query: "x" })],
  ["POST", `/collections/${opts.collection || "x"}/search`, JSON.stringify({ query: "x", k: 0 })],
  ["POST", `/collections/${opts.collection || "x"}/search`, JSON.stringify({ query: "x", filter: "((" })],
];

function request(kind) {
  switch (kind) {
    case "embed":
      return ["POST", "/v1/embeddings", JSON.stringify({ model: "all-MiniLM-L6-v2", input: nextText() }), 1];
    case "batch": {
      const input = Array.from({ length: batchSize }, nextText);
      return ["POST", "/v1/embeddings", JSON.stringify({ model: "all-MiniLM-L6-v2", input }), batchSize];
    }
    case "search":
      return ["POST", `/collections/${opts.collection}/search`, JSON.stringify({ query: nextText(), k: 10 }), 0];
    case "upsert": {
      const n = Math.floor(Math.random() * 200);
      const documents = [{ id: `load-${n}`, text: `${nextText()} (version ${Date.now()})`, meta: { n } }];
      return ["POST", `/collections/${opts.collection}/documents`, JSON.stringify({ documents }), 0];
    }
    case "delete":
      return ["POST", `/collections/${opts.collection}/documents/delete`,
              JSON.stringify({ ids: [`load-${Math.floor(Math.random() * 200)}`] }), 0];
    case "bad":
      return [...bad[Math.floor(Math.random() * bad.length)], 0];
    default:
      throw new Error("unknown kind " + kind);
  }
}

function rssMb() {
  if (!opts.pid) return NaN;
  try {
    const m = readFileSync(`/proc/${opts.pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? parseInt(m[1], 10) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function serverMemory() {
  try {
    const res = await fetch(base + "/metrics", { headers });
    const text = await res.text();
    const m = {};
    for (const match of text.matchAll(/^simile_memory_bytes\{kind="(\w+)"\} (\S+)$/gm)) m[match[1]] = parseFloat(match[2]);
    return Object.keys(m).length ? m : null;
  } catch {
    return null;
  }
}

function openFiles() {
  if (!opts.pid) return NaN;
  try {
    return readdirSync(`/proc/${opts.pid}/fd`).length;
  } catch {
    return NaN;
  }
}

const stats = {}; // kind -> {latencies: [], statuses: {}, texts}
const problems = [];
const seconds = parseFloat(opts.seconds);
const start = performance.now();
const end = start + seconds * 1000;
const warmupEnd = start + (opts.warmup ? parseFloat(opts.warmup) * 1000 : Math.min(2000, seconds * 200));
let rssAfterWarmup = NaN, rssMax = 0, fdsAfterWarmup = NaN;
// One sample every 30 s: whether growth levels off or keeps climbing tells
// fragmentation from a leak.
const rssSeries = [];
let nextSeriesSample = start;
const rssTimer = setInterval(() => {
  const r = rssMb();
  rssMax = Math.max(rssMax, r || 0);
  const now = performance.now();
  if (now >= nextSeriesSample) {
    const sample = [Math.round((now - start) / 1000), Math.round(r)];
    rssSeries.push(sample);
    // The server's own account (simile_memory_bytes): heap in use and SQLite,
    // in MB, appended when it arrives.
    serverMemory().then((m) => { if (m) sample.push(Math.round(m.heap_in_use / 1048576), Math.round(m.heap_free / 1048576), Math.round(m.sqlite / 1048576)); });
    nextSeriesSample += 30000;
  }
  if (Number.isNaN(rssAfterWarmup) && performance.now() >= warmupEnd) {
    rssAfterWarmup = r;
    fdsAfterWarmup = openFiles();
  }
}, 250);

async function client() {
  while (performance.now() < end) {
    const kind = mix[Math.floor(Math.random() * mix.length)];
    const [method, path, body, count] = request(kind);
    const t0 = performance.now();
    let status = 0;
    try {
      const res = await fetch(base + path, { method, headers, body: body ?? undefined });
      await res.arrayBuffer();
      status = res.status;
      if (status === 429 && !res.headers.get("retry-after")) problems.push("429 without Retry-After");
    } catch (e) {
      problems.push(`${kind}: ${e.cause ? e.cause.code || e.cause : e}`);
    }
    const s = (stats[kind] ??= { latencies: [], statuses: {}, texts: 0 });
    s.latencies.push(performance.now() - t0);
    s.statuses[status] = (s.statuses[status] || 0) + 1;
    if (status === 200) s.texts += count;
    if (status >= 500 || status === 0) problems.push(`${kind} ${method} ${path}: HTTP ${status}`);
    if (kind === "bad" && !(status >= 400 && status < 500)) problems.push(`bad request ${method} ${path}: HTTP ${status}`);
    if (kind !== "bad" && status !== 200 && status !== 429) problems.push(`${kind}: HTTP ${status}`);
  }
}

await Promise.all(Array.from({ length: parseInt(opts.clients, 10) }, client));
clearInterval(rssTimer);
const elapsed = (performance.now() - start) / 1000;
const rssEnd = rssMb();
const fdsEnd = openFiles();

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const report = { clients: parseInt(opts.clients, 10), seconds: elapsed, kinds: {}, problems: problems.length };
let total = 0;
for (const [kind, s] of Object.entries(stats)) {
  const sorted = s.latencies.slice().sort((a, b) => a - b);
  total += sorted.length;
  report.kinds[kind] = {
    requests: sorted.length, per_second: sorted.length / elapsed, texts_per_second: s.texts / elapsed,
    p50_ms: pct(sorted, 50), p99_ms: pct(sorted, 99), statuses: s.statuses,
  };
}
report.requests_per_second = total / elapsed;
report.rss_mb = { after_warmup: rssAfterWarmup, end: rssEnd, max: rssMax, series: rssSeries };
const growth = (rssEnd - rssAfterWarmup) / rssAfterWarmup;
report.rss_mb.growth = growth;
if (opts.pid && growth > parseFloat(opts["max-rss-growth"]))
  problems.push(`RSS grew ${(growth * 100).toFixed(1)}% after warm-up (${rssAfterWarmup.toFixed(0)} -> ${rssEnd.toFixed(0)} MB)`);
report.open_files = { after_warmup: fdsAfterWarmup, end: fdsEnd };
if (opts.pid && fdsEnd > fdsAfterWarmup + parseInt(opts["max-fd-growth"], 10))
  problems.push(`open files grew from ${fdsAfterWarmup} after warm-up to ${fdsEnd}`);

if (opts.json) console.log(JSON.stringify(report));
else {
  console.log(`${total} requests in ${elapsed.toFixed(1)} s from ${opts.clients} clients: ${report.requests_per_second.toFixed(1)}/s`);
  for (const [kind, k] of Object.entries(report.kinds))
    console.log(`  ${kind.padEnd(7)} ${String(k.requests).padStart(6)}  p50 ${k.p50_ms.toFixed(1)} ms  p99 ${k.p99_ms.toFixed(1)} ms  ${JSON.stringify(k.statuses)}`);
  if (opts.pid) console.log(`  RSS ${rssAfterWarmup.toFixed(0)} MB after warm-up, ${rssEnd.toFixed(0)} MB at the end, max ${rssMax.toFixed(0)}; open files ${fdsAfterWarmup} after warm-up, ${fdsEnd} at the end`);
}
for (const p of [...new Set(problems)].slice(0, 20)) console.error("FAIL: " + p);
process.exit(problems.length ? 1 : 0);
