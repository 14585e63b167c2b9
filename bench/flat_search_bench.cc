// flat_search_bench: exact search over a FlatIndex, per storage type.
//
// --n random unit vectors of --dims dimensions (normal components, normalised,
// fixed seed) and --queries queries drawn the same way; cosine metric, top
// --k. For f32, f16 and int8 storage it reports:
//   * latency of one query (median and p99 over the queries, each timed
//     alone) on 1 thread and on --threads threads (the scan split across them);
//   * recall@k against the f32 scan, and for int8 (and f16) re-scored from
//     k * --oversample candidates against the float32 originals;
//   * a batch of all queries: per-query scans spread over the threads, against
//     search_batch (tiles decoded once, matrix products);
//   * filtered searches (an IdFilter allowing 50%, 10% and 1% of the ids).
// Random unit vectors are a hard case for quantisation: their top scores crowd
// together (0.2 or so, against 0.9 for a real paraphrase).
//
//   flat_search_bench [--n 100000] [--dims 384] [--queries 200] [--k 10]
//                     [--oversample 4] [--threads 0] [--types f32,f16,int8]
//
// --threads 0 means all cores. Output: markdown tables.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/flat_index.h"
#include "index/vector_codec.h"
#include "model/kernels/cpu.h"
#include "model/kernels/gemm.h"

namespace {

using simile::FlatIndex;
using simile::Hit;
using simile::IdFilter;
using simile::VectorType;

struct Args {
  size_t n = 100000;
  size_t dims = 384;
  size_t queries = 200;
  size_t k = 10;
  size_t oversample = 4;
  int threads = 0;
  std::vector<VectorType> types = {VectorType::kF32, VectorType::kF16, VectorType::kI8};
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: flat_search_bench [--n 100000] [--dims 384] [--queries 200] [--k 10] [--oversample 4]\n"
               "                         [--threads 0] [--types f32,f16,int8]\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (key == "--n") {
      a.n = std::stoul(value);
    } else if (key == "--dims") {
      a.dims = std::stoul(value);
    } else if (key == "--queries") {
      a.queries = std::stoul(value);
    } else if (key == "--k") {
      a.k = std::stoul(value);
    } else if (key == "--oversample") {
      a.oversample = std::stoul(value);
    } else if (key == "--threads") {
      a.threads = std::stoi(value);
    } else if (key == "--types") {
      a.types.clear();
      for (size_t p = 0; p <= value.size();) {
        const size_t comma = std::min(value.find(',', p), value.size());
        auto t = simile::parse_vector_type(value.substr(p, comma - p));
        if (!t.is_ok()) {
          std::fprintf(stderr, "%s\n", t.status().message().c_str());
          std::exit(2);
        }
        a.types.push_back(*t);
        p = comma + 1;
      }
    } else {
      usage();
    }
  }
  if (a.n == 0 || a.dims == 0 || a.queries == 0 || a.k == 0) usage();
  return a;
}

std::vector<float> random_unit_vectors(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> m(n * d);
  for (size_t r = 0; r < n; ++r) {
    double sq = 0;
    for (size_t c = 0; c < d; ++c) {
      m[r * d + c] = dist(rng);
      sq += static_cast<double>(m[r * d + c]) * m[r * d + c];
    }
    const double inv = 1 / std::sqrt(sq);
    for (size_t c = 0; c < d; ++c) m[r * d + c] = static_cast<float>(m[r * d + c] * inv);
  }
  return m;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Latency {
  double median_ms;
  double p99_ms;
};

Latency summarise(std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const size_t p99 = std::min(n - 1, static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1);
  const double median = n % 2 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  return {median * 1e3, seconds[p99] * 1e3};
}

// Times fn(query i) for every query on the current thread count; returns the
// results and the per-query latencies.
template <typename Fn>
Latency time_queries(size_t nq, Fn&& fn, std::vector<std::vector<Hit>>* results) {
  fn(0);  // warm up: page in the index, start the thread pool
  std::vector<double> seconds(nq);
  if (results != nullptr) results->assign(nq, {});
  for (size_t i = 0; i < nq; ++i) {
    const double t0 = now_s();
    std::vector<Hit> hits = fn(i);
    seconds[i] = now_s() - t0;
    if (results != nullptr) (*results)[i] = std::move(hits);
  }
  return summarise(seconds);
}

double mean_recall(const std::vector<std::vector<Hit>>& got, const std::vector<std::vector<Hit>>& truth) {
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    std::set<int64_t> want;
    for (const Hit& h : truth[i]) want.insert(h.id);
    size_t found = 0;
    for (const Hit& h : got[i]) found += want.count(h.id);
    sum += truth[i].empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(truth[i].size());
  }
  return sum / static_cast<double>(truth.size());
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const int all_threads = a.threads > 0 ? a.threads : simile::kernels::default_thread_count();
  const size_t nq = a.queries, d = a.dims, k = a.k, candidates = a.k * a.oversample;

  std::printf(
      "# flat_search_bench: %zu x %zu random unit vectors, %zu queries, k=%zu, cosine; kernels %s, %d threads\n", a.n,
      d, nq, k, simile::kernels::isa_name(simile::kernels::best_isa()), all_threads);
  const double t_data = now_s();
  const std::vector<float> data = random_unit_vectors(a.n, d, 42);
  const std::vector<float> queries = random_unit_vectors(nq, d, 4242);
  std::printf("# data generated in %.1f s\n\n", now_s() - t_data);
  auto original = [&](int64_t id) { return &data[static_cast<size_t>(id) * d]; };

  // Truth: the f32 scan (exact up to float rounding).
  std::vector<std::vector<Hit>> truth;
  std::vector<FlatIndex> indexes;
  std::vector<double> build_s;
  for (VectorType type : a.types) {
    const double t0 = now_s();
    FlatIndex index(d, type, simile::Metric::kCosine);
    index.reserve(a.n);
    for (size_t r = 0; r < a.n; ++r) index.add_float(static_cast<int64_t>(r), &data[r * d]);
    build_s.push_back(now_s() - t0);
    indexes.push_back(std::move(index));
  }
  {
    FlatIndex exact(d, VectorType::kF32, simile::Metric::kCosine);
    const FlatIndex* f32 = nullptr;
    for (const FlatIndex& index : indexes)
      if (index.type() == VectorType::kF32) f32 = &index;
    if (f32 == nullptr) {
      exact.reserve(a.n);
      for (size_t r = 0; r < a.n; ++r) exact.add_float(static_cast<int64_t>(r), &data[r * d]);
      f32 = &exact;
    }
    simile::kernels::ComputeThreads threads(all_threads);
    truth = f32->search_batch(queries.data(), nq, k);
  }

  // ---- single-query latency and recall -------------------------------------
  std::printf("## One query at a time (latency per query, ms)\n\n");
  std::printf(
      "| storage | index MB | add s | 1 thread median | 1 thread p99 | %d threads median | %d threads p99 | "
      "recall@%zu |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
      all_threads, all_threads, k);
  for (size_t t = 0; t < indexes.size(); ++t) {
    const FlatIndex& index = indexes[t];
    const std::string name(simile::vector_type_name(index.type()));
    auto plain = [&](size_t i) { return index.search(&queries[i * d], k); };
    auto rescored = [&](size_t i) {
      return index.rescore(&queries[i * d], index.search(&queries[i * d], candidates), k, original);
    };
    std::vector<std::vector<Hit>> got;
    Latency one, many;
    {
      simile::kernels::ComputeThreads threads(1);
      one = time_queries(nq, plain, &got);
    }
    {
      simile::kernels::ComputeThreads threads(all_threads);
      many = time_queries(nq, plain, nullptr);
    }
    std::printf("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.4f |\n", name.c_str(),
                static_cast<double>(index.memory_bytes()) / 1e6, build_s[t], one.median_ms, one.p99_ms, many.median_ms,
                many.p99_ms, mean_recall(got, truth));
    if (index.type() == VectorType::kF32) continue;
    {
      simile::kernels::ComputeThreads threads(1);
      one = time_queries(nq, rescored, &got);
    }
    {
      simile::kernels::ComputeThreads threads(all_threads);
      many = time_queries(nq, rescored, nullptr);
    }
    std::printf("| %s + rescore %zu | | | %.2f | %.2f | %.2f | %.2f | %.4f |\n", name.c_str(), candidates,
                one.median_ms, one.p99_ms, many.median_ms, many.p99_ms, mean_recall(got, truth));
  }

  // ---- batches ---------------------------------------------------------------
  std::printf("\n## A batch of %zu queries (ms per query; %d threads)\n\n", nq, all_threads);
  std::printf(
      "| storage | per-query scans, parallel over queries | search_batch (decoded tiles x GEMM) | "
      "same top-%zu |\n|---|---:|---:|---:|\n",
      k);
  for (const FlatIndex& index : indexes) {
    simile::kernels::ComputeThreads threads(all_threads);
    std::vector<std::vector<Hit>> scans(nq);
    double t0 = now_s();
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < nq; ++i) scans[i] = index.search(&queries[i * d], k);
    const double scan_s = now_s() - t0;
    (void)index.search_batch(queries.data(), std::min<size_t>(nq, 16), k);  // warm up
    t0 = now_s();
    const auto batch = index.search_batch(queries.data(), nq, k);
    const double batch_s = now_s() - t0;
    size_t same = 0;
    for (size_t i = 0; i < nq; ++i) {
      bool equal = batch[i].size() == scans[i].size();
      for (size_t j = 0; equal && j < batch[i].size(); ++j) equal = batch[i][j].id == scans[i][j].id;
      same += equal;
    }
    std::printf("| %s | %.3f | %.3f | %zu/%zu |\n", std::string(simile::vector_type_name(index.type())).c_str(),
                scan_s * 1e3 / static_cast<double>(nq), batch_s * 1e3 / static_cast<double>(nq), same, nq);
  }

  // ---- filters ---------------------------------------------------------------
  std::printf(
      "\n## Filtered (IdFilter), one query at a time, 1 thread (median ms per query, filter resolution "
      "included)\n\n| storage | all | ids 50%% | ids 10%% | ids 1%% | predicate 10%% |\n"
      "|---|---:|---:|---:|---:|---:|\n");
  std::mt19937 rng(7);
  auto id_subset = [&](size_t every) {
    std::vector<int64_t> ids;
    for (size_t r = 0; r < a.n; ++r)
      if (rng() % every == 0) ids.push_back(static_cast<int64_t>(r));
    return IdFilter::ids(std::move(ids));
  };
  const IdFilter half = id_subset(2), tenth = id_subset(10), hundredth = id_subset(100);
  const IdFilter predicate = IdFilter::where([](int64_t id) { return id % 10 == 3; });
  for (const FlatIndex& index : indexes) {
    simile::kernels::ComputeThreads threads(1);
    auto with = [&](const IdFilter* f) {
      return time_queries(
                 nq, [&](size_t i) { return index.search(&queries[i * d], k, f); }, nullptr)
          .median_ms;
    };
    std::printf("| %s | %.2f | %.2f | %.2f | %.3f | %.2f |\n",
                std::string(simile::vector_type_name(index.type())).c_str(), with(nullptr), with(&half), with(&tenth),
                with(&hundredth), with(&predicate));
  }
  return 0;
}
