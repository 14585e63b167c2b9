#include "model/sequence_classifier.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "model/kernels/gemm.h"

namespace simile {

namespace {

using json = nlohmann::json;

struct HeadEntry {
  std::vector<const char*> class_names;  // config.json "architectures" values
  const char* dense;                     // tensor name prefix of the tanh layer
  const char* out;                       // tensor name prefix of the output layer
};

const std::vector<HeadEntry>& heads() {
  static const std::vector<HeadEntry> kHeads = {
      {{"BertForSequenceClassification"}, "bert.pooler.dense", "classifier"},
      {{"RobertaForSequenceClassification", "XLMRobertaForSequenceClassification",
        "CamembertForSequenceClassification", "MPNetForSequenceClassification"},
       "classifier.dense",
       "classifier.out_proj"},
  };
  return kHeads;
}

std::string supported_classes() {
  std::string out;
  for (const HeadEntry& h : heads())
    for (const char* c : h.class_names) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<ClassifierConfig> parse_classifier_config(const std::string& json_text) {
  const std::string file = "config.json";
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt(file + " is not a JSON object");
  ClassifierConfig c;
  auto id2label = j.find("id2label");
  auto num_labels = j.find("num_labels");
  if (id2label != j.end() && id2label->is_object() && !id2label->empty()) {
    c.num_labels = id2label->size();
    c.labels.assign(c.num_labels, "");
    for (auto it = id2label->begin(); it != id2label->end(); ++it) {
      char* end = nullptr;
      const unsigned long id = std::strtoul(it.key().c_str(), &end, 10);
      if (end == it.key().c_str() || *end != '\0' || id >= c.num_labels || !it.value().is_string())
        return Status::corrupt(file + ": id2label must map the ids 0.." + std::to_string(c.num_labels - 1) +
                               " to names, not " + id2label->dump());
      c.labels[id] = it.value().get<std::string>();
    }
  } else if (num_labels != j.end() && !num_labels->is_null()) {
    if (!num_labels->is_number_unsigned() || num_labels->get<uint64_t>() == 0)
      return Status::corrupt(file + ": num_labels must be a positive integer, not " + num_labels->dump());
    c.num_labels = static_cast<size_t>(num_labels->get<uint64_t>());
  }

  // Where sentence-transformers >= 4 keeps the activation, then where older
  // versions did.
  std::string path;
  auto st = j.find("sentence_transformers");
  if (st != j.end() && st->is_object() && st->contains("activation_fn") && (*st)["activation_fn"].is_string())
    path = (*st)["activation_fn"].get<std::string>();
  else if (j.contains("sbert_ce_default_activation_function") && j["sbert_ce_default_activation_function"].is_string())
    path = j["sbert_ce_default_activation_function"].get<std::string>();
  if (path.rfind("torch.", 0) == 0) {
    auto a = parse_activation(path);
    if (!a.is_ok()) return a.status().with_context(file);
    c.activation = *a;
  }
  return c;
}

Activation default_score_activation(const ClassifierConfig& config) {
  if (config.activation) return *config.activation;
  return config.num_labels == 1 ? Activation::kSigmoid : Activation::kIdentity;
}

Result<std::unique_ptr<SequenceClassifier>> SequenceClassifier::load(const EncoderConfig& encoder,
                                                                     const ClassifierConfig& classifier,
                                                                     const WeightFiles& files) {
  const std::string& cls = encoder.architecture;
  const HeadEntry* entry = nullptr;
  for (const HeadEntry& h : heads())
    for (const char* name : h.class_names)
      if (cls == name) entry = &h;
  if (entry == nullptr && !ends_with(cls, "ForSequenceClassification"))
    return Status::invalid_argument("not a cross-encoder: config.json names architecture " + cls +
                                    ", not a *ForSequenceClassification model (supported: " + supported_classes() +
                                    ")");
  if (entry == nullptr)
    return Status::unsupported("the classification head of " + cls + " is not supported (supported: " +
                               supported_classes() + ")");

  std::unique_ptr<SequenceClassifier> head(new SequenceClassifier());
  const size_t h = encoder.hidden_size, l = classifier.num_labels;
  head->hidden_ = h;
  head->num_labels_ = l;
  const std::string dense = entry->dense, out = entry->out;
  const std::string hidden_what = "config.json hidden_size " + std::to_string(h);
  const std::string labels_what = hidden_what + " and " + std::to_string(l) + " labels (id2label / num_labels)";
  SIMILE_ASSIGN_OR_RETURN(head->dense_weight_, files.read_f32_checked(dense + ".weight", {h, h}, hidden_what));
  SIMILE_ASSIGN_OR_RETURN(head->dense_bias_, files.read_f32_checked(dense + ".bias", {h}, hidden_what));
  SIMILE_ASSIGN_OR_RETURN(head->out_weight_, files.read_f32_checked(out + ".weight", {l, h}, labels_what));
  SIMILE_ASSIGN_OR_RETURN(head->out_bias_, files.read_f32_checked(out + ".bias", {l}, labels_what));
  return head;
}

void SequenceClassifier::logits(const float* first_tokens, size_t rows, float* scratch, float* out) const {
  const size_t h = hidden_, l = num_labels_;
  kernels::gemm_nt(rows, h, h, first_tokens, h, dense_weight_.data(), h, scratch, h);
  for (size_t r = 0; r < rows; ++r) {
    float* x = scratch + r * h;
    for (size_t c = 0; c < h; ++c) x[c] = std::tanh(x[c] + dense_bias_[c]);
  }
  kernels::gemm_nt(rows, l, h, scratch, h, out_weight_.data(), h, out, l);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < l; ++c) out[r * l + c] += out_bias_[c];
}

}  // namespace simile
