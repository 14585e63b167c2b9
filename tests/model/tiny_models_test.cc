// Every architecture against its PyTorch reference: the tiny random-weight
// models of tests/golden/models/ (made by gen_*.py there, with token ids from
// the Hugging Face tokenizers library) loaded through the public Embedder,
// compared token by token (last hidden states) and text by text (sentence
// embeddings) to 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/architecture.h"
#include "model/config.h"
#include "model_test_util.h"
#include "simile/embedder.h"
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

// A runnable model directory: the committed files symlinked, plus the
// tokenizer files read in place from ../shared (golden.json "tokenizer" and
// "shared_files", each linked under its own base name). A "tokenizer_patch"
// replaces top-level keys of the tokenizer.json (the model's own
// post-processor, say), which is then written rather than linked.
void assemble(const fs::path& src, const json& golden, const fs::path& dest) {
  static const char* kGoldenFiles[] = {"golden.json", "hidden.npy", "embeddings.npy"};
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), src);
    if (std::any_of(std::begin(kGoldenFiles), std::end(kGoldenFiles), [&](const char* f) { return rel == f; }))
      continue;
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

double max_abs_diff(const float* a, const float* b, size_t n) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
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

  const auto texts = golden.at("texts").get<std::vector<std::string>>();
  const auto ids = golden.at("ids").get<std::vector<std::vector<int32_t>>>();
  ASSERT_EQ(texts.size(), ids.size());
  auto hidden = npy_read_file((src / "hidden.npy").string());
  auto expected = npy_read_file((src / "embeddings.npy").string());
  ASSERT_TRUE(hidden.is_ok() && expected.is_ok());

  EmbedderOptions options;
  options.model = dir.str();
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

  // Last hidden states of every token, all texts in one packed batch.
  auto model = describe_model(dir.str());
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  auto files = WeightFiles::open(model->encoder_dir);
  ASSERT_TRUE(files.is_ok()) << files.status().message();
  auto encoder = load_encoder(*model, **files);
  ASSERT_TRUE(encoder.is_ok()) << encoder.status().message();
  TokenBatch batch;
  for (const auto& x : ids) {
    batch.ids.insert(batch.ids.end(), x.begin(), x.end());
    batch.offsets.push_back(batch.ids.size());
  }
  batch.type_ids.assign(batch.ids.size(), 0);
  const size_t H = model->encoder.hidden_size;
  ASSERT_EQ(hidden->rows, batch.tokens());
  ASSERT_EQ(hidden->cols, H);
  std::vector<float> out(batch.tokens() * H);
  FloatBuffer workspace;
  ASSERT_TRUE((*encoder)->forward(batch, out.data(), workspace, 2).is_ok());
  for (size_t s = 0; s < batch.sequences(); ++s) {
    const size_t first = batch.offsets[s];
    EXPECT_LE(max_abs_diff(out.data() + first * H, hidden->data.data() + first * H, batch.length(s) * H), kTolerance)
        << "hidden states of text " << s << ": " << texts[s];
  }

  // Sentence embeddings through the public API.
  auto vectors = e.embed(texts);
  ASSERT_TRUE(vectors.is_ok()) << vectors.status().message();
  ASSERT_EQ(expected->rows, texts.size());
  ASSERT_EQ(expected->cols, e.dims());
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_LE(max_abs_diff(vectors->data() + i * e.dims(), expected->data.data() + i * e.dims(), e.dims()), kTolerance)
        << "embedding of text " << i << ": " << texts[i];
}

INSTANTIATE_TEST_SUITE_P(Golden, TinyModel, ::testing::ValuesIn(tiny_models()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace simile
