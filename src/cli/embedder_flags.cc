#include "cli/embedder_flags.h"

namespace simile::cli {

void EmbedderFlags::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", model,
                  "model cache name or directory (default: all-MiniLM-L6-v2), or openai:NAME for a model behind an "
                  "OpenAI-compatible embeddings endpoint");
  cmd->add_option("--pooling", pooling, "override pooling: cls, mean, max, mean_sqrt_len, lasttoken");
  cmd->add_flag_callback("--normalize", [this] { normalize = true; }, "L2-normalise vectors");
  cmd->add_flag_callback("--no-normalize", [this] { normalize = false; }, "do not L2-normalise vectors");
  cmd->add_option("--max-tokens", max_tokens, "truncate texts to this many tokens (default: the model's)");
  cmd->add_option("--dimensions", dimensions,
                  "Matryoshka: keep the first N dimensions of each vector, renormalised (a new collection keeps N)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", threads, "threads to use (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", batch, "texts per forward pass")->check(CLI::PositiveNumber);
  cmd->add_option("--dtype", dtype,
                  "inference precision: fp32, or int8 (faster; int8 weights cached on first use; a collection "
                  "keeps the one it was built with)");
  cmd->add_option("--base-url", base_url,
                  "openai:NAME models: the service's URL (default: $OPENAI_BASE_URL, else "
                  "https://api.openai.com/v1; a collection keeps the one it was created with)");
  cmd->add_option("--api-key-env", api_key_env,
                  "openai:NAME models: the environment variable holding the API key (default: OPENAI_API_KEY, "
                  "sent if set)");
  cmd->add_option("--remote-tokenizer", remote_tokenizer,
                  "openai:NAME models: the model or tokenizer.json that counts tokens for chunking (default: "
                  "all-MiniLM-L6-v2's)");
  cmd->add_option("--ca-cert", ca_file, "openai:NAME models: trust this CA bundle instead of the system's")
      ->check(CLI::ExistingFile);
}

EmbedderOptions EmbedderFlags::to_options() const {
  EmbedderOptions o;
  o.model = model;
  if (!pooling.empty()) o.pooling = take(parse_pooling(pooling));
  o.normalize = normalize;
  if (max_tokens > 0) o.max_tokens = max_tokens;
  if (dimensions > 0) o.dimensions = dimensions;
  o.threads = threads;
  o.batch_size = batch;
  if (!dtype.empty()) o.dtype = take(parse_inference_dtype(dtype));
  o.remote.base_url = base_url;
  o.remote.api_key_env = api_key_env;
  o.remote.tokenizer = remote_tokenizer;
  o.remote.ca_file = ca_file;
  return o;
}

void PromptFlags::add_to(CLI::App* cmd) {
  auto* prompt = cmd->add_option("--prompt", name,
                                 "prepend the model's named prompt (e.g. query, passage; default: the model's "
                                 "default_prompt_name, if any)");
  cmd->add_flag("--no-prompt", none, "prepend no prompt, not even the model's default")->excludes(prompt);
}

std::string PromptFlags::prefix(const Embedder& embedder) const {
  if (none) return "";
  const std::string& chosen = name.empty() ? embedder.info().default_prompt_name : name;
  return chosen.empty() ? "" : take(embedder.prompt_for(chosen));
}

}  // namespace simile::cli
