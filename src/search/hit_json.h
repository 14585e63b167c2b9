// Search results as JSON, the one shape `simile search --json` prints and
// the HTTP API returns (docs/server.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simile/collection.h"

namespace simile {

// One hit: rank, id, title, score, chunk and its span, meta, and each
// stage's view (dense, keyword, fused, rerank, explain) where it ran.
nlohmann::json hit_json(const SearchHit& hit, size_t rank);
nlohmann::json hits_json(const std::vector<SearchHit>& hits);
// {query, mode, results, stages, total_ms[, centering]}.
nlohmann::json search_json(const std::string& query, const std::vector<SearchHit>& hits, const SearchReport& report);

}  // namespace simile
