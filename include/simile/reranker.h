// Reranker: a cross-encoder that reads a query and a document together and
// gives their relevance, as sentence-transformers' CrossEncoder does. Slower
// than comparing embeddings, and better: use it on the top candidates of a
// dense or keyword search.
//
//   auto r = simile::Reranker::open({.model = "path/to/ms-marco-MiniLM-L6-v2"});
//   auto ranked = (*r)->rerank("how do planes fly?", docs, 3);  // best first
//
// The model is a Hugging Face *ForSequenceClassification directory with one
// label (config.json, tokenizer.json, safetensors weights). Each (query,
// document) pair is tokenised as a pair ([CLS] query [SEP] document [SEP]),
// cut to the model's max length longest-first, and scored as
// activation(logit): the activation config.json names for sentence-transformers,
// else Sigmoid.
//
// Thread safety: score() and rerank() may be called from several threads;
// each call already uses `threads` cores and concurrent calls take turns.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

struct RerankerOptions {
  std::string model;                 // cache name or directory of a cross-encoder
  std::string activation;            // "" = the model's; else sigmoid, identity (raw logits), tanh, relu, gelu
  std::optional<size_t> max_tokens;  // overrides the model's max length (<= its positions)
  int threads = 0;                   // 0 = all cores
  size_t batch_size = 32;            // pairs per forward pass
};

struct RerankerInfo {
  std::string name;          // cache name, or the directory's base name
  std::string dir;           // absolute path of the model directory
  std::string architecture;  // config.json "architectures"[0]
  std::string activation;    // applied to the logit: "sigmoid", "identity", ...
  size_t max_tokens = 0;     // tokens per pair, special tokens included
};

struct RankedDocument {
  size_t index = 0;  // position in the documents given
  float score = 0;
};

class Reranker {
 public:
  static Result<std::unique_ptr<Reranker>> open(const RerankerOptions& options);
  ~Reranker();
  Reranker(const Reranker&) = delete;
  Reranker& operator=(const Reranker&) = delete;

  // One score per document, in input order; higher is more relevant.
  Result<std::vector<float>> score(const std::string& query, const std::vector<std::string>& documents) const;

  // The documents best first (equal scores keep their input order); the top
  // `top_k` of them, or all when top_k is 0.
  Result<std::vector<RankedDocument>> rerank(const std::string& query, const std::vector<std::string>& documents,
                                             size_t top_k = 0) const;

  const RerankerInfo& info() const;

  struct Impl;

 private:
  explicit Reranker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile
