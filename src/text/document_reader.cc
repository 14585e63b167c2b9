// read_documents: paths -> files (directories walked lazily, one listing at a
// time) -> a reader per format over a buffered file descriptor. Records are
// parsed one at a time (JSONL and lines by line, CSV by byte, JSON arrays
// through nlohmann's SAX interface element by element), so memory is bounded
// by max_document_bytes, not by the size of the input.
#include "text/document_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "text/html_text.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace simile::text {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kBufferBytes = 64 * 1024;

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_space(c); });
}

// Whether `s` has any character that is not (Unicode) whitespace.
bool has_content(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      if (!is_ascii_space(s[i])) return true;
      ++i;
      continue;
    }
    Utf8Step st = decode_utf8(p + i, s.size() - i);
    if (!is_white_space(st.cp)) return true;
    i += st.len;
  }
  return false;
}

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string limit_text(size_t limit) { return "the limit of " + std::to_string(limit) + " bytes (max_document_bytes)"; }

// "path:line: message" as a Status for one bad item.
Status item_error(const std::string& origin, const std::string& message) {
  return Status::invalid_argument(origin + ": " + message);
}

std::string at_line(const std::string& path, size_t line) { return path + ":" + std::to_string(line); }

// --- buffered input -----------------------------------------------------------------

// A file descriptor read through a buffer, by line, by byte or by block.
class InputStream {
 public:
  InputStream(int fd, bool owned) : fd_(fd), owned_(owned), buf_(kBufferBytes) {}
  ~InputStream() {
    if (owned_) close(fd_);
  }
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Reads the next line into *line, without its "\n" or "\r\n"; false at the
  // end of the input. A line over `limit` bytes sets *too_long: *line keeps
  // its first `limit` bytes and the rest is read past, never stored.
  Result<bool> read_line(std::string* line, size_t limit, bool* too_long) {
    line->clear();
    *too_long = false;
    bool any = false;
    while (true) {
      if (pos_ == end_ && !fill()) {
        if (!error_.is_ok()) return error_;
        if (!any) return false;
        break;
      }
      any = true;
      const char* start = buf_.data() + pos_;
      const size_t avail = end_ - pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
      const size_t take = nl != nullptr ? static_cast<size_t>(nl - start) : avail;
      if (!*too_long) {
        const size_t room = limit - line->size();
        line->append(start, std::min(take, room));
        if (take > room) *too_long = true;
      }
      pos_ += take;
      if (nl != nullptr) {
        ++pos_;
        break;
      }
    }
    if (!*too_long && !line->empty() && line->back() == '\r') line->pop_back();
    return true;
  }

  // The next byte, or -1 at the end of the input (or on a read error: see error()).
  int get() {
    if (pos_ == end_ && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  int peek() {
    if (pos_ == end_ && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }

  // The unread bytes in the buffer, refilled when empty; false at the end.
  bool next_block(std::string_view* block) {
    if (pos_ == end_ && !fill()) return false;
    *block = std::string_view(buf_.data() + pos_, end_ - pos_);
    pos_ = end_;
    return true;
  }

  uint64_t offset() const { return buffer_offset_ + pos_; }  // bytes consumed
  const Status& error() const { return error_; }

 private:
  bool fill() {
    if (eof_ || !error_.is_ok()) return false;
    buffer_offset_ += end_;
    pos_ = end_ = 0;
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      error_ = Status::io_error(std::string("cannot read: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ = static_cast<size_t>(n);
    return true;
  }

  int fd_;
  bool owned_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t buffer_offset_ = 0;  // file offset of buf_[0]
  bool eof_ = false;
  Status error_;
};

// One input to read: a file found under a directory argument, a file
// argument, or stdin.
struct InputFile {
  std::string path;     // to open and to name in messages ("-" = stdin)
  std::string id_path;  // the path in ids
  std::string stem;     // the default title ("" for stdin)
  InputFormat format;
};

bool is_stdin(const InputFile& f) { return f.path == "-"; }
std::string display_path(const InputFile& f) { return is_stdin(f) ? "stdin" : f.path; }

Result<std::unique_ptr<InputStream>> open_input(const InputFile& f) {
  if (is_stdin(f)) return std::make_unique<InputStream>(STDIN_FILENO, false);
  const int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return item_error(f.path, std::string("cannot open: ") + std::strerror(errno));
  return std::make_unique<InputStream>(fd, true);
}

// --- documents and records -------------------------------------------------------

Status check_utf8(std::string_view s, const std::string& path, size_t first_line, uint64_t base_offset) {
  const size_t bad = find_invalid_utf8(s);
  if (bad == std::string_view::npos) return Status::ok();
  const size_t line = first_line + static_cast<size_t>(std::count(s.begin(), s.begin() + bad, '\n'));
  return item_error(at_line(path, line), "invalid UTF-8 at byte offset " + std::to_string(base_offset + bad));
}

// A value in plain JSON number syntax as a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?.
// Integers that do not fit in int64 stay strings (ids and codes keep every digit).
std::optional<json> parse_plain_number(std::string_view s) {
  size_t p = 0;
  const auto digits = [&] {
    const size_t from = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    return p - from;
  };
  if (p < s.size() && s[p] == '-') ++p;
  const size_t int_begin = p;
  const size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && s[int_begin] == '0')) return std::nullopt;
  bool integer = true;
  if (p < s.size() && s[p] == '.') {
    ++p;
    if (digits() == 0) return std::nullopt;
    integer = false;
  }
  if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) ++p;
    if (digits() == 0) return std::nullopt;
    integer = false;
  }
  if (p != s.size()) return std::nullopt;
  if (integer) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return json(v);
  }
  const double d = std::strtod(std::string(s).c_str(), nullptr);
  if (!std::isfinite(d)) return std::nullopt;
  return json(d);
}

std::string with_article(const json& v) {
  const std::string t = v.type_name();
  const bool vowel = t[0] == 'a' || t[0] == 'o';
  return (vowel ? "an " : "a ") + t;
}

// A record (a JSON object, or a CSV row as one) as a document.
Result<SourceDocument> make_record(json&& record, const ReaderOptions& o, std::string default_id, std::string origin,
                                   bool numbers_from_strings) {
  SourceDocument doc;
  doc.origin = std::move(origin);
  auto text = record.find(o.text_field);
  if (text == record.end()) return item_error(doc.origin, "missing field \"" + o.text_field + "\"");
  if (!text->is_string()) {
    return item_error(doc.origin, "field \"" + o.text_field + "\" is " + with_article(*text) + ", not a string");
  }
  const bool text_in_meta = std::find(o.meta_fields.begin(), o.meta_fields.end(), o.text_field) != o.meta_fields.end();
  doc.text = text_in_meta ? text->get<std::string>() : std::move(text->get_ref<std::string&>());
  if (!has_content(doc.text)) return item_error(doc.origin, "empty document");

  if (o.id_field.empty()) {
    doc.id = std::move(default_id);
  } else {
    auto id = record.find(o.id_field);
    if (id == record.end()) return item_error(doc.origin, "missing id field \"" + o.id_field + "\"");
    if (id->is_string()) {
      doc.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      doc.id = id->dump();
    } else {
      return item_error(doc.origin,
                        "id field \"" + o.id_field + "\" is " + with_article(*id) + ", not a string or an integer");
    }
    if (doc.id.empty()) return item_error(doc.origin, "id field \"" + o.id_field + "\" is empty");
  }

  auto title = record.find(o.title_field);
  if (title != record.end() && !title->is_null()) {
    if (!title->is_string()) {
      return item_error(doc.origin, "field \"" + o.title_field + "\" is " + with_article(*title) + ", not a string");
    }
    doc.title = title->get<std::string>();
  }

  const auto add_meta = [&](const std::string& key, json& value) {
    if (numbers_from_strings && value.is_string()) {
      if (std::optional<json> n = parse_plain_number(value.get_ref<const std::string&>())) {
        doc.meta[key] = std::move(*n);
        return;
      }
    }
    doc.meta[key] = std::move(value);
  };
  if (o.meta_fields.empty()) {
    for (auto& [key, value] : record.items()) {
      if (key == o.text_field || key == o.title_field || (!o.id_field.empty() && key == o.id_field)) continue;
      add_meta(key, value);
    }
  } else {
    for (const std::string& key : o.meta_fields) {
      auto it = record.find(key);
      if (it != record.end()) add_meta(key, *it);
    }
  }
  return doc;
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag,
// and valid UTF-8 (it quotes the bytes it last read, which may not be).
std::string json_message(const std::exception& e) {
  std::string_view m = e.what();
  if (m.starts_with("[json.exception.")) {
    const size_t close = m.find("] ");
    if (close != std::string_view::npos) m.remove_prefix(close + 2);
  }
  std::vector<uint32_t> unused;
  return utf8_lossy(m, &unused);
}

// --- whole-file documents ------------------------------------------------------

// The title of a markdown text: a front-matter "title:", else the first ATX
// or setext heading outside code fences; empty if none.
std::string markdown_title(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t p = 0; p <= text.size();) {
    size_t nl = text.find('\n', p);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(p, nl - p);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    p = nl + 1;
  }
  size_t i = 0;
  if (!lines.empty() && trim_ascii(lines[0]) == "---") {  // YAML front matter
    for (i = 1; i < lines.size() && trim_ascii(lines[i]) != "---" && trim_ascii(lines[i]) != "..."; ++i) {
      std::string_view l = lines[i];
      if (l.starts_with("title:")) {
        std::string_view t = trim_ascii(l.substr(6));
        if (t.size() >= 2 && (t.front() == '"' || t.front() == '\'') && t.back() == t.front()) {
          t = t.substr(1, t.size() - 2);
        }
        if (!t.empty()) return std::string(t);
      }
    }
    i = i < lines.size() ? i + 1 : 0;  // an unclosed "---" was not front matter
  }
  std::string_view fence;
  for (; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    size_t indent = 0;
    while (indent < l.size() && indent < 4 && l[indent] == ' ') ++indent;
    if (indent >= 4) continue;  // indented code
    std::string_view body = l.substr(indent);
    if (!fence.empty()) {
      if (body.starts_with(fence)) fence = {};
      continue;
    }
    if (body.starts_with("```") || body.starts_with("~~~")) {
      fence = body.substr(0, 3);
      continue;
    }
    size_t hashes = 0;
    while (hashes < body.size() && body[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && (hashes == body.size() || body[hashes] == ' ' || body[hashes] == '\t')) {
      std::string_view t = trim_ascii(body.substr(hashes));
      // A closing run of '#' (after a space) is not part of the heading.
      size_t end = t.size();
      while (end > 0 && t[end - 1] == '#') --end;
      if (end == 0 || t[end - 1] == ' ' || t[end - 1] == '\t') t = trim_ascii(t.substr(0, end));
      if (!t.empty()) return std::string(t);
      continue;
    }
    // Setext: a paragraph line underlined with === or ---.
    if (i > 0 && !body.empty() && (body[0] == '=' || body[0] == '-')) {
      const std::string_view underline = trim_ascii(body);
      const bool uniform = underline.find_first_not_of(underline[0]) == std::string_view::npos;
      const std::string_view above = trim_ascii(lines[i - 1]);
      if (uniform && !above.empty() && !lines[i - 1].starts_with("    ") && above[0] != '#') {
        return std::string(above);
      }
    }
  }
  return "";
}

// Reads a whole stream of at most `limit` bytes; *too_long when it has more.
Result<std::string> read_all(InputStream& in, size_t limit, bool* too_long) {
  std::string out;
  *too_long = false;
  std::string_view block;
  while (in.next_block(&block)) {
    if (block.size() > limit - out.size()) {
      *too_long = true;
      return out;
    }
    out.append(block);
  }
  if (!in.error().is_ok()) return in.error();
  return out;
}

// Drops a UTF-8 byte order mark; returns the bytes dropped.
size_t strip_bom(std::string* s) {
  if (!s->starts_with("\xEF\xBB\xBF")) return 0;
  s->erase(0, 3);
  return 3;
}

Status read_whole_document(const InputFile& f, InputStream& in, const ReaderOptions& o, const DocumentSink& sink) {
  const std::string path = display_path(f);
  if (!is_stdin(f)) {
    struct stat st;
    if (::stat(f.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) > o.max_document_bytes) {
      return sink(item_error(
          path, "document is " + std::to_string(st.st_size) + " bytes, over " + limit_text(o.max_document_bytes)));
    }
  }
  bool too_long = false;
  Result<std::string> read = read_all(in, o.max_document_bytes, &too_long);
  if (!read.is_ok()) return sink(read.status().with_context(path));
  if (too_long) return sink(item_error(path, "document is over " + limit_text(o.max_document_bytes)));
  std::string raw = std::move(read).value();
  const size_t bom = strip_bom(&raw);
  if (Status st = check_utf8(raw, path, 1, bom); !st.is_ok()) return sink(st);

  SourceDocument doc;
  doc.id = f.id_path;
  doc.origin = path;
  if (f.format == InputFormat::kHtml) {
    HtmlText h = html_to_text(raw);
    doc.text = std::move(h.text);
    doc.title = std::move(h.title);
  } else {
    if (f.format == InputFormat::kMarkdown) doc.title = markdown_title(raw);
    doc.text = std::move(raw);
  }
  if (doc.title.empty()) doc.title = f.stem;
  if (!has_content(doc.text)) return sink(item_error(path, "empty document"));
  return sink(std::move(doc));
}

// --- line formats ------------------------------------------------------------------

// jsonl (one object per line) and lines (one text per line).
Status read_lines(const InputFile& f, InputStream& in, const ReaderOptions& o, const DocumentSink& sink) {
  const std::string path = display_path(f);
  const bool jsonl = f.format == InputFormat::kJsonl;
  std::string line;
  bool too_long = false;
  for (size_t number = 1;; ++number) {
    uint64_t line_offset = in.offset();
    Result<bool> more = in.read_line(&line, o.max_document_bytes, &too_long);
    if (!more.is_ok()) return sink(more.status().with_context(at_line(path, number)));
    if (!*more) return Status::ok();
    const std::string origin = at_line(path, number);
    if (too_long) {
      SIMILE_RETURN_IF_ERROR(sink(item_error(origin, "line is longer than " + limit_text(o.max_document_bytes))));
      continue;
    }
    if (number == 1) line_offset += strip_bom(&line);
    if (jsonl ? is_blank(line) : !has_content(line)) continue;
    if (Status st = check_utf8(line, path, number, line_offset); !st.is_ok()) {
      SIMILE_RETURN_IF_ERROR(sink(st));
      continue;
    }
    const std::string id = at_line(f.id_path, number);
    if (!jsonl) {
      SourceDocument doc;
      doc.id = id;
      doc.text = line;
      doc.origin = origin;
      SIMILE_RETURN_IF_ERROR(sink(std::move(doc)));
      continue;
    }
    json record;
    try {
      record = json::parse(line);
    } catch (const json::exception& e) {
      // The line is the file's line: of nlohmann's position keep the column.
      std::string message = json_message(e);
      if (message.starts_with("parse error at line 1, ")) message = "at " + message.substr(23);
      SIMILE_RETURN_IF_ERROR(sink(item_error(origin, "invalid JSON " + message)));
      continue;
    }
    if (!record.is_object()) {
      SIMILE_RETURN_IF_ERROR(sink(item_error(origin, "expected a JSON object, got " + with_article(record))));
      continue;
    }
    SIMILE_RETURN_IF_ERROR(sink(make_record(std::move(record), o, id, origin, false)));
  }
}

// --- CSV ---------------------------------------------------------------------------------

// RFC 4180 records: fields separated by ',', records by CRLF, LF or CR;
// a field in double quotes may hold ',', newlines and "" (one quote).
// Forgiving where the RFC is strict: a quote inside an unquoted field, or
// text after a closing quote, is kept as text.
class CsvReader {
 public:
  CsvReader(InputStream& in, size_t limit) : in_(in), limit_(limit) {}

  struct Record {
    std::vector<std::string> fields;
    size_t line = 0;            // physical line the record starts on
    uint64_t offset = 0;        // byte offset where it starts
    std::string raw;            // its bytes as read (for UTF-8 checking)
    bool too_long = false;      // over the limit: fields and raw are incomplete
    bool unterminated = false;  // the input ended inside a quoted field
  };

  // The next record, blank lines skipped; false at the end of the input.
  Result<bool> next(Record* r) {
    while (true) {
      SIMILE_ASSIGN_OR_RETURN(bool more, read(r));
      if (!more) return false;
      const bool blank =
          r->fields.size() == 1 && is_blank(r->fields[0]) && !r->unterminated && r->raw.find('"') == std::string::npos;
      if (!blank) return true;
    }
  }

 private:
  Result<bool> read(Record* r) {
    r->fields.clear();
    r->raw.clear();
    r->too_long = false;
    r->unterminated = false;
    r->line = line_;
    r->offset = in_.offset();
    std::string field;
    bool any = false;
    bool quoted = false;      // inside a quoted field
    bool quote_seen = false;  // just read a '"' inside a quoted field
    bool field_start = true;
    size_t bytes = 0;
    const auto keep = [&](char c) {
      if (!r->too_long) field += c;
    };
    while (true) {
      const int c = in_.get();
      if (c < 0) {
        if (!in_.error().is_ok()) return in_.error();
        if (!any) return false;
        r->unterminated = quoted && !quote_seen;
        r->fields.push_back(std::move(field));
        return true;
      }
      any = true;
      if (++bytes > limit_) r->too_long = true;
      if (!r->too_long) r->raw += static_cast<char>(c);
      if (quoted) {
        if (quote_seen) {
          quote_seen = false;
          if (c == '"') {
            keep('"');
            continue;
          }
          quoted = false;  // the closing quote; c is read as after any field
        } else if (c == '"') {
          quote_seen = true;
          continue;
        } else {
          if (c == '\n') ++line_;
          keep(static_cast<char>(c));
          continue;
        }
      }
      if (c == ',') {
        r->fields.push_back(r->too_long ? std::string() : std::move(field));
        field.clear();
        field_start = true;
        continue;
      }
      if (c == '\n' || c == '\r') {
        if (c == '\r' && in_.peek() == '\n') in_.get();
        ++line_;
        r->fields.push_back(std::move(field));
        return true;
      }
      if (c == '"' && field_start) {
        quoted = true;
        field_start = false;
        continue;
      }
      field_start = false;
      keep(static_cast<char>(c));
    }
  }

  InputStream& in_;
  size_t limit_;
  size_t line_ = 1;
};

Status read_csv(const InputFile& f, InputStream& in, const ReaderOptions& o, const DocumentSink& sink) {
  const std::string path = display_path(f);
  CsvReader reader(in, o.max_document_bytes);
  CsvReader::Record r;
  Result<bool> more = reader.next(&r);
  if (!more.is_ok()) return sink(more.status().with_context(path));
  if (!*more) return sink(item_error(path, "empty CSV file (expected a header row)"));
  if (r.too_long)
    return sink(item_error(at_line(path, r.line), "header row is longer than " + limit_text(o.max_document_bytes)));
  r.offset += strip_bom(&r.raw);
  if (!r.fields.empty()) strip_bom(&r.fields[0]);
  if (Status st = check_utf8(r.raw, path, r.line, r.offset); !st.is_ok()) return sink(st);
  const std::vector<std::string> header = std::move(r.fields);
  if (std::find(header.begin(), header.end(), o.text_field) == header.end()) {
    return sink(item_error(at_line(path, r.line), "the header has no column \"" + o.text_field + "\""));
  }
  while (true) {
    more = reader.next(&r);
    if (!more.is_ok()) return sink(more.status().with_context(path));
    if (!*more) return Status::ok();
    const std::string origin = at_line(path, r.line);
    if (r.unterminated) return sink(item_error(origin, "quoted field is not closed before the end of the file"));
    if (r.too_long) {
      SIMILE_RETURN_IF_ERROR(sink(item_error(origin, "record is longer than " + limit_text(o.max_document_bytes))));
      continue;
    }
    if (Status st = check_utf8(r.raw, path, r.line, r.offset); !st.is_ok()) {
      SIMILE_RETURN_IF_ERROR(sink(st));
      continue;
    }
    if (r.fields.size() != header.size()) {
      const size_t n = r.fields.size();
      SIMILE_RETURN_IF_ERROR(
          sink(item_error(origin, "record has " + std::to_string(n) + (n == 1 ? " field" : " fields") +
                                      ", the header has " + std::to_string(header.size()))));
      continue;
    }
    json record = json::object();
    for (size_t k = 0; k < header.size(); ++k) record[header[k]] = std::move(r.fields[k]);
    SIMILE_RETURN_IF_ERROR(sink(make_record(std::move(record), o, at_line(f.id_path, r.line), origin, true)));
  }
}

// --- JSON ---------------------------------------------------------------------------------

// The bytes of an InputStream as an input iterator for nlohmann's parser,
// counting lines as the parser consumes them.
struct JsonSource {
  InputStream& in;
  size_t line = 1;
};

class JsonIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  JsonIterator() = default;  // the end
  explicit JsonIterator(JsonSource* source) : source_(source) {}

  char operator*() const { return static_cast<char>(source_->in.peek()); }
  JsonIterator& operator++() {
    if (source_->in.get() == '\n') ++source_->line;
    return *this;
  }
  JsonIterator operator++(int) {
    JsonIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const JsonIterator& other) const { return at_end() == other.at_end(); }

 private:
  bool at_end() const { return source_ == nullptr || source_->in.peek() < 0; }
  JsonSource* source_ = nullptr;
};

// SAX events of a JSON file -> one json value per element of a top-level
// array (or the single top-level object), each handed to `emit` as soon as it
// is complete. An element over the byte limit is not kept: only its nesting
// is followed until it ends.
class JsonElements {
 public:
  using Emit = std::function<Status(Result<json> element, size_t index, size_t line)>;

  JsonElements(JsonSource& source, size_t limit, Emit emit) : source_(source), limit_(limit), emit_(std::move(emit)) {}

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return value(json(v)); }
  bool string(json::string_t& v) { return value(json(std::move(v))); }
  bool binary(json::binary_t& v) { return value(json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return check_size();
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) {
    if (level_ == 0 && top_ == Top::kNone) {
      top_ = Top::kArray;
      return true;
    }
    return open(json::array());
  }
  bool end_array() {
    if (level_ == 0) return true;  // the end of the top-level array
    return close();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    const size_t offset = position > 0 ? position - 1 : 0;  // the byte the parser stopped at
    if (std::string_view(e.what()).find("ill-formed UTF-8") != std::string_view::npos) {
      error_ = "invalid UTF-8 at byte offset " + std::to_string(offset);
    } else {
      error_ = "invalid JSON (byte offset " + std::to_string(offset) + "): " + json_message(e);
    }
    error_line_ = source_.line;
    return false;
  }

  const Status& stop() const { return stop_; }         // the sink's error, if it stopped reading
  const std::string& error() const { return error_; }  // the parse error, if any
  size_t error_line() const { return error_line_; }
  bool top_is_scalar() const { return top_ == Top::kScalar; }

 private:
  enum class Top { kNone, kArray, kObject, kScalar };

  void begin_element() {
    start_offset_ = source_.in.offset() - 1;
    start_line_ = source_.line;
    too_long_ = false;
  }

  bool finish(Result<json> element) {
    stop_ = emit_(std::move(element), index_++, start_line_);
    return stop_.is_ok();
  }

  bool value(json v) {
    if (level_ == 0) {
      if (top_ == Top::kNone) {  // the whole file is one scalar
        top_ = Top::kScalar;
        return false;
      }
      begin_element();
      return finish(std::move(v));  // not an object: the emitter reports it
    }
    if (too_long_) return check_size();
    json* parent = stack_.back();
    if (parent->is_array()) {
      parent->push_back(std::move(v));
    } else {
      (*parent)[key_] = std::move(v);
    }
    return check_size();
  }

  bool open(json container) {
    if (level_ == 0) {
      if (top_ == Top::kNone) top_ = Top::kObject;
      begin_element();
      root_ = std::move(container);
      stack_.assign(1, &root_);
    } else if (!too_long_) {
      json* parent = stack_.back();
      json* child;
      if (parent->is_array()) {
        parent->push_back(std::move(container));
        child = &parent->back();
      } else {
        child = &((*parent)[key_] = std::move(container));
      }
      stack_.push_back(child);
    }
    ++level_;
    return check_size();
  }

  bool close() {
    --level_;
    if (!too_long_) stack_.pop_back();
    if (level_ > 0) return true;
    if (too_long_) return finish(Status::invalid_argument("too long"));
    return finish(std::move(root_));
  }

  bool check_size() {
    if (!too_long_ && source_.in.offset() - start_offset_ > limit_) {
      too_long_ = true;
      root_ = json();
      stack_.clear();
    }
    return true;
  }

  JsonSource& source_;
  size_t limit_;
  Emit emit_;
  Top top_ = Top::kNone;
  size_t level_ = 0;  // nesting inside the current element
  json root_;
  std::vector<json*> stack_;
  std::string key_;
  bool too_long_ = false;
  uint64_t start_offset_ = 0;
  size_t start_line_ = 0;
  size_t index_ = 0;
  Status stop_;
  std::string error_;
  size_t error_line_ = 0;
};

Status read_json(const InputFile& f, InputStream& in, const ReaderOptions& o, const DocumentSink& sink) {
  const std::string path = display_path(f);
  // A byte order mark is not JSON.
  if (in.peek() == 0xEF) {
    in.get();
    if (in.get() != 0xBB || in.get() != 0xBF) return sink(item_error(path, "invalid JSON: stray bytes at the start"));
  }
  JsonSource source{in};
  bool single = false;
  JsonElements handler(source, o.max_document_bytes, [&](Result<json> element, size_t index, size_t line) -> Status {
    const std::string origin = at_line(path, line);
    if (!element.is_ok()) {
      return sink(item_error(
          origin, "element " + std::to_string(index) + " is longer than " + limit_text(o.max_document_bytes)));
    }
    if (!element->is_object()) return sink(item_error(origin, "expected a JSON object, got " + with_article(*element)));
    const std::string id = single ? f.id_path : f.id_path + "#" + std::to_string(index);
    return sink(make_record(std::move(element).value(), o, id, origin, false));
  });
  // The first significant byte says whether this is one object or an array.
  while (in.peek() >= 0 && is_ascii_space(static_cast<char>(in.peek()))) {
    if (in.get() == '\n') ++source.line;
  }
  single = in.peek() == '{';
  json::sax_parse(JsonIterator(&source), JsonIterator(), &handler);
  if (!in.error().is_ok()) return sink(in.error().with_context(path));
  if (!handler.stop().is_ok()) return handler.stop();
  if (handler.top_is_scalar()) return sink(item_error(path, "expected a JSON object or an array of objects"));
  if (!handler.error().empty()) return sink(item_error(at_line(path, handler.error_line()), handler.error()));
  return Status::ok();
}

// --- inputs ------------------------------------------------------------------------------

Status read_file(const InputFile& f, const ReaderOptions& o, const DocumentSink& sink) {
  Result<std::unique_ptr<InputStream>> in = open_input(f);
  if (!in.is_ok()) return sink(in.status());
  switch (f.format) {
    case InputFormat::kJsonl:
    case InputFormat::kLines:
      return read_lines(f, **in, o, sink);
    case InputFormat::kCsv:
      return read_csv(f, **in, o, sink);
    case InputFormat::kJson:
      return read_json(f, **in, o, sink);
    case InputFormat::kAuto:
    case InputFormat::kText:
    case InputFormat::kMarkdown:
    case InputFormat::kHtml:
      return read_whole_document(f, **in, o, sink);
  }
  return Status::internal("unknown input format");
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

// Calls `visit` for every input of `path`: stdin, a file, or the files of a
// directory (sorted, hidden entries and unknown extensions skipped). A
// directory that cannot be listed is reported through `problem`.
class InputWalker {
 public:
  InputWalker(const ReaderOptions& o, const std::function<Status(const InputFile&)>& visit,
              const std::function<Status(Status)>& problem)
      : o_(o), visit_(visit), problem_(problem) {}

  Status walk(const std::string& path) {
    if (path == "-") {
      return visit_({"-", "stdin", "", o_.format == InputFormat::kAuto ? InputFormat::kLines : o_.format});
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      visited_.clear();
      root_ = fs::canonical(path, ec);
      if (ec) return problem_(item_error(path, "cannot resolve directory: " + ec.message()));
      return walk_dir(path, "");
    }
    InputFormat format = o_.format;
    if (format == InputFormat::kAuto) format = format_for_path(path);
    if (format == InputFormat::kAuto) format = InputFormat::kText;
    return visit_({path, path, stem_of(path), format});
  }

 private:
  Status walk_dir(const fs::path& dir, const std::string& rel) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && !visited_.insert({st.st_dev, st.st_ino}).second) {
      return Status::ok();  // a link back to a directory already walked
    }
    std::error_code ec;
    std::vector<std::pair<std::string, fs::path>> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      entries.emplace_back(std::move(name), it->path());
    }
    if (ec) return problem_(item_error(dir.string(), "cannot read directory: " + ec.message()));
    std::sort(entries.begin(), entries.end());
    for (const auto& [name, full] : entries) {
      const std::string entry_rel = rel + name;
      if (!o_.follow_symlinks && fs::is_symlink(full, ec)) {
        const fs::path target = fs::weakly_canonical(full, ec);
        if (ec || !inside_root(target)) {
          SIMILE_RETURN_IF_ERROR(problem_(item_error(
              full.string(), "a symbolic link to " + (ec ? std::string("an unresolvable path") : target.string()) +
                                 ", outside " + root_.string() +
                                 ": not followed (--follow-symlinks follows links out of a directory)")));
          continue;
        }
      }
      if (fs::is_directory(full, ec)) {
        SIMILE_RETURN_IF_ERROR(walk_dir(full, entry_rel + "/"));
        continue;
      }
      if (!fs::exists(full, ec)) {
        SIMILE_RETURN_IF_ERROR(problem_(item_error(full.string(), "broken link")));
        continue;
      }
      const InputFormat known = format_for_path(name);
      if (known == InputFormat::kAuto) continue;
      if (!fs::is_regular_file(full, ec)) {  // a FIFO or a device would block or never end
        SIMILE_RETURN_IF_ERROR(problem_(item_error(full.string(), "not a regular file")));
        continue;
      }
      const InputFormat format = o_.format == InputFormat::kAuto ? known : o_.format;
      SIMILE_RETURN_IF_ERROR(visit_({full.string(), entry_rel, stem_of(name), format}));
    }
    return Status::ok();
  }

  // Whether a resolved path is the walked directory or lies under it.
  bool inside_root(const fs::path& p) const {
    auto r = root_.begin();
    auto q = p.begin();
    for (; r != root_.end(); ++r, ++q)
      if (q == p.end() || *q != *r) return false;
    return true;
  }

  const ReaderOptions& o_;
  const std::function<Status(const InputFile&)>& visit_;
  const std::function<Status(Status)>& problem_;
  std::set<std::pair<dev_t, ino_t>> visited_;
  fs::path root_;  // the directory being walked, resolved
};

Status check_paths_exist(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    if (p == "-") continue;
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      return Status::not_found(p + ": " + (ec ? ec.message() : std::string("no such file or directory")));
    }
  }
  return Status::ok();
}

// Items of one file for count_documents.
size_t count_items(const InputFile& f) {
  if (f.format != InputFormat::kJsonl && f.format != InputFormat::kLines && f.format != InputFormat::kCsv &&
      f.format != InputFormat::kJson) {
    return 1;
  }
  Result<std::unique_ptr<InputStream>> opened = open_input(f);
  if (!opened.is_ok()) return 1;
  InputStream& in = **opened;
  size_t count = 0;
  std::string_view block;
  if (f.format == InputFormat::kJson) {
    // Elements of a top-level array: commas at depth 1, plus one.
    int depth = 0;
    bool in_string = false, escaped = false, top_array = false, any = false, top_seen = false;
    while (in.next_block(&block)) {
      for (char c : block) {
        if (in_string) {
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = true;
          } else if (c == '"') {
            in_string = false;
          }
          continue;
        }
        if (is_ascii_space(c)) continue;
        if (!top_seen && (c == '\xEF' || c == '\xBB' || c == '\xBF')) continue;  // a byte order mark
        if (!top_seen) {
          top_seen = true;
          top_array = c == '[';
          if (!top_array) return 1;
        }
        if (depth == 1 && c != ']' && c != ',') any = true;
        if (c == '"') {
          in_string = true;
        } else if (c == '[' || c == '{') {
          ++depth;
        } else if (c == ']' || c == '}') {
          --depth;
        } else if (c == ',' && depth == 1) {
          ++count;
        }
      }
    }
    return top_array && any ? count + 1 : (top_seen ? 0 : 1);
  }
  bool content = false;
  while (in.next_block(&block)) {
    for (char c : block) {
      if (c == '\n') {
        count += content;
        content = false;
      } else if (!is_ascii_space(c)) {
        content = true;
      }
    }
  }
  count += content;
  if (f.format == InputFormat::kCsv) return count > 0 ? count - 1 : 1;
  return count;
}

}  // namespace

InputFormat format_for_path(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".txt" || ext == ".text") return InputFormat::kText;
  if (ext == ".md" || ext == ".markdown") return InputFormat::kMarkdown;
  if (ext == ".html" || ext == ".htm") return InputFormat::kHtml;
  if (ext == ".json") return InputFormat::kJson;
  if (ext == ".jsonl" || ext == ".ndjson") return InputFormat::kJsonl;
  if (ext == ".csv") return InputFormat::kCsv;
  return InputFormat::kAuto;
}

Status read_documents(const std::vector<std::string>& paths, const ReaderOptions& options, const DocumentSink& sink) {
  SIMILE_RETURN_IF_ERROR(check_paths_exist(paths));
  const std::function<Status(const InputFile&)> visit = [&](const InputFile& f) { return read_file(f, options, sink); };
  const std::function<Status(Status)> problem = [&](Status st) { return sink(std::move(st)); };
  InputWalker walker(options, visit, problem);
  for (const std::string& p : paths) SIMILE_RETURN_IF_ERROR(walker.walk(p));
  return Status::ok();
}

Result<size_t> count_documents(const std::vector<std::string>& paths, const ReaderOptions& options) {
  SIMILE_RETURN_IF_ERROR(check_paths_exist(paths));
  if (std::find(paths.begin(), paths.end(), "-") != paths.end()) {
    return Status::unsupported("documents on stdin cannot be counted in advance");
  }
  size_t total = 0;
  const std::function<Status(const InputFile&)> visit = [&](const InputFile& f) {
    total += count_items(f);
    return Status::ok();
  };
  const std::function<Status(Status)> problem = [&](Status) {
    ++total;
    return Status::ok();
  };
  InputWalker walker(options, visit, problem);
  for (const std::string& p : paths) SIMILE_RETURN_IF_ERROR(walker.walk(p));
  return total;
}

}  // namespace simile::text
