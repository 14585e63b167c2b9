// simile bench ann: builds an HNSW index over .fvecs base vectors and reports
// build time (on --build-threads threads), memory, and recall@10 and queries per second for each efSearch,
// one query per call (as a server answers them) on N threads. The same
// measurements as /work/shared/peers/ann/bench_hnsw.py takes of hnswlib and
// faiss, so bench/ann_bench.sh can print ratios.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_set>

#include <unistd.h>

#include "cli/cli.h"
#include "index/hnsw.h"
#include "util/vecs.h"

namespace simile::cli {

namespace {

struct BenchAnnArgs {
  std::string base, queries, truth;
  std::string metric = "ip";
  std::string type = "f32";
  size_t M = 16;
  size_t ef_construction = 200;
  std::vector<size_t> efs = {10, 16, 32, 64, 128, 256};
  size_t threads = 1;
  size_t build_threads = 0;  // 0: as many as --threads
  size_t repeats = 3;
  uint64_t seed = 100;
  bool json = false;
};

constexpr size_t kRecallK = 10;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Resident set size from /proc (0 where unavailable): the build's growth of
// it is what the peer scripts report as memory.
size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct EfResult {
  size_t ef;
  double recall;
  double qps;
  double distances_per_query;
};

// Runs every query once, split across threads, one search() call per query.
// Returns wall seconds; fills hits (nq x k ids) and the distances computed.
double run_queries(const HnswIndex& index, const VecsMatrix<float>& q, size_t ef, size_t threads,
                   const HnswIndex::OriginalFn* original, std::vector<int64_t>& hits, size_t& distances) {
  hits.assign(q.rows * kRecallK, -1);
  std::vector<SearchStats> stats(threads);
  const auto start = std::chrono::steady_clock::now();
  auto work = [&](size_t t) {
    for (size_t i = q.rows * t / threads; i < q.rows * (t + 1) / threads; ++i) {
      const std::vector<Hit> r = index.search(&q.data[i * q.cols], kRecallK, ef, nullptr, &stats[t], original);
      for (size_t j = 0; j < r.size(); ++j) hits[i * kRecallK + j] = r[j].id;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
  const double seconds = seconds_since(start);
  distances = 0;
  for (const SearchStats& s : stats) distances += s.vectors_scored;
  return seconds;
}

double recall_at_10(const std::vector<int64_t>& hits, const VecsMatrix<int32_t>& truth, size_t nq) {
  size_t found = 0;
  for (size_t i = 0; i < nq; ++i) {
    const std::unordered_set<int64_t> want(truth.data.begin() + i * truth.cols,
                                           truth.data.begin() + i * truth.cols + kRecallK);
    for (size_t j = 0; j < kRecallK; ++j) found += want.count(hits[i * kRecallK + j]);
  }
  return static_cast<double>(found) / static_cast<double>(nq * kRecallK);
}

void run_bench_ann(const BenchAnnArgs& args) {
  const VecsMatrix<float> base = take(fvecs_read_file(args.base));
  const VecsMatrix<float> queries = take(fvecs_read_file(args.queries));
  const VecsMatrix<int32_t> truth = take(ivecs_read_file(args.truth));
  if (queries.cols != base.cols)
    throw CliError(fmt::format("{} has {} dimensions, {} has {}", args.queries, queries.cols, args.base, base.cols));
  if (truth.rows < queries.rows)
    throw CliError(fmt::format("{} has {} rows, fewer than the {} queries", args.truth, truth.rows, queries.rows));
  if (truth.cols < kRecallK)
    throw CliError(fmt::format("{} has {} neighbours per query; recall@10 needs 10", args.truth, truth.cols));
  for (int32_t id : truth.data)
    if (id < 0 || static_cast<size_t>(id) >= base.rows)
      throw CliError(fmt::format("{} holds id {}, outside the {} base vectors", args.truth, id, base.rows));
  if (args.M < 2 || args.M > 256) throw UsageError("--M must be between 2 and 256");
  if (args.threads == 0) throw UsageError("--threads must be at least 1");
  const Metric metric = args.metric == "ip" ? Metric::kDot : args.metric == "l2" ? Metric::kL2 : Metric::kCosine;
  const VectorType type = take(parse_vector_type(args.type));

  const size_t rss0 = rss_bytes();
  HnswIndex index(base.cols, type, metric, {.M = args.M, .ef_construction = args.ef_construction, .seed = args.seed});
  index.reserve(base.rows);
  const size_t build_threads = args.build_threads == 0 ? args.threads : args.build_threads;
  std::vector<int64_t> ids(base.rows);
  for (size_t r = 0; r < base.rows; ++r) ids[r] = static_cast<int64_t>(r);
  const auto build_start = std::chrono::steady_clock::now();
  check(index.add_batch(ids, base.data.data(), build_threads));
  const double build_seconds = seconds_since(build_start);
  const size_t rss_growth = rss_bytes() - std::min(rss0, rss_bytes());
  const size_t memory = index.memory_bytes();

  // Quantised codes: the final candidates are re-scored on the fvecs originals.
  const HnswIndex::OriginalFn original_fn = [&](int64_t id) { return &base.data[static_cast<size_t>(id) * base.cols]; };
  const HnswIndex::OriginalFn* original = type == VectorType::kF32 ? nullptr : &original_fn;

  std::vector<int64_t> hits;
  size_t distances = 0;
  (void)run_queries(index, queries, 64, args.threads, original, hits, distances);  // warm caches and pages
  std::vector<EfResult> results;
  for (size_t ef : args.efs) {
    std::vector<double> times;
    for (size_t rep = 0; rep < std::max<size_t>(1, args.repeats); ++rep)
      times.push_back(run_queries(index, queries, ef, args.threads, original, hits, distances));
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    results.push_back({ef, recall_at_10(hits, truth, queries.rows), static_cast<double>(queries.rows) / median,
                       static_cast<double>(distances) / static_cast<double>(queries.rows)});
  }

  if (args.json) {
    nlohmann::json j = {{"method", "simile_hnsw"},
                        {"nb", base.rows},
                        {"nq", queries.rows},
                        {"dim", base.cols},
                        {"metric", args.metric},
                        {"type", args.type},
                        {"M", args.M},
                        {"efConstruction", args.ef_construction},
                        {"threads", args.threads},
                        {"build_threads", build_threads},
                        {"build_seconds", build_seconds},
                        {"memory_bytes", memory},
                        {"bytes_per_vector", static_cast<double>(memory) / static_cast<double>(base.rows)},
                        {"rss_growth_bytes", rss_growth},
                        {"max_level", index.max_level()}};
    nlohmann::json rows = nlohmann::json::array();
    for (const EfResult& r : results)
      rows.push_back({{"ef", r.ef}, {"recall10", r.recall}, {"qps", r.qps}, {"distances_per_query", r.distances_per_query}});
    j["results"] = rows;
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << fmt::format("base {} x {}, {} queries, metric {}, {} codes, M {}, efConstruction {}\n", base.rows,
                           base.cols, queries.rows, args.metric, args.type, args.M, args.ef_construction);
  std::cout << fmt::format("build: {:.2f} s on {} thread(s); index memory {:.1f} MB ({:.1f} bytes/vector), "
                           "RSS growth {:.1f} MB; {} levels\n",
                           build_seconds, build_threads, memory / 1e6, static_cast<double>(memory) / static_cast<double>(base.rows),
                           rss_growth / 1e6, index.max_level() + 1);
  std::cout << fmt::format("search: 1 query per call, {} thread(s), median of {}\n", args.threads, args.repeats);
  std::cout << fmt::format("{:>6} {:>10} {:>10} {:>10} {:>12}\n", "ef", "recall@10", "QPS", "us/query", "dist/query");
  for (const EfResult& r : results)
    std::cout << fmt::format("{:>6} {:>10.4f} {:>10.0f} {:>10.1f} {:>12.0f}\n", r.ef, r.recall, r.qps,
                             1e6 / r.qps * static_cast<double>(args.threads), r.distances_per_query);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchAnnArgs>();
  CLI::App* cmd = bench->add_subcommand("ann", "HNSW build time, memory, recall@10 and QPS on .fvecs/.ivecs data");
  cmd->add_option("--base", args->base, "base vectors (.fvecs); vector i gets id i")->required();
  cmd->add_option("--queries", args->queries, "query vectors (.fvecs)")->required();
  cmd->add_option("--truth", args->truth, "exact neighbour ids per query (.ivecs, at least 10 per row)")->required();
  cmd->add_option("--metric", args->metric, "ip (default), l2 or cosine")
      ->check(CLI::IsMember({"ip", "l2", "cosine"}));
  cmd->add_option("--type", args->type, "stored vector type: f32 (default), f16 or int8 (re-scored in float32)")
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  cmd->add_option("--M", args->M, "links per node (2M on level 0); default 16");
  cmd->add_option("--ef-construction", args->ef_construction, "beam width while building; default 200");
  cmd->add_option("--ef", args->efs, "efSearch values, comma-separated; default 10,16,32,64,128,256")
      ->delimiter(',');
  cmd->add_option("--threads", args->threads, "search threads, each running one query at a time; default 1");
  cmd->add_option("--build-threads", args->build_threads,
                  "threads inserting while building (HnswIndex::add_batch); default: as --threads");
  cmd->add_option("--repeats", args->repeats, "timed passes over the queries per ef (median); default 3");
  cmd->add_option("--seed", args->seed, "seed of the level draws; default 100");
  cmd->add_flag("--json", args->json, "print one JSON object instead of the table");
  cmd->callback([args] { run_bench_ann(*args); });
}

}  // namespace simile::cli
