// The in-memory inverted index of one collection, built from its keyword
// segments: for every term the documents holding it (ascending) and how often,
// in flat arrays, with per-block maxima for pruning.
//
// Ranking functions (docs/keyword-search.md), N documents, df(t) documents
// holding t, tf(t,d) its count in d, |d| the document length in terms:
//   BM25    sum over query terms of qtf * idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl)),
//           idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))  (Lucene's, never negative)
//   TF-IDF  sum of qtf * w(tf) * idf(t) [/ |d|_2], w = tf | 1 + ln tf | 1,
//           idf = ln(N / df) | ln(1 + N / df); cosine divides by the
//           document's TF-IDF vector length
//   BoW     the number of distinct query terms the document holds
// Top-k runs MaxScore: terms whose summed upper bounds cannot lift a document
// above the current k-th score are only probed, never iterated, so long
// queries over large collections touch a fraction of the postings. Results
// equal exhaustive evaluation (tests/index/keyword_index_test.cc).
//
// Thread safety: const methods may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/keyword_segment.h"
#include "index/topk.h"
#include "simile/status.h"

namespace simile::keyword {

enum class Ranking { kBm25, kTfIdf, kBow };
enum class TfWeight { kRaw, kLog, kBinary };
enum class IdfWeight { kPlain, kSmooth };

struct RankingParams {
  Ranking ranking = Ranking::kBm25;
  float k1 = 1.2f, b = 0.75f;  // BM25
  TfWeight tf = TfWeight::kRaw;  // TF-IDF
  IdfWeight idf = IdfWeight::kPlain;
  bool cosine = false;
};

struct QueryTerm {
  std::string term;
  uint32_t count = 1;  // occurrences in the query
};

struct TermContribution {
  std::string term;
  uint32_t query_count = 0, document_count = 0, df = 0;
  float idf = 0, score = 0;
};

struct KeywordStats {
  size_t postings = 0;   // postings read by the essential terms
  size_t probes = 0;     // look-ups into non-essential terms
  size_t documents = 0;  // documents fully or partly scored
};

class KeywordIndex {
 public:
  // The live entries of the segments (live(rowid, version) true) as one index.
  static Result<std::unique_ptr<KeywordIndex>> build(const std::vector<std::string_view>& segments,
                                                     const std::function<bool(int64_t rowid, int64_t version)>& live);

  size_t documents() const { return rowids_.size(); }
  size_t terms() const { return term_ids_.size(); }
  size_t postings() const { return post_docs_.size(); }
  double average_length() const { return average_length_; }
  bool contains(int64_t rowid) const;

  // The k best documents (Hit.id = rowid; equal scores by smaller rowid).
  // Documents matching no query term never appear. `allowed`: sorted rowids
  // or null for all. `exhaustive` scores every matching document (for tests
  // and benchmarks of the pruning).
  std::vector<Hit> search(const std::vector<QueryTerm>& query, const RankingParams& params, size_t k,
                          const std::vector<int64_t>* allowed, KeywordStats* stats = nullptr,
                          bool exhaustive = false) const;

  // Each query term's part of the document's score, in query order.
  std::vector<TermContribution> explain(int64_t rowid, const std::vector<QueryTerm>& query,
                                        const RankingParams& params) const;
  uint32_t document_length(int64_t rowid) const;

 private:
  struct Term {
    uint64_t begin = 0;  // into post_docs_ / post_counts_
    uint32_t df = 0;
    uint64_t first_block = 0;  // into block_* arrays
  };
  struct Cursor;

  KeywordIndex() = default;
  std::optional<uint32_t> ordinal(int64_t rowid) const;
  const Term* find(std::string_view term) const;
  float idf(const Term& t, const RankingParams& p) const;
  float bound(const Term& t, const RankingParams& p) const;
  const std::vector<float>& cosine_norms(const RankingParams& p) const;

  std::vector<int64_t> rowids_;   // by ordinal, ascending
  std::vector<uint32_t> lengths_;  // by ordinal
  double average_length_ = 0;
  TermMap<uint32_t> term_ids_;
  std::vector<Term> terms_;
  std::vector<uint32_t> post_docs_, post_counts_;
  // Per block of kBlock postings of a term: its last ordinal, largest count
  // and shortest document — bounds for any k1, b.
  std::vector<uint32_t> block_last_, block_max_count_, block_min_length_;

  // TF-IDF cosine lengths per (tf, idf) variant, computed on first use.
  mutable std::mutex norms_mutex_;
  mutable std::vector<std::pair<int, std::unique_ptr<std::vector<float>>>> norms_;
};

}  // namespace simile::keyword
