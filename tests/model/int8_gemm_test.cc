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
  for (Int8Kernel k : {Int8Kernel::kScalar, Int8Kernel::kAvx2, Int8Kernel::kAvx2Vnni})
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
    x[2 * k] = 40.0f;                                      // an outlier
    std::vector<uint8_t> q_scalar(rows * ldq, 0xff), q_avx2(rows * ldq, 0xee);
    std::vector<float> s_scalar(rows), s_avx2(rows);
    std::vector<int32_t> z_scalar(rows), z_avx2(rows);
    quantize_rows_u7(x.data(), rows, k, k, q_scalar.data(), ldq, s_scalar.data(), z_scalar.data(), Isa::kScalar);
    quantize_rows_u7(x.data(), rows, k, k, q_avx2.data(), ldq, s_avx2.data(), z_avx2.data(), Isa::kAvx2);
    ASSERT_EQ(q_scalar, q_avx2) << "k=" << k;
    ASSERT_EQ(s_scalar, s_avx2);
    ASSERT_EQ(z_scalar, z_avx2);
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < k; ++c) {
        ASSERT_LE(q_scalar[r * ldq + c], 127);
        const float back = s_scalar[r] * (static_cast<float>(q_scalar[r * ldq + c]) - z_scalar[r]);
        ASSERT_NEAR(back, x[r * k + c], s_scalar[r] * 0.5f + 1e-6f) << "row " << r << " col " << c;
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
      EXPECT_LT(std::sqrt(err / norm), 0.02) << "epilogue " << static_cast<int>(e) << ", " << threads << " threads";
    }
  }
  // Kernels: identical sums, so the dequantised outputs agree to float rounding.
  const PackedInt8Weights packed(q.values.data(), out, in, in, q.scales.data());
  const size_t ldq = int8_padded_k(in);
  std::vector<uint8_t> qa(rows * ldq);
  std::vector<float> sa(rows);
  std::vector<int32_t> za(rows);
  quantize_rows_u7(x.data(), rows, in, in, qa.data(), ldq, sa.data(), za.data(), Isa::kScalar);
  std::vector<float> ref(rows * out);
  WorkShare lone;
  linear_int8(lone, rows, qa.data(), ldq, sa.data(), za.data(), packed, bias.data(), Int8Epilogue::kBias, ref.data(),
              out, Int8Kernel::kScalar);
  for (Int8Kernel kernel : kernels_here()) {
    std::vector<float> y(rows * out);
    run_team(2, 1, [&](WorkShare& share) {
      linear_int8(share, rows, qa.data(), ldq, sa.data(), za.data(), packed, bias.data(), Int8Epilogue::kBias,
                  y.data(), out, kernel);
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
