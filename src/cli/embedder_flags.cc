#include "cli/embedder_flags.h"

namespace simile::cli {

void EmbedderFlags::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", model, "model cache name or directory (default: all-MiniLM-L6-v2)");
  cmd->add_option("--pooling", pooling, "override pooling: cls, mean, max, mean_sqrt_len, lasttoken");
  cmd->add_flag_callback("--normalize", [this] { normalize = true; }, "L2-normalise vectors");
  cmd->add_flag_callback("--no-normalize", [this] { normalize = false; }, "do not L2-normalise vectors");
  cmd->add_option("--max-tokens", max_tokens, "truncate texts to this many tokens (default: the model's)");
  cmd->add_option("--threads", threads, "threads to use (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", batch, "texts per forward pass")->check(CLI::PositiveNumber);
}

EmbedderOptions EmbedderFlags::to_options() const {
  EmbedderOptions o;
  o.model = model;
  if (!pooling.empty()) o.pooling = take(parse_pooling(pooling));
  o.normalize = normalize;
  if (max_tokens > 0) o.max_tokens = max_tokens;
  o.threads = threads;
  o.batch_size = batch;
  return o;
}

}  // namespace simile::cli
