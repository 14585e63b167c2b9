// html_to_text: one pass over the markup. Text runs are decoded and written
// through a TextWriter that collapses whitespace and turns the breaks that
// block elements ask for into newlines, lazily, so that empty elements and
// runs of closing tags never stack up blank lines.
#include "text/html_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "text/utf8.h"

namespace simile::text {

namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// --- character references ------------------------------------------------------

// Latin-1 0xA0..0xFF by their HTML names, in code point order.
constexpr std::array<const char*, 96> kLatin1Names = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",    "copy",   "ordf",
    "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",
    "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave",
    "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",
    "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",
    "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave", "aacute",
    "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
    "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

struct NamedRef {
  const char* name;
  char32_t cp;
};

constexpr NamedRef kOtherNames[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},      {"apos", '\''},
    {"OElig", 0x152},   {"oelig", 0x153},   {"Scaron", 0x160},  {"scaron", 0x161},  {"Yuml", 0x178},
    {"fnof", 0x192},    {"circ", 0x2C6},    {"tilde", 0x2DC},   {"Alpha", 0x391},   {"Beta", 0x392},
    {"Gamma", 0x393},   {"Delta", 0x394},   {"Theta", 0x398},   {"Lambda", 0x39B},  {"Pi", 0x3A0},
    {"Sigma", 0x3A3},   {"Phi", 0x3A6},     {"Psi", 0x3A8},     {"Omega", 0x3A9},   {"alpha", 0x3B1},
    {"beta", 0x3B2},    {"gamma", 0x3B3},   {"delta", 0x3B4},   {"epsilon", 0x3B5}, {"zeta", 0x3B6},
    {"eta", 0x3B7},     {"theta", 0x3B8},   {"iota", 0x3B9},    {"kappa", 0x3BA},   {"lambda", 0x3BB},
    {"mu", 0x3BC},      {"nu", 0x3BD},      {"xi", 0x3BE},      {"omicron", 0x3BF}, {"pi", 0x3C0},
    {"rho", 0x3C1},     {"sigmaf", 0x3C2},  {"sigma", 0x3C3},   {"tau", 0x3C4},     {"upsilon", 0x3C5},
    {"phi", 0x3C6},     {"chi", 0x3C7},     {"psi", 0x3C8},     {"omega", 0x3C9},   {"ensp", 0x2002},
    {"emsp", 0x2003},   {"thinsp", 0x2009}, {"zwnj", 0x200C},   {"zwj", 0x200D},    {"lrm", 0x200E},
    {"rlm", 0x200F},    {"ndash", 0x2013},  {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},
    {"sbquo", 0x201A},  {"ldquo", 0x201C},  {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"dagger", 0x2020},
    {"Dagger", 0x2021}, {"bull", 0x2022},   {"hellip", 0x2026}, {"permil", 0x2030}, {"prime", 0x2032},
    {"Prime", 0x2033},  {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"oline", 0x203E},  {"frasl", 0x2044},
    {"euro", 0x20AC},   {"trade", 0x2122},  {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},
    {"darr", 0x2193},   {"harr", 0x2194},   {"rArr", 0x21D2},   {"hArr", 0x21D4},   {"forall", 0x2200},
    {"part", 0x2202},   {"exist", 0x2203},  {"empty", 0x2205},  {"nabla", 0x2207},  {"isin", 0x2208},
    {"notin", 0x2209},  {"sum", 0x2211},    {"minus", 0x2212},  {"radic", 0x221A},  {"infin", 0x221E},
    {"and", 0x2227},    {"or", 0x2228},     {"cap", 0x2229},    {"cup", 0x222A},    {"int", 0x222B},
    {"there4", 0x2234}, {"sim", 0x223C},    {"asymp", 0x2248},  {"ne", 0x2260},     {"equiv", 0x2261},
    {"le", 0x2264},     {"ge", 0x2265},     {"sub", 0x2282},    {"sup", 0x2283},    {"loz", 0x25CA},
    {"spades", 0x2660}, {"clubs", 0x2663},  {"hearts", 0x2665}, {"diams", 0x2666},  {"check", 0x2713},
    {"Tab", '\t'},      {"NewLine", '\n'},
};

const std::unordered_map<std::string_view, char32_t>& named_refs() {
  static const std::unordered_map<std::string_view, char32_t> map = [] {
    std::unordered_map<std::string_view, char32_t> m;
    for (size_t i = 0; i < kLatin1Names.size(); ++i) m.emplace(kLatin1Names[i], static_cast<char32_t>(0xA0 + i));
    for (const NamedRef& r : kOtherNames) m.emplace(r.name, r.cp);
    return m;
  }();
  return map;
}

// What browsers make of &#128; .. &#159;: the Windows-1252 characters (0 where
// that code page has none, and the C1 control stays).
constexpr char32_t kWindows1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                       0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                       0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                       0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// Decodes the reference starting at s[pos] == '&'. Returns the bytes it
// spans (0 if it is not one) and appends its text to *out.
size_t decode_reference(std::string_view s, size_t pos, std::string* out) {
  size_t p = pos + 1;
  if (p < s.size() && s[p] == '#') {
    ++p;
    const bool hex = p < s.size() && (s[p] == 'x' || s[p] == 'X');
    if (hex) ++p;
    const size_t digits_begin = p;
    uint32_t value = 0;
    while (p < s.size()) {
      const char c = s[p];
      int d;
      if (is_ascii_digit(c)) {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        break;
      }
      value = std::min<uint32_t>(value * (hex ? 16 : 10) + static_cast<uint32_t>(d), 0x110000);
      ++p;
    }
    if (p == digits_begin) return 0;
    if (p < s.size() && s[p] == ';') ++p;
    char32_t cp = value;
    if (cp >= 0x80 && cp <= 0x9F && kWindows1252[cp - 0x80] != 0) cp = kWindows1252[cp - 0x80];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
    append_utf8(cp, out);
    return p - pos;
  }
  while (p < s.size() && p - pos <= 32 && (is_ascii_alpha(s[p]) || is_ascii_digit(s[p]))) ++p;
  if (p == pos + 1 || p >= s.size() || s[p] != ';') return 0;
  const auto& refs = named_refs();
  auto it = refs.find(s.substr(pos + 1, p - pos - 1));
  if (it == refs.end()) return 0;
  if (it->second != 0xAD) append_utf8(it->second, out);  // a soft hyphen is only a hint
  return p + 1 - pos;
}

// --- writing text -----------------------------------------------------------------

enum Break { kNone = 0, kLineBreak = 1, kBlankLine = 2 };

class TextWriter {
 public:
  // Text outside <pre>: whitespace (and no-break spaces) collapse to one space.
  void flow(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (is_ascii_space(c)) {
        space_ = true;
        continue;
      }
      if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
        space_ = true;
        ++i;
        continue;
      }
      put(c);
    }
  }

  // Text inside <pre>: kept as written.
  void verbatim(std::string_view s) {
    for (char c : s) {
      if (c == '\r') continue;
      if (c == ' ' || c == '\t' || c == '\n') {
        flush_break();
        out_ += c;
        space_ = false;
        continue;
      }
      put(c);
    }
  }

  void request_break(Break b) { break_ = std::max(break_, b); }
  void request_space() { space_ = true; }
  size_t size() const { return out_.size(); }
  const std::string& text() const { return out_; }

  std::string finish() {
    while (!out_.empty() && is_ascii_space(out_.back())) out_.pop_back();
    return std::move(out_);
  }

 private:
  void flush_break() {
    if (break_ != kNone && !out_.empty()) {
      while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
      size_t have = 0;  // newlines already ending the text
      for (size_t i = out_.size(); i > 0 && out_[i - 1] == '\n'; --i) ++have;
      for (size_t k = have; k < static_cast<size_t>(break_); ++k) out_ += '\n';
      space_ = false;
    }
    break_ = kNone;
  }

  void put(char c) {
    const bool had_break = break_ != kNone;
    flush_break();
    if (space_ && !had_break && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') out_ += ' ';
    space_ = false;
    out_ += c;
  }

  std::string out_;
  Break break_ = kNone;
  bool space_ = false;
};

std::string collapse_whitespace(std::string_view s) {
  TextWriter w;
  w.flow(s);
  return w.finish();
}

// --- tags ---------------------------------------------------------------------------

// The break a tag (opening or closing) puts in the text.
Break break_for(std::string_view tag) {
  static const std::unordered_map<std::string_view, Break> kBreaks = {
      {"p", kBlankLine},       {"h1", kBlankLine},         {"h2", kBlankLine},         {"h3", kBlankLine},
      {"h4", kBlankLine},      {"h5", kBlankLine},         {"h6", kBlankLine},         {"section", kBlankLine},
      {"article", kBlankLine}, {"blockquote", kBlankLine}, {"pre", kBlankLine},        {"table", kBlankLine},
      {"ul", kBlankLine},      {"ol", kBlankLine},         {"dl", kBlankLine},         {"hr", kBlankLine},
      {"figure", kBlankLine},  {"main", kBlankLine},       {"header", kBlankLine},     {"footer", kBlankLine},
      {"nav", kBlankLine},     {"aside", kBlankLine},      {"form", kBlankLine},       {"fieldset", kBlankLine},
      {"details", kBlankLine}, {"address", kBlankLine},    {"body", kBlankLine},       {"br", kLineBreak},
      {"li", kLineBreak},      {"tr", kLineBreak},         {"div", kLineBreak},        {"dt", kLineBreak},
      {"dd", kLineBreak},      {"caption", kLineBreak},    {"figcaption", kLineBreak}, {"summary", kLineBreak},
      {"legend", kLineBreak},  {"option", kLineBreak},     {"center", kLineBreak},     {"thead", kLineBreak},
      {"tbody", kLineBreak},   {"tfoot", kLineBreak},      {"menu", kLineBreak},       {"label", kNone},
  };
  auto it = kBreaks.find(tag);
  return it == kBreaks.end() ? kNone : it->second;
}

// Elements whose contents are never shown as text.
bool is_hidden_element(std::string_view tag) {
  return tag == "script" || tag == "style" || tag == "template" || tag == "svg" || tag == "noembed" ||
         tag == "iframe" || tag == "object" || tag == "math";
}

// First position >= from of "</name" (case-insensitive), or npos.
size_t find_end_tag(std::string_view html, size_t from, std::string_view name) {
  for (size_t p = html.find("</", from); p != std::string_view::npos; p = html.find("</", p + 2)) {
    if (p + 2 + name.size() > html.size()) return std::string_view::npos;
    bool match = true;
    for (size_t k = 0; k < name.size() && match; ++k) match = ascii_lower(html[p + 2 + k]) == name[k];
    if (!match) continue;
    const size_t after = p + 2 + name.size();
    if (after == html.size() || !(is_ascii_alpha(html[after]) || is_ascii_digit(html[after]))) return p;
  }
  return std::string_view::npos;
}

// The '>' ending the tag that starts at `from`, skipping quoted attribute
// values; html.size() when there is none.
size_t find_tag_end(std::string_view html, size_t from) {
  char quote = 0;
  for (size_t p = from; p < html.size(); ++p) {
    const char c = html[p];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      // Only a quote right after '=' (and spaces) opens a value.
      size_t q = p;
      while (q > from && is_ascii_space(html[q - 1])) --q;
      if (q > from && html[q - 1] == '=') quote = c;
    } else if (c == '>') {
      return p;
    }
  }
  return html.size();
}

// After `p` (past the end of a tag or a closing tag), position past the
// closing tag at `end_tag` (npos = the rest of the input).
size_t skip_past_end_tag(std::string_view html, size_t end_tag) {
  if (end_tag == std::string_view::npos) return html.size();
  const size_t gt = find_tag_end(html, end_tag);
  return gt < html.size() ? gt + 1 : html.size();
}

}  // namespace

std::string decode_html_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t p = s.find('&'); p != std::string_view::npos; p = s.find('&', p)) {
    out.append(s.substr(run, p - run));
    const size_t n = decode_reference(s, p, &out);
    if (n == 0) {
      out += '&';
      ++p;
    } else {
      p += n;
    }
    run = p;
  }
  out.append(s.substr(run));
  return out;
}

HtmlText html_to_text(std::string_view html) {
  HtmlText result;
  TextWriter w;
  bool in_head = false;
  int pre_depth = 0;
  bool pre_opened = false;  // no text yet since <pre> (whose first newline is dropped)
  bool have_title = false;
  bool in_first_h1 = false;
  bool seen_h1 = false;
  size_t h1_begin = 0;
  std::string h1;

  const auto emit_text = [&](std::string_view raw) {
    if (raw.empty() || in_head) return;
    const std::string decoded = raw.find('&') == std::string_view::npos ? std::string(raw) : decode_html_entities(raw);
    if (pre_depth > 0) {
      std::string_view v = decoded;
      if (pre_opened && v.starts_with("\r\n")) {
        v.remove_prefix(2);
      } else if (pre_opened && v.starts_with('\n')) {
        v.remove_prefix(1);
      }
      pre_opened = false;
      w.verbatim(v);
    } else {
      w.flow(decoded);
    }
  };

  size_t p = 0;
  while (p < html.size()) {
    const size_t lt = html.find('<', p);
    if (lt == std::string_view::npos) {
      emit_text(html.substr(p));
      break;
    }
    emit_text(html.substr(p, lt - p));
    p = lt;
    const char next = lt + 1 < html.size() ? html[lt + 1] : '\0';
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t end = html.find("-->", lt + 4);
      p = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (next == '!' || next == '?') {
      const size_t end = html.find('>', lt + 2);
      p = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    const bool closing = next == '/';
    const size_t name_begin = lt + (closing ? 2 : 1);
    if (name_begin >= html.size() || !is_ascii_alpha(html[name_begin])) {
      emit_text("<");  // a '<' that starts no tag is text
      p = lt + 1;
      continue;
    }
    size_t name_end = name_begin;
    std::string name;
    while (name_end < html.size() && (is_ascii_alpha(html[name_end]) || is_ascii_digit(html[name_end]) ||
                                      html[name_end] == '-' || html[name_end] == ':')) {
      name += ascii_lower(html[name_end]);
      ++name_end;
    }
    const size_t gt = find_tag_end(html, name_end);
    p = gt < html.size() ? gt + 1 : html.size();

    if (closing) {
      if (name == "head") in_head = false;
      if (name == "pre" && pre_depth > 0) --pre_depth;
      if (name == "h1" && in_first_h1) {
        in_first_h1 = false;
        h1 = collapse_whitespace(std::string_view(w.text()).substr(std::min(h1_begin, w.size())));
      }
      if (name == "td" || name == "th") w.request_space();
      w.request_break(break_for(name));
      continue;
    }
    if (name == "title") {
      const size_t end = find_end_tag(html, p, "title");
      const std::string_view raw = html.substr(p, end == std::string_view::npos ? html.size() - p : end - p);
      if (!have_title) {
        result.title = collapse_whitespace(decode_html_entities(raw));
        have_title = !result.title.empty();
      }
      p = skip_past_end_tag(html, end);
      continue;
    }
    if (is_hidden_element(name)) {
      const bool self_closing = gt < html.size() && gt > name_end && html[gt - 1] == '/';
      if (!self_closing) p = skip_past_end_tag(html, find_end_tag(html, p, name));
      continue;
    }
    if (name == "head") {
      in_head = true;
      continue;
    }
    const Break b = break_for(name);
    if (name == "body" || b != kNone) in_head = false;  // a head left open ends where the body starts
    if (name == "td" || name == "th" || name == "img") w.request_space();
    w.request_break(b);
    if (name == "pre") {
      ++pre_depth;
      pre_opened = true;
    }
    if (name == "h1" && !seen_h1) {
      seen_h1 = true;
      in_first_h1 = true;
      h1_begin = w.size();
    }
  }
  if (in_first_h1) h1 = collapse_whitespace(std::string_view(w.text()).substr(std::min(h1_begin, w.size())));
  result.text = w.finish();
  if (result.title.empty()) result.title = h1;
  return result;
}

}  // namespace simile::text
