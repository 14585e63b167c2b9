// Embedder: loads a sentence-transformers model and turns texts into vectors.
//
//   auto e = simile::Embedder::open({.model = "all-MiniLM-L6-v2"});
//   if (!e.is_ok()) { ... e.status().message() ... }
//   auto vecs = (*e)->embed({"hello", "world"});   // 2 x dims, row-major
//
// Thread safety: embed() may be called from several threads, but each call
// already uses `threads` cores; concurrent calls share them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile {

enum class Pooling { kCls, kMean, kMax, kMeanSqrtLen, kLastToken };
std::string to_string(Pooling p);
Result<Pooling> parse_pooling(const std::string& name);  // "cls", "mean", "max", "mean_sqrt_len", "lasttoken"

// What a model directory holds, as `simile models info` shows it.
struct ModelInfo {
  std::string name;          // cache name, or the directory's base name
  std::string dir;           // absolute path of the model directory
  std::string tokenizer_path;  // its tokenizer.json
  std::string architecture;  // config.json "architectures"[0] or model_type
  std::string model_type;    // config.json "model_type" ("bert", ...)
  size_t dims = 0;           // output vector size (after Dense modules and any truncation)
  size_t hidden_size = 0;
  size_t layers = 0;
  size_t heads = 0;
  size_t vocab_size = 0;
  size_t max_tokens = 0;     // max_seq_length (sentence-transformers) or position limit
  Pooling pooling = Pooling::kMean;
  bool normalize = false;    // a Normalize module follows pooling
  std::string dtype;         // weight dtype on disk: "F32", "F16", "BF16"
  uint64_t weight_bytes = 0; // total size of the safetensors files
  std::vector<std::pair<std::string, std::string>> prompts;  // name -> prefix
  std::string default_prompt_name;
  // XXH3-128 (hex) of what decides the vectors: the weights (names, dtypes,
  // shapes, bytes), tokenizer.json and config.json. Collections record it so
  // vectors of different models never mix.
  std::string fingerprint;
};

struct EmbedderOptions {
  std::string model;                  // cache name or directory; empty = default model
  std::optional<Pooling> pooling;     // overrides 1_Pooling/config.json
  std::optional<bool> normalize;      // overrides the Normalize module
  std::optional<size_t> max_tokens;   // overrides max_seq_length (<= the model's limit)
  // Matryoshka truncation: keep the first N values of each vector (1 <= N <=
  // the model's dims), renormalised when vectors are normalised.
  std::optional<size_t> dimensions;
  int threads = 0;                    // 0 = all cores
  size_t batch_size = 32;             // texts per forward pass
};

class Embedder {
 public:
  static Result<std::unique_ptr<Embedder>> open(const EmbedderOptions& options);
  ~Embedder();
  Embedder(const Embedder&) = delete;
  Embedder& operator=(const Embedder&) = delete;

  // Returns texts.size() x dims() floats, row-major, in input order. Texts are
  // grouped into length-sorted batches internally. `prompt` is prepended to
  // every text (see prompt_for()).
  Result<std::vector<float>> embed(const std::vector<std::string>& texts,
                                   const std::string& prompt = "") const;

  // The prefix configured for a prompt name in config_sentence_transformers.json
  // ("query", "passage", ...), or an error naming the prompts that exist.
  Result<std::string> prompt_for(const std::string& prompt_name) const;

  size_t dims() const;
  const ModelInfo& info() const;
  const Tokenizer& tokenizer() const;

  struct Impl;

 private:
  explicit Embedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile
