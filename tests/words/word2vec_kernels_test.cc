// The word2vec inner step: the AVX2+FMA kernels against the scalar reference
// on random inputs, the scalar reference against a double-precision step
// written here, the sigmoid table, and no update beyond +-kMaxExp.
#include "words/word2vec_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace simile::words {
namespace {

constexpr size_t kDims[] = {1, 7, 8, 15, 16, 17, 100, 300};
constexpr size_t kRows = 12;
constexpr float kAlpha = 0.025f;
// Several targets, row 3 twice: its second step sees the first one's update.
const std::vector<uint32_t> kTargets = {3, 0, 11, 3, 7, 5};

double exact_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Random values whose dot products spread over the table's [-6, 6] (and a
// little beyond): entries of scale (4 / dims)^(1/4) give dot products of
// standard deviation about 2.
std::vector<float> random_values(size_t n, size_t dims, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, static_cast<float>(std::pow(4.0 / double(dims), 0.25)));
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// |a - b| within `rel` of the larger magnitude, `scale` standing in for it
// near zero (values that cancel).
::testing::AssertionResult close(const std::vector<float>& got, const std::vector<float>& want, double rel,
                                 double scale) {
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = rel * std::max({std::fabs(double(got[i])), std::fabs(double(want[i])), scale});
    if (std::fabs(double(got[i]) - double(want[i])) > tol)
      return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " vs " << want[i];
  }
  return ::testing::AssertionSuccess();
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(double(x)));
  return m;
}

TEST(Word2VecKernels, DispatchPicksTheRequestedIsa) {
  EXPECT_EQ(negative_step(kernels::Isa::kScalar), &detail::negative_step_scalar);
  EXPECT_EQ(negative_step(kernels::Isa::kAvx2), &detail::negative_step_avx2);
  EXPECT_EQ(add_into(kernels::Isa::kScalar), &detail::add_into_scalar);
  EXPECT_EQ(add_into(kernels::Isa::kAvx2), &detail::add_into_avx2);
}

TEST(Word2VecKernels, SigmoidTableSpansMinusSixToSix) {
  const float* table = sigmoid_table();
  for (int i = 0; i <= kSigmoidTableSize; ++i) {
    const double x = (2.0 * i / kSigmoidTableSize - 1.0) * kMaxExp;
    EXPECT_NEAR(table[i], exact_sigmoid(x), 1e-7) << i;
    if (i > 0) {
      EXPECT_GT(table[i], table[i - 1]) << i;
    }
  }
  EXPECT_NEAR(table[kSigmoidTableSize / 2], 0.5, 1e-7);
}

TEST(Word2VecKernels, Avx2NegativeStepMatchesScalar) {
  if (!kernels::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  std::mt19937 rng(42);
  for (size_t dims : kDims)
    for (int trial = 0; trial < 5; ++trial) {
      const std::vector<float> in = random_values(dims, dims, rng);
      const std::vector<float> rows = random_values(kRows * dims, dims, rng);
      const std::vector<float> grad0 = random_values(dims, dims, rng);
      std::vector<float> rows_s = rows, rows_v = rows, grad_s = grad0, grad_v = grad0;
      detail::negative_step_scalar(in.data(), grad_s.data(), rows_s.data(), kTargets.data(), kTargets.size(), dims,
                                   kAlpha);
      detail::negative_step_avx2(in.data(), grad_v.data(), rows_v.data(), kTargets.data(), kTargets.size(), dims,
                                 kAlpha);
      // The step did something (the comparison would hold for a no-op too).
      ASSERT_NE(grad_s, grad0) << dims;
      ASSERT_NE(rows_s, rows) << dims;
      EXPECT_TRUE(close(grad_v, grad_s, 1e-5, max_abs(grad_s))) << "grad, dims " << dims << " trial " << trial;
      EXPECT_TRUE(close(rows_v, rows_s, 1e-5, max_abs(rows_s))) << "rows, dims " << dims << " trial " << trial;
    }
}

TEST(Word2VecKernels, Avx2AddIntoMatchesScalarExactly) {
  if (!kernels::cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  std::mt19937 rng(5);
  for (size_t dims : kDims) {
    const std::vector<float> in = random_values(dims, dims, rng), delta = random_values(dims, dims, rng);
    std::vector<float> s = in, v = in;
    detail::add_into_scalar(s.data(), delta.data(), dims);
    detail::add_into_avx2(v.data(), delta.data(), dims);
    for (size_t d = 0; d < dims; ++d) {
      EXPECT_EQ(s[d], in[d] + delta[d]) << dims << " " << d;
      EXPECT_EQ(v[d], s[d]) << dims << " " << d;
    }
  }
}

// The step as the header states it, in double, with the exact sigmoid
// (and no update where the table has no value, beyond +-kMaxExp).
void reference_step(const std::vector<float>& in, std::vector<double>& grad, std::vector<double>& rows,
                    const std::vector<uint32_t>& targets, size_t dims, double alpha) {
  for (size_t t = 0; t < targets.size(); ++t) {
    double* out = rows.data() + targets[t] * dims;
    double f = 0;
    for (size_t d = 0; d < dims; ++d) f += in[d] * out[d];
    if (f >= kMaxExp || f <= -kMaxExp) continue;
    const double label = t == 0 ? 1 : 0;
    const double g = (label - exact_sigmoid(f)) * alpha;
    for (size_t d = 0; d < dims; ++d) grad[d] += g * out[d];
    for (size_t d = 0; d < dims; ++d) out[d] += g * in[d];
  }
}

TEST(Word2VecKernels, ScalarStepMatchesDoublePrecisionReference) {
  std::mt19937 rng(9);
  for (size_t dims : kDims)
    for (int trial = 0; trial < 5; ++trial) {
      const std::vector<float> in = random_values(dims, dims, rng);
      const std::vector<float> rows = random_values(kRows * dims, dims, rng);
      std::vector<float> rows_s = rows, grad_s(dims, 0.0f);
      detail::negative_step_scalar(in.data(), grad_s.data(), rows_s.data(), kTargets.data(), kTargets.size(), dims,
                                   kAlpha);
      std::vector<double> rows_r(rows.begin(), rows.end()), grad_r(dims, 0.0);
      reference_step(in, grad_r, rows_r, kTargets, dims, kAlpha);
      // The table reads sigmoid at the left end of a bin 12/1000 wide: at
      // most 0.25 x 0.012 = 0.003 off, so each target's g is within
      // 0.003 alpha; grad sums |g error| x |row| over the targets.
      for (size_t d = 0; d < dims; ++d) {
        double row_sum = 0;
        for (uint32_t t : kTargets) row_sum += std::fabs(rows[t * dims + d]);
        const double tol = 0.0035 * kAlpha * (row_sum + 1) + 1e-6;
        EXPECT_NEAR(grad_s[d], grad_r[d], tol) << "dims " << dims << " d " << d;
      }
      for (size_t r = 0; r < kRows; ++r)
        for (size_t d = 0; d < dims; ++d) {
          const size_t i = r * dims + d;
          // Row 3 is stepped twice.
          const double tol = 2 * 0.0035 * kAlpha * std::fabs(in[d]) + 1e-6;
          EXPECT_NEAR(rows_s[i], rows_r[i], tol) << "dims " << dims << " row " << r << " d " << d;
        }
      // Rows that are not targets are untouched.
      for (size_t r : {1, 2, 4, 6, 8, 9, 10})
        for (size_t d = 0; d < dims; ++d) EXPECT_EQ(rows_s[r * dims + d], rows[r * dims + d]);
    }
}

// Dot products at or beyond +-kMaxExp (and NaN) change nothing, as in
// gensim: neither the target's row nor grad. dims 16 runs the AVX2 kernel's
// vector body.
TEST(Word2VecKernels, NoUpdateBeyondSix) {
  std::vector<std::pair<const char*, NegativeStep>> steps = {{"scalar", detail::negative_step_scalar}};
  if (kernels::cpu_has_avx2_fma()) steps.push_back({"avx2", detail::negative_step_avx2});
  const size_t dims = 16;
  for (auto [name, step] : steps)
    for (float dot : {6.0f, 7.0f, 40.0f, -6.0f, -7.0f, -40.0f, std::nanf("")})
      for (int label = 0; label <= 1; ++label) {
        // in = (dot / 2, 0, ..., 0, 1), row 1 = (2, 0, ..., 0): in . row = dot.
        std::vector<float> in(dims, 0.0f), rows(2 * dims, 0.0f), grad(dims, 0.0f);
        in[0] = dot / 2;
        in[dims - 1] = 1;
        rows[dims] = 2;
        // label 1: row 1 is the word (first target); label 0: a negative after row 0.
        const std::vector<uint32_t> targets = label == 1 ? std::vector<uint32_t>{1} : std::vector<uint32_t>{0, 1};
        step(in.data(), grad.data(), rows.data(), targets.data(), targets.size(), dims, kAlpha);
        // Row 0 is zero: its dot product is 0, sigmoid 0.5, and as the word
        // its update adds (1 - 0.5) alpha in; grad gets nothing from it.
        SCOPED_TRACE(std::string(name) + " dot " + std::to_string(dot) + " label " + std::to_string(label));
        for (size_t d = 0; d < dims; ++d) EXPECT_EQ(grad[d], 0.0f) << d;
        EXPECT_EQ(rows[dims + 0], 2.0f);
        for (size_t d = 1; d < dims; ++d) EXPECT_EQ(rows[dims + d], 0.0f) << d;
        if (label == 0 && !std::isnan(dot)) {
          const float g = 0.5f * kAlpha;
          EXPECT_EQ(rows[0], g * in[0]);
          EXPECT_EQ(rows[dims - 1], g);
        }
      }
}

// Inside the table, the error is label - table[bin of f], the bin being
// floor((f + 6) x 1000 / 12). f here is exact in float (one non-zero term)
// and away from the bins' edges.
TEST(Word2VecKernels, ReadsTheTableBinOfTheDotProduct) {
  std::vector<std::pair<const char*, NegativeStep>> steps = {{"scalar", detail::negative_step_scalar}};
  if (kernels::cpu_has_avx2_fma()) steps.push_back({"avx2", detail::negative_step_avx2});
  const size_t dims = 9;
  const float* table = sigmoid_table();
  for (auto [name, step] : steps)
    for (float f : {-5.5f, -1.0f, 0.05f, 0.7f, 2.25f, 5.9375f}) {
      std::vector<float> in(dims, 0.0f), rows(dims, 0.0f), grad(dims, 0.0f);
      in[dims - 1] = f;  // the scalar tail of the AVX2 kernel
      rows[dims - 1] = 1;
      const uint32_t target = 0;
      step(in.data(), grad.data(), rows.data(), &target, 1, dims, kAlpha);
      const int bin = static_cast<int>(std::floor((double(f) + 6.0) * 1000.0 / 12.0));
      const float g = (1.0f - table[bin]) * kAlpha;
      EXPECT_FLOAT_EQ(grad[dims - 1], g) << name << " f " << f;
      EXPECT_NEAR(grad[dims - 1], (1 - exact_sigmoid(f)) * kAlpha, 0.003 * kAlpha) << name << " f " << f;
    }
}

}  // namespace
}  // namespace simile::words
