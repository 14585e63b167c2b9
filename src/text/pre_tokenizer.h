// Pre-tokenizers: split normalized text into words, which the model then
// tokenizes one at a time. Splits never cross a word, so a pre-tokenizer
// decides where sub-word pieces can start.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "simile/status.h"
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

  // Whether split() is all this pre-tokenizer does. Those that also rewrite
  // characters (ByteLevel maps each byte to a printable character, Metaspace
  // puts "▁" for spaces and before words) or can fail (a regex engine error)
  // return false, and are run through pre_tokenize() instead: it may replace
  // *chars, and the words it appends then index into the new sequence.
  // Either way the input is one piece of text (the whole normalized text, or
  // one word of an earlier step in a PreTokenizerSequence), as the reference
  // runs every pre-tokenizer on each split separately.
  virtual bool split_only() const { return true; }
  virtual Status pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
    split(*chars, words);
    return Status::ok();
  }
};

// Hugging Face's BertPreTokenizer: whitespace separates words and is dropped;
// each punctuation character (ASCII punctuation or Unicode P* at 8.0) is a
// word of its own.
class BertPreTokenizer final : public PreTokenizer {
 public:
  void split(std::span<const NormChar> chars, std::vector<CharRange>* words) const override;
};

}  // namespace simile::text
