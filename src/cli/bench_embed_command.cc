// simile bench embed: how fast a model embeds the lines of a file here.
// Throughput: after a warm-up, --runs passes over all texts in calls of
// --batch texts, longest first (each call pads to its longest text), the
// median pass reported as texts/s and tokens/s. Latency: one text per call,
// the first --latency-texts texts in file order, --runs times, reported as
// p50/p99 of the calls. The protocol of the peer scripts in
// ../shared/peers/inference (bench_ort.mjs, bench_torch.py), so
// bench/embed_peers.sh can print ratios. Tokenisation is included: simile
// embeds from text.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cli/bench_util.h"
#include "cli/cli.h"
#include "cli/embedder_flags.h"
#include "model/kernels/gemm.h"

namespace simile::cli {

namespace {

struct BenchEmbedArgs {
  EmbedderFlags model;
  std::string file;
  size_t runs = 3;
  size_t limit = 0;
  size_t latency_texts = 200;
  bool json = false;
};

struct Timings {
  std::vector<double> passes_s;  // one per run, all texts
  std::vector<double> calls_ms;  // every timed call of every run
};

// Embeds `calls` in order, `runs` times after a warm-up over the calls that
// hold the first `warmup_texts` texts.
Timings time_calls(const Embedder& embedder, const std::vector<std::vector<std::string>>& calls, size_t runs,
                   size_t warmup_texts) {
  for (size_t i = 0, done = 0; i < calls.size() && done < warmup_texts; done += calls[i].size(), ++i)
    take(embedder.embed(calls[i]));
  Timings t;
  for (size_t r = 0; r < runs; ++r) {
    const auto pass_start = std::chrono::steady_clock::now();
    for (const auto& call : calls) {
      const auto start = std::chrono::steady_clock::now();
      take(embedder.embed(call));
      t.calls_ms.push_back(seconds_since(start) * 1e3);
    }
    t.passes_s.push_back(seconds_since(pass_start));
  }
  return t;
}

void run_bench_embed(const BenchEmbedArgs& args) {
  std::vector<std::string> texts = read_text_file(args.file);
  if (args.limit > 0 && texts.size() > args.limit) texts.resize(args.limit);
  if (texts.empty()) throw CliError(args.file + " holds no texts (one per line)");
  const EmbedderOptions options = args.model.to_options();
  auto embedder = take(Embedder::open(options));
  const size_t batch = options.batch_size;
  const int threads = options.threads > 0 ? options.threads : kernels::default_thread_count();

  // Token counts as the model sees them (special tokens included, cut at the
  // model's limit): they order the calls and give tokens/s.
  std::vector<size_t> tokens(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    tokens[i] = std::min(take(embedder->tokenizer().encode(texts[i])).size(), embedder->info().max_tokens);
  const double total_tokens = std::accumulate(tokens.begin(), tokens.end(), 0.0);

  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tokens[a] > tokens[b]; });
  std::vector<std::vector<std::string>> batches;
  for (size_t i = 0; i < order.size(); i += batch) {
    batches.emplace_back();
    for (size_t j = i; j < std::min(order.size(), i + batch); ++j) batches.back().push_back(texts[order[j]]);
  }
  const size_t warmup = std::max<size_t>(20, texts.size() / 10);
  const Timings throughput = time_calls(*embedder, batches, args.runs, warmup);

  const size_t n_single = std::min(args.latency_texts, texts.size());
  std::vector<std::vector<std::string>> singles;
  double single_tokens = 0;
  for (size_t i = 0; i < n_single; ++i) {
    singles.push_back({texts[i]});
    single_tokens += static_cast<double>(tokens[i]);
  }
  const Timings latency = time_calls(*embedder, singles, n_single > 0 ? args.runs : 0, std::min<size_t>(20, n_single));

  const double pass_s = median(throughput.passes_s);
  const double n = static_cast<double>(texts.size());
  const double peak_rss_mb = static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0);
  nlohmann::ordered_json j = {
      {"model", embedder->info().name},
      {"dtype", to_string(embedder->info().inference_dtype)},
      {"file", args.file},
      {"texts", texts.size()},
      {"mean_tokens", total_tokens / n},
      {"threads", threads},
      {"batch", batch},
      {"runs", args.runs},
      {"passes_s", throughput.passes_s},
      {"texts_per_s", n / pass_s},
      {"tokens_per_s", total_tokens / pass_s},
      {"call_p50_ms", percentile(throughput.calls_ms, 50)},
      {"call_p90_ms", percentile(throughput.calls_ms, 90)},
      {"call_p99_ms", percentile(throughput.calls_ms, 99)},
      {"peak_rss_mb", peak_rss_mb},
  };
  if (n_single > 0) {
    j["latency"] = {
        {"texts", n_single},
        {"mean_tokens", single_tokens / static_cast<double>(n_single)},
        {"p50_ms", percentile(latency.calls_ms, 50)},
        {"p99_ms", percentile(latency.calls_ms, 99)},
        {"texts_per_s", static_cast<double>(n_single) / median(latency.passes_s)},
    };
  }
  if (args.json) {
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << fmt::format("model {} ({}), {} thread{}; {} texts of {:.1f} tokens on average\n",
                           embedder->info().name, to_string(embedder->info().inference_dtype), threads,
                           threads == 1 ? "" : "s", texts.size(), total_tokens / n);
  std::cout << fmt::format("throughput  batch {}: {:.1f} texts/s, {:.0f} tokens/s (median of {} passes; one call "
                           "p50 {:.1f} ms, p99 {:.1f} ms)\n",
                           batch, n / pass_s, total_tokens / pass_s, args.runs, percentile(throughput.calls_ms, 50),
                           percentile(throughput.calls_ms, 99));
  if (n_single > 0)
    std::cout << fmt::format("latency     batch 1: p50 {:.2f} ms, p99 {:.2f} ms, {:.1f} texts/s (first {} texts, "
                             "{:.1f} tokens on average, {} passes)\n",
                             percentile(latency.calls_ms, 50), percentile(latency.calls_ms, 99),
                             static_cast<double>(n_single) / median(latency.passes_s), n_single,
                             single_tokens / static_cast<double>(n_single), args.runs);
  std::cout << fmt::format("peak RSS    {:.1f} MB\n", peak_rss_mb);
}

}  // namespace

void add_bench_embed_command(CLI::App* bench) {
  auto args = std::make_shared<BenchEmbedArgs>();
  CLI::App* cmd = bench->add_subcommand(
      "embed", "embedding speed on a file of texts: texts/s and tokens/s, batch-1 latency p50/p99, peak RSS");
  args->model.add_to(cmd);
  cmd->add_option("--file", args->file, "texts, one per line")->required();
  cmd->add_option("--runs", args->runs, "timed passes (median; percentiles over all); default 3")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--limit", args->limit, "use only the first N texts");
  cmd->add_option("--latency-texts", args->latency_texts,
                  "texts timed one per call for the latency (the first N; 0 = skip); default 200");
  cmd->add_flag("--json", args->json, "print one JSON object instead of the summary");
  cmd->callback([args] { run_bench_embed(*args); });
}

}  // namespace simile::cli
