// The tokenizer.json pre-tokenizers that split at characters of a class:
// Metaspace (SentencePiece-style "▁" words), Whitespace, WhitespaceSplit,
// Punctuation and Digits, with the reference's split behaviours (split.h).
#pragma once

#include <span>
#include <vector>

#include "text/pre_tokenizer.h"
#include "text/split.h"

namespace simile::text {

// Whitespace: maximal runs of word characters (\w) or of other non-space
// characters, as the regex \w+|[^\w\s]+ finds them; spaces are dropped.
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
};

// WhitespaceSplit: runs of non-whitespace.
class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
};

// Punctuation (ASCII punctuation or P* at Unicode 8.0) split with `behavior`.
class PunctuationPreTokenizer final : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;

 private:
  SplitBehavior behavior_;
};

// Digits (N*): each digit alone when individual, else runs of digits.
class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;

 private:
  bool individual_;
};

// Metaspace: spaces become `replacement` ("▁"), the replacement is put in
// front (always, only for the piece at the start of the input, or never)
// unless the piece starts with one, and then, when `split`, the piece is cut
// before every replacement character. The prepended character points at the
// piece's first character, so offsets do not include it.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspacePreTokenizer(char32_t replacement, Prepend prepend, bool split)
      : replacement_(replacement), prepend_(prepend), split_(split) {}
  bool split_only() const override { return false; }
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  Status pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  char32_t replacement_;
  Prepend prepend_;
  bool split_;
};

// Splits chars[begin, end) at the chars where is_delim holds, each delimiter a
// match of its own, appending the non-empty words (indices into chars) that
// `behavior` makes to *words.
template <typename Pred>
void split_at(std::span<const NormChar> chars, uint32_t begin, uint32_t end, Pred is_delim, SplitBehavior behavior,
              std::vector<CharRange>* words) {
  thread_local std::vector<SplitPiece> pieces;
  pieces.clear();
  uint32_t i = begin;
  while (i < end) {
    if (is_delim(chars[i].cp)) {
      pieces.push_back({{i, i + 1}, true});
      ++i;
      continue;
    }
    uint32_t j = i + 1;
    while (j < end && !is_delim(chars[j].cp)) ++j;
    pieces.push_back({{i, j}, false});
    i = j;
  }
  split_pieces(pieces, behavior, /*invert=*/false, words);
}

}  // namespace simile::text
