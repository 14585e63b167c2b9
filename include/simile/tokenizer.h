// Tokenizer: text -> token ids, driven by a Hugging Face tokenizer.json or a
// SentencePiece model file.
//
// The pipeline is the one the Hugging Face tokenizers library runs, and must
// give the same ids: added (special) tokens cut out of the raw text, then the
// normalizer, pre-tokenizer, model (WordPiece, BPE, Unigram), post-processor
// (template: [CLS] ... [SEP]), truncation and padding. A SentencePiece file
// replaces the normalizer, pre-tokenizer and model with libsentencepiece
// (docs/tokenizers.md).
//
// Thread safety: a Tokenizer is immutable after loading except for
// set_truncation/set_padding; encode() may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simile/status.h"

namespace simile {

// One encoded text. All vectors have the same length (one entry per token).
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
  std::vector<int32_t> type_ids;
  std::vector<uint8_t> attention_mask;       // 1 = real token, 0 = padding
  std::vector<uint8_t> special_tokens_mask;  // 1 = added by the post-processor or padding
  // [begin, end) byte offsets of each token in the input text; (0, 0) for
  // tokens that come from no text (special tokens, padding).
  std::vector<std::pair<uint32_t, uint32_t>> offsets;

  size_t size() const { return ids.size(); }
};

enum class InvalidUtf8 {
  kReplace,  // each invalid sequence becomes U+FFFD (as String::from_utf8_lossy)
  kReject,   // encode() fails with a message naming the byte offset
};

// Which end of a sequence truncation cuts / padding fills.
enum class Side { kRight, kLeft };

struct TruncationOptions {
  // Total tokens including special tokens. Below the number of special
  // tokens, none of the text's tokens are kept.
  size_t max_length = 512;
  Side direction = Side::kRight;
  // For encode_pair: kLongestFirst shortens the longer sequence first; the
  // others shorten only that sequence (and fail if it is too short).
  enum class Strategy { kLongestFirst, kOnlyFirst, kOnlySecond };
  Strategy strategy = Strategy::kLongestFirst;
};

struct PaddingOptions {
  std::optional<size_t> fixed_length;  // pad every encoding to this length
  // When unset, encode_batch pads to the longest encoding in the batch and
  // encode() pads only up to pad_to_multiple_of.
  Side direction = Side::kRight;
  size_t pad_to_multiple_of = 0;  // round the padded length up to a multiple (0 = off)
  // Unset: the values of the file's own "padding", else the model's pad token
  // ("[PAD]", "<pad>"; id 0 if it has none) with type id 0. set_padding()
  // stores the resolved values, so padding() reports what is used.
  std::optional<int32_t> pad_id;
  std::optional<int32_t> pad_type_id;
  std::optional<std::string> pad_token;
};

class Tokenizer {
 public:
  // Loads tokenizer.json (file path, or its text). Truncation and padding are
  // taken from the file, as the tokenizers library does. A path ending in
  // ".model" is a SentencePiece file, loaded by from_sentencepiece with the
  // tokenizer_config.json of its directory (if there is one).
  static Result<std::unique_ptr<Tokenizer>> from_file(const std::string& path);
  static Result<std::unique_ptr<Tokenizer>> from_json(std::string_view json_text);
  // A SentencePiece model file (sentencepiece.bpe.model, spiece.model,
  // tokenizer.model) used as the transformers tokenizer class named in
  // `tokenizer_config_json` would use it: XLMRobertaTokenizer, T5Tokenizer or
  // LlamaTokenizer, with that file's special tokens, add_bos_token /
  // add_eos_token and legacy settings. Without a config (empty text) or a
  // class in it, the file's name picks the class. No truncation or padding.
  static Result<std::unique_ptr<Tokenizer>> from_sentencepiece(const std::string& model_path,
                                                               std::string_view tokenizer_config_json = {});

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  Result<Encoding> encode(std::string_view text, bool add_special_tokens = true) const;
  // A pair of texts (query + passage for cross-encoders): the post-processor's
  // pair template, e.g. [CLS] A [SEP] B [SEP] with B's type ids 1. Offsets of
  // the second text's tokens are into the second text.
  Result<Encoding> encode_pair(std::string_view first, std::string_view second, bool add_special_tokens = true) const;
  Result<std::vector<Encoding>> encode_batch(const std::vector<std::string>& texts,
                                             bool add_special_tokens = true) const;

  // std::nullopt disables truncation / padding.
  void set_truncation(std::optional<TruncationOptions> truncation);
  void set_padding(std::optional<PaddingOptions> padding);
  void set_invalid_utf8(InvalidUtf8 policy);
  const std::optional<TruncationOptions>& truncation() const;
  const std::optional<PaddingOptions>& padding() const;

  size_t vocab_size() const;  // including added tokens
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  int32_t pad_id() const;          // the id padding uses (see PaddingOptions::pad_id)
  std::string model_type() const;  // "WordPiece", "BPE", "Unigram", "SentencePiece"

  // How many special tokens encode() adds around one text (pair: two texts):
  // 2 for [CLS] A [SEP], 1 for A <|endoftext|>, 0 without a post-processor.
  size_t special_tokens_added(bool pair = false) const;

  // Replaces the post-processor with the template transformers' Llama-style
  // tokenizers build from add_bos_token / add_eos_token:
  //   single: [bos] $A [eos]    pair: [bos] $A [eos] [bos] $B [eos] (B's type id 1)
  // An empty token is left out. Errors: not_found for a token that is not in
  // the vocabulary. Not thread-safe: call before encoding.
  Status set_bos_eos(const std::string& bos, const std::string& eos);

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile
