// The int8 kernels against their scalar reference: every kernel's int32 sums
// equal a plain triple loop exactly, on odd shapes and at the extremes that
// would saturate vpmaddubsw's int16 pairs with 8-bit activations.
#include "model/kernels/int8_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/linear.h"
#include "model/quantize.h"

namespace simile::kernels {
namespace {

std::vector<Int8Kernel> kernels_here() {
  std::vector<Int8Kernel> out;
  for (Int8Kernel k : {Int8Kernel::kScalar, Int8Kernel::kAvx2, Int8Kernel::kAvx2Vnni, Int8Kernel::kAvx512Vnni})
    if (int8_kernel_supported(k)) out.push_back(k);
  return out;
}

std::vector<int32_t> naive_product(const std::vector<uint8_t>& a, size_t m, size_t lda, const std::vector<int8_t>& w,
                                   size_t n, size_t k) {
  std::vector<int32_t> c(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (size_t p = 0; p < k; ++p) acc += int64_t{a[i * lda + p]} * w[j * k + p];
      c[i * n + j] = static_cast<int32_t>(acc);
    }
  return c;
}

TEST(Int8Gemm, EveryKernelSumsExactlyOnOddShapes) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> qa(0, 127), qw(-127, 127);
  for (size_t m : {1u, 3u, 4u, 5u, 17u, 130u})
    for (size_t n : {1u, 7u, 16u, 33u, 50u})
      for (size_t k : {1u, 3u, 4u, 5u, 37u, 384u}) {
        const size_t lda = int8_padded_k(k) + 4;  // a leading dimension past the padding
        std::vector<uint8_t> a(m * lda, 0);
        for (size_t i = 0; i < m; ++i)
          for (size_t p = 0; p < k; ++p) a[i * lda + p] = static_cast<uint8_t>(qa(rng));
        std::vector<int8_t> w(n * k);
        for (auto& v : w) v = static_cast<int8_t>(qw(rng));
        std::vector<float> scales(n, 1.0f);
        const PackedInt8Weights packed(w.data(), n, k, k, scales.data());
        const std::vector<int32_t> want = naive_product(a, m, lda, w, n, k);
        for (Int8Kernel kernel : kernels_here()) {
          std::vector<int32_t> got(m * n, -1);
          gemm_u7s8_s32(m, a.data(), lda, packed, got.data(), n, kernel);
          ASSERT_EQ(got, want) << int8_kernel_name(kernel) << " m=" << m << " n=" << n << " k=" << k;
        }
      }
}

TEST(Int8Gemm, ExtremeValuesDoNotSaturate) {
  // 127 * 127 + 127 * 127 = 32258 fits int16; with 255 it would not.
  const size_t m = 6, n = 19, k = 1541;
  const size_t lda = int8_padded_k(k);
  for (int8_t sign : {int8_t{127}, int8_t{-127}}) {
    std::vector<uint8_t> a(m * lda, 0);
    for (size_t i = 0; i < m; ++i)
      for (size_t p = 0; p < k; ++p) a[i * lda + p] = 127;
    std::vector<int8_t> w(n * k, sign);
    std::vector<float> scales(n, 1.0f);
    const PackedInt8Weights packed(w.data(), n, k, k, scales.data());
    for (Int8Kernel kernel : kernels_here()) {
      std::vector<int32_t> got(m * n);
      gemm_u7s8_s32(m, a.data(), lda, packed, got.data(), n, kernel);
      for (int32_t v : got) ASSERT_EQ(v, int32_t{127} * sign * static_cast<int32_t>(k)) << int8_kernel_name(kernel);
    }
  }
}

// Room for quantised rows, with every byte and value set to garbage first.
struct RowsBuffer {
  RowsBuffer(size_t rows, size_t k, uint8_t fill)
      : q(rows * int8_padded_k(k), fill), scale(rows, -1), outlier(rows, -1), zero(rows, -1), outlier_col(rows, -1) {}
  QuantizedRows view(size_t k) {
    return {q.data(), int8_padded_k(k), scale.data(), zero.data(), outlier.data(), outlier_col.data()};
  }
  std::vector<uint8_t> q;
  std::vector<float> scale, outlier;
  std::vector<int32_t> zero, outlier_col;
};

TEST(Int8Gemm, ActivationQuantisationIsTheSameInBothIsasAndWithinHalfAStep) {
  if (!cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2";
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (size_t k : {1u, 7u, 31u, 32u, 33u, 384u, 1537u}) {
    const size_t rows = 9, ldq = int8_padded_k(k);
    std::vector<float> x(rows * k);
    for (auto& v : x) v = normal(rng);
    for (size_t c = 0; c < k; ++c) x[c] = 0.0f;            // a row of zeros
    for (size_t c = 0; c < k; ++c) x[k + c] = 0.5f + c;    // all positive: the range widens to 0
    x[2 * k + k / 2] = 40.0f;                              // an outlier
    x[3 * k + k - 1] = -40.0f;                             // a negative one, last
    if (k > 1) x[4 * k + k - 2] = x[4 * k + 1] = 50.0f;    // a tie: the first is kept
    RowsBuffer scalar(rows, k, 0xff), avx2(rows, k, 0xee);
    quantize_rows_u7(x.data(), rows, k, k, scalar.view(k), Isa::kScalar);
    quantize_rows_u7(x.data(), rows, k, k, avx2.view(k), Isa::kAvx2);
    ASSERT_EQ(scalar.q, avx2.q) << "k=" << k;
    ASSERT_EQ(scalar.scale, avx2.scale);
    ASSERT_EQ(scalar.zero, avx2.zero);
    ASSERT_EQ(scalar.outlier, avx2.outlier);
    ASSERT_EQ(scalar.outlier_col, avx2.outlier_col);
    EXPECT_EQ(scalar.outlier[2], 40.0f);
    EXPECT_EQ(scalar.outlier_col[2], static_cast<int32_t>(k / 2));
    EXPECT_EQ(scalar.outlier[3], -40.0f);
    EXPECT_EQ(scalar.outlier_col[3], static_cast<int32_t>(k - 1));
    if (k > 1) {
      EXPECT_EQ(scalar.outlier_col[4], 1);
    }
    EXPECT_EQ(scalar.outlier[0], 0.0f);  // a row of zeros has none
    for (size_t r = 0; r < rows; ++r) {
      float largest_rest = 0;
      for (size_t c = 0; c < k; ++c) {
        const float v = x[r * k + c];
        ASSERT_LE(std::fabs(v), std::fabs(scalar.outlier[r])) << "the outlier is the largest, row " << r;
        if (static_cast<int32_t>(c) == scalar.outlier_col[r]) {
          ASSERT_EQ(v, scalar.outlier[r]);
          ASSERT_EQ(scalar.q[r * ldq + c], scalar.zero[r]) << "the outlier's byte counts as 0";
          continue;
        }
        largest_rest = std::max(largest_rest, std::fabs(v));
        ASSERT_LE(scalar.q[r * ldq + c], 127);
        const float back = scalar.scale[r] * (static_cast<float>(scalar.q[r * ldq + c]) - scalar.zero[r]);
        ASSERT_NEAR(back, v, scalar.scale[r] * 0.5f + 1e-6f) << "row " << r << " col " << c;
      }
      // The step follows the rest of the row, not the outlier.
      if (largest_rest > 0) {
        EXPECT_LE(scalar.scale[r] * 127, 2 * largest_rest * 1.0001f) << "row " << r;
      }
    }
  }
}

// The whole linear layer: int8 against fp32 on random data, and the kernels
// against each other (the same int32 sums and one fused multiply-add each).
TEST(Int8Gemm, LinearLayerIsCloseToFp32AndKernelsAgree) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t rows = 37, in = 389, out = 45;
  std::vector<float> x(rows * in), w(out * in), bias(out);
  for (auto& v : x) v = normal(rng);
  // A channel far larger than the rest, as BERT's hidden states have: with
  // it in the 7-bit range the error would be 0.040, twice the bound below.
  for (size_t r = 0; r < rows; ++r) x[r * in + 100] = 30.0f + normal(rng);
  for (auto& v : w) v = normal(rng) * 0.05f;
  for (auto& v : bias) v = normal(rng);
  const QuantizedMatrix q = quantize_weights(w.data(), out, in);
  const Linear int8 = Linear::int8({&q});
  const Linear fp32 = Linear::fp32(w.data(), out, in);
  Int8Activations activations;
  activations.reserve(rows, in);
  for (Epilogue e : {Epilogue::kBias, Epilogue::kBiasGelu}) {
    std::vector<float> want(rows * out), got(rows * out);
    WorkShare lone;
    fp32.apply(lone, x.data(), rows, want.data(), bias.data(), e, activations);
    for (int threads : {1, 2}) {
      run_team(threads, int8.steps(),
               [&](WorkShare& share) { int8.apply(share, x.data(), rows, got.data(), bias.data(), e, activations); });
      double err = 0, norm = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        err += (got[i] - want[i]) * double(got[i] - want[i]);
        norm += want[i] * double(want[i]);
      }
      std::printf("[ int8     ] relative error %.4f\n", std::sqrt(err / norm));
      EXPECT_LT(std::sqrt(err / norm), 0.02) << "epilogue " << static_cast<int>(e) << ", " << threads << " threads";
    }
  }
  // Kernels: identical sums, so the dequantised outputs agree to float rounding.
  const PackedInt8Weights packed(q.values.data(), out, in, in, q.scales.data());
  RowsBuffer qa(rows, in, 0);
  quantize_rows_u7(x.data(), rows, in, in, qa.view(in), Isa::kScalar);
  std::vector<float> ref(rows * out);
  WorkShare lone;
  linear_int8(lone, rows, qa.view(in), packed, bias.data(), Int8Epilogue::kBias, ref.data(), out, Int8Kernel::kScalar);
  for (Int8Kernel kernel : kernels_here()) {
    std::vector<float> y(rows * out);
    run_team(2, 1, [&](WorkShare& share) {
      linear_int8(share, rows, qa.view(in), packed, bias.data(), Int8Epilogue::kBias, y.data(), out, kernel);
    });
    EXPECT_EQ(y, ref) << int8_kernel_name(kernel);
  }
}

TEST(Int8Gemm, WeightQuantisationIsSymmetricPerRow) {
  const std::vector<float> w = {0.0f, 0.0f,  0.0f,   // a zero row: scale 1
                                1.0f, -2.0f, 0.5f,   //
                                -254.0f, 127.0f, 1.0f};
  const QuantizedMatrix q = quantize_weights(w.data(), 3, 3);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.values[0], 0);
  EXPECT_FLOAT_EQ(q.scales[1], 2.0f / 127);
  EXPECT_EQ(q.values[4], -127);  // the row's largest magnitude maps to +-127, never -128
  EXPECT_EQ(q.values[6], -127);
  for (size_t r = 0; r < 3; ++r)
    for (size_t c = 0; c < 3; ++c)
      EXPECT_NEAR(q.scales[r] * q.values[r * 3 + c], w[r * 3 + c], q.scales[r] * 0.5f * 1.0001f);
}

}  // namespace
}  // namespace simile::kernels
