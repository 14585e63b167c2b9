#include "model/kernels/small_gemm.h"

#include <immintrin.h>

namespace simile::kernels {

namespace {

void small_m_scalar(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                    const float* bias, float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float acc = 0;
      for (size_t p = 0; p < k; ++p) acc += a[i * lda + p] * b[j * ldb + p];
      c[i * ldc + j] = bias != nullptr ? acc + bias[j] : acc;
    }
}

}  // namespace

}  // namespace simile::kernels

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include "model/kernels/small_gemm_tiles.h"

namespace simile::kernels {
namespace {

struct Avx2Floats {
  using reg = __m256;
  static constexpr size_t kWidth = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg load_first(const float* p, size_t count) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes));
  }
  static reg fmadd(reg a, reg b, reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static __m256 to256(reg v) { return v; }
};

}  // namespace

namespace detail {

void gemm_nt_small_m_avx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                          const float* bias, float* c, size_t ldc) {
  small_m_product<Avx2Floats>(m, n, k, a, lda, b, ldb, bias, c, ldc);
}

}  // namespace detail
}  // namespace simile::kernels
#pragma GCC pop_options

namespace simile::kernels {

void gemm_nt_small_m(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     const float* bias, float* c, size_t ldc, Isa isa) {
  if (m == 0 || n == 0) return;
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) {
    if (avx512_allowed()) return detail::gemm_nt_small_m_avx512(m, n, k, a, lda, b, ldb, bias, c, ldc);
    return detail::gemm_nt_small_m_avx2(m, n, k, a, lda, b, ldb, bias, c, ldc);
  }
  small_m_scalar(m, n, k, a, lda, b, ldb, bias, c, ldc);
}

}  // namespace simile::kernels
