// The model flags shared by commands that embed (--model, --pooling,
// --normalize/--no-normalize, --max-tokens, --dimensions, --threads, --batch,
// --dtype, and --base-url, --api-key-env, --remote-tokenizer, --ca-cert of
// remote models),
// and the prompt flags of those that embed texts given to them.
#pragma once

#include <optional>
#include <string>

#include "cli/cli.h"
#include "simile/embedder.h"

namespace simile::cli {

struct EmbedderFlags {
  std::string model;
  std::string pooling;
  std::optional<bool> normalize;
  size_t max_tokens = 0;
  size_t dimensions = 0;
  int threads = 0;
  size_t batch = 32;
  std::string dtype;  // empty: fp32, or a collection's own
  std::string base_url, api_key_env, remote_tokenizer, ca_file;

  void add_to(CLI::App* cmd);
  EmbedderOptions to_options() const;  // throws CliError on a bad value
};

// --prompt NAME / --no-prompt. With neither, the model's default_prompt_name
// applies, as sentence-transformers' encode() does.
struct PromptFlags {
  std::string name;
  bool none = false;

  void add_to(CLI::App* cmd);
  std::string prefix(const Embedder& embedder) const;  // throws CliError for an unknown name
};

}  // namespace simile::cli
