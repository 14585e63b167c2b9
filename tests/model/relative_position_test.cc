#include "model/relative_position.h"

#include <gtest/gtest.h>

#include <vector>

namespace simile {
namespace {

// The smallest distance |key - query| that reaches each bucket 0-15, as
// transformers' MPNetEncoder.relative_position_bucket computes them (torch
// 1.13, float32, for every distance up to 5000): exact below 8, log-spaced
// from 8, capped at 15 from 91 on. Keys after the query take 16 more.
const std::vector<int64_t> kFirstDistanceOfBucket = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 23, 32, 46, 64, 91};

size_t expected_bucket(int64_t distance) {
  size_t bucket = 0;
  while (bucket + 1 < kFirstDistanceOfBucket.size() && kFirstDistanceOfBucket[bucket + 1] <= distance) ++bucket;
  return bucket;
}

TEST(RelativePositionBucket, MatchesTheReferenceAtEveryDistance) {
  for (int64_t d = 0; d <= 5000; ++d) {
    EXPECT_EQ(relative_position_bucket(-d), expected_bucket(d)) << "key " << d << " before the query";
    if (d > 0) {
      EXPECT_EQ(relative_position_bucket(d), 16 + expected_bucket(d)) << "key " << d << " after the query";
    }
  }
  // The float32 quotient is exactly 2, 4 and 6 at these distances: a
  // double-precision or differently rounded computation can fall either side.
  EXPECT_EQ(relative_position_bucket(-16), 10u);
  EXPECT_EQ(relative_position_bucket(-32), 12u);
  EXPECT_EQ(relative_position_bucket(-64), 14u);
}

TEST(RelativePositionBias, BandHoldsEachHeadsBiasByDistance) {
  const size_t heads = 3, n = 40;
  std::vector<float> table(kRelativePositionBuckets * heads);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i);
  std::vector<float> band(heads * (2 * n - 1), -1.0f);
  relative_position_bias_band(table.data(), heads, n, band.data());
  for (size_t h = 0; h < heads; ++h)
    for (size_t i = 0; i < n; ++i) {
      // Row i of head h, read as the attention kernel reads it (stride -1).
      const float* row = band.data() + h * (2 * n - 1) + (n - 1) - i;
      for (size_t j = 0; j < n; ++j) {
        const int64_t relative = static_cast<int64_t>(j) - static_cast<int64_t>(i);
        ASSERT_EQ(row[j], table[relative_position_bucket(relative) * heads + h]) << h << " " << i << " " << j;
      }
    }
}

}  // namespace
}  // namespace simile
