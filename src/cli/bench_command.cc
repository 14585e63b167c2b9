// simile bench registers its subcommands here; bench embed lives in
// bench_embed_command.cc. simile bench ann: builds an HNSW index over .fvecs
// base vectors and reports
// build time (on --build-threads threads), memory, and recall@10 and queries per second for each efSearch,
// one query per call (as a server answers them), for each --threads count.
// With --exact it also times exact search (FlatIndex) one query per call and
// as one batch, and the machine's memory read bandwidth that bounds the
// single-query scan. The same measurements as the shared peer scripts
// bench_hnsw.py and bench_exact.py take of hnswlib and faiss (IndexHNSWFlat,
// IndexFlatIP), so bench/ann_bench.sh can print ratios.
#include <fmt/format.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_set>

#include <unistd.h>

#include "cli/bench_util.h"
#include "cli/cli.h"
#include "index/flat_index.h"
#include "index/hnsw.h"
#include "model/kernels/cpu.h"
#include "model/kernels/gemm.h"
#include "util/check.h"
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
  std::vector<size_t> threads = {1};
  size_t build_threads = 1;
  size_t repeats = 3;
  bool exact = false;
  bool hnsw = true;
  size_t exact_single = 300;
  uint64_t seed = 100;
  bool json = false;
};

constexpr size_t kRecallK = 10;

// Resident set size from /proc (0 where unavailable): the build's growth of
// it is what the peer scripts report as memory.
size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct EfResult {
  size_t threads;
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

// ---- exact search -----------------------------------------------------------

struct ExactResult {
  size_t threads;
  const char* mode;  // "single": one search() per query; "batch": one search_batch() for all
  size_t nq;
  double recall;
  double qps;
  double scan_gbps;  // database bytes scanned per second (single: every query reads all of it; batch: 0)
};

// Exact search on `threads` threads, as faiss IndexFlatIP is timed by the
// peer script: the first `single_n` queries one search() call each (the scan
// of one query split across the threads), then all queries in one
// search_batch() call. Median of `repeats` passes each.
void run_exact(const FlatIndex& flat, const VecsMatrix<float>& q, const VecsMatrix<int32_t>& truth, size_t threads,
               size_t single_n, size_t repeats, std::vector<ExactResult>& out) {
  const kernels::ComputeThreads compute(static_cast<int>(threads));
  const size_t db_bytes = flat.size() * flat.code_size();
  single_n = std::min(single_n, q.rows);
  std::vector<int64_t> hits;
  auto single = [&] {
    hits.assign(single_n * kRecallK, -1);
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < single_n; ++i) {
      const std::vector<Hit> r = flat.search(&q.data[i * q.cols], kRecallK);
      for (size_t j = 0; j < r.size(); ++j) hits[i * kRecallK + j] = r[j].id;
    }
    return seconds_since(start);
  };
  auto batch = [&] {
    hits.assign(q.rows * kRecallK, -1);
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::vector<Hit>> r = flat.search_batch(q.data.data(), q.rows, kRecallK);
    const double seconds = seconds_since(start);
    for (size_t i = 0; i < q.rows; ++i)
      for (size_t j = 0; j < r[i].size(); ++j) hits[i * kRecallK + j] = r[i][j].id;
    return seconds;
  };
  for (size_t i = 0; i < std::min<size_t>(5, q.rows); ++i) (void)flat.search(&q.data[i * q.cols], kRecallK);  // warm
  std::vector<double> times;
  for (size_t rep = 0; rep < repeats; ++rep) times.push_back(single());
  const double single_seconds = median(times);
  out.push_back({threads, "single", single_n, recall_at_10(hits, truth, single_n),
                 static_cast<double>(single_n) / single_seconds,
                 static_cast<double>(db_bytes) * static_cast<double>(single_n) / single_seconds / 1e9});
  times.clear();
  for (size_t rep = 0; rep < repeats; ++rep) times.push_back(batch());
  const double batch_seconds = median(times);
  out.push_back(
      {threads, "batch", q.rows, recall_at_10(hits, truth, q.rows), static_cast<double>(q.rows) / batch_seconds, 0.0});
}

// Sums words[0, n) (n a multiple of 32) with 256-bit loads into four
// independent sums, so the adds never wait on each other or on the loads.
__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* words, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 16) {
    const auto* p = reinterpret_cast<const __m256i*>(words + i);
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(p));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(p + 1));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(p + 2));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(p + 3));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

uint64_t sum_words(const uint64_t* words, size_t n) {
  if (kernels::best_isa() == kernels::Isa::kAvx2) return sum_words_avx2(words, n);
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < n; i += 4) a0 += words[i], a1 += words[i + 1], a2 += words[i + 2], a3 += words[i + 3];
  return a0 + a1 + a2 + a3;
}

// Read bandwidth from memory on `threads` threads, GB/s: the median of a few
// passes summing a 1 GiB buffer (far beyond the caches), each thread its own
// contiguous part. The ceiling of a scan that reads every stored vector once
// per query.
double read_bandwidth(size_t threads, size_t repeats) {
  constexpr size_t kWords = (size_t{1} << 30) / sizeof(uint64_t);
  constexpr size_t kAlign = 64;
  auto* words = static_cast<uint64_t*>(std::aligned_alloc(kAlign, kWords * sizeof(uint64_t)));
  SIMILE_CHECK(words != nullptr);
  const std::unique_ptr<uint64_t, decltype(&std::free)> owner(words, &std::free);
  for (size_t i = 0; i < kWords; ++i) words[i] = i;  // touch every page before timing
  uint64_t sink = 0;
  std::vector<double> times;
  for (size_t rep = 0; rep < std::max<size_t>(3, repeats); ++rep) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t total = 0;
#pragma omp parallel num_threads(static_cast<int>(threads)) reduction(+ : total)
    {
      const auto t = static_cast<size_t>(omp_get_thread_num()), parts = static_cast<size_t>(omp_get_num_threads());
      const size_t chunks = kWords / 32;  // whole 256-byte chunks per thread
      const size_t begin = chunks * t / parts * 32, end = chunks * (t + 1) / parts * 32;
      total += sum_words(words + begin, end - begin);
    }
    times.push_back(seconds_since(start));
    sink += total;
  }
  if (sink == 1) std::cerr << "";  // keeps the sums observable
  return static_cast<double>(kWords * sizeof(uint64_t)) / median(times) / 1e9;
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
  for (size_t t : args.threads)
    if (t == 0) throw UsageError("--threads must be at least 1");
  if (!args.hnsw && !args.exact) throw UsageError("--no-hnsw needs --exact (nothing to measure)");
  const Metric metric = args.metric == "ip" ? Metric::kDot : args.metric == "l2" ? Metric::kL2 : Metric::kCosine;
  const VectorType type = take(parse_vector_type(args.type));
  const size_t repeats = std::max<size_t>(1, args.repeats);

  nlohmann::json j = {{"method", "simile_hnsw"},
                      {"nb", base.rows},
                      {"nq", queries.rows},
                      {"dim", base.cols},
                      {"metric", args.metric},
                      {"type", args.type},
                      {"M", args.M},
                      {"efConstruction", args.ef_construction},
                      {"threads", args.threads}};
  if (!args.json)
    std::cout << fmt::format("base {} x {}, {} queries, metric {}, {} codes\n", base.rows, base.cols, queries.rows,
                             args.metric, args.type);

  if (args.hnsw) {
    const size_t rss0 = rss_bytes();
    HnswIndex index(base.cols, type, metric, {.M = args.M, .ef_construction = args.ef_construction, .seed = args.seed});
    index.reserve(base.rows);
    std::vector<int64_t> ids(base.rows);
    for (size_t r = 0; r < base.rows; ++r) ids[r] = static_cast<int64_t>(r);
    const auto build_start = std::chrono::steady_clock::now();
    check(index.add_batch(ids, base.data.data(), args.build_threads));
    const double build_seconds = seconds_since(build_start);
    const size_t rss_growth = rss_bytes() - std::min(rss0, rss_bytes());
    const size_t memory = index.memory_bytes();

    // Quantised codes: the final candidates are re-scored on the fvecs originals.
    const HnswIndex::OriginalFn original_fn = [&](int64_t id) {
      return &base.data[static_cast<size_t>(id) * base.cols];
    };
    const HnswIndex::OriginalFn* original = type == VectorType::kF32 ? nullptr : &original_fn;

    std::vector<int64_t> hits;
    size_t distances = 0;
    std::vector<EfResult> results;
    for (size_t threads : args.threads) {
      (void)run_queries(index, queries, 64, threads, original, hits, distances);  // warm caches and pages
      for (size_t ef : args.efs) {
        std::vector<double> times;
        for (size_t rep = 0; rep < repeats; ++rep)
          times.push_back(run_queries(index, queries, ef, threads, original, hits, distances));
        results.push_back({threads, ef, recall_at_10(hits, truth, queries.rows),
                           static_cast<double>(queries.rows) / median(times),
                           static_cast<double>(distances) / static_cast<double>(queries.rows)});
      }
    }
    if (args.json) {
      j.update({{"build_threads", args.build_threads},
                {"build_seconds", build_seconds},
                {"memory_bytes", memory},
                {"bytes_per_vector", static_cast<double>(memory) / static_cast<double>(base.rows)},
                {"rss_growth_bytes", rss_growth},
                {"max_level", index.max_level()}});
      nlohmann::json rows = nlohmann::json::array();
      for (const EfResult& r : results)
        rows.push_back({{"threads", r.threads},
                        {"ef", r.ef},
                        {"recall10", r.recall},
                        {"qps", r.qps},
                        {"distances_per_query", r.distances_per_query}});
      j["results"] = rows;
    } else {
      std::cout << fmt::format("HNSW: M {}, efConstruction {}\n", args.M, args.ef_construction);
      std::cout << fmt::format("build: {:.2f} s on {} thread(s); index memory {:.1f} MB ({:.1f} bytes/vector), "
                               "RSS growth {:.1f} MB; {} levels\n",
                               build_seconds, args.build_threads, memory / 1e6,
                               static_cast<double>(memory) / static_cast<double>(base.rows), rss_growth / 1e6,
                               index.max_level() + 1);
      std::cout << fmt::format("search: 1 query per call on each thread, median of {}\n", repeats);
      std::cout << fmt::format("{:>7} {:>6} {:>10} {:>10} {:>10} {:>12}\n", "threads", "ef", "recall@10", "QPS",
                               "us/query", "dist/query");
      for (const EfResult& r : results)
        std::cout << fmt::format("{:>7} {:>6} {:>10.4f} {:>10.0f} {:>10.1f} {:>12.0f}\n", r.threads, r.ef, r.recall,
                                 r.qps, 1e6 / r.qps * static_cast<double>(r.threads), r.distances_per_query);
    }
  }

  if (args.exact) {
    FlatIndex flat(base.cols, type, metric);
    flat.reserve(base.rows);
    for (size_t r = 0; r < base.rows; ++r) flat.add_float(static_cast<int64_t>(r), &base.data[r * base.cols]);
    std::vector<ExactResult> exact;
    std::vector<std::pair<size_t, double>> bandwidth;
    for (size_t threads : args.threads) {
      run_exact(flat, queries, truth, threads, args.exact_single, repeats, exact);
      bandwidth.emplace_back(threads, read_bandwidth(threads, repeats));
    }
    if (args.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const ExactResult& r : exact) {
        rows.push_back({{"method", "simile_flat"},
                        {"threads", r.threads},
                        {"mode", r.mode},
                        {"nq", r.nq},
                        {"recall10", r.recall},
                        {"qps", r.qps}});
        if (r.scan_gbps > 0) rows.back()["scan_GBps"] = r.scan_gbps;
      }
      j["exact"] = rows;
      nlohmann::json bw = nlohmann::json::array();
      for (const auto& [threads, gbps] : bandwidth) bw.push_back({{"threads", threads}, {"read_GBps", gbps}});
      j["read_bandwidth"] = bw;
    } else {
      std::cout << fmt::format("exact (FlatIndex, {:.1f} MB of codes): single = one search() per query, "
                               "batch = one search_batch() of all; median of {}\n",
                               static_cast<double>(flat.size() * flat.code_size()) / 1e6, repeats);
      std::cout << fmt::format("{:>7} {:>7} {:>7} {:>10} {:>10} {:>10}\n", "threads", "mode", "queries", "recall@10",
                               "QPS", "scan GB/s");
      for (const ExactResult& r : exact)
        std::cout << fmt::format("{:>7} {:>7} {:>7} {:>10.4f} {:>10.1f} {:>10}\n", r.threads, r.mode, r.nq, r.recall,
                                 r.qps, r.scan_gbps > 0 ? fmt::format("{:.1f}", r.scan_gbps) : "-");
      for (const auto& [threads, gbps] : bandwidth)
        std::cout << fmt::format("memory read bandwidth, {} thread(s): {:.1f} GB/s\n", threads, gbps);
    }
  }
  if (args.json) std::cout << j.dump() << "\n";
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  add_bench_embed_command(bench);
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
  cmd->add_option("--build-threads", args->build_threads,
                  "threads inserting while building (HnswIndex::add_batch); default 1, as the peers build")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--threads", args->threads,
                  "search thread counts, comma-separated (each measured in turn); HNSW: threads each running one "
                  "query at a time; exact: threads splitting each query's scan; default 1")
      ->delimiter(',');
  cmd->add_option("--repeats", args->repeats, "timed passes over the queries per ef (median); default 3");
  cmd->add_option("--seed", args->seed, "seed of the level draws; default 100");
  cmd->add_flag("--exact", args->exact,
               "also time exact search (FlatIndex): one query per call and one batch of all, and the memory "
               "read bandwidth");
  cmd->add_option("--exact-single", args->exact_single,
                  "queries timed one per call in exact search (the first N); default 300");
  cmd->add_flag("!--no-hnsw", args->hnsw, "skip the HNSW build and searches (with --exact)");
  cmd->add_flag("--json", args->json, "print one JSON object instead of the table");
  cmd->callback([args] { run_bench_ann(*args); });
}

}  // namespace simile::cli
