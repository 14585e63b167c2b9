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

namespace {

// The weight prefix of these files: whatever makes the first embedding
// tensor's name resolve ("bert." in checkpoints saved from BertForMaskedLM
// and the like).
Result<const char*> find_weight_prefix(const Architecture& arch, const WeightFiles& files) {
  for (const char* p : arch.weight_prefixes)
    if (files.find(tensor_name(p, arch.embedding_tensors[0].name, 0)) != nullptr) return p;
  std::string tried;
  for (const char* p : arch.weight_prefixes)
    tried += (tried.empty() ? "'" : ", '") + tensor_name(p, arch.embedding_tensors[0].name, 0) + "'";
  return Status::corrupt(std::string("the weights are not a ") + arch.family + " encoder: no tensor " + tried);
}

bool is_int8_tensor(const Architecture& arch, size_t layer_tensor) {
  return std::find(arch.int8_layer_tensors.begin(), arch.int8_layer_tensors.end(), layer_tensor) !=
         arch.int8_layer_tensors.end();
}

}  // namespace

Result<EncoderWeights> load_encoder_weights(const Architecture& arch, const EncoderConfig& config,
                                            const WeightFiles& files, Int8Tensors int8) {
  SIMILE_ASSIGN_OR_RETURN(const char* prefix, find_weight_prefix(arch, files));

  // Find and check every tensor first, then read them all into one buffer.
  // Tensors held in int8 are checked too, but get no room in the buffer.
  std::vector<const TensorView*> tensors;
  std::vector<bool> quantized;
  size_t total = 0;
  auto add = [&](const TensorSpec& spec, size_t layer, bool in_int8) -> Status {
    if (spec.present != nullptr && !spec.present(config)) {
      tensors.push_back(nullptr);
      quantized.push_back(false);
      return Status::ok();
    }
    SIMILE_ASSIGN_OR_RETURN(const TensorView* t,
                            find_checked(spec, tensor_name(prefix, spec.name, layer), config, files));
    tensors.push_back(t);
    quantized.push_back(in_int8);
    if (!in_int8) total += static_cast<size_t>(t->numel());
    return Status::ok();
  };
  for (const TensorSpec& spec : arch.embedding_tensors) SIMILE_RETURN_IF_ERROR(add(spec, 0, false));
  for (size_t l = 0; l < config.num_hidden_layers; ++l)
    for (size_t i = 0; i < arch.layer_tensors.size(); ++i)
      SIMILE_RETURN_IF_ERROR(add(arch.layer_tensors[i], l, int8 != Int8Tensors::kFp32 && is_int8_tensor(arch, i)));

  EncoderWeights w;
  w.arena.reset(total);
  const size_t ne = arch.embedding_tensors.size(), nl = arch.layer_tensors.size();
  if (int8 != Int8Tensors::kFp32) w.int8_layers.assign(config.num_hidden_layers, std::vector<QuantizedMatrix>(nl));
  std::vector<const float*> at(tensors.size());
  std::vector<float> one;  // a tensor being quantised
  float* dst = w.arena.data();
  for (size_t i = 0; i < tensors.size(); ++i) {
    at[i] = nullptr;
    if (tensors[i] == nullptr) continue;
    if (quantized[i]) {
      if (int8 == Int8Tensors::kQuantize) {
        const TensorView& t = *tensors[i];
        one.resize(static_cast<size_t>(t.numel()));
        SIMILE_RETURN_IF_ERROR(WeightFiles::read_f32(t, one.data()));
        w.int8_layers[(i - ne) / nl][(i - ne) % nl] =
            quantize_weights(one.data(), static_cast<size_t>(t.shape[0]), static_cast<size_t>(t.numel() / t.shape[0]));
      }
      continue;
    }
    SIMILE_RETURN_IF_ERROR(WeightFiles::read_f32(*tensors[i], dst));
    at[i] = dst;
    dst += tensors[i]->numel();
  }
  w.embeddings.assign(at.begin(), at.begin() + static_cast<long>(ne));
  for (size_t l = 0; l < config.num_hidden_layers; ++l)
    w.layers.emplace_back(at.begin() + static_cast<long>(ne + l * nl),
                          at.begin() + static_cast<long>(ne + (l + 1) * nl));
  return w;
}

Result<std::vector<std::vector<std::string>>> int8_tensor_names(const Architecture& arch,
                                                                const EncoderConfig& config,
                                                                const WeightFiles& files) {
  SIMILE_ASSIGN_OR_RETURN(const char* prefix, find_weight_prefix(arch, files));
  std::vector<std::vector<std::string>> names(config.num_hidden_layers);
  for (size_t l = 0; l < config.num_hidden_layers; ++l)
    for (size_t i : arch.int8_layer_tensors) names[l].push_back(tensor_name(prefix, arch.layer_tensors[i].name, l));
  return names;
}

std::string weight_dtype(const Architecture& arch, const WeightFiles& files) {
  for (const char* p : arch.weight_prefixes)
    if (const TensorView* t = files.find(tensor_name(p, arch.embedding_tensors[0].name, 0)))
      return dtype_name(t->dtype);
  return "";
}

namespace {

// EncoderWeights::int8_layers from the cache file when it is sound and
// matches the model's tensors; else why not.
Result<std::vector<std::vector<QuantizedMatrix>>> read_int8_layers(const Architecture& arch,
                                                                   const EncoderConfig& config,
                                                                   const WeightFiles& files, const std::string& path,
                                                                   const std::string& fingerprint) {
  SIMILE_ASSIGN_OR_RETURN(auto names, int8_tensor_names(arch, config, files));
  SIMILE_ASSIGN_OR_RETURN(std::vector<QuantizedTensor> cached, read_int8_cache(path, fingerprint));
  const size_t per_layer = arch.int8_layer_tensors.size();
  if (cached.size() != names.size() * per_layer)
    return Status::corrupt("it holds " + std::to_string(cached.size()) + " tensors, the model " +
                           std::to_string(names.size() * per_layer));
  std::vector<std::vector<QuantizedMatrix>> layers(config.num_hidden_layers,
                                                   std::vector<QuantizedMatrix>(arch.layer_tensors.size()));
  for (size_t l = 0; l < names.size(); ++l)
    for (size_t j = 0; j < per_layer; ++j) {
      QuantizedTensor& t = cached[l * per_layer + j];
      const TensorView* fp32 = files.find(names[l][j]);
      if (t.name != names[l][j] || fp32 == nullptr || fp32->shape.size() != 2 || fp32->shape[0] != t.matrix.rows ||
          fp32->shape[1] != t.matrix.cols)
        return Status::corrupt("tensor " + t.name + " does not match the model's " + names[l][j]);
      layers[l][arch.int8_layer_tensors[j]] = std::move(t.matrix);
    }
  return layers;
}

std::vector<QuantizedTensor> int8_tensors_of(const Architecture& arch, const EncoderWeights& weights,
                                            const std::vector<std::vector<std::string>>& names) {
  std::vector<QuantizedTensor> out;
  for (size_t l = 0; l < names.size(); ++l)
    for (size_t j = 0; j < arch.int8_layer_tensors.size(); ++j)
      out.push_back({names[l][j], weights.int8_layers[l][arch.int8_layer_tensors[j]]});
  return out;
}

// The int8 weights: from the cache file, else quantised now and saved.
Result<EncoderWeights> load_int8_weights(const ModelDescription& model, const WeightFiles& files, ModelInfo& info) {
  const Architecture& arch = *model.architecture;
  const std::string path = int8_cache_path(info.name, info.fingerprint);
  info.int8_cache_path = path;
  auto cached = read_int8_layers(arch, model.encoder, files, path, info.fingerprint);
  if (cached.is_ok()) {
    SIMILE_ASSIGN_OR_RETURN(EncoderWeights weights,
                            load_encoder_weights(arch, model.encoder, files, Int8Tensors::kLeaveOut));
    weights.int8_layers = std::move(cached).value();
    info.int8_cache_load = "loaded";
    return weights;
  }
  SIMILE_ASSIGN_OR_RETURN(EncoderWeights weights,
                          load_encoder_weights(arch, model.encoder, files, Int8Tensors::kQuantize));
  const Status& why = cached.status();
  info.int8_cache_load = why.code() == Status::Code::kNotFound ? "built" : "rebuilt (" + why.message() + ")";
  SIMILE_ASSIGN_OR_RETURN(auto names, int8_tensor_names(arch, model.encoder, files));
  // Not being able to save is no reason to fail: the next open quantises again.
  Status saved = write_int8_cache(path, info.fingerprint, int8_tensors_of(arch, weights, names));
  if (!saved.is_ok()) info.int8_cache_load += ", not saved (" + saved.message() + ")";
  return weights;
}

}  // namespace

Result<std::unique_ptr<Encoder>> load_encoder(const ModelDescription& model, const WeightFiles& files,
                                              InferenceDtype dtype, ModelInfo* info) {
  SIMILE_CHECK(model.architecture != nullptr);
  const Architecture& arch = *model.architecture;
  if (dtype == InferenceDtype::kInt8) {
    SIMILE_CHECK(info != nullptr);
    if (arch.int8_layer_tensors.empty())
      return Status::unsupported("model " + model.dir + ": int8 inference is not implemented for " + arch.family +
                                 " models (use --dtype fp32)");
    auto weights = load_int8_weights(model, files, *info);
    if (!weights.is_ok()) return weights.status().with_context(model.dir);
    info->inference_dtype = InferenceDtype::kInt8;
    info->fingerprint = dtype_fingerprint(info->fingerprint, InferenceDtype::kInt8);
    return arch.make(model.encoder, std::move(weights).value());
  }
  auto weights = load_encoder_weights(arch, model.encoder, files);
  if (!weights.is_ok()) return weights.status().with_context(model.dir);
  return arch.make(model.encoder, std::move(weights).value());
}

}  // namespace simile
