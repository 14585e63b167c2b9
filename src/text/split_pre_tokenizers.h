// The tokenizer.json pre-tokenizers beyond BertPreTokenizer: Metaspace
// (SentencePiece-style "▁" words), Whitespace, WhitespaceSplit, Punctuation,
// Digits and Sequence, with the reference's split behaviours.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "text/pre_tokenizer.h"

namespace simile::text {

// What becomes of the delimiters when a word is split at them (the reference's
// SplitDelimiterBehavior). Each delimiter character is a match of its own.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

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

// Metaspace: in each word, spaces become `replacement` ("▁"), the replacement
// is put in front (always, only for the word at the start of the input, or
// never) unless the word starts with one, and then, when `split`, the word is
// cut before every replacement character. The prepended character points at
// the word's first character, so offsets do not include it.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspacePreTokenizer(char32_t replacement, Prepend prepend, bool split)
      : replacement_(replacement), prepend_(prepend), split_(split) {}
  // Where the words would split (before each space), without the rewrite.
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  bool rewrites() const override { return true; }
  void pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  char32_t replacement_;
  Prepend prepend_;
  bool split_;
};

// Sequence: each pre-tokenizer splits the words of the one before.
class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps);
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  bool rewrites() const override { return rewrites_; }
  void pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
  bool rewrites_ = false;
};

// Splits chars[begin, end) at the chars where is_delim holds, appending the
// non-empty words (indices into chars) to *words.
template <typename Pred>
void split_at(std::span<const NormChar> chars, uint32_t begin, uint32_t end, Pred is_delim, SplitBehavior behavior,
              std::vector<CharRange>* words) {
  const size_t first_new = words->size();
  if (behavior == SplitBehavior::kMergedWithNext) {
    // Mirror image of kMergedWithPrevious: built from the end, then reversed.
    bool next_is_delim = false;
    uint32_t i = end;
    while (i > begin) {
      if (is_delim(chars[i - 1].cp)) {
        if (!next_is_delim && words->size() > first_new) {
          words->back().begin = i - 1;
        } else {
          words->push_back({i - 1, i});
        }
        next_is_delim = true;
        --i;
        continue;
      }
      uint32_t j = i - 1;
      while (j > begin && !is_delim(chars[j - 1].cp)) --j;
      words->push_back({j, i});
      next_is_delim = false;
      i = j;
    }
    std::reverse(words->begin() + static_cast<std::ptrdiff_t>(first_new), words->end());
    return;
  }
  bool prev_is_delim = false;
  uint32_t i = begin;
  while (i < end) {
    if (!is_delim(chars[i].cp)) {
      uint32_t j = i + 1;
      while (j < end && !is_delim(chars[j].cp)) ++j;
      words->push_back({i, j});
      prev_is_delim = false;
      i = j;
      continue;
    }
    switch (behavior) {
      case SplitBehavior::kRemoved:
        break;
      case SplitBehavior::kIsolated:
        words->push_back({i, i + 1});
        break;
      case SplitBehavior::kContiguous:
      case SplitBehavior::kMergedWithPrevious: {
        const bool extend = behavior == SplitBehavior::kContiguous ? prev_is_delim : !prev_is_delim;
        if (extend && words->size() > first_new) {
          words->back().end = i + 1;
        } else {
          words->push_back({i, i + 1});
        }
        break;
      }
      case SplitBehavior::kMergedWithNext:
        break;  // handled above
    }
    prev_is_delim = true;
    ++i;
  }
}

}  // namespace simile::text
