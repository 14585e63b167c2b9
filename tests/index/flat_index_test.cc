// FlatIndex: exact search against a brute-force double-precision reference,
// ranking ties, filters, the batched (matrix-product) path, re-scoring, and
// the recall of f16 and int8 storage against float32.
#include "index/flat_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "model/pooling.h"

namespace simile {
namespace {

constexpr VectorType kTypes[] = {VectorType::kF32, VectorType::kF16, VectorType::kI8};
constexpr Metric kMetrics[] = {Metric::kCosine, Metric::kDot, Metric::kL2};

std::vector<float> random_matrix(size_t n, size_t d, uint32_t seed, bool normalise) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> m(n * d);
  for (auto& x : m) x = dist(rng);
  if (normalise)
    for (size_t r = 0; r < n; ++r) {
      double sq = 0;
      for (size_t c = 0; c < d; ++c) sq += m[r * d + c] * m[r * d + c];
      for (size_t c = 0; c < d; ++c) m[r * d + c] = static_cast<float>(m[r * d + c] / std::sqrt(sq));
    }
  return m;
}

// The id of row r: descending, spaced, so ids and positions differ.
int64_t id_of(size_t r) { return 1000 + 3 * static_cast<int64_t>(r); }

FlatIndex build(const std::vector<float>& m, size_t d, VectorType type, Metric metric) {
  FlatIndex index(d, type, metric);
  const size_t n = m.size() / d;
  index.reserve(n);
  for (size_t r = 0; r < n; ++r) index.add_float(id_of(r), &m[r * d]);
  return index;
}

// Brute force in double: the k best (score, id) by the index's conventions.
std::vector<Hit> reference(const std::vector<float>& m, size_t d, const float* q, size_t k, Metric metric,
                           const std::set<int64_t>* allowed = nullptr) {
  std::vector<Hit> all;
  for (size_t r = 0; r < m.size() / d; ++r) {
    if (allowed != nullptr && allowed->count(id_of(r)) == 0) continue;
    double s = similarity(q, &m[r * d], d, metric);
    if (metric == Metric::kL2) s = -s;
    all.push_back({id_of(r), static_cast<float>(s)});
  }
  std::sort(all.begin(), all.end(), hit_before);
  all.resize(std::min(k, all.size()));
  return all;
}

std::vector<int64_t> ids(const std::vector<Hit>& hits) {
  std::vector<int64_t> out;
  for (const Hit& h : hits) out.push_back(h.id);
  return out;
}

double recall(const std::vector<Hit>& got, const std::vector<Hit>& truth) {
  std::set<int64_t> want;
  for (const Hit& h : truth) want.insert(h.id);
  size_t found = 0;
  for (const Hit& h : got) found += want.count(h.id);
  return truth.empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(truth.size());
}

TEST(FlatIndex, F32SearchMatchesBruteForceForEveryMetric) {
  const size_t n = 500, d = 37, k = 10;
  const auto m = random_matrix(n, d, 1, false);
  const auto queries = random_matrix(20, d, 2, false);
  for (Metric metric : kMetrics) {
    // Cosine: the reference sees the raw vectors; the index normalises them.
    const FlatIndex index = build(m, d, VectorType::kF32, metric);
    for (size_t i = 0; i < 20; ++i) {
      const float* q = &queries[i * d];
      const auto got = index.search(q, k);
      const auto want = reference(m, d, q, k, metric);
      ASSERT_EQ(ids(got), ids(want)) << to_string(metric) << " query " << i;
      for (size_t j = 0; j < k; ++j)
        EXPECT_NEAR(got[j].score, want[j].score, 2e-5 * std::max(1.0f, std::fabs(want[j].score)));
    }
  }
}

// The scan scores blocks of consecutive vectors with one kernel call and
// filters them against the threshold eight at a time: its top k must be what
// ranking every vector by the one-vector kernel gives, for every type and
// metric, for dimensions that are not multiples of 8 and a row count that is
// not a multiple of the block, with and without a dense (masked) filter.
TEST(FlatIndex, ScanRanksLikeTheOneVectorKernel) {
  const size_t n = 1000, k = 12;
  for (size_t d : {1u, 7u, 100u, 383u, 385u})
    for (VectorType type : kTypes)
      for (Metric metric : kMetrics) {
        if (metric == Metric::kCosine && d == 1) continue;  // every unit 1-d vector ties
        const auto m = random_matrix(n, d, 11, false);
        const auto q = random_matrix(1, d, 12, false);
        const FlatIndex index = build(m, d, type, metric);
        std::vector<float> unit(q.begin(), q.end());
        if (metric == Metric::kCosine) l2_normalize(unit.data(), d);  // as the index prepares the query
        const ScoreKernel kernel = metric == Metric::kL2 ? l2sq_kernel(type) : dot_kernel(type);
        std::vector<int64_t> allowed;
        TopK all(k), some(k);
        for (size_t p = 0; p < n; ++p) {
          const float s = kernel(unit.data(), index.code_at(p), d);
          const float score = metric == Metric::kL2 ? -s : s;
          all.push(index.id_at(p), score);
          if (p % 3 != 0) {
            allowed.push_back(index.id_at(p));
            some.push(index.id_at(p), score);
          }
        }
        SCOPED_TRACE(std::string(vector_type_name(type)) + " " + to_string(metric) + " d=" + std::to_string(d));
        EXPECT_EQ(ids(index.search(q.data(), k)), ids(all.take_sorted()));
        const IdFilter dense = IdFilter::ids(allowed);  // 2/3 allowed: the masked scan
        EXPECT_EQ(ids(index.search(q.data(), k, &dense)), ids(some.take_sorted()));
      }
}

TEST(FlatIndex, L2ScoreIsTheNegatedEuclideanDistance) {
  FlatIndex index(2, VectorType::kF32, Metric::kL2);
  const float a[] = {3, 4}, b[] = {1, 1}, q[] = {0, 0};
  index.add_float(7, a);
  index.add_float(9, b);
  const auto hits = index.search(q, 5);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 9);
  EXPECT_FLOAT_EQ(hits[0].score, -std::sqrt(2.0f));
  EXPECT_EQ(hits[1].id, 7);
  EXPECT_FLOAT_EQ(hits[1].score, -5.0f);
}

TEST(FlatIndex, CosineNormalisesVectorsAndQuery) {
  FlatIndex index(3, VectorType::kF32, Metric::kCosine);
  const float a[] = {10, 0, 0}, b[] = {1, 1, 0}, q[] = {0, 5, 0};
  index.add_float(1, a);
  index.add_float(2, b);
  const auto hits = index.search(q, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 2);
  EXPECT_NEAR(hits[0].score, 1 / std::sqrt(2.0f), 1e-6);
  EXPECT_NEAR(hits[1].score, 0.0f, 1e-7);
}

TEST(FlatIndex, TiesGoToTheSmallerIdEvenAcrossThreads) {
  // 20000 identical 256-d vectors (5 MB even as int8: the scan runs in
  // parallel), added in descending id order. Every component is 1/16 (after
  // normalisation), so every score is exact and every score ties: the answer
  // is the k smallest ids, whichever thread saw them.
  const size_t n = 20000, d = 256;
  for (VectorType type : kTypes)
    for (Metric metric : kMetrics) {
      FlatIndex index(d, type, metric);
      std::vector<float> v(d, metric == Metric::kCosine ? 0.5f : 0.0625f);
      for (size_t r = 0; r < n; ++r) index.add_float(static_cast<int64_t>(n - r), v.data());
      std::vector<float> q(d, 0.0625f);
      const std::vector<int64_t> want = {1, 2, 3, 4, 5};
      EXPECT_EQ(ids(index.search(q.data(), 5)), want) << vector_type_name(type) << " " << to_string(metric);
      if (type == VectorType::kI8) continue;  // decoded int8 values are not exactly 1/16: GEMM sums may round apart
      std::vector<float> queries(10 * d, 0.0625f);
      for (const auto& hits : index.search_batch(queries.data(), 10, 5))
        EXPECT_EQ(ids(hits), want) << vector_type_name(type) << " " << to_string(metric);
    }
}

TEST(FlatIndex, SmallAndEmptyCases) {
  FlatIndex index(4, VectorType::kI8, Metric::kDot);
  const float q[] = {1, 2, 3, 4};
  EXPECT_TRUE(index.search(q, 10).empty());
  EXPECT_TRUE(index.search_batch(q, 1, 10).front().empty());
  index.add_float(5, q);
  EXPECT_TRUE(index.search(q, 0).empty());
  const auto hits = index.search(q, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, 5);
  EXPECT_NEAR(hits[0].score, 30.0f, 30.0f / 127);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.code_size(), 8u);
}

TEST(FlatIndex, AddTakesTheStoredBlobAsIs) {
  const size_t d = 24;
  const auto m = random_matrix(50, d, 3, true);
  for (VectorType type : kTypes) {
    FlatIndex from_floats = build(m, d, type, Metric::kDot);
    FlatIndex from_blobs(d, type, Metric::kDot);
    std::vector<uint8_t> code(encoded_size(type, d));
    for (size_t r = 0; r < 50; ++r) {
      encode_vector(type, &m[r * d], d, code.data());
      ASSERT_TRUE(check_encoded(type, code.data(), code.size(), d).is_ok());
      from_blobs.add(id_of(r), code.data());
    }
    for (size_t r = 0; r < 50; ++r)
      ASSERT_TRUE(std::equal(from_floats.code_at(r), from_floats.code_at(r) + code.size(), from_blobs.code_at(r)));
    const auto a = from_floats.search(&m[0], 5), b = from_blobs.search(&m[0], 5);
    EXPECT_EQ(ids(a), ids(b));
    EXPECT_EQ(a[0].id, id_of(0));
  }
}

TEST(FlatIndex, PositionsOfAscendingAndShuffledIds) {
  FlatIndex index(2, VectorType::kF32, Metric::kDot);
  const float v[] = {1, 0};
  for (int64_t id : {10, 20, 30}) index.add_float(id, v);
  EXPECT_EQ(index.position(20), 1u);
  EXPECT_FALSE(index.position(25).has_value());
  index.add_float(15, v);  // ids stop ascending: positions move to a hash map
  EXPECT_EQ(index.position(15), 3u);
  EXPECT_EQ(index.position(10), 0u);
  EXPECT_EQ(index.position(30), 2u);
  EXPECT_FALSE(index.position(40).has_value());
}

TEST(FlatIndexDeathTest, RepeatedIdAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FlatIndex index(2, VectorType::kF32, Metric::kDot);
  const float v[] = {1, 0};
  index.add_float(1, v);
  index.add_float(2, v);
  EXPECT_DEATH(index.add_float(2, v), "ids are unique");
  EXPECT_DEATH(index.add_float(1, v), "ids are unique");
}

TEST(FlatIndex, FiltersRestrictTheRanking) {
  const size_t n = 3000, d = 16, k = 10;
  const auto m = random_matrix(n, d, 4, true);
  const auto q = random_matrix(1, d, 5, true);
  std::set<int64_t> allowed;
  std::vector<int64_t> listed;
  std::mt19937 rng(6);
  for (size_t r = 0; r < n; ++r)
    if (rng() % 10 == 0) {
      allowed.insert(id_of(r));
      listed.push_back(id_of(r));
    }
  std::shuffle(listed.begin(), listed.end(), rng);
  listed.push_back(listed.front());  // a duplicate
  listed.push_back(-5);              // an id the index lacks
  const auto want = ids(reference(m, d, q.data(), k, Metric::kCosine, &allowed));

  const IdFilter by_ids = IdFilter::ids(listed);
  const IdFilter by_predicate = IdFilter::where([&](int64_t id) { return allowed.count(id) > 0; });
  for (VectorType type : {VectorType::kF32}) {
    const FlatIndex index = build(m, d, type, Metric::kCosine);
    SearchStats stats;
    EXPECT_EQ(ids(index.search(q.data(), k, &by_ids, &stats)), want);
    EXPECT_EQ(stats.vectors_scored, allowed.size());
    EXPECT_EQ(ids(index.search(q.data(), k, &by_predicate)), want);
    EXPECT_EQ(ids(index.search_batch(q.data(), 1, k, &by_ids).front()), want);
  }
  // A dense filter (70%): the scan streams every vector and masks the push.
  std::set<int64_t> most;
  for (size_t r = 0; r < n; ++r)
    if (rng() % 10 < 7) most.insert(id_of(r));
  const IdFilter dense = IdFilter::ids(std::vector<int64_t>(most.begin(), most.end()));
  for (VectorType type : kTypes) {
    const FlatIndex index = build(m, d, type, Metric::kL2);
    SearchStats stats;
    const auto got = index.search(q.data(), k, &dense, &stats);
    EXPECT_EQ(stats.vectors_scored, n);  // all scored, the disallowed masked out
    for (const Hit& h : got) EXPECT_EQ(most.count(h.id), 1u);
    if (type == VectorType::kF32) {
      EXPECT_EQ(ids(got), ids(reference(m, d, q.data(), k, Metric::kL2, &most)));
    }
  }

  // The same with ids added out of order (hash-map resolution).
  FlatIndex shuffled(d, VectorType::kF32, Metric::kCosine);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t r : order) shuffled.add_float(id_of(r), &m[r * d]);
  EXPECT_EQ(ids(shuffled.search(q.data(), k, &by_ids)), want);
  EXPECT_EQ(ids(shuffled.search(q.data(), k)), ids(reference(m, d, q.data(), k, Metric::kCosine)));

  // A small filter (the galloping merge) and one that allows fewer than k.
  const IdFilter few = IdFilter::ids({id_of(7), id_of(2999), id_of(1500), 1});
  const auto hits = build(m, d, VectorType::kF32, Metric::kCosine).search(q.data(), k, &few);
  std::vector<int64_t> got = ids(hits);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{id_of(7), id_of(1500), id_of(2999)}));
  EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end(), hit_before));
}

// search_batch (one scan per query below 8 queries, matrix products from 8
// on) against search(), for every type and metric, with and without a filter.
TEST(FlatIndex, BatchMatchesSingleQuerySearch) {
  const size_t n = 1500, d = 40, k = 7;
  const auto m = random_matrix(n, d, 7, false);
  std::vector<int64_t> listed;
  for (size_t r = 0; r < n; r += 3) listed.push_back(id_of(r));
  const IdFilter filter = IdFilter::ids(listed);
  for (size_t nq : {3u, 300u})
    for (VectorType type : kTypes)
      for (Metric metric : kMetrics) {
        const FlatIndex index = build(m, d, type, metric);
        const auto queries = random_matrix(nq, d, 8, false);
        for (const IdFilter* f : {static_cast<const IdFilter*>(nullptr), &filter}) {
          SearchStats stats;
          const auto batch = index.search_batch(queries.data(), nq, k, f, &stats);
          ASSERT_EQ(batch.size(), nq);
          EXPECT_EQ(stats.vectors_scored, nq * (f != nullptr ? listed.size() : n));
          size_t same = 0;
          for (size_t i = 0; i < nq; ++i) {
            const auto single = index.search(&queries[i * d], k, f);
            ASSERT_EQ(batch[i].size(), k);
            // Different summation orders may swap near-ties; scores must agree.
            same += ids(batch[i]) == ids(single);
            for (size_t j = 0; j < k; ++j)
              EXPECT_NEAR(batch[i][j].score, single[j].score, 1e-4 * std::max(1.0f, std::fabs(single[j].score)));
          }
          EXPECT_GE(same, nq * 95 / 100) << vector_type_name(type) << " " << to_string(metric);
        }
      }
}

TEST(FlatIndex, RescoreUsesTheOriginals) {
  const size_t n = 400, d = 32;
  const auto m = random_matrix(n, d, 9, true);
  const auto q = random_matrix(1, d, 10, true);
  for (Metric metric : kMetrics) {
    const FlatIndex exact = build(m, d, VectorType::kF32, metric);
    const FlatIndex coarse = build(m, d, VectorType::kI8, metric);
    auto original = [&](int64_t id) -> const float* {
      if (id == id_of(0)) return nullptr;  // a vanished row is dropped
      return &m[static_cast<size_t>((id - 1000) / 3) * d];
    };
    SearchStats stats;
    const auto candidates = coarse.search(q.data(), 40, nullptr, &stats);
    const auto hits = coarse.rescore(q.data(), candidates, 10, original, &stats);
    EXPECT_EQ(stats.vectors_scored, n);
    const auto candidate_ids = ids(candidates);
    const auto dropped = std::count(candidate_ids.begin(), candidate_ids.end(), id_of(0));
    EXPECT_EQ(stats.candidates_rescored, 40u - static_cast<size_t>(dropped));
    auto truth = exact.search(q.data(), 11);
    truth.erase(std::remove_if(truth.begin(), truth.end(), [](const Hit& h) { return h.id == id_of(0); }), truth.end());
    truth.resize(10);
    ASSERT_EQ(ids(hits), ids(truth)) << to_string(metric);
    for (size_t j = 0; j < hits.size(); ++j) EXPECT_NEAR(hits[j].score, truth[j].score, 1e-5);
  }
}

// recall@10 of f16 and int8 scans (and int8 re-scored from 4k candidates)
// against exact float32, on random unit vectors: the hard case, where the top
// scores crowd together (real embeddings separate their neighbours more).
TEST(FlatIndex, RecallOfQuantisedStorage) {
  const size_t n = 20000, d = 384, nq = 50, k = 10;
  const auto m = random_matrix(n, d, 11, true);
  const auto queries = random_matrix(nq, d, 12, true);
  const FlatIndex exact = build(m, d, VectorType::kF32, Metric::kCosine);
  const FlatIndex half = build(m, d, VectorType::kF16, Metric::kCosine);
  const FlatIndex int8 = build(m, d, VectorType::kI8, Metric::kCosine);
  auto original = [&](int64_t id) { return &m[static_cast<size_t>((id - 1000) / 3) * d]; };
  double r_half = 0, r_int8 = 0, r_rescored = 0;
  for (size_t i = 0; i < nq; ++i) {
    const float* q = &queries[i * d];
    const auto truth = exact.search(q, k);
    r_half += recall(half.search(q, k), truth);
    r_int8 += recall(int8.search(q, k), truth);
    r_rescored += recall(int8.rescore(q, int8.search(q, 4 * k), k, original), truth);
  }
  r_half /= nq, r_int8 /= nq, r_rescored /= nq;
  std::cout << "recall@10 vs f32 (20k x 384 random unit vectors): f16 " << r_half << ", int8 " << r_int8
            << ", int8 + rescore(40) " << r_rescored << "\n";
  RecordProperty("recall_f16", std::to_string(r_half));
  RecordProperty("recall_int8", std::to_string(r_int8));
  RecordProperty("recall_int8_rescored", std::to_string(r_rescored));
  EXPECT_GE(r_half, 0.99);
  EXPECT_GE(r_int8, 0.90);
  EXPECT_GE(r_rescored, 0.999);
}

TEST(FlatIndex, StatsCountScansAndTime) {
  const size_t d = 8;
  const auto m = random_matrix(100, d, 13, true);
  const FlatIndex index = build(m, d, VectorType::kF16, Metric::kDot);
  SearchStats stats;
  (void)index.search(&m[0], 3, nullptr, &stats);
  (void)index.search(&m[0], 3, nullptr, &stats);
  EXPECT_EQ(stats.vectors_scored, 200u);
  EXPECT_GT(stats.scan_seconds, 0.0);
  EXPECT_EQ(stats.candidates_rescored, 0u);
}

}  // namespace
}  // namespace simile
