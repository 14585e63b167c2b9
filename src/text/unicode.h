// Character classes and mappings exactly as Hugging Face `tokenizers` 0.23
// applies them, so that our ids match its ids byte for byte.
//
// The library does not use one Unicode version:
//   - Cc/Cf/Co, P* and Mn come from the `unicode_categories` crate: Unicode 8.0.
//     A code point assigned later is none of these (kept, not split, not
//     stripped), and six older code points keep their 8.0 category.
//   - NFD comes from `unicode-normalization-alignments`: Unicode 9.0. Later code
//     points neither decompose nor reorder (combining class 0).
//   - Lowercase and White_Space come from Rust's std: the newest Unicode.
// utf8proc (Unicode 15) supplies the data; the age table generated from
// DerivedAge.txt (gen_unicode_age.py) winds it back to the old versions.
#pragma once

#include <algorithm>
#include <cstddef>

#include <cstddef>
#include <cstdint>

namespace simile::text {

// Unicode version that assigned cp, as major << 8 | minor; 0 if unassigned in
// the UCD the table was generated from.
uint16_t unicode_age(char32_t cp);

// Rust's char::is_whitespace (the White_Space property).
inline bool is_white_space(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

// unicode_categories' is_other(): Cc, Cf or Co at Unicode 8.0. (BertNormalizer
// treats \t \n \r as whitespace instead; that is the caller's rule.)
bool is_other_char(char32_t c);

// BertPreTokenizer's punctuation: ASCII punctuation, or P* at Unicode 8.0.
bool is_bert_punctuation(char32_t c);

// Mn at Unicode 8.0: what strip_accents removes.
bool is_nonspacing_mark(char32_t c);

// BertNormalizer's is_chinese_char: the CJK ideograph blocks it pads with
// spaces (not kana, not Hangul).
inline bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// A character the regex class \w matches (letters, marks, decimal digits,
// connector punctuation, joiners): decides single_word added tokens.
bool is_word_char(char32_t c);

// Rust's char::to_lowercase (full mapping, no context rules). Writes 1..3 code
// points to out and returns how many.
int to_lowercase(char32_t c, char32_t out[3]);

inline constexpr int kMaxDecomposition = 8;

// Canonical decomposition (recursive, Hangul included) as the Unicode 9.0 NFD
// tables have it; writes cp itself when it does not decompose. Returns the
// number of code points written (<= kMaxDecomposition).
int canonical_decomposition(char32_t c, char32_t out[kMaxDecomposition]);

// Canonical combining class as the Unicode 9.0 NFD tables have it.
uint8_t combining_class(char32_t c);

// Canonical ordering: sorts each run of non-starters (ccc != 0) by combining
// class, stably. Items are anything with a `ccc` member.
template <class Items>
void order_by_combining_class(Items& items) {
  for (size_t i = 0; i < items.size();) {
    if (items[i].ccc == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < items.size() && items[j].ccc != 0) ++j;
    if (j - i > 1)
      std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(j),
                       [](const auto& x, const auto& y) { return x.ccc < y.ccc; });
    i = j;
  }
}

}  // namespace simile::text
