// Truncation of one text or a pair, as Hugging Face tokenizers 0.23 does it,
// before the post-processor adds its special tokens.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "simile/status.h"
#include "simile/tokenizer.h"
#include "text/post_processor.h"

namespace simile::text {

// Where one split of a text ends in its tokens: a word of the pre-tokenizer
// (from_model) or an added token.
struct SplitEnd {
  uint32_t end;  // tokens of the text up to and including this split
  bool from_model;
};

// The reference stops tokenizing a text once a word brings it to
// t.max_length tokens (an added token never stops it), from the end that
// truncation cuts: the words after it (before it, for kLeft) are dropped
// unseen. Two long texts are then of similar length, which decides how
// LongestFirst shares max_length between them. `splits` are the splits of
// *tokens, in order.
void stop_at_max_length(std::vector<PieceToken>* tokens, std::span<const SplitEnd> splits, const TruncationOptions& t);

// The reference's truncate_encodings: fits a (+ b, when `pair`) into
// max_length tokens (t.max_length less the special tokens to come).
// LongestFirst shortens the longer text first; OnlyFirst / OnlySecond fail
// when that text is too short to lose what must go (as the reference does).
Status truncate(std::vector<PieceToken>* a, std::vector<PieceToken>* b, bool pair, size_t max_length,
                const TruncationOptions& t);

}  // namespace simile::text
