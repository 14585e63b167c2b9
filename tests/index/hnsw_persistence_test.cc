// HnswIndex::save / HnswIndex::open (docs/formats/hnsw.md): identical results
// after a round trip for every metric and vector type, stale and missing
// files told apart from corrupt ones, and broken files (truncated, flipped
// bytes, bad links behind a valid checksum) refused without a crash.
#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../model/model_test_util.h"
#include "index/hnsw.h"

namespace simile {
namespace {

namespace fs = std::filesystem;

using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

std::vector<float> clustered(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(8 * d);
  for (float& x : centres) x = normal(rng);
  std::uniform_int_distribution<size_t> pick(0, 7);
  std::vector<float> m(n * d);
  for (size_t r = 0; r < n; ++r) {
    const size_t c = pick(rng);
    for (size_t j = 0; j < d; ++j) m[r * d + j] = centres[c * d + j] + 0.5f * normal(rng);
  }
  return m;
}

// Ids descend in the second half, so the index needs its id map, and a few
// removed ids are added again (updates leave tombstones behind).
HnswIndex build(const std::vector<float>& m, size_t d, VectorType type, Metric metric) {
  HnswIndex index(d, type, metric, {.M = 8, .ef_construction = 64});
  const size_t n = m.size() / d;
  for (size_t r = 0; r < n; ++r) {
    const auto id = static_cast<int64_t>(r < n / 2 ? r : 10 * n - r);
    EXPECT_TRUE(index.add(id, &m[r * d]).is_ok());
  }
  for (size_t r = 0; r < n / 2; r += 5) EXPECT_TRUE(index.remove(static_cast<int64_t>(r)).is_ok());
  for (size_t r = 0; r < n / 2; r += 50) EXPECT_TRUE(index.add(static_cast<int64_t>(r), &m[(r + 1) * d]).is_ok());
  return index;
}

void expect_same_results(const HnswIndex& a, const HnswIndex& b, const std::vector<float>& queries, size_t d) {
  ASSERT_EQ(a.nodes(), b.nodes());
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.max_level(), b.max_level());
  for (size_t i = 0; i < queries.size() / d; ++i) {
    const std::vector<Hit> x = a.search(&queries[i * d], 10, 40);
    const std::vector<Hit> y = b.search(&queries[i * d], 10, 40);
    ASSERT_EQ(x.size(), y.size()) << "query " << i;
    for (size_t j = 0; j < x.size(); ++j) {
      EXPECT_EQ(x[j].id, y[j].id) << "query " << i << " rank " << j;
      EXPECT_EQ(x[j].score, y[j].score) << "query " << i << " rank " << j;
    }
  }
}

TEST(HnswPersistence, SameResultsAfterSaveAndOpen) {
  const size_t n = 1200, d = 24;
  const std::vector<float> base = clustered(n, d, 1);
  const std::vector<float> queries = clustered(60, d, 2);
  TempDir dir;
  for (VectorType type : {VectorType::kF32, VectorType::kF16, VectorType::kI8}) {
    for (Metric metric : {Metric::kCosine, Metric::kDot, Metric::kL2}) {
      SCOPED_TRACE(std::string(vector_type_name(type)) + " " + to_string(metric));
      const HnswIndex index = build(base, d, type, metric);
      const std::string path = dir.file("index.hnsw");
      ASSERT_TRUE(index.save(path, 42).is_ok());
      Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(path, 42);
      ASSERT_TRUE(opened.is_ok()) << opened.status().message();
      const HnswIndex& back = **opened;
      EXPECT_EQ(back.dims(), d);
      EXPECT_EQ(back.type(), type);
      EXPECT_EQ(back.metric(), metric);
      EXPECT_EQ(back.params().M, 8u);
      EXPECT_EQ(back.params().ef_construction, 64u);
      EXPECT_FALSE(back.contains(5));  // removed
      EXPECT_TRUE(back.contains(50));  // removed, then added again
      EXPECT_TRUE(back.contains(static_cast<int64_t>(10 * n - n + 1)));
      expect_same_results(index, back, queries, d);
      // No temporary file is left beside it.
      size_t files = 0;
      for ([[maybe_unused]] const auto& e : fs::directory_iterator(fs::path(path).parent_path())) ++files;
      EXPECT_EQ(files, 1u);
    }
  }
}

TEST(HnswPersistence, AnOpenedIndexGrowsAsIfNeverSaved) {
  const size_t n = 800, d = 16;
  const std::vector<float> base = clustered(n, d, 3);
  const std::vector<float> queries = clustered(40, d, 4);
  HnswIndex index(d, VectorType::kF32, Metric::kL2);
  for (size_t r = 0; r < n / 2; ++r) ASSERT_TRUE(index.add(static_cast<int64_t>(r), &base[r * d]).is_ok());
  TempDir dir;
  ASSERT_TRUE(index.save(dir.file("i"), 1).is_ok());
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(dir.file("i"), 1);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  HnswIndex& back = **opened;
  for (size_t r = n / 2; r < n; ++r) {
    ASSERT_TRUE(index.add(static_cast<int64_t>(r), &base[r * d]).is_ok());
    ASSERT_TRUE(back.add(static_cast<int64_t>(r), &base[r * d]).is_ok());
  }
  ASSERT_TRUE(index.remove(3).is_ok());
  ASSERT_TRUE(back.remove(3).is_ok());
  expect_same_results(index, back, queries, d);
}

TEST(HnswPersistence, EmptyIndexRoundTrips) {
  TempDir dir;
  const HnswIndex empty(4, VectorType::kF16, Metric::kCosine);
  ASSERT_TRUE(empty.save(dir.file("e"), 0).is_ok());
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(dir.file("e"), 0);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  EXPECT_EQ((*opened)->nodes(), 0u);
  EXPECT_EQ((*opened)->max_level(), -1);
  const float q[4] = {1, 0, 0, 0};
  EXPECT_TRUE((*opened)->search(q, 3, 10).empty());
  ASSERT_TRUE((*opened)->add(5, q).is_ok());
  EXPECT_EQ((*opened)->search(q, 3, 10).at(0).id, 5);
}

TEST(HnswPersistence, StaleAndMissingFilesAreToldApartFromCorruptOnes) {
  TempDir dir;
  const std::vector<float> base = clustered(100, 8, 5);
  const HnswIndex index = build(base, 8, VectorType::kF32, Metric::kDot);
  ASSERT_TRUE(index.save(dir.file("i"), 7).is_ok());
  Result<std::unique_ptr<HnswIndex>> stale = HnswIndex::open(dir.file("i"), 8);
  ASSERT_FALSE(stale.is_ok());
  EXPECT_EQ(stale.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find("stale"), std::string::npos) << stale.status().message();
  EXPECT_NE(stale.status().message().find("7"), std::string::npos);
  Result<std::unique_ptr<HnswIndex>> missing = HnswIndex::open(dir.file("nothing"), 7);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(HnswIndex::open(dir.file("i"), 7).is_ok());
}

// The bytes of a small saved index with tombstones and an id map.
std::string saved_bytes(const TempDir& dir, VectorType type) {
  const std::vector<float> base = clustered(300, 12, 6);
  const HnswIndex index = build(base, 12, type, Metric::kCosine);
  EXPECT_TRUE(index.save(dir.file("good"), 3).is_ok());
  return read_bytes(dir.file("good"));
}

void expect_corrupt(const TempDir& dir, const std::string& bytes, const std::string& what) {
  write_bytes(dir.file("bad"), bytes);
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(dir.file("bad"), 3);
  ASSERT_FALSE(opened.is_ok()) << what;
  EXPECT_EQ(opened.status().code(), Status::Code::kCorrupt) << what << ": " << opened.status().message();
}

TEST(HnswPersistence, TruncatedFilesAreCorrupt) {
  TempDir dir;
  const std::string good = saved_bytes(dir, VectorType::kF32);
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, size_t{127}, size_t{128}, size_t{136}, good.size() / 3,
                     good.size() / 2, good.size() - 8, good.size() - 1}) {
    expect_corrupt(dir, good.substr(0, len), "truncated to " + std::to_string(len));
  }
  expect_corrupt(dir, good + std::string(8, '\0'), "extended by 8 bytes");
}

TEST(HnswPersistence, AFlippedByteAnywhereIsCorrupt) {
  TempDir dir;
  for (VectorType type : {VectorType::kF32, VectorType::kI8}) {
    const std::string good = saved_bytes(dir, type);
    std::vector<size_t> offsets;
    for (size_t i = 0; i < 128; ++i) offsets.push_back(i);  // every header byte
    std::mt19937 rng(9);
    std::uniform_int_distribution<size_t> any(128, good.size() - 1);
    for (int i = 0; i < 150; ++i) offsets.push_back(any(rng));
    for (size_t i = good.size() - 8; i < good.size(); ++i) offsets.push_back(i);  // the checksum
    for (size_t off : offsets) {
      std::string bad = good;
      bad[off] = static_cast<char>(bad[off] ^ 0x20);
      expect_corrupt(dir, bad, "byte " + std::to_string(off) + " flipped");
    }
  }
}

TEST(HnswPersistence, WrongMagicIsCorrupt) {
  TempDir dir;
  std::string bad = saved_bytes(dir, VectorType::kF16);
  std::memcpy(bad.data(), "NOTHNSW\0", 8);
  write_bytes(dir.file("bad"), bad);
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(dir.file("bad"), 3);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(opened.status().message().find("magic"), std::string::npos) << opened.status().message();
}

// A file whose checksum is right but whose graph is not (a bug in a writer,
// or a checksum collision) is still refused: a link out of range would make
// a search read out of bounds.
TEST(HnswPersistence, OutOfRangeLinkBehindAValidChecksumIsCorrupt) {
  TempDir dir;
  const size_t d = 8, n = 50;
  HnswIndex index(d, VectorType::kF32, Metric::kL2, {.M = 4});
  const std::vector<float> base = clustered(n, d, 7);
  for (size_t r = 0; r < n; ++r) ASSERT_TRUE(index.add(static_cast<int64_t>(r), &base[r * d]).is_ok());
  ASSERT_TRUE(index.save(dir.file("good"), 3).is_ok());
  const std::string good = read_bytes(dir.file("good"));
  auto reseal = [](std::string& bytes) {
    const uint64_t sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  };
  // docs/formats/hnsw.md: ids at 128, codes at the next multiple of 64 after
  // them, links0 after the codes.
  const size_t codes = (128 + n * 8 + 63) / 64 * 64;
  const size_t links0 = (codes + n * d * 4 + 63) / 64 * 64;
  {
    std::string bad = good;
    uint32_t count = 0;
    std::memcpy(&count, bad.data() + links0, 4);
    ASSERT_GT(count, 0u);
    const uint32_t far = 1000;
    std::memcpy(bad.data() + links0 + 4, &far, 4);
    reseal(bad);
    expect_corrupt(dir, bad, "link to node 1000 of 50");
  }
  {
    std::string bad = good;
    const uint32_t too_many = 9;  // 2M = 8 slots
    std::memcpy(bad.data() + links0, &too_many, 4);
    reseal(bad);
    expect_corrupt(dir, bad, "9 links in 8 slots");
  }
  {
    std::string bad = good;
    const uint32_t entry = 50;
    std::memcpy(bad.data() + 92, &entry, 4);
    reseal(bad);
    expect_corrupt(dir, bad, "entry point out of range");
  }
  {
    std::string good_resealed = good;
    reseal(good_resealed);
    write_bytes(dir.file("bad"), good_resealed);
    EXPECT_TRUE(HnswIndex::open(dir.file("bad"), 3).is_ok());  // the resealing itself is sound
  }
}

// A link on level 1 to a node that has only level 0 passed the range check
// but would make a search read level-1 links the node does not have.
TEST(HnswPersistence, LinkToANodeBelowItsLevelIsCorrupt) {
  TempDir dir;
  const size_t d = 8, n = 200, m = 4;
  HnswIndex index(d, VectorType::kF32, Metric::kL2, {.M = m});
  const std::vector<float> base = clustered(n, d, 11);
  for (size_t r = 0; r < n; ++r) ASSERT_TRUE(index.add(static_cast<int64_t>(r), &base[r * d]).is_ok());
  ASSERT_TRUE(index.save(dir.file("good"), 3).is_ok());
  std::string bad = read_bytes(dir.file("good"));
  auto align = [](size_t x) { return (x + 63) / 64 * 64; };
  uint64_t upper_words = 0;
  std::memcpy(&upper_words, bad.data() + 80, 8);
  const size_t codes = align(128 + n * 8), links0 = align(codes + n * d * 4),
               upper_at = align(links0 + n * (1 + 2 * m) * 4), upper = align(upper_at + n * 4),
               levels = align(upper + upper_words * 4);
  size_t high = n, low = n;
  for (size_t i = 0; i < n; ++i) {
    uint32_t count = 0;
    if (bad[levels + i] > 0) {
      uint32_t at = 0;
      std::memcpy(&at, bad.data() + upper_at + i * 4, 4);
      std::memcpy(&count, bad.data() + upper + size_t{at} * 4, 4);
      if (count > 0 && high == n) high = i;
    } else if (low == n) {
      low = i;
    }
  }
  ASSERT_LT(high, n);
  ASSERT_LT(low, n);
  uint32_t at = 0;
  std::memcpy(&at, bad.data() + upper_at + high * 4, 4);
  const auto low32 = static_cast<uint32_t>(low);
  std::memcpy(bad.data() + upper + (size_t{at} + 1) * 4, &low32, 4);
  const uint64_t sum = XXH3_64bits(bad.data(), bad.size() - 8);
  std::memcpy(bad.data() + bad.size() - 8, &sum, 8);
  expect_corrupt(dir, bad, "level-1 link to a level-0 node");
}

TEST(HnswPersistence, AFailedSaveLeavesTheOldFileReadable) {
  TempDir dir;
  const std::vector<float> base = clustered(200, 8, 8);
  const HnswIndex index = build(base, 8, VectorType::kF32, Metric::kCosine);
  const std::string path = dir.file("index.hnsw");
  ASSERT_TRUE(index.save(path, 1).is_ok());
  // The temporary file cannot be created (a directory has its name), so the
  // save fails before the rename.
  fs::create_directories(path + ".tmp." + std::to_string(getpid()));
  const Status failed = index.save(path, 2);
  EXPECT_EQ(failed.code(), Status::Code::kIoError) << failed.message();
  Result<std::unique_ptr<HnswIndex>> opened = HnswIndex::open(path, 1);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  EXPECT_EQ((*opened)->size(), index.size());
  // A directory that does not exist.
  EXPECT_EQ(index.save(dir.file("no/such/dir/index.hnsw"), 2).code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace simile
