// Every architecture against its PyTorch reference: the tiny random-weight
// models of tests/golden/models/ (made by gen_*.py there, with token ids from
// the Hugging Face tokenizers library) loaded through the public Embedder (or,
// for golden.json "kind": "cross-encoder", the public Reranker), compared
// token by token (last hidden states) and text by text (sentence embeddings,
// Matryoshka-truncated ones, or pair scores) to 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "model/architecture.h"
#include "model/config.h"
#include "model_test_util.h"
#include "simile/embedder.h"
#include "simile/reranker.h"
#include "util/file_util.h"
#include "util/npy.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

constexpr double kTolerance = 1e-4;

fs::path golden_root() { return fs::path(testing::source_dir()) / "tests" / "golden" / "models"; }

// The model directories (those holding a golden.json), by name.
std::vector<std::string> tiny_models() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(golden_root(), ec))
    if (fs::exists(entry.path() / "golden.json")) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A runnable model directory: the committed files symlinked (not the
// reference outputs: golden.json and *.npy), plus the tokenizer files read in
// place from ../shared (golden.json "tokenizer" and "shared_files", each
// linked under its own base name). A "tokenizer_patch" replaces top-level
// keys of the tokenizer.json (the model's own post-processor, say), which is
// then written rather than linked.
void assemble(const fs::path& src, const json& golden, const fs::path& dest) {
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), src);
    if (rel == "golden.json" || rel.extension() == ".npy") continue;
    fs::create_directories((dest / rel).parent_path());
    fs::create_symlink(entry.path(), dest / rel);
  }
  const fs::path tokenizer = fs::path(testing::shared_dir()) / golden.at("tokenizer").get<std::string>();
  if (golden.contains("tokenizer_patch")) {
    auto text = read_file(tokenizer.string());
    ASSERT_TRUE(text.is_ok()) << text.status().message();
    nlohmann::ordered_json patched = nlohmann::ordered_json::parse(*text);
    for (const auto& [key, value] : golden.at("tokenizer_patch").items()) patched[key] = value;
    testing::write_bytes((dest / "tokenizer.json").string(), patched.dump());
  } else {
    ASSERT_TRUE(fs::exists(tokenizer)) << tokenizer;
    fs::create_symlink(tokenizer, dest / "tokenizer.json");
  }
  std::vector<std::string> shared;
  for (const auto& f : golden.value("shared_files", json::array())) shared.push_back(f.get<std::string>());
  for (const auto& rel : shared) {
    const fs::path file = fs::path(testing::shared_dir()) / rel;
    ASSERT_TRUE(fs::exists(file)) << file;
    fs::create_symlink(file, dest / file.filename());
  }
}

std::string golden_tokenizer_path(const json& golden) {
  return (fs::path(testing::shared_dir()) / golden.at("tokenizer").get<std::string>()).string();
}

double max_abs_diff(const float* a, const float* b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

NpyMatrix read_npy_or_die(const fs::path& file) {
  auto a = npy_read_file(file.string());
  EXPECT_TRUE(a.is_ok()) << file << ": " << a.status().message();
  return a.is_ok() ? std::move(a).value() : NpyMatrix();
}

// Last hidden states of every token, all sequences in one packed batch.
void expect_hidden_states(const std::string& dir, const std::vector<std::vector<int32_t>>& ids,
                          const std::vector<std::vector<int32_t>>& type_ids, const NpyMatrix& hidden) {
  auto model = describe_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto files = WeightFiles::open(model->encoder_dir);
  ASSERT_TRUE(files.is_ok()) << files.status().message();
  auto encoder = load_encoder(*model, **files);
  ASSERT_TRUE(encoder.is_ok()) << encoder.status().message();
  TokenBatch batch;
  for (size_t s = 0; s < ids.size(); ++s) {
    batch.ids.insert(batch.ids.end(), ids[s].begin(), ids[s].end());
    if (type_ids.empty())
      batch.type_ids.resize(batch.ids.size(), 0);
    else
      batch.type_ids.insert(batch.type_ids.end(), type_ids[s].begin(), type_ids[s].end());
    batch.offsets.push_back(batch.ids.size());
  }
  const size_t H = model->encoder.hidden_size;
  ASSERT_EQ(hidden.rows, batch.tokens());
  ASSERT_EQ(hidden.cols, H);
  std::vector<float> out(batch.tokens() * H);
  FloatBuffer workspace;
  ASSERT_TRUE((*encoder)->forward(batch, out.data(), workspace, 2).is_ok());
  for (size_t s = 0; s < batch.sequences(); ++s) {
    const size_t first = batch.offsets[s];
    EXPECT_LE(max_abs_diff(out.data() + first * H, hidden.data.data() + first * H, batch.length(s) * H), kTolerance)
        << "hidden states of sequence " << s;
  }
}

void expect_embeddings(const std::string& dir, const fs::path& src, const json& golden) {
  const auto texts = golden.at("texts").get<std::vector<std::string>>();
  const auto ids = golden.at("ids").get<std::vector<std::vector<int32_t>>>();
  ASSERT_EQ(texts.size(), ids.size());
  const NpyMatrix expected = read_npy_or_die(src / "embeddings.npy");

  EmbedderOptions options;
  options.model = dir;
  options.threads = 2;
  auto embedder = Embedder::open(options);
  ASSERT_TRUE(embedder.is_ok()) << embedder.status().message();
  const Embedder& e = **embedder;

  // The tokenizer as the embedder configures it gives the reference's ids.
  for (size_t i = 0; i < texts.size(); ++i) {
    auto enc = e.tokenizer().encode(texts[i]);
    ASSERT_TRUE(enc.is_ok()) << enc.status().message();
    EXPECT_EQ(enc->ids, ids[i]) << "text " << i << ": " << texts[i];
  }
  expect_hidden_states(dir, ids, {}, read_npy_or_die(src / "hidden.npy"));

  // Sentence embeddings through the public API.
  auto vectors = e.embed(texts);
  ASSERT_TRUE(vectors.is_ok()) << vectors.status().message();
  ASSERT_EQ(expected.rows, texts.size());
  ASSERT_EQ(expected.cols, e.dims());
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_LE(max_abs_diff(vectors->data() + i * e.dims(), expected.data.data() + i * e.dims(), e.dims()), kTolerance)
        << "embedding of text " << i << ": " << texts[i];

  // Matryoshka: the first N dimensions, renormalised.
  if (!golden.contains("matryoshka_dimensions")) return;
  options.dimensions = golden.at("matryoshka_dimensions").get<size_t>();
  const NpyMatrix truncated = read_npy_or_die(src / "matryoshka.npy");
  auto small = Embedder::open(options);
  ASSERT_TRUE(small.is_ok()) << small.status().message();
  const size_t d = *options.dimensions;
  ASSERT_EQ((*small)->dims(), d);
  ASSERT_EQ(truncated.cols, d);
  auto short_vectors = (*small)->embed(texts);
  ASSERT_TRUE(short_vectors.is_ok()) << short_vectors.status().message();
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_LE(max_abs_diff(short_vectors->data() + i * d, truncated.data.data() + i * d, d), kTolerance)
        << d << "-dimensional embedding of text " << i << ": " << texts[i];
}

void expect_scores(const std::string& dir, const fs::path& src, const json& golden) {
  const auto pairs = golden.at("pairs").get<std::vector<std::pair<std::string, std::string>>>();
  const auto ids = golden.at("ids").get<std::vector<std::vector<int32_t>>>();
  const auto type_ids = golden.at("type_ids").get<std::vector<std::vector<int32_t>>>();
  const size_t max_length = golden.at("max_length").get<size_t>();
  ASSERT_EQ(pairs.size(), ids.size());

  // The pair tokenization a CrossEncoder asks for gives the reference's ids.
  auto tokenizer = Tokenizer::from_file(golden_tokenizer_path(golden));
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.status().message();
  TruncationOptions truncation;
  truncation.max_length = max_length;
  truncation.strategy = TruncationOptions::Strategy::kLongestFirst;
  (*tokenizer)->set_truncation(truncation);
  (*tokenizer)->set_padding(std::nullopt);
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto enc = (*tokenizer)->encode_pair(pairs[i].first, pairs[i].second);
    ASSERT_TRUE(enc.is_ok()) << enc.status().message();
    EXPECT_EQ(enc->ids, ids[i]) << "pair " << i;
    EXPECT_EQ(enc->type_ids, type_ids[i]) << "pair " << i;
  }
  expect_hidden_states(dir, ids, type_ids, read_npy_or_die(src / "hidden.npy"));

  // Scores through the public API, each query with its documents, as sigmoid
  // (the default for one label) and as raw logits.
  for (const char* activation : {"", "identity"}) {
    const NpyMatrix expected = read_npy_or_die(src / (*activation ? "logits.npy" : "scores.npy"));
    ASSERT_EQ(expected.data.size(), pairs.size());
    RerankerOptions options;
    options.model = dir;
    options.threads = 2;
    options.activation = activation;
    auto reranker = Reranker::open(options);
    ASSERT_TRUE(reranker.is_ok()) << reranker.status().message();
    EXPECT_EQ((*reranker)->info().max_tokens, max_length);
    EXPECT_EQ((*reranker)->info().activation, *activation ? "identity" : "sigmoid");
    std::map<std::string, std::vector<size_t>> by_query;
    for (size_t i = 0; i < pairs.size(); ++i) by_query[pairs[i].first].push_back(i);
    for (const auto& [query, members] : by_query) {
      std::vector<std::string> docs;
      for (size_t i : members) docs.push_back(pairs[i].second);
      auto scores = (*reranker)->score(query, docs);
      ASSERT_TRUE(scores.is_ok()) << scores.status().message();
      for (size_t j = 0; j < members.size(); ++j)
        EXPECT_NEAR((*scores)[j], expected.data[members[j]], kTolerance)
            << (*activation ? "logit" : "score") << " of pair " << members[j];

      // rerank(): the same scores, best first, cut to top_k.
      auto ranked = (*reranker)->rerank(query, docs, 3);
      ASSERT_TRUE(ranked.is_ok()) << ranked.status().message();
      ASSERT_EQ(ranked->size(), std::min<size_t>(3, docs.size()));
      for (size_t r = 0; r < ranked->size(); ++r) {
        EXPECT_EQ((*ranked)[r].score, (*scores)[(*ranked)[r].index]);
        if (r > 0) {
          EXPECT_GE((*ranked)[r - 1].score, (*ranked)[r].score);
        }
      }
    }
    auto none = (*reranker)->rerank("a query", {});
    ASSERT_TRUE(none.is_ok()) << none.status().message();
    EXPECT_TRUE(none->empty());
  }
}

class TinyModel : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyModel, MatchesTheReference) {
  const fs::path src = golden_root() / GetParam();
  auto golden_text = read_file((src / "golden.json").string());
  ASSERT_TRUE(golden_text.is_ok()) << golden_text.status().message();
  const json golden = json::parse(*golden_text);
  TempDir dir;
  assemble(src, golden, dir.path());
  if (HasFatalFailure()) return;
  const std::string kind = golden.value("kind", "embedding");
  if (kind == "cross-encoder")
    expect_scores(dir.str(), src, golden);
  else
    expect_embeddings(dir.str(), src, golden);
}

TEST(TinyXlmRoberta, TakesAtMost512TokensOf514Positions) {
  // RoBERTa numbers positions from pad_token_id + 1 = 2, so its 514 position
  // embeddings hold 512 tokens: the limit users may ask for, and where the
  // tokenizer cuts (the golden texts' longest reach the table's last row).
  const fs::path src = golden_root() / "tiny-xlm-roberta";
  auto golden_text = read_file((src / "golden.json").string());
  ASSERT_TRUE(golden_text.is_ok()) << golden_text.status().message();
  TempDir dir;
  assemble(src, json::parse(*golden_text), dir.path());
  if (HasFatalFailure()) return;

  EmbedderOptions options;
  options.model = dir.str();
  options.max_tokens = 513;
  auto refused = Embedder::open(options);
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("512 tokens (max_position_embeddings 514"), std::string::npos)
      << refused.status().message();

  options.max_tokens.reset();
  auto embedder = Embedder::open(options);
  ASSERT_TRUE(embedder.is_ok()) << embedder.status().message();
  EXPECT_EQ((*embedder)->info().max_tokens, 512u);
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "가 ";
  auto enc = (*embedder)->tokenizer().encode(long_text);
  ASSERT_TRUE(enc.is_ok());
  EXPECT_EQ(enc->size(), 512u);
  EXPECT_TRUE((*embedder)->embed({long_text}).is_ok());
}

TEST(TinyXlmRobertaCrossEncoder, TakesAtMost512TokensWithoutModelMaxLength) {
  // Without tokenizer_config.json's model_max_length, a cross-encoder's limit
  // is what its 514 positions hold, as for the Embedder: 512 tokens.
  const fs::path src = golden_root() / "tiny-xlm-roberta-cross-encoder";
  auto golden_text = read_file((src / "golden.json").string());
  ASSERT_TRUE(golden_text.is_ok()) << golden_text.status().message();
  TempDir dir;
  assemble(src, json::parse(*golden_text), dir.path());
  if (HasFatalFailure()) return;
  fs::remove(dir.path() / "tokenizer_config.json");

  RerankerOptions options;
  options.model = dir.str();
  options.max_tokens = 513;
  auto refused = Reranker::open(options);
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("512 tokens (max_position_embeddings 514"), std::string::npos)
      << refused.status().message();

  options.max_tokens.reset();
  auto reranker = Reranker::open(options);
  ASSERT_TRUE(reranker.is_ok()) << reranker.status().message();
  EXPECT_EQ((*reranker)->info().max_tokens, 512u);
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  auto scores = (*reranker)->score(long_text, {long_text});
  EXPECT_TRUE(scores.is_ok()) << scores.status().message();
}

INSTANTIATE_TEST_SUITE_P(Golden, TinyModel, ::testing::ValuesIn(tiny_models()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace simile
