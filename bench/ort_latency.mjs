// Batch-1 latency of ONNX Runtime (npm onnxruntime-node, CPU EP) on
// pre-tokenised texts, with the tail percentile the shared peer script
// (../shared/peers/inference/bench_ort.mjs, p50/p90) does not report: one
// text per call in file order, after a warm-up of 20 calls, --runs passes;
// p50/p90/p99 over every timed call. The session options are the peer
// script's (intra-op threads = --threads, one inter-op thread, sequential,
// all graph optimisations), so the two measure the same engine.
//
//   node bench/ort_latency.mjs --node-dir scripts/node --model minilm.onnx \
//        --ids short.ids.jsonl [--threads 2] [--runs 3] [--name short]
//
// Prints one JSON record (the peers' field names, plus call_p99_ms).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const opts = { 'node-dir': '', model: '', ids: '', threads: '2', runs: '3', name: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in opts) || i + 1 >= process.argv.length) {
    console.error(`ort_latency: bad argument ${process.argv[i]}`);
    process.exit(2);
  }
  opts[key] = process.argv[i + 1];
}
for (const key of ['node-dir', 'model', 'ids']) {
  if (!opts[key]) {
    console.error(`ort_latency: --${key} is required`);
    process.exit(2);
  }
}
const require = createRequire(join(resolve(opts['node-dir']), 'package.json'));
const ort = require('onnxruntime-node');
const version = JSON.parse(
  readFileSync(join(opts['node-dir'], 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
const texts = readFileSync(opts.ids, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const threads = parseInt(opts.threads, 10);
const runs = parseInt(opts.runs, 10);

const session = await ort.InferenceSession.create(opts.model, {
  intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
});
// Input tensors are built before the clock starts: the peers' protocol times
// the model call only.
const feeds = texts.map((ids) => ({
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
}));

for (let i = 0; i < Math.min(20, feeds.length); i++) await session.run(feeds[i]);
const calls = [];
const passes = [];
for (let r = 0; r < runs; r++) {
  const passStart = process.hrtime.bigint();
  for (const feed of feeds) {
    const start = process.hrtime.bigint();
    await session.run(feed);
    calls.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  passes.push(Number(process.hrtime.bigint() - passStart) / 1e9);
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const nearestRank = (xs, p) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const medianPass = sorted(passes)[Math.floor(passes.length / 2)];
const tokens = texts.reduce((sum, ids) => sum + ids.length, 0);
const round = (x, digits) => +x.toFixed(digits);
console.log(JSON.stringify({
  peer: `onnxruntime-node ${version} (CPU EP)`, workload: opts.name, batch: 1, threads,
  texts: texts.length, mean_tokens: round(tokens / texts.length, 2),
  runs_s: passes.map((x) => round(x, 3)), median_s: round(medianPass, 3),
  sent_per_s: round(texts.length / medianPass, 1), tok_per_s: Math.round(tokens / medianPass),
  call_p50_ms: round(nearestRank(calls, 50), 3), call_p90_ms: round(nearestRank(calls, 90), 3),
  call_p99_ms: round(nearestRank(calls, 99), 3),
  peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
  tokenization: 'excluded (pre-tokenised ids)',
}));
