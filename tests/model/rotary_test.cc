#include "model/rotary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace simile {
namespace {

TEST(Rotary, TableHoldsCosAndSinOfPositionTimesFrequency) {
  const size_t hd = 16, positions = 300;
  const RotaryEmbedding rope(hd, 1e6);
  std::vector<float> table(rope.table_floats(positions));
  rope.table(positions, table.data());
  for (size_t p : {0u, 1u, 7u, 299u})
    for (size_t i = 0; i < hd / 2; ++i) {
      const double angle = p * std::pow(1e6, -2.0 * i / hd);
      // float32 rounding of the angle, as transformers computes it, is the only error.
      const double tolerance = 1e-6 * std::max(1.0, angle);
      EXPECT_NEAR(table[p * hd + i], std::cos(angle), tolerance) << p << " " << i;
      EXPECT_NEAR(table[p * hd + hd / 2 + i], std::sin(angle), tolerance) << p << " " << i;
    }
}

TEST(Rotary, RotatesHalvesAndDependsOnlyOnRelativePosition) {
  const size_t hd = 8, heads = 2;
  const RotaryEmbedding rope(hd, 10000);
  std::vector<float> table(rope.table_floats(64));
  rope.table(64, table.data());
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<float> q(heads * hd), k(heads * hd);
  for (auto& v : q) v = dist(rng);
  for (auto& v : k) v = dist(rng);

  // One head by hand: rotate_half pairs dimension i with i + hd / 2.
  std::vector<float> x = q;
  rope.rotate(x.data(), heads, table.data() + 5 * hd);
  for (size_t h = 0; h < heads; ++h)
    for (size_t i = 0; i < hd / 2; ++i) {
      const double angle = 5 * std::pow(10000.0, -2.0 * i / hd);
      const float a = q[h * hd + i], b = q[h * hd + hd / 2 + i];
      EXPECT_NEAR(x[h * hd + i], a * std::cos(angle) - b * std::sin(angle), 1e-5);
      EXPECT_NEAR(x[h * hd + hd / 2 + i], b * std::cos(angle) + a * std::sin(angle), 1e-5);
    }

  // q at m and k at n score like q at m + s and k at n + s.
  auto score = [&](size_t m, size_t n) {
    std::vector<float> qm = q, kn = k;
    rope.rotate(qm.data(), heads, table.data() + m * hd);
    rope.rotate(kn.data(), heads, table.data() + n * hd);
    double dot = 0;
    for (size_t i = 0; i < hd; ++i) dot += double(qm[i]) * kn[i];
    return dot;
  };
  EXPECT_NEAR(score(3, 1), score(40, 38), 1e-4);
  EXPECT_GT(std::abs(score(3, 1) - score(3, 2)), 1e-3);
}

}  // namespace
}  // namespace simile
