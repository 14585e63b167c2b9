#include "text/pre_tokenizer.h"

#include "text/unicode.h"

namespace simile::text {

namespace {

enum CharKind : unsigned char { kWordChar = 0, kSpace = 1, kPunct = 2 };

struct AsciiKinds {
  CharKind kind[128];
  AsciiKinds() : kind() {
    for (int c = 0; c < 128; ++c) {
      kind[c] = is_white_space(static_cast<char32_t>(c))        ? kSpace
                : is_bert_punctuation(static_cast<char32_t>(c)) ? kPunct
                                                                : kWordChar;
    }
  }
};

const AsciiKinds kAsciiKinds;

inline CharKind kind_of(char32_t c) {
  if (c < 0x80) return kAsciiKinds.kind[c];
  if (is_white_space(c)) return kSpace;
  if (is_bert_punctuation(c)) return kPunct;
  return kWordChar;
}

}  // namespace

void BertPreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  const uint32_t n = static_cast<uint32_t>(chars.size());
  uint32_t start = 0;  // first char of the word being collected
  for (uint32_t i = 0; i < n; ++i) {
    const CharKind k = kind_of(chars[i].cp);
    if (k == kWordChar) continue;
    if (start < i) words->push_back({start, i});
    if (k == kPunct) words->push_back({i, i + 1});
    start = i + 1;
  }
  if (start < n) words->push_back({start, n});
}

}  // namespace simile::text
