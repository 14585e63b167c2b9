// The model flags shared by commands that embed (--model, --pooling,
// --normalize/--no-normalize, --max-tokens, --threads, --batch).
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
  int threads = 0;
  size_t batch = 32;

  void add_to(CLI::App* cmd);
  EmbedderOptions to_options() const;  // throws CliError on a bad value
};

}  // namespace simile::cli
