#include "text/utf8.h"

namespace simile::text {

Utf8Step decode_utf8(const unsigned char* p, size_t n) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return {b0, 1, true};

  // The second byte's allowed range depends on the lead byte (this excludes
  // overlong forms, surrogates and code points above U+10FFFF); later
  // continuation bytes are always 80..BF.
  uint32_t need;  // continuation bytes after the lead
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {kReplacementChar, 1, false};  // 80..C1, F5..FF never start a sequence
  }
  for (uint32_t k = 1; k <= need; ++k) {
    if (k >= n) return {kReplacementChar, k, false};  // truncated at the end
    const unsigned char b = p[k];
    if (b < lo || b > hi) return {kReplacementChar, k, false};
    cp = (cp << 6) | (b & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  return {cp, need + 1, true};
}

size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    Utf8Step st = decode_utf8(p + i, n - i);
    if (!st.valid) return i;
    i += st.len;
  }
  return std::string_view::npos;
}

std::string utf8_lossy(std::string_view s, std::vector<uint32_t>* source_offset) {
  std::string out;
  out.reserve(s.size() + 8);
  if (source_offset != nullptr) {
    source_offset->clear();
    source_offset->reserve(s.size() + 9);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    Utf8Step st = decode_utf8(p + i, n - i);
    const size_t before = out.size();
    if (st.valid) {
      out.append(s.data() + i, st.len);
    } else {
      append_utf8(kReplacementChar, &out);
    }
    // Every byte of the output char maps to where the input char starts; only
    // char boundaries are ever looked up.
    if (source_offset != nullptr)
      for (size_t k = before; k < out.size(); ++k) source_offset->push_back(static_cast<uint32_t>(i));
    i += st.len;
  }
  if (source_offset != nullptr) source_offset->push_back(static_cast<uint32_t>(n));
  return out;
}

}  // namespace simile::text
