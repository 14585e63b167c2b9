// The model cache: model_cache_dir, resolve_model_dir, inspect_model,
// list_models. (pull_model lives in model_pull.cc.)
#include "simile/models.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "model/architecture.h"
#include "model/config.h"
#include "model/model_info.h"
#include "model/model_tokenizer.h"
#include "model/safetensors.h"
#include "util/file_util.h"
#include "util/hash.h"
#include "util/user_dirs.h"

namespace simile {

namespace fs = std::filesystem;

namespace {

// Subdirectories of the cache, sorted; hidden ones are pulls in progress.
std::vector<std::string> cached_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(model_cache_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.is_directory(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Hashes tensors in name order, each with its dtype and shape, so the
// fingerprint does not depend on how the weights are split into files.
std::string model_fingerprint(const ModelDescription& model, const WeightFiles& files) {
  ContentHash hash;
  for (const std::string& name : files.names()) {
    const TensorView* t = files.find(name);
    hash.add(name).add(std::to_string(static_cast<int>(t->dtype)) + t->shape_string());
    hash.add(std::string_view(reinterpret_cast<const char*>(t->data), t->nbytes));
  }
  std::vector<std::string> files_read = {model.tokenizer_path(), model.encoder_dir + "/config.json"};
  // A SentencePiece file's special tokens come from tokenizer_config.json.
  if (model.tokenizer_file != "tokenizer.json") files_read.push_back(model.encoder_dir + "/tokenizer_config.json");
  for (const std::string& path : files_read) {
    auto text = read_file(path);
    hash.add(text.is_ok() ? *text : std::string());
  }
  // Dense modules shape the vectors too (a model without one hashes as before).
  for (const DenseConfig& d : model.pipeline.dense) {
    auto text = read_file(d.dir + "/config.json");
    hash.add(text.is_ok() ? *text : std::string());
    auto dense_files = WeightFiles::open(d.dir);
    if (!dense_files.is_ok()) continue;
    for (const std::string& name : (*dense_files)->names()) {
      const TensorView* t = (*dense_files)->find(name);
      hash.add(name).add(std::string_view(reinterpret_cast<const char*>(t->data), t->nbytes));
    }
  }
  // Only when tokenizer_config.json changes the special tokens, so that the
  // fingerprints of models it leaves alone stay what they were.
  if (model.pipeline.bos_eos) hash.add("bos/eos:" + model.pipeline.bos_eos->bos + "/" + model.pipeline.bos_eos->eos);
  return hash.hex();
}

}  // namespace

ModelInfo make_model_info(const ModelDescription& model, const WeightFiles& files) {
  ModelInfo info;
  info.dir = model.dir;
  info.tokenizer_path = model.tokenizer_path();
  info.name = fs::path(model.dir).filename().string();
  info.architecture = model.encoder.architecture;
  info.model_type = model.encoder.model_type;
  info.dims = model.output_dims();
  info.hidden_size = model.encoder.hidden_size;
  info.layers = model.encoder.num_hidden_layers;
  info.heads = model.encoder.num_attention_heads;
  info.vocab_size = model.encoder.vocab_size;
  info.max_tokens = model.max_tokens;
  info.pooling = model.pipeline.pooling;
  info.normalize = model.pipeline.normalize;
  info.dtype = weight_dtype(*model.architecture, files);
  info.weight_bytes = files.total_bytes();
  info.prompts = model.pipeline.prompts;
  info.default_prompt_name = model.pipeline.default_prompt_name;
  info.fingerprint = model_fingerprint(model, files);
  return info;
}

std::string model_cache_dir() { return user_dir(UserDirKind::kCache) + "/models"; }

Result<std::string> resolve_model_dir(const std::string& name_or_dir) {
  const std::string name = name_or_dir.empty() ? kDefaultModel : name_or_dir;
  std::error_code ec;
  if (fs::is_directory(name, ec)) return fs::absolute(name, ec).lexically_normal().string();
  if (fs::exists(name, ec))
    return Status::invalid_argument(name +
                                    " is a file; a model is a directory holding config.json, "
                                    "tokenizer.json and *.safetensors weights");
  const std::string cache = model_cache_dir();
  if (name.find('/') == std::string::npos && name != "." && name != "..") {
    fs::path dir = fs::path(cache) / name;
    if (fs::is_directory(dir, ec)) return dir.lexically_normal().string();
  }
  std::string installed;
  for (const auto& n : cached_names()) installed += (installed.empty() ? "" : ", ") + n;
  std::string msg = "model '" + name + "' not found: it is not a directory and not in the model cache " + cache +
                    " (installed: " + (installed.empty() ? "none" : installed) + "). ";
  const auto pullable = pullable_models();
  if (std::find(pullable.begin(), pullable.end(), name) != pullable.end()) {
    msg += "Download it with `simile models pull " + name + "`";
  } else {
    std::string known;
    for (const auto& n : pullable) known += (known.empty() ? "" : ", ") + n;
    msg += "`simile models pull NAME` downloads one of: " + known +
           "; any sentence-transformers directory can "
           "also be used by its path";
  }
  return Status::not_found(msg);
}

Result<ModelInfo> inspect_model(const std::string& name_or_dir) {
  SIMILE_ASSIGN_OR_RETURN(std::string dir, resolve_model_dir(name_or_dir));
  SIMILE_ASSIGN_OR_RETURN(ModelDescription model, describe_model(dir));
  auto files = WeightFiles::open(model.encoder_dir);
  if (!files.is_ok()) return files.status().with_context(model.dir);
  return make_model_info(model, **files);
}

Result<std::unique_ptr<Tokenizer>> open_model_tokenizer(const std::string& name_or_dir) {
  SIMILE_ASSIGN_OR_RETURN(std::string dir, resolve_model_dir(name_or_dir));
  SIMILE_ASSIGN_OR_RETURN(ModelDescription model, describe_model(dir));
  return load_model_tokenizer(model);
}

Result<std::vector<ModelInfo>> list_models() {
  std::vector<ModelInfo> out;
  for (const auto& name : cached_names()) {
    // A directory that is not a usable model is left out rather than failing
    // the listing; `simile models info NAME` shows what is wrong with it.
    auto info = inspect_model((fs::path(model_cache_dir()) / name).string());
    if (info.is_ok()) out.push_back(std::move(info).value());
  }
  return out;
}

}  // namespace simile
