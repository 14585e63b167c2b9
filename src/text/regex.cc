#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string_view>

namespace simile::text {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof(buf));
  return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buf));
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

// One match-data block per thread, enough for group 0 of any pattern.
pcre2_match_data* thread_match_data() {
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(pcre2_match_data_create(1, nullptr));
  return data.get();
}

inline bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

#include "text/onig_classes_table.inc"

// Oniguruma's Unicode classes where PCRE2's (with UCP) differ: \s is
// U+0009..000D, U+0085 and Z* (PCRE2 adds U+180E); \w is L, M, Nd and Pc
// (PCRE2 10.42: L, N and '_'); and its Unicode tables are newer (16.0 against
// PCRE2 10.42's 14.0), so \p{L} and \p{N} gain the letters and numbers
// assigned since (gen_onig_classes.py).
std::string set_of(char e) {
  switch (e) {
    case 's':
    case 'S':
      return "\\t-\\r\\x{85}\\p{Z}";
    case 'w':
    case 'W':
      return "\\p{L}" + std::string(kOnigExtraLetters) + "\\p{M}\\p{Nd}\\p{Pc}";
    case 'L':
      return "\\p{L}" + std::string(kOnigExtraLetters);
    default:  // 'N'
      return "\\p{N}" + std::string(kOnigExtraNumbers);
  }
}

// `pattern` with \s \S \w \W \p{L} \p{N} \P{L} \P{N} spelled as Oniguruma
// means them. Inside a character class only the positive forms can be
// spelled out; the negated ones there keep PCRE2's meaning.
std::string onig_classes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  int class_depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      char cls = 0;  // the class this escape names, if one we respell
      bool negated = false;
      size_t len = 2;
      if (e == 's' || e == 'S' || e == 'w' || e == 'W') {
        cls = e;
        negated = e == 'S' || e == 'W';
      } else if ((e == 'p' || e == 'P') && i + 2 < pattern.size()) {
        const std::string_view rest = pattern.substr(i + 2);
        for (const char* name : {"{L}", "{N}", "L", "N"}) {
          const std::string_view n(name);
          // \pL is one letter: only a name of exactly one letter or {X}.
          if (rest.substr(0, n.size()) == n) {
            cls = n.size() == 1 ? n[0] : n[1];
            len = 2 + n.size();
            negated = e == 'P';
            break;
          }
        }
      }
      if (cls != 0 && class_depth > 0 && !negated) {
        out.append(set_of(cls));
      } else if (cls != 0 && class_depth == 0) {
        out.append(negated ? "[^" : "[");
        out.append(set_of(cls));
        out.push_back(']');
      } else {
        out.append(pattern.substr(i, len));
      }
      i += len - 1;
      continue;
    }
    if (c == '[') {
      if (class_depth > 0 && i + 1 < pattern.size() && pattern[i + 1] == ':') {
        // A POSIX class such as [:alpha:] inside a class: copy it whole.
        const size_t close = pattern.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(pattern.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
      }
      ++class_depth;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out.push_back(pattern[++i]);
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out.push_back(pattern[++i]);
      continue;
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Regex>> Regex::compile(std::string_view pattern, bool literal) {
  std::unique_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0u);
  const std::string translated = literal ? re->pattern_ : onig_classes(pattern);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(), options, &error,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    return Status::invalid_argument("regex '" + re->pattern_ + "' does not compile: " + pcre2_message(error) +
                                    " at offset " + std::to_string(error_offset) +
                                    (translated == re->pattern_ ? "" : " of '" + translated + "'"));
  }
  // JIT is an optimisation only: without it (unsupported CPU) pcre2_match interprets.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  re->code_ = code;
  return re;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Status Regex::find_all(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* out) const {
  auto* code = static_cast<const pcre2_code*>(code_);
  pcre2_match_data* md = thread_match_data();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t start = 0;
  bool have_last = false;
  size_t last_end = 0;
  // The whole subject is checked once; later searches skip the check, which
  // would otherwise make a text of many matches quadratic.
  uint32_t options = 0;
  while (start <= n) {
    const int rc = pcre2_match(code, subject, n, start, options, md, nullptr);
    options = PCRE2_NO_UTF_CHECK;
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return Status::invalid_argument("regex '" + pattern_ + "': " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    if (b == e && have_last && last_end == e) {
      // An empty match where the last one ended: move one character on.
      if (start >= n) break;
      ++start;
      while (start < n && is_continuation_byte(text[start])) ++start;
      continue;
    }
    out->emplace_back(static_cast<uint32_t>(b), static_cast<uint32_t>(e));
    have_last = true;
    last_end = e;
    start = e;
  }
  return Status::ok();
}

}  // namespace simile::text
