// Normalizers: the first stage of the tokenizer pipeline after added tokens are
// cut out. They rewrite a text one code point at a time while every code point
// keeps the byte range of the input it came from, which is how token offsets
// point back into the caller's text (Hugging Face's NormalizedString alignments
// reduced to what encoding needs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace simile::text {

// A code point of the normalized text and the [begin, end) bytes of the input
// it came from. Code points produced from one input character (a decomposition,
// a multi-char lowercase, padding spaces) all carry that character's range.
struct NormChar {
  char32_t cp;
  uint32_t begin;
  uint32_t end;
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites *chars in place. `scratch` is working memory the caller keeps
  // between calls so the hot path does not allocate.
  virtual void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const = 0;
};

// Hugging Face's BertNormalizer, in its order: clean text, pad CJK ideographs
// with spaces, strip accents (NFD then drop Mn), lowercase.
class BertNormalizer final : public Normalizer {
 public:
  struct Options {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool strip_accents = true;  // tokenizer.json's null means "same as lowercase"
    bool lowercase = true;
  };
  explicit BertNormalizer(Options options);
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  // Per ASCII character: what the clean/pad/lowercase pass makes of it (0xFF =
  // dropped); ASCII never decomposes nor is a mark, so this is all it needs.
  unsigned char ascii_map_[128];
  Options options_;
};

// Decodes valid UTF-8 into NormChars whose ranges are offsets into `text` plus
// `base`. The caller guarantees validity (see utf8.h for lossy conversion).
void decode_to_chars(std::string_view text, uint32_t base, std::vector<NormChar>* out);

// Runs `normalizer` (may be null) over a whole string: used to normalize the
// content of added tokens that match the normalized text.
std::string normalize_string(const Normalizer* normalizer, std::string_view text);

}  // namespace simile::text
