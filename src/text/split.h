// Regex splitting of normalized text, as Hugging Face's
// NormalizedString::split: the Split pre-tokenizer, the regex stage of
// ByteLevel, and Sequence, which chains pre-tokenizers.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "text/pre_tokenizer.h"
#include "text/regex.h"

namespace simile::text {

// What becomes of the pattern's matches (the reference's SplitDelimiterBehavior).
enum class SplitBehavior {
  kRemoved,             // matches are dropped
  kIsolated,            // matches are words of their own
  kMergedWithPrevious,  // a match joins the word before it
  kMergedWithNext,      // a match joins the word after it
  kContiguous,          // consecutive matches (and consecutive non-matches) form one word
};

// A piece of the text: a match of the pattern or the gap between two.
struct SplitPiece {
  CharRange range;
  bool is_match;
};

// The matches of `re` in the text of `chars` and the gaps between them, in
// order, covering all of it (the reference's find_matches).
Status find_pieces(const Regex& re, std::span<const NormChar> chars, std::vector<SplitPiece>* pieces);

// Appends the non-empty words that `behavior` makes of `pieces` (flags
// flipped first when `invert`).
void split_pieces(std::span<const SplitPiece> pieces, SplitBehavior behavior, bool invert,
                  std::vector<CharRange>* words);

// Hugging Face's Split pre-tokenizer: pattern {"String": s} (matched
// literally) or {"Regex": r}, a behavior, and invert.
class SplitPreTokenizer final : public PreTokenizer {
 public:
  static Result<std::unique_ptr<SplitPreTokenizer>> create(std::string_view pattern, bool is_regex,
                                                           SplitBehavior behavior, bool invert);
  bool split_only() const override { return false; }
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  Status pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  SplitPreTokenizer() = default;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_ = SplitBehavior::kIsolated;
  bool invert_ = false;
};

// Hugging Face's Sequence of pre-tokenizers: each runs on every word the
// previous ones made.
class PreTokenizerSequence final : public PreTokenizer {
 public:
  explicit PreTokenizerSequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  bool split_only() const override { return false; }
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
  Status pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const override;

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace simile::text
