// Embedding throughput of simile, with the same protocol as the peers in
// ../shared/peers/inference (bench_ort.mjs, bench_torch.py), so the numbers sit
// side by side: warm-up over the first 10% (>= 20) texts in batch order, then
// --runs timed passes over all texts, median reported. Batch > 1 runs texts
// longest-first in calls of --batch texts (padded to the longest in the call);
// batch 1 keeps input order. Unlike the peers, simile starts from text:
// tokenisation is INCLUDED in every timed call. For comparison with the
// peers' model-only figures the record also carries the time of one serial
// tokenisation pass (tokenize_s_1thread) and an estimate of the rate without it
// (sent_per_s_excl_tok_est: the median pass minus that time spread over the
// threads, as embed() tokenises in parallel).
//
//   embed_bench --file short.txt [--model all-MiniLM-L6-v2|DIR] [--batch 32]
//               [--threads 2] [--runs 3] [--limit N] [--name short] [--results out.jsonl]
//               [--dtype fp32|int8]
//
// --model takes a cache name (looked up under $SIMILE_HOME) or a directory;
// empty means the default model. One JSON record goes to stdout (and is
// appended to --results).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "simile/embedder.h"

namespace {

struct Args {
  std::string model;
  std::string file;
  std::string name;
  std::string results;
  size_t batch = 32;
  int threads = 2;
  int runs = 3;
  size_t limit = 0;
  std::string dtype = "fp32";
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--model")
      a.model = v;
    else if (k == "--file")
      a.file = v;
    else if (k == "--name")
      a.name = v;
    else if (k == "--results")
      a.results = v;
    else if (k == "--batch")
      a.batch = std::stoul(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--runs")
      a.runs = std::stoi(v);
    else if (k == "--limit")
      a.limit = std::stoul(v);
    else if (k == "--dtype")
      a.dtype = v;
    else
      return false;
  }
  return !a.file.empty() && a.batch > 0 && a.runs > 0;
}

// Nearest-rank percentile, the definition the peers use.
double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  long k = static_cast<long>((p * xs.size() + 99) / 100) - 1;
  k = std::clamp(k, 0L, static_cast<long>(xs.size()) - 1);
  return xs[static_cast<size_t>(k)];
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: embed_bench --file TEXTS [--model M] [--batch 32] [--threads 2] [--runs 3] "
                 "[--limit N] [--name NAME] [--results FILE] [--dtype fp32|int8]\n");
    return 2;
  }
  std::ifstream in(args.file);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", args.file.c_str());
    return 1;
  }
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) texts.push_back(line);
  if (args.limit && texts.size() > args.limit) texts.resize(args.limit);

  simile::EmbedderOptions opts;
  opts.model = args.model;
  opts.threads = args.threads;
  opts.batch_size = args.batch;
  auto dtype = simile::parse_inference_dtype(args.dtype);
  if (!dtype.is_ok()) {
    std::fprintf(stderr, "%s\n", dtype.status().message().c_str());
    return 2;
  }
  opts.dtype = *dtype;
  auto opened = simile::Embedder::open(opts);
  if (!opened.is_ok()) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  const simile::Embedder& embedder = **opened;

  // Token counts (as the model sees them) order the calls and give tokens/s.
  // The same loop, timed, is the serial tokenisation cost of one pass.
  std::vector<size_t> lengths(texts.size());
  double tokenize_s = 0;
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms the caches
    double t0 = now_s();
    for (size_t i = 0; i < texts.size(); ++i) {
      auto enc = embedder.tokenizer().encode(texts[i]);
      lengths[i] = enc.is_ok() ? std::min(enc->size(), embedder.info().max_tokens) : 0;
    }
    tokenize_s = now_s() - t0;
  }
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  if (args.batch > 1)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<std::string>> calls;
  for (size_t i = 0; i < order.size(); i += args.batch) {
    calls.emplace_back();
    for (size_t j = i; j < std::min(order.size(), i + args.batch); ++j) calls.back().push_back(texts[order[j]]);
  }

  auto run_calls = [&](size_t n_texts, std::vector<double>* latencies_ms) {
    size_t done = 0;
    for (const auto& call : calls) {
      if (done >= n_texts) break;
      double t0 = now_s();
      auto v = embedder.embed(call);
      if (!v.is_ok()) {
        std::fprintf(stderr, "%s\n", v.status().message().c_str());
        std::exit(1);
      }
      if (latencies_ms) latencies_ms->push_back((now_s() - t0) * 1e3);
      done += call.size();
    }
  };

  run_calls(std::max<size_t>(20, (texts.size() + 9) / 10), nullptr);  // warm-up
  std::vector<double> runs, latencies;
  for (int r = 0; r < args.runs; ++r) {
    double t0 = now_s();
    run_calls(texts.size(), &latencies);
    runs.push_back(now_s() - t0);
  }
  std::vector<double> sorted = runs;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;  // the mean of the middle two for an even count, as the peers do
  double median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  double tokens = std::accumulate(lengths.begin(), lengths.end(), 0.0);
  double model_only_s = std::max(1e-9, median - tokenize_s / std::max(1, args.threads));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  auto round_to = [](double x, double unit) { return std::round(x / unit) / (1 / unit); };
  for (double& r : runs) r = round_to(r, 0.001);
  nlohmann::ordered_json rec = {
      // the peers' field order
      {"peer", "simile " + args.dtype + " (" + embedder.info().name + ")"},
      {"workload", args.name},
      {"batch", args.batch},
      {"threads", args.threads},
      {"texts", texts.size()},
      {"mean_tokens", round_to(tokens / texts.size(), 0.01)},
      {"runs_s", runs},
      {"median_s", round_to(median, 0.001)},
      {"sent_per_s", round_to(texts.size() / median, 0.1)},
      {"tok_per_s", std::round(tokens / median)},
      {"call_p50_ms", round_to(percentile(latencies, 50), 0.001)},
      {"call_p90_ms", round_to(percentile(latencies, 90), 0.001)},
      {"peak_rss_mb", round_to(usage.ru_maxrss / 1024.0, 0.1)},
      {"tokenization", "included (simile embeds from text)"},
      {"tokenize_s_1thread", round_to(tokenize_s, 0.0001)},
      {"sent_per_s_excl_tok_est", round_to(texts.size() / model_only_s, 0.1)},
  };
  std::cout << rec.dump() << std::endl;
  if (!args.results.empty()) {
    std::ofstream out(args.results, std::ios::app);
    out << rec.dump() << "\n";
  }
  return 0;
}
