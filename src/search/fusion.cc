#include "search/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace simile::search {

std::vector<double> normalize_scores(const std::vector<Hit>& hits, Fusion::Normalization normalization) {
  std::vector<double> out(hits.size());
  if (hits.empty()) return out;
  if (normalization == Fusion::Normalization::kMinMax) {
    double lo = hits.front().score, hi = lo;
    for (const Hit& h : hits) {
      lo = std::min<double>(lo, h.score);
      hi = std::max<double>(hi, h.score);
    }
    for (size_t i = 0; i < hits.size(); ++i) out[i] = hi > lo ? (hits[i].score - lo) / (hi - lo) : 1.0;
    return out;
  }
  double mean = 0;
  for (const Hit& h : hits) mean += h.score;
  mean /= static_cast<double>(hits.size());
  double var = 0;
  for (const Hit& h : hits) var += (h.score - mean) * (h.score - mean);
  const double sd = std::sqrt(var / static_cast<double>(hits.size()));
  for (size_t i = 0; i < hits.size(); ++i) out[i] = sd > 0 ? (hits[i].score - mean) / sd : 0.0;
  return out;
}

std::vector<FusedHit> fuse(const std::vector<Hit>& dense, const std::vector<Hit>& keyword, const Fusion& fusion) {
  std::vector<FusedHit> out;
  std::unordered_map<int64_t, size_t> at;  // id -> position in out
  auto entry = [&](int64_t id) -> FusedHit& {
    auto [it, added] = at.emplace(id, out.size());
    if (added) out.push_back({id, 0, 0, 0});
    return out[it->second];
  };
  for (size_t r = 0; r < dense.size(); ++r) entry(dense[r].id).dense_rank = r + 1;
  for (size_t r = 0; r < keyword.size(); ++r) entry(keyword[r].id).keyword_rank = r + 1;

  if (fusion.method == Fusion::Method::kRrf) {
    for (FusedHit& f : out) {
      // Summed in a fixed order (dense, then keyword) so equal inputs give
      // bit-equal scores.
      if (f.dense_rank) f.score += 1.0 / (fusion.rrf_k + static_cast<double>(f.dense_rank));
      if (f.keyword_rank) f.score += 1.0 / (fusion.rrf_k + static_cast<double>(f.keyword_rank));
    }
  } else {
    const std::vector<double> d = normalize_scores(dense, fusion.normalization);
    const std::vector<double> k = normalize_scores(keyword, fusion.normalization);
    // A list that misses a document gives it the lowest value it gave any.
    const double d_floor = d.empty() ? 0 : *std::min_element(d.begin(), d.end());
    const double k_floor = k.empty() ? 0 : *std::min_element(k.begin(), k.end());
    const double w = fusion.dense_weight;
    for (FusedHit& f : out) {
      const double dn = f.dense_rank ? d[f.dense_rank - 1] : d_floor;
      const double kn = f.keyword_rank ? k[f.keyword_rank - 1] : k_floor;
      f.score = w * dn + (1 - w) * kn;
    }
  }
  std::sort(out.begin(), out.end(), [](const FusedHit& a, const FusedHit& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  });
  return out;
}

}  // namespace simile::search
