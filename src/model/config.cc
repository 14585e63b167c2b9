#include "model/config.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/architecture.h"
#include "model/model_tokenizer.h"
#include "util/file_util.h"

namespace simile {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Reads a JSON file that may be absent (nullopt), or fails on bad JSON.
template <typename Json = json>
Result<std::optional<Json>> read_optional_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Json>();
  SIMILE_ASSIGN_OR_RETURN(std::string text, read_file(path.string()));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::corrupt(path.string() + " is not valid JSON");
  return std::optional<Json>(std::move(j));
}

// A positive integer field, or the default when absent.
Status read_count(const json& j, const char* key, size_t* out, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_number_unsigned() || it->get<uint64_t>() == 0)
    return Status::corrupt(file + ": \"" + key + "\" must be a positive integer, not " + it->dump());
  *out = static_cast<size_t>(it->get<uint64_t>());
  return Status::ok();
}

template <typename Json>
Status read_string(const Json& j, const char* key, std::string* out, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return Status::corrupt(file + ": \"" + key + "\" must be a string, not " + it->dump());
  *out = it->template get<std::string>();
  return Status::ok();
}

Status read_bool(const json& j, const char* key, bool* out, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_boolean()) return Status::corrupt(file + ": \"" + key + "\" must be true or false, not " + it->dump());
  *out = it->get<bool>();
  return Status::ok();
}

// A non-negative number field, or the default when absent.
template <typename T>
Status read_number(const json& j, const char* key, T* out, const std::string& file, bool positive) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_number() || it->get<double>() < 0 || (positive && it->get<double>() == 0))
    return Status::corrupt(file + ": \"" + key + "\" must be a " + (positive ? "positive" : "non-negative") +
                           " number, not " + it->dump());
  *out = static_cast<T>(it->get<double>());
  return Status::ok();
}

// The rotary embedding's type and base: "rope_theta" and "rope_scaling"
// (transformers 4), or "rope_parameters" (transformers 5, which holds both).
Status parse_rope(const json& j, const std::string& file, EncoderConfig* c) {
  SIMILE_RETURN_IF_ERROR(read_number(j, "rope_theta", &c->rope_theta, file, /*positive=*/true));
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) return Status::corrupt(file + ": \"" + key + "\" must be an object, not " + it->dump());
    for (const auto& [name, value] : it->items())
      if (value.is_object())
        return Status::unsupported(file + ": \"" + key + "\" sets rotary embeddings per layer type ('" + name +
                                   "'); simile supports one rotary embedding for all layers");
    SIMILE_RETURN_IF_ERROR(read_number(*it, "rope_theta", &c->rope_theta, file + " " + key, /*positive=*/true));
    std::string type;
    SIMILE_RETURN_IF_ERROR(read_string(*it, "type", &type, file));
    SIMILE_RETURN_IF_ERROR(read_string(*it, "rope_type", &type, file));
    if (type.empty() && std::string(key) == "rope_scaling")
      return Status::corrupt(file + ": \"rope_scaling\" names no \"rope_type\"");
    if (!type.empty()) c->rope_type = type;
  }
  return Status::ok();
}

// What transformers' LlamaConfig, MistralConfig, Qwen2Config and Qwen3Config
// give the fields a config.json leaves out (kv_heads 0: num_attention_heads;
// head_dim 0: hidden_size / num_attention_heads).
struct DecoderDefaults {
  const char* model_type;
  size_t hidden, intermediate, layers, heads, kv_heads, head_dim, vocab, positions;
};
constexpr DecoderDefaults kDecoderDefaults[] = {
    {"llama", 4096, 11008, 32, 32, 0, 0, 32000, 2048},
    {"mistral", 4096, 14336, 32, 32, 8, 0, 32000, 131072},
    {"qwen2", 4096, 22016, 32, 32, 32, 0, 151936, 32768},
    {"qwen3", 4096, 22016, 32, 32, 32, 128, 151936, 32768},
};

void apply_decoder_defaults(EncoderConfig* c) {
  for (const DecoderDefaults& d : kDecoderDefaults) {
    if (c->model_type != d.model_type) continue;
    c->hidden_size = d.hidden;
    c->intermediate_size = d.intermediate;
    c->num_hidden_layers = d.layers;
    c->num_attention_heads = d.heads;
    c->num_key_value_heads = d.kv_heads;
    c->explicit_head_dim = d.head_dim;
    c->vocab_size = d.vocab;
    c->max_position_embeddings = d.positions;
    c->hidden_act = "silu";
  }
}

// The fields of decoder-only models (config.h lists them).
Status parse_decoder_fields(const json& j, const std::string& file, EncoderConfig* c) {
  SIMILE_RETURN_IF_ERROR(read_count(j, "num_key_value_heads", &c->num_key_value_heads, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "head_dim", &c->explicit_head_dim, file));
  SIMILE_RETURN_IF_ERROR(read_number(j, "rms_norm_eps", &c->rms_norm_eps, file, /*positive=*/false));
  SIMILE_RETURN_IF_ERROR(parse_rope(j, file, c));
  SIMILE_RETURN_IF_ERROR(read_bool(j, "attention_bias", &c->attention_bias, file));
  SIMILE_RETURN_IF_ERROR(read_bool(j, "mlp_bias", &c->mlp_bias, file));
  SIMILE_RETURN_IF_ERROR(read_bool(j, "is_causal", &c->is_causal, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "sliding_window", &c->sliding_window, file));
  SIMILE_RETURN_IF_ERROR(read_bool(j, "use_sliding_window", &c->use_sliding_window, file));
  SIMILE_RETURN_IF_ERROR(read_number(j, "max_window_layers", &c->max_window_layers, file, /*positive=*/false));
  auto types = j.find("layer_types");
  if (types != j.end() && !types->is_null()) {
    if (!types->is_array()) return Status::corrupt(file + ": \"layer_types\" must be a list of strings");
    for (const json& t : *types) {
      if (!t.is_string()) return Status::corrupt(file + ": \"layer_types\" must be a list of strings");
      c->layer_types.push_back(t.get<std::string>());
    }
  }
  if (c->kv_heads() > c->num_attention_heads || c->num_attention_heads % c->kv_heads() != 0)
    return Status::corrupt(file + ": num_attention_heads " + std::to_string(c->num_attention_heads) +
                           " is not a multiple of num_key_value_heads " + std::to_string(c->kv_heads()));
  return Status::ok();
}

// 1_Pooling/config.json: either the newer "pooling_mode" string or one
// pooling_mode_* flag set.
Status parse_pooling_config(const json& j, const std::string& file, size_t hidden_size, PipelineConfig* out) {
  if (!j.is_object()) return Status::corrupt(file + " is not a JSON object");
  size_t dim = 0;
  SIMILE_RETURN_IF_ERROR(read_count(j, "word_embedding_dimension", &dim, file));
  if (dim != 0 && dim != hidden_size)
    return Status::corrupt(file + ": word_embedding_dimension " + std::to_string(dim) +
                           " does not match config.json hidden_size " + std::to_string(hidden_size));
  SIMILE_RETURN_IF_ERROR(read_bool(j, "include_prompt", &out->include_prompt, file));

  static const std::pair<const char*, std::optional<Pooling>> kFlags[] = {
      {"pooling_mode_cls_token", Pooling::kCls},       {"pooling_mode_mean_tokens", Pooling::kMean},
      {"pooling_mode_max_tokens", Pooling::kMax},      {"pooling_mode_mean_sqrt_len_tokens", Pooling::kMeanSqrtLen},
      {"pooling_mode_lasttoken", Pooling::kLastToken}, {"pooling_mode_weightedmean_tokens", std::nullopt},
  };
  std::string mode_name;
  SIMILE_RETURN_IF_ERROR(read_string(j, "pooling_mode", &mode_name, file));
  if (!mode_name.empty()) {
    static const std::pair<const char*, std::optional<Pooling>> kNames[] = {
        {"cls", Pooling::kCls},
        {"mean", Pooling::kMean},
        {"max", Pooling::kMax},
        {"mean_sqrt_len_tokens", Pooling::kMeanSqrtLen},
        {"lasttoken", Pooling::kLastToken},
        {"weightedmean", std::nullopt},
    };
    for (const auto& [name, mode] : kNames)
      if (mode_name == name) {
        if (!mode) return Status::unsupported(file + ": pooling mode '" + mode_name + "' is not supported");
        out->pooling = *mode;
        return Status::ok();
      }
    return Status::unsupported(file + ": unknown pooling mode '" + mode_name + "'");
  }
  std::vector<std::string> set;
  for (const auto& [flag, mode] : kFlags) {
    bool on = false;
    SIMILE_RETURN_IF_ERROR(read_bool(j, flag, &on, file));
    if (!on) continue;
    if (!mode) return Status::unsupported(file + ": " + flag + " is not supported");
    set.push_back(flag);
    out->pooling = *mode;
  }
  if (set.empty()) return Status::corrupt(file + " enables no pooling mode");
  if (set.size() > 1)
    return Status::unsupported(file + " concatenates several pooling modes (" + set[0] + ", " + set[1] +
                               "); simile supports exactly one");
  return Status::ok();
}

// A Dense module's config.json: {in_features, out_features, bias,
// activation_function}. Its input must be what the module before it gives.
Status parse_dense_config(const json& j, const std::string& file, size_t input_dims, DenseConfig* out) {
  if (!j.is_object()) return Status::corrupt(file + " is not a JSON object");
  SIMILE_RETURN_IF_ERROR(read_count(j, "in_features", &out->in_features, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "out_features", &out->out_features, file));
  if (out->in_features == 0 || out->out_features == 0)
    return Status::corrupt(file + " must give in_features and out_features");
  if (out->in_features != input_dims)
    return Status::corrupt(file + ": in_features " + std::to_string(out->in_features) +
                           " does not match the " + std::to_string(input_dims) + " values the module before it gives");
  SIMILE_RETURN_IF_ERROR(read_bool(j, "bias", &out->bias, file));
  std::string activation = "torch.nn.modules.activation.Tanh";  // Dense's default
  SIMILE_RETURN_IF_ERROR(read_string(j, "activation_function", &activation, file));
  auto parsed = parse_activation(activation);
  if (!parsed.is_ok()) return parsed.status().with_context(file);
  out->activation = *parsed;
  return Status::ok();
}

}  // namespace

Result<EncoderConfig> parse_encoder_config(const std::string& json_text) {
  const std::string file = "config.json";
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt(file + " is not a JSON object");
  EncoderConfig c;
  SIMILE_RETURN_IF_ERROR(read_string(j, "model_type", &c.model_type, file));
  auto arch = j.find("architectures");
  if (arch != j.end() && arch->is_array() && !arch->empty() && (*arch)[0].is_string())
    c.architecture = (*arch)[0].get<std::string>();
  if (c.model_type.empty() && c.architecture.empty())
    return Status::corrupt(file + " names neither a model_type nor architectures");
  if (c.architecture.empty()) c.architecture = c.model_type;
  apply_decoder_defaults(&c);
  SIMILE_RETURN_IF_ERROR(read_count(j, "hidden_size", &c.hidden_size, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "num_hidden_layers", &c.num_hidden_layers, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "num_attention_heads", &c.num_attention_heads, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "intermediate_size", &c.intermediate_size, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "vocab_size", &c.vocab_size, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "max_position_embeddings", &c.max_position_embeddings, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "type_vocab_size", &c.type_vocab_size, file));
  SIMILE_RETURN_IF_ERROR(read_string(j, "hidden_act", &c.hidden_act, file));
  SIMILE_RETURN_IF_ERROR(read_string(j, "position_embedding_type", &c.position_embedding_type, file));
  SIMILE_RETURN_IF_ERROR(read_count(j, "relative_attention_num_buckets", &c.relative_attention_num_buckets, file));
  // Any integer, unchecked here: only the architectures that number positions
  // from it judge it (some BERT configs carry -1 or null).
  if (auto pad = j.find("pad_token_id"); pad != j.end() && pad->is_number_integer())
    c.pad_token_id = pad->get<int64_t>();
  auto eps = j.find("layer_norm_eps");
  if (eps != j.end() && !eps->is_null()) {
    if (!eps->is_number() || eps->get<double>() < 0)
      return Status::corrupt(file + ": layer_norm_eps must be a non-negative number");
    c.layer_norm_eps = static_cast<float>(eps->get<double>());
  }
  SIMILE_RETURN_IF_ERROR(parse_decoder_fields(j, file, &c));
  if (c.explicit_head_dim == 0 && c.hidden_size % c.num_attention_heads != 0)
    return Status::corrupt(file + ": hidden_size " + std::to_string(c.hidden_size) +
                           " is not a multiple of num_attention_heads " + std::to_string(c.num_attention_heads));
  return c;
}

Result<ModelDescription> describe_model(const std::string& dir_arg) {
  std::error_code ec;
  fs::path dir = fs::absolute(dir_arg, ec);
  if (ec || !fs::is_directory(dir, ec)) return Status::not_found("model directory " + dir_arg + " does not exist");
  ModelDescription m;
  m.dir = dir.lexically_normal().string();
  if (!m.dir.empty() && m.dir.size() > 1 && m.dir.back() == '/') m.dir.pop_back();

  // modules.json: where the Transformer and Pooling modules live, and whether
  // a Normalize module follows.
  fs::path transformer_dir = dir;
  fs::path pooling_dir;
  std::vector<fs::path> dense_dirs;
  bool has_modules = false;
  {
    const std::string file = (dir / "modules.json").string();
    SIMILE_ASSIGN_OR_RETURN(auto modules, read_optional_json(dir / "modules.json"));
    if (modules) {
      has_modules = true;
      if (!modules->is_array()) return Status::corrupt(file + " is not a JSON array");
      for (const json& module : *modules) {
        if (!module.is_object()) return Status::corrupt(file + " lists a module that is not an object");
        std::string type, path;
        SIMILE_RETURN_IF_ERROR(read_string(module, "type", &type, file));
        SIMILE_RETURN_IF_ERROR(read_string(module, "path", &path, file));
        if (path.find("..") != std::string::npos || (!path.empty() && path[0] == '/'))
          return Status::corrupt(file + " names module path '" + path + "' outside the model directory");
        std::string kind = type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
        if (kind == "Transformer")
          transformer_dir = dir / path;
        else if (kind == "Pooling")
          pooling_dir = dir / path;
        else if (kind == "Normalize")
          m.pipeline.normalize = true;
        else if (kind == "Dense" && (pooling_dir.empty() || m.pipeline.normalize))
          // simile runs Pooling, then the Dense modules, then Normalize.
          return Status::unsupported(file + " puts a Dense module " +
                                     (pooling_dir.empty() ? "before Pooling" : "after Normalize") +
                                     "; simile supports Dense modules between Pooling and Normalize");
        else if (kind == "Dense")
          dense_dirs.push_back(dir / path);
        else
          return Status::unsupported(m.dir + ": sentence-transformers module " + type +
                                     " is not supported (simile runs Transformer, Pooling, Dense, Normalize)");
      }
      if (pooling_dir.empty())
        return Status::unsupported(file + " has no Pooling module, so the model gives no sentence embedding");
    }
  }
  m.encoder_dir = transformer_dir.lexically_normal().string();
  if (m.encoder_dir.size() > 1 && m.encoder_dir.back() == '/') m.encoder_dir.pop_back();

  // config.json
  const fs::path config_path = transformer_dir / "config.json";
  if (!fs::exists(config_path, ec)) return Status::not_found("model directory " + m.dir + " has no config.json");
  SIMILE_ASSIGN_OR_RETURN(std::string config_text, read_file(config_path.string()));
  auto config = parse_encoder_config(config_text);
  if (!config.is_ok()) return config.status().with_context(m.dir);
  m.encoder = std::move(config).value();
  auto arch = find_architecture(m.encoder);
  if (!arch.is_ok()) return arch.status().with_context(m.dir);
  m.architecture = arch.value();
  // tokenizer.json is what the fast tokenizers use; a SentencePiece file is
  // the slow tokenizers' fallback (Tokenizer::from_file reads either).
  const char* const kTokenizerFiles[] = {"tokenizer.json", "sentencepiece.bpe.model", "spiece.model",
                                         "tokenizer.model"};
  m.tokenizer_file.clear();
  for (const char* name : kTokenizerFiles) {
    if (fs::exists(transformer_dir / name, ec)) {
      m.tokenizer_file = name;
      break;
    }
  }
  if (m.tokenizer_file.empty())
    return Status::not_found("model directory " + m.encoder_dir +
                             " has no tokenizer.json (nor a SentencePiece sentencepiece.bpe.model, "
                             "spiece.model or tokenizer.model)");

  // Pooling.
  if (has_modules) {
    const fs::path file = pooling_dir / "config.json";
    SIMILE_ASSIGN_OR_RETURN(auto pooling, read_optional_json(file));
    if (!pooling)
      return Status::corrupt("modules.json of " + m.dir + " has a Pooling module but " + file.string() + " is missing");
    SIMILE_RETURN_IF_ERROR(parse_pooling_config(*pooling, file.string(), m.encoder.hidden_size, &m.pipeline));
  }

  // Dense modules (weights are loaded with the model).
  for (const fs::path& dense_dir : dense_dirs) {
    const fs::path file = dense_dir / "config.json";
    SIMILE_ASSIGN_OR_RETURN(auto dense, read_optional_json(file));
    if (!dense)
      return Status::corrupt("modules.json of " + m.dir + " has a Dense module but " + file.string() + " is missing");
    DenseConfig d;
    d.dir = dense_dir.lexically_normal().string();
    SIMILE_RETURN_IF_ERROR(parse_dense_config(*dense, file.string(), m.output_dims(), &d));
    m.pipeline.dense.push_back(std::move(d));
  }

  // sentence_bert_config.json: max_seq_length, do_lower_case.
  {
    const fs::path file = transformer_dir / "sentence_bert_config.json";
    SIMILE_ASSIGN_OR_RETURN(auto sbert, read_optional_json(file));
    if (sbert) {
      if (!sbert->is_object()) return Status::corrupt(file.string() + " is not a JSON object");
      size_t max_len = 0;
      SIMILE_RETURN_IF_ERROR(read_count(*sbert, "max_seq_length", &max_len, file.string()));
      if (max_len > 0) m.pipeline.max_seq_length = max_len;
      SIMILE_RETURN_IF_ERROR(read_bool(*sbert, "do_lower_case", &m.pipeline.do_lower_case, file.string()));
    }
  }

  // tokenizer_config.json: model_max_length (often a 1e30 "unlimited" placeholder).
  {
    SIMILE_ASSIGN_OR_RETURN(auto tok, read_optional_json(transformer_dir / "tokenizer_config.json"));
    if (tok && tok->is_object()) {
      auto it = tok->find("model_max_length");
      if (it != tok->end() && it->is_number() && it->get<double>() >= 1 && it->get<double>() < 1e9)
        m.pipeline.tokenizer_max_length = static_cast<size_t>(it->get<double>());
    }
  }

  // tokenizer_config.json: the special tokens transformers adds.
  {
    auto bos_eos = read_bos_eos_template(transformer_dir.string());
    if (!bos_eos.is_ok()) return bos_eos.status().with_context(m.dir);
    m.pipeline.bos_eos = std::move(bos_eos).value();
  }

  // config_sentence_transformers.json: prompts.
  {
    // Ordered: prompts are listed as the file lists them.
    const fs::path file = dir / "config_sentence_transformers.json";
    SIMILE_ASSIGN_OR_RETURN(auto st, read_optional_json<nlohmann::ordered_json>(file));
    if (st && st->is_object()) {
      auto prompts = st->find("prompts");
      if (prompts != st->end() && prompts->is_object())
        for (auto it = prompts->begin(); it != prompts->end(); ++it) {
          if (!it.value().is_string())
            return Status::corrupt(file.string() + ": prompt '" + it.key() + "' is not a string");
          m.pipeline.prompts.emplace_back(it.key(), it.value().get<std::string>());
        }
      SIMILE_RETURN_IF_ERROR(read_string(*st, "default_prompt_name", &m.pipeline.default_prompt_name, file.string()));
      // As sentence-transformers refuses it at load time.
      const std::string& name = m.pipeline.default_prompt_name;
      if (!name.empty() && std::none_of(m.pipeline.prompts.begin(), m.pipeline.prompts.end(),
                                        [&](const auto& p) { return p.first == name; }))
        return Status::corrupt(file.string() + ": default_prompt_name '" + name + "' is not one of its prompts");
    }
  }

  // Tokens per text, as sentence-transformers decides it; never more than the
  // position table holds (RoBERTa's 514 positions hold 512 tokens).
  const size_t positions_hold = max_text_tokens(*m.architecture, m.encoder);
  size_t max_tokens = positions_hold;
  if (m.pipeline.max_seq_length)
    max_tokens = *m.pipeline.max_seq_length;
  else if (m.pipeline.tokenizer_max_length)
    max_tokens = std::min(max_tokens, *m.pipeline.tokenizer_max_length);
  m.max_tokens = std::min(max_tokens, positions_hold);
  return m;
}

}  // namespace simile
