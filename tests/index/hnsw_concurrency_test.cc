// HnswIndex under concurrency (run under ThreadSanitizer by scripts/test.sh):
// searches while a writer inserts and removes, parallel builds, parallel
// writers with searches and a repair. What a concurrent search may be asked
// (index/hnsw.h): every hit is an id that was added, none that was removed
// before the search began, and each hit's score is that of its vector (so no
// half-written code was read).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "index/flat_index.h"
#include "index/hnsw.h"
#include "hnsw_test_data.h"

namespace simile {
namespace {

using hnsw_testing::clustered;
using hnsw_testing::gaussian;

// Row r's id; rows are the vectors of `base`.
int64_t id_of(size_t r) { return 1000 + static_cast<int64_t>(r); }
size_t row_of(int64_t id) { return static_cast<size_t>(id - 1000); }

float l2(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t j = 0; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}

// What a search racing writers may return: ids of added rows, best first,
// each scored on its own vector, none of `gone` (removed before the search).
void expect_valid(const std::vector<Hit>& hits, const float* q, const std::vector<float>& base, size_t d, size_t rows,
                  const std::vector<int64_t>& gone, size_t gone_count) {
  const std::set<int64_t> removed(gone.begin(), gone.begin() + static_cast<std::ptrdiff_t>(gone_count));
  for (size_t i = 0; i < hits.size(); ++i) {
    const int64_t id = hits[i].id;
    ASSERT_TRUE(id >= id_of(0) && id < id_of(rows)) << "unknown id " << id;
    ASSERT_EQ(removed.count(id), 0u) << "id " << id << " removed before the search began";
    EXPECT_NEAR(hits[i].score, -l2(q, &base[row_of(id) * d], d), 1e-4) << id;
    if (i > 0) {
      EXPECT_GE(hits[i - 1].score, hits[i].score);
    }
  }
}

double recall(const HnswIndex& index, const FlatIndex& flat, const std::vector<float>& queries, size_t d, size_t ef) {
  const size_t nq = queries.size() / d;
  size_t found = 0;
  for (size_t i = 0; i < nq; ++i) {
    std::set<int64_t> want;
    for (const Hit& h : flat.search(&queries[i * d], 10)) want.insert(h.id);
    for (const Hit& h : index.search(&queries[i * d], 10, ef)) found += want.count(h.id);
  }
  return static_cast<double>(found) / static_cast<double>(nq * 10);
}

TEST(HnswConcurrent, SearchesRunWhileOneThreadInsertsAndRemoves) {
  const size_t first = 500, rows = 2500, d = 16;
  const std::vector<float> base = clustered(rows, d, 12, 1);
  const std::vector<float> queries = clustered(64, d, 12, 2);
  // The writer's script: rows first..rows added in order; after every 4th
  // add, one earlier row removed. The same script replayed serially gives
  // the same graph (searches change nothing).
  std::vector<int64_t> removals;
  std::mt19937 pick_row(7);
  for (size_t r = first; r < rows; r += 4)
    removals.push_back(id_of(std::uniform_int_distribution<size_t>(0, r)(pick_row)));
  auto run_script = [&](HnswIndex& index, std::atomic<size_t>* removed_so_far) {
    size_t next_removal = 0;
    for (size_t r = first; r < rows; ++r) {
      ASSERT_TRUE(index.add(id_of(r), &base[r * d]).is_ok());
      if ((r - first) % 4 == 0) {
        // Ids removed earlier may come up again: removing one twice is not_found.
        (void)index.remove(removals[next_removal]);
        ++next_removal;
        if (removed_so_far != nullptr) removed_so_far->store(next_removal, std::memory_order_release);
      }
    }
  };
  const HnswParams params{.M = 8, .ef_construction = 64, .seed = 5};
  HnswIndex index(d, VectorType::kF32, Metric::kL2, params);
  HnswIndex serial(d, VectorType::kF32, Metric::kL2, params);
  for (size_t r = 0; r < first; ++r) {
    ASSERT_TRUE(index.add(id_of(r), &base[r * d]).is_ok());
    ASSERT_TRUE(serial.add(id_of(r), &base[r * d]).is_ok());
  }

  std::atomic<size_t> removed_so_far{0};
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (uint32_t t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::uniform_int_distribution<size_t> pick(0, queries.size() / d - 1);
      while (!done.load(std::memory_order_acquire)) {
        const float* q = &queries[pick(rng) * d];
        const size_t gone = removed_so_far.load(std::memory_order_acquire);
        const std::vector<Hit> hits = index.search(q, 10, 48);
        EXPECT_EQ(hits.size(), 10u);
        expect_valid(hits, q, base, d, rows, removals, gone);
        searches.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::thread writer([&] { run_script(index, &removed_so_far); });
  writer.join();
  done.store(true, std::memory_order_release);
  for (std::thread& th : readers) th.join();
  EXPECT_GT(searches.load(), 0u);

  run_script(serial, nullptr);
  ASSERT_EQ(index.size(), serial.size());
  for (size_t i = 0; i < queries.size() / d; ++i) {
    const std::vector<Hit> x = index.search(&queries[i * d], 10, 48), y = serial.search(&queries[i * d], 10, 48);
    ASSERT_EQ(x.size(), y.size());
    for (size_t j = 0; j < x.size(); ++j) EXPECT_EQ(x[j].id, y[j].id);
  }
}

TEST(HnswConcurrent, ParallelBuildReachesSerialRecall) {
  const size_t n = 3000, d = 24;
  const std::vector<float> base = clustered(n, d, 30, 3);
  const std::vector<float> queries = clustered(100, d, 30, 4);
  FlatIndex flat(d, VectorType::kF32, Metric::kL2);
  std::vector<int64_t> ids(n);
  for (size_t r = 0; r < n; ++r) {
    ids[r] = id_of(r);
    flat.add_float(id_of(r), &base[r * d]);
  }
  for (size_t threads : {2, 4}) {
    SCOPED_TRACE(threads);
    HnswIndex index(d, VectorType::kF32, Metric::kL2, {.M = 8, .ef_construction = 100});
    ASSERT_TRUE(index.add_batch(ids, base.data(), threads).is_ok());
    EXPECT_EQ(index.size(), n);
    for (size_t r = 0; r < n; r += 97) EXPECT_TRUE(index.contains(id_of(r)));
    EXPECT_GE(recall(index, flat, queries, d, 200), 0.99);
    // A repeated id stops the batch at its row, as add() in a loop would.
    const std::vector<int64_t> again = {id_of(n + 1), id_of(5), id_of(n + 2)};
    const Status st = index.add_batch(again, base.data(), threads);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    EXPECT_TRUE(index.contains(id_of(n + 1)));
    EXPECT_FALSE(index.contains(id_of(n + 2)));
  }
}

TEST(HnswConcurrent, ParallelWritersSearchesAndARepair) {
  // Two inserting threads, one removing, two searching; then a repair with
  // searches still running. Afterwards recall on the live rows is intact.
  const size_t first = 400, rows = 2400, d = 16;
  const std::vector<float> base = clustered(rows, d, 12, 5);
  const std::vector<float> queries = clustered(64, d, 12, 6);
  HnswIndex index(d, VectorType::kF32, Metric::kL2, {.M = 8, .ef_construction = 64});
  for (size_t r = 0; r < first; ++r) ASSERT_TRUE(index.add(id_of(r), &base[r * d]).is_ok());
  // Rows removed: every 3rd of the first ones, by a thread of their own.
  std::vector<int64_t> removals;
  for (size_t r = 0; r < first; r += 3) removals.push_back(id_of(r));

  std::atomic<size_t> removed_so_far{0};
  std::atomic<int> writers_left{3};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (size_t r = first + w; r < rows; r += 2) EXPECT_TRUE(index.add(id_of(r), &base[r * d]).is_ok());
      writers_left.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    for (size_t i = 0; i < removals.size(); ++i) {
      EXPECT_TRUE(index.remove(removals[i]).is_ok());
      removed_so_far.store(i + 1, std::memory_order_release);
    }
    writers_left.fetch_sub(1);
  });
  for (uint32_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(10 + t);
      std::uniform_int_distribution<size_t> pick(0, queries.size() / d - 1);
      while (!stop.load(std::memory_order_acquire)) {
        const float* q = &queries[pick(rng) * d];
        const size_t gone = removed_so_far.load(std::memory_order_acquire);
        expect_valid(index.search(q, 10, 48), q, base, d, rows, removals, gone);
        const int64_t probe = id_of(pick(rng));
        (void)index.contains(probe);
      }
    });
  }
  while (writers_left.load() > 0) std::this_thread::yield();
  index.repair();  // with the searches still running
  stop.store(true, std::memory_order_release);
  for (std::thread& th : threads) th.join();

  EXPECT_EQ(index.size(), rows - removals.size());
  FlatIndex flat(d, VectorType::kF32, Metric::kL2);
  for (size_t r = 0; r < rows; ++r) {
    if (r >= first || r % 3 != 0) flat.add_float(id_of(r), &base[r * d]);
  }
  EXPECT_GE(recall(index, flat, queries, d, 200), 0.99);
}

}  // namespace
}  // namespace simile
