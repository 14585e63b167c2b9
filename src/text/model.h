// Tokenizer models: turn one pre-tokenized word into vocabulary ids:
// WordPiece, BPE and Unigram from tokenizer.json, and SentencePiece model
// files behind the same interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "simile/status.h"

namespace simile::text {

// One token of a word: its id, its [begin, end) bytes within the word, and its
// text: a view into the model's vocabulary (valid while the model lives) or,
// for unknown text a model keeps as it is (Unigram), into the word.
struct ModelToken {
  int32_t id;
  uint32_t begin;
  uint32_t end;
  std::string_view text;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view type() const = 0;  // "WordPiece", as tokenizer.json names it
  // Appends the tokens of `word` (normalized UTF-8, not empty) to *out. Fails
  // only when the model file is unusable for this word (e.g. no unk token).
  virtual Status tokenize(std::string_view word, std::vector<ModelToken>* out) const = 0;
  // tokenize() for the word that starts the input text (at byte 0). Only a
  // SentencePiece model of a legacy=false tokenizer differs: its dummy "▁"
  // prefix goes there and not after every special token.
  virtual Status tokenize_text_start(std::string_view word, std::vector<ModelToken>* out) const {
    return tokenize(word, out);
  }
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string_view> id_to_token(int32_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

}  // namespace simile::text
