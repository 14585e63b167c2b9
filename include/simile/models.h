// The model cache: where models live on disk and how they get there.
//
// Cache directory: $SIMILE_HOME/models if SIMILE_HOME is set, else
// $XDG_CACHE_HOME/simile/models, else ~/.cache/simile/models.
// A model is named by its cache name ("all-MiniLM-L6-v2") or by a directory path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "simile/embedder.h"
#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile {

inline constexpr const char* kDefaultModel = "all-MiniLM-L6-v2";

std::string model_cache_dir();

// Resolves a cache name or a directory to an absolute model directory.
Result<std::string> resolve_model_dir(const std::string& name_or_dir);

// Reads a model directory's configuration without loading weights into memory.
Result<ModelInfo> inspect_model(const std::string& name_or_dir);

// A model's tokenizer as its Embedder uses it: tokenizer.json, with the
// special tokens tokenizer_config.json asks for (add_bos_token /
// add_eos_token, as transformers applies them) and truncation at the model's
// max tokens. No weights are read.
Result<std::unique_ptr<Tokenizer>> open_model_tokenizer(const std::string& name_or_dir);

// Models in the cache.
Result<std::vector<ModelInfo>> list_models();

// Names `pull_model` knows how to fetch.
std::vector<std::string> pullable_models();

// Downloads a known model into the cache (atomically: a failed pull leaves no
// half-written model), verifies it and returns its directory. `log` receives
// progress lines for the user.
Result<std::string> pull_model(const std::string& name, void (*log)(const std::string&) = nullptr);

}  // namespace simile
