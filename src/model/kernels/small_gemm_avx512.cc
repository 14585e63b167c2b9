// gemm_nt_small_m's AVX-512 version: the same tiles as the AVX2 one
// (small_gemm_tiles.h), 16 floats per instruction and two panels per tile.
#include "model/kernels/small_gemm.h"

// clang ignores GCC's target pragmas: it takes the same features as an
// attribute applied to every function until the pop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c")
#endif
#include "model/kernels/avx512_intrinsics.h"
#include "model/kernels/small_gemm_tiles.h"

namespace simile::kernels {
namespace {

struct Avx512Floats {
  using reg = __m512;
  static constexpr size_t kWidth = 16;
  static constexpr size_t kMaxRows = 8;  // 8 x 2 accumulators of 32 registers
  static constexpr size_t kMaxPanels = 2;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg fmadd(reg a, reg b, reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
};

}  // namespace

namespace detail {

void gemm_nt_small_m_avx512(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                            const float* bias, float* c, size_t ldc) {
  small_m_product<Avx512Floats>(m, first, n, a, lda, b, bias, c, ldc);
}

}  // namespace detail
}  // namespace simile::kernels
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
