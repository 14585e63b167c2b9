// chunk_text: one tokenization of the whole text gives every place a cut may
// go (between two tokens) and how good a place it is; a greedy pass then
// takes, chunk by chunk, the latest good cut inside the token budget, and
// re-encodes each chunk alone to make sure it fits.
#include "text/chunker.h"

#include <algorithm>
#include <string>
#include <utility>

#include "text/unicode.h"
#include "text/utf8.h"
#include "util/check.h"

namespace simile::text {

namespace {

// How good a place to cut the boundary before a token is; higher is better.
enum Strength : int8_t {
  kNoCut = -1,         // tokens overlap in the text (one character made several tokens)
  kInsideWord = 0,     // between two pieces of one word (or of one grapheme)
  kBetweenTokens = 1,  // no space, but not inside a word: punctuation, symbols, CJK ideographs
  kWord = 2,           // whitespace between words
  kClause = 3,         // after , ; : followed by whitespace (、，；： need none)
  kSoftLine = 4,       // a line break inside running text (hard-wrapped prose, log lines)
  kSentence = 5,       // after . ! ? … followed by whitespace (。！？ need none)
  kLine = 6,           // a line break after a sentence, or before a list item, quote, table row...
  kParagraph = 7,      // a blank line
  kHeading = 8,        // a line break before a markdown heading (# ... ######)
};
constexpr int kStrengths = 9;

// The least share of the budget, in percent, a chunk must fill to end at a
// cut of each strength; a weaker cut that fills the chunk better wins below
// it. Strong structure earns a short chunk, a bare word boundary does not.
constexpr int kMinFillPercent[kStrengths] = {
    0,   // kInsideWord: the last resort
    30,  // kBetweenTokens
    30,  // kWord
    75,  // kClause
    60,  // kSoftLine
    60,  // kSentence
    60,  // kLine
    50,  // kParagraph
    40,  // kHeading
};

struct Span {
  size_t begin;
  size_t end;
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The character starting at `pos` (< text.size()); text is valid UTF-8.
char32_t char_at(std::string_view text, size_t pos, size_t* len = nullptr) {
  Utf8Step st = decode_utf8(bytes(text) + pos, text.size() - pos);
  if (len != nullptr) *len = st.len;
  return st.cp;
}

// The character ending at `pos` (> 0) and where it starts.
char32_t char_before(std::string_view text, size_t pos, size_t* start = nullptr) {
  size_t b = pos - 1;
  while (b > 0 && pos - b < 4 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  if (start != nullptr) *start = b;
  return char_at(text, b);
}

bool is_space_at(std::string_view text, size_t pos, size_t* len) { return is_white_space(char_at(text, pos, len)); }

// [begin, end) without whitespace at either end (begin == end if all space).
Span trim(std::string_view text, size_t begin, size_t end) {
  size_t len = 0;
  while (begin < end && is_space_at(text, begin, &len)) begin += len;
  while (end > begin) {
    size_t start = 0;
    if (!is_white_space(char_before(text, end, &start))) break;
    end = start;
  }
  return {begin, end};
}

// Characters that may stand between a sentence's end and the space after it.
bool is_closer(char32_t c) {
  switch (c) {
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case '*':
    case '_':
    case '`':
    case 0x2019:
    case 0x201D:
    case 0x00BB:
    case 0x300D:
    case 0x300F:
    case 0xFF09:
    case 0x3011:
    case 0x300B:
      return true;
    default:
      return false;
  }
}

// Ends a sentence when whitespace follows.
bool is_sentence_end(char32_t c) {
  return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x203C || c == 0x2047 || c == 0x2048 || c == 0x2049 ||
         c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E || c == 0xFF61;
}

// Ends a sentence even with no whitespace after it (full-width CJK marks).
bool is_cjk_sentence_end(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF61; }

bool is_clause_end(char32_t c) {
  return c == ',' || c == ';' || c == ':' || c == 0x3001 || c == 0xFF0C || c == 0xFF1B || c == 0xFF1A;
}

bool is_cjk_clause_end(char32_t c) { return c == 0x3001 || c == 0xFF0C || c == 0xFF1B || c == 0xFF1A; }

// Characters that join the one before into a single grapheme: a cut before
// or after them would split an accented letter or an emoji sequence.
bool is_grapheme_extender(char32_t c) {
  return c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1F3FB && c <= 0x1F3FF) ||
         (c >= 0xE0020 && c <= 0xE007F) || (c >= 0x0300 && c <= 0x036F) || is_nonspacing_mark(c);
}

// The character before `pos` once closing quotes and brackets are skipped.
char32_t last_mark_before(std::string_view text, size_t pos) {
  for (int k = 0; k < 4 && pos > 0; ++k) {
    size_t start = 0;
    const char32_t c = char_before(text, pos, &start);
    if (!is_closer(c)) return c;
    pos = start;
  }
  return 0;
}

// The line starting at `pos` opens a block of its own: a list item, a quote,
// a table row, a code fence or a heading.
bool opens_block(std::string_view text, size_t pos) {
  const auto followed_by_space = [&](size_t p) { return p < text.size() && (text[p] == ' ' || text[p] == '\t'); };
  const char c = text[pos];
  if (c == '>' || c == '|' || c == '#') return true;
  if ((c == '-' || c == '*' || c == '+') && followed_by_space(pos + 1)) return true;  // "- item"
  if (text.compare(pos, 3, "```") == 0 || text.compare(pos, 3, "~~~") == 0) return true;
  size_t p = pos;
  while (p < text.size() && p - pos < 9 && text[p] >= '0' && text[p] <= '9') ++p;
  if (p > pos && p < text.size() && (text[p] == '.' || text[p] == ')') && followed_by_space(p + 1)) return true;
  return text.compare(pos, 3, "\u2022") == 0;  // "•"
}

// `pos` is the first character of a line that is a markdown ATX heading:
// 1 to 6 '#' then a space, a tab or the end of the line.
bool is_heading_at(std::string_view text, size_t pos) {
  size_t n = 0;
  while (pos + n < text.size() && text[pos + n] == '#') ++n;
  if (n == 0 || n > 6) return false;
  if (pos + n == text.size()) return true;
  const char c = text[pos + n];
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// How good a cut between a token ending at `prev_end` and the next token
// starting at `next_begin` is. The whitespace around the boundary is widened
// into the neighbouring tokens (but not past them), for tokenizers whose
// tokens carry their spaces.
Strength boundary_strength(std::string_view text, size_t prev_begin, size_t prev_end, size_t next_begin,
                           size_t next_end) {
  size_t ws_begin = prev_end;
  while (ws_begin > prev_begin) {
    size_t start = 0;
    if (!is_white_space(char_before(text, ws_begin, &start))) break;
    ws_begin = start;
  }
  size_t ws_end = next_begin;
  size_t len = 0;
  while (ws_end < next_end && is_space_at(text, ws_end, &len)) ws_end += len;

  // Line breaks in the separation (\r\n counts once; a form feed is a page).
  int breaks = 0;
  size_t line_start = std::string_view::npos;
  for (size_t p = ws_begin; p < ws_end; ++p) {
    const char c = text[p];
    if (c == '\n' || (c == '\r' && (p + 1 == text.size() || text[p + 1] != '\n'))) {
      ++breaks;
      line_start = p + 1;
    } else if (c == '\f') {
      breaks += 2;
      line_start = p + 1;
    }
  }
  if (breaks > 0) {
    // The next token opens its line when only whitespace lies between.
    const Span rest = trim(text, line_start, ws_end);
    const bool opens_line = rest.begin == rest.end && ws_end < text.size();
    if (opens_line && is_heading_at(text, ws_end)) return kHeading;
    if (breaks >= 2) return kParagraph;
    // One line break: structure when it ends a sentence (or a table row, or
    // leads into a list), else most likely prose wrapped at a fixed width.
    const char32_t mark = ws_begin > 0 ? last_mark_before(text, ws_begin) : 0;
    if (is_sentence_end(mark) || mark == ':' || mark == '|' || (opens_line && opens_block(text, ws_end))) return kLine;
    return kSoftLine;
  }
  if (ws_begin < ws_end || prev_end < next_begin) {
    if (ws_begin == 0) return kWord;
    const char32_t mark = last_mark_before(text, ws_begin);
    if (is_sentence_end(mark)) return kSentence;
    if (is_clause_end(mark)) return kClause;
    return kWord;
  }
  // Tokens touch: the characters on either side decide.
  if (prev_end == 0 || next_begin >= text.size()) return kBetweenTokens;
  const char32_t before = char_before(text, prev_end);
  const char32_t after = char_at(text, next_begin);
  if (is_grapheme_extender(after) || before == 0x200D) return kInsideWord;
  const char32_t mark = last_mark_before(text, prev_end);
  if (is_cjk_sentence_end(mark)) return kSentence;
  if (is_cjk_clause_end(mark)) return kClause;
  if (is_word_char(before) && is_word_char(after) && !is_chinese_char(before) && !is_chinese_char(after)) {
    return kInsideWord;
  }
  return kBetweenTokens;
}

// Tokens of an encoding that stand for text (padding excluded).
size_t count_tokens(const Encoding& e) {
  if (e.attention_mask.size() != e.size()) return e.size();
  return static_cast<size_t>(std::count(e.attention_mask.begin(), e.attention_mask.end(), 1));
}

class Chunker {
 public:
  Chunker(std::string_view text, const Tokenizer& tokenizer, const ChunkOptions& options)
      : text_(text), tokenizer_(tokenizer), options_(options) {}

  Result<std::vector<Chunk>> run();

 private:
  // Byte where the chunk starting (or ending) at token boundary i is cut.
  size_t cut_byte(size_t i) const {
    if (i == 0) return 0;
    if (i >= tokens_.size()) return text_.size();
    return tokens_[i].begin;
  }
  size_t choose_cut(size_t s, size_t lo, size_t hi, size_t budget) const;
  size_t next_start(size_t s, size_t i) const;
  bool has_cut(size_t lo, size_t hi) const;
  Result<size_t> count(Span span) const;
  void emit(Span span, size_t tokens);
  Status split_by_chars(Span span);

  std::string_view text_;
  const Tokenizer& tokenizer_;
  const ChunkOptions& options_;
  std::vector<Span> tokens_;        // byte span of each token in text_
  std::vector<Strength> strength_;  // strength_[i]: the cut before token i (i >= 1)
  std::vector<Chunk> chunks_;
};

Result<size_t> Chunker::count(Span span) const {
  SIMILE_ASSIGN_OR_RETURN(Encoding e, tokenizer_.encode(text_.substr(span.begin, span.end - span.begin), false));
  return count_tokens(e);
}

void Chunker::emit(Span span, size_t tokens) {
  if (span.begin < span.end) chunks_.push_back({span.begin, span.end, 0, 0, tokens});
}

// Some cut in [lo, hi] is allowed.
bool Chunker::has_cut(size_t lo, size_t hi) const {
  for (size_t i = lo; i <= hi && i < tokens_.size(); ++i) {
    if (strength_[i] != kNoCut) return true;
  }
  return false;
}

// The best cut in [lo, hi] for a chunk starting at token s: for each strength
// from the best, its latest cut, taken if the chunk fills enough of `budget`.
// 0 when no cut in the window is allowed.
size_t Chunker::choose_cut(size_t s, size_t lo, size_t hi, size_t budget) const {
  size_t latest[kStrengths] = {};
  int filled = -1;  // strengths 0..filled have their latest cut
  for (size_t i = hi; i >= lo && filled < kStrengths - 1; --i) {
    const int st = strength_[i];
    for (int k = filled + 1; k <= st; ++k) latest[k] = i;
    filled = std::max(filled, st);
  }
  for (int k = kStrengths - 1; k >= 0; --k) {
    if (latest[k] != 0 && (latest[k] - s) * 100 >= static_cast<size_t>(kMinFillPercent[k]) * budget) return latest[k];
  }
  return 0;
}

// Where the chunk after [s, i) starts: about overlap_tokens before i, moved
// forward to a sentence start if one is near, else to a word start.
size_t Chunker::next_start(size_t s, size_t i) const {
  const size_t overlap = options_.overlap_tokens;
  if (overlap == 0 || i >= tokens_.size()) return i;
  const size_t from = std::max(s + 1, i > overlap ? i - overlap : 0);
  for (size_t j = from; j < i && j <= from + overlap / 2; ++j) {
    if (strength_[j] >= kSentence) return j;
  }
  for (Strength least : {kWord, kBetweenTokens}) {
    for (size_t j = from; j < i; ++j) {
      if (strength_[j] >= least) return j;
    }
  }
  return i;
}

// The last resort for a span whose smallest token-bounded piece does not fit
// alone: cut it between characters, each piece as long as fits (found by
// bisection). A single character that does not fit stands alone.
Status Chunker::split_by_chars(Span span) {
  std::vector<size_t> starts;  // byte offset of each character of the span
  for (size_t p = span.begin; p < span.end;) {
    starts.push_back(p);
    size_t len = 0;
    char_at(text_, p, &len);
    p += len;
  }
  starts.push_back(span.end);
  size_t first = 0;  // index in `starts` of the piece's first character
  while (first + 1 < starts.size()) {
    size_t lo = first + 1, hi = starts.size() - 1, best = first + 1;
    size_t best_tokens = 0;
    while (lo <= hi) {
      const size_t mid = lo + (hi - lo) / 2;
      SIMILE_ASSIGN_OR_RETURN(size_t n, count(trim(text_, starts[first], starts[mid])));
      if (n <= options_.max_tokens) {
        best = mid;
        best_tokens = n;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    const Span piece = trim(text_, starts[first], starts[best]);
    if (best_tokens == 0) {
      SIMILE_ASSIGN_OR_RETURN(best_tokens, count(piece));
    }
    emit(piece, best_tokens);
    first = best;
  }
  return Status::ok();
}

Result<std::vector<Chunk>> Chunker::run() {
  const size_t max = options_.max_tokens;
  const Span whole = trim(text_, 0, text_.size());
  if (whole.begin == whole.end) return std::move(chunks_);

  SIMILE_ASSIGN_OR_RETURN(Encoding e, tokenizer_.encode(text_, false));
  tokens_.reserve(e.size());
  for (size_t k = 0; k < e.size(); ++k) {
    if (!e.attention_mask.empty() && e.attention_mask[k] == 0) continue;
    tokens_.push_back({e.offsets[k].first, e.offsets[k].second});
  }
  const size_t n = tokens_.size();
  if (n == 0) {  // text the tokenizer drops entirely (control characters)
    emit(whole, 0);
    return std::move(chunks_);
  }

  strength_.assign(n, kNoCut);
  size_t max_end = tokens_[0].end;  // a token may only start after every earlier one ended
  for (size_t i = 1; i < n; ++i) {
    const Span& prev = tokens_[i - 1];
    const Span& next = tokens_[i];
    if (max_end <= next.begin) strength_[i] = boundary_strength(text_, prev.begin, prev.end, next.begin, next.end);
    max_end = std::max(max_end, static_cast<size_t>(next.end));
  }

  size_t s = 0;     // first token of the chunk being cut
  size_t done = 0;  // tokens before this are in emitted chunks (s < done: overlap)
  size_t budget = max;
  while (done < n) {
    const size_t lo = std::max(s, done) + 1;  // a chunk must add new tokens
    size_t i;
    if (n - s <= budget) {
      i = n;
    } else {
      const size_t hi = s + budget;
      if (lo > hi) {  // the overlap leaves no room in a shrunk budget: drop it
        s = done;
        budget = max;
        continue;
      }
      i = choose_cut(s, lo, hi, budget);
      if (i == 0) {  // no allowed cut inside the budget: the first one after it
        i = hi + 1;
        while (i < n && strength_[i] == kNoCut) ++i;
      }
    }
    const Span span = trim(text_, cut_byte(s), cut_byte(i));
    size_t tokens = 0;
    if (span.begin < span.end) {
      SIMILE_ASSIGN_OR_RETURN(tokens, count(span));
    }
    if (tokens <= max) {
      emit(span, tokens);
      done = i;
      s = next_start(s, i);
      budget = max;
      continue;
    }
    // Encoded alone the span is longer than inside the whole text: try again
    // with the budget short by the excess.
    const size_t excess = std::max<size_t>(1, tokens - max);
    const size_t shrunk = i - s > excess ? i - s - excess : 0;
    if (shrunk > 0 && s + shrunk >= lo && has_cut(lo, std::min(i - 1, s + shrunk))) {
      budget = shrunk;
    } else if (s < done) {
      s = done;
      budget = max;
    } else {
      SIMILE_RETURN_IF_ERROR(split_by_chars({cut_byte(s), cut_byte(i)}));
      done = i;
      s = i;
      budget = max;
    }
  }
  return std::move(chunks_);
}

// Fills char_begin/char_end; both byte_begin and byte_end are non-decreasing
// over the chunks, so two cursors walk the text once.
void fill_char_offsets(std::string_view text, std::vector<Chunk>* chunks) {
  size_t begin_byte = 0, begin_char = 0, end_byte = 0, end_char = 0;
  for (Chunk& c : *chunks) {
    SIMILE_CHECK(c.byte_begin >= begin_byte && c.byte_end >= end_byte);
    begin_char += count_code_points(text.substr(begin_byte, c.byte_begin - begin_byte));
    begin_byte = c.byte_begin;
    end_char += count_code_points(text.substr(end_byte, c.byte_end - end_byte));
    end_byte = c.byte_end;
    c.char_begin = begin_char;
    c.char_end = end_char;
  }
}

}  // namespace

Result<std::vector<Chunk>> chunk_text(std::string_view text, const Tokenizer& tokenizer, const ChunkOptions& options) {
  if (options.max_tokens == 0) return Status::invalid_argument("chunk max_tokens must be at least 1");
  if (options.overlap_tokens >= options.max_tokens) {
    return Status::invalid_argument("chunk overlap (" + std::to_string(options.overlap_tokens) +
                                    " tokens) must be less than the chunk size (" + std::to_string(options.max_tokens) +
                                    " tokens)");
  }
  if (tokenizer.truncation()) {
    return Status::invalid_argument("the tokenizer truncates to " + std::to_string(tokenizer.truncation()->max_length) +
                                    " tokens, which would hide the rest of a long text; disable truncation to chunk");
  }
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    return Status::invalid_argument("text to chunk is not valid UTF-8 at byte offset " + std::to_string(bad));
  }
  SIMILE_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, Chunker(text, tokenizer, options).run());
  fill_char_offsets(text, &chunks);
  return chunks;
}

}  // namespace simile::text
