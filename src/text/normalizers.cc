#include "text/normalizers.h"

#include <utf8proc.h>

#include <algorithm>
#include <utility>

#include "text/unicode.h"
#include "text/utf8.h"

namespace simile::text {

namespace {

using Edit = std::pair<char32_t, int>;  // (char, change) as the reference's transform() takes them

thread_local std::vector<Edit> tls_edits;
thread_local std::string tls_utf8;

void apply_edits(std::span<const Edit> edits, std::vector<NormChar>* chars, std::vector<NormChar>* scratch,
                 size_t skip = 0) {
  scratch->clear();
  scratch->reserve(edits.size());
  EditWriter w(*chars, scratch, skip);
  for (const Edit& e : edits) w.push(e.first, e.second);
  std::swap(*chars, *scratch);
}

// --- Unicode normal forms ------------------------------------------------------

constexpr int kMaxCompatDecomposition = 32;  // the longest (U+FDFA) has 18

constexpr uint16_t kUnicode9Age = 0x900;  // unicode-normalization-alignments 0.1.12

bool assigned_by_9(char32_t c) {
  const uint16_t age = unicode_age(c);
  return age != 0 && age <= kUnicode9Age;
}

// Full compatibility decomposition with the Unicode 9.0 tables.
int compatibility_decomposition(char32_t c, char32_t* out) {
  if (c < 0xA0 || !assigned_by_9(c)) {
    out[0] = c;
    return 1;
  }
  utf8proc_int32_t buf[kMaxCompatDecomposition];
  int boundclass = 0;
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, kMaxCompatDecomposition,
                              static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), &boundclass);
  if (n <= 0 || n > kMaxCompatDecomposition) {
    out[0] = c;
    return 1;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return static_cast<int>(n);
}

// The primary composite of a + b (Unicode 9.0), or 0.
char32_t compose_pair(char32_t a, char32_t b) {
  // Hangul syllables: LV and LV + T.
  constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kLCount * kNCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  if (!assigned_by_9(a) || !assigned_by_9(b)) return 0;
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, UTF8PROC_COMPOSE);
  if (n != 1) return 0;
  const auto r = static_cast<char32_t>(buf[0]);
  return assigned_by_9(r) ? r : 0;
}

struct Decomposed {
  char32_t cp;
  uint8_t ccc;
  int change;
};

thread_local std::vector<Decomposed> tls_decomposed;

// The reference's recomposition (Rust unicode-normalization's, with changes
// travelling along): composing a character into the one before it folds
// their changes (k + c - 1); blocked marks wait in a buffer.
void recompose(std::span<const Decomposed> items, std::vector<Edit>* out) {
  std::optional<Edit> composee;
  std::optional<uint8_t> last_ccc;
  std::vector<Edit> buffer;
  auto flush = [&] {
    out->insert(out->end(), buffer.begin(), buffer.end());
    buffer.clear();
  };
  for (const Decomposed& d : items) {
    const Edit ch{d.cp, d.change};
    if (!composee) {
      if (d.ccc != 0) {
        out->push_back(ch);
      } else {
        composee = ch;
      }
      continue;
    }
    const Edit k = *composee;
    if (last_ccc && *last_ccc >= d.ccc) {  // blocked from the composee
      if (d.ccc == 0) {
        composee = ch;
        last_ccc.reset();
        out->push_back(k);
        flush();
      } else {
        buffer.push_back(ch);
        last_ccc = d.ccc;
      }
      continue;
    }
    if (const char32_t r = compose_pair(k.first, d.cp); r != 0) {
      composee = Edit{r, k.second + d.change - 1};
      continue;
    }
    if (!last_ccc && d.ccc == 0) {
      composee = ch;
      out->push_back(k);
      continue;
    }
    buffer.push_back(ch);
    last_ccc = d.ccc;
  }
  if (composee) out->push_back(*composee);
  flush();
}

}  // namespace

void EditWriter::push(char32_t cp, int change) {
  NormChar ch{cp, 0, 0};
  if (change > 0) {
    // Inserted: the range of the last input char consumed (none yet: an
    // empty range at the start).
    if (next_ > 0 && !in_.empty()) {
      const NormChar& prev = in_[std::min(next_, in_.size()) - 1];
      ch.begin = prev.begin;
      ch.end = prev.end;
    } else if (!in_.empty()) {
      ch.begin = ch.end = in_[0].begin;
    }
  } else {
    if (next_ < in_.size()) {
      ch.begin = in_[next_].begin;
      ch.end = in_[next_].end;
    } else if (!in_.empty()) {  // more consumed than there is: the reference would panic
      ch.begin = ch.end = in_.back().end;
    }
    next_ += 1 + static_cast<size_t>(-change);
  }
  out_->push_back(ch);
}

void SequenceNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  for (const auto& step : steps_) step->normalize(chars, scratch);
}

void UnicodeNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  const bool compat = form_ == Form::kNfkd || form_ == Form::kNfkc;
  const bool compose = form_ == Form::kNfc || form_ == Form::kNfkc;
  bool ascii = true;
  for (const NormChar& ch : *chars) {
    if (ch.cp >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return;  // ASCII is in every normal form

  // Decompose, first char of each decomposition replacing its input char and
  // the rest inserted; then order each run of marks by combining class
  // (stable, the changes travelling along).
  std::vector<Decomposed>& items = tls_decomposed;
  items.clear();
  char32_t dec[kMaxCompatDecomposition];
  for (const NormChar& ch : *chars) {
    const int n = compat ? compatibility_decomposition(ch.cp, dec) : canonical_decomposition(ch.cp, dec);
    for (int i = 0; i < n; ++i) items.push_back({dec[i], combining_class(dec[i]), i > 0 ? 1 : 0});
  }
  order_by_combining_class(items);
  std::vector<Edit>& edits = tls_edits;
  edits.clear();
  if (compose) {
    recompose(items, &edits);
  } else {
    for (const Decomposed& d : items) edits.emplace_back(d.cp, d.change);
  }
  apply_edits(edits, chars, scratch);
}

void LowercaseNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  scratch->clear();
  scratch->reserve(chars->size());
  char32_t low[3];
  for (const NormChar& ch : *chars) {
    const int n = to_lowercase(ch.cp, low);
    for (int i = 0; i < n; ++i) scratch->push_back({low[i], ch.begin, ch.end});
  }
  std::swap(*chars, *scratch);
}

void StripAccentsNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>*) const {
  std::erase_if(*chars, [](const NormChar& ch) { return ch.cp >= 0x300 && is_nonspacing_mark(ch.cp); });
}

void StripNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>*) const {
  if (right_) {
    while (!chars->empty() && is_white_space(chars->back().cp)) chars->pop_back();
  }
  if (left_) {
    size_t lead = 0;
    while (lead < chars->size() && is_white_space((*chars)[lead].cp)) ++lead;
    chars->erase(chars->begin(), chars->begin() + static_cast<std::ptrdiff_t>(lead));
  }
}

void PrependNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  if (chars->empty() || prefix_.empty()) return;
  const NormChar first = chars->front();
  scratch->clear();
  scratch->reserve(chars->size() + prefix_.size());
  for (char32_t c : prefix_) scratch->push_back({c, first.begin, first.end});
  scratch->insert(scratch->end(), chars->begin(), chars->end());
  std::swap(*chars, *scratch);
}

Result<std::unique_ptr<ReplaceNormalizer>> ReplaceNormalizer::create_regex(std::string_view pattern,
                                                                           std::u32string content) {
  std::unique_ptr<ReplaceNormalizer> r(new ReplaceNormalizer(std::u32string(), std::move(content)));
  SIMILE_ASSIGN_OR_RETURN(r->regex_, Regex::compile(pattern));
  std::vector<std::pair<uint32_t, uint32_t>> empty_matches;
  SIMILE_RETURN_IF_ERROR(r->regex_->find_all("", &empty_matches));
  if (!empty_matches.empty()) {
    return Status::unsupported("normalizer 'Replace' with a Regex that matches the empty text ('" +
                               std::string(pattern) + "') is not supported");
  }
  return r;
}

void ReplaceNormalizer::normalize_regex(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  thread_local std::string utf8;
  thread_local std::vector<uint32_t> byte_to_char;  // byte of utf8 (and its end) -> char index
  thread_local std::vector<std::pair<uint32_t, uint32_t>> matches;
  const std::vector<NormChar>& in = *chars;
  utf8.clear();
  byte_to_char.clear();
  for (uint32_t i = 0; i < in.size(); ++i) {
    char buf[4];
    const int n = encode_utf8(in[i].cp, buf);
    utf8.append(buf, static_cast<size_t>(n));
    byte_to_char.insert(byte_to_char.end(), static_cast<size_t>(n), i);
  }
  byte_to_char.push_back(static_cast<uint32_t>(in.size()));
  matches.clear();
  if (!regex_->find_all(utf8, &matches).is_ok()) return;  // see the header
  scratch->clear();
  scratch->reserve(in.size());
  uint32_t next = 0;  // first char not yet copied
  bool any = false;
  for (const auto& [b, e] : matches) {
    const uint32_t cb = byte_to_char[b], ce = byte_to_char[e];
    if (cb == ce) continue;
    while (next < cb) scratch->push_back(in[next++]);
    const NormChar& last = in[ce - 1];
    for (char32_t c : content_) scratch->push_back({c, last.begin, last.end});
    next = ce;
    any = true;
  }
  while (next < in.size()) scratch->push_back(in[next++]);
  if (any) std::swap(*chars, *scratch);
}

void ReplaceNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  if (regex_) {
    normalize_regex(chars, scratch);
    return;
  }
  const size_t m = pattern_.size();
  if (m == 0 || chars->size() < m) return;
  const std::vector<NormChar>& in = *chars;
  scratch->clear();
  scratch->reserve(in.size());
  size_t i = 0;
  bool any = false;
  while (i < in.size()) {
    bool match = i + m <= in.size();
    for (size_t k = 0; match && k < m; ++k) match = in[i + k].cp == pattern_[k];
    if (!match) {
      scratch->push_back(in[i++]);
      continue;
    }
    any = true;
    const NormChar& last = in[i + m - 1];
    for (char32_t c : content_) scratch->push_back({c, last.begin, last.end});
    i += m;
  }
  if (any) std::swap(*chars, *scratch);
}

// --- Precompiled -----------------------------------------------------------------

namespace {

// Double-array units, in the format of SentencePiece's Darts-clone.
inline bool unit_has_leaf(uint32_t u) { return ((u >> 8) & 1) == 1; }
inline uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }
inline uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// The reference's replace(): the new chars replace `old_count` chars; extra new
// chars are inserted at the end, fewer remove through the last edit so far
// (an earlier group's when the replacement is empty).
void push_replacement(std::vector<Edit>* edits, size_t old_count, std::string_view norm) {
  const size_t first = edits->size();
  const auto* p = reinterpret_cast<const unsigned char*>(norm.data());
  for (size_t i = 0; i < norm.size();) {
    const Utf8Step st = decode_utf8(p + i, norm.size() - i);
    edits->emplace_back(st.cp, 0);
    i += st.len;
  }
  const auto diff = static_cast<int>(edits->size() - first) - static_cast<int>(old_count);
  if (diff > 0) {
    for (size_t k = edits->size() - static_cast<size_t>(diff); k < edits->size(); ++k) (*edits)[k].second = 1;
  } else if (diff < 0 && !edits->empty()) {
    edits->back().second += diff;
  }
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t triple = static_cast<uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out.push_back(static_cast<char>(triple >> 16));
    if (pad < 2) out.push_back(static_cast<char>((triple >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(triple & 0xFF));
  }
  return out;
}

Result<std::unique_ptr<PrecompiledNormalizer>> PrecompiledNormalizer::create(std::string_view charsmap) {
  if (charsmap.size() < 4) return Status::corrupt("Precompiled charsmap is too short");
  auto le32 = [&](size_t at) {
    const auto* b = reinterpret_cast<const unsigned char*>(charsmap.data() + at);
    return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 | static_cast<uint32_t>(b[2]) << 16 |
           static_cast<uint32_t>(b[3]) << 24;
  };
  const uint32_t trie_bytes = le32(0);
  if (trie_bytes % 4 != 0 || trie_bytes > charsmap.size() - 4 || trie_bytes == 0) {
    return Status::corrupt("Precompiled charsmap: bad trie size " + std::to_string(trie_bytes));
  }
  std::unique_ptr<PrecompiledNormalizer> p(new PrecompiledNormalizer());
  p->units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < p->units_.size(); ++i) p->units_[i] = le32(4 + 4 * i);
  p->normalized_.assign(charsmap.substr(4 + trie_bytes));
  if (find_invalid_utf8(p->normalized_) != std::string_view::npos) {
    return Status::corrupt("Precompiled charsmap: the replacement strings are not valid UTF-8");
  }
  return p;
}

Result<std::unique_ptr<PrecompiledNormalizer>> PrecompiledNormalizer::from_base64(std::string_view base64) {
  std::optional<std::string> blob = decode_base64(base64);
  if (!blob) return Status::corrupt("Precompiled precompiled_charsmap is not valid base64");
  return create(*blob);
}

template <typename Visit>
void PrecompiledNormalizer::prefixes(std::string_view key, Visit visit) const {
  size_t node = unit_offset(units_[0]);
  for (size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c == 0) return;
    node ^= c;
    if (node >= units_.size()) return;
    const uint32_t unit = units_[node];
    if (unit_label(unit) != c) return;
    node ^= unit_offset(unit);
    if (node >= units_.size()) return;
    if (unit_has_leaf(unit) && visit(i + 1, unit_value(units_[node]))) return;
  }
}

std::optional<std::string_view> PrecompiledNormalizer::replacement_at(uint32_t offset) const {
  if (offset > normalized_.size()) return std::nullopt;
  const size_t end = normalized_.find('\0', offset);
  return std::string_view(normalized_).substr(offset, (end == std::string::npos ? normalized_.size() : end) - offset);
}

std::optional<std::string_view> PrecompiledNormalizer::transform(std::string_view key) const {
  std::optional<std::string_view> found;
  prefixes(key, [&](size_t, uint32_t value) {
    found = replacement_at(value);
    return true;  // the shortest
  });
  return found;
}

std::string PrecompiledNormalizer::normalize_longest_match(std::string_view text) const {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t best_len = 0;
    std::optional<std::string_view> best;
    prefixes(text.substr(i), [&](size_t len, uint32_t value) {
      best_len = len;
      best = replacement_at(value);
      return false;
    });
    if (best_len > 0 && best) {
      out.append(*best);
      i += best_len;
      continue;
    }
    const Utf8Step st = decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + i, text.size() - i);
    append_utf8(st.cp, &out);
    i += st.len;
  }
  return out;
}

void PrecompiledNormalizer::normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const {
  const std::vector<NormChar>& in = *chars;
  std::vector<Edit>& edits = tls_edits;
  std::string& buf = tls_utf8;
  edits.clear();
  edits.reserve(in.size());
  bool modified = false;
  utf8proc_int32_t state = 0;
  size_t i = 0;
  while (i < in.size()) {
    // The extended grapheme cluster [i, j).
    size_t j = i + 1;
    while (j < in.size() && !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(in[j - 1].cp),
                                                              static_cast<utf8proc_int32_t>(in[j].cp), &state)) {
      ++j;
    }
    buf.clear();
    for (size_t k = i; k < j; ++k) append_utf8(in[k].cp, &buf);
    if (buf.size() < 6) {
      if (auto norm = transform(buf)) {
        push_replacement(&edits, j - i, *norm);
        modified = true;
        i = j;
        continue;
      }
    }
    for (size_t k = i; k < j; ++k) {
      char one[4];
      const int n = encode_utf8(in[k].cp, one);
      if (auto norm = transform(std::string_view(one, static_cast<size_t>(n)))) {
        push_replacement(&edits, 1, *norm);
        modified = true;
      } else {
        edits.emplace_back(in[k].cp, 0);
      }
    }
    i = j;
  }
  if (modified) apply_edits(edits, chars, scratch);
}

}  // namespace simile::text
