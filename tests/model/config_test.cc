#include "model/config.h"

#include <gtest/gtest.h>

#include "model/architecture.h"
#include "model/bert.h"
#include "model_test_util.h"

namespace simile {
namespace {

using testing::TempDir;
using testing::write_bytes;

const char* kMiniConfig = R"({"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384,
  "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536, "vocab_size": 30522,
  "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"})";

// A model directory with config.json, a placeholder tokenizer.json and `files`.
void make_dir(const TempDir& dir, const std::string& config,
              const std::vector<std::pair<std::string, std::string>>& files = {}) {
  write_bytes(dir.file("config.json"), config);
  write_bytes(dir.file("tokenizer.json"), "{}");
  for (const auto& [name, content] : files) write_bytes(dir.file(name), content);
}

TEST(EncoderConfig, ParsesFieldsAndDefaults) {
  auto c = parse_encoder_config(kMiniConfig);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->architecture, "BertModel");
  EXPECT_EQ(c->hidden_size, 384u);
  EXPECT_EQ(c->num_hidden_layers, 6u);
  EXPECT_EQ(c->head_dim(), 32u);
  EXPECT_EQ(c->intermediate_size, 1536u);
  EXPECT_FLOAT_EQ(c->layer_norm_eps, 1e-12f);

  auto d = parse_encoder_config(R"({"model_type": "bert"})");
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->hidden_size, 768u);  // BertConfig defaults
  EXPECT_EQ(d->architecture, "bert");
}

TEST(EncoderConfig, RejectsBadValues) {
  EXPECT_EQ(parse_encoder_config("{").status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(parse_encoder_config("{}").status().code(), Status::Code::kCorrupt);
  auto neg = parse_encoder_config(R"({"model_type": "bert", "hidden_size": -3})");
  EXPECT_EQ(neg.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(neg.status().message().find("hidden_size"), std::string::npos);
  auto heads = parse_encoder_config(R"({"model_type": "bert", "hidden_size": 100, "num_attention_heads": 12})");
  EXPECT_EQ(heads.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(heads.status().message().find("multiple"), std::string::npos);
}

TEST(DescribeModel, SentenceTransformersDefaultsWhenFilesAreMissing) {
  TempDir dir;
  make_dir(dir, kMiniConfig, {{"tokenizer_config.json", R"({"model_max_length": 128})"}});
  auto m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->pipeline.pooling, Pooling::kMean);
  EXPECT_FALSE(m->pipeline.normalize);
  EXPECT_EQ(m->max_tokens, 128u);  // min(model_max_length, max_position_embeddings)
  ASSERT_NE(m->architecture, nullptr);
  EXPECT_STREQ(m->architecture->family, "bert");

  // The "unlimited" placeholder of tokenizer_config.json leaves the position limit.
  write_bytes(dir.file("tokenizer_config.json"), R"({"model_max_length": 1000000000000000019884624838656})");
  m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->max_tokens, 512u);
}

TEST(DescribeModel, ReadsTheSentenceTransformersFiles) {
  TempDir dir;
  make_dir(
      dir, kMiniConfig,
      {{"modules.json", R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])"},
       {"1_Pooling/config.json", R"({"word_embedding_dimension": 384, "pooling_mode_cls_token": true,
                "pooling_mode_mean_tokens": false, "include_prompt": false})"},
       {"sentence_bert_config.json", R"({"max_seq_length": 200, "do_lower_case": true})"},
       {"config_sentence_transformers.json",
        R"({"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"})"}});
  auto m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->pipeline.pooling, Pooling::kCls);
  EXPECT_FALSE(m->pipeline.include_prompt);
  EXPECT_TRUE(m->pipeline.normalize);
  EXPECT_TRUE(m->pipeline.do_lower_case);
  EXPECT_EQ(m->max_tokens, 200u);
  ASSERT_EQ(m->pipeline.prompts.size(), 2u);
  EXPECT_EQ(m->pipeline.default_prompt_name, "query");

  // The newer "pooling_mode" string.
  write_bytes(dir.file("1_Pooling/config.json"), R"({"pooling_mode": "lasttoken"})");
  m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->pipeline.pooling, Pooling::kLastToken);

  // max_seq_length beyond the position table is clamped to it.
  write_bytes(dir.file("sentence_bert_config.json"), R"({"max_seq_length": 4096})");
  m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->max_tokens, 512u);
}

TEST(DescribeModel, PoolingConfigErrors) {
  TempDir dir;
  const char* modules = R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
                            {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])";
  make_dir(dir, kMiniConfig, {{"modules.json", modules}});
  auto m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kCorrupt) << m.status().message();  // 1_Pooling/config.json missing

  write_bytes(dir.file("1_Pooling/config.json"),
              R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true})");
  m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(m.status().message().find("several pooling modes"), std::string::npos) << m.status().message();

  write_bytes(dir.file("1_Pooling/config.json"), R"({"pooling_mode_weightedmean_tokens": true})");
  EXPECT_EQ(describe_model(dir.str()).status().code(), Status::Code::kUnsupported);

  write_bytes(dir.file("1_Pooling/config.json"),
              R"({"word_embedding_dimension": 768, "pooling_mode_mean_tokens": true})");
  m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(m.status().message().find("768"), std::string::npos) << m.status().message();
}

TEST(DescribeModel, UnsupportedModulesAndArchitectures) {
  TempDir dir;
  make_dir(dir, kMiniConfig,
           {{"modules.json", R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
      {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
      {"path": "2_LSTM", "type": "sentence_transformers.models.LSTM"}])"},
            {"1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true})"}});
  auto m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(m.status().message().find("LSTM"), std::string::npos) << m.status().message();

  TempDir t5;
  make_dir(t5, R"({"architectures": ["T5EncoderModel"], "model_type": "t5", "d_model": 512})");
  m = describe_model(t5.str());
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(m.status().message().find("T5EncoderModel"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("BertModel"), std::string::npos) << m.status().message();

  TempDir act;
  make_dir(act, R"({"model_type": "bert", "hidden_act": "relu"})");
  m = describe_model(act.str());
  EXPECT_EQ(m.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(m.status().message().find("relu"), std::string::npos) << m.status().message();
}

TEST(DescribeModel, MissingFiles) {
  TempDir dir;
  auto m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kNotFound);
  EXPECT_NE(m.status().message().find("config.json"), std::string::npos) << m.status().message();

  write_bytes(dir.file("config.json"), kMiniConfig);
  m = describe_model(dir.str());
  EXPECT_EQ(m.status().code(), Status::Code::kNotFound);
  EXPECT_NE(m.status().message().find("tokenizer.json"), std::string::npos) << m.status().message();

  EXPECT_EQ(describe_model(dir.file("nope")).status().code(), Status::Code::kNotFound);
  write_bytes(dir.file("tokenizer.json"), "{}");
  write_bytes(dir.file("modules.json"), "{not json");
  EXPECT_EQ(describe_model(dir.str()).status().code(), Status::Code::kCorrupt);
}

TEST(LoadEncoderWeights, ChecksEveryShapeAgainstTheConfig) {
  // A one-layer BERT with hidden 8, 2 heads, FFN 16, 10 words, 4 positions,
  // built tensor by tensor from the table itself; then one tensor is wrong.
  auto config = parse_encoder_config(R"({"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1,
      "num_attention_heads": 2, "intermediate_size": 16, "vocab_size": 10, "max_position_embeddings": 4,
      "type_vocab_size": 2})");
  ASSERT_TRUE(config.is_ok());
  const Architecture& arch = bert_architecture();
  auto dims = [&](const TensorSpec& spec) {
    std::vector<uint64_t> shape;
    for (Dim d : spec.shape)
      shape.push_back(d == Dim::kHidden         ? 8
                      : d == Dim::kIntermediate ? 16
                      : d == Dim::kVocab        ? 10
                      : d == Dim::kPositions    ? 4
                                                : 2);
    return shape;
  };
  auto build = [&](const std::string& prefix, const std::string& broken) {
    std::vector<testing::FakeTensor> tensors;
    auto add = [&](const TensorSpec& spec) {
      std::string name = prefix + spec.name;
      if (auto at = name.find("{}"); at != std::string::npos) name = name.substr(0, at) + "0" + name.substr(at + 2);
      auto shape = dims(spec);
      if (name == prefix + broken) shape[0] += 1;
      uint64_t n = 1;
      for (auto d : shape) n *= d;
      tensors.push_back({name, "F32", shape, testing::raw_bytes(std::vector<float>(n, 0.5f))});
    };
    for (const auto& s : arch.embedding_tensors) add(s);
    for (const auto& s : arch.layer_tensors) add(s);
    return testing::make_safetensors(tensors);
  };
  TempDir dir;
  for (const std::string prefix : {"", "bert."}) {
    write_bytes(dir.file("w.safetensors"), build(prefix, ""));
    auto files = WeightFiles::open(dir.file("w.safetensors"));
    ASSERT_TRUE(files.is_ok());
    auto w = load_encoder_weights(arch, *config, **files);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    EXPECT_EQ(w->layers.size(), 1u);
    EXPECT_EQ(w->embeddings[0][79], 0.5f);
    // One buffer, in table order: word embeddings first, layer tensors after.
    EXPECT_EQ(w->embeddings[1], w->embeddings[0] + 80);
    EXPECT_GT(w->layers[0][0], w->embeddings.back());
  }
  write_bytes(dir.file("w.safetensors"), build("", "encoder.layer.0.intermediate.dense.weight"));
  auto files = WeightFiles::open(dir.file("w.safetensors"));
  ASSERT_TRUE(files.is_ok());
  auto w = load_encoder_weights(arch, *config, **files);
  EXPECT_EQ(w.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(w.status().message().find("encoder.layer.0.intermediate.dense.weight' in"), std::string::npos)
      << w.status().message();
  EXPECT_NE(w.status().message().find("[17, 8]"), std::string::npos) << w.status().message();
  EXPECT_NE(w.status().message().find("[16, 8]"), std::string::npos) << w.status().message();

  write_bytes(dir.file("w.safetensors"),
              testing::make_safetensors({{"something.else", "F32", {1}, std::string(4, '\0')}}));
  files = WeightFiles::open(dir.file("w.safetensors"));
  ASSERT_TRUE(files.is_ok());
  w = load_encoder_weights(arch, *config, **files);
  EXPECT_EQ(w.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(w.status().message().find("embeddings.word_embeddings.weight"), std::string::npos);
}

}  // namespace
}  // namespace simile
