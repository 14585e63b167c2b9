// Decoder-only architectures: what their config.json may say, what simile
// refuses with a message naming it, which layers get a sliding window, and
// what causal attention means for the outputs. The outputs themselves are
// compared with PyTorch in tiny_models_test.cc.
#include "model/decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "model/config.h"
#include "model_test_util.h"
#include "util/file_util.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_bytes;

// Qwen3-Embedding-0.6B's config.json, shrunk where it does not matter here.
const char* kQwen3Config = R"({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 1024,
  "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
  "head_dim": 128, "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-06,
  "rope_scaling": null, "rope_theta": 1000000, "attention_bias": false, "use_sliding_window": false,
  "sliding_window": null, "max_window_layers": 28, "tie_word_embeddings": true, "vocab_size": 151669})";

// A config.json of `model_type` with `extra` fields (JSON members, comma first).
std::string config_with(const std::string& model_type, const std::string& extra) {
  return R"({"model_type": ")" + model_type + R"(", "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
    "vocab_size": 100)" +
         extra + "}";
}

// describe_model's error for a directory holding `config`.
Status describe_error(const std::string& config) {
  TempDir dir;
  write_bytes(dir.file("config.json"), config);
  write_bytes(dir.file("tokenizer.json"), "{}");
  return describe_model(dir.str()).status();
}

TEST(DecoderConfig, ParsesQwen3Embedding) {
  auto c = parse_encoder_config(kQwen3Config);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->kv_heads(), 8u);
  EXPECT_EQ(c->head_dim(), 128u);  // explicit: 16 heads * 128 = 2048, not the hidden size
  EXPECT_FLOAT_EQ(c->rms_norm_eps, 1e-6f);
  EXPECT_EQ(c->rope_theta, 1e6);
  EXPECT_EQ(c->rope_type, "default");
  EXPECT_EQ(c->sliding_window, 0u);
  auto arch = find_architecture(*c);
  ASSERT_TRUE(arch.is_ok()) << arch.status().message();
  EXPECT_STREQ((*arch)->family, "qwen3");
}

TEST(DecoderConfig, AbsentFieldsTakeTheirFamilysDefaults) {
  auto qwen3 = parse_encoder_config(R"({"model_type": "qwen3"})");
  ASSERT_TRUE(qwen3.is_ok()) << qwen3.status().message();
  EXPECT_EQ(qwen3->head_dim(), 128u);  // Qwen3Config's, not hidden / heads
  EXPECT_EQ(qwen3->hidden_act, "silu");
  EXPECT_EQ(qwen3->vocab_size, 151936u);
  auto mistral = parse_encoder_config(R"({"model_type": "mistral", "num_attention_heads": 16})");
  ASSERT_TRUE(mistral.is_ok()) << mistral.status().message();
  EXPECT_EQ(mistral->kv_heads(), 8u);
  EXPECT_EQ(mistral->max_position_embeddings, 131072u);
  EXPECT_TRUE(find_architecture(*mistral).is_ok());
}

TEST(DecoderConfig, DefaultsAndTransformers5RopeParameters) {
  auto c = parse_encoder_config(config_with("llama", R"(, "num_key_value_heads": null)"));
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->kv_heads(), 4u);  // no grouped-query attention
  EXPECT_EQ(c->head_dim(), 8u);
  EXPECT_EQ(c->rope_theta, 10000.0);
  auto v5 = parse_encoder_config(
      config_with("mistral", R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0})"));
  ASSERT_TRUE(v5.is_ok()) << v5.status().message();
  EXPECT_EQ(v5->rope_theta, 500000.0);
  EXPECT_TRUE(find_architecture(*v5).is_ok());
}

TEST(DecoderConfig, UnsupportedPartsAreNamed) {
  struct Case {
    std::string config;
    Status::Code code;
    const char* named;
  };
  const Case cases[] = {
      {config_with("llama", R"(, "rope_scaling": {"type": "linear", "factor": 2.0})"), Status::Code::kUnsupported,
       "'linear'"},
      {config_with("qwen2", R"(, "rope_scaling": {"rope_type": "yarn", "factor": 4.0})"), Status::Code::kUnsupported,
       "'yarn'"},
      {config_with("llama", R"(, "rope_scaling": {"factor": 8.0, "rope_type": "llama3"})"), Status::Code::kUnsupported,
       "'llama3'"},
      {config_with("qwen3", R"(, "rope_parameters": {"full_attention": {"rope_theta": 1e6}})"),
       Status::Code::kUnsupported, "per layer type"},
      {config_with("llama", R"(, "hidden_act": "gelu_pytorch_tanh")"), Status::Code::kUnsupported, "gelu_pytorch_tanh"},
      {config_with("llama", R"(, "mlp_bias": true)"), Status::Code::kUnsupported, "mlp_bias"},
      {config_with("mistral", R"(, "num_key_value_heads": 3)"), Status::Code::kCorrupt, "num_key_value_heads 3"},
      {config_with("qwen3", R"(, "head_dim": 7)"), Status::Code::kCorrupt, "head_dim 7"},
      {config_with("qwen2", R"(, "use_sliding_window": true, "sliding_window": 8,
          "layer_types": ["full_attention", "chunked_attention"])"),
       Status::Code::kUnsupported, "chunked_attention"},
      {config_with("qwen2", R"(, "layer_types": ["full_attention"])"), Status::Code::kCorrupt, "layer_types"},
      {config_with("mistral", R"(, "sliding_window": 4096, "is_causal": false)"), Status::Code::kUnsupported,
       "sliding window"},
      {config_with("qwen3", R"(, "rope_scaling": {"factor": 4.0})"), Status::Code::kCorrupt, "rope_type"},
  };
  for (const Case& c : cases) {
    Status st = describe_error(c.config);
    EXPECT_EQ(st.code(), c.code) << c.config << "\n" << st.message();
    EXPECT_NE(st.message().find(c.named), std::string::npos) << st.message();
  }
  // What is supported is named too.
  Status st = describe_error(R"({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox"})");
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  for (const char* family : {"Qwen3ForCausalLM", "MistralModel", "LlamaForCausalLM", "Qwen2Model"})
    EXPECT_NE(st.message().find(family), std::string::npos) << st.message();
}

TEST(DecoderConfig, WhichLayersSlide) {
  auto window = [](const Architecture& arch, const std::string& extra) {
    auto c = parse_encoder_config(config_with(arch.model_types[0], extra));
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    std::vector<size_t> w;
    for (size_t l = 0; l < c->num_hidden_layers; ++l) w.push_back(decoder_layer_window(arch, *c, l));
    return w;
  };
  using W = std::vector<size_t>;
  // Mistral: every layer, whenever sliding_window is set.
  EXPECT_EQ(window(mistral_architecture(), R"(, "sliding_window": 4096)"), (W{4096, 4096}));
  EXPECT_EQ(window(mistral_architecture(), R"(, "sliding_window": null)"), (W{0, 0}));
  // Llama has none.
  EXPECT_EQ(window(llama_architecture(), R"(, "sliding_window": 16)"), (W{0, 0}));
  // Qwen2/3: only with use_sliding_window, from max_window_layers on, or as layer_types says.
  EXPECT_EQ(window(qwen2_architecture(), R"(, "sliding_window": 16, "max_window_layers": 1)"), (W{0, 0}));
  EXPECT_EQ(window(qwen2_architecture(), R"(, "use_sliding_window": true, "sliding_window": 16,
      "max_window_layers": 1)"),
            (W{0, 16}));
  EXPECT_EQ(window(qwen3_architecture(), R"(, "use_sliding_window": true, "sliding_window": 16,
      "max_window_layers": 0, "layer_types": ["sliding_attention", "full_attention"])"),
            (W{16, 0}));
}

// A runnable copy of tests/golden/models/tiny-mistral with config.json edited.
void tiny_mistral(const TempDir& dir, const std::function<void(nlohmann::json&)>& edit) {
  const fs::path src = fs::path(testing::source_dir()) / "tests/golden/models/tiny-mistral";
  for (const char* f : {"model.safetensors", "tokenizer_config.json"}) fs::create_symlink(src / f, dir.path() / f);
  fs::create_symlink(fs::path(testing::shared_dir()) / "tokenizers/mistral-7b/tokenizer.json",
                     dir.path() / "tokenizer.json");
  auto config = nlohmann::json::parse(*read_file((src / "config.json").string()));
  edit(config);
  write_bytes(dir.file("config.json"), config.dump());
}

// Last hidden states of two texts that share their first `shared` tokens.
std::vector<std::vector<float>> run_pair(const std::string& dir, size_t shared) {
  auto model = describe_model(dir);
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  auto files = WeightFiles::open(model->encoder_dir);
  EXPECT_TRUE(files.is_ok());
  auto encoder = load_encoder(*model, **files);
  EXPECT_TRUE(encoder.is_ok()) << encoder.status().message();
  TokenBatch batch;
  const std::vector<int32_t> a = {1, 100, 200, 300, 400, 500, 2}, b = {1, 100, 200, 300, 999, 2};
  for (const auto* ids : {&a, &b}) {
    batch.ids.insert(batch.ids.end(), ids->begin(), ids->end());
    batch.offsets.push_back(batch.ids.size());
  }
  batch.type_ids.assign(batch.ids.size(), 0);
  const size_t H = model->encoder.hidden_size;
  std::vector<float> out(batch.tokens() * H);
  FloatBuffer workspace;
  EXPECT_TRUE((*encoder)->forward(batch, out.data(), workspace, 1).is_ok());
  std::vector<std::vector<float>> rows;
  for (size_t s = 0; s < 2; ++s)
    rows.emplace_back(out.begin() + static_cast<long>(batch.offsets[s] * H),
                      out.begin() + static_cast<long>((batch.offsets[s] + shared) * H));
  return rows;
}

TEST(DecoderForward, CausalPrefixesIgnoreWhatFollows) {
  TempDir causal;
  tiny_mistral(causal, [](nlohmann::json&) {});
  auto rows = run_pair(causal.str(), 4);
  EXPECT_EQ(rows[0], rows[1]) << "a token's state must not depend on later tokens";

  // transformers >= 5.2 reads "is_causal": false as bidirectional attention.
  TempDir bidirectional;
  tiny_mistral(bidirectional, [](nlohmann::json& c) {
    c["is_causal"] = false;
    c.erase("sliding_window");
  });
  rows = run_pair(bidirectional.str(), 4);
  double diff = 0;
  for (size_t i = 0; i < rows[0].size(); ++i) diff = std::max(diff, double(std::abs(rows[0][i] - rows[1][i])));
  EXPECT_GT(diff, 1e-2);
}

}  // namespace
}  // namespace simile
