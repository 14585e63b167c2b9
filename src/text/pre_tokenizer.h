// Pre-tokenizers: split normalized text into words, which the model then
// tokenizes one at a time. Splits never cross a word, so a pre-tokenizer
// decides where sub-word pieces can start.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "text/normalizer.h"

namespace simile::text {

// [begin, end) indices into the NormChar sequence given to split().
struct CharRange {
  uint32_t begin;
  uint32_t end;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Appends the words of `chars`, in order, to *words.
  virtual void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const = 0;

  // Whether the words' text changes too (Metaspace puts "▁" for spaces and
  // before words): then the pipeline calls pre_tokenize() instead of split().
  virtual bool rewrites() const { return false; }
  // Splits each of *words (ranges of *chars, in order, none empty) further, in
  // place. A rewriting pre-tokenizer may replace *chars by a new sequence that
  // the new words index. The default splits every word with split().
  virtual void pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const;
};

// Hugging Face's BertPreTokenizer: whitespace separates words and is dropped;
// each punctuation character (ASCII punctuation or Unicode P* at 8.0) is a
// word of its own.
class BertPreTokenizer final : public PreTokenizer {
 public:
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
};

}  // namespace simile::text
