// The inside of simile::Tokenizer: the pipeline components one tokenizer.json
// describes, and the settings that apply after them.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "simile/tokenizer.h"
#include "text/added_vocabulary.h"
#include "text/model.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"

namespace simile {

struct Tokenizer::Impl {
  std::unique_ptr<text::Normalizer> normalizer;         // null: text as is
  std::unique_ptr<text::PreTokenizer> pre_tokenizer;    // null: each piece is one word
  std::unique_ptr<text::Model> model;                   // never null
  std::unique_ptr<text::PostProcessor> post_processor;  // null: no special tokens
  text::AddedVocabulary added;

  std::optional<TruncationOptions> truncation;
  std::optional<PaddingOptions> padding;       // resolved (pad id/token set)
  std::optional<PaddingOptions> file_padding;  // the file's, for defaults
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kReplace;

  // Fills unset pad id / type id / token.
  PaddingOptions resolve_padding(PaddingOptions p) const;
  // Tokenizes one text without special tokens, truncation or padding.
  Status encode_text(std::string_view text, std::vector<text::PieceToken>* out) const;
  // encode()/encode_pair() without padding.
  Result<Encoding> encode_unpadded(std::string_view a, const std::string_view* b, bool add_special_tokens) const;
  void pad(Encoding* e, size_t length) const;
};

namespace text {
// Builds a tokenizer from tokenizer.json text (tokenizer_json.cc).
Result<std::unique_ptr<Tokenizer::Impl>> load_tokenizer_json(std::string_view json_text);
// Builds a tokenizer from a SentencePiece model file's content, the text of
// its tokenizer_config.json (may be empty) and the file's name
// (sentencepiece_tokenizer.cc).
Result<std::unique_ptr<Tokenizer::Impl>> load_sentencepiece(std::string serialized,
                                                            std::string_view tokenizer_config_json,
                                                            std::string_view file_name);
}  // namespace text

}  // namespace simile
