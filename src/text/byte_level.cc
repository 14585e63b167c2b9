#include "text/byte_level.h"

#include <algorithm>
#include <array>

#include "text/split.h"
#include "text/utf8.h"
#include "util/check.h"

namespace simile::text {

namespace {

struct ByteTable {
  std::array<char32_t, 256> chars{};
  ByteTable() {
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      chars[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
  }
};

const ByteTable kByteTable;

const Regex& gpt2_regex() {
  static const std::unique_ptr<Regex> re = [] {
    auto r = Regex::compile(kGpt2SplitPattern);
    SIMILE_CHECK(r.is_ok());
    return std::move(*r);
  }();
  return *re;
}

// Rust's char::is_whitespace: the Unicode White_Space property.
bool is_rust_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

constexpr char32_t kSpaceChar = 0x120;  // 'Ġ', the byte-level space

struct ByteLevelWorkspace {
  std::vector<SplitPiece> pieces;
  std::vector<CharRange> ranges;
  std::vector<NormChar> mapped;
  std::vector<uint32_t> first_mapped;  // char index -> index of its first byte char
};

thread_local ByteLevelWorkspace tls_byte_level;

}  // namespace

char32_t byte_level_char(uint8_t byte) { return kByteTable.chars[byte]; }

void ByteLevelPreTokenizer::split(std::span<const NormChar>, std::vector<CharRange>*) const {
  SIMILE_CHECK(false && "ByteLevelPreTokenizer runs through pre_tokenize()");
}

Status ByteLevelPreTokenizer::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  if (chars->empty()) return Status::ok();
  ByteLevelWorkspace& ws = tls_byte_level;
  if (options_.add_prefix_space && (*chars)[0].cp != ' ') {
    // The space takes the range of the character it is put before.
    const NormChar first = (*chars)[0];
    chars->insert(chars->begin(), NormChar{' ', first.begin, first.end});
  }
  ws.ranges.clear();
  if (options_.use_regex) {
    ws.pieces.clear();
    SIMILE_RETURN_IF_ERROR(find_pieces(gpt2_regex(), *chars, &ws.pieces));
    split_pieces(ws.pieces, SplitBehavior::kIsolated, false, &ws.ranges);
  } else {
    ws.ranges.push_back({0, static_cast<uint32_t>(chars->size())});
  }
  // Every byte of a character becomes one character with that character's range.
  ws.mapped.clear();
  ws.first_mapped.clear();
  for (const NormChar& ch : *chars) {
    ws.first_mapped.push_back(static_cast<uint32_t>(ws.mapped.size()));
    char buf[4];
    const int n = encode_utf8(ch.cp, buf);
    for (int i = 0; i < n; ++i) {
      ws.mapped.push_back({byte_level_char(static_cast<uint8_t>(buf[i])), ch.begin, ch.end});
    }
  }
  ws.first_mapped.push_back(static_cast<uint32_t>(ws.mapped.size()));
  for (const CharRange& r : ws.ranges) words->push_back({ws.first_mapped[r.begin], ws.first_mapped[r.end]});
  chars->swap(ws.mapped);
  return Status::ok();
}

void trim_byte_level_offsets(std::span<PieceToken> tokens, bool add_prefix_space) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    PieceToken& t = tokens[i];
    const auto* p = reinterpret_cast<const unsigned char*>(t.text.data());
    const size_t n = t.text.size();
    // Leading and trailing space characters, and the input bytes they stand
    // for: one for 'Ġ' (a space byte), their own UTF-8 length otherwise (the
    // text of an added token that took in whitespace by lstrip/rstrip).
    uint32_t leading = 0, leading_bytes = 0;
    for (size_t k = 0; k < n;) {
      const Utf8Step st = decode_utf8(p + k, n - k);
      if (st.cp != kSpaceChar && !is_rust_whitespace(st.cp)) break;
      ++leading;
      leading_bytes += st.cp == kSpaceChar ? 1 : st.len;
      k += st.len;
    }
    uint32_t trailing = 0, trailing_bytes = 0;
    for (size_t k = n; k > 0;) {
      size_t start = k - 1;
      while (start > 0 && (p[start] & 0xC0) == 0x80) --start;
      const Utf8Step st = decode_utf8(p + start, k - start);
      if (st.cp != kSpaceChar && !is_rust_whitespace(st.cp)) break;
      ++trailing;
      trailing_bytes += st.cp == kSpaceChar ? 1 : st.len;
      k = start;
    }
    if (leading > 0) {
      const bool is_first = i == 0 || t.begin == 0;
      // The one space add_prefix_space added is kept; more were in the text.
      if (!(is_first && add_prefix_space && leading == 1)) t.begin = std::min(t.begin + leading_bytes, t.end);
    }
    if (trailing > 0 && t.end >= trailing_bytes) t.end = std::max(t.end - trailing_bytes, t.begin);
  }
}

}  // namespace simile::text
