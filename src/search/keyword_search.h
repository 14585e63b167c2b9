// The keyword side of a collection: keeping its inverted index in step with
// the stored documents, loading it, and turning queries and hits into terms
// and passages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/keyword_index.h"
#include "simile/collection.h"
#include "store/store.h"
#include "text/analyzer.h"

namespace simile::search {

// When the collection's keyword index is pending (after an upgrade from
// schema 1, or a rebuild begun and perhaps cut short by a crash), indexes the
// documents it lacks in committed batches, merges segments, and clears the
// pending mark. Otherwise does nothing: every write indexes its own documents.
Status catch_up_keywords(store::Store& store, const store::CollectionRow& row, text::Analyzer& analyzer);

// The live postings of the stored segments as one in-memory index. A damaged
// segment is an error (the caller rebuilds from the documents).
Result<std::unique_ptr<keyword::KeywordIndex>> load_keyword_index(store::Store& store, int64_t collection);

// The query's terms as the index stores them, one per occurrence.
std::vector<keyword::QueryTerm> query_terms(text::Analyzer& analyzer, std::string_view query);

keyword::RankingParams ranking_params(SearchMode mode, const KeywordRanking& ranking);

// The span of `text` to show for a keyword hit: the chunk holding the most
// query-term weight, or (no chunks) a window around the first match.
struct Passage {
  size_t byte_begin = 0, byte_end = 0;
};
Passage best_passage(text::Analyzer& analyzer, std::string_view text, const std::vector<store::StoredChunk>& chunks,
                     const std::vector<TermScore>& terms);

}  // namespace simile::search
