#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "text/utf8.h"
#include "util/check.h"
#include "util/file_util.h"

namespace simile::text {

namespace {

// Bumped whenever a change to this file can change the terms of some text:
// an index built by an older version must then be rebuilt.
constexpr int kAnalyzerVersion = 1;

// Our own short list: articles, conjunctions, the commonest prepositions,
// pronouns and forms of "be"/"will". Negations ("no", "not") are kept on
// purpose: they change what a query asks for.
constexpr const char* kEnglishStopWords[] = {
    "a",     "an",   "and",   "are",   "as",   "at",   "be",    "been", "but", "by",   "for",  "from",
    "if",    "in",   "into",  "is",    "it",   "its",  "of",    "on",   "or",  "such", "that", "the",
    "their", "then", "there", "these", "they", "this", "those", "to",   "was", "were", "will", "with",
};

// A word longer than kMaxTermCodePoints is dropped; while it is being read,
// its text is kept up to this many code points, enough for NFC to shorten a
// decomposed word (a base and its marks compose into at most one code point
// from no more than four).
constexpr size_t kMaxBufferedCodePoints = 4 * kMaxTermCodePoints;

// What a code point is to the tokenizer.
enum Cls : uint8_t {
  kSep,           // separates tokens
  kLetter,        // L*, not CJK
  kDigit,         // N*, not CJK
  kMark,          // M*: belongs to the character before it
  kCjk,           // a Hangul, Han or kana letter or number
  kApostrophe,    // ' or U+2019: joins two letters
  kNumberJoiner,  // . or ,: joins two digits
  kIgnore,        // default-ignorable: dropped, does not separate
};

// Hangul syllable types of UAX #29, for conjoining jamo.
enum Hangul : uint8_t { kNotHangul, kL, kV, kT, kLV, kLVT };

Hangul hangul_type(char32_t c) {
  if (c >= 0xAC00 && c <= 0xD7A3) return (c - 0xAC00) % 28 == 0 ? kLV : kLVT;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0xA960 && c <= 0xA97C)) return kL;
  if ((c >= 0x1160 && c <= 0x11A7) || (c >= 0xD7B0 && c <= 0xD7C6)) return kV;
  if ((c >= 0x11A8 && c <= 0x11FF) || (c >= 0xD7CB && c <= 0xD7FB)) return kT;
  return kNotHangul;
}

// Whether a jamo of type `next` joins the syllable ending in `prev` (a leading
// consonant takes a vowel, a vowel a vowel or a trailing consonant, ...). A
// leading consonant does not take another: "ㅋㅋ" is two characters.
bool hangul_continues(Hangul prev, Hangul next) {
  switch (prev) {
    case kL:
      return next == kV;
    case kV:
    case kLV:
      return next == kV || next == kT;
    case kT:
    case kLVT:
      return next == kT;
    case kNotHangul:
      return false;
  }
  return false;
}

// Hangul, Han and kana: the scripts written without spaces between words
// whose runs become bigrams. Only letters, marks and numbers in these blocks
// count (the kana middle dot and CJK punctuation separate).
bool is_cjk_block(char32_t c) {
  if (c < 0x1100) return false;
  if (c <= 0x11FF) return true;  // Hangul Jamo
  if (c < 0x3005) return false;
  if (c <= 0x3007) return true;                   // 々 〆 〇
  if (c >= 0x3021 && c <= 0x3029) return true;    // Hangzhou numerals
  if (c >= 0x3031 && c <= 0x3035) return true;    // kana repeat marks
  if (c >= 0x3038 && c <= 0x303B) return true;    // Han numerals, iteration marks
  if (c >= 0x3040 && c <= 0x30FF) return true;    // Hiragana, Katakana (incl. U+30FC)
  if (c >= 0x3130 && c <= 0x318F) return true;    // Hangul Compatibility Jamo
  if (c >= 0x31F0 && c <= 0x31FF) return true;    // Katakana Phonetic Extensions
  if (c >= 0x3400 && c <= 0x4DBF) return true;    // CJK Extension A
  if (c >= 0x4E00 && c <= 0x9FFF) return true;    // CJK Unified Ideographs
  if (c >= 0xA960 && c <= 0xA97F) return true;    // Hangul Jamo Extended-A
  if (c >= 0xAC00 && c <= 0xD7FF) return true;    // Hangul Syllables, Jamo Extended-B
  if (c >= 0xF900 && c <= 0xFAFF) return true;    // CJK Compatibility Ideographs
  if (c >= 0xFF66 && c <= 0xFF9F) return true;    // half-width katakana
  if (c >= 0xFFA0 && c <= 0xFFDC) return true;    // half-width Hangul
  if (c >= 0x1AFF0 && c <= 0x1B16F) return true;  // Kana Extended-B, Supplement, Extended-A, Small Kana
  if (c >= 0x20000 && c <= 0x3FFFF) return true;  // CJK Extensions B..H, Compatibility Supplement
  return false;
}

// The diacritics that fold_accents removes: the generic combining diacritic
// blocks, Cyrillic titlo and friends, Hebrew points and Arabic harakat. Marks
// that spell a script's vowels or consonants (Indic, Thai, the kana voicing
// marks) are not diacritics and stay.
bool is_diacritic(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x0483 && c <= 0x0489) || (c >= 0x0591 && c <= 0x05C7) ||
         (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x065F) || c == 0x0670 || (c >= 0x06D6 && c <= 0x06ED) ||
         (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F);
}

bool is_word_category(int cat) { return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO; }
bool is_letter_category(int cat) { return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO; }
bool is_mark_category(int cat) { return cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME; }
bool is_punctuation_category(int cat) { return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO; }

using CodePoints = std::vector<int32_t>;

std::string encode(const CodePoints& cps) {
  std::string out;
  for (int32_t c : cps) append_utf8(static_cast<char32_t>(c), &out);
  return out;
}

// utf8proc_map over code points (valid ones: they come from utf8proc or from
// decode_utf8). Only used when a code point enters the cache.
CodePoints map_code_points(const CodePoints& in, int options) {
  const std::string utf8 = encode(in);
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()), static_cast<utf8proc_ssize_t>(utf8.size()),
                   &mapped, static_cast<utf8proc_option_t>(options));
  SIMILE_CHECK(n >= 0);
  CodePoints out;
  for (utf8proc_ssize_t i = 0; i < n;) {
    utf8proc_int32_t c = 0;
    const utf8proc_ssize_t len = utf8proc_iterate(mapped + i, n - i, &c);
    SIMILE_CHECK(len > 0);
    out.push_back(c);
    i += len;
  }
  std::free(mapped);
  return out;
}

bool all_word_characters(const CodePoints& cps) {
  return std::all_of(cps.begin(), cps.end(), [](int32_t c) { return is_word_category(utf8proc_category(c)); });
}

// A code point as the tokenizer sees it: its class and its folded text.
struct Folded {
  Cls cls = kSep;
  bool compose = false;  // the text holds a mark or a conjoining jamo: NFC the term it ends up in
  Hangul first = kNotHangul;
  Hangul last = kNotHangul;
  std::string text;
};

// The slow path, run once per code point and analyzer (then cached).
Folded fold_code_point(char32_t c, bool fold_accents) {
  Folded f;
  if (c == 0x200B) return f;  // ZERO WIDTH SPACE separates words (Thai, Khmer) though it is ignorable
  const utf8proc_property_t* prop = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
  if (prop->ignorable) {
    f.cls = kIgnore;
    return f;
  }
  const int cat = prop->category;
  if (!is_word_category(cat)) {
    // Punctuation that is an apostrophe, '.' or ',' under NFKC (full-width forms) joins like them.
    if (c == 0x2019) {
      f.cls = kApostrophe;
      f.text = "'";
    } else if (is_punctuation_category(cat)) {
      const CodePoints k =
          map_code_points({static_cast<int32_t>(c)}, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
      if (k.size() == 1 && (k[0] == '\'' || k[0] == '.' || k[0] == ',')) {
        f.cls = k[0] == '\'' ? kApostrophe : kNumberJoiner;
        f.text = std::string(1, static_cast<char>(k[0]));
      }
    }
    return f;
  }

  const bool cjk = is_cjk_block(c);
  // NFKC + case folding. A compatibility mapping that brings in a separator
  // (U+FDFA, ½ -> 1⁄2) is skipped: it would change where tokens end.
  CodePoints cps = map_code_points({static_cast<int32_t>(c)},
                                   UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
  if (!all_word_characters(cps)) {
    cps = map_code_points({static_cast<int32_t>(c)}, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (!all_word_characters(cps)) cps = {static_cast<int32_t>(c)};
  }
  // Hangul syllables and kana are never decomposed (が stays が).
  if (fold_accents && !cjk) {
    CodePoints d = map_code_points(cps, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    d.erase(std::remove_if(d.begin(), d.end(),
                           [](int32_t m) {
                             return is_diacritic(static_cast<char32_t>(m)) && is_mark_category(utf8proc_category(m));
                           }),
            d.end());
    cps = d.empty() ? d : map_code_points(d, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  }

  f.text = encode(cps);
  for (int32_t m : cps) {
    const Hangul h = hangul_type(static_cast<char32_t>(m));
    if (is_mark_category(utf8proc_category(m)) || h == kV || h == kT) f.compose = true;
  }
  if (!cps.empty()) {
    f.first = hangul_type(static_cast<char32_t>(cps.front()));
    f.last = hangul_type(static_cast<char32_t>(cps.back()));
  }
  // Half-width katakana voicing marks are letters that fold to combining marks.
  if (is_mark_category(cat) || (!cps.empty() && is_mark_category(utf8proc_category(cps.front())))) {
    f.cls = kMark;
  } else if (cjk) {
    f.cls = kCjk;
  } else {
    f.cls = is_letter_category(cat) ? kLetter : kDigit;
  }
  return f;
}

// The blocks where every code point is a CJK letter that folds to itself:
// they skip the cache.
inline bool is_plain_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x3400 && c <= 0x4DBF);
}

// The tokenizer's view of a code point, pointing into the cache or the text.
struct CharInfo {
  Cls cls = kSep;
  bool compose = false;
  Hangul first = kNotHangul;
  Hangul last = kNotHangul;
  uint32_t ncp = 0;       // code points in text
  std::string_view text;  // folded UTF-8
};

struct AsciiTables {
  std::array<Cls, 256> cls{};  // kSep for every byte >= 0x80 too (they never reach it)
  std::array<char, 128> lower{};
  constexpr AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        cls[c] = kLetter;
      } else if (c >= '0' && c <= '9') {
        cls[c] = kDigit;
      } else if (c == '\'') {
        cls[c] = kApostrophe;
      } else if (c == '.' || c == ',') {
        cls[c] = kNumberJoiner;
      } else {
        cls[c] = kSep;
      }
    }
  }
};
constexpr AsciiTables kAscii;

// The stem cache (about 1.5 MB when full) holds the words that make up most
// of a text; longer words are rarer and are stemmed every time.
constexpr size_t kMaxCachedStems = size_t{1} << 14;
constexpr size_t kMaxCachedWordBytes = 32;

// Direct-mapped cache of folded non-ASCII code points: 32 bytes a slot, 64 KiB.
constexpr size_t kCacheBits = 11;
constexpr size_t kInlineFold = 22;
constexpr char32_t kEmptySlot = 0xFFFFFFFF;

struct Slot {
  char32_t cp = kEmptySlot;
  Cls cls = kSep;
  bool compose = false;
  Hangul first = kNotHangul;
  Hangul last = kNotHangul;
  uint8_t ncp = 0;
  uint8_t len = 0;
  char bytes[kInlineFold] = {};
};
static_assert(sizeof(Slot) == 32);

inline size_t slot_of(char32_t c) { return (static_cast<uint32_t>(c) * 2654435761u) >> (32 - kCacheBits); }

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using StopSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

const char* cjk_name(AnalyzerSettings::Cjk cjk) {
  switch (cjk) {
    case AnalyzerSettings::Cjk::kBigrams:
      return "bigram";
    case AnalyzerSettings::Cjk::kBigramsAndUnigrams:
      return "bigram+unigram";
    case AnalyzerSettings::Cjk::kRuns:
      return "run";
  }
  return "bigram";
}

std::vector<std::string> known_stemmers() {
  std::vector<std::string> out;
  for (const char** p = sb_stemmer_list(); *p != nullptr; ++p) out.emplace_back(*p);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_known_stemmer(std::string_view name) {
  for (const char** p = sb_stemmer_list(); *p != nullptr; ++p) {
    if (name == *p) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

Status unknown_stemmer(std::string_view name) {
  return Status::invalid_argument("unknown stemmer \"" + std::string(name) +
                                  "\"; use none or a Snowball algorithm: " + join(known_stemmers(), ", "));
}

std::vector<std::string> canonical_stop_words(const std::vector<std::string>& words) {
  std::vector<std::string> out = words;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

const std::vector<std::string>& english_stop_words() {
  static const std::vector<std::string> kWords(std::begin(kEnglishStopWords), std::end(kEnglishStopWords));
  return kWords;
}

// ---------------------------------------------------------------------------
// The analyzer.

struct Analyzer::Impl {
  explicit Impl(const AnalyzerSettings& s) : settings(s) { nfc_buffer.resize(64); }
  ~Impl() {
    if (stemmer != nullptr) sb_stemmer_delete(stemmer);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void run(std::string_view text, TermSink& sink);

  CharInfo lookup(char32_t c);
  void feed(const CharInfo& ch, size_t begin, size_t end);
  size_t extend_ascii_word(const unsigned char* p, size_t i, size_t n);
  void end_token();
  void start_word(size_t begin);
  void append_to_word(const CharInfo& ch);
  void flush_word();
  void close_cluster();
  void flush_run();
  void emit_term(std::string_view term, bool stem, size_t begin, size_t end);
  // The stem of a folded word, valid until the next call.
  std::string_view stem_word(std::string_view word);
  // NFC of valid UTF-8, into `out`.
  void compose(std::string_view in, std::string* out);

  AnalyzerSettings settings;
  sb_stemmer* stemmer = nullptr;
  StopSet stop_words;  // folded
  std::array<Slot, size_t{1} << kCacheBits> cache{};
  std::unordered_map<char32_t, Folded> long_folds;  // folds too long for a slot (a handful of ligatures)
  // word -> stem, emptied when full (node-based: stems stay put while it grows).
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> stems;

  // State of one run(): the sink, and the token being read.
  TermSink* sink = nullptr;
  enum class Mode { kNone, kWord, kCjk } mode = Mode::kNone;

  std::string word;  // folded, capped at kMaxBufferedCodePoints
  size_t word_begin = 0;
  size_t word_end = 0;
  size_t word_ncp = 0;
  bool word_compose = false;
  bool word_has_letter = false;
  bool word_has_alnum = false;
  Cls last_base = kSep;  // the word's last letter or digit
  // A joiner (' . ,) after the word, kept only if the right class follows.
  bool pending = false;
  char pending_char = 0;
  Cls pending_needs = kSep;

  struct Cluster {
    size_t offset;  // into run_text
    size_t begin;
    size_t end;
  };
  std::string run_text;
  std::vector<Cluster> clusters;
  bool cluster_compose = false;
  Hangul last_hangul = kNotHangul;

  std::string scratch;
  std::vector<utf8proc_int32_t> nfc_buffer;
};

CharInfo Analyzer::Impl::lookup(char32_t c) {
  Slot& s = cache[slot_of(c)];
  if (s.cp != c) {
    auto it = long_folds.find(c);
    if (it == long_folds.end()) {
      Folded f = fold_code_point(c, settings.fold_accents);
      if (f.text.size() <= kInlineFold) {
        s.cp = c;
        s.cls = f.cls;
        s.compose = f.compose;
        s.first = f.first;
        s.last = f.last;
        s.ncp = static_cast<uint8_t>(count_code_points(f.text));
        s.len = static_cast<uint8_t>(f.text.size());
        std::copy(f.text.begin(), f.text.end(), s.bytes);
        return CharInfo{s.cls, s.compose, s.first, s.last, s.ncp, std::string_view(s.bytes, s.len)};
      }
      it = long_folds.emplace(c, std::move(f)).first;
    }
    const Folded& f = it->second;
    return CharInfo{f.cls, f.compose, f.first, f.last, static_cast<uint32_t>(count_code_points(f.text)), f.text};
  }
  return CharInfo{s.cls, s.compose, s.first, s.last, s.ncp, std::string_view(s.bytes, s.len)};
}

void Analyzer::Impl::run(std::string_view text, TermSink& emit) {
  SIMILE_CHECK(sink == nullptr);  // emit must not analyze with this Analyzer
  sink = &emit;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      const Cls cls = kAscii.cls[b];
      if (cls == kSep) {
        if (mode != Mode::kNone) end_token();
        ++i;
        continue;
      }
      CharInfo ch;
      ch.cls = cls;
      ch.ncp = 1;
      ch.text = std::string_view(&kAscii.lower[b], 1);
      feed(ch, i, i + 1);
      ++i;
      if (cls == kLetter || cls == kDigit) i = extend_ascii_word(p, i, n);
      continue;
    }
    const Utf8Step st = decode_utf8(p + i, n - i);
    if (!st.valid) {
      end_token();
    } else if (is_plain_cjk(st.cp)) {
      CharInfo ch;
      ch.cls = kCjk;
      ch.first = ch.last = hangul_type(st.cp);
      ch.ncp = 1;
      ch.text = text.substr(i, st.len);
      feed(ch, i, i + st.len);
    } else {
      feed(lookup(st.cp), i, i + st.len);
    }
    i += st.len;
  }
  end_token();
  sink = nullptr;
}

// The rest of an ASCII word after its first letter or digit was fed: plain
// appends until the first byte that is not an ASCII letter or digit.
size_t Analyzer::Impl::extend_ascii_word(const unsigned char* p, size_t i, size_t n) {
  size_t j = i;
  bool letter = false;
  Cls last = kSep;
  while (j < n) {
    const Cls c = kAscii.cls[p[j]];
    if (c != kLetter && c != kDigit) break;
    letter |= c == kLetter;
    last = c;
    ++j;
  }
  if (j == i) return i;
  if (word_ncp < kMaxBufferedCodePoints) {
    const size_t take = std::min(j - i, kMaxBufferedCodePoints - word_ncp);
    const size_t old = word.size();
    word.resize(old + take);
    for (size_t k = 0; k < take; ++k) word[old + k] = kAscii.lower[p[i + k]];
  }
  word_ncp += j - i;
  word_has_letter |= letter;
  last_base = last;
  word_end = j;
  return j;
}

void Analyzer::Impl::feed(const CharInfo& ch, size_t begin, size_t end) {
  switch (ch.cls) {
    case kIgnore:
      return;
    case kSep:
      end_token();
      return;
    case kApostrophe:
    case kNumberJoiner: {
      const Cls needs = ch.cls == kApostrophe ? kLetter : kDigit;
      if (mode == Mode::kWord && !pending && last_base == needs) {
        pending = true;
        pending_char = ch.text[0];
        pending_needs = needs;
      } else {
        end_token();
      }
      return;
    }
    case kLetter:
    case kDigit:
      if (mode == Mode::kWord && pending) {
        if (ch.cls == pending_needs) {
          pending = false;
          word.push_back(pending_char);
          ++word_ncp;
        } else {
          end_token();
        }
      }
      if (mode != Mode::kWord) {
        end_token();
        start_word(begin);
      }
      append_to_word(ch);
      word_has_letter |= ch.cls == kLetter;
      word_has_alnum = true;
      last_base = ch.cls;
      word_end = end;
      return;
    case kMark:
      if (mode == Mode::kCjk) {
        run_text.append(ch.text);
        clusters.back().end = end;
        cluster_compose |= ch.compose;
        last_hangul = kNotHangul;
        return;
      }
      if (mode == Mode::kWord && pending) end_token();  // the joiner was a separator after all
      if (mode != Mode::kWord) start_word(begin);
      append_to_word(ch);
      word_end = end;
      return;
    case kCjk:
      if (mode == Mode::kCjk && hangul_continues(last_hangul, ch.first)) {
        run_text.append(ch.text);
        clusters.back().end = end;
        cluster_compose = true;
      } else {
        if (mode != Mode::kCjk) {
          end_token();
          mode = Mode::kCjk;
        } else {
          close_cluster();
        }
        clusters.push_back({run_text.size(), begin, end});
        run_text.append(ch.text);
        cluster_compose = ch.compose;
      }
      last_hangul = ch.last;
      return;
  }
}

void Analyzer::Impl::start_word(size_t begin) {
  mode = Mode::kWord;
  word.clear();
  word_begin = begin;
  word_end = begin;
  word_ncp = 0;
  word_compose = false;
  word_has_letter = false;
  word_has_alnum = false;
  last_base = kSep;
  pending = false;
}

void Analyzer::Impl::append_to_word(const CharInfo& ch) {
  if (word_ncp + ch.ncp <= kMaxBufferedCodePoints) word.append(ch.text);
  word_ncp += ch.ncp;
  word_compose |= ch.compose;
}

void Analyzer::Impl::end_token() {
  if (mode == Mode::kWord) {
    flush_word();
  } else if (mode == Mode::kCjk) {
    flush_run();
  }
  mode = Mode::kNone;
  pending = false;
}

void Analyzer::Impl::flush_word() {
  if (!word_has_alnum || word_ncp > kMaxBufferedCodePoints) return;
  std::string_view term = word;
  if (word_compose) {
    compose(word, &scratch);
    term = scratch;
    if (count_code_points(term) > kMaxTermCodePoints) return;
  } else if (word_ncp > kMaxTermCodePoints) {
    return;
  }
  emit_term(term, word_has_letter, word_begin, word_end);
}

void Analyzer::Impl::close_cluster() {
  if (!cluster_compose) return;
  cluster_compose = false;
  const size_t offset = clusters.back().offset;
  compose(std::string_view(run_text).substr(offset), &scratch);
  run_text.resize(offset);
  run_text += scratch;
}

void Analyzer::Impl::flush_run() {
  close_cluster();
  const size_t n = clusters.size();
  auto text_of = [&](size_t first, size_t last) {  // clusters [first, last]
    const size_t stop = last + 1 < n ? clusters[last + 1].offset : run_text.size();
    return std::string_view(run_text).substr(clusters[first].offset, stop - clusters[first].offset);
  };
  auto emit_cjk = [&](size_t first, size_t last) {
    const std::string_view t = text_of(first, last);
    if (t.empty() || count_code_points(t) > kMaxTermCodePoints) return;
    emit_term(t, /*stem=*/false, clusters[first].begin, clusters[last].end);
  };
  if (n == 1 || settings.cjk == AnalyzerSettings::Cjk::kRuns) {
    emit_cjk(0, n - 1);
  } else {
    const bool unigrams = settings.cjk == AnalyzerSettings::Cjk::kBigramsAndUnigrams;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (unigrams) emit_cjk(i, i);
      emit_cjk(i, i + 1);
    }
    if (unigrams) emit_cjk(n - 1, n - 1);
  }
  run_text.clear();
  clusters.clear();
  last_hangul = kNotHangul;
}

void Analyzer::Impl::emit_term(std::string_view term, bool stem, size_t begin, size_t end) {
  if (!stop_words.empty() && stop_words.find(term) != stop_words.end()) return;
  if (stem && stemmer != nullptr) term = stem_word(term);
  (*sink)(term, begin, end);
}

std::string_view Analyzer::Impl::stem_word(std::string_view word) {
  // Snowball takes about a microsecond a word; natural text repeats its words.
  if (auto it = stems.find(word); it != stems.end()) return it->second;
  const sb_symbol* s =
      sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  SIMILE_CHECK(s != nullptr);  // only out of memory
  const std::string_view stem(reinterpret_cast<const char*>(s), static_cast<size_t>(sb_stemmer_length(stemmer)));
  if (word.size() > kMaxCachedWordBytes) return stem;
  if (stems.size() >= kMaxCachedStems) stems.clear();
  return stems.emplace(std::string(word), std::string(stem)).first->second;
}

void Analyzer::Impl::compose(std::string_view in, std::string* out) {
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(in.data());
  const auto len = static_cast<utf8proc_ssize_t>(in.size());
  utf8proc_ssize_t n =
      utf8proc_decompose(p, len, nfc_buffer.data(), static_cast<utf8proc_ssize_t>(nfc_buffer.size()), options);
  if (n > static_cast<utf8proc_ssize_t>(nfc_buffer.size())) {
    nfc_buffer.resize(static_cast<size_t>(n));
    n = utf8proc_decompose(p, len, nfc_buffer.data(), n, options);
  }
  SIMILE_CHECK(n >= 0);  // the input is our own folded UTF-8
  const utf8proc_ssize_t bytes = utf8proc_reencode(nfc_buffer.data(), n, options);
  SIMILE_CHECK(bytes >= 0);
  out->assign(reinterpret_cast<const char*>(nfc_buffer.data()), static_cast<size_t>(bytes));
}

Analyzer::Analyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Analyzer::~Analyzer() = default;

const AnalyzerSettings& Analyzer::settings() const { return impl_->settings; }

void Analyzer::analyze_to(std::string_view text, TermSink emit) { impl_->run(text, emit); }

std::vector<std::string> Analyzer::terms(std::string_view text) {
  std::vector<std::string> out;
  analyze(text, [&out](std::string_view term, size_t, size_t) { out.emplace_back(term); });
  return out;
}

Result<std::unique_ptr<Analyzer>> Analyzer::create(const AnalyzerSettings& settings) {
  auto impl = std::make_unique<Impl>(settings);
  if (settings.stemmer != "none") {
    if (!is_known_stemmer(settings.stemmer)) return unknown_stemmer(settings.stemmer);
    impl->stemmer = sb_stemmer_new(settings.stemmer.c_str(), "UTF_8");
    if (impl->stemmer == nullptr) {
      return Status::internal("cannot create the Snowball stemmer \"" + settings.stemmer + "\"");
    }
  }
  if (!settings.stop_words.empty()) {
    // A stop word is folded exactly as text is, and must come out as one
    // term: it is compared with whole terms.
    AnalyzerSettings fold_only;
    fold_only.stemmer = "none";
    fold_only.fold_accents = settings.fold_accents;
    fold_only.cjk = AnalyzerSettings::Cjk::kRuns;
    auto folder = std::make_unique<Impl>(fold_only);
    for (const std::string& w : settings.stop_words) {
      std::vector<std::string> terms;
      auto collect = [&terms](std::string_view t, size_t, size_t) { terms.emplace_back(t); };
      TermSink sink(collect);
      folder->run(w, sink);
      if (terms.size() != 1) {
        return Status::invalid_argument("stop word \"" + w + "\" is " +
                                        (terms.empty() ? std::string("not a term (no letters or digits, or too long)")
                                                       : "more than one term (" + join(terms, " ") + ")") +
                                        "; a stop word is a single word");
      }
      impl->stop_words.insert(std::move(terms[0]));
    }
  }
  return std::unique_ptr<Analyzer>(new Analyzer(std::move(impl)));
}

// ---------------------------------------------------------------------------
// Specs and their canonical JSON.

namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// One stop word per line; '#' starts a comment; blank lines are skipped.
Result<std::vector<std::string>> read_stop_word_file(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(std::string data, read_file(path));
  const std::string where = "stop word file " + path;
  if (const size_t bad = find_invalid_utf8(data); bad != std::string_view::npos) {
    return Status::invalid_argument(where + ": invalid UTF-8 at byte " + std::to_string(bad));
  }
  std::string_view rest = data;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
  std::vector<std::string> words;
  for (size_t line_no = 1; !rest.empty(); ++line_no) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line.find_first_of(" \t") != std::string_view::npos) {
      return Status::invalid_argument(where + ":" + std::to_string(line_no) + ": \"" + std::string(line) +
                                      "\" has a space in it; write one stop word per line");
    }
    words.emplace_back(line);
  }
  return words;
}

Status set_stemmer(std::string_view value, AnalyzerSettings* s) {
  if (value != "none" && !is_known_stemmer(value)) return unknown_stemmer(value);
  s->stemmer = std::string(value);
  return Status::ok();
}

Status set_accents(std::string_view value, AnalyzerSettings* s) {
  if (value == "fold") {
    s->fold_accents = true;
  } else if (value == "keep") {
    s->fold_accents = false;
  } else {
    return Status::invalid_argument("unknown accents setting \"" + std::string(value) + "\"; use fold or keep");
  }
  return Status::ok();
}

Status set_cjk(std::string_view value, AnalyzerSettings* s) {
  using Cjk = AnalyzerSettings::Cjk;
  for (Cjk c : {Cjk::kBigrams, Cjk::kBigramsAndUnigrams, Cjk::kRuns}) {
    if (value == cjk_name(c)) {
      s->cjk = c;
      return Status::ok();
    }
  }
  return Status::invalid_argument("unknown cjk setting \"" + std::string(value) +
                                  "\"; use bigram, bigram+unigram or run");
}

Result<AnalyzerSettings> parse_json_spec(std::string_view spec) {
  using json = nlohmann::json;
  const json j = json::parse(spec, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::invalid_argument("analyzer settings that start with '{' must be a JSON object");
  }
  AnalyzerSettings s;
  auto string_value = [](const json& v, const std::string& key) -> Result<std::string> {
    if (!v.is_string()) return Status::invalid_argument("analyzer setting \"" + key + "\" must be a string");
    return v.get<std::string>();
  };
  for (const auto& [key, v] : j.items()) {
    if (key == "version") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1) {
        return Status::invalid_argument("analyzer setting \"version\" must be a positive integer");
      }
      if (v.get<int64_t>() > kAnalyzerVersion) {
        return Status::unsupported("the analyzer settings are version " + std::to_string(v.get<int64_t>()) +
                                   ", newer than this simile supports (" + std::to_string(kAnalyzerVersion) + ")");
      }
    } else if (key == "stemmer") {
      SIMILE_ASSIGN_OR_RETURN(const std::string value, string_value(v, key));
      SIMILE_RETURN_IF_ERROR(set_stemmer(value, &s));
    } else if (key == "accents") {
      SIMILE_ASSIGN_OR_RETURN(const std::string value, string_value(v, key));
      SIMILE_RETURN_IF_ERROR(set_accents(value, &s));
    } else if (key == "cjk") {
      SIMILE_ASSIGN_OR_RETURN(const std::string value, string_value(v, key));
      SIMILE_RETURN_IF_ERROR(set_cjk(value, &s));
    } else if (key == "stop_words") {
      if (!v.is_array()) return Status::invalid_argument("analyzer setting \"stop_words\" must be an array");
      for (const json& w : v) {
        if (!w.is_string()) return Status::invalid_argument("analyzer setting \"stop_words\" must hold strings");
        s.stop_words.push_back(w.get<std::string>());
      }
    } else {
      return Status::invalid_argument("unknown analyzer setting \"" + key +
                                      "\"; known: accents, cjk, stemmer, stop_words, version");
    }
  }
  return s;
}

Status apply_preset(std::string_view name, AnalyzerSettings* s) {
  *s = AnalyzerSettings();
  if (name == "default") return Status::ok();
  if (name == "english") {
    s->stop_words = english_stop_words();
    return Status::ok();
  }
  if (name == "simple") {
    s->stemmer = "none";
    return Status::ok();
  }
  if (is_known_stemmer(name)) {
    s->stemmer = std::string(name);
    return Status::ok();
  }
  return Status::invalid_argument("unknown analyzer preset \"" + std::string(name) +
                                  "\"; use default, english, simple or a Snowball language (" +
                                  join(known_stemmers(), ", ") + "), then optional overrides such as ,stemmer=none");
}

}  // namespace

Result<AnalyzerSettings> parse_analyzer_spec(std::string_view spec) {
  spec = trim(spec);
  if (spec.empty()) return Status::invalid_argument("empty analyzer spec; use \"default\" for the default analyzer");
  if (spec.front() == '{') return parse_json_spec(spec);

  AnalyzerSettings s;
  std::vector<std::string> seen;
  size_t pos = 0;
  for (size_t index = 0; pos <= spec.size(); ++index) {
    const size_t comma = spec.find(',', pos);
    const std::string_view item = trim(spec.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    pos = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
    const std::string context = "analyzer spec \"" + std::string(spec) + "\"";
    if (item.empty()) return Status::invalid_argument(context + " has an empty item");
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      if (index > 0) {
        return Status::invalid_argument(context + ": \"" + std::string(item) +
                                        "\" is not key=value (a preset can only come first)");
      }
      SIMILE_RETURN_IF_ERROR(apply_preset(lower_ascii(item), &s));
      continue;
    }
    const std::string key = lower_ascii(trim(item.substr(0, eq)));
    const std::string_view raw_value = trim(item.substr(eq + 1));
    const std::string value = lower_ascii(raw_value);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return Status::invalid_argument(context + " sets " + key + " twice");
    }
    seen.push_back(key);
    if (key == "stemmer") {
      SIMILE_RETURN_IF_ERROR(set_stemmer(value, &s));
    } else if (key == "stopwords") {
      if (value == "none") {
        s.stop_words.clear();
      } else if (value == "english") {
        s.stop_words = english_stop_words();
      } else if (!raw_value.empty() && raw_value.front() == '@' && raw_value.size() > 1) {
        SIMILE_ASSIGN_OR_RETURN(s.stop_words, read_stop_word_file(std::string(raw_value.substr(1))));
      } else {
        return Status::invalid_argument("unknown stopwords setting \"" + std::string(raw_value) +
                                        "\"; use none, english or @FILE (one word per line)");
      }
    } else if (key == "accents") {
      SIMILE_RETURN_IF_ERROR(set_accents(value, &s));
    } else if (key == "cjk") {
      SIMILE_RETURN_IF_ERROR(set_cjk(value, &s));
    } else {
      return Status::invalid_argument(context + ": unknown setting \"" + key +
                                      "\"; known: stemmer, stopwords, accents, cjk");
    }
  }
  return s;
}

std::string analyzer_to_json(const AnalyzerSettings& settings) {
  nlohmann::json j;  // an object keeps its keys sorted: the order is stable
  j["accents"] = settings.fold_accents ? "fold" : "keep";
  j["cjk"] = cjk_name(settings.cjk);
  j["stemmer"] = settings.stemmer;
  j["stop_words"] = canonical_stop_words(settings.stop_words);
  j["version"] = kAnalyzerVersion;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string describe_analyzer(const AnalyzerSettings& settings) {
  const size_t stop = canonical_stop_words(settings.stop_words).size();
  return "stemmer=" + settings.stemmer + " stopwords=" + (stop == 0 ? std::string("none") : std::to_string(stop)) +
         " accents=" + (settings.fold_accents ? "fold" : "keep") + " cjk=" + cjk_name(settings.cjk);
}

}  // namespace simile::text
