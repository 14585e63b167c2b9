// int8 inference on the real all-MiniLM-L6-v2: vectors close to fp32's on the
// golden texts, the cached int8 weights file written once, reused, and
// rebuilt when damaged.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model_test_util.h"
#include "simile/embedder.h"

namespace simile {
namespace {

using testing::cosine;
using testing::TempDir;

std::vector<std::string> golden_texts() {
  std::ifstream in(testing::golden_dir() + "/texts.jsonl");
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line).get<std::string>());
  return texts;
}

// Points SIMILE_HOME at a temporary directory for the test's lifetime, so
// the int8 cache file is written there and not into the shared test home.
class ScopedHome {
 public:
  explicit ScopedHome(const std::string& dir) {
    const char* old = std::getenv("SIMILE_HOME");
    if (old != nullptr) saved_ = old;
    setenv("SIMILE_HOME", dir.c_str(), 1);
  }
  ~ScopedHome() { setenv("SIMILE_HOME", saved_.c_str(), 1); }

 private:
  std::string saved_;
};

std::unique_ptr<Embedder> open_model(const std::string& dir, InferenceDtype dtype, size_t batch = 32,
                                     int threads = 0) {
  EmbedderOptions o;
  o.model = dir;
  o.dtype = dtype;
  o.batch_size = batch;
  o.threads = threads;
  auto e = Embedder::open(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e).value() : nullptr;
}

TEST(Int8Embedder, CloseToFp32OnTheGoldenTexts) {
  const std::string dir = testing::default_model_dir();
  const std::vector<std::string> texts = golden_texts();
  ASSERT_GE(texts.size(), 120u);
  TempDir home;
  ScopedHome scoped(home.str());
  auto fp32 = open_model(dir, InferenceDtype::kFp32);
  ASSERT_NE(fp32, nullptr);
  auto want = fp32->embed(texts);
  ASSERT_TRUE(want.is_ok());
  for (size_t batch : {32u, 1u}) {
    auto int8 = open_model(dir, InferenceDtype::kInt8, batch);
    ASSERT_NE(int8, nullptr);
    EXPECT_EQ(int8->info().inference_dtype, InferenceDtype::kInt8);
    EXPECT_EQ(int8->info().fingerprint, dtype_fingerprint(fp32->info().fingerprint, InferenceDtype::kInt8));
    EXPECT_EQ(fingerprint_dtype(int8->info().fingerprint), InferenceDtype::kInt8);
    auto got = int8->embed(texts);
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    double worst = 1, sum = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const double c = cosine(got->data() + i * 384, want->data() + i * 384, 384);
      EXPECT_GE(c, 0.99) << "text " << i << ": " << texts[i];
      worst = std::min(worst, c);
      sum += c;
    }
    EXPECT_GE(sum / texts.size(), 0.998);
    std::printf("[ int8     ] batch %zu, %zu texts: cosine to fp32 worst %.5f, mean %.5f\n", batch, texts.size(), worst,
                sum / texts.size());
  }
}

// A lone text runs on every thread of the team, which must all quantise
// into the caller's buffer (a thread-local one per team thread once left
// threads 2 and up without any); the split must not change the vectors.
TEST(Int8Embedder, OneAndTwoThreadsAgree) {
  const std::string dir = testing::default_model_dir();
  const std::vector<std::string> texts = golden_texts();
  TempDir home;
  ScopedHome scoped(home.str());
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    auto int8 = open_model(dir, InferenceDtype::kInt8, 1, threads);
    ASSERT_NE(int8, nullptr);
    auto got = int8->embed({texts.begin(), texts.begin() + 12});
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    runs.push_back(*got);
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t i = 0; i < runs[0].size() / 384; ++i)
    EXPECT_GT(cosine(runs[0].data() + i * 384, runs[1].data() + i * 384, 384), 0.99999) << "text " << i;
}

TEST(Int8Embedder, SeedPairsKeepTheirOrder) {
  const std::string dir = testing::default_model_dir();
  TempDir home;
  ScopedHome scoped(home.str());
  auto e = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(e, nullptr);
  auto v =
      e->embed({"Python can make you rich.", "Mastering Python can fill your pockets.", "Python can make you itch."});
  ASSERT_TRUE(v.is_ok());
  EXPECT_GT(cosine(&(*v)[0], &(*v)[384], 384), cosine(&(*v)[0], &(*v)[768], 384));
}

TEST(Int8Embedder, CacheFileIsWrittenReusedAndRebuiltWhenDamaged) {
  const std::string dir = testing::default_model_dir();
  TempDir home;
  ScopedHome scoped(home.str());
  const std::vector<std::string> texts = {"a cached int8 model", "gives the same vectors"};

  auto first = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->info().int8_cache_load, "built");
  const std::string path = first->info().int8_cache_path;
  EXPECT_EQ(path.rfind(home.str(), 0), 0u) << path;
  ASSERT_TRUE(testing::fs::exists(path));
  auto v1 = first->embed(texts);
  // Embedders open at once share one encoder (EmbedderTest.
  // EmbeddersOfOneModelShareItsWeights): each open below follows the last
  // holder's end, so it reads the cache file again.
  first.reset();

  auto second = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->info().int8_cache_load, "loaded");
  EXPECT_EQ(*second->embed(texts), *v1);
  second.reset();

  // A flipped byte in the middle: the checksum catches it, the file is rebuilt.
  std::string bytes = testing::read_bytes(path);
  bytes[bytes.size() / 2] ^= 0x40;
  testing::write_bytes(path, bytes);
  auto third = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(third, nullptr);
  EXPECT_NE(third->info().int8_cache_load.find("rebuilt (int8 cache file"), std::string::npos)
      << third->info().int8_cache_load;
  EXPECT_NE(third->info().int8_cache_load.find("checksum"), std::string::npos) << third->info().int8_cache_load;
  EXPECT_EQ(*third->embed(texts), *v1);
  third.reset();

  // Truncated: rebuilt too, and afterwards loaded again.
  testing::write_bytes(path, testing::read_bytes(path).substr(0, 1000));
  auto fourth = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(fourth, nullptr);
  EXPECT_EQ(fourth->info().int8_cache_load.rfind("rebuilt", 0), 0u) << fourth->info().int8_cache_load;
  fourth.reset();
  auto fifth = open_model(dir, InferenceDtype::kInt8);
  ASSERT_NE(fifth, nullptr);
  EXPECT_EQ(fifth->info().int8_cache_load, "loaded");
  EXPECT_EQ(*fifth->embed(texts), *v1);
}

TEST(Int8Embedder, DtypeNamesParse) {
  EXPECT_EQ(*parse_inference_dtype("fp32"), InferenceDtype::kFp32);
  EXPECT_EQ(*parse_inference_dtype("int8"), InferenceDtype::kInt8);
  auto bad = parse_inference_dtype("int4");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("choose fp32 or int8"), std::string::npos);
}

}  // namespace
}  // namespace simile
