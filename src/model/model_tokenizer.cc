#include "model/model_tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/file_util.h"

namespace simile {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool llama_style(const std::string& tokenizer_class) {
  for (const char* name : {"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
                           "GemmaTokenizer", "GemmaTokenizerFast"})
    if (tokenizer_class == name) return true;
  return false;
}

Result<json> read_json_object(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json::object();
  SIMILE_ASSIGN_OR_RETURN(std::string text, read_file(path.string()));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt(path.string() + " is not a JSON object");
  return j;
}

// A special token's text: "</s>", or an AddedToken object {"content": "</s>", ...}.
std::string token_text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return "";
}

}  // namespace

Result<std::optional<BosEosTemplate>> read_bos_eos_template(const std::string& dir) {
  const fs::path config_path = fs::path(dir) / "tokenizer_config.json";
  SIMILE_ASSIGN_OR_RETURN(json config, read_json_object(config_path));
  std::string tokenizer_class;
  if (auto it = config.find("tokenizer_class"); it != config.end() && it->is_string())
    tokenizer_class = it->get<std::string>();
  const bool llama = llama_style(tokenizer_class);
  auto flag = [&](const char* key) -> std::optional<bool> {
    auto it = config.find(key);
    if (it == config.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
  };
  const std::optional<bool> bos_flag = flag("add_bos_token"), eos_flag = flag("add_eos_token");
  if (!llama && !bos_flag.value_or(false) && !eos_flag.value_or(false)) return std::optional<BosEosTemplate>();
  const bool add_bos = bos_flag.value_or(llama), add_eos = eos_flag.value_or(false);

  // special_tokens_map.json overrides tokenizer_config.json, as in
  // transformers' from_pretrained; Llama's classes default to <s> and </s>.
  SIMILE_ASSIGN_OR_RETURN(json map, read_json_object(fs::path(dir) / "special_tokens_map.json"));
  auto name = [&](const char* key, const char* llama_default) {
    std::string t = token_text(map, key);
    if (t.empty()) t = token_text(config, key);
    if (t.empty() && llama) t = llama_default;
    return t;
  };
  BosEosTemplate t;
  if (add_bos) t.bos = name("bos_token", "<s>");
  if (add_eos) t.eos = name("eos_token", "</s>");
  if (add_bos && t.bos.empty())
    return Status::corrupt(config_path.string() + " adds a BOS token (add_bos_token) but names no bos_token");
  if (add_eos && t.eos.empty())
    return Status::corrupt(config_path.string() + " sets add_eos_token but names no eos_token");
  return std::optional<BosEosTemplate>(t);
}

Result<std::unique_ptr<Tokenizer>> load_model_tokenizer(const ModelDescription& model) {
  auto tokenizer = Tokenizer::from_file(model.tokenizer_path());
  if (!tokenizer.is_ok()) return tokenizer.status().with_context("model " + model.dir);
  if (model.pipeline.bos_eos) {
    Status st = (*tokenizer)->set_bos_eos(model.pipeline.bos_eos->bos, model.pipeline.bos_eos->eos);
    if (!st.is_ok())
      return st.with_context("model " + model.dir + ": tokenizer_config.json's add_bos_token / add_eos_token");
  }
  // Truncate like sentence-transformers; padding is the caller's to do.
  (*tokenizer)->set_truncation(TruncationOptions{model.max_tokens});
  (*tokenizer)->set_padding(std::nullopt);
  return tokenizer;
}

}  // namespace simile
