#include "search/keyword_search.h"

#include <algorithm>
#include <unordered_map>

#include "store/ingest.h"

namespace simile::search {

namespace {

constexpr size_t kCatchUpBatch = 256;
constexpr size_t kPassageBytes = 300;

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

Status catch_up_keywords(store::Store& store, const store::CollectionRow& row, text::Analyzer& analyzer) {
  if (!row.keyword_pending) return Status::ok();  // every write indexes its own documents
  SIMILE_ASSIGN_OR_RETURN(auto missing, store.documents_without_keywords(row.id));
  for (size_t start = 0; start < missing.size(); start += kCatchUpBatch) {
    std::vector<std::pair<int64_t, store::KeywordTerms>> batch;
    for (size_t i = start; i < std::min(missing.size(), start + kCatchUpBatch); ++i) {
      SIMILE_ASSIGN_OR_RETURN(store::StoredDocument d, store.document_by_rowid(missing[i]));
      batch.emplace_back(d.rowid, store::analyze_document(analyzer, d.title, d.text));
    }
    SIMILE_RETURN_IF_ERROR(store.write_keyword_terms(row.id, batch));
    SIMILE_RETURN_IF_ERROR(store.compact_keyword_segments(row.id));
  }
  // Cleared only once every document is in: a crash before leaves the flag,
  // and the next use finishes the work.
  return store.keyword_caught_up(row.id);
}

Result<std::unique_ptr<keyword::KeywordIndex>> load_keyword_index(store::Store& store, int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto versions, store.keyword_versions(collection));
  std::vector<std::string> blobs;
  SIMILE_RETURN_IF_ERROR(store.for_each_keyword_segment(collection, [&](std::string_view blob) {
    blobs.emplace_back(blob);
    return Status::ok();
  }));
  std::vector<std::string_view> views(blobs.begin(), blobs.end());
  return keyword::KeywordIndex::build(views, [&](int64_t rowid, int64_t version) {
    auto it = std::lower_bound(versions.begin(), versions.end(), std::pair<int64_t, int64_t>(rowid, INT64_MIN));
    return it != versions.end() && it->first == rowid && it->second == version;
  });
}

std::vector<keyword::QueryTerm> query_terms(text::Analyzer& analyzer, std::string_view query) {
  std::vector<keyword::QueryTerm> out;
  analyzer.analyze(query, [&](std::string_view term, size_t, size_t) { out.push_back({std::string(term), 1}); });
  return out;
}

keyword::RankingParams ranking_params(SearchMode mode, const KeywordRanking& r) {
  keyword::RankingParams p;
  p.ranking = mode == SearchMode::kTfIdf ? keyword::Ranking::kTfIdf
              : mode == SearchMode::kBow ? keyword::Ranking::kBow
                                         : keyword::Ranking::kBm25;
  p.k1 = r.k1;
  p.b = r.b;
  p.tf = r.tf == KeywordRanking::Tf::kLog      ? keyword::TfWeight::kLog
         : r.tf == KeywordRanking::Tf::kBinary ? keyword::TfWeight::kBinary
                                               : keyword::TfWeight::kRaw;
  p.idf = r.idf == KeywordRanking::Idf::kSmooth ? keyword::IdfWeight::kSmooth : keyword::IdfWeight::kPlain;
  p.cosine = r.cosine;
  return p;
}

Passage best_passage(text::Analyzer& analyzer, std::string_view text, const std::vector<store::StoredChunk>& chunks,
                     const std::vector<TermScore>& terms) {
  std::unordered_map<std::string, float> weight;
  for (const TermScore& t : terms) weight[t.term] = std::max(t.idf, 1e-3f);
  if (!chunks.empty()) {
    // Each query term counts once per chunk: a chunk covering more of the
    // query beats one repeating a single word.
    Passage best{chunks.front().byte_begin, chunks.front().byte_end};
    float best_score = -1;
    for (const store::StoredChunk& c : chunks) {
      if (c.byte_end > text.size() || c.byte_begin > c.byte_end) continue;
      std::unordered_map<std::string, float> seen;
      analyzer.analyze(text.substr(c.byte_begin, c.byte_end - c.byte_begin), [&](std::string_view term, size_t, size_t) {
        auto it = weight.find(std::string(term));
        if (it != weight.end()) seen[it->first] = it->second;
      });
      float score = 0;
      for (const auto& [t, w] : seen) score += w;
      if (score > best_score) {
        best_score = score;
        best = {c.byte_begin, c.byte_end};
      }
    }
    return best;
  }
  size_t first = std::string_view::npos;
  analyzer.analyze(text, [&](std::string_view term, size_t begin, size_t) {
    if (first == std::string_view::npos && weight.count(std::string(term))) first = begin;
  });
  if (first == std::string_view::npos) first = 0;
  // A window that starts a little before the match, on a word boundary when
  // one is near, and never inside a UTF-8 sequence.
  size_t begin = first > kPassageBytes / 3 ? first - kPassageBytes / 3 : 0;
  if (begin > 0) {
    const size_t space = text.find(' ', begin);
    if (space != std::string_view::npos && space < first) begin = space + 1;
  }
  size_t end = std::min(text.size(), begin + kPassageBytes);
  if (end < text.size()) {
    const size_t space = text.rfind(' ', end);
    if (space != std::string_view::npos && space > first) end = space;
  }
  while (begin < text.size() && is_continuation(text[begin])) ++begin;
  while (end < text.size() && is_continuation(text[end])) ++end;
  return {begin, end};
}

}  // namespace simile::search
