#include "model/kernels/small_gemm.h"

#include <immintrin.h>

#include <optional>

#include "model/kernels/convert.h"

namespace simile::kernels {

PanelWeights::PanelWeights(const float* b, size_t n, size_t k, size_t ldb) : n_(n), k_(k) {
  const size_t size = (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth * k;
  auto pack = [&](auto& data, auto convert) {
    data.assign(size, 0);
    for (size_t j = 0; j < n; ++j) {
      auto* column = data.data() + j / kPanelWidth * kPanelWidth * k + j % kPanelWidth;
      for (size_t p = 0; p < k; ++p) {
        const auto value = convert(b[j * ldb + p]);
        if (!value) return false;
        column[p * kPanelWidth] = *value;
      }
    }
    return true;
  };
  if (pack(halves_, f32_to_f16_exact)) return;
  halves_ = {};
  pack(floats_, [](float f) { return std::optional<float>(f); });
}

float PanelWeights::at(size_t col, size_t p) const {
  const size_t i = col / kPanelWidth * kPanelWidth * k_ + p * kPanelWidth + col % kPanelWidth;
  return half() ? f16_to_f32(halves_[i]) : floats_[i];
}

namespace {

void small_m_scalar(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                    const float* bias, float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float acc = 0;
      for (size_t p = 0; p < b.k(); ++p) acc += a[i * lda + p] * b.at(first + j, p);
      c[i * ldc + j] = bias != nullptr ? acc + bias[j] : acc;
    }
}

}  // namespace

}  // namespace simile::kernels

// clang ignores GCC's target pragmas: it takes the same features as an
// attribute applied to every function until the pop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
#include "model/kernels/small_gemm_tiles.h"

namespace simile::kernels {
namespace {

struct Avx2Floats {
  using reg = __m256;
  static constexpr size_t kWidth = 8;
  static constexpr size_t kMaxRows = 6;  // 6 x 2 accumulators of 16 registers
  static constexpr size_t kMaxPanels = 1;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg fmadd(reg a, reg b, reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
};

}  // namespace

namespace detail {

void gemm_nt_small_m_avx2(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                          const float* bias, float* c, size_t ldc) {
  small_m_product<Avx2Floats>(m, first, n, a, lda, b, bias, c, ldc);
}

}  // namespace detail
}  // namespace simile::kernels
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace simile::kernels {

void gemm_nt_small_m(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                     const float* bias, float* c, size_t ldc, Isa isa) {
  if (m == 0 || n == 0) return;
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) {
    if (avx512_allowed()) return detail::gemm_nt_small_m_avx512(m, first, n, a, lda, b, bias, c, ldc);
    return detail::gemm_nt_small_m_avx2(m, first, n, a, lda, b, bias, c, ldc);
  }
  small_m_scalar(m, first, n, a, lda, b, bias, c, ldc);
}

}  // namespace simile::kernels
