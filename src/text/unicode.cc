#include "text/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

namespace simile::text {

namespace {

struct AgeRange {
  char32_t first;
  char32_t last;
  uint16_t age;
};

constexpr AgeRange kAgeRanges[] = {
#include "text/unicode_age_table.inc"
};

constexpr uint16_t kUnicode8 = 0x800;  // unicode_categories 0.1.1
constexpr uint16_t kUnicode9 = 0x900;  // unicode-normalization-alignments 0.1.12

bool assigned_by(char32_t c, uint16_t version) {
  const uint16_t age = unicode_age(c);
  return age != 0 && age <= version;
}

// Code points whose category changed after Unicode 8.0 in a way that matters
// here; the crate still answers with the 8.0 category.
//   U+166D CANADIAN SYLLABICS CHI SIGN: Po in 8.0 (So since 12.0).
//   U+111C9 SHARADA SANDHI MARK: Po in 8.0 (Mn since 13.0).
//   U+1734 HANUNOO SIGN PAMUDPOD: Mn in 8.0 (Mc since 14.0).
//   U+1885, U+1886 MONGOLIAN LETTER ALI GALI BALUDA/THREE BALUDA: Lo in 8.0 (Mn since 9.0).
//   U+A9BD JAVANESE CONSONANT SIGN KERET: Mc in 8.0 (Mn since 12.0).
constexpr bool was_punctuation_in_8(char32_t c) { return c == 0x166D || c == 0x111C9; }
constexpr bool was_mn_in_8(char32_t c) { return c == 0x1734; }
constexpr bool was_not_mn_in_8(char32_t c) { return c == 0x1885 || c == 0x1886 || c == 0xA9BD || c == 0x111C9; }

bool is_punct_category(utf8proc_category_t cat) {
  return cat == UTF8PROC_CATEGORY_PC || cat == UTF8PROC_CATEGORY_PD || cat == UTF8PROC_CATEGORY_PS ||
         cat == UTF8PROC_CATEGORY_PE || cat == UTF8PROC_CATEGORY_PI || cat == UTF8PROC_CATEGORY_PF ||
         cat == UTF8PROC_CATEGORY_PO;
}

// Case pairs newer than utf8proc 2.8 (Unicode 15) that Rust's std (Unicode 17
// in the build of tokenizers 0.23.2) lowercases. Found by lowercasing every code
// point with the reference (tests/golden/tokenizers/hf_unicode_classes.mjs);
// the UnicodeHfTable test fails if one is missing.
struct CaseRange {
  char32_t first;
  char32_t last;
  int32_t delta;  // lowercase = c + delta
};
constexpr CaseRange kNewerLowercase[] = {
    {0x1C89, 0x1C89, 1},                // CYRILLIC CAPITAL LETTER TJE (16.0)
    {0xA7CB, 0xA7CB, 0x0264 - 0xA7CB},  // LATIN CAPITAL LETTER RAMS HORN (16.0)
    {0xA7CC, 0xA7CC, 1},                // LATIN CAPITAL LETTER S WITH DIAGONAL STROKE (16.0)
    {0xA7CE, 0xA7CE, 1},                // (17.0)
    {0xA7D2, 0xA7D2, 1},                // (17.0)
    {0xA7D4, 0xA7D4, 1},                // (17.0)
    {0xA7DA, 0xA7DA, 1},                // LATIN CAPITAL LETTER LAMBDA (16.0)
    {0xA7DC, 0xA7DC, 0x019B - 0xA7DC},  // LATIN CAPITAL LETTER LAMBDA WITH STROKE (16.0)
    {0x10D50, 0x10D65, 0x20},           // GARAY capitals (16.0)
    {0x16EA0, 0x16EB8, 0x1B},           // BERIA ERFE capitals (17.0)
};

}  // namespace

uint16_t unicode_age(char32_t c) {
  const AgeRange* end = std::end(kAgeRanges);
  const AgeRange* it =
      std::upper_bound(std::begin(kAgeRanges), end, c, [](char32_t v, const AgeRange& r) { return v < r.first; });
  if (it == std::begin(kAgeRanges)) return 0;
  --it;
  return c <= it->last ? it->age : 0;
}

bool is_other_char(char32_t c) {
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  const auto cat = static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
  if (cat != UTF8PROC_CATEGORY_CC && cat != UTF8PROC_CATEGORY_CF && cat != UTF8PROC_CATEGORY_CO) return false;
  return assigned_by(c, kUnicode8);
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
  }
  if (was_punctuation_in_8(c)) return true;
  const auto cat = static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
  return is_punct_category(cat) && assigned_by(c, kUnicode8);
}

bool is_nonspacing_mark(char32_t c) {
  if (c < 0x300) return false;
  if (was_mn_in_8(c)) return true;
  if (was_not_mn_in_8(c)) return false;
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_MN && assigned_by(c, kUnicode8);
}

bool is_word_char(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  if (c == 0x200C || c == 0x200D) return true;  // Join_Control
  // Other_Alphabetic symbols: circled and squared Latin letters.
  if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
      (c >= 0x1F170 && c <= 0x1F189)) {
    return true;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

int to_lowercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  if (c == 0x130) {  // the only unconditional multi-char lowercase mapping
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  for (const CaseRange& r : kNewerLowercase) {
    if (c >= r.first && c <= r.last) {
      out[0] = static_cast<char32_t>(static_cast<int32_t>(c) + r.delta);
      return 1;
    }
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

int canonical_decomposition(char32_t c, char32_t out[kMaxDecomposition]) {
  // Nothing below U+00C0 decomposes; code points newer than the crate's tables
  // do not decompose there.
  if (c < 0xC0 || !assigned_by(c, kUnicode9)) {
    out[0] = c;
    return 1;
  }
  utf8proc_int32_t buf[kMaxDecomposition];
  int boundclass = 0;
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, kMaxDecomposition,
                                                     UTF8PROC_DECOMPOSE, &boundclass);
  if (n <= 0 || n > kMaxDecomposition) {  // cannot happen for canonical decompositions
    out[0] = c;
    return 1;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return static_cast<int>(n);
}

uint8_t combining_class(char32_t c) {
  if (c < 0x300 || !assigned_by(c, kUnicode9)) return 0;
  return static_cast<uint8_t>(utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class);
}

}  // namespace simile::text
