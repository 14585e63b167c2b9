#include "model/architecture.h"

#include <algorithm>
#include <cstring>

#include "model/bert.h"
#include "model/mpnet.h"
#include "model/roberta.h"
#include "model/decoder.h"
#include "util/check.h"

namespace simile {

namespace {

// RobertaConfig's and XLMRobertaConfig's pad_token_id when config.json has none.
constexpr int64_t kDefaultPadTokenId = 1;

size_t dim_value(Dim d, const EncoderConfig& c) {
  switch (d) {
    case Dim::kHidden:
      return c.hidden_size;
    case Dim::kIntermediate:
      return c.intermediate_size;
    case Dim::kVocab:
      return c.vocab_size;
    case Dim::kPositions:
      return c.max_position_embeddings;
    case Dim::kTokenTypes:
      return c.type_vocab_size;
    case Dim::kHeads:
      return c.num_attention_heads;
    case Dim::kRelativeBuckets:
      return c.relative_attention_num_buckets;
    case Dim::kQueryWidth:
      return c.num_attention_heads * c.head_dim();
    case Dim::kKeyValueWidth:
      return c.kv_heads() * c.head_dim();
    case Dim::kHeadDim:
      return c.head_dim();
  }
  return 0;
}

const char* dim_field(Dim d) {
  switch (d) {
    case Dim::kHidden:
      return "hidden_size";
    case Dim::kIntermediate:
      return "intermediate_size";
    case Dim::kVocab:
      return "vocab_size";
    case Dim::kPositions:
      return "max_position_embeddings";
    case Dim::kTokenTypes:
      return "type_vocab_size";
    case Dim::kHeads:
      return "num_attention_heads";
    case Dim::kRelativeBuckets:
      return "relative_attention_num_buckets";
    case Dim::kQueryWidth:
      return "num_attention_heads * head_dim";
    case Dim::kKeyValueWidth:
      return "num_key_value_heads * head_dim";
    case Dim::kHeadDim:
      return "head_dim";
  }
  return "?";
}

std::string tensor_name(const char* prefix, const char* pattern, size_t layer) {
  std::string name = std::string(prefix) + pattern;
  size_t at = name.find("{}");
  if (at != std::string::npos) name.replace(at, 2, std::to_string(layer));
  return name;
}

bool contains(const std::vector<const char*>& list, const std::string& value) {
  return std::any_of(list.begin(), list.end(), [&](const char* s) { return value == s; });
}

std::string join(const std::vector<const char*>& list) {
  std::string out;
  for (const char* s : list) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

std::string supported_list() {
  std::string out;
  for (const auto& a : architectures())
    out += (out.empty() ? "" : "; ") + std::string(a.family) + " (model_type " + join(a.model_types) + ": " +
           join(a.class_names) + ")";
  return out;
}

// Finds one tensor and checks its shape against the config.
Result<const TensorView*> find_checked(const TensorSpec& spec, const std::string& name, const EncoderConfig& config,
                                       const WeightFiles& files) {
  const TensorView* t = files.find(name);
  if (t == nullptr) return Status::corrupt("the weights have no tensor '" + name + "'");
  std::vector<uint64_t> expected;
  std::string fields;
  for (Dim d : spec.shape) {
    expected.push_back(dim_value(d, config));
    std::string field = std::string(dim_field(d)) + " " + std::to_string(dim_value(d, config));
    if (fields.find(field) == std::string::npos) fields += (fields.empty() ? "" : ", ") + field;
  }
  if (t->shape != expected) {
    TensorView want;
    want.shape = expected;
    return Status::corrupt("tensor '" + name + "' in " + *t->file + " has shape " + t->shape_string() +
                           ", but config.json (" + fields + ") implies " + want.shape_string());
  }
  return t;
}

}  // namespace

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> kArchitectures = {
      bert_architecture(),    roberta_architecture(), mpnet_architecture(), llama_architecture(),
      mistral_architecture(), qwen2_architecture(),   qwen3_architecture(),
  };
  return kArchitectures;
}

Result<const Architecture*> find_architecture(const EncoderConfig& config) {
  for (const auto& a : architectures()) {
    bool match = config.model_type.empty() ? contains(a.class_names, config.architecture)
                                           : contains(a.model_types, config.model_type);
    if (!match) continue;
    if (!contains(a.hidden_acts, config.hidden_act))
      return Status::unsupported("hidden_act '" + config.hidden_act + "' is not supported for " + a.family +
                                 " (supported: " + join(a.hidden_acts) + ")");
    if (config.position_embedding_type != "absolute")
      return Status::unsupported("position_embedding_type '" + config.position_embedding_type +
                                 "' is not supported for " + a.family + " (only absolute)");
    if (a.position_ids == PositionIds::kAfterPadToken) {
      const int64_t pad = config.pad_token_id.value_or(kDefaultPadTokenId);
      if (pad < 0)
        return Status::unsupported("pad_token_id " + std::to_string(pad) + " is not supported for " + a.family +
                                   ", which numbers positions from pad_token_id + 1");
      if (static_cast<uint64_t>(pad) + 1 >= config.max_position_embeddings)
        return Status::corrupt("config.json: " + std::string(a.family) +
                               " numbers positions from pad_token_id + 1 = " + std::to_string(pad + 1) +
                               ", past max_position_embeddings " + std::to_string(config.max_position_embeddings));
    }
    if (max_text_tokens(a, config) == 0)
      return Status::corrupt("config.json: max_position_embeddings " + std::to_string(config.max_position_embeddings) +
                             " leaves no position for text");
    if (a.check_config != nullptr) SIMILE_RETURN_IF_ERROR(a.check_config(config));
    return &a;
  }
  return Status::unsupported("architecture " + config.architecture +
                             (config.model_type.empty() ? "" : " (model_type '" + config.model_type + "')") +
                             " is not supported; simile runs these encoders: " + supported_list());
}

std::optional<int32_t> padding_index(const Architecture& arch, const EncoderConfig& config) {
  switch (arch.position_ids) {
    case PositionIds::kFromZero:
      return std::nullopt;
    case PositionIds::kAfterPadToken:
      return static_cast<int32_t>(config.pad_token_id.value_or(kDefaultPadTokenId));
    case PositionIds::kAfterOne:
      return 1;
  }
  return std::nullopt;
}

size_t max_text_tokens(const Architecture& arch, const EncoderConfig& config) {
  const std::optional<int32_t> pad = padding_index(arch, config);
  const size_t skipped = pad ? static_cast<size_t>(*pad) + 1 : 0;
  return config.max_position_embeddings > skipped ? config.max_position_embeddings - skipped : 0;
}

std::string describe_max_text_tokens(const Architecture& arch, const EncoderConfig& config) {
  const std::string tokens = std::to_string(max_text_tokens(arch, config)) + " tokens";
  const std::optional<int32_t> pad = padding_index(arch, config);
  if (!pad) return tokens + " (max_position_embeddings)";
  return tokens + " (max_position_embeddings " + std::to_string(config.max_position_embeddings) + ", of which " +
         arch.family + " numbers text from " + std::to_string(*pad + 1) + ")";
}

Result<EncoderWeights> load_encoder_weights(const Architecture& arch, const EncoderConfig& config,
                                            const WeightFiles& files) {
  // The prefix is whatever makes the first embedding tensor's name resolve
  // ("bert." in checkpoints saved from BertForMaskedLM and the like).
  const char* prefix = nullptr;
  for (const char* p : arch.weight_prefixes)
    if (files.find(tensor_name(p, arch.embedding_tensors[0].name, 0)) != nullptr) {
      prefix = p;
      break;
    }
  if (prefix == nullptr) {
    std::string tried;
    for (const char* p : arch.weight_prefixes)
      tried += (tried.empty() ? "'" : ", '") + tensor_name(p, arch.embedding_tensors[0].name, 0) + "'";
    return Status::corrupt(std::string("the weights are not a ") + arch.family + " encoder: no tensor " + tried);
  }

  // Find and check every tensor first, then read them all into one buffer.
  std::vector<const TensorView*> tensors;
  size_t total = 0;
  auto add = [&](const TensorSpec& spec, size_t layer) -> Status {
    if (spec.present != nullptr && !spec.present(config)) {
      tensors.push_back(nullptr);
      return Status::ok();
    }
    SIMILE_ASSIGN_OR_RETURN(const TensorView* t,
                            find_checked(spec, tensor_name(prefix, spec.name, layer), config, files));
    tensors.push_back(t);
    total += static_cast<size_t>(t->numel());
    return Status::ok();
  };
  for (const TensorSpec& spec : arch.embedding_tensors) SIMILE_RETURN_IF_ERROR(add(spec, 0));
  for (size_t l = 0; l < config.num_hidden_layers; ++l)
    for (const TensorSpec& spec : arch.layer_tensors) SIMILE_RETURN_IF_ERROR(add(spec, l));

  EncoderWeights w;
  w.arena.reset(total);
  std::vector<const float*> at(tensors.size());
  float* dst = w.arena.data();
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i] == nullptr) {
      at[i] = nullptr;
      continue;
    }
    SIMILE_RETURN_IF_ERROR(WeightFiles::read_f32(*tensors[i], dst));
    at[i] = dst;
    dst += tensors[i]->numel();
  }
  const size_t ne = arch.embedding_tensors.size(), nl = arch.layer_tensors.size();
  w.embeddings.assign(at.begin(), at.begin() + static_cast<long>(ne));
  for (size_t l = 0; l < config.num_hidden_layers; ++l)
    w.layers.emplace_back(at.begin() + static_cast<long>(ne + l * nl),
                          at.begin() + static_cast<long>(ne + (l + 1) * nl));
  return w;
}

std::string weight_dtype(const Architecture& arch, const WeightFiles& files) {
  for (const char* p : arch.weight_prefixes)
    if (const TensorView* t = files.find(tensor_name(p, arch.embedding_tensors[0].name, 0)))
      return dtype_name(t->dtype);
  return "";
}

Result<std::unique_ptr<Encoder>> load_encoder(const ModelDescription& model, const WeightFiles& files) {
  SIMILE_CHECK(model.architecture != nullptr);
  auto weights = load_encoder_weights(*model.architecture, model.encoder, files);
  if (!weights.is_ok()) return weights.status().with_context(model.dir);
  return model.architecture->make(model.encoder, std::move(weights).value());
}

}  // namespace simile
