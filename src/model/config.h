// What a model directory says about itself: the transformer's config.json and
// the sentence-transformers files around it.
//
//   config.json                         encoder hyperparameters (Hugging Face)
//   modules.json                        the pipeline: Transformer, Pooling, Dense, Normalize
//   1_Pooling/config.json               pooling mode (the Pooling module's path)
//   2_Dense/config.json                 a Dense module's shape and activation
//   sentence_bert_config.json           max_seq_length, do_lower_case
//   config_sentence_transformers.json   prompts, default_prompt_name
//   tokenizer_config.json               model_max_length (only when max_seq_length is absent)
//
// Missing sentence-transformers files mean what they mean to
// sentence-transformers: mean pooling, no normalisation, and
// max tokens = min(tokenizer model_max_length, max_position_embeddings), and
// never more than the position table holds (max_text_tokens()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/activation.h"
#include "simile/embedder.h"
#include "simile/status.h"

namespace simile {

struct Architecture;

// The post-processor transformers' Llama-style tokenizers build from
// tokenizer_config.json's add_bos_token / add_eos_token: [bos] $A [eos]. An
// empty token is not added.
struct BosEosTemplate {
  std::string bos;
  std::string eos;
};

// config.json, with BertConfig's defaults for absent fields (or the decoder
// families' own, see below).
struct EncoderConfig {
  std::string model_type;    // "bert"
  std::string architecture;  // architectures[0], else model_type
  size_t hidden_size = 768;
  size_t num_hidden_layers = 12;
  size_t num_attention_heads = 12;
  size_t intermediate_size = 3072;
  size_t vocab_size = 30522;
  size_t max_position_embeddings = 512;
  size_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  std::string hidden_act = "gelu";
  std::string position_embedding_type = "absolute";
  // Absent from BERT's configs at times; RoBERTa's position ids start after it.
  std::optional<int64_t> pad_token_id;
  size_t relative_attention_num_buckets = 32;  // MPNet

  // Decoder-only families (Llama, Mistral, Qwen2, Qwen3). Absent fields take
  // the defaults transformers gives them (for these model types, the fields
  // above too).
  size_t num_key_value_heads = 0;  // 0: num_attention_heads (no grouped-query attention)
  size_t explicit_head_dim = 0;    // "head_dim"; 0: hidden_size / num_attention_heads
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000;          // "rope_theta", or rope_parameters' (transformers 5)
  std::string rope_type = "default";  // rope_scaling / rope_parameters "rope_type" (or "type")
  bool attention_bias = false;
  bool mlp_bias = false;
  bool is_causal = true;  // false: bidirectional attention (transformers >= 5.2)
  // Sliding-window attention as written in config.json; which layers it
  // applies to is the family's rule (see decoder.h).
  size_t sliding_window = 0;  // 0: null or absent
  bool use_sliding_window = false;
  size_t max_window_layers = 28;
  std::vector<std::string> layer_types;  // "full_attention" / "sliding_attention" per layer, if given

  size_t head_dim() const { return explicit_head_dim != 0 ? explicit_head_dim : hidden_size / num_attention_heads; }
  size_t kv_heads() const { return num_key_value_heads != 0 ? num_key_value_heads : num_attention_heads; }
};

// A sentence-transformers Dense module: pooled vector -> activation(W x + b).
struct DenseConfig {
  std::string dir;  // the module's directory: config.json and the weights
  size_t in_features = 0;
  size_t out_features = 0;
  bool bias = true;
  Activation activation = Activation::kTanh;
};

// The sentence-transformers pipeline after the encoder.
struct PipelineConfig {
  Pooling pooling = Pooling::kMean;
  bool include_prompt = true;  // false: prompt tokens are left out of pooling
  std::vector<DenseConfig> dense;  // applied in order after pooling, before Normalize
  bool normalize = false;
  std::optional<size_t> max_seq_length;        // sentence_bert_config.json
  std::optional<size_t> tokenizer_max_length;  // tokenizer_config.json model_max_length
  bool do_lower_case = false;
  std::vector<std::pair<std::string, std::string>> prompts;
  std::string default_prompt_name;
  // Special tokens around every text when tokenizer_config.json makes
  // transformers rebuild the tokenizer's post-processor (model/special_tokens.h).
  std::optional<BosEosTemplate> bos_eos;
};

struct ModelDescription {
  std::string dir;          // the model directory (absolute)
  std::string encoder_dir;  // where config.json, tokenizer.json and the weights are
  EncoderConfig encoder;
  PipelineConfig pipeline;
  const Architecture* architecture = nullptr;
  size_t max_tokens = 0;  // tokens per text, special tokens ([CLS], [SEP], <|endoftext|> ...) included

  // In encoder_dir: tokenizer.json, else a SentencePiece model file
  // (sentencepiece.bpe.model, spiece.model, tokenizer.model).
  std::string tokenizer_file = "tokenizer.json";

  std::string tokenizer_path() const { return encoder_dir + "/" + tokenizer_file; }
  // The size of the sentence embedding: the last Dense module's, else the encoder's.
  size_t output_dims() const { return pipeline.dense.empty() ? encoder.hidden_size : pipeline.dense.back().out_features; }
};

// Parses config.json.
Result<EncoderConfig> parse_encoder_config(const std::string& json_text);

// Reads every configuration file of a model directory (no weights) and checks
// that the architecture is one simile runs.
Result<ModelDescription> describe_model(const std::string& dir);

}  // namespace simile
