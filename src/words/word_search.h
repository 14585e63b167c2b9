// Questions asked of word vectors, answered exactly by cosine similarity:
// nearest and farthest words, the similarity of two words, and analogies
// ("a is to b as c is to ?", answered by the words closest to b - a + c).
//
// The vectors are normalised into a FlatIndex (index/flat_index.h): the same
// SIMD kernels as collection search, and many analogies at once become
// matrix products (FlatIndex::search_batch). Ties go to the more frequent
// word (the smaller position). Optionally an HNSW graph answers single
// queries approximately (use_graph).
//
// Analogy methods (Levy & Goldberg 2014), for unit vectors and x ranging over
// the vocabulary minus the three question words:
//   3CosAdd  argmax cos(x, b) - cos(x, a) + cos(x, c)   (= cos(x, b - a + c) ranking)
//   3CosMul  argmax cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6),
//            cos' = (1 + cos) / 2 shifted into [0, 1]
// which are gensim's most_similar and most_similar_cosmul.
//
// Thread safety: const methods may run concurrently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/flat_index.h"
#include "index/hnsw.h"
#include "words/word_vectors.h"

namespace simile::words {

enum class AnalogyMethod { kAdd, kMul };

// "add" / "3cosadd", "mul" / "3cosmul".
Result<AnalogyMethod> parse_analogy_method(std::string_view name);

struct WordHit {
  uint32_t word = 0;  // position in the WordVectors
  float score = 0;    // cosine similarity (3CosMul: its objective)
};

// A question for analogies(): a is to b as c is to ?
using AnalogyQuestion = std::array<uint32_t, 3>;

class WordSearch {
 public:
  // Searches the first `restrict_to` words of `vectors` (0 = all); the
  // vectors must outlive it. Question words may come from anywhere in it.
  explicit WordSearch(const WordVectors& vectors, size_t restrict_to = 0);

  // From here on, nearest(), farthest() and 3CosAdd analogy() walk `graph`
  // (over the same searched words, ids = positions; words/word_graph.h) with
  // beam width `ef` instead of scanning every word: approximate, and much
  // faster on large vocabularies. analogies() and 3CosMul stay exact.
  void use_graph(std::unique_ptr<HnswIndex> graph, size_t ef);

  const WordVectors& vectors() const { return vectors_; }
  size_t searched() const { return index_.size(); }

  // The k words most (nearest) or least (farthest) similar to query[dims],
  // best first, leaving out the words in `exclude`.
  std::vector<WordHit> nearest(const float* query, size_t k, const std::vector<uint32_t>& exclude = {}) const;
  std::vector<WordHit> farthest(const float* query, size_t k, const std::vector<uint32_t>& exclude = {}) const;

  // Cosine similarity of two words (0 when either vector is zero).
  float similarity(uint32_t a, uint32_t b) const;

  // a is to b as c is to the k returned words.
  std::vector<WordHit> analogy(const AnalogyQuestion& q, size_t k, AnalogyMethod method) const;
  // analogy() for many questions: result i answers question i. 3CosAdd runs
  // through matrix products over the whole batch; 3CosMul scores each
  // question against every word, spread over the threads.
  std::vector<std::vector<WordHit>> analogies(const std::vector<AnalogyQuestion>& questions, size_t k,
                                              AnalogyMethod method) const;

  // Words spelled like `word`, for "unknown word" messages: the same word in
  // another case first, then words within a small edit distance (1 for words
  // of up to 4 letters, else 2), closest first, then most frequent. At most
  // `max`.
  std::vector<std::string> close_spellings(std::string_view word, size_t max = 5) const;

 private:
  // The normalised vector of a word (zero stays zero).
  std::vector<float> unit(uint32_t word) const;
  std::vector<float> add_query(const AnalogyQuestion& q) const;
  std::vector<WordHit> best_excluding(const std::vector<Hit>& hits, size_t k, const uint32_t* exclude,
                                      size_t excluded, bool negate) const;
  std::vector<WordHit> cosmul(const AnalogyQuestion& q, size_t k, std::vector<float>* scratch) const;

  // The k best for query (normalised by the index) from the graph or the scan.
  std::vector<Hit> search(const float* query, size_t k) const;

  const WordVectors& vectors_;
  FlatIndex index_;
  std::unique_ptr<HnswIndex> graph_;
  size_t ef_ = 0;
};

}  // namespace simile::words
