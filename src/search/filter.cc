#include "search/filter.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <variant>

#include "text/utf8.h"
#include "util/check.h"

namespace simile {

using json = nlohmann::json;

namespace {

// What a condition tests. `f = v` is kIn with one value and `f != v` is kNotIn
// with one value: they mean the same as the one-element lists.
enum class FilterOp { kIn, kNotIn, kLt, kLe, kGt, kGe, kExists, kIsNull, kIsNotNull };

// A literal of the filter. Integers and decimals stay apart so that `x = 3`
// binds an int64 and `x = 3.0` a double, as the user wrote them.
using FilterValue = std::variant<std::nullptr_t, bool, int64_t, double, std::string>;

}  // namespace

struct FilterNode {
  enum class Kind { kAnd, kOr, kNot, kCondition };
  Kind kind = Kind::kCondition;
  std::vector<FilterNode> children;  // kAnd, kOr: two or more; kNot: one
  // kCondition only:
  std::vector<std::string> path;  // object keys, outermost first
  FilterOp op = FilterOp::kIn;
  std::vector<FilterValue> values;  // kIn, kNotIn: one or more; ranges: one
};

namespace {

using Kind = FilterNode::Kind;

constexpr const char* kKeywords[] = {"AND", "OR", "NOT", "IN", "EXISTS", "IS", "NULL", "TRUE", "FALSE"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool is_keyword(std::string_view word) {
  for (const char* k : kKeywords)
    if (iequals(word, k)) return true;
  return false;
}

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Field names go into SQLite JSON paths as `."name"`. SQLite 3.40 matches such
// a name against the key's text as written in the JSON, escapes and all, and
// has no way to write '"' inside it; nlohmann::json::dump escapes exactly '"',
// '\' and the control characters. Names with those would match in memory but
// never in SQL, so they are refused.
bool is_valid_field_name(std::string_view name) {
  for (char c : name)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Lexer and parser

enum class Tok { kEnd, kName, kQuotedName, kString, kInt, kDouble, kLParen, kRParen, kComma, kDot, kOp };

struct Token {
  Tok type = Tok::kEnd;
  size_t pos = 0;        // byte offset in the expression
  std::string_view raw;  // the token as written
  std::string text;      // kName, kQuotedName, kString: the decoded text; kOp: canonical spelling
  int64_t i = 0;
  double d = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<FilterNode> parse() {
    size_t bad = text::find_invalid_utf8(s_);
    if (bad != std::string_view::npos)
      return Status::invalid_argument(fmt::format("filter: invalid UTF-8 at byte {}", bad + 1));
    SIMILE_RETURN_IF_ERROR(advance());
    if (tok_.type == Tok::kEnd) return Status::invalid_argument("filter: empty expression");
    SIMILE_ASSIGN_OR_RETURN(FilterNode root, parse_or(0));
    if (tok_.type == Tok::kRParen) return error(tok_.pos, "unmatched ')'");
    if (tok_.type != Tok::kEnd) return error(tok_.pos, "expected AND, OR or the end", found());
    return root;
  }

 private:
  // "filter: <what> at column N[, found X]", N counting characters from 1.
  Status error(size_t pos, std::string_view what, std::string_view found = {}) const {
    std::string msg = fmt::format("filter: {} at column {}", what, column(pos));
    if (!found.empty()) msg += fmt::format(", found {}", found);
    return Status::invalid_argument(std::move(msg));
  }

  size_t column(size_t pos) const {
    size_t col = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i)
      if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++col;
    return col;
  }

  // How the current token is shown in "found ..." messages.
  std::string found() const {
    if (tok_.type == Tok::kEnd) return "the end";
    std::string_view raw = tok_.raw;
    bool cut = raw.size() > 40;
    if (cut) {
      size_t n = 40;
      while (n > 0 && (static_cast<unsigned char>(raw[n]) & 0xC0) == 0x80) --n;
      raw = raw.substr(0, n);
    }
    std::string shown(raw);
    if (cut) shown += "...";
    if (tok_.type == Tok::kString) return shown;
    return "'" + shown + "'";
  }

  bool at_keyword(std::string_view keyword) const { return tok_.type == Tok::kName && iequals(tok_.raw, keyword); }

  // Lexes the next token into tok_.
  Status advance() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\f' || s_[i_] == '\v'))
      ++i_;
    tok_ = Token();
    tok_.pos = i_;
    if (i_ == s_.size()) return Status::ok();
    size_t start = i_;
    char c = s_[i_];
    if (c == '(' || c == ')' || c == ',' || c == '.') {
      tok_.type = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : c == ',' ? Tok::kComma : Tok::kDot;
      ++i_;
    } else if (c == '"' || c == '\'') {
      SIMILE_RETURN_IF_ERROR(lex_string());
    } else if (c == '`') {
      SIMILE_RETURN_IF_ERROR(lex_quoted_name());
    } else if (is_name_start(c)) {
      while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
      tok_.type = Tok::kName;
      tok_.text = std::string(s_.substr(start, i_ - start));
    } else if (is_digit(c) || (c == '-' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) {
      SIMILE_RETURN_IF_ERROR(lex_number());
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      while (i_ < s_.size() && (s_[i_] == '=' || s_[i_] == '!' || s_[i_] == '<' || s_[i_] == '>')) ++i_;
      std::string_view op = s_.substr(start, i_ - start);
      if (op == "=" || op == "==") {
        tok_.text = "=";
      } else if (op == "!=" || op == "<>") {
        tok_.text = "!=";
      } else if (op == "<" || op == "<=" || op == ">" || op == ">=") {
        tok_.text = std::string(op);
      } else {
        return error(start, fmt::format("unknown operator '{}' (use =, !=, <, <=, >, >=)", op));
      }
      tok_.type = Tok::kOp;
    } else {
      text::Utf8Step step = text::decode_utf8(reinterpret_cast<const unsigned char*>(s_.data() + i_), s_.size() - i_);
      std::string shown = c == '\0' ? "NUL" : "'" + std::string(s_.substr(i_, step.len)) + "'";
      return error(start, "unexpected character " + shown);
    }
    tok_.raw = s_.substr(start, i_ - start);
    return Status::ok();
  }

  // "..." or '...' with JSON's escapes plus \'.
  Status lex_string() {
    size_t start = i_;
    char quote = s_[i_++];
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) return error(start, "unterminated string starting");
      char c = s_[i_];
      if (c == quote) {
        ++i_;
        break;
      }
      if (c == '\0') return error(i_, "NUL characters are not allowed in strings");
      if (c != '\\') {
        out.push_back(c);
        ++i_;
        continue;
      }
      size_t esc = i_;
      if (i_ + 1 >= s_.size()) return error(start, "unterminated string starting");
      char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case '"':
        case '\'':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          SIMILE_ASSIGN_OR_RETURN(char32_t cp, lex_hex4(esc));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by \u and a low one.
            if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
              size_t esc2 = i_;
              i_ += 2;
              SIMILE_ASSIGN_OR_RETURN(char32_t lo, lex_hex4(esc2));
              if (lo < 0xDC00 || lo > 0xDFFF) return error(esc, "unpaired surrogate in \\u escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              return error(esc, "unpaired surrogate in \\u escape");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return error(esc, "unpaired surrogate in \\u escape");
          }
          if (cp == 0) return error(esc, "NUL characters are not allowed in strings");
          char buf[4];
          out.append(buf, static_cast<size_t>(text::encode_utf8(cp, buf)));
          break;
        }
        default: {
          text::Utf8Step step =
              text::decode_utf8(reinterpret_cast<const unsigned char*>(s_.data() + esc + 1), s_.size() - esc - 1);
          return error(esc, fmt::format("invalid escape '\\{}'", s_.substr(esc + 1, step.len)));
        }
      }
    }
    tok_.type = Tok::kString;
    tok_.text = std::move(out);
    return Status::ok();
  }

  // The four hex digits after "\u" at `esc`; i_ points at the first of them.
  Result<char32_t> lex_hex4(size_t esc) {
    char32_t cp = 0;
    for (int k = 0; k < 4; ++k, ++i_) {
      char h = i_ < s_.size() ? s_[i_] : '\0';
      int v = is_digit(h)              ? h - '0'
              : (h >= 'a' && h <= 'f') ? h - 'a' + 10
              : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                       : -1;
      if (v < 0) return error(esc, "\\u needs four hex digits");
      cp = cp * 16 + static_cast<char32_t>(v);
    }
    return cp;
  }

  // `name`, with `` for a backtick inside.
  Status lex_quoted_name() {
    size_t start = i_++;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) return error(start, "unterminated `name` starting");
      if (s_[i_] == '`') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '`') {
          out.push_back('`');
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      out.push_back(s_[i_++]);
    }
    if (!is_valid_field_name(out)) return error(start, "a field name cannot contain '\"', '\\' or control characters");
    tok_.type = Tok::kQuotedName;
    tok_.text = std::move(out);
    return Status::ok();
  }

  // -?digits(.digits)?([eE][+-]?digits)?; an integer out of int64's range
  // becomes a double, as JSON readers do.
  Status lex_number() {
    size_t start = i_;
    bool is_double = false;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    bool ok = true;
    if (i_ < s_.size() && s_[i_] == '.') {
      is_double = true;
      ++i_;
      size_t digits = i_;
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      ok = i_ > digits;
    }
    if (ok && i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      is_double = true;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      size_t digits = i_;
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      ok = i_ > digits;
    }
    if (!ok || (i_ < s_.size() && (is_name_char(s_[i_]) || s_[i_] == '.'))) {
      while (i_ < s_.size() && (is_name_char(s_[i_]) || s_[i_] == '.' || s_[i_] == '+' || s_[i_] == '-')) ++i_;
      return error(start, fmt::format("invalid number '{}'", s_.substr(start, i_ - start)));
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    if (!is_double) {
      auto [end, ec] = std::from_chars(first, last, tok_.i);
      if (ec == std::errc() && end == last) {
        tok_.type = Tok::kInt;
        return Status::ok();
      }
    }
    auto [end, ec] = std::from_chars(first, last, tok_.d);
    if (ec != std::errc() || end != last)
      return error(start, fmt::format("number '{}' is out of range", s_.substr(start, i_ - start)));
    tok_.type = Tok::kDouble;
    return Status::ok();
  }

  Result<FilterNode> parse_or(int depth) { return parse_list(Kind::kOr, depth); }
  Result<FilterNode> parse_and(int depth) { return parse_list(Kind::kAnd, depth); }

  // or := and (OR and)*; and := not (AND not)*. Nested lists of the same kind
  // are flattened: (a OR b) OR c is one OR of three.
  Result<FilterNode> parse_list(Kind kind, int depth) {
    const char* keyword = kind == Kind::kOr ? "OR" : "AND";
    FilterNode list;
    list.kind = kind;
    for (;;) {
      Result<FilterNode> item = kind == Kind::kOr ? parse_and(depth) : parse_not(depth);
      if (!item.is_ok()) return item.status();
      if (item->kind == kind) {
        for (FilterNode& c : item->children) list.children.push_back(std::move(c));
      } else {
        list.children.push_back(std::move(item).value());
      }
      if (!at_keyword(keyword)) break;
      SIMILE_RETURN_IF_ERROR(advance());
    }
    if (list.children.size() == 1) return std::move(list.children[0]);
    return list;
  }

  // not := NOT not | '(' expr ')' | condition
  Result<FilterNode> parse_not(int depth) {
    if (at_keyword("NOT") || tok_.type == Tok::kLParen) {
      if (depth >= kMaxFilterDepth)
        return error(tok_.pos, fmt::format("nesting deeper than {} levels", kMaxFilterDepth));
    }
    if (at_keyword("NOT")) {
      SIMILE_RETURN_IF_ERROR(advance());
      SIMILE_ASSIGN_OR_RETURN(FilterNode child, parse_not(depth + 1));
      FilterNode node;
      node.kind = Kind::kNot;
      node.children.push_back(std::move(child));
      return node;
    }
    if (tok_.type == Tok::kLParen) {
      size_t open = tok_.pos;
      SIMILE_RETURN_IF_ERROR(advance());
      SIMILE_ASSIGN_OR_RETURN(FilterNode inner, parse_or(depth + 1));
      if (tok_.type != Tok::kRParen) {
        return Status::invalid_argument(
            fmt::format("filter: expected ')' at column {} to close the '(' at column {}, found {}", column(tok_.pos),
                        column(open), found()));
      }
      SIMILE_RETURN_IF_ERROR(advance());
      return inner;
    }
    return parse_condition();
  }

  Result<std::vector<std::string>> parse_field() {
    std::vector<std::string> path;
    if (tok_.type == Tok::kName && is_keyword(tok_.raw)) {
      return error(tok_.pos, "expected a field name",
                   fmt::format("the keyword '{}' (write `{}` for a field of that name)", tok_.raw, tok_.raw));
    }
    if (tok_.type != Tok::kName && tok_.type != Tok::kQuotedName)
      return error(tok_.pos, "expected a field name", found());
    path.push_back(std::move(tok_.text));
    SIMILE_RETURN_IF_ERROR(advance());
    while (tok_.type == Tok::kDot) {
      SIMILE_RETURN_IF_ERROR(advance());
      if (tok_.type != Tok::kName && tok_.type != Tok::kQuotedName)
        return error(tok_.pos, "expected a field name after '.'", found());
      path.push_back(std::move(tok_.text));
      SIMILE_RETURN_IF_ERROR(advance());
    }
    return path;
  }

  Result<FilterValue> parse_value(std::string_view context) {
    FilterValue v;
    switch (tok_.type) {
      case Tok::kString:
        v = std::move(tok_.text);
        break;
      case Tok::kInt:
        v = tok_.i;
        break;
      case Tok::kDouble:
        v = tok_.d;
        break;
      case Tok::kName:
        if (at_keyword("true")) {
          v = true;
        } else if (at_keyword("false")) {
          v = false;
        } else if (at_keyword("null")) {
          v = nullptr;
        } else {
          return error(tok_.pos, fmt::format("expected a value {}", context),
                       fmt::format("'{}' (strings need quotes: \"{}\")", tok_.raw, tok_.raw));
        }
        break;
      default:
        return error(tok_.pos, fmt::format("expected a value {}", context), found());
    }
    if (++values_ > kMaxFilterValues)
      return error(tok_.pos, fmt::format("more than {} values in one filter", kMaxFilterValues));
    SIMILE_RETURN_IF_ERROR(advance());
    return v;
  }

  // '(' value (',' value)* ')' after IN or NOT IN.
  Status parse_in_list(std::string_view keyword, std::vector<FilterValue>* values) {
    if (tok_.type != Tok::kLParen) return error(tok_.pos, fmt::format("expected '(' after {}", keyword), found());
    SIMILE_RETURN_IF_ERROR(advance());
    if (tok_.type == Tok::kRParen) return error(tok_.pos, fmt::format("{} needs at least one value", keyword));
    for (;;) {
      SIMILE_ASSIGN_OR_RETURN(FilterValue v, parse_value(fmt::format("in the {} list", keyword)));
      values->push_back(std::move(v));
      if (tok_.type == Tok::kRParen) break;
      if (tok_.type != Tok::kComma)
        return error(tok_.pos, fmt::format("expected ',' or ')' in the {} list", keyword), found());
      SIMILE_RETURN_IF_ERROR(advance());
    }
    return advance();
  }

  Result<FilterNode> parse_condition() {
    size_t start = tok_.pos;
    if (++conditions_ > kMaxFilterConditions) {
      return error(start, fmt::format("more than {} conditions (write IN (...) for many values of one field)",
                                      kMaxFilterConditions));
    }
    FilterNode node;
    node.kind = Kind::kCondition;
    SIMILE_ASSIGN_OR_RETURN(node.path, parse_field());
    if (tok_.type == Tok::kOp) {
      std::string op = tok_.text;
      SIMILE_RETURN_IF_ERROR(advance());
      size_t value_pos = tok_.pos;
      std::string shown_value = found();
      SIMILE_ASSIGN_OR_RETURN(FilterValue v, parse_value(fmt::format("after '{}'", op)));
      if (op == "=" || op == "!=") {
        node.op = op == "=" ? FilterOp::kIn : FilterOp::kNotIn;
      } else {
        if (!std::holds_alternative<std::string>(v) && !std::holds_alternative<int64_t>(v) &&
            !std::holds_alternative<double>(v)) {
          return error(value_pos, fmt::format("'{}' needs a number or a string", op), shown_value);
        }
        node.op = op == "<" ? FilterOp::kLt : op == "<=" ? FilterOp::kLe : op == ">" ? FilterOp::kGt : FilterOp::kGe;
      }
      node.values.push_back(std::move(v));
      return node;
    }
    if (at_keyword("IN")) {
      node.op = FilterOp::kIn;
      SIMILE_RETURN_IF_ERROR(advance());
      SIMILE_RETURN_IF_ERROR(parse_in_list("IN", &node.values));
      return node;
    }
    if (at_keyword("EXISTS")) {
      node.op = FilterOp::kExists;
      SIMILE_RETURN_IF_ERROR(advance());
      return node;
    }
    if (at_keyword("NOT")) {
      SIMILE_RETURN_IF_ERROR(advance());
      if (at_keyword("IN")) {
        node.op = FilterOp::kNotIn;
        SIMILE_RETURN_IF_ERROR(advance());
        SIMILE_RETURN_IF_ERROR(parse_in_list("NOT IN", &node.values));
        return node;
      }
      if (at_keyword("EXISTS")) {
        node.op = FilterOp::kExists;
        SIMILE_RETURN_IF_ERROR(advance());
        FilterNode negation;
        negation.kind = Kind::kNot;
        negation.children.push_back(std::move(node));
        return negation;
      }
      return error(tok_.pos, "expected IN or EXISTS after NOT", found());
    }
    if (at_keyword("IS")) {
      SIMILE_RETURN_IF_ERROR(advance());
      bool negated = at_keyword("NOT");
      if (negated) SIMILE_RETURN_IF_ERROR(advance());
      if (!at_keyword("NULL"))
        return error(tok_.pos, negated ? "expected NULL after IS NOT" : "expected NULL or NOT NULL after IS", found());
      node.op = negated ? FilterOp::kIsNotNull : FilterOp::kIsNull;
      SIMILE_RETURN_IF_ERROR(advance());
      return node;
    }
    return error(tok_.pos, "expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, EXISTS, IS NULL) after the field",
                 found());
  }

  std::string_view s_;
  size_t i_ = 0;
  Token tok_;
  int conditions_ = 0;
  int values_ = 0;
};

// ---------------------------------------------------------------------------
// Evaluation in memory

// The field at `path`, or nullptr when some name on the way is not a key of an
// object.
const json* lookup(const json& meta, const std::vector<std::string>& path) {
  const json* cur = &meta;
  for (const std::string& key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// A number as SQLite reads it from JSON text: an int64 when it fits, else a
// double.
struct Number {
  bool is_int;
  int64_t i;
  double d;
};

std::optional<Number> as_number(const json& v) {
  switch (v.type()) {
    case json::value_t::number_integer:
      return Number{true, v.get<int64_t>(), 0};
    case json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return Number{true, static_cast<int64_t>(u), 0};
      return Number{false, 0, static_cast<double>(u)};
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) return std::nullopt;  // dump() writes it as null
      return Number{false, 0, d};
    }
    default:
      return std::nullopt;
  }
}

std::optional<Number> as_number(const FilterValue& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return Number{true, *i, 0};
  if (const double* d = std::get_if<double>(&v)) return Number{false, 0, *d};
  return std::nullopt;
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Exact comparison of an integer with a (finite) double, as SQLite does: no
// rounding of the integer to double.
int compare_int_double(int64_t i, double d) {
  if (d >= 0x1p63) return -1;
  if (d < -0x1p63) return 1;
  double t = std::trunc(d);  // now in [-2^63, 2^63): representable as int64
  int64_t ti = static_cast<int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  return three_way(t, d);
}

int compare_numbers(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return three_way(a.i, b.i);
  if (!a.is_int && !b.is_int) return three_way(a.d, b.d);
  if (a.is_int) return compare_int_double(a.i, b.d);
  return -compare_int_double(b.i, a.d);
}

bool is_null_value(const json& v) { return v.is_null() || (v.is_number_float() && !std::isfinite(v.get<double>())); }

// Whether the scalar `v` (never an array itself here) equals the literal.
bool scalar_equals(const json& v, const FilterValue& literal) {
  if (std::holds_alternative<std::nullptr_t>(literal)) return is_null_value(v);
  if (const bool* b = std::get_if<bool>(&literal)) return v.is_boolean() && v.get<bool>() == *b;
  if (const std::string* s = std::get_if<std::string>(&literal))
    return v.is_string() && v.get_ref<const std::string&>() == *s;
  std::optional<Number> a = as_number(v);
  return a && compare_numbers(*a, *as_number(literal)) == 0;
}

// The three-way order of `v` against a number or string literal, or nullopt
// when v is of another kind.
std::optional<int> scalar_order(const json& v, const FilterValue& literal) {
  if (const std::string* s = std::get_if<std::string>(&literal)) {
    if (!v.is_string()) return std::nullopt;
    int c = v.get_ref<const std::string&>().compare(*s);  // char_traits<char> compares as unsigned bytes
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  std::optional<Number> a = as_number(v);
  if (!a) return std::nullopt;
  return compare_numbers(*a, *as_number(literal));
}

// pred(field), or for an array pred(element) for some element.
template <typename Pred>
bool any_value(const json& field, Pred pred) {
  if (!field.is_array()) return pred(field);
  for (const json& e : field)
    if (pred(e)) return true;
  return false;
}

bool in_list(const json& field, const std::vector<FilterValue>& values) {
  return any_value(field, [&](const json& v) {
    for (const FilterValue& literal : values)
      if (scalar_equals(v, literal)) return true;
    return false;
  });
}

bool condition_matches(const FilterNode& c, const json& meta) {
  const json* field = lookup(meta, c.path);
  switch (c.op) {
    case FilterOp::kExists:
      return field != nullptr;
    case FilterOp::kIsNull:
      return field == nullptr || is_null_value(*field);
    case FilterOp::kIsNotNull:
      return field != nullptr && !is_null_value(*field);
    case FilterOp::kIn:
      return field != nullptr && in_list(*field, c.values);
    case FilterOp::kNotIn:
      return field != nullptr && !in_list(*field, c.values);
    case FilterOp::kLt:
    case FilterOp::kLe:
    case FilterOp::kGt:
    case FilterOp::kGe:
      if (field == nullptr) return false;
      return any_value(*field, [&](const json& v) {
        std::optional<int> order = scalar_order(v, c.values[0]);
        if (!order) return false;
        switch (c.op) {
          case FilterOp::kLt:
            return *order < 0;
          case FilterOp::kLe:
            return *order <= 0;
          case FilterOp::kGt:
            return *order > 0;
          default:
            return *order >= 0;
        }
      });
  }
  return false;
}

bool node_matches(const FilterNode& n, const json& meta) {
  switch (n.kind) {
    case Kind::kAnd:
      for (const FilterNode& c : n.children)
        if (!node_matches(c, meta)) return false;
      return true;
    case Kind::kOr:
      for (const FilterNode& c : n.children)
        if (node_matches(c, meta)) return true;
      return false;
    case Kind::kNot:
      return !node_matches(n.children[0], meta);
    case Kind::kCondition:
      return condition_matches(n, meta);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Canonical text

bool is_plain_name(const std::string& name, bool first) {
  if (name.empty() || !is_name_start(name[0])) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return !(first && is_keyword(name));
}

void append_field(const std::vector<std::string>& path, std::string* out) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out->push_back('.');
    if (is_plain_name(path[i], i == 0)) {
      *out += path[i];
      continue;
    }
    out->push_back('`');
    for (char c : path[i]) {
      if (c == '`') out->push_back('`');
      out->push_back(c);
    }
    out->push_back('`');
  }
}

void append_string_literal(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void append_value(const FilterValue& v, std::string* out) {
  if (std::holds_alternative<std::nullptr_t>(v)) {
    *out += "null";
  } else if (const bool* b = std::get_if<bool>(&v)) {
    *out += *b ? "true" : "false";
  } else if (const int64_t* i = std::get_if<int64_t>(&v)) {
    *out += std::to_string(*i);
  } else if (const double* d = std::get_if<double>(&v)) {
    // Shortest text that reads back as the same double, kept a decimal.
    std::string text = fmt::format("{}", *d);
    if (text.find_first_not_of("-0123456789") == std::string::npos) text += ".0";
    *out += text;
  } else {
    append_string_literal(std::get<std::string>(v), out);
  }
}

void append_value_list(const std::vector<FilterValue>& values, std::string* out) {
  out->push_back('(');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) *out += ", ";
    append_value(values[i], out);
  }
  out->push_back(')');
}

void append_condition(const FilterNode& c, std::string* out) {
  append_field(c.path, out);
  switch (c.op) {
    case FilterOp::kIn:
    case FilterOp::kNotIn: {
      bool in = c.op == FilterOp::kIn;
      if (c.values.size() == 1) {
        *out += in ? " = " : " != ";
        append_value(c.values[0], out);
      } else {
        *out += in ? " IN " : " NOT IN ";
        append_value_list(c.values, out);
      }
      return;
    }
    case FilterOp::kLt:
      *out += " < ";
      break;
    case FilterOp::kLe:
      *out += " <= ";
      break;
    case FilterOp::kGt:
      *out += " > ";
      break;
    case FilterOp::kGe:
      *out += " >= ";
      break;
    case FilterOp::kExists:
      *out += " EXISTS";
      return;
    case FilterOp::kIsNull:
      *out += " IS NULL";
      return;
    case FilterOp::kIsNotNull:
      *out += " IS NOT NULL";
      return;
  }
  append_value(c.values[0], out);
}

// Binding strength: OR < AND < NOT < condition. A node is parenthesized when
// it binds more loosely than its place requires.
int precedence(Kind kind) {
  switch (kind) {
    case Kind::kOr:
      return 1;
    case Kind::kAnd:
      return 2;
    case Kind::kNot:
      return 3;
    case Kind::kCondition:
      return 4;
  }
  return 4;
}

void append_node(const FilterNode& n, int min_precedence, std::string* out) {
  bool parens = precedence(n.kind) < min_precedence;
  if (parens) out->push_back('(');
  switch (n.kind) {
    case Kind::kAnd:
    case Kind::kOr:
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) *out += n.kind == Kind::kAnd ? " AND " : " OR ";
        append_node(n.children[i], precedence(n.kind) + 1, out);
      }
      break;
    case Kind::kNot:
      *out += "NOT ";
      append_node(n.children[0], precedence(Kind::kNot), out);
      break;
    case Kind::kCondition:
      append_condition(n, out);
      break;
  }
  if (parens) out->push_back(')');
}

// ---------------------------------------------------------------------------
// SQL

// The filter in negation normal form: NOTs pushed down to the conditions (De
// Morgan holds: every SQL condition below is 0 or 1, never NULL) and nested
// lists of one kind flattened. This keeps the SQL shallow: SQLite's parser has
// a stack of only 100 entries, and each open '(' or NOT costs one or two.
struct SqlNode {
  bool is_and = false;
  const FilterNode* condition = nullptr;  // set for a leaf
  bool negated = false;                   // leaf only
  std::vector<SqlNode> children;
  int depth = 0;
};

SqlNode to_sql_tree(const FilterNode& n, bool negate) {
  SqlNode out;
  switch (n.kind) {
    case Kind::kCondition:
      out.condition = &n;
      out.negated = negate;
      return out;
    case Kind::kNot:
      return to_sql_tree(n.children[0], !negate);
    case Kind::kAnd:
    case Kind::kOr:
      break;
  }
  out.is_and = (n.kind == Kind::kAnd) != negate;
  for (const FilterNode& c : n.children) {
    SqlNode child = to_sql_tree(c, negate);
    if (child.condition == nullptr && child.is_and == out.is_and) {
      for (SqlNode& g : child.children) out.children.push_back(std::move(g));
    } else {
      out.children.push_back(std::move(child));
    }
  }
  for (const SqlNode& c : out.children) out.depth = std::max(out.depth, c.depth + 1);
  // The deepest operand goes first: while SQLite parses it, only its '(' is on
  // the parser stack, not also the operands before it and their AND/OR.
  auto deepest = std::max_element(out.children.begin(), out.children.end(),
                                  [](const SqlNode& a, const SqlNode& b) { return a.depth < b.depth; });
  std::rotate(out.children.begin(), deepest, deepest + 1);
  return out;
}

class SqlWriter {
 public:
  explicit SqlWriter(std::string_view column) : column_(column) {}

  SqlFilter finish(const SqlNode& root) {
    write_node(root);
    return std::move(out_);
  }

 private:
  void write_node(const SqlNode& n) {
    if (n.condition != nullptr) {
      if (n.negated) sql() += "NOT ";
      write_condition(*n.condition);
      return;
    }
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i > 0) sql() += n.is_and ? " AND " : " OR ";
      const SqlNode& c = n.children[i];
      bool parens = c.condition == nullptr;
      if (parens) sql() += '(';
      write_node(c);
      if (parens) sql() += ')';
    }
  }

  std::string& sql() { return out_.where; }

  void param(const FilterValue& v) {
    if (const int64_t* i = std::get_if<int64_t>(&v)) {
      out_.params.emplace_back(*i);
    } else if (const double* d = std::get_if<double>(&v)) {
      out_.params.emplace_back(*d);
    } else {
      out_.params.emplace_back(std::get<std::string>(v));
    }
  }

  // `= ?` for one value, `IN (?, ?)` for several.
  void write_membership(const std::vector<const FilterValue*>& values) {
    if (values.size() == 1) {
      sql() += " = ?";
    } else {
      sql() += " IN (";
      for (size_t i = 0; i < values.size(); ++i) sql() += i == 0 ? "?" : ", ?";
      sql() += ')';
    }
    for (const FilterValue* v : values) param(*v);
  }

  // Every condition is a CASE or a parenthesized expression that is 0 or 1.
  // `type` (from json_type, NULL when the field is missing) guards every
  // comparison, so that values of different kinds never meet: SQLite would
  // otherwise order any number before any text.
  void write_condition(const FilterNode& c) {
    std::string path = "'$";
    for (const std::string& key : c.path) {
      path += ".\"";
      for (char ch : key) {
        if (ch == '\'') path += '\'';  // SQL string literal escaping
        path += ch;
      }
      path += '"';
    }
    path += '\'';
    type_ = fmt::format("json_type({}, {})", column_, path);
    value_ = fmt::format("json_extract({}, {})", column_, path);
    each_ = fmt::format("json_each({}, {})", column_, path);
    switch (c.op) {
      case FilterOp::kExists:
        sql() += fmt::format("({} IS NOT NULL)", type_);
        return;
      case FilterOp::kIsNull:
        sql() += fmt::format("({0} IS NULL OR {0} = 'null')", type_);
        return;
      case FilterOp::kIsNotNull:
        sql() += fmt::format("({0} IS NOT NULL AND {0} <> 'null')", type_);
        return;
      case FilterOp::kIn:
        write_in(c.values);
        return;
      case FilterOp::kNotIn:
        sql() += fmt::format("({} IS NOT NULL AND NOT ", type_);
        write_in(c.values);
        sql() += ')';
        return;
      case FilterOp::kLt:
        write_range("<", c.values[0]);
        return;
      case FilterOp::kLe:
        write_range("<=", c.values[0]);
        return;
      case FilterOp::kGt:
        write_range(">", c.values[0]);
        return;
      case FilterOp::kGe:
        write_range(">=", c.values[0]);
        return;
    }
  }

  // The field, or an element of the array field, equals one of the values.
  void write_in(const std::vector<FilterValue>& values) {
    std::vector<const FilterValue*> numbers, strings;
    std::vector<std::string> constants;  // json_type names of true, false, null
    auto add_constant = [&](const char* name) {
      if (std::find(constants.begin(), constants.end(), name) == constants.end()) constants.push_back(name);
    };
    for (const FilterValue& v : values) {
      if (std::holds_alternative<std::string>(v)) {
        strings.push_back(&v);
      } else if (std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v)) {
        numbers.push_back(&v);
      } else if (const bool* b = std::get_if<bool>(&v)) {
        add_constant(*b ? "true" : "false");
      } else {
        add_constant("null");
      }
    }
    std::string constant_list;
    for (size_t i = 0; i < constants.size(); ++i) constant_list += fmt::format("{}'{}'", i ? ", " : "", constants[i]);

    sql() += "CASE";
    if (!numbers.empty()) {
      sql() += fmt::format(" WHEN {} IN ('integer', 'real') THEN {}", type_, value_);
      write_membership(numbers);
    }
    if (!strings.empty()) {
      sql() += fmt::format(" WHEN {} = 'text' THEN {}", type_, value_);
      write_membership(strings);
    }
    if (!constants.empty()) sql() += fmt::format(" WHEN {} IN ({}) THEN 1", type_, constant_list);
    sql() += fmt::format(" WHEN {} = 'array' THEN EXISTS (SELECT 1 FROM {} AS simile_je WHERE ", type_, each_);
    const char* sep = "";
    if (!numbers.empty()) {
      sql() += "simile_je.type IN ('integer', 'real') AND simile_je.value";
      write_membership(numbers);
      sep = " OR ";
    }
    if (!strings.empty()) {
      sql() += fmt::format("{}simile_je.type = 'text' AND simile_je.value", sep);
      write_membership(strings);
      sep = " OR ";
    }
    if (!constants.empty()) sql() += fmt::format("{}simile_je.type IN ({})", sep, constant_list);
    sql() += ") ELSE 0 END";
  }

  // The field, or an element of the array field, is of the literal's kind and
  // in range.
  void write_range(const char* op, const FilterValue& v) {
    const char* types = std::holds_alternative<std::string>(v) ? "= 'text'" : "IN ('integer', 'real')";
    sql() += fmt::format("CASE WHEN {} {} THEN {} {} ?", type_, types, value_, op);
    param(v);
    sql() += fmt::format(
        " WHEN {} = 'array' THEN EXISTS (SELECT 1 FROM {} AS simile_je WHERE simile_je.type {} AND "
        "simile_je.value {} ?) ELSE 0 END",
        type_, each_, types, op);
    param(v);
  }

  std::string_view column_;
  std::string type_, value_, each_;  // SQL for the current condition's field
  SqlFilter out_;
};

}  // namespace

Result<Filter> parse_filter(std::string_view expression) {
  Parser parser(expression);
  SIMILE_ASSIGN_OR_RETURN(FilterNode root, parser.parse());
  return Filter(std::make_shared<const FilterNode>(std::move(root)));
}

bool filter_matches(const Filter& filter, const json& meta) { return node_matches(filter.root(), meta); }

std::string filter_to_string(const Filter& filter) {
  std::string out;
  append_node(filter.root(), 0, &out);
  return out;
}

SqlFilter filter_to_sql(const Filter& filter, std::string_view json_column) {
  SIMILE_CHECK(!json_column.empty());
  for (char c : json_column) SIMILE_CHECK(is_name_char(c) || c == '.');
  SqlWriter writer(json_column);
  return writer.finish(to_sql_tree(filter.root(), /*negate=*/false));
}

Status bind_filter_params(sqlite3_stmt* stmt, int first_index, const SqlFilter& sql) {
  for (size_t k = 0; k < sql.params.size(); ++k) {
    const json& p = sql.params[k];
    int index = first_index + static_cast<int>(k);
    int rc;
    switch (p.type()) {
      case json::value_t::string: {
        const std::string& s = p.get_ref<const std::string&>();
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
      }
      case json::value_t::number_integer:
        rc = sqlite3_bind_int64(stmt, index, p.get<int64_t>());
        break;
      case json::value_t::number_unsigned: {
        uint64_t u = p.get<uint64_t>();
        rc = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? sqlite3_bind_int64(stmt, index, static_cast<int64_t>(u))
                 : sqlite3_bind_double(stmt, index, static_cast<double>(u));
        break;
      }
      case json::value_t::number_float:
        rc = sqlite3_bind_double(stmt, index, p.get<double>());
        break;
      default:
        return Status::invalid_argument(
            fmt::format("filter parameter {} must be a string or a number, not {}", k + 1, p.dump()));
    }
    if (rc != SQLITE_OK) {
      return Status::internal(
          fmt::format("binding filter parameter {} to placeholder {}: {}", k + 1, index, sqlite3_errstr(rc)));
    }
  }
  return Status::ok();
}

}  // namespace simile
