// The sentence-transformers steps after pooling and around the text, on the
// real default model: Dense modules, Matryoshka truncation (dimensions) and
// prompts (named, default, instruction templates with newlines).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "model_test_util.h"
#include "simile/embedder.h"

namespace simile {
namespace {

using testing::derive_model_dir;
using testing::FakeTensor;
using testing::make_safetensors;
using testing::raw_bytes;
using testing::TempDir;
using testing::write_bytes;

constexpr size_t kDims = 384;  // all-MiniLM-L6-v2

const char* kModulesWithDense = R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
  {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
  {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}])";

std::unique_ptr<Embedder> open_or_die(const std::string& model, std::optional<size_t> dimensions = std::nullopt,
                                      std::optional<bool> normalize = std::nullopt) {
  EmbedderOptions o;
  o.model = model.empty() ? testing::default_model_dir() : model;
  o.dimensions = dimensions;
  o.normalize = normalize;
  o.threads = 2;
  auto e = Embedder::open(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e).value() : nullptr;
}

std::vector<float> embed_or_die(const Embedder& e, const std::vector<std::string>& texts,
                                const std::string& prompt = "") {
  auto v = e.embed(texts, prompt);
  EXPECT_TRUE(v.is_ok()) << v.status().message();
  return v.is_ok() ? std::move(v).value() : std::vector<float>(texts.size() * e.dims());
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

Status open_status(const std::string& dir) {
  EmbedderOptions o;
  o.model = dir;
  return Embedder::open(o).status();
}

const std::vector<std::string> kTexts = {"Python can make you rich.", "A man is eating food.", "x"};

// A Dense module of random weights written as the default model's 2_Dense.
struct DenseFiles {
  size_t out = 8;
  std::vector<float> weight, bias;
  explicit DenseFiles(size_t out_features) : out(out_features) {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    weight.resize(out * kDims);
    bias.resize(out);
    for (float& w : weight) w = normal(rng);
    for (float& b : bias) b = normal(rng);
  }
  std::string config(const std::string& activation, size_t in = kDims) const {
    return nlohmann::json({{"in_features", in}, {"out_features", out}, {"bias", true},
                           {"activation_function", activation}})
        .dump();
  }
  std::string safetensors() const {
    return make_safetensors({{"linear.weight", "F32", {out, kDims}, raw_bytes(weight)},
                             {"linear.bias", "F32", {out}, raw_bytes(bias)}});
  }
};

TEST(DenseModule, RunsBetweenPoolingAndNormalize) {
  const DenseFiles dense(8);
  TempDir dir;
  derive_model_dir(dir.path(), {},
                   {{"modules.json", kModulesWithDense},
                    {"2_Dense/config.json", dense.config("torch.nn.modules.activation.Tanh")},
                    {"2_Dense/model.safetensors", dense.safetensors()}});
  auto with_dense = open_or_die(dir.str());
  auto pooled = open_or_die("", std::nullopt, false);  // mean pooling, not normalised
  ASSERT_TRUE(with_dense && pooled);
  EXPECT_EQ(with_dense->dims(), 8u);
  EXPECT_EQ(with_dense->info().dims, 8u);
  const auto got = embed_or_die(*with_dense, kTexts);
  const auto base = embed_or_die(*pooled, kTexts);
  for (size_t t = 0; t < kTexts.size(); ++t) {
    std::vector<double> y(dense.out);
    double norm = 0;
    for (size_t o = 0; o < dense.out; ++o) {
      double acc = dense.bias[o];
      for (size_t i = 0; i < kDims; ++i) acc += double(dense.weight[o * kDims + i]) * base[t * kDims + i];
      y[o] = std::tanh(acc);
      norm += y[o] * y[o];
    }
    for (size_t o = 0; o < dense.out; ++o)
      EXPECT_NEAR(got[t * dense.out + o], y[o] / std::sqrt(norm), 1e-5) << "text " << t << " value " << o;
  }
  // The Dense weights are part of what a collection's fingerprint guards.
  TempDir other;
  DenseFiles changed(8);
  changed.bias[0] += 1;
  derive_model_dir(other.path(), {},
                   {{"modules.json", kModulesWithDense},
                    {"2_Dense/config.json", changed.config("torch.nn.modules.activation.Tanh")},
                    {"2_Dense/model.safetensors", changed.safetensors()}});
  auto e = open_or_die(other.str());
  ASSERT_TRUE(e);
  EXPECT_NE(e->info().fingerprint, with_dense->info().fingerprint);
}

TEST(DenseModule, ClearErrors) {
  const DenseFiles dense(8);
  auto expect = [&](const std::vector<std::pair<std::string, std::string>>& files, Status::Code code,
                    const std::string& needle) {
    TempDir dir;
    std::vector<std::pair<std::string, std::string>> replace = {{"modules.json", kModulesWithDense}};
    replace.insert(replace.end(), files.begin(), files.end());
    derive_model_dir(dir.path(), {}, replace);
    const Status st = open_status(dir.str());
    EXPECT_EQ(st.code(), code) << st.message();
    EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
  };
  const std::string tanh = dense.config("torch.nn.modules.activation.Tanh");
  expect({{"2_Dense/config.json", tanh}, {"2_Dense/pytorch_model.bin", "PK"}}, Status::Code::kUnsupported,
         "pytorch_model.bin");
  expect({{"2_Dense/config.json", tanh}}, Status::Code::kNotFound, "safetensors");
  expect({{"2_Dense/config.json", dense.config("torch.nn.modules.activation.Tanh", 768)},
          {"2_Dense/model.safetensors", dense.safetensors()}},
         Status::Code::kCorrupt, "in_features 768");
  expect({{"2_Dense/config.json", dense.config("torch.nn.modules.activation.Softsign")},
          {"2_Dense/model.safetensors", dense.safetensors()}},
         Status::Code::kUnsupported, "Softsign");
  expect({{"2_Dense/model.safetensors", dense.safetensors()}}, Status::Code::kCorrupt, "2_Dense/config.json");
  DenseFiles wide(16);  // weights of another shape than config.json says
  expect({{"2_Dense/config.json", tanh}, {"2_Dense/model.safetensors", wide.safetensors()}}, Status::Code::kCorrupt,
         "linear.weight");
  const char* normalize_first = R"([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    {"idx": 3, "name": "3", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}])";
  expect({{"modules.json", normalize_first}, {"2_Dense/config.json", tanh}}, Status::Code::kUnsupported,
         "after Normalize");
}

TEST(Matryoshka, FirstDimensionsRenormalised) {
  auto full = open_or_die("");
  auto cut = open_or_die("", 64);
  ASSERT_TRUE(full && cut);
  EXPECT_EQ(cut->dims(), 64u);
  EXPECT_EQ(cut->info().dims, 64u);
  EXPECT_EQ(cut->info().fingerprint, full->info().fingerprint);
  const auto a = embed_or_die(*full, kTexts), b = embed_or_die(*cut, kTexts);
  for (size_t t = 0; t < kTexts.size(); ++t) {
    double norm = 0;
    for (size_t i = 0; i < 64; ++i) norm += double(a[t * kDims + i]) * a[t * kDims + i];
    for (size_t i = 0; i < 64; ++i)
      EXPECT_NEAR(b[t * 64 + i], a[t * kDims + i] / std::sqrt(norm), 1e-6) << "text " << t;
  }
  // Vectors that are not normalised are only cut (SentenceTransformer.encode(truncate_dim=N)).
  auto raw = open_or_die("", std::nullopt, false), raw_cut = open_or_die("", 16, false);
  const auto r = embed_or_die(*raw, kTexts), rc = embed_or_die(*raw_cut, kTexts);
  for (size_t t = 0; t < kTexts.size(); ++t)
    for (size_t i = 0; i < 16; ++i) EXPECT_EQ(rc[t * 16 + i], r[t * kDims + i]);
  EXPECT_EQ(embed_or_die(*open_or_die("", kDims), kTexts), a);  // all of them: unchanged
}

TEST(Matryoshka, DimensionsOutOfRangeAreRefused) {
  for (size_t bad : {size_t{0}, kDims + 1}) {
    EmbedderOptions o;
    o.model = testing::default_model_dir();
    o.dimensions = bad;
    auto e = Embedder::open(o);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(e.status().message().find("choose 1 to 384"), std::string::npos) << e.status().message();
  }
}

TEST(Prompts, DefaultPromptNameMustBeAPrompt) {
  TempDir dir;
  derive_model_dir(dir.path(), {},
                   {{"config_sentence_transformers.json",
                     R"({"prompts": {"query": "query: "}, "default_prompt_name": "passage"})"}});
  const Status st = open_status(dir.str());
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.message();
  EXPECT_NE(st.message().find("default_prompt_name 'passage'"), std::string::npos) << st.message();
}

TEST(Prompts, InstructionTemplatesKeepTheirNewlines) {
  const std::string instruct = "Instruct: Given a question, retrieve passages that answer it\nQuery: ";
  TempDir dir;
  derive_model_dir(dir.path(), {},
                   {{"config_sentence_transformers.json",
                     nlohmann::json({{"prompts", {{"query", instruct}, {"document", ""}}},
                                     {"default_prompt_name", "query"}})
                         .dump()}});
  auto e = open_or_die(dir.str());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->info().default_prompt_name, "query");
  auto prefix = e->prompt_for("query");
  ASSERT_TRUE(prefix.is_ok());
  EXPECT_EQ(*prefix, instruct);
  const auto with = embed_or_die(*e, {"how do planes fly?"}, *prefix);
  EXPECT_LE(max_abs_diff(with, embed_or_die(*e, {instruct + "how do planes fly?"})), 1e-6);
  EXPECT_GT(max_abs_diff(with, embed_or_die(*e, {"how do planes fly?"})), 1e-3);
}

}  // namespace
}  // namespace simile
