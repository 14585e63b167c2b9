// Pairwise similarity of embedding vectors, as sentence-transformers'
// util.cos_sim / dot_score and scipy's distances compute them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

enum class Metric {
  kCosine,   // a.b / (|a| |b|); 0 when either vector is zero
  kDot,      // a.b
  kL2,       // Euclidean distance |a - b| (smaller = more similar)
  kPearson,  // cosine of the mean-centred vectors
};

Result<Metric> parse_metric(const std::string& name);
std::string to_string(Metric m);

// n x n matrix (row-major) of metric(a_i, a_j) for the rows of the n x d matrix a.
std::vector<float> similarity_matrix(const float* a, size_t n, size_t d, Metric metric);

// metric(x, y) for two d-vectors, accumulated in double.
double similarity(const float* x, const float* y, size_t d, Metric metric);

}  // namespace simile
