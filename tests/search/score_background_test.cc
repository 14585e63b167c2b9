// The background sampler (search/score_background.h) on random vectors,
// against brute force over every cross-document pair.
#include "search/score_background.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace simile::search {
namespace {

struct Vectors {
  FlatIndex index;
  std::vector<int64_t> document_of;
  std::vector<std::vector<float>> rows;  // as added, before any normalisation
};

// n vectors in `documents` documents (chunk p in document p % documents),
// sharing a common direction so cosines are not centred on zero.
Vectors random_vectors(size_t n, size_t documents, size_t dims, Metric metric, VectorType type, uint32_t seed) {
  Vectors v{FlatIndex(dims, type, metric), {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  for (size_t p = 0; p < n; ++p) {
    std::vector<float> x(dims);
    for (size_t i = 0; i < dims; ++i) x[i] = normal(rng) + (i < 4 ? 1.5f : 0.0f);
    v.index.add_float(static_cast<int64_t>(100 + p), x.data());
    v.document_of.push_back(static_cast<int64_t>(p % documents));
    v.rows.push_back(std::move(x));
  }
  return v;
}

// Every cross-document pair's score, computed here from the rows.
std::vector<double> all_pairs(const Vectors& v, Metric metric) {
  std::vector<double> out;
  for (size_t a = 0; a < v.rows.size(); ++a)
    for (size_t b = a + 1; b < v.rows.size(); ++b) {
      if (v.document_of[a] == v.document_of[b]) continue;
      const std::vector<float>& x = v.rows[a];
      const std::vector<float>& y = v.rows[b];
      double dot = 0, xx = 0, yy = 0, d2 = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        dot += double(x[i]) * y[i];
        xx += double(x[i]) * x[i];
        yy += double(y[i]) * y[i];
        d2 += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      }
      out.push_back(metric == Metric::kCosine ? dot / std::sqrt(xx * yy) : metric == Metric::kDot ? dot : -std::sqrt(d2));
    }
  std::sort(out.begin(), out.end());
  return out;
}

std::pair<double, double> mean_sd(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m += v;
  m /= double(x.size());
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return {m, std::sqrt(s / double(x.size()))};
}

TEST(ScoreBackground, EveryCrossDocumentPairWhenFewExist) {
  for (Metric metric : {Metric::kCosine, Metric::kDot, Metric::kL2}) {
    // 60 chunks in 6 documents of 10: 1500 cross pairs (1770 in all).
    Vectors v = random_vectors(60, 6, 16, metric, VectorType::kF32, 1);
    ScoreBackground b = sample_background(v.index, v.document_of);
    const std::vector<double> truth = all_pairs(v, metric);
    ASSERT_EQ(b.pairs, 1500u);
    ASSERT_EQ(b.sample.size(), truth.size());
    for (size_t i = 0; i < truth.size(); ++i) EXPECT_NEAR(b.sample[i], truth[i], 1e-4) << i;
    auto [mean, sd] = mean_sd(truth);
    EXPECT_NEAR(b.mean, mean, 1e-5);
    EXPECT_NEAR(b.stddev, sd, 1e-5);
    ASSERT_EQ(b.percentiles.size(), 101u);
    EXPECT_NEAR(b.percentiles[0], truth.front(), 1e-4);
    EXPECT_NEAR(b.percentiles[100], truth.back(), 1e-4);
    // Linear interpolation between ranks: p50 of 1500 values is between the 750th and 751st.
    EXPECT_NEAR(b.percentiles[50], (truth[749] + truth[750]) / 2, 1e-4);
  }
}

TEST(ScoreBackground, PercentileCountsScoresBelowAndHalfTheTies) {
  ScoreBackground b;
  b.sample = {0.1f, 0.2f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f};
  b.pairs = b.sample.size();
  b.mean = 0.5;
  b.stddev = 0.25;
  EXPECT_FLOAT_EQ(b.percentile_of(0.05f), 0);
  EXPECT_FLOAT_EQ(b.percentile_of(0.2f), 20);  // one below, two tied
  EXPECT_FLOAT_EQ(b.percentile_of(0.25f), 30);
  EXPECT_FLOAT_EQ(b.percentile_of(1.0f), 100);
  EXPECT_FLOAT_EQ(b.z_of(1.0f), 2);
  b.stddev = 0;
  EXPECT_TRUE(std::isnan(b.z_of(1.0f)));
  b.sample.resize(9);  // below the minimum
  EXPECT_TRUE(std::isnan(b.percentile_of(0.5f)));
}

TEST(ScoreBackground, TooFewPairsIsNoBackground) {
  Vectors v = random_vectors(4, 2, 8, Metric::kCosine, VectorType::kF32, 2);  // 2 x 2 chunks: 4 cross pairs
  ScoreBackground b = sample_background(v.index, v.document_of);
  EXPECT_EQ(b.pairs, 4u);
  EXPECT_TRUE(std::isnan(b.mean));
  EXPECT_TRUE(b.percentiles.empty());
  EXPECT_TRUE(std::isnan(b.percentile_of(0.5f)));
  EXPECT_TRUE(std::isnan(b.z_of(0.5f)));
  Vectors one = random_vectors(5, 1, 8, Metric::kCosine, VectorType::kF32, 2);  // one document: no pair
  EXPECT_EQ(sample_background(one.index, one.document_of).pairs, 0u);
  FlatIndex empty(8, VectorType::kF32, Metric::kCosine);
  EXPECT_EQ(sample_background(empty, {}).pairs, 0u);
}

TEST(ScoreBackground, SubsamplesManyPairsDeterministicallyAndWithoutBias) {
  // 400 chunks in 40 documents: 78000 cross pairs, so 20000 are drawn.
  Vectors v = random_vectors(400, 40, 16, Metric::kCosine, VectorType::kF32, 3);
  ScoreBackground b = sample_background(v.index, v.document_of);
  ASSERT_EQ(b.pairs, kBackgroundPairs);
  const std::vector<double> truth = all_pairs(v, Metric::kCosine);
  ASSERT_EQ(truth.size(), 78000u);
  auto [mean, sd] = mean_sd(truth);
  // Standard error of the mean: sd / sqrt(20000) = 0.007 sd.
  EXPECT_NEAR(b.mean, mean, 0.03 * sd);
  EXPECT_NEAR(b.stddev, sd, 0.03 * sd);
  for (int p : {10, 50, 90}) {
    const double rank = std::lower_bound(truth.begin(), truth.end(), double(b.percentiles[p])) - truth.begin();
    EXPECT_NEAR(100.0 * rank / double(truth.size()), p, 1.5) << "p" << p;
  }
  // The same vectors, added in another order, give the same sample.
  Vectors shuffled{FlatIndex(16, VectorType::kF32, Metric::kCosine), {}, {}};
  for (size_t p = v.rows.size(); p-- > 0;) {
    shuffled.index.add_float(static_cast<int64_t>(100 + p), v.rows[p].data());
    shuffled.document_of.push_back(v.document_of[p]);
  }
  EXPECT_EQ(sample_background(shuffled.index, shuffled.document_of).sample, b.sample);
}

TEST(ScoreBackground, NeverPairsChunksOfOneDocument) {
  // 50 documents of 10 identical chunks: a same-document pair would score 1.
  const size_t dims = 16;
  FlatIndex index(dims, VectorType::kF32, Metric::kCosine);
  std::vector<int64_t> document_of;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 1);
  for (int64_t d = 0; d < 50; ++d) {
    std::vector<float> x(dims);
    for (float& xi : x) xi = normal(rng);
    for (int c = 0; c < 10; ++c) {
      index.add_float(d * 10 + c, x.data());
      document_of.push_back(d);
    }
  }
  ScoreBackground b = sample_background(index, document_of);
  ASSERT_EQ(b.pairs, kBackgroundPairs);  // of 122500
  EXPECT_LT(b.sample.back(), 0.99f);
}

TEST(ScoreBackground, QuantisedCodesAreDecodedBeforeScoring) {
  Vectors f32 = random_vectors(40, 8, 32, Metric::kCosine, VectorType::kF32, 4);
  for (VectorType type : {VectorType::kF16, VectorType::kI8}) {
    Vectors q = random_vectors(40, 8, 32, Metric::kCosine, type, 4);
    ScoreBackground exact = sample_background(f32.index, f32.document_of);
    ScoreBackground coded = sample_background(q.index, q.document_of);
    ASSERT_EQ(exact.pairs, coded.pairs);
    EXPECT_NEAR(coded.mean, exact.mean, 0.01);
    EXPECT_NEAR(coded.stddev, exact.stddev, 0.01);
  }
}

}  // namespace
}  // namespace simile::search
