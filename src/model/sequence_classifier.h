// Sequence-classification heads: what turns an encoder into a cross-encoder
// (a *ForSequenceClassification model scoring a (query, document) pair).
//
// Heads are data, like encoders (architecture.h): a table entry names the
// config.json "architectures" classes it covers and its tensors. The math is
// the same for every entry, on the first token's last hidden state h
// ([CLS] / <s>), with dropout off:
//
//   logits = out(tanh(dense(h)))
//
//   BERT                    dense = bert.pooler.dense   out = classifier
//   RoBERTa, XLM-R, MPNet   dense = classifier.dense    out = classifier.out_proj
//
// Heads are separate from encoders, so a new encoder family gets its
// cross-encoders by adding its head entry here.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/activation.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "simile/status.h"

namespace simile {

// The classifier fields of config.json.
struct ClassifierConfig {
  size_t num_labels = 2;            // len(id2label), else "num_labels", else 2 (transformers' default)
  std::vector<std::string> labels;  // id2label by id, when given
  // What sentence-transformers' CrossEncoder applies to the logits, when the
  // file says: "sentence_transformers": {"activation_fn": ...}, or the older
  // "sbert_ce_default_activation_function". Unset: the CrossEncoder default
  // (Sigmoid for one label, else Identity).
  std::optional<Activation> activation;
};

// Parses the classifier fields of config.json. Activation paths outside
// torch are ignored, as CrossEncoder ignores them without trust_remote_code.
Result<ClassifierConfig> parse_classifier_config(const std::string& json_text);

// The CrossEncoder default for a config: its activation, else Sigmoid for one
// label, else Identity.
Activation default_score_activation(const ClassifierConfig& config);

class SequenceClassifier {
 public:
  // The head of the model class config.architecture, its tensors checked
  // against the config. Errors: invalid_argument when the model is not a
  // sequence classifier at all, unsupported for a class without a head entry,
  // corrupt for missing or misshapen tensors.
  static Result<std::unique_ptr<SequenceClassifier>> load(const EncoderConfig& encoder,
                                                          const ClassifierConfig& classifier,
                                                          const WeightFiles& files);

  size_t num_labels() const { return num_labels_; }

  // out[r * num_labels + l]: the logits of `rows` first-token vectors
  // (rows x hidden_size, row-major). `scratch` holds rows * hidden_size
  // floats. Thread-safe.
  void logits(const float* first_tokens, size_t rows, float* scratch, float* out) const;

 private:
  SequenceClassifier() = default;
  size_t hidden_ = 0;
  size_t num_labels_ = 0;
  std::vector<float> dense_weight_, dense_bias_;  // [hidden, hidden], [hidden]
  std::vector<float> out_weight_, out_bias_;      // [num_labels, hidden], [num_labels]
};

}  // namespace simile
