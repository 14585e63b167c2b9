// UTF-8 decoding for the tokenizer: one code point at a time with its length,
// and the replacement of invalid input that Rust's String::from_utf8_lossy
// does, so that a text the Hugging Face tokenizer received through that
// conversion tokenizes the same here.
//
// Every function accepts any byte sequence: invalid input is never undefined
// behaviour, only U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace simile::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct Utf8Step {
  char32_t cp;   // the code point, or U+FFFD when !valid
  uint32_t len;  // bytes consumed (1..4); never 0
  bool valid;
};

// Decodes the sequence at the start of [p, p + n), n >= 1. When the bytes
// there are not valid UTF-8 it consumes the maximal prefix of a valid sequence
// (at least one byte), as Unicode's "maximal subpart" practice and
// from_utf8_lossy do: E2 82 41 is U+FFFD then 'A', F0 80 is two U+FFFD.
Utf8Step decode_utf8(const unsigned char* p, size_t n);

// Byte offset of the first invalid sequence in s, or std::string_view::npos.
size_t find_invalid_utf8(std::string_view s);

// s with each invalid sequence replaced by U+FFFD. `source_offset` receives, for
// every byte position of the result (0..size inclusive), the byte offset in s
// that position came from, so offsets into the result can be mapped back
// (null: not wanted).
std::string utf8_lossy(std::string_view s, std::vector<uint32_t>* source_offset);

// Writes the UTF-8 encoding of a valid code point (not a surrogate, <= 0x10FFFF)
// to out[0..3] and returns its length.
inline int encode_utf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

inline void append_utf8(char32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, static_cast<size_t>(encode_utf8(cp, buf)));
}

// Number of code points in valid UTF-8 (counts the bytes that are not
// continuation bytes).
inline size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace simile::text
