// gemm_nt_small_m's AVX-512 version: the same tiles as the AVX2 one
// (small_gemm_tiles.h), 16 floats per instruction.
#include "model/kernels/small_gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#include "model/kernels/small_gemm_tiles.h"

namespace simile::kernels {
namespace {

struct Avx512Floats {
  using reg = __m512;
  static constexpr size_t kWidth = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg load_first(const float* p, size_t count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), p);
  }
  static reg fmadd(reg a, reg b, reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  static __m256 to256(reg v) { return _mm256_add_ps(_mm512_extractf32x8_ps(v, 0), _mm512_extractf32x8_ps(v, 1)); }
};

}  // namespace

namespace detail {

void gemm_nt_small_m_avx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                            const float* bias, float* c, size_t ldc) {
  small_m_product<Avx512Floats>(m, n, k, a, lda, b, ldb, bias, c, ldc);
}

}  // namespace detail
}  // namespace simile::kernels
#pragma GCC pop_options
