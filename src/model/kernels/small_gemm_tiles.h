// The tiles of gemm_nt_small_m (small_gemm.h), written once over a vector
// type V and compiled twice: in small_gemm.cc for AVX2 (8 floats) and in
// small_gemm_avx512.cc for AVX-512 (16 floats), each file under its own
// `#pragma GCC target`. Everything here has internal linkage (an anonymous
// namespace) on purpose: the two files' copies are different machine code
// and must never be merged by the linker.
//
// V provides: `reg`; `kWidth` floats per reg; zero(); load(p);
// load_first(p, count) (lanes past count zero); fmadd(a, b, acc);
// to256(reg), the partial sums folded to eight.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace simile::kernels {
namespace {

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four horizontal sums of a0..a3, in order.
inline __m128 hsum4x256(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// One MR x NR tile of C (NR = 4 or 1): MR x NR accumulators of V::kWidth
// partial sums each, reduced at the end. k's last values come through
// load_first (zeros past the end). When `next` is not null, the NR rows of
// B from there (the next column block's) are prefetched into L1 along the
// way: the B rows come from memory once per product, and the hardware
// prefetcher, seeing four short streams 4k bytes apart, does not get ahead
// of them.
template <class V, int MR, int NR>
__attribute__((always_inline)) inline void small_m_tile(const float* a, size_t lda, const float* b, size_t ldb,
                                                         size_t k, const float* bias, float* c, size_t ldc,
                                                         const float* next) {
  constexpr size_t W = V::kWidth;
  typename V::reg acc[MR][NR];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[r][j] = V::zero();
  size_t p = 0;
  for (; p + W <= k; p += W) {
    if (next != nullptr && p % 16 == 0) {  // one 64-byte line per 16 floats
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) _mm_prefetch(reinterpret_cast<const char*>(next + j * ldb + p), _MM_HINT_T0);
    }
    typename V::reg av[MR];
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) av[r] = V::load(a + r * lda + p);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      typename V::reg bv = V::load(b + j * ldb + p);
      // Keeps bv in a register: GCC would fold the load into each of the MR
      // multiply-adds, loading the B row MR times (15 loads per 12 FMAs,
      // which left the AVX-512 version slower than the AVX2 one).
      asm("" : "+v"(bv));
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) acc[r][j] = V::fmadd(av[r], bv, acc[r][j]);
    }
  }
  if (p < k) {
    typename V::reg av[MR];
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) av[r] = V::load_first(a + r * lda + p, k - p);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      const typename V::reg bv = V::load_first(b + j * ldb + p, k - p);
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) acc[r][j] = V::fmadd(av[r], bv, acc[r][j]);
    }
  }
  if constexpr (NR == 4) {
    const __m128 vb = bias != nullptr ? _mm_loadu_ps(bias) : _mm_setzero_ps();
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m128 sums = hsum4x256(V::to256(acc[r][0]), V::to256(acc[r][1]), V::to256(acc[r][2]), V::to256(acc[r][3]));
      _mm_storeu_ps(c + r * ldc, _mm_add_ps(sums, vb));
    }
  } else {
    const float sb = bias != nullptr ? *bias : 0.0f;
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) c[r * ldc] = hsum256(V::to256(acc[r][0])) + sb;
  }
}

// Rows [0, m) of the column block at b (NR columns), three rows at a time;
// a remainder of one row is avoided where it can be (4 = 2 + 2), since a lone
// row reuses nothing it loads. The first tile prefetches `next` (null:
// nothing).
template <class V, int NR>
void small_m_column_block(size_t m, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                          const float* bias, float* c, size_t ldc, const float* next) {
  const size_t by_three = m % 3 == 1 && m >= 4 ? m - 4 : m - m % 3;
  size_t i = 0;
  for (; i < by_three; i += 3, next = nullptr)
    small_m_tile<V, 3, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
  for (; i + 2 <= m; i += 2, next = nullptr)
    small_m_tile<V, 2, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
  if (i < m) small_m_tile<V, 1, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
}

template <class V>
void small_m_product(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     const float* bias, float* c, size_t ldc) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* next = j + 8 <= n ? b + (j + 4) * ldb : nullptr;
    small_m_column_block<V, 4>(m, k, a, lda, b + j * ldb, ldb, bias != nullptr ? bias + j : nullptr, c + j, ldc,
                               next);
  }
  for (; j < n; ++j)
    small_m_column_block<V, 1>(m, k, a, lda, b + j * ldb, ldb, bias != nullptr ? bias + j : nullptr, c + j, ldc,
                               nullptr);
}

}  // namespace
}  // namespace simile::kernels
