// Token-bounded chunking: cuts a long document into spans that each fit an
// embedding model's window, at the strongest boundary the text offers.
//
// One tokenization of the whole text finds the token boundaries; each cut is
// the latest boundary inside the token budget of the best kind available, best
// first: a markdown heading, a blank line, a line break that ends a sentence
// or starts a list item / quote / table row, a sentence end (. ! ? … and
// 。！？), a line break inside running text (prose wrapped at a fixed width),
// a clause (, ; :), a space between words, a boundary between tokens outside
// a word (punctuation, CJK ideographs), and only when a single word is longer
// than the budget, a boundary between a word's pieces. A stronger kind is only
// taken when it leaves the chunk reasonably full (a paragraph break at a third
// of the budget loses to a sentence end near its end). Cuts are never inside a
// UTF-8 character.
//
// WordPiece (and BPE) can tokenize a substring differently from the same span
// inside the whole text, so each chunk is re-encoded on its own and cut
// shorter until it fits: the caller may rely on
//   tokenizer.encode(text.substr(c.byte_begin, c.byte_end - c.byte_begin),
//                    /*add_special_tokens=*/false).size() <= max_tokens
// for every chunk, except a lone character that by itself encodes to more
// than max_tokens tokens (possible only with tiny budgets and byte-level BPE).
//
// Cost: two tokenizations of the text (the whole, then each chunk) plus a
// scan of the tokens' boundaries; linear in the text's length.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile::text {

struct ChunkOptions {
  // Tokens of the text in one chunk, not counting the special tokens ([CLS],
  // [SEP]) the model adds: a 256-token model window leaves 254.
  size_t max_tokens = 254;
  // Each chunk after the first starts about this many tokens before the end
  // of the one before (moved forward to the next word boundary), so a passage
  // cut in two is also seen whole. Must be < max_tokens.
  size_t overlap_tokens = 0;
};

// One chunk: [begin, end) in bytes and in Unicode code points of the input
// text. Spans start and end on non-whitespace and come in increasing order.
// Without overlap they do not overlap, and together they cover every
// non-whitespace character of the text.
struct Chunk {
  size_t byte_begin = 0;
  size_t byte_end = 0;
  size_t char_begin = 0;
  size_t char_end = 0;
  size_t tokens = 0;  // tokens of the span encoded alone, without special tokens
};

// Cuts `text` (valid UTF-8) into chunks of at most options.max_tokens tokens.
// A text that fits is one chunk (trimmed of surrounding whitespace); an empty
// or whitespace-only text has none.
//
// `tokenizer` must have truncation disabled (set_truncation(std::nullopt)):
// a truncated encoding would hide the tokens past the limit, so a tokenizer
// with truncation set is an error rather than a silent miscount. Padding is
// ignored (padding tokens are not counted).
//
// Errors: invalid UTF-8 (naming the byte offset), max_tokens == 0,
// overlap_tokens >= max_tokens, truncation set, or the tokenizer's own
// failures.
Result<std::vector<Chunk>> chunk_text(std::string_view text, const Tokenizer& tokenizer, const ChunkOptions& options);

}  // namespace simile::text
