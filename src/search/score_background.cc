#include "search/score_background.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "util/check.h"

namespace simile {

float ScoreBackground::percentile_of(float score) const {
  if (sample.size() < search::kMinBackgroundPairs || std::isnan(score)) return std::numeric_limits<float>::quiet_NaN();
  const auto below = std::lower_bound(sample.begin(), sample.end(), score);
  const auto not_above = std::upper_bound(below, sample.end(), score);
  const double under = static_cast<double>(below - sample.begin());
  const double ties = static_cast<double>(not_above - below);
  return static_cast<float>(100.0 * (under + 0.5 * ties) / static_cast<double>(sample.size()));
}

float ScoreBackground::z_of(float score) const {
  if (sample.size() < search::kMinBackgroundPairs || !(stddev > 0)) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>((score - mean) / stddev);
}

namespace search {

namespace {

// Any fixed value: changing it changes every collection's numbers.
constexpr uint64_t kSeed = 0x5eed'000b'ac6b'0d00ULL;

// A uniform integer in [0, range) from one 64-bit draw (Lemire's
// multiply-shift; the bias, below range / 2^64, is negligible here).
uint64_t below(std::mt19937_64& rng, uint64_t range) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * range) >> 64);
}

// Linear interpolation between the closest ranks (numpy's default).
float quantile(const std::vector<float>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = at - static_cast<double>(lo);
  return static_cast<float>(sorted[lo] + frac * (static_cast<double>(sorted[hi]) - sorted[lo]));
}

}  // namespace

ScoreBackground sample_background(const FlatIndex& index, const std::vector<int64_t>& document_of) {
  return sample_background(
      ChunkCodes{index.size(), index.dims(), index.type(), index.metric(),
                 [&](size_t p) { return index.id_at(p); }, [&](size_t p) { return index.code_at(p); }},
      document_of);
}

ScoreBackground sample_background(const ChunkCodes& index, const std::vector<int64_t>& document_of) {
  SIMILE_CHECK(document_of.size() == index.size);
  const size_t n = index.size;
  const size_t dims = index.dims;
  // Chunks grouped by document, in an order that does not depend on how the
  // index was loaded.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (document_of[a] != document_of[b]) return document_of[a] < document_of[b];
    return index.id_at(a) < index.id_at(b);
  });
  struct Group {
    size_t begin, size;
    uint64_t cumulative;  // ordered cross-document pairs of the groups up to and including this one
  };
  std::vector<Group> groups;
  uint64_t ordered_pairs = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && document_of[order[j]] == document_of[order[i]]) ++j;
    const uint64_t size = j - i;
    ordered_pairs += size * (n - size);
    groups.push_back({i, j - i, ordered_pairs});
    i = j;
  }
  const uint64_t pairs = ordered_pairs / 2;

  std::vector<float> a(dims), b(dims);
  auto score = [&](size_t x, size_t y) {
    decode_vectors(index.type, index.code_at(order[x]), 1, dims, a.data());
    decode_vectors(index.type, index.code_at(order[y]), 1, dims, b.data());
    const double s = similarity(a.data(), b.data(), dims, index.metric);
    return static_cast<float>(index.metric == Metric::kL2 ? -s : s);
  };
  ScoreBackground out;
  std::vector<float>& sample = out.sample;
  if (pairs <= kBackgroundPairs) {
    sample.reserve(pairs);
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t x = groups[g].begin; x < groups[g].begin + groups[g].size; ++x)
        for (size_t y = groups[g].begin + groups[g].size; y < n; ++y) sample.push_back(score(x, y));
  } else {
    // One draw picks an ordered cross-document pair uniformly: the group by
    // its share of such pairs, then the first chunk within it and the second
    // among the chunks outside it.
    std::mt19937_64 rng(kSeed);
    sample.reserve(kBackgroundPairs);
    while (sample.size() < kBackgroundPairs) {
      const uint64_t r = below(rng, ordered_pairs);
      const auto g = std::upper_bound(groups.begin(), groups.end(), r,
                                      [](uint64_t v, const Group& grp) { return v < grp.cumulative; });
      const uint64_t within = r - (g->cumulative - g->size * (n - g->size));
      const size_t x = g->begin + within / (n - g->size);
      const size_t other = within % (n - g->size);
      const size_t y = other < g->begin ? other : other + g->size;
      sample.push_back(score(x, y));
    }
  }
  std::sort(sample.begin(), sample.end());
  out.pairs = sample.size();
  if (sample.size() < kMinBackgroundPairs) {
    out.mean = out.stddev = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  double sum = 0;
  for (float s : sample) sum += s;
  out.mean = sum / static_cast<double>(sample.size());
  double squares = 0;
  for (float s : sample) squares += (s - out.mean) * (s - out.mean);
  out.stddev = std::sqrt(squares / static_cast<double>(sample.size()));
  out.percentiles.reserve(101);
  for (int p = 0; p <= 100; ++p) out.percentiles.push_back(quantile(sample, p / 100.0));
  return out;
}

}  // namespace search
}  // namespace simile
