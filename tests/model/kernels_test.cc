// Every fast kernel against its scalar reference on random inputs.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "model/kernels/attention.h"
#include "model/kernels/convert.h"
#include "model/kernels/cpu.h"
#include "model/kernels/elementwise.h"
#include "model/kernels/gemm.h"
#include "model/kernels/small_gemm.h"
#include "model/kernels/work_share.h"

namespace simile::kernels {
namespace {

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

#define SKIP_WITHOUT_AVX2() \
  if (!cpu_has_avx2_fma() || !cpu_has_f16c()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C"

// ---- dispatch ----------------------------------------------------------------

// SIMILE_ISA=scalar forces the reference kernels (tests/cli/bench_ann_cli_test.sh
// runs an exact search that way); the CPU's features decide otherwise.
TEST(Cpu, ChooseIsaHonoursTheOverrideAndTheCpu) {
  EXPECT_EQ(choose_isa(nullptr, true), Isa::kAvx2);
  EXPECT_EQ(choose_isa("scalar", true), Isa::kScalar);
  EXPECT_EQ(choose_isa("avx2", true), Isa::kAvx2);
  EXPECT_EQ(choose_isa("", true), Isa::kAvx2);
  EXPECT_EQ(choose_isa(nullptr, false), Isa::kScalar);
  EXPECT_EQ(choose_isa("avx2", false), Isa::kScalar);  // never a path the CPU cannot run
  EXPECT_EQ(best_isa(), choose_isa(std::getenv("SIMILE_ISA"), cpu_has_avx2_fma() && cpu_has_f16c()));
}

// ---- half precision --------------------------------------------------------

TEST(Convert, F16ScalarKnownValues) {
  EXPECT_EQ(f16_to_f32(uint16_t{0x3C00}), 1.0f);
  EXPECT_EQ(f16_to_f32(uint16_t{0xC000}), -2.0f);
  EXPECT_EQ(f16_to_f32(uint16_t{0x7BFF}), 65504.0f);
  EXPECT_EQ(f16_to_f32(uint16_t{0x0400}), 0x1p-14f);    // smallest normal
  EXPECT_EQ(f16_to_f32(uint16_t{0x03FF}), 0x3FFp-24f);  // largest subnormal
  EXPECT_EQ(f16_to_f32(uint16_t{0x0001}), 0x1p-24f);    // smallest subnormal
  EXPECT_EQ(f16_to_f32(uint16_t{0x8001}), -0x1p-24f);
  EXPECT_EQ(bits(f16_to_f32(uint16_t{0x8000})), 0x80000000u);  // -0
  EXPECT_EQ(f16_to_f32(uint16_t{0x7C00}), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(uint16_t{0xFC00}), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(uint16_t{0x7E00})));
  EXPECT_TRUE(std::isnan(f16_to_f32(uint16_t{0x7C01})));  // signalling NaN stays NaN
  EXPECT_EQ(bf16_to_f32(uint16_t{0x3F80}), 1.0f);
  EXPECT_EQ(bf16_to_f32(uint16_t{0xFF80}), -std::numeric_limits<float>::infinity());
}

TEST(Convert, F16SimdMatchesScalarOnEveryValue) {
  SKIP_WITHOUT_AVX2();
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> simd(all.size()), scalar(all.size());
  f16_to_f32(all.data(), simd.data(), all.size(), Isa::kAvx2);
  f16_to_f32(all.data(), scalar.data(), all.size(), Isa::kScalar);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(bits(simd[i]), bits(scalar[i])) << "half 0x" << std::hex << i;
}

TEST(Convert, Bf16SimdMatchesScalarOnEveryValue) {
  SKIP_WITHOUT_AVX2();
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> simd(all.size()), scalar(all.size());
  bf16_to_f32(all.data(), simd.data(), all.size(), Isa::kAvx2);
  bf16_to_f32(all.data(), scalar.data(), all.size(), Isa::kScalar);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(bits(simd[i]), bits(scalar[i])) << "bf16 0x" << std::hex << i;
    ASSERT_EQ(bits(scalar[i]), static_cast<uint32_t>(i) << 16);
  }
}

TEST(Convert, F32ToF16ExactInvertsEveryHalfAndRefusesTheRest) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_FALSE(f32_to_f16_exact(f).has_value());
      continue;
    }
    const auto back = f32_to_f16_exact(f);
    ASSERT_TRUE(back.has_value()) << h;
    ASSERT_EQ(*back, h);
  }
  // One bit of mantissa too many, above the range, below the smallest
  // subnormal, between two subnormals.
  for (float f : {1.0f + 1.0f / 2048, 65536.0f, 1e-8f, 3.0f * 5.9604645e-8f / 2, 0.1f})
    EXPECT_FALSE(f32_to_f16_exact(f).has_value()) << f;
  EXPECT_EQ(f32_to_f16_exact(65504.0f), uint16_t{0x7bff});       // the largest half
  EXPECT_EQ(f32_to_f16_exact(5.9604645e-8f), uint16_t{0x0001});  // the smallest
}

TEST(Convert, RandomArraysOfEveryTailLength) {
  SKIP_WITHOUT_AVX2();
  std::mt19937 rng(3);
  for (size_t n = 0; n < 70; ++n) {
    // Unaligned start: offset 1 into the buffer.
    std::vector<uint16_t> src(n + 1);
    for (auto& h : src) h = static_cast<uint16_t>(rng());
    std::vector<float> a(n + 1, -7.0f), b(n + 1, -7.0f);
    f16_to_f32(src.data() + 1, a.data(), n, Isa::kAvx2);
    f16_to_f32(src.data() + 1, b.data(), n, Isa::kScalar);
    for (size_t i = 0; i < n + 1; ++i) ASSERT_EQ(bits(a[i]), bits(b[i])) << "n=" << n << " i=" << i;
    bf16_to_f32(src.data() + 1, a.data(), n, Isa::kAvx2);
    bf16_to_f32(src.data() + 1, b.data(), n, Isa::kScalar);
    for (size_t i = 0; i < n + 1; ++i) ASSERT_EQ(bits(a[i]), bits(b[i])) << "n=" << n << " i=" << i;
  }
}

// ---- exp and GELU ----------------------------------------------------------

TEST(Elementwise, ExpMatchesStdExp) {
  SKIP_WITHOUT_AVX2();
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f, -0.5f, 88.0f}) x.push_back(v);
  std::vector<float> y = x;
  exp_inplace(y.data(), y.size(), Isa::kAvx2);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(y[i] - ref) / ref);
  }
  EXPECT_LT(worst, 2.5e-7);
  // Below the normal range: exactly 0 (softmax weights of masked keys).
  std::vector<float> tiny = {-88.0f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()};
  exp_inplace(tiny.data(), tiny.size(), Isa::kAvx2);
  for (float v : tiny) EXPECT_EQ(v, 0.0f);
}

TEST(Elementwise, GeluMatchesExactErf) {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.00731f) x.push_back(v);
  auto r = random_floats(5000, 11, -6, 6);
  x.insert(x.end(), r.begin(), r.end());
  for (float v : {0.0f, -0.0f, 1e-20f, -1e-20f, 0.70710677f, -0.70710677f, 0.7071068f, 1.4142135f, -1.4142135f, 13.43f,
                  -13.43f, 100.0f, -100.0f, 1e4f, -1e4f})
    x.push_back(v);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
    if (isa == Isa::kAvx2 && !cpu_has_avx2_fma()) continue;
    std::vector<float> y = x;
    bias_gelu(y.data(), 1, y.size(), y.size(), nullptr, isa);
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double xd = x[i];
      const double ref = 0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0)));
      const double err = std::abs(y[i] - ref) / std::max(1.0, std::abs(xd));
      worst = std::max(worst, err);
      ASSERT_LT(err, 3e-7) << isa_name(isa) << " x=" << x[i] << " got " << y[i] << " want " << ref;
    }
    EXPECT_LT(worst, 3e-7) << isa_name(isa);
  }
}

TEST(Elementwise, BiasGeluSimdMatchesScalarWithTails) {
  SKIP_WITHOUT_AVX2();
  for (size_t cols : {1u, 7u, 8u, 13u, 384u}) {
    auto x = random_floats(3 * (cols + 2), 5, -4, 4);
    auto bias = random_floats(cols, 6);
    auto a = x, b = x;
    bias_gelu(a.data(), 3, cols, cols + 2, bias.data(), Isa::kAvx2);
    bias_gelu(b.data(), 3, cols, cols + 2, bias.data(), Isa::kScalar);
    for (size_t i = 0; i < x.size(); ++i) {
      if (i % (cols + 2) >= cols) {
        EXPECT_EQ(a[i], x[i]) << "wrote past the row";
        continue;
      }
      EXPECT_NEAR(a[i], b[i], 1e-6) << cols << " " << i;
    }
  }
}

TEST(Elementwise, LayerNormSimdMatchesScalar) {
  SKIP_WITHOUT_AVX2();
  for (size_t cols : {5u, 8u, 13u, 384u}) {
    const size_t rows = 4;
    auto x = random_floats(rows * cols, 1, -3, 3);
    for (size_t i = 0; i < x.size(); ++i) x[i] += 10.0f;  // a large mean: two-pass variance matters
    auto res = random_floats(rows * cols, 2);
    auto bias = random_floats(cols, 3);
    auto gamma = random_floats(cols, 4, 0.5, 1.5);
    auto beta = random_floats(cols, 5);
    auto a = x, b = x;
    bias_residual_layer_norm(a.data(), res.data(), bias.data(), gamma.data(), beta.data(), rows, cols, 1e-12f,
                             Isa::kAvx2);
    bias_residual_layer_norm(b.data(), res.data(), bias.data(), gamma.data(), beta.data(), rows, cols, 1e-12f,
                             Isa::kScalar);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(a[i], b[i], 2e-5) << cols << " " << i;
    // The scalar reference is what LayerNorm means: zero mean, unit variance before gamma/beta.
    std::vector<float> plain = x;
    std::vector<float> ones(cols, 1.0f), zeros(cols, 0.0f);
    bias_residual_layer_norm(plain.data(), nullptr, nullptr, ones.data(), zeros.data(), rows, cols, 0.0f, Isa::kScalar);
    double mean = 0, sq = 0;
    for (size_t c = 0; c < cols; ++c) mean += plain[c];
    for (size_t c = 0; c < cols; ++c) sq += plain[c] * plain[c];
    EXPECT_NEAR(mean / cols, 0.0, 1e-6);
    EXPECT_NEAR(sq / cols, 1.0, 1e-5);
  }
}

TEST(Elementwise, SiluMulMatchesTheFormula) {
  auto gate = random_floats(3 * 21, 7, -12, 12);
  for (float v : {0.0f, -0.0f, 100.0f, -100.0f, 1e-20f}) gate.push_back(v);
  while (gate.size() % 21 != 0) gate.push_back(0.5f);
  const size_t rows = gate.size() / 21, cols = 19, ld = 21;  // two columns past each row stay untouched
  auto up = random_floats(gate.size(), 8, -2, 2);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
    if (isa == Isa::kAvx2 && !cpu_has_avx2_fma()) continue;
    auto g = gate;
    silu_mul(g.data(), up.data(), rows, cols, ld, isa);
    for (size_t i = 0; i < g.size(); ++i) {
      if (i % ld >= cols) {
        EXPECT_EQ(g[i], gate[i]) << "wrote past the row";
        continue;
      }
      const double x = gate[i];
      const double ref = x / (1.0 + std::exp(-x)) * up[i];
      EXPECT_NEAR(g[i], ref, 1e-6 * std::max(1.0, std::abs(ref))) << isa_name(isa) << " x=" << x;
    }
  }
}

TEST(Elementwise, RmsNormSimdMatchesScalarAndTheDefinition) {
  for (size_t cols : {5u, 8u, 16u, 13u, 384u}) {
    const size_t rows = 3;
    auto x = random_floats(rows * cols, 1, -3, 3);
    auto delta = random_floats(rows * cols, 2);
    auto gamma = random_floats(cols, 4, 0.5, 1.5);
    std::vector<std::vector<float>> outs;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
      if (isa == Isa::kAvx2 && !cpu_has_avx2_fma()) continue;
      auto xs = x;
      std::vector<float> out(rows * cols);
      residual_rms_norm(xs.data(), delta.data(), out.data(), gamma.data(), rows, cols, 1e-6f, isa);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(xs[i], x[i] + delta[i]) << "the residual stream is x + delta";
      for (size_t r = 0; r < rows; ++r) {
        double sq = 0;
        for (size_t c = 0; c < cols; ++c) sq += double(xs[r * cols + c]) * xs[r * cols + c];
        const double rstd = 1.0 / std::sqrt(sq / cols + 1e-6);
        for (size_t c = 0; c < cols; ++c)
          EXPECT_NEAR(out[r * cols + c], xs[r * cols + c] * rstd * gamma[c], 2e-6) << isa_name(isa);
      }
      // In place, and with the output in delta's rows, gives the same.
      auto in_place = x;
      residual_rms_norm(in_place.data(), delta.data(), in_place.data(), gamma.data(), rows, cols, 1e-6f, isa);
      EXPECT_EQ(in_place, out);
      auto x2 = x, d2 = delta;
      residual_rms_norm(x2.data(), d2.data(), d2.data(), gamma.data(), rows, cols, 1e-6f, isa);
      EXPECT_EQ(d2, out);
      outs.push_back(out);
    }
    for (size_t i = 1; i < outs.size(); ++i)
      for (size_t j = 0; j < outs[0].size(); ++j) EXPECT_NEAR(outs[i][j], outs[0][j], 2e-6) << cols;
  }
}

// ---- attention --------------------------------------------------------------

// Isa::kAvx2 runs the AVX-512 kernel where avx512_allowed() and head_dim is
// a multiple of 16 (16, 32, 48, 64 here); the ctest kernels_capped_at_avx2
// runs these tests again with SIMILE_ISA=avx2 for the AVX2 kernel. The n
// cover every tail of the 8-query passes and of the 16- and 32-key blocks.
TEST(Attention, SimdMatchesScalar) {
  SKIP_WITHOUT_AVX2();
  for (size_t d : {8u, 16u, 32u, 48u, 64u, 24u}) {
    for (size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 15u, 31u, 33u, 100u, 250u}) {
      const size_t ld = 3 * d + 5;  // strided rows, as in the fused QKV matrix
      auto qkv = random_floats(n * ld, static_cast<uint32_t>(n * 100 + d), -2, 2);
      auto bias_values = random_floats(n * n, static_cast<uint32_t>(n + d), -2, 2);
      for (ScoreBias bias : {ScoreBias{}, ScoreBias{bias_values.data(), static_cast<std::ptrdiff_t>(n)}}) {
        std::vector<float> a(n * (d + 3), 9.0f), b(n * (d + 3), 9.0f);
        std::vector<float> scratch(attention_scratch_floats(n, d));
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        attention_head(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld, a.data(), d + 3, n, d, scale, bias,
                       scratch.data(), Isa::kAvx2);
        attention_head(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld, b.data(), d + 3, n, d, scale, bias,
                       scratch.data(), Isa::kScalar);
        for (size_t i = 0; i < a.size(); ++i)
          ASSERT_NEAR(a[i], b[i], 2e-6) << "d=" << d << " n=" << n << " i=" << i
                                        << " bias=" << (bias.values != nullptr);
      }
    }
  }
}

// softmax_j(scale * q[i] . k[j] + bias[i][j]) . v in double, for n queries
// and keys (bias: n x n, row-major): the reference of the attention kernels.
std::vector<float> biased_attention_reference(const std::vector<float>& q, const std::vector<float>& k,
                                              const std::vector<float>& v, const std::vector<float>& bias, size_t n,
                                              size_t d, float scale) {
  std::vector<float> out(n * d);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> p(n);
    double mx = -1e300, sum = 0;
    for (size_t j = 0; j < n; ++j) {
      double s = 0;
      for (size_t c = 0; c < d; ++c) s += double(q[i * d + c]) * k[j * d + c];
      p[j] = s * scale + bias[i * n + j];
      mx = std::max(mx, p[j]);
    }
    for (auto& x : p) sum += (x = std::exp(x - mx));
    for (size_t c = 0; c < d; ++c) {
      double acc = 0;
      for (size_t j = 0; j < n; ++j) acc += p[j] / sum * v[j * d + c];
      out[i * d + c] = static_cast<float>(acc);
    }
  }
  return out;
}

TEST(Attention, EqualsPaddedBatchWithAdditiveKeyMask) {
  // What the packed layout replaces: n real tokens padded to L with garbage
  // keys masked by adding the most negative float, as PyTorch BERT does.
  const size_t n = 5, L = 9, d = 16;
  auto q = random_floats(L * d, 1), k = random_floats(L * d, 2), v = random_floats(L * d, 3);
  const float scale = 0.25f;
  std::vector<float> mask(L * L, 0.0f);
  for (size_t i = 0; i < L; ++i)
    for (size_t j = n; j < L; ++j) mask[i * L + j] = std::numeric_limits<float>::lowest();
  const std::vector<float> padded = biased_attention_reference(q, k, v, mask, L, d, scale);
  for (Isa isa : {Isa::kScalar, best_isa()}) {
    std::vector<float> out(n * d), scratch(attention_scratch_floats(n, d));
    attention_head(q.data(), k.data(), v.data(), d, out.data(), d, n, d, scale, scratch.data(), isa);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], padded[i], 1e-6) << isa_name(isa);
  }
}

TEST(Attention, AddsADenseScoreBias) {
  for (size_t n : {1u, 2u, 7u, 9u, 33u}) {
    const size_t d = 16;
    auto q = random_floats(n * d, 11), k = random_floats(n * d, 12), v = random_floats(n * d, 13);
    auto bias = random_floats(n * n, 14, -3, 3);
    const auto expected = biased_attention_reference(q, k, v, bias, n, d, 0.25f);
    for (Isa isa : {Isa::kScalar, best_isa()}) {
      std::vector<float> out(n * d), scratch(attention_scratch_floats(n, d));
      attention_head(q.data(), k.data(), v.data(), d, out.data(), d, n, d, 0.25f,
                     ScoreBias{bias.data(), static_cast<std::ptrdiff_t>(n)}, scratch.data(), isa);
      for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected[i], 1e-6) << isa_name(isa) << " n=" << n;
    }
  }
}

TEST(Attention, CausalSimdMatchesScalar) {
  SKIP_WITHOUT_AVX2();
  for (size_t window : {0u, 1u, 5u, 16u}) {
    for (size_t d : {8u, 16u, 32u, 64u}) {
      for (size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 17u, 40u, 77u}) {
        const size_t ld = 3 * d + 5;
        auto qkv = random_floats(n * ld, static_cast<uint32_t>(n * 100 + d + window), -2, 2);
        std::vector<float> a(n * d, 9.0f), b(n * d, 9.0f);
        std::vector<float> scratch(attention_scratch_floats(n, d));
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        attention_head_causal(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld, a.data(), d, n, d, scale, window,
                              scratch.data(), Isa::kAvx2);
        attention_head_causal(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld, b.data(), d, n, d, scale, window,
                              scratch.data(), Isa::kScalar);
        for (size_t i = 0; i < a.size(); ++i)
          ASSERT_NEAR(a[i], b[i], 2e-6) << "window=" << window << " d=" << d << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(Attention, ReadsABandBiasWithNegativeStride) {
  // A bias that depends only on j - i, stored once per distance, as MPNet's
  // relative positions are: band[(n - 1) + (j - i)], rows at stride -1.
  const size_t n = 19, d = 8;
  auto q = random_floats(n * d, 21), k = random_floats(n * d, 22), v = random_floats(n * d, 23);
  auto band = random_floats(2 * n - 1, 24, -3, 3);
  std::vector<float> dense(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) dense[i * n + j] = band[n - 1 + j - i];
  const auto expected = biased_attention_reference(q, k, v, dense, n, d, 0.5f);
  for (Isa isa : {Isa::kScalar, best_isa()}) {
    std::vector<float> out(n * d), scratch(attention_scratch_floats(n, d));
    attention_head(q.data(), k.data(), v.data(), d, out.data(), d, n, d, 0.5f, ScoreBias{band.data() + (n - 1), -1},
                   scratch.data(), isa);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected[i], 1e-6) << isa_name(isa);
  }
}

TEST(Attention, CausalRowIsFullAttentionOverItsKeys) {
  // Row i of causal attention with window w is bidirectional attention over
  // tokens [max(0, i - w + 1), i] alone, read at its last row.
  const size_t n = 13, d = 16, ld = 3 * d;
  auto qkv = random_floats(n * ld, 42, -2, 2);
  const float scale = 0.25f;
  for (size_t window : {0u, 4u}) {
    for (Isa isa : {Isa::kScalar, best_isa()}) {
      std::vector<float> causal(n * d), scratch(attention_scratch_floats(n, d));
      attention_head_causal(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, ld, causal.data(), d, n, d, scale, window,
                            scratch.data(), isa);
      for (size_t i = 0; i < n; ++i) {
        const size_t first = window > 0 && i + 1 > window ? i + 1 - window : 0, len = i + 1 - first;
        std::vector<float> full(len * d);
        const float* base = qkv.data() + first * ld;
        attention_head(base, base + d, base + 2 * d, ld, full.data(), d, len, d, scale, scratch.data(), isa);
        for (size_t c = 0; c < d; ++c)
          EXPECT_NEAR(causal[i * d + c], full[(len - 1) * d + c], 1e-6) << "window " << window << " row " << i;
      }
    }
  }
}

// ---- GEMM --------------------------------------------------------------------

TEST(Gemm, EveryBackendMatchesTheReference) {
  struct Case {
    size_t m, n, k, lda, ldb, ldc;
  };
  const Case cases[] = {{1, 1, 1, 1, 1, 1},
                        {14, 1152, 384, 384, 384, 1152},
                        {3, 5, 7, 9, 8, 6},
                        {65, 33, 17, 17, 20, 40},
                        {48, 384, 1536, 1536, 1536, 384}};
  for (GemmBackend backend : gemm_backends()) {
    for (const Case& c : cases) {
      auto a = random_floats(c.m * c.lda, 1), b = random_floats(c.n * c.ldb, 2);
      std::vector<float> got(c.m * c.ldc, 42.0f), want(c.m * c.ldc, 42.0f);
      gemm_nt(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, got.data(), c.ldc, backend);
      gemm_nt(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, want.data(), c.ldc, GemmBackend::kReference);
      for (size_t i = 0; i < c.m; ++i)
        for (size_t j = 0; j < c.ldc; ++j) {
          const float g = got[i * c.ldc + j], w = want[i * c.ldc + j];
          if (j >= c.n) {
            ASSERT_EQ(g, 42.0f) << gemm_backend_name(backend) << " wrote outside C";
            continue;
          }
          ASSERT_NEAR(g, w, 1e-5 * std::sqrt(double(c.k)) * (1 + std::abs(w)))
              << gemm_backend_name(backend) << " m=" << c.m << " n=" << c.n << " k=" << c.k;
        }
    }
  }
}

TEST(Gemm, ComputeThreadsBoundsAndRestoresThreadCounts) {
  const int before = omp_get_max_threads();
  {
    ComputeThreads one(1);
    EXPECT_EQ(one.threads(), 1);
    EXPECT_EQ(omp_get_max_threads(), 1);
    int seen = 0;
#pragma omp parallel
    {
#pragma omp single
      seen = omp_get_num_threads();
    }
    EXPECT_EQ(seen, 1);
  }
  EXPECT_EQ(omp_get_max_threads(), before);
  ComputeThreads all(0);
  EXPECT_EQ(all.threads(), default_thread_count());
}

// C = A * B^T (+ bias) in double, the yardstick of the small-m tests.
std::vector<double> product_in_double(size_t m, size_t n, size_t k, const std::vector<float>& a, size_t lda,
                                      const std::vector<float>& b, size_t ldb, const float* bias) {
  std::vector<double> c(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double acc = bias != nullptr ? bias[j] : 0.0;
      for (size_t p = 0; p < k; ++p) acc += double(a[i * lda + p]) * b[j * ldb + p];
      c[i * n + j] = acc;
    }
  return c;
}

TEST(SmallGemm, EveryIsaMatchesTheReferenceOnOddShapes) {
  // m covers every tail of the 8- and 6-row tiles; n every tail of the
  // 16-column panels; `first` a column range starting past panel 0; B in
  // float panels and in binary16 ones (chosen when B fits exactly).
  const size_t ks[] = {1, 7, 8, 9, 15, 16, 17, 31, 387};
  const size_t ns[] = {1, 3, 5, 13, 16, 18, 32, 33, 50};
  using Product =
      void (*)(size_t, size_t, size_t, const float*, size_t, const PanelWeights&, const float*, float*, size_t);
  const Product scalar = [](size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                            const float* bias, float* c,
                            size_t ldc) { gemm_nt_small_m(m, first, n, a, lda, b, bias, c, ldc, Isa::kScalar); };
  std::vector<std::pair<const char*, Product>> versions = {{"scalar", scalar}};
  if (cpu_has_avx2_fma()) versions.push_back({"avx2", detail::gemm_nt_small_m_avx2});
  if (avx512_allowed()) versions.push_back({"avx512", detail::gemm_nt_small_m_avx512});
  for (const auto& [name, product] : versions)
    for (bool half : {false, true})
      for (size_t m = 1; m <= 19; ++m)
        for (size_t k : ks)
          for (size_t n : ns)
            for (size_t first : {size_t{0}, size_t{16}}) {
              if (first >= n) continue;
              // Leading dimensions past the used width: the kernel must neither
              // read them into a sum nor write them.
              const size_t lda = k + 3, ldb = k + 5, cols = n - first, ldc = cols + 2;
              auto a = random_floats(m * lda, uint32_t(m * 1000 + k)), b = random_floats(n * ldb, uint32_t(n * 7 + k));
              if (half) {  // values a binary16 holds exactly, as weights loaded from F16 tensors
                for (float& x : b) x = f16_to_f32(*f32_to_f16_exact(std::round(x * 1024) / 1024));
              }
              const PanelWeights panels(b.data(), n, k, ldb);
              ASSERT_EQ(panels.half(), half);
              auto bias = random_floats(n, 3);
              for (const float* bi : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
                std::vector<float> c(m * ldc, 42.0f);
                product(m, first, cols, a.data(), lda, panels, bi != nullptr ? bi + first : nullptr, c.data(), ldc);
                const std::vector<double> want = product_in_double(m, n, k, a, lda, b, ldb, bi);
                for (size_t i = 0; i < m; ++i)
                  for (size_t j = 0; j < ldc; ++j) {
                    if (j >= cols) {
                      ASSERT_EQ(c[i * ldc + j], 42.0f) << "wrote outside C";
                      continue;
                    }
                    ASSERT_NEAR(c[i * ldc + j], want[i * n + first + j], 1e-6 * double(k) + 1e-6)
                        << name << (half ? " binary16" : " fp32") << " m=" << m << " n=" << n << " first=" << first
                        << " k=" << k << " bias " << (bi != nullptr);
                  }
              }
            }
}

TEST(WorkShare, EveryBlockRunsOnceAndIsDoneWhenTheStepReturns) {
  for (int threads : {1, 2, 3}) {
    const size_t n = 1000, steps = 20;
    std::vector<std::atomic<int>> runs(n * steps);
    std::vector<int> complete(static_cast<size_t>(threads) * steps, 0);
    run_team(threads, steps, [&](WorkShare& share) {
      for (size_t step = 0; step < steps; ++step) {
        const size_t block = 1 + step % 7;
        share.for_blocks(n, block, [&](size_t first, size_t last) {
          EXPECT_TRUE(first % block == 0 && last <= n && first < last);
          for (size_t i = first; i < last; ++i) runs[step * n + i].fetch_add(1);
        });
        // Every block of this step, whoever ran it, is visible now.
        int seen = 0;
        for (size_t i = 0; i < n; ++i) seen += runs[step * n + i].load() == 1;
        complete[static_cast<size_t>(share.index()) * steps + step] = seen == static_cast<int>(n);
      }
    });
    for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << threads << " threads";
    for (int c : complete) EXPECT_EQ(c, 1) << threads << " threads";
  }
}

// A team splitting one product among its threads computes what one thread
// computes, with both epilogues, on the small-m kernel (m <= kSmallGemmMaxRows)
// and on the BLAS (above it).
TEST(Gemm, TeamProductWithBiasMatchesTheReference) {
  struct Case {
    size_t m, n, k;
  };
  const Case cases[] = {{1, 40, 9}, {13, 1152, 384}, {33, 50, 17}, {kSmallGemmMaxRows + 6, 70, 33}};
  for (GemmBackend backend : gemm_backends()) {
    for (const Case& c : cases)
      for (Epilogue epilogue : {Epilogue::kBias, Epilogue::kBiasGelu})
        for (int threads : {1, 2}) {
          auto a = random_floats(c.m * c.k, 1), b = random_floats(c.n * c.k, 2), bias = random_floats(c.n, 3);
          const PanelWeights panels(b.data(), c.n, c.k, c.k);
          std::vector<float> got(c.m * c.n, 42.0f);
          run_team(threads, 1, [&](WorkShare& share) {
            gemm_nt_bias(share, c.m, c.n, c.k, a.data(), c.k, b.data(), c.k, &panels, bias.data(), got.data(), c.n,
                         epilogue, backend);
          });
          const std::vector<double> want = product_in_double(c.m, c.n, c.k, a, c.k, b, c.k, bias.data());
          for (size_t i = 0; i < c.m * c.n; ++i) {
            const double w =
                epilogue == Epilogue::kBiasGelu ? 0.5 * want[i] * (1 + std::erf(want[i] / std::sqrt(2.0))) : want[i];
            ASSERT_NEAR(got[i], w, 1e-5 * std::sqrt(double(c.k)) * (1 + std::abs(w)))
                << gemm_backend_name(backend) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " threads " << threads
                << " entry " << i;
          }
        }
  }
}

}  // namespace
}  // namespace simile::kernels
