#include "index/similarity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace simile {
namespace {

TEST(Similarity, MatchesHandComputedValues) {
  // rows: a = (1, 0, 0), b = (1, 1, 0), c = (3, 4, 5)
  std::vector<float> v = {1, 0, 0, 1, 1, 0, 3, 4, 5};
  EXPECT_NEAR(similarity(&v[0], &v[3], 3, Metric::kCosine), 1 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(similarity(&v[3], &v[6], 3, Metric::kDot), 7.0, 1e-12);
  EXPECT_NEAR(similarity(&v[0], &v[6], 3, Metric::kL2), std::sqrt(4 + 16 + 25.0), 1e-12);
  // Pearson of (1,1,0) and (3,4,5): centred (1/3,1/3,-2/3) and (-1,0,1) -> -1/sqrt(2/3 * 2) * 1
  EXPECT_NEAR(similarity(&v[3], &v[6], 3, Metric::kPearson), -1.0 / std::sqrt(2.0 / 3 * 2), 1e-12);
}

TEST(Similarity, MatrixIsSymmetricWithUnitDiagonalForCosine) {
  std::vector<float> v = {1, 2, 3, -1, 0.5, 2, 0, 0, 1};
  auto m = similarity_matrix(v.data(), 3, 3, Metric::kCosine);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(m[i * 3 + i], 1.0f, 1e-6);
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(m[i * 3 + j], m[j * 3 + i]);
  }
}

TEST(Similarity, ZeroVectorHasCosineZeroNotNan) {
  std::vector<float> v = {0, 0, 1, 2};
  EXPECT_EQ(similarity(&v[0], &v[2], 2, Metric::kCosine), 0.0);
}

TEST(Similarity, ParsesMetricNames) {
  EXPECT_TRUE(parse_metric("pearson").is_ok());
  auto bad = parse_metric("manhattan");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("cosine"), std::string::npos);
}

}  // namespace
}  // namespace simile
