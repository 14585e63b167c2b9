// How `simile search`, `similar` and `related` print their results: ranked
// lines for people, or JSON.
#pragma once

#include <string>
#include <vector>

#include "simile/collection.h"

namespace simile::cli {

// `l2_distance`: dense scores of an l2 collection are negated distances, shown
// as distances.
void print_hits(const std::vector<SearchHit>& hits, bool json, bool l2_distance);

// A search's results with each stage's view of every hit; with `json`, one
// object {query, mode, results: [...], stages: [...], total_ms}.
void print_search(const std::string& query, const std::vector<SearchHit>& hits, const SearchReport& report,
                  bool json, bool l2_distance);

}  // namespace simile::cli
