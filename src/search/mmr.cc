#include "search/mmr.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace simile::search {

std::vector<size_t> mmr_order(const std::vector<float>& relevance, const std::vector<float>& vectors, size_t dims,
                              size_t k, double lambda) {
  const size_t n = relevance.size();
  k = std::min(k, n);
  std::vector<double> rel(n, 1.0);
  if (n > 0) {
    const auto [lo, hi] = std::minmax_element(relevance.begin(), relevance.end());
    if (*hi > *lo)
      for (size_t i = 0; i < n; ++i) rel[i] = (relevance[i] - *lo) / (static_cast<double>(*hi) - *lo);
  }
  std::vector<double> norm(n, 0);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (size_t d = 0; d < dims; ++d) s += static_cast<double>(vectors[i * dims + d]) * vectors[i * dims + d];
    norm[i] = std::sqrt(s);
  }
  auto cosine = [&](size_t a, size_t b) {
    if (norm[a] == 0 || norm[b] == 0) return 0.0;
    double s = 0;
    for (size_t d = 0; d < dims; ++d) s += static_cast<double>(vectors[a * dims + d]) * vectors[b * dims + d];
    return s / (norm[a] * norm[b]);
  };
  // Each candidate's highest cosine to the chosen ones, updated as they grow.
  std::vector<double> nearest(n, -std::numeric_limits<double>::infinity());
  std::vector<bool> taken(n, false);
  std::vector<size_t> order;
  order.reserve(k);
  while (order.size() < k) {
    size_t best = n;
    double best_value = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      const double penalty = order.empty() ? 0.0 : nearest[i];
      const double value = lambda * rel[i] - (1 - lambda) * penalty;
      if (best == n || value > best_value) {
        best = i;
        best_value = value;
      }
    }
    taken[best] = true;
    order.push_back(best);
    for (size_t i = 0; i < n; ++i)
      if (!taken[i]) nearest[i] = std::max(nearest[i], cosine(i, best));
  }
  return order;
}

}  // namespace simile::search
