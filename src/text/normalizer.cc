#include "text/normalizer.h"

#include <algorithm>
#include <utility>

#include "text/unicode.h"
#include "text/utf8.h"

namespace simile::text {

namespace {

constexpr unsigned char kDrop = 0xFF;

// Appends the lowercase of ch (one or more code points, all with ch's range).
inline void push_lowercase(const NormChar& ch, std::vector<NormChar>* out) {
  char32_t low[3];
  const int n = to_lowercase(ch.cp, low);
  for (int i = 0; i < n; ++i) out->push_back({low[i], ch.begin, ch.end});
}

// A code point out of NFD: its combining class, and whether it was inserted
// (not the first code point of its character's decomposition).
struct DecomposedChar {
  char32_t cp;
  uint8_t ccc;
  bool inserted;
};

thread_local std::vector<DecomposedChar> tls_decomposed;

}  // namespace

BertNormalizer::BertNormalizer(Options options) : options_(options) {
  for (int c = 0; c < 128; ++c) {
    unsigned char m = static_cast<unsigned char>(c);
    if (options_.clean_text) {
      const bool ws = c == '\t' || c == '\n' || c == '\r' || c == ' ';
      // Other C0 controls (\v and \f too) and DEL are removed before the
      // whitespace mapping, as in the reference.
      if (!ws && (c < 0x20 || c == 0x7F)) m = kDrop;
      if (ws) m = ' ';
    }
    if (m != kDrop && options_.lowercase && m >= 'A' && m <= 'Z') m = static_cast<unsigned char>(m + 32);
    ascii_map_[c] = m;
  }
}

void BertNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  // Pass 1: clean text and CJK padding (and lowercase, when no accent
  // stripping comes between them: every step is per character).
  const bool lower_now = options_.lowercase && !options_.strip_accents;
  std::vector<NormChar>& out = *scratch;
  out.clear();
  out.reserve(chars->size() + 8);
  for (const NormChar& ch : *chars) {
    char32_t c = ch.cp;
    if (c < 0x80) {
      const unsigned char m = ascii_map_[c];
      if (m != kDrop) out.push_back({m, ch.begin, ch.end});
      continue;
    }
    if (options_.clean_text) {
      if (c == kReplacementChar || is_other_char(c)) continue;
      if (is_white_space(c)) c = ' ';
    }
    if (options_.handle_chinese_chars && is_chinese_char(c)) {
      out.push_back({' ', ch.begin, ch.end});
      out.push_back({c, ch.begin, ch.end});
      out.push_back({' ', ch.begin, ch.end});
      continue;
    }
    if (lower_now) {
      push_lowercase({c, ch.begin, ch.end}, &out);
    } else {
      out.push_back({c, ch.begin, ch.end});
    }
  }
  std::swap(*chars, out);
  if (!options_.strip_accents) return;

  // Pass 2: NFD, then drop Mn, then lowercase (fused below).
  bool simple = true;  // nothing at or above U+00C0: no decomposition, no marks
  for (const NormChar& ch : *chars) {
    if (ch.cp >= 0xC0) {
      simple = false;
      break;
    }
  }
  if (simple) {
    if (!options_.lowercase) return;
    out.clear();
    for (const NormChar& ch : *chars) push_lowercase(ch, &out);
    std::swap(*chars, out);
    return;
  }

  // The reference's NFD emits each decomposition as (first char, "replaces
  // the next input char") then (rest, "inserted"), and canonical reordering
  // stable-sorts each run of non-starters by combining class with those tags
  // travelling along. Input ranges are then handed out by position, not by
  // character: a replacing char takes the next input char's range, an
  // inserted one the previous input char's. Reordered marks thus swap
  // ranges, which token offsets show; emulate it exactly.
  std::vector<DecomposedChar>& items = tls_decomposed;
  items.clear();
  char32_t dec[kMaxDecomposition];
  for (const NormChar& ch : *chars) {
    if (ch.cp < 0xC0) {
      items.push_back({ch.cp, 0, false});
      continue;
    }
    const int n = canonical_decomposition(ch.cp, dec);
    for (int i = 0; i < n; ++i) items.push_back({dec[i], combining_class(dec[i]), i > 0});
  }
  order_by_combining_class(items);
  out.clear();
  out.reserve(items.size());
  size_t next = 0;  // input chars whose range has been handed out
  const std::vector<NormChar>& in = *chars;
  for (const DecomposedChar& d : items) {
    NormChar ch{d.cp, 0, 0};
    if (!d.inserted) {
      ch.begin = in[next].begin;
      ch.end = in[next].end;
      ++next;
    } else {
      const NormChar& prev = in[next > 0 ? next - 1 : 0];
      ch.begin = prev.begin;
      ch.end = prev.end;
    }
    if (is_nonspacing_mark(d.cp)) continue;
    if (options_.lowercase) {
      push_lowercase(ch, &out);
    } else {
      out.push_back(ch);
    }
  }
  std::swap(*chars, out);
}

void decode_to_chars(std::string_view text, uint32_t base, std::vector<NormChar>* out) {
  out->clear();
  out->reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      out->push_back({p[i], base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i + 1)});
      ++i;
      continue;
    }
    const Utf8Step st = decode_utf8(p + i, n - i);
    out->push_back({st.cp, base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i + st.len)});
    i += st.len;
  }
}

std::string normalize_string(const Normalizer* normalizer, std::string_view text) {
  std::vector<NormChar> chars, scratch;
  decode_to_chars(text, 0, &chars);
  if (normalizer != nullptr) normalizer->normalize(&chars, &scratch);
  std::string out;
  out.reserve(chars.size());
  for (const NormChar& ch : chars) append_utf8(ch.cp, &out);
  return out;
}

}  // namespace simile::text
