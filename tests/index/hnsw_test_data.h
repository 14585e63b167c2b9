// Vectors for the HNSW tests, the same for a seed on every platform run here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace simile::hnsw_testing {

// n points around `clusters` Gaussian centres: real embeddings are clustered,
// and clusters are what make a graph index's links matter.
inline std::vector<float> clustered(size_t n, size_t d, size_t clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(clusters * d);
  for (float& x : centres) x = normal(rng);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  std::vector<float> m(n * d);
  for (size_t r = 0; r < n; ++r) {
    const size_t c = pick(rng);
    for (size_t j = 0; j < d; ++j) m[r * d + j] = centres[c * d + j] + 0.5f * normal(rng);
  }
  return m;
}

// Isotropic Gaussian: no structure at all, the hardest case for a graph.
inline std::vector<float> gaussian(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> m(n * d);
  for (float& x : m) x = normal(rng);
  return m;
}

}  // namespace simile::hnsw_testing
