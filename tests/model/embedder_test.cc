// The Embedder on the real all-MiniLM-L6-v2, against vectors from the
// independent PyTorch reference (tests/golden/minilm/, made by
// /work/shared/peers/inference/ref_embed.py with 256-token truncation).
#include "simile/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "model_test_util.h"
#include "util/npy.h"
#include "util/process_memory.h"

namespace simile {
namespace {

using testing::derive_model_dir;
using testing::cosine;
using testing::TempDir;

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

// EmbedderOptions, field by field (designated initialisers trip -Wextra).
struct Opts {
  EmbedderOptions o;
  Opts& model(const std::string& m) {
    o.model = m;
    return *this;
  }
  Opts& pooling(Pooling p) {
    o.pooling = p;
    return *this;
  }
  Opts& normalize(bool n) {
    o.normalize = n;
    return *this;
  }
  Opts& max_tokens(size_t n) {
    o.max_tokens = n;
    return *this;
  }
  Opts& threads(int t) {
    o.threads = t;
    return *this;
  }
  Opts& batch(size_t b) {
    o.batch_size = b;
    return *this;
  }
  Opts& dimensions(size_t d) {
    o.dimensions = d;
    return *this;
  }
  Opts& dtype(InferenceDtype d) {
    o.dtype = d;
    return *this;
  }
  operator EmbedderOptions() const { return o; }  // NOLINT: implicit by design
};

std::unique_ptr<Embedder> open_or_die(EmbedderOptions options) {
  if (options.model.empty()) options.model = testing::default_model_dir();
  auto e = Embedder::open(options);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e).value() : nullptr;
}

std::vector<float> embed_or_die(const Embedder& e, const std::vector<std::string>& texts,
                                const std::string& prompt = "") {
  auto v = e.embed(texts, prompt);
  EXPECT_TRUE(v.is_ok()) << v.status().message();
  return v.is_ok() ? std::move(v).value() : std::vector<float>(texts.size() * e.dims());
}

const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> kTexts = {
      "Python can make you rich.",
      "Mastering Python can fill your pockets.",
      "Python can make you itch.",
      "",
      "A man is eating food.",
      "The quick brown fox jumps over the lazy dog, again and again, until the dog finally gets up and leaves.",
      "naïve café — déjà vu ✓ 日本語のテキスト",
      "x",
      std::string(1500, 'a') + " " + std::string(40, 'b'),  // truncated at 256 tokens
  };
  return kTexts;
}

class EmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { embedder_ = open_or_die({}).release(); }
  static void TearDownTestSuite() {
    delete embedder_;
    embedder_ = nullptr;
  }
  void SetUp() override {
    if (embedder_ == nullptr) GTEST_SKIP() << "the default model did not load";
  }
  static Embedder* embedder_;
};
Embedder* EmbedderTest::embedder_ = nullptr;

TEST_F(EmbedderTest, MatchesThePyTorchReferenceOnTheGoldenTexts) {
  const std::string texts_path = testing::golden_dir() + "/texts.jsonl";
  const std::string vectors_path = testing::golden_dir() + "/minilm/vectors.npy";
  std::ifstream in(texts_path);
  ASSERT_TRUE(in.good()) << "missing golden texts " << texts_path;
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line).get<std::string>());
  auto ref = npy_read_file(vectors_path);
  ASSERT_TRUE(ref.is_ok()) << ref.status().message();
  ASSERT_GE(texts.size(), 120u);
  ASSERT_EQ(ref->rows, texts.size());
  ASSERT_EQ(ref->cols, 384u);

  for (size_t batch : {32u, 1u}) {
    auto e = batch == 32 ? nullptr : open_or_die(Opts().batch(batch));
    const Embedder& embedder = batch == 32 ? *embedder_ : *e;
    std::vector<float> got = embed_or_die(embedder, texts);
    double worst_cos = 1, worst_diff = 0;
    size_t worst_row = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const float* a = got.data() + i * 384;
      const float* b = ref->data.data() + i * 384;
      double cos = cosine(a, b, 384), diff = 0;
      for (size_t c = 0; c < 384; ++c) diff = std::max(diff, std::abs(double(a[c]) - b[c]));
      EXPECT_GE(cos, 0.9999) << "text " << i << ": " << texts[i];
      EXPECT_LE(diff, 1e-4) << "text " << i << ": " << texts[i];
      if (cos < worst_cos) worst_cos = cos;
      if (diff > worst_diff) worst_diff = diff, worst_row = i;
    }
    std::printf("[ golden   ] batch %zu, %zu texts: worst 1 - cosine %.3g, max |diff| %.3g (text %zu)\n", batch,
                texts.size(), 1 - worst_cos, worst_diff, worst_row);
    RecordProperty("worst_cosine_batch" + std::to_string(batch), std::to_string(worst_cos));
    RecordProperty("max_abs_diff_batch" + std::to_string(batch), std::to_string(worst_diff));
  }
}

TEST_F(EmbedderTest, SeedSanity) {
  auto v = embed_or_die(*embedder_, {"Python can make you rich.", "Mastering Python can fill your pockets.",
                                     "Python can make you itch."});
  const double related = cosine(&v[0], &v[384], 384);
  const double rhyme = cosine(&v[0], &v[768], 384);
  EXPECT_GT(related, rhyme);
  EXPECT_NEAR(related, 0.651431, 1e-4);
  EXPECT_NEAR(rhyme, 0.504374, 1e-4);
}

TEST_F(EmbedderTest, ModelInfo) {
  const ModelInfo& info = embedder_->info();
  EXPECT_EQ(embedder_->dims(), 384u);
  EXPECT_EQ(info.name, "all-MiniLM-L6-v2");
  EXPECT_EQ(info.max_tokens, 256u);
  EXPECT_EQ(info.pooling, Pooling::kMean);
  EXPECT_TRUE(info.normalize);
  EXPECT_EQ(info.dtype, "F16");
  EXPECT_EQ(embedder_->tokenizer().truncation()->max_length, 256u);
  EXPECT_FALSE(embedder_->tokenizer().padding().has_value());
}

TEST_F(EmbedderTest, UnitLengthAndFinite) {
  auto v = embed_or_die(*embedder_, sample_texts());
  for (size_t i = 0; i < sample_texts().size(); ++i) {
    double norm = 0;
    for (size_t c = 0; c < 384; ++c) {
      ASSERT_TRUE(std::isfinite(v[i * 384 + c]));
      norm += double(v[i * 384 + c]) * v[i * 384 + c];
    }
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << i;
  }
  auto none = embedder_->embed({});
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(EmbedderTest, SameVectorsWhateverTheBatchSizeOrderOrThreads) {
  const auto& texts = sample_texts();
  const std::vector<float> base = embed_or_die(*embedder_, texts);
  for (auto [batch, threads] : {std::pair<size_t, int>{1, 2}, {2, 1}, {5, 2}, {100, 1}}) {
    auto e = open_or_die(Opts().threads(threads).batch(batch));
    EXPECT_LE(max_abs_diff(embed_or_die(*e, texts), base), 1e-5) << "batch " << batch << " threads " << threads;
  }
  std::vector<std::string> reversed(texts.rbegin(), texts.rend());
  std::vector<float> rev = embed_or_die(*embedder_, reversed);
  const size_t n = texts.size();
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 384; ++c) ASSERT_NEAR(rev[(n - 1 - i) * 384 + c], base[i * 384 + c], 1e-5) << i;
  // One at a time, through separate calls.
  for (size_t i = 0; i < n; ++i) {
    auto one = embed_or_die(*embedder_, {texts[i]});
    for (size_t c = 0; c < 384; ++c) ASSERT_NEAR(one[c], base[i * 384 + c], 1e-5) << i;
  }
}

TEST_F(EmbedderTest, ConcurrentCallsGiveTheSameVectors) {
  const auto& texts = sample_texts();
  const std::vector<float> base = embed_or_die(*embedder_, texts);
  std::vector<std::vector<float>> got(3);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&] { g = embed_or_die(*embedder_, texts); });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_LE(max_abs_diff(g, base), 1e-6);
}

TEST_F(EmbedderTest, PoolingAndNormalizeOverrides) {
  const std::vector<std::string> texts = {"A man is eating food.", "Python can make you rich."};
  const std::vector<float> base = embed_or_die(*embedder_, texts);
  auto raw = [&](Pooling p) {
    auto e = open_or_die(Opts().pooling(p).normalize(false));
    EXPECT_EQ(e->info().pooling, p);
    EXPECT_FALSE(e->info().normalize);
    return embed_or_die(*e, texts);
  };
  const auto mean = raw(Pooling::kMean), cls = raw(Pooling::kCls), max = raw(Pooling::kMax),
             sqrt_len = raw(Pooling::kMeanSqrtLen), last = raw(Pooling::kLastToken);
  for (size_t t = 0; t < texts.size(); ++t) {
    const size_t o = t * 384;
    const size_t tokens = embedder_->tokenizer().encode(texts[t])->size();
    double norm = 0;
    for (size_t c = 0; c < 384; ++c) norm += double(mean[o + c]) * mean[o + c];
    norm = std::sqrt(norm);
    EXPECT_GT(std::abs(norm - 1.0), 0.01) << "mean pooling without Normalize is not unit length";
    for (size_t c = 0; c < 384; ++c) {
      EXPECT_NEAR(mean[o + c] / norm, base[o + c], 1e-6);                           // Normalize = L2
      EXPECT_GE(max[o + c], mean[o + c]);                                           // max >= mean
      EXPECT_NEAR(sqrt_len[o + c], mean[o + c] * std::sqrt(double(tokens)), 1e-5);  // sum / sqrt(n)
    }
    EXPECT_LT(cosine(&cls[o], &mean[o], 384), 0.999);
    EXPECT_LT(cosine(&last[o], &cls[o], 384), 0.999);
  }
  auto cls_norm = open_or_die(Opts().pooling(Pooling::kCls));
  auto cn = embed_or_die(*cls_norm, texts);
  EXPECT_NEAR(cosine(&cn[0], &cls[0], 384), 1.0, 1e-6);
}

// Embedders of one model share its weights whatever their pooling or
// dimensions (a server's /v1/embeddings and its collections): a second one
// costs the tokenizer and buffers, not another 92 MB of fp32 weights. int8
// is another encoder, and so are the weights once every holder is gone.
TEST_F(EmbedderTest, EmbeddersOfOneModelShareItsWeights) {
  const int64_t before = process_memory().heap_in_use;
  auto other = open_or_die(Opts().pooling(Pooling::kCls).dimensions(128));
  ASSERT_NE(other, nullptr);
  const int64_t grown = process_memory().heap_in_use - before;
  EXPECT_LT(grown, 30 << 20) << "a second Embedder of the model took " << grown / (1 << 20) << " MB";
  EXPECT_EQ(other->info().fingerprint, embedder_->info().fingerprint);
  // Sharing changes no vector: the shared encoder under another pooling
  // gives what a fresh load gives.
  const std::vector<std::string> texts = {"A man is eating food."};
  const std::vector<float> shared = embed_or_die(*other, texts);
  auto int8 = open_or_die(Opts().dtype(InferenceDtype::kInt8).pooling(Pooling::kCls).dimensions(128));
  ASSERT_NE(int8, nullptr);
  EXPECT_NE(int8->info().fingerprint, other->info().fingerprint);
  const std::vector<float> quantized = embed_or_die(*int8, texts);
  EXPECT_NE(quantized, shared);
  EXPECT_GT(cosine(quantized.data(), shared.data(), 128), 0.99);
}

TEST_F(EmbedderTest, MaxTokensOverrideTruncates) {
  auto e = open_or_die(Opts().max_tokens(6));
  EXPECT_EQ(e->info().max_tokens, 6u);
  // Four word pieces fit; what follows them cannot matter.
  auto v = embed_or_die(*e, {"one two three four five six", "one two three four seven eight nine"});
  EXPECT_LE(max_abs_diff(std::vector<float>(v.begin(), v.begin() + 384), std::vector<float>(v.begin() + 384, v.end())),
            1e-6);
  EXPECT_EQ(Embedder::open(Opts().model(testing::default_model_dir()).max_tokens(513)).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Embedder::open(Opts().model(testing::default_model_dir()).batch(0)).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(EmbedderTest, Prompts) {
  auto none = embedder_->prompt_for("query");
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  EXPECT_NE(none.status().message().find("no prompts"), std::string::npos) << none.status().message();

  TempDir dir;
  derive_model_dir(dir.path(), {},
                   {{"config_sentence_transformers.json",
                     R"({"prompts": {"query": "query: ", "passage": "passage: "},
                                         "default_prompt_name": null})"}});
  auto e = open_or_die(Opts().model(dir.str()));
  auto q = e->prompt_for("query");
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(*q, "query: ");
  auto bad = e->prompt_for("title");
  EXPECT_NE(bad.status().message().find("query, passage"), std::string::npos) << bad.status().message();
  EXPECT_LE(max_abs_diff(embed_or_die(*e, {"what is a fox?"}, "query: "), embed_or_die(*e, {"query: what is a fox?"})),
            1e-6);

  // include_prompt = false leaves the prompt's tokens out of the mean.
  TempDir excl;
  derive_model_dir(excl.path(), {},
                   {{"1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true, "include_prompt": false})"}});
  auto x = open_or_die(Opts().model(excl.str()));
  auto with = embed_or_die(*x, {"what is a fox?"}, "query: ");
  auto plain = embed_or_die(*x, {"query: what is a fox?"});
  EXPECT_LT(cosine(with.data(), plain.data(), 384), 0.9999);
}

TEST(EmbedderErrors, ClearMessagesForBrokenModels) {
  auto expect = [](const TempDir& dir, Status::Code code, const std::string& needle) {
    auto e = Embedder::open(Opts().model(dir.str()));
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), code) << e.status().message();
    EXPECT_NE(e.status().message().find(needle), std::string::npos) << e.status().message();
  };
  {
    TempDir dir;
    derive_model_dir(dir.path(), {"tokenizer.json"}, {});
    expect(dir, Status::Code::kNotFound, "tokenizer.json");
  }
  {
    TempDir dir;
    derive_model_dir(dir.path(), {"config.json"}, {});
    expect(dir, Status::Code::kNotFound, "config.json");
  }
  {
    TempDir dir;
    derive_model_dir(dir.path(), {"model.safetensors"}, {});
    expect(dir, Status::Code::kNotFound, "safetensors");
  }
  {
    TempDir dir;
    derive_model_dir(dir.path(), {},
                     {{"config.json", R"({"architectures": ["DebertaV2Model"], "model_type": "deberta-v2",
                                                          "hidden_size": 768})"}});
    expect(dir, Status::Code::kUnsupported, "deberta-v2");
    expect(dir, Status::Code::kUnsupported, "bert (model_type bert");
  }
  {
    TempDir dir;
    auto config = nlohmann::json::parse(testing::read_bytes(testing::default_model_dir() + "/config.json"));
    config["hidden_size"] = 512;
    config["num_attention_heads"] = 8;
    derive_model_dir(
        dir.path(), {},
        {{"config.json", config.dump()}, {"1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true})"}});
    expect(dir, Status::Code::kCorrupt, "has shape [30522, 384], but config.json (vocab_size 30522, hidden_size 512)");
  }
  {
    TempDir dir;
    derive_model_dir(dir.path(), {"model.safetensors"},
                     {{"model.safetensors",
                       testing::read_bytes(testing::default_model_dir() + "/model.safetensors").substr(0, 1 << 20)}});
    expect(dir, Status::Code::kCorrupt, "model.safetensors");
  }
  auto missing = Embedder::open(Opts().model("no-such-model-anywhere"));
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("simile models pull"), std::string::npos);
}

}  // namespace
}  // namespace simile
