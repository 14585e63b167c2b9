// HnswIndex deletes: repair() relinking live nodes around tombstones (recall
// on the remaining vectors restored, a removed entry point replaced),
// compact() (no tombstones, same live ids, survives save/open), and a
// property test of random adds, removes and re-adds where a removed id is
// never returned.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "index/flat_index.h"
#include "index/hnsw.h"
#include "hnsw_test_data.h"

namespace simile {
namespace {

using hnsw_testing::clustered;
using hnsw_testing::gaussian;

int64_t id_of(size_t r) { return 3 + 5 * static_cast<int64_t>(r); }

// Mean fraction of the exact top k (over the live rows) the index returns;
// adds the vectors it scored to *scored.
double recall(const HnswIndex& index, const std::vector<float>& base, const std::vector<bool>& live,
              const std::vector<float>& queries, size_t d, size_t ef, size_t* scored = nullptr) {
  FlatIndex flat(d, VectorType::kF32, index.metric());
  for (size_t r = 0; r < live.size(); ++r) {
    if (live[r]) flat.add_float(id_of(r), &base[r * d]);
  }
  const size_t k = 10, nq = queries.size() / d;
  size_t found = 0;
  for (size_t i = 0; i < nq; ++i) {
    std::set<int64_t> want;
    for (const Hit& h : flat.search(&queries[i * d], k)) want.insert(h.id);
    SearchStats stats;
    for (const Hit& h : index.search(&queries[i * d], k, ef, nullptr, &stats)) found += want.count(h.id);
    if (scored != nullptr) *scored += stats.vectors_scored;
  }
  return static_cast<double>(found) / static_cast<double>(nq * k);
}

// Removes a random `fraction` of the rows; returns which rows are live.
std::vector<bool> remove_random(HnswIndex& index, size_t n, double fraction, uint32_t seed) {
  std::vector<bool> live(n, true);
  std::vector<size_t> rows(n);
  for (size_t r = 0; r < n; ++r) rows[r] = r;
  std::shuffle(rows.begin(), rows.end(), std::mt19937(seed));
  for (size_t i = 0; i < static_cast<size_t>(fraction * static_cast<double>(n)); ++i) {
    EXPECT_TRUE(index.remove(id_of(rows[i])).is_ok());
    live[rows[i]] = false;
  }
  return live;
}

HnswIndex build(const std::vector<float>& base, size_t d, Metric metric, HnswParams params = {}) {
  HnswIndex index(d, VectorType::kF32, metric, params);
  for (size_t r = 0; r < base.size() / d; ++r) EXPECT_TRUE(index.add(id_of(r), &base[r * d]).is_ok());
  return index;
}

class TempFile {
 public:
  TempFile() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("simile-hnsw-repair-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
                .string();
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(HnswRepair, RestoresRecallAfterDeletingThirtyPercent) {
  const size_t n = 4000, d = 32;
  const std::vector<float> base = clustered(n, d, 40, 1);
  const std::vector<float> queries = clustered(200, d, 40, 2);
  for (Metric metric : {Metric::kCosine, Metric::kL2}) {
    SCOPED_TRACE(to_string(metric));
    HnswIndex index = build(base, d, metric, {.M = 8, .ef_construction = 100});
    const std::vector<bool> live = remove_random(index, n, 0.3, 3);
    EXPECT_NEAR(index.tombstone_fraction(), 0.3, 1e-9);
    size_t scored_before = 0, scored_after = 0;
    const double before = recall(index, base, live, queries, d, 128, &scored_before);
    const size_t repaired = index.repair();
    EXPECT_GT(repaired, n / 2);     // each removed node had several in-links
    EXPECT_EQ(index.repair(), 0u);  // nothing left to repair
    const double after = recall(index, base, live, queries, d, 128, &scored_after);
    RecordProperty(std::string("recall_before_repair_") + to_string(metric), std::to_string(before));
    RecordProperty(std::string("recall_after_repair_") + to_string(metric), std::to_string(after));
    RecordProperty(std::string("scored_before_repair_") + to_string(metric), std::to_string(scored_before));
    RecordProperty(std::string("scored_after_repair_") + to_string(metric), std::to_string(scored_after));
    EXPECT_GE(after, 0.99) << "before repair " << before;
    // The beam no longer spends itself on tombstones: less work for the same ef.
    EXPECT_LT(scored_after, scored_before);
    // Tombstones remain (repair unlinks them, compact() drops them).
    EXPECT_EQ(index.size(), n - n * 3 / 10);
    EXPECT_NEAR(index.tombstone_fraction(), 0.3, 1e-9);
  }
}

TEST(HnswRepair, ReplacesARemovedEntryPoint) {
  // Removing 19 of every 20 nodes removes the entry point (and most upper
  // levels) with near certainty.
  const size_t n = 3000, d = 16;
  const std::vector<float> base = clustered(n, d, 10, 4);
  const std::vector<float> queries = clustered(50, d, 10, 5);
  HnswIndex index = build(base, d, Metric::kL2, {.M = 6, .ef_construction = 64});
  const int top = index.max_level();
  std::vector<bool> live(n, false);
  for (size_t r = 0; r < n; ++r) {
    if (r % 20 == 0) {
      live[r] = true;
    } else {
      ASSERT_TRUE(index.remove(id_of(r)).is_ok());
    }
  }
  index.repair();
  EXPECT_LE(index.max_level(), top);
  EXPECT_GE(recall(index, base, live, queries, d, 200), 0.99);
  // A file whose entry point sits below removed nodes of higher levels opens.
  TempFile file;
  ASSERT_TRUE(index.save(file.path(), 1).is_ok());
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(file.path(), 1);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  EXPECT_EQ((*opened)->max_level(), index.max_level());
  EXPECT_GE(recall(**opened, base, live, queries, d, 200), 0.99);
}

TEST(HnswRepair, AllRemovedThenAddedAgain) {
  const size_t n = 300, d = 8;
  const std::vector<float> base = clustered(n, d, 4, 6);
  HnswIndex index = build(base, d, Metric::kDot);
  for (size_t r = 0; r < n; ++r) ASSERT_TRUE(index.remove(id_of(r)).is_ok());
  index.repair();
  EXPECT_TRUE(index.search(&base[0], 5, 32).empty());
  ASSERT_TRUE(index.add(id_of(7), &base[7 * d]).is_ok());
  const std::vector<Hit> hits = index.search(&base[7 * d], 5, 32);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, id_of(7));
  const HnswIndex compacted = index.compact();
  EXPECT_EQ(compacted.nodes(), 1u);
  EXPECT_EQ(compacted.search(&base[7 * d], 5, 32).at(0).id, id_of(7));
}

TEST(HnswRepair, CompactDropsTombstonesAndSurvivesSaveAndOpen) {
  const size_t n = 3000, d = 24;
  const std::vector<float> base = clustered(n, d, 30, 7);
  const std::vector<float> queries = clustered(100, d, 30, 8);
  HnswIndex index = build(base, d, Metric::kCosine, {.M = 8, .ef_construction = 100});
  const std::vector<bool> live = remove_random(index, n, 0.3, 9);
  HnswIndex compacted = index.compact();
  EXPECT_EQ(compacted.nodes(), compacted.size());
  EXPECT_EQ(compacted.size(), index.size());
  EXPECT_EQ(compacted.tombstone_fraction(), 0.0);
  EXPECT_EQ(compacted.params().M, 8u);
  EXPECT_EQ(compacted.metric(), Metric::kCosine);
  for (size_t r = 0; r < n; ++r) EXPECT_EQ(compacted.contains(id_of(r)), live[r]) << r;
  EXPECT_GE(recall(compacted, base, live, queries, d, 128), 0.99);

  TempFile file;
  ASSERT_TRUE(compacted.save(file.path(), 5).is_ok());
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(file.path(), 5);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  HnswIndex& back = **opened;
  EXPECT_EQ(back.nodes(), compacted.nodes());
  EXPECT_EQ(back.max_level(), compacted.max_level());
  // It grows as if never saved: the level generator continues from its node count.
  const std::vector<float> more = clustered(200, d, 30, 10);
  for (size_t r = 0; r < 200; ++r) {
    ASSERT_TRUE(compacted.add(id_of(n + r), &more[r * d]).is_ok());
    ASSERT_TRUE(back.add(id_of(n + r), &more[r * d]).is_ok());
  }
  for (size_t i = 0; i < 100; ++i) {
    const std::vector<Hit> x = compacted.search(&queries[i * d], 10, 64), y = back.search(&queries[i * d], 10, 64);
    ASSERT_EQ(x.size(), y.size());
    for (size_t j = 0; j < x.size(); ++j) {
      EXPECT_EQ(x[j].id, y[j].id);
      EXPECT_EQ(x[j].score, y[j].score);
    }
  }
}

// Random adds, removes, updates (remove + add of the same id with a new
// vector), repairs and compactions against a model of which ids are live
// with which vector: a search returns only live ids, each with the score of
// its current vector, and as many as there are (up to k).
TEST(HnswRepair, RemovedIdsAreNeverReturnedUnderRandomEdits) {
  const size_t d = 12, ids = 400;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  auto random_vector = [&] {
    std::vector<float> v(d);
    for (float& x : v) x = normal(rng);
    return v;
  };
  HnswIndex index(d, VectorType::kF32, Metric::kL2, {.M = 6, .ef_construction = 40});
  std::map<int64_t, std::vector<float>> model;
  std::uniform_int_distribution<int64_t> any_id(0, ids - 1);
  std::uniform_int_distribution<int> op(0, 99);
  for (int step = 0; step < 6000; ++step) {
    const int64_t id = any_id(rng);
    const int o = op(rng);
    if (o < 55) {
      const std::vector<float> v = random_vector();
      const bool present = model.count(id) > 0;
      EXPECT_EQ(index.add(id, v.data()).is_ok(), !present) << id;
      if (!present) model[id] = v;
    } else if (o < 90) {
      EXPECT_EQ(index.remove(id).is_ok(), model.erase(id) > 0) << id;
    } else if (o < 99) {
      const std::vector<float> q = random_vector();
      const std::vector<Hit> hits = index.search(q.data(), 10, 64);
      EXPECT_EQ(hits.size(), std::min<size_t>(10, model.size()));
      for (const Hit& h : hits) {
        auto it = model.find(h.id);
        ASSERT_NE(it, model.end()) << "removed id " << h.id << " returned at step " << step;
        float sq = 0;
        for (size_t j = 0; j < d; ++j) sq += (q[j] - it->second[j]) * (q[j] - it->second[j]);
        EXPECT_NEAR(h.score, -std::sqrt(sq), 1e-4) << "id " << h.id << " scored on an old vector";
      }
    } else if (step % 2 == 0) {
      index.repair();
    } else {
      index = index.compact();
      EXPECT_EQ(index.nodes(), model.size());
    }
    ASSERT_EQ(index.size(), model.size());
  }
}

}  // namespace
}  // namespace simile
