#include "model/config.h"

#include <gtest/gtest.h>

#include "model/architecture.h"
#include "model/bert.h"
#include "model/mpnet.h"
#include "model/roberta.h"
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

TEST(DescribeModel, SentencePieceFileWhenThereIsNoTokenizerJson) {
  TempDir dir;
  write_bytes(dir.file("config.json"), kMiniConfig);
  write_bytes(dir.file("spiece.model"), "");
  auto m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->tokenizer_file, "spiece.model");
  EXPECT_EQ(m->tokenizer_path(), m->encoder_dir + "/spiece.model");

  // tokenizer.json wins when both are there.
  write_bytes(dir.file("tokenizer.json"), "{}");
  m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->tokenizer_file, "tokenizer.json");
}

// config.json of the one-layer encoders of the weight tests: hidden 8, 2
// heads, FFN 16, 10 words, 4 positions, 2 token types, 32 relative buckets.
std::string small_config(const std::string& model_type) {
  return R"({"model_type": ")" + model_type + R"(", "hidden_size": 8, "num_hidden_layers": 1,
      "num_attention_heads": 2, "intermediate_size": 16, "vocab_size": 10, "max_position_embeddings": 4,
      "type_vocab_size": 2, "pad_token_id": 1})";
}

uint64_t small_dim(Dim d) {
  switch (d) {
    case Dim::kHidden:
      return 8;
    case Dim::kIntermediate:
      return 16;
    case Dim::kVocab:
      return 10;
    case Dim::kPositions:
      return 4;
    case Dim::kTokenTypes:
    case Dim::kHeads:
      return 2;
    case Dim::kRelativeBuckets:
      return 32;
    case Dim::kQueryWidth:
    case Dim::kKeyValueWidth:
      return 8;  // 2 heads of 4 (no grouping)
    case Dim::kHeadDim:
      return 4;
  }
  return 0;
}

// A safetensors file of every tensor of `arch` for small_config(), under
// `prefix`, built from the table itself; the tensor named `broken` (if any)
// gets one row too many.
std::string small_weights(const Architecture& arch, const std::string& prefix, const std::string& broken) {
  std::vector<testing::FakeTensor> tensors;
  auto add = [&](const TensorSpec& spec) {
    std::string name = prefix + spec.name;
    if (auto at = name.find("{}"); at != std::string::npos) name = name.substr(0, at) + "0" + name.substr(at + 2);
    std::vector<uint64_t> shape;
    for (Dim d : spec.shape) shape.push_back(small_dim(d));
    if (name == prefix + broken) shape[0] += 1;
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    tensors.push_back({name, "F32", shape, testing::raw_bytes(std::vector<float>(n, 0.5f))});
  };
  for (const auto& s : arch.embedding_tensors) add(s);
  for (const auto& s : arch.layer_tensors) add(s);
  return testing::make_safetensors(tensors);
}

TEST(LoadEncoderWeights, ChecksEveryShapeAgainstTheConfig) {
  // A one-layer BERT; then one tensor is wrong.
  auto config = parse_encoder_config(small_config("bert"));
  ASSERT_TRUE(config.is_ok());
  const Architecture& arch = bert_architecture();
  auto build = [&](const std::string& prefix, const std::string& broken) {
    return small_weights(arch, prefix, broken);
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

TEST(LoadEncoderWeights, LoadsRobertaAndMpnetCheckpoints) {
  struct Case {
    const Architecture* arch;
    const char* model_type;
    const char* prefix;
  };
  TempDir dir;
  for (const Case& c :
       {Case{&roberta_architecture(), "roberta", ""}, Case{&roberta_architecture(), "xlm-roberta", "roberta."},
        Case{&mpnet_architecture(), "mpnet", ""}, Case{&mpnet_architecture(), "mpnet", "mpnet."}}) {
    auto config = parse_encoder_config(small_config(c.model_type));
    ASSERT_TRUE(config.is_ok());
    write_bytes(dir.file("w.safetensors"), small_weights(*c.arch, c.prefix, ""));
    auto files = WeightFiles::open(dir.file("w.safetensors"));
    ASSERT_TRUE(files.is_ok());
    auto w = load_encoder_weights(*c.arch, *config, **files);
    ASSERT_TRUE(w.is_ok()) << c.model_type << " " << c.prefix << ": " << w.status().message();
  }

  // MPNet's relative position bias is [relative_attention_num_buckets, heads].
  auto config = parse_encoder_config(small_config("mpnet"));
  ASSERT_TRUE(config.is_ok());
  write_bytes(dir.file("w.safetensors"),
              small_weights(mpnet_architecture(), "", "encoder.relative_attention_bias.weight"));
  auto files = WeightFiles::open(dir.file("w.safetensors"));
  ASSERT_TRUE(files.is_ok());
  auto w = load_encoder_weights(mpnet_architecture(), *config, **files);
  EXPECT_EQ(w.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(w.status().message().find("relative_attention_num_buckets 32, num_attention_heads 2"), std::string::npos)
      << w.status().message();
}

TEST(Encoder, RefusesTextsLongerThanThePositionTableHolds) {
  // 4 positions: BERT takes 4 tokens, RoBERTa (numbering from pad_token_id +
  // 1 = 2) and MPNet (from 2) take 2.
  struct Case {
    const Architecture* arch;
    const char* model_type;
    size_t takes;
  };
  TempDir dir;
  for (const Case& c : {Case{&bert_architecture(), "bert", 4}, Case{&roberta_architecture(), "roberta", 2},
                        Case{&mpnet_architecture(), "mpnet", 2}}) {
    auto config = parse_encoder_config(small_config(c.model_type));
    ASSERT_TRUE(config.is_ok());
    EXPECT_EQ(max_text_tokens(*c.arch, *config), c.takes) << c.model_type;
    write_bytes(dir.file("w.safetensors"), small_weights(*c.arch, "", ""));
    auto files = WeightFiles::open(dir.file("w.safetensors"));
    ASSERT_TRUE(files.is_ok());
    auto w = load_encoder_weights(*c.arch, *config, **files);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    auto encoder = c.arch->make(*config, std::move(w).value());
    for (size_t n : {c.takes, c.takes + 1}) {
      TokenBatch batch;
      batch.ids.assign(n, 5);
      batch.type_ids.assign(n, 0);
      batch.offsets.push_back(n);
      std::vector<float> out(n * 8);
      FloatBuffer workspace;
      Status st = encoder->forward(batch, out.data(), workspace, 1);
      if (n == c.takes) {
        EXPECT_TRUE(st.is_ok()) << c.model_type << ": " << st.message();
      } else {
        EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << c.model_type;
        EXPECT_NE(st.message().find(describe_max_text_tokens(*c.arch, *config)), std::string::npos) << st.message();
      }
    }
  }
}

TEST(DescribeModel, RobertaXlmRobertaAndMpnet) {
  const std::string roberta = R"({"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
      "max_position_embeddings": 514, "pad_token_id": 1, "type_vocab_size": 1, "vocab_size": 250002})";
  TempDir dir;
  make_dir(dir, roberta);
  auto m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_STREQ(m->architecture->family, "roberta");
  // 514 positions, numbered from 2: 512 tokens, with or without a larger ask.
  EXPECT_EQ(m->max_tokens, 512u);
  EXPECT_EQ(describe_max_text_tokens(*m->architecture, m->encoder),
            "512 tokens (max_position_embeddings 514, of which roberta numbers text from 2)");
  write_bytes(dir.file("sentence_bert_config.json"), R"({"max_seq_length": 514})");
  m = describe_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->max_tokens, 512u);

  // Found by class name alone, as older configs have no model_type.
  TempDir by_class;
  make_dir(by_class, R"({"architectures": ["RobertaForMaskedLM"], "max_position_embeddings": 514})");
  m = describe_model(by_class.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_STREQ(m->architecture->family, "roberta");

  // MPNet numbers positions from 2 whatever pad_token_id says.
  TempDir mpnet;
  make_dir(mpnet, R"({"architectures": ["MPNetModel"], "model_type": "mpnet", "max_position_embeddings": 514,
      "pad_token_id": 0, "relative_attention_num_buckets": 32})");
  m = describe_model(mpnet.str());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_STREQ(m->architecture->family, "mpnet");
  EXPECT_EQ(m->max_tokens, 512u);
  EXPECT_EQ(padding_index(*m->architecture, m->encoder), 1);
}

TEST(DescribeModel, UnsupportedConfigValuesAreNamed) {
  struct Case {
    const char* config;
    Status::Code code;
    std::vector<const char*> named;  // what the message must say
  };
  const Case cases[] = {
      {R"({"model_type": "bert", "position_embedding_type": "relative_key"})",
       Status::Code::kUnsupported,
       {"position_embedding_type 'relative_key'"}},
      {R"({"model_type": "roberta", "max_position_embeddings": 514, "position_embedding_type": "relative_key_query"})",
       Status::Code::kUnsupported,
       {"position_embedding_type 'relative_key_query'"}},
      {R"({"model_type": "xlm-roberta", "max_position_embeddings": 514, "hidden_act": "gelu_new"})",
       Status::Code::kUnsupported,
       {"hidden_act 'gelu_new'", "roberta", "supported: gelu"}},
      {R"({"model_type": "mpnet", "max_position_embeddings": 514, "hidden_act": "silu"})",
       Status::Code::kUnsupported,
       {"hidden_act 'silu'", "mpnet"}},
      {R"({"model_type": "mpnet", "max_position_embeddings": 514, "relative_attention_num_buckets": 16})",
       Status::Code::kUnsupported,
       {"relative_attention_num_buckets 16"}},
      {R"({"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": -1})",
       Status::Code::kUnsupported,
       {"pad_token_id -1"}},
      {R"({"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 513})",
       Status::Code::kCorrupt,
       {"pad_token_id + 1 = 514", "max_position_embeddings 514"}},
      {R"({"model_type": "mpnet", "max_position_embeddings": 2})",
       Status::Code::kCorrupt,
       {"max_position_embeddings 2"}},
  };
  for (const Case& c : cases) {
    TempDir dir;
    make_dir(dir, c.config);
    auto m = describe_model(dir.str());
    EXPECT_EQ(m.status().code(), c.code) << c.config << ": " << m.status().message();
    for (const char* what : c.named)
      EXPECT_NE(m.status().message().find(what), std::string::npos) << m.status().message();
  }

  // BERT does not number positions from the padding token: its pad_token_id
  // is not judged (some configs carry -1).
  TempDir bert;
  make_dir(bert, R"({"model_type": "bert", "pad_token_id": -1})");
  EXPECT_TRUE(describe_model(bert.str()).is_ok());
}

}  // namespace
}  // namespace simile
