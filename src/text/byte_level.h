// Byte-level text (GPT-2, RoBERTa, CLIP): the ByteLevel pre-tokenizer maps
// every byte of the UTF-8 text to one printable character, so that a
// vocabulary of 256 base symbols covers any text; and the offset trimming
// that the ByteLevel and RobertaProcessing post-processors apply.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "text/post_processor.h"
#include "text/pre_tokenizer.h"

namespace simile::text {

// GPT-2's byte -> character table: the printable bytes '!'..'~', 0xA1..0xAC
// and 0xAE..0xFF stand for themselves, the other 68 bytes for U+0100.. in
// byte order (the space 0x20 is U+0120 'Ġ').
char32_t byte_level_char(uint8_t byte);

// GPT-2's split pattern: contractions, letters, digits, other symbols (each
// with one optional leading space), and whitespace runs.
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Hugging Face's ByteLevel pre-tokenizer: a space is put before the text if
// add_prefix_space and it does not start with one; then the GPT-2 pattern
// splits it (use_regex), each match a word; then every byte becomes its
// character, each keeping the input range of the character it came from.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  struct Options {
    bool add_prefix_space = true;
    bool use_regex = true;
  };
  explicit ByteLevelPreTokenizer(Options options) : options_(options) {}
  bool split_only() const override { return false; }
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  Status pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  Options options_;
};

// The reference's byte-level process_offsets, applied to one sequence before
// special tokens are added: a token whose text starts (ends) with 'Ġ' or
// whitespace has its offsets shrunk past those characters, except the single
// space that add_prefix_space put before the first token.
void trim_byte_level_offsets(std::span<PieceToken> tokens, bool add_prefix_space);

}  // namespace simile::text
