// Cross-encoder heads: config.json's classifier fields as sentence-transformers
// reads them, and each head entry's tensors and math against a scalar
// computation (the RoBERTa-family head has no encoder here yet to run it end
// to end; tests/golden/models/tiny-bert-cross-encoder covers BERT's).
#include "model/sequence_classifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model_test_util.h"

namespace simile {
namespace {

using testing::FakeTensor;
using testing::make_safetensors;
using testing::raw_bytes;
using testing::TempDir;
using testing::write_bytes;

ClassifierConfig parse_or_die(const std::string& json) {
  auto c = parse_classifier_config(json);
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  return c.is_ok() ? *c : ClassifierConfig();
}

TEST(ClassifierConfig, LabelsAndActivationAsCrossEncoderReadsThem) {
  EXPECT_EQ(parse_or_die(R"({"id2label": {"0": "LABEL_0"}})").num_labels, 1u);
  auto nli = parse_or_die(R"({"id2label": {"2": "neutral", "0": "contradiction", "1": "entailment"}})");
  EXPECT_EQ(nli.num_labels, 3u);
  EXPECT_EQ(nli.labels, (std::vector<std::string>{"contradiction", "entailment", "neutral"}));
  EXPECT_EQ(parse_or_die(R"({"num_labels": 1})").num_labels, 1u);
  EXPECT_EQ(parse_or_die(R"({})").num_labels, 2u);  // transformers' default

  // Sigmoid for one label, Identity otherwise, unless the file says.
  EXPECT_EQ(default_score_activation(parse_or_die(R"({"num_labels": 1})")), Activation::kSigmoid);
  EXPECT_EQ(default_score_activation(parse_or_die(R"({})")), Activation::kIdentity);
  EXPECT_EQ(default_score_activation(parse_or_die(
                R"({"num_labels": 1, "sentence_transformers": {"activation_fn": "torch.nn.modules.linear.Identity"}})")),
            Activation::kIdentity);
  // Before sentence-transformers 4 (e.g. the ms-marco cross-encoders).
  EXPECT_EQ(default_score_activation(parse_or_die(
                R"({"num_labels": 1, "sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity"})")),
            Activation::kIdentity);
  EXPECT_EQ(default_score_activation(parse_or_die(
                R"({"id2label": {"0": "a", "1": "b"}, "sentence_transformers": {"activation_fn": "torch.nn.Tanh"}})")),
            Activation::kTanh);
  // A path outside torch needs trust_remote_code: CrossEncoder falls back to its default.
  EXPECT_EQ(default_score_activation(
                parse_or_die(R"({"num_labels": 1, "sentence_transformers": {"activation_fn": "my.module.Act"}})")),
            Activation::kSigmoid);

  auto unknown = parse_classifier_config(R"({"sentence_transformers": {"activation_fn": "torch.nn.Softsign"}})");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(unknown.status().message().find("Softsign"), std::string::npos) << unknown.status().message();
  EXPECT_FALSE(parse_classifier_config(R"({"id2label": {"1": "x"}})").is_ok());
  EXPECT_FALSE(parse_classifier_config(R"({"num_labels": 0})").is_ok());
}

struct HeadCase {
  const char* architecture;
  const char* dense;
  const char* out;
};

class HeadTest : public ::testing::TestWithParam<HeadCase> {};

// logits = out(tanh(dense(h))) on random weights, against doubles.
TEST_P(HeadTest, MatchesAScalarComputation) {
  const size_t h = 6, labels = 2, rows = 3;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
  };
  const auto dw = random(h * h), db = random(h), ow = random(labels * h), ob = random(labels), x = random(rows * h);
  const std::string dense = GetParam().dense, out = GetParam().out;
  TempDir dir;
  write_bytes(dir.file("model.safetensors"),
              make_safetensors({{dense + ".weight", "F32", {h, h}, raw_bytes(dw)},
                                {dense + ".bias", "F32", {h}, raw_bytes(db)},
                                {out + ".weight", "F32", {labels, h}, raw_bytes(ow)},
                                {out + ".bias", "F32", {labels}, raw_bytes(ob)}}));
  auto files = WeightFiles::open(dir.str());
  ASSERT_TRUE(files.is_ok()) << files.status().message();
  EncoderConfig encoder;
  encoder.architecture = GetParam().architecture;
  encoder.hidden_size = h;
  ClassifierConfig classifier;
  classifier.num_labels = labels;
  auto head = SequenceClassifier::load(encoder, classifier, **files);
  ASSERT_TRUE(head.is_ok()) << head.status().message();
  ASSERT_EQ((*head)->num_labels(), labels);

  std::vector<float> scratch(rows * h), logits(rows * labels);
  (*head)->logits(x.data(), rows, scratch.data(), logits.data());
  for (size_t r = 0; r < rows; ++r) {
    std::vector<double> t(h);
    for (size_t i = 0; i < h; ++i) {
      double acc = db[i];
      for (size_t j = 0; j < h; ++j) acc += double(dw[i * h + j]) * x[r * h + j];
      t[i] = std::tanh(acc);
    }
    for (size_t l = 0; l < labels; ++l) {
      double acc = ob[l];
      for (size_t j = 0; j < h; ++j) acc += double(ow[l * h + j]) * t[j];
      EXPECT_NEAR(logits[r * labels + l], acc, 1e-5) << "row " << r << " label " << l;
    }
  }

  // Misshapen: the labels of config.json must be the output layer's rows.
  classifier.num_labels = 1;
  auto wrong = SequenceClassifier::load(encoder, classifier, **files);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_EQ(wrong.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(wrong.status().message().find(out + ".weight"), std::string::npos) << wrong.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Heads, HeadTest,
    ::testing::Values(HeadCase{"BertForSequenceClassification", "bert.pooler.dense", "classifier"},
                      HeadCase{"RobertaForSequenceClassification", "classifier.dense", "classifier.out_proj"},
                      HeadCase{"XLMRobertaForSequenceClassification", "classifier.dense", "classifier.out_proj"},
                      HeadCase{"MPNetForSequenceClassification", "classifier.dense", "classifier.out_proj"}),
    [](const ::testing::TestParamInfo<HeadCase>& info) { return std::string(info.param.architecture); });

TEST(SequenceClassifier, ModelsWithoutAHeadAreNamed) {
  TempDir dir;
  write_bytes(dir.file("model.safetensors"),
              make_safetensors({{"x", "F32", {1}, raw_bytes(std::vector<float>{0})}}));
  auto files = WeightFiles::open(dir.str());
  ASSERT_TRUE(files.is_ok());
  EncoderConfig encoder;
  ClassifierConfig classifier;
  encoder.architecture = "BertModel";
  auto plain = SequenceClassifier::load(encoder, classifier, **files);
  ASSERT_FALSE(plain.is_ok());
  EXPECT_EQ(plain.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(plain.status().message().find("not a cross-encoder"), std::string::npos) << plain.status().message();

  encoder.architecture = "ElectraForSequenceClassification";
  auto other = SequenceClassifier::load(encoder, classifier, **files);
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(other.status().message().find("BertForSequenceClassification"), std::string::npos)
      << other.status().message();

  encoder.architecture = "BertForSequenceClassification";
  auto missing = SequenceClassifier::load(encoder, classifier, **files);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("bert.pooler.dense.weight"), std::string::npos)
      << missing.status().message();
}

TEST(Activation, ParsesTorchClassesAndShortNames) {
  EXPECT_EQ(*parse_activation("torch.nn.modules.activation.Tanh"), Activation::kTanh);
  EXPECT_EQ(*parse_activation("torch.nn.Tanh"), Activation::kTanh);
  EXPECT_EQ(*parse_activation("torch.nn.modules.linear.Identity"), Activation::kIdentity);
  EXPECT_EQ(*parse_activation("sigmoid"), Activation::kSigmoid);
  EXPECT_FALSE(parse_activation("Tanh").is_ok());
  EXPECT_FALSE(parse_activation("torch.nn.modules.activation.Softsign").is_ok());
  float x[] = {-1.0f, 0.0f, 2.0f};
  apply_activation(Activation::kSigmoid, x, 3);
  EXPECT_NEAR(x[0], 1.0 / (1.0 + std::exp(1.0)), 1e-7);
  EXPECT_FLOAT_EQ(x[1], 0.5f);
  float y[] = {-1.0f, 0.5f};
  apply_activation(Activation::kReLU, y, 2);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.5f);
}

}  // namespace
}  // namespace simile
