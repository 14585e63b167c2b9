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

// The precision the encoder computes in. kInt8: the linear layers run on int8
// weights (per output row) and int8 activations (per token, quantised at run
// time) with int32 sums; embeddings, LayerNorm and attention stay fp32. The
// int8 weights are made once and cached under the model cache
// (docs/formats/int8-weights.md). Its vectors differ slightly from fp32's
// (cosine > 0.99), so a collection records which one it was built with.
enum class InferenceDtype { kFp32, kInt8 };
std::string to_string(InferenceDtype d);                          // "fp32", "int8"
Result<InferenceDtype> parse_inference_dtype(const std::string& name);  // "fp32", "int8"

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
  // shapes, bytes), tokenizer.json and config.json, and for int8 inference
  // the quantisation scheme (see dtype_fingerprint()). Collections record it
  // so vectors of different models, or precisions, never mix.
  std::string fingerprint;
  // The precision the Embedder computes in (inspect_model: fp32).
  InferenceDtype inference_dtype = InferenceDtype::kFp32;
  // int8 only: the cached int8 weights file, and how this open got its
  // weights: "loaded", "built" (no file yet) or "rebuilt (why)" after a
  // damaged or stale file; "built, not saved (why)" when the cache is not
  // writable.
  std::string int8_cache_path;
  std::string int8_cache_load;
};

// The fingerprint of a model's vectors at a precision, from its fp32
// fingerprint (ModelInfo::fingerprint of an fp32 open): the same string for
// kFp32; for kInt8 it with "-int8s" and the quantisation scheme appended, so
// a stored fingerprint says which precision made the vectors.
std::string dtype_fingerprint(const std::string& fp32_fingerprint, InferenceDtype dtype);
// The precision a fingerprint of dtype_fingerprint() stands for.
InferenceDtype fingerprint_dtype(const std::string& fingerprint);

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
  // Unset: fp32 — except that a collection opened without it uses the
  // precision it was built with.
  std::optional<InferenceDtype> dtype;

  // Remote models, named "openai:NAME" (docs/remote-models.md): the vectors
  // come from an OpenAI-compatible /v1/embeddings endpoint (OpenAI,
  // text-embeddings-inference, Ollama, another simile server), NAME being
  // the model the service knows. `dimensions` is sent as the request's
  // "dimensions"; pooling and dtype do not apply.
  struct Remote {
    std::string base_url;     // "" = $OPENAI_BASE_URL, else https://api.openai.com/v1
    std::string api_key_env;  // the variable holding the key: "" = OPENAI_API_KEY if set; named = must be set
    // Counts tokens where the service cannot (chunking, `simile ask`
    // budgets): a model name or directory, or a tokenizer.json file; "" = the
    // default model's.
    std::string tokenizer;
    size_t known_dims = 0;    // the vector size the service gives, if known; 0 = one request at open asks
    std::string ca_file;      // a CA bundle to trust instead of the system's
  } remote;
};

// Whether a model name is a remote one ("openai:NAME").
bool is_remote_model(const std::string& model);

class Embedder {
 public:
  static Result<std::unique_ptr<Embedder>> open(const EmbedderOptions& options);
  // The same, but one instance per distinct options in the process while any
  // holder keeps it: collections (and the server's models) opened with the
  // same options share the weights instead of loading a copy each.
  static Result<std::shared_ptr<const Embedder>> open_shared(const EmbedderOptions& options);
  ~Embedder();
  Embedder(const Embedder&) = delete;
  Embedder& operator=(const Embedder&) = delete;

  // Returns texts.size() x dims() floats, row-major, in input order. Texts are
  // grouped into length-sorted batches internally. `prompt` is prepended to
  // every text (see prompt_for()).
  Result<std::vector<float>> embed(const std::vector<std::string>& texts,
                                   const std::string& prompt = "") const;

  // Two steps of embed() for callers that batch texts themselves (the HTTP
  // server gathers concurrent requests into one pass): the encoding embed()
  // would make of a text (tokenised, special tokens added, truncated to the
  // model's max tokens), and the vectors of such encodings, in input order.
  // A remote model embeds texts only: embed_encodings() is unsupported.
  // encode_ids: the encoding of token ids a client tokenised itself (no special
  // tokens; each must be below the tokenizer's vocab_size()), the model's
  // special tokens added around them and the whole cut to max tokens.
  Result<Encoding> encode(const std::string& text) const;
  Result<Encoding> encode_ids(const std::vector<int32_t>& ids) const;
  Result<std::vector<float>> embed_encodings(const std::vector<Encoding>& encodings) const;

  // The prefix configured for a prompt name in config_sentence_transformers.json
  // ("query", "passage", ...), or an error naming the prompts that exist.
  Result<std::string> prompt_for(const std::string& prompt_name) const;

  size_t dims() const;
  bool is_remote() const;
  const ModelInfo& info() const;
  const Tokenizer& tokenizer() const;

  struct Impl;

 private:
  explicit Embedder(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<Embedder>> open_remote(const EmbedderOptions& options);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile
