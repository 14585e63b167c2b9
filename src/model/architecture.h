// Model architectures as data: each supported family is one table entry naming
// the config.json model types it covers, its tensor names and their shapes in
// terms of the config, and the forward pass that runs them. Adding a family is
// a new entry (plus its forward pass), not new public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/float_buffer.h"
#include "model/quantize.h"
#include "model/safetensors.h"
#include "simile/embedder.h"
#include "simile/status.h"

namespace simile {

// Texts packed back to back, without padding: sequence s is tokens
// [offsets[s], offsets[s + 1]). Positions restart at 0 in every sequence.
struct TokenBatch {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<size_t> offsets = {0};

  size_t sequences() const { return offsets.size() - 1; }
  size_t tokens() const { return ids.size(); }
  size_t length(size_t s) const { return offsets[s + 1] - offsets[s]; }
  void clear() {
    ids.clear();
    type_ids.clear();
    offsets.assign(1, 0);
  }
};

// A loaded encoder. forward() is const and may run concurrently only with
// distinct workspaces (and see ComputeThreads about thread counts).
class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual const EncoderConfig& config() const = 0;
  // Last hidden states of every token: batch.tokens() x hidden_size floats
  // into `out`. `workspace` is scratch memory, grown as needed and reusable
  // across calls. `threads` bounds our own parallel loops (the caller's
  // ComputeThreads bounds the BLAS). Errors: invalid_argument for token ids,
  // type ids or lengths the model cannot embed.
  virtual Status forward(const TokenBatch& batch, float* out, FloatBuffer& workspace, int threads) const = 0;
  // About how many workspace floats forward() needs per token (0: not
  // known). Callers bound the tokens of a batch by it.
  virtual size_t workspace_floats_per_token() const { return 0; }
};

// A dimension of a tensor shape, as a config.json field (or product of them).
enum class Dim : uint8_t {
  kHidden,
  kIntermediate,
  kVocab,
  kPositions,
  kTokenTypes,
  kHeads,           // num_attention_heads
  kRelativeBuckets, // relative_attention_num_buckets
  kQueryWidth,     // num_attention_heads * head_dim
  kKeyValueWidth,  // num_key_value_heads * head_dim
  kHeadDim,
};

struct TensorSpec {
  const char* name;  // after the weight prefix; "{}" stands for the layer index
  std::vector<Dim> shape;
  // Whether the config has this tensor (null: always). An absent tensor is a
  // null pointer in EncoderWeights.
  bool (*present)(const EncoderConfig& config) = nullptr;
};

// Weights read from the files, as fp32 in one buffer (half-precision weights
// are up-cast once, at load time). The tensors lie back to back in table order
// (the embedding tensors, then layer 0's, layer 1's, ...), so a forward pass
// can treat adjacent table entries as one matrix. Tensors the table does not
// list (a language-model head, say) are never read.
struct EncoderWeights {
  FloatBuffer arena;
  std::vector<const float*> embeddings;           // by embedding_tensors index
  std::vector<std::vector<const float*>> layers;  // [layer][layer_tensors index]; null where int8
  // int8 inference only: [layer][layer_tensors index], the tensors of
  // Architecture::int8_layer_tensors quantised (empty matrices elsewhere).
  // Empty for fp32.
  std::vector<std::vector<QuantizedMatrix>> int8_layers;
};

// How a family numbers the positions of a text's tokens.
enum class PositionIds : uint8_t {
  kFromZero,  // 0, 1, 2, ... (BERT)
  // The rest number them as fairseq does: from padding_index + 1, except that
  // a token equal to padding_index takes that index and is not counted
  // (transformers' create_position_ids_from_input_ids). The first
  // padding_index + 1 rows of the position table are never reached by text.
  kAfterPadToken,  // padding_index = config.json pad_token_id (RoBERTa, XLM-R)
  kAfterOne,       // padding_index = 1, whatever pad_token_id says (MPNetEmbeddings fixes it)
};

struct Architecture {
  const char* family;                        // "bert"
  std::vector<const char*> model_types;      // config.json "model_type" values
  std::vector<const char*> class_names;      // config.json "architectures" values, when model_type is absent
  std::vector<const char*> weight_prefixes;  // tried in order ("" and "bert.")
  std::vector<const char*> hidden_acts;      // supported config.json "hidden_act" values
  std::vector<TensorSpec> embedding_tensors;
  std::vector<TensorSpec> layer_tensors;
  // Builds the encoder from checked weights.
  std::unique_ptr<Encoder> (*make)(const EncoderConfig& config, EncoderWeights weights);
  PositionIds position_ids = PositionIds::kFromZero;
  // Rejects config values the family's forward pass does not implement
  // (unsupported, naming the field); null: nothing beyond the common checks.
  Status (*check_config)(const EncoderConfig& config) = nullptr;
  // Layer tensors that are linear-layer weights [out, in] the forward pass
  // can run in int8 (InferenceDtype::kInt8); empty: the family runs fp32 only.
  std::vector<size_t> int8_layer_tensors = {};
};

const std::vector<Architecture>& architectures();

// The entry for a config, or unsupported with a message listing what is.
Result<const Architecture*> find_architecture(const EncoderConfig& config);

// The padding index of fairseq-style position numbering, or nullopt for
// kFromZero. Precondition: find_architecture() accepted the config.
std::optional<int32_t> padding_index(const Architecture& arch, const EncoderConfig& config);

// The most tokens one text may have: max_position_embeddings, less the
// padding_index + 1 rows that fairseq-style numbering skips (514 -> 512).
size_t max_text_tokens(const Architecture& arch, const EncoderConfig& config);

// max_text_tokens() with its reason, for messages: "512 tokens
// (max_position_embeddings 514, of which roberta numbers text from 2)".
std::string describe_max_text_tokens(const Architecture& arch, const EncoderConfig& config);

// What load_encoder_weights does with the tensors of int8_layer_tensors.
enum class Int8Tensors {
  kFp32,      // reads them as fp32, like every other tensor
  kQuantize,  // quantises them into int8_layers (one fp32 tensor in memory at a time)
  kLeaveOut,  // leaves them out (null), for the caller to fill int8_layers
};

// Finds every tensor of the architecture (trying each weight prefix), checks
// its shape against the config and converts it to fp32 (or see Int8Tensors).
Result<EncoderWeights> load_encoder_weights(const Architecture& arch, const EncoderConfig& config,
                                            const WeightFiles& files, Int8Tensors int8 = Int8Tensors::kFp32);

// The full names of int8_layer_tensors in the files, [layer][index in
// int8_layer_tensors], as the int8 cache file records them.
Result<std::vector<std::vector<std::string>>> int8_tensor_names(const Architecture& arch,
                                                                const EncoderConfig& config,
                                                                const WeightFiles& files);

// The dtype of the weights on disk (that of the word embeddings), for ModelInfo.
std::string weight_dtype(const Architecture& arch, const WeightFiles& files);

// Loads the encoder of a described model from its weight files. For kInt8,
// `info` names the fp32 model (name, fingerprint) whose int8 cache file is
// read, or built and written; its int8 fields are set. Errors: unsupported
// when the family has no int8 forward pass.
Result<std::unique_ptr<Encoder>> load_encoder(const ModelDescription& model, const WeightFiles& files,
                                              InferenceDtype dtype = InferenceDtype::kFp32,
                                              ModelInfo* info = nullptr);

}  // namespace simile
