// The background distribution of a collection's similarity scores: what the
// metric gives two chunks of different documents by chance, so that a hit's
// score can be read as a percentile and a z-score (seed 000: a raw cosine of
// 0.6 means nothing on its own; docs/hybrid-search.md).
//
// Sampling is deterministic: chunks are ordered by (document id, chunk id) and
// pairs drawn with a fixed-seed mt19937_64 (fully specified by the standard)
// mapped to ranges by multiply-shift (not std::uniform_int_distribution, whose
// algorithm varies between standard libraries). The same vectors therefore give
// the same sample in every process and on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "index/flat_index.h"
#include "simile/collection.h"

namespace simile::search {

// Pairs sampled when more exist: enough for percentiles to about +-0.3 points
// and a mean to a hundredth of a standard deviation.
inline constexpr size_t kBackgroundPairs = 20000;
// Fewer pairs than this (e.g. two one-chunk documents) is no background.
inline constexpr size_t kMinBackgroundPairs = 10;

// Vectors in their stored encoding, by position: a FlatIndex's, or the codes
// an HNSW graph holds for a collection's chunks.
struct ChunkCodes {
  size_t size = 0, dims = 0;
  VectorType type = VectorType::kF32;
  Metric metric = Metric::kCosine;
  std::function<int64_t(size_t)> id_at;
  std::function<const uint8_t*(size_t)> code_at;
};

// The background of the vectors in `index` (decoded from its stored type, so
// f16 and int8 codes are scored as the floats they stand for). document_of[p]
// is the document of the vector at position p; pairs within one document are
// never drawn. Scores: cosine (norms divided out), dot, or l2's negative
// distance, as FlatIndex reports them. All pairs when there are at most
// kBackgroundPairs of them, else kBackgroundPairs drawn uniformly with
// replacement. Sets every field but `centered` and `center`.
ScoreBackground sample_background(const ChunkCodes& index, const std::vector<int64_t>& document_of);
ScoreBackground sample_background(const FlatIndex& index, const std::vector<int64_t>& document_of);

}  // namespace simile::search
