// Hybrid search's fusion: two ranked candidate lists (dense and BM25) merged
// into one, by Reciprocal Rank Fusion or by a weighted sum of normalised
// scores (simile::Fusion, docs/hybrid-search.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/topk.h"
#include "simile/collection.h"

namespace simile::search {

struct FusedHit {
  int64_t id = 0;
  double score = 0;
  size_t dense_rank = 0;    // 1-based; 0 = not in the dense list
  size_t keyword_rank = 0;  // 1-based; 0 = not in the keyword list
};

// Every document of either list (each best first, ids unique within a list),
// ordered by fused score, higher first; equal scores by smaller id.
std::vector<FusedHit> fuse(const std::vector<Hit>& dense, const std::vector<Hit>& keyword, const Fusion& fusion);

// Scores normalised over their list: min-max to [0, 1] (all equal: all 1) or
// z-scores (no spread: all 0).
std::vector<double> normalize_scores(const std::vector<Hit>& hits, Fusion::Normalization normalization);

}  // namespace simile::search
