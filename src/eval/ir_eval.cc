#include "eval/ir_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "text/utf8.h"
#include "util/file_util.h"

namespace simile::eval {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kNdcgCut = 10;
constexpr int kMrrCut = 10;
constexpr int kMapCut = 100;
constexpr int kRecallCut1 = 10;
constexpr int kRecallCut2 = 100;

// ---------------------------------------------------------------------------
// Text as Python 3 sees it: lines of a file opened in text mode, str.split()
// and str.strip() without arguments, float() and int() of a string. The input
// is valid UTF-8 (checked when the file is read).

// Python's str.isspace() code points that are not ASCII, as UTF-8.
constexpr std::string_view kUnicodeSpaces[] = {
    "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
    "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A",
    "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};

// str.isspace() of ASCII: \t \n \v \f \r, the separators \x1c-\x1f and space.
// float() and int() strip the same characters except \x1c-\x1f.
bool is_ascii_space(unsigned char c, bool for_number) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return true;
  return !for_number && c >= 0x1C && c <= 0x1F;
}

// Length of the whitespace character starting at s[i], 0 if there is none.
size_t space_at(std::string_view s, size_t i, bool for_number = false) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return is_ascii_space(c, for_number) ? 1 : 0;
  for (std::string_view sp : kUnicodeSpaces)
    if (s.substr(i, sp.size()) == sp) return sp.size();
  return 0;
}

// Length of the whitespace character ending s, 0 if there is none.
size_t space_before_end(std::string_view s, bool for_number = false) {
  if (s.empty()) return 0;
  const auto c = static_cast<unsigned char>(s.back());
  if (c < 0x80) return is_ascii_space(c, for_number) ? 1 : 0;
  for (std::string_view sp : kUnicodeSpaces)
    if (s.ends_with(sp)) return sp.size();
  return 0;
}

std::string_view strip(std::string_view s, bool for_number = false) {
  for (size_t n; !s.empty() && (n = space_at(s, 0, for_number)) > 0;) s.remove_prefix(n);
  for (size_t n; (n = space_before_end(s, for_number)) > 0;) s.remove_suffix(n);
  return s;
}

// str.split(): the fields between runs of whitespace.
std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = space_at(s, i);
    if (n > 0) {
      i += n;
      continue;
    }
    const size_t start = i;
    while (i < s.size() && space_at(s, i) == 0) ++i;
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> split_tabs(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t tab = s.find('\t', start);
    if (tab == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, tab - start));
    start = tab + 1;
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Appends the digits of Python's `digitpart` (digit (["_"] digit)*) starting
// at s[*i] to *out, without the underscores, and moves *i past them. Appends
// nothing if s[*i] is not a digit; stops before a misplaced underscore.
void take_digits(std::string_view s, size_t* i, std::string* out) {
  const size_t before = out->size();
  while (*i < s.size()) {
    if (is_digit(s[*i])) {
      out->push_back(s[(*i)++]);
    } else if (s[*i] == '_' && out->size() > before && *i + 1 < s.size() && is_digit(s[*i + 1])) {
      ++*i;  // between two digits
    } else {
      break;
    }
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// Python's float(s): surrounding whitespace, an optional sign, then
// inf/infinity/nan in any case or a decimal number whose digits may be
// grouped by single underscores. Rounded correctly; overflow gives +-inf and
// underflow +-0, as in Python. nullopt where Python raises ValueError.
std::optional<double> parse_python_float(std::string_view s) {
  s = strip(s, /*for_number=*/true);
  std::string clean;
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const std::string_view word = s.substr(i);
  if (iequals(word, "inf") || iequals(word, "infinity"))
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  if (iequals(word, "nan")) return std::numeric_limits<double>::quiet_NaN();

  if (negative) clean.push_back('-');
  std::string int_digits, frac_digits, exp_digits;
  take_digits(s, &i, &int_digits);
  if (i < s.size() && s[i] == '.') {
    ++i;
    take_digits(s, &i, &frac_digits);
  }
  if (int_digits.empty() && frac_digits.empty()) return std::nullopt;
  bool exp_negative = false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    take_digits(s, &i, &exp_digits);
    if (exp_digits.empty()) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;

  clean += int_digits.empty() ? "0" : int_digits;
  if (!frac_digits.empty()) clean += "." + frac_digits;
  if (!exp_digits.empty()) clean += (exp_negative ? "e-" : "e") + exp_digits;
  double v = 0;
  const auto [end, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // Too large or too small for a double. It is too large exactly when its
    // first non-zero digit stands at or left of the units place.
    const std::string digits = int_digits + frac_digits;
    const size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) return negative ? -0.0 : 0.0;
    // Decimal place of the first significant digit: 0 = units, 1 = tens...
    // The exponent saturates; anything past 10^6 decides alone.
    int64_t exponent = 0;
    for (char c : exp_digits) exponent = std::min<int64_t>(exponent * 10 + (c - '0'), 1000000000);
    if (exp_negative) exponent = -exponent;
    const int64_t place = static_cast<int64_t>(int_digits.size()) - 1 - static_cast<int64_t>(first) + exponent;
    const double magnitude = place >= 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -magnitude : magnitude;
  }
  if (ec != std::errc() || end != clean.data() + clean.size()) return std::nullopt;
  return v;
}

// Python's int(s) for base 10: whitespace, a sign, digits grouped by single
// underscores. kOk, kInvalid (ValueError) or kOutOfRange (too big for int).
enum class IntParse { kOk, kInvalid, kOutOfRange };

IntParse parse_python_int(std::string_view s, int* out) {
  s = strip(s, /*for_number=*/true);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;
  take_digits(s, &i, &digits);
  if (digits.empty() || i != s.size()) return IntParse::kInvalid;
  if (negative) digits.insert(digits.begin(), '-');
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  if (ec == std::errc::result_out_of_range) return IntParse::kOutOfRange;
  if (ec != std::errc() || end != digits.data() + digits.size()) return IntParse::kInvalid;
  return IntParse::kOk;
}

// A field as error messages show it: quoted, cut after 40 bytes.
std::string shown(std::string_view field) {
  size_t n = field.size();
  if (n > 40) {
    n = 40;
    while (n > 0 && (static_cast<unsigned char>(field[n]) & 0xC0) == 0x80) --n;
  }
  return fmt::format("'{}{}'", field.substr(0, n), n < field.size() ? "..." : "");
}

// The lines of a text file as Python iterates them: UTF-8, ending at "\n",
// "\r\n" or "\r" (universal newlines), numbered from 1.
class TextLines {
 public:
  static Result<TextLines> open(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return Status::invalid_argument(path + " is a directory, not a file");
    SIMILE_ASSIGN_OR_RETURN(std::string data, read_file(path));
    TextLines lines(path, std::move(data));
    const size_t bad = text::find_invalid_utf8(lines.data_);
    if (bad != std::string_view::npos) {
      // The bad byte's line: one more than the line breaks before it.
      size_t line = 1;
      for (size_t i = 0; i < bad; ++i) {
        if (lines.data_[i] == '\n' || (lines.data_[i] == '\r' && lines.data_[i + 1] != '\n')) ++line;
      }
      return Status::invalid_argument(fmt::format("{}:{}: invalid UTF-8 (byte {} of the file)", path, line, bad + 1));
    }
    return lines;
  }

  // The next line without its line break; false at the end of the file.
  bool next(std::string_view* line) {
    if (pos_ >= data_.size()) return false;
    const size_t end = data_.find_first_of("\r\n", pos_);
    ++line_;
    if (end == std::string::npos) {
      *line = std::string_view(data_).substr(pos_);
      pos_ = data_.size();
      return true;
    }
    *line = std::string_view(data_).substr(pos_, end - pos_);
    pos_ = end + 1;
    if (data_[end] == '\r' && pos_ < data_.size() && data_[pos_] == '\n') ++pos_;
    return true;
  }

  size_t line_number() const { return line_; }

  // "path:line: what" for the current line.
  Status error(std::string_view what) const {
    return Status::invalid_argument(fmt::format("{}:{}: {}", path_, line_, what));
  }

 private:
  TextLines(std::string path, std::string data) : path_(std::move(path)), data_(std::move(data)) {}

  std::string path_;
  std::string data_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

// ---------------------------------------------------------------------------
// Ranking and metrics

// One query's document ids in ranked order, repeated ids dropped.
std::vector<std::string_view> rank_docs(const std::vector<Ranked>& entries, bool use_rank, size_t* duplicates) {
  std::vector<const Ranked*> order;
  order.reserve(entries.size());
  for (const Ranked& e : entries) order.push_back(&e);
  if (use_rank) {
    std::stable_sort(order.begin(), order.end(), [](const Ranked* a, const Ranked* b) { return a->rank < b->rank; });
  } else {
    // Score descending, then doc id descending (std::string compares bytes as
    // unsigned, which is code point order for UTF-8, as Python compares str);
    // NaN, which Python cannot order, after everything.
    std::stable_sort(order.begin(), order.end(), [](const Ranked* a, const Ranked* b) {
      const bool a_nan = std::isnan(a->score), b_nan = std::isnan(b->score);
      if (a_nan != b_nan) return b_nan;
      if (!a_nan && a->score != b->score) return a->score > b->score;
      return a->doc > b->doc;
    });
  }
  std::vector<std::string_view> ranked;
  ranked.reserve(order.size());
  std::unordered_set<std::string_view> seen;
  for (const Ranked* e : order) {
    if (!seen.insert(e->doc).second) {
      ++*duplicates;
      continue;
    }
    ranked.push_back(e->doc);
  }
  return ranked;
}

bool has_relevant(const std::map<std::string, int>& judged) {
  return std::any_of(judged.begin(), judged.end(), [](const auto& kv) { return kv.second >= 1; });
}

// The metrics of one query that has at least one relevant document. Every sum
// runs in the order ir_eval.py's does, so the results are the same doubles.
Metrics query_metrics(const std::vector<std::string_view>& ranked, const std::map<std::string, int>& judged) {
  std::unordered_map<std::string_view, int> relevant;
  std::vector<int> ideal;
  for (const auto& [doc, grade] : judged) {
    if (grade < 1) continue;
    relevant.emplace(doc, grade);
    ideal.push_back(grade);
  }
  const auto num_relevant = static_cast<double>(relevant.size());
  auto grade_at = [&](size_t i) {
    auto it = relevant.find(ranked[i]);
    return it == relevant.end() ? 0 : it->second;
  };
  const size_t n = ranked.size();
  Metrics m;

  double dcg = 0;
  for (size_t i = 0; i < std::min<size_t>(n, kNdcgCut); ++i)
    dcg += static_cast<double>(grade_at(i)) / std::log2(static_cast<double>(i + 2));
  std::sort(ideal.begin(), ideal.end(), std::greater<int>());
  double idcg = 0;
  for (size_t i = 0; i < std::min<size_t>(ideal.size(), kNdcgCut); ++i)
    idcg += static_cast<double>(ideal[i]) / std::log2(static_cast<double>(i + 2));
  m.ndcg10 = idcg > 0 ? dcg / idcg : 0.0;

  for (size_t i = 0; i < std::min<size_t>(n, kMrrCut); ++i) {
    if (grade_at(i) >= 1) {
      m.mrr10 = 1.0 / static_cast<double>(i + 1);
      break;
    }
  }

  size_t hits = 0, hits_at_10 = 0;
  double ap = 0;
  for (size_t i = 0; i < std::min<size_t>(n, kMapCut); ++i) {
    if (grade_at(i) < 1) continue;
    ++hits;
    ap += static_cast<double>(hits) / static_cast<double>(i + 1);
    if (i < kRecallCut1) ++hits_at_10;
  }
  static_assert(kMapCut == kRecallCut2, "R@100 counts the hits of MAP@100");
  m.map100 = ap / num_relevant;
  m.recall10 = static_cast<double>(hits_at_10) / num_relevant;
  m.recall100 = static_cast<double>(hits) / num_relevant;
  return m;
}

json metrics_to_json(const Metrics& m) {
  return json{
      {"nDCG@10", m.ndcg10}, {"MRR@10", m.mrr10}, {"MAP@100", m.map100}, {"R@10", m.recall10}, {"R@100", m.recall100}};
}

// Whether `id` can be written as one field of a run line that Python's
// str.split() reads back whole.
bool is_run_field(std::string_view id) {
  if (id.empty() || text::find_invalid_utf8(id) != std::string_view::npos) return false;
  for (size_t i = 0; i < id.size(); ++i)
    if (space_at(id, i) > 0) return false;
  return true;
}

// nlohmann's exception text without its "[json.exception.parse_error.101] " tag.
std::string json_error_message(const std::exception& e) {
  std::string_view m = e.what();
  if (m.starts_with("[json.exception.")) {
    const size_t close = m.find("] ");
    if (close != std::string_view::npos) m.remove_prefix(close + 2);
  }
  std::vector<uint32_t> unused;
  return text::utf8_lossy(m, &unused);
}

}  // namespace

Result<Qrels> read_qrels(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(TextLines lines, TextLines::open(path));
  Qrels qrels;
  std::string_view line;
  while (lines.next(&line)) {
    const bool tabs = line.find('\t') != std::string_view::npos;
    const std::vector<std::string_view> parts = tabs ? split_tabs(line) : split_whitespace(line);
    if (parts.empty() || strip(parts[0]).empty()) continue;
    std::string_view query, doc, grade_text;
    if (parts.size() == 3) {
      query = parts[0], doc = parts[1], grade_text = parts[2];
    } else if (parts.size() == 4) {
      query = parts[0], doc = parts[2], grade_text = parts[3];
    } else {
      return lines.error(fmt::format(
          "cannot parse qrels line: expected \"query<TAB>doc<TAB>grade\" or \"query 0 doc grade\", found {} fields",
          parts.size()));
    }
    // int(float(text)): a ValueError on the first line means a header.
    const std::optional<double> grade = parse_python_float(grade_text);
    const bool first_line = lines.line_number() == 1;
    if (!grade || std::isnan(*grade)) {
      if (first_line) continue;
      return lines.error(fmt::format("grade {} is not a number", shown(grade_text)));
    }
    if (std::isinf(*grade)) return lines.error(fmt::format("grade {} is infinite", shown(grade_text)));
    const double truncated = std::trunc(*grade);
    if (truncated < static_cast<double>(std::numeric_limits<int>::min()) ||
        truncated > static_cast<double>(std::numeric_limits<int>::max())) {
      return lines.error(fmt::format("grade {} is out of range", shown(grade_text)));
    }
    qrels.grades[std::string(strip(query))][std::string(strip(doc))] = static_cast<int>(truncated);
  }
  return qrels;
}

Result<Run> read_trec_run(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(TextLines lines, TextLines::open(path));
  Run run;
  std::string_view line;
  std::vector<Ranked>* current = nullptr;  // the last line's query: runs are grouped by query
  std::string_view current_query;
  while (lines.next(&line)) {
    const std::vector<std::string_view> parts = split_whitespace(line);
    if (parts.empty()) continue;
    if (parts.size() < 5)
      return lines.error(fmt::format("expected \"query Q0 doc rank score [tag]\", found {} fields", parts.size()));
    Ranked r;
    r.doc = std::string(parts[2]);
    switch (parse_python_int(parts[3], &r.rank)) {
      case IntParse::kOk:
        break;
      case IntParse::kInvalid:
        return lines.error(fmt::format("rank {} is not an integer", shown(parts[3])));
      case IntParse::kOutOfRange:
        return lines.error(fmt::format("rank {} is out of range", shown(parts[3])));
    }
    const std::optional<double> score = parse_python_float(parts[4]);
    if (!score) return lines.error(fmt::format("score {} is not a number", shown(parts[4])));
    if (std::isnan(*score)) return lines.error("score is NaN, which has no place in a ranking");
    r.score = *score;
    if (current == nullptr || parts[0] != current_query) {
      current = &run.queries[std::string(parts[0])];
      current_query = parts[0];  // points into the file's text, which outlives the loop
    }
    current->push_back(std::move(r));
  }
  return run;
}

Status write_trec_run(const std::string& path, const Run& run, const std::string& tag) {
  if (!is_run_field(tag))
    return Status::invalid_argument("run tag " + shown(tag) + " must be non-empty UTF-8 without whitespace");
  std::string out;
  char score[400];  // %.6f of the largest double takes 316 bytes
  for (const auto& [query, docs] : run.queries) {
    if (!is_run_field(query))
      return Status::invalid_argument("query id " + shown(query) + " must be non-empty UTF-8 without whitespace");
    for (size_t i = 0; i < docs.size(); ++i) {
      const Ranked& r = docs[i];
      if (!is_run_field(r.doc))
        return Status::invalid_argument("doc id " + shown(r.doc) + " of query " + shown(query) +
                                        " must be non-empty UTF-8 without whitespace");
      if (std::isnan(r.score))
        return Status::invalid_argument("doc " + shown(r.doc) + " of query " + shown(query) + " has a NaN score");
      std::snprintf(score, sizeof(score), "%.6f", r.score);
      out += fmt::format("{} Q0 {} {} {} {}\n", query, r.doc, i + 1, score, tag);
    }
  }
  return write_file_atomic(path, out);
}

EvalReport evaluate(const Qrels& qrels, const Run& run, const EvalOptions& options) {
  EvalReport report;
  report.queries_in_qrels = qrels.grades.size();
  report.queries_in_run = run.queries.size();
  size_t judged_in_run = 0;
  for (const auto& [query, judged] : qrels.grades) {
    if (!has_relevant(judged)) {
      ++report.queries_without_relevant;
      continue;
    }
    auto it = run.queries.find(query);
    if (it == run.queries.end()) {
      ++report.queries_missing_from_run;
      if (!options.skip_missing) report.per_query.emplace(query, Metrics{});
      continue;
    }
    ++judged_in_run;
    const std::vector<std::string_view> ranked = rank_docs(it->second, options.use_rank, &report.duplicate_docs);
    report.per_query.emplace(query, query_metrics(ranked, judged));
  }
  report.run_queries_without_judgments = report.queries_in_run - judged_in_run;
  report.queries_evaluated = report.per_query.size();

  // Summed in query order, one addition at a time, as Python's sum() does.
  Metrics& mean = report.mean;
  for (const auto& [query, m] : report.per_query) {
    mean.ndcg10 += m.ndcg10;
    mean.mrr10 += m.mrr10;
    mean.map100 += m.map100;
    mean.recall10 += m.recall10;
    mean.recall100 += m.recall100;
  }
  if (report.queries_evaluated > 0) {
    const auto n = static_cast<double>(report.queries_evaluated);
    mean.ndcg10 /= n;
    mean.mrr10 /= n;
    mean.map100 /= n;
    mean.recall10 /= n;
    mean.recall100 /= n;
  }
  return report;
}

json report_to_json(const EvalReport& report, bool per_query) {
  json out;
  out["metrics"] = metrics_to_json(report.mean);
  out["info"] = json{
      {"queries_in_qrels", report.queries_in_qrels},
      {"queries_skipped_no_relevant", report.queries_without_relevant},
      {"queries_in_run", report.queries_in_run},
      {"run_queries_without_judgments", report.run_queries_without_judgments},
      {"judged_queries_missing_from_run", report.queries_missing_from_run},
      {"duplicate_run_lines_dropped", report.duplicate_docs},
      {"queries_evaluated", report.queries_evaluated},
  };
  if (per_query) {
    json& pq = out["per_query"] = json::object();
    for (const auto& [query, m] : report.per_query) pq[query] = metrics_to_json(m);
  }
  return out;
}

Result<std::vector<BeirQuery>> read_beir_queries(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(TextLines lines, TextLines::open(path));
  std::vector<BeirQuery> queries;
  std::unordered_map<std::string, size_t> line_of_id;
  std::string_view line;
  while (lines.next(&line)) {
    if (strip(line).empty()) continue;
    json record;
    try {
      record = json::parse(line);
    } catch (const json::exception& e) {
      return lines.error("bad JSON: " + json_error_message(e));
    }
    if (!record.is_object()) return lines.error("expected a JSON object {\"_id\": ..., \"text\": ...}");
    BeirQuery q;
    auto id = record.find("_id");
    if (id == record.end()) return lines.error("the query has no \"_id\"");
    if (id->is_string()) {
      q.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      q.id = id->dump();
    } else {
      return lines.error("\"_id\" must be a string or an integer, found " + std::string(id->type_name()));
    }
    auto text = record.find("text");
    if (text == record.end()) return lines.error("query " + shown(q.id) + " has no \"text\"");
    if (!text->is_string())
      return lines.error("\"text\" of query " + shown(q.id) + " must be a string, found " +
                         std::string(text->type_name()));
    q.text = text->get<std::string>();
    auto [seen, inserted] = line_of_id.emplace(q.id, lines.line_number());
    if (!inserted) return lines.error(fmt::format("query id {} repeats the one of line {}", shown(q.id), seen->second));
    queries.push_back(std::move(q));
  }
  return queries;
}

Result<std::string> beir_qrels_path(const std::string& dir, const std::string& split) {
  if (split.empty() || split.find('/') != std::string::npos || split == "." || split == "..")
    return Status::invalid_argument("bad qrels split name " + shown(split));
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::not_found("BEIR folder " + dir + " does not exist");
  const fs::path qrels_dir = fs::path(dir) / "qrels";
  const fs::path file = qrels_dir / (split + ".tsv");
  if (fs::is_regular_file(file, ec)) return file.string();
  std::vector<std::string> splits;
  if (fs::is_directory(qrels_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(qrels_dir, ec))
      if (entry.path().extension() == ".tsv") splits.push_back(entry.path().stem().string());
  }
  std::sort(splits.begin(), splits.end());
  std::string msg = "BEIR folder " + dir + " has no qrels/" + split + ".tsv";
  if (splits.empty()) {
    msg += " (and no other qrels/*.tsv)";
  } else {
    msg += " (it has qrels for:";
    for (const std::string& s : splits) msg += " " + s;
    msg += ")";
  }
  return Status::not_found(msg);
}

}  // namespace simile::eval
