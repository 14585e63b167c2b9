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

#define SIMILE_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

SIMILE_AVX2 float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four horizontal sums of a0..a3, in order.
SIMILE_AVX2 __m128 hsum4x256(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Lanes [0, count) of the mask set, count in [0, 8).
SIMILE_AVX2 __m256i tail_mask(size_t count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
}

// One MR x NR tile of C (NR = 4 or 1): MR x NR accumulators of eight partial
// sums each, reduced at the end. k's last k % 8 values come through masked
// loads (zeros past the end). When `next` is not null, the NR rows of B from
// there (the next column block's) are prefetched into L1 along the way: the
// B rows come from memory once per product, and the hardware prefetcher,
// seeing four short streams 4k bytes apart, does not get ahead of them.
template <int MR, int NR>
SIMILE_AVX2 void tile(const float* a, size_t lda, const float* b, size_t ldb, size_t k, const float* bias, float* c,
                      size_t ldc, const float* next) {
  __m256 acc[MR][NR];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_setzero_ps();
  size_t p = 0;
  for (; p + 8 <= k; p += 8) {
    if (next != nullptr && p % 16 == 0) {
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) _mm_prefetch(reinterpret_cast<const char*>(next + j * ldb + p), _MM_HINT_T0);
    }
    __m256 av[MR];
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) av[r] = _mm256_loadu_ps(a + r * lda + p);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      const __m256 bv = _mm256_loadu_ps(b + j * ldb + p);
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) acc[r][j] = _mm256_fmadd_ps(av[r], bv, acc[r][j]);
    }
  }
  if (p < k) {
    const __m256i mask = tail_mask(k - p);
    __m256 av[MR];
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) av[r] = _mm256_maskload_ps(a + r * lda + p, mask);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      const __m256 bv = _mm256_maskload_ps(b + j * ldb + p, mask);
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) acc[r][j] = _mm256_fmadd_ps(av[r], bv, acc[r][j]);
    }
  }
  if constexpr (NR == 4) {
    const __m128 vb = bias != nullptr ? _mm_loadu_ps(bias) : _mm_setzero_ps();
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r)
      _mm_storeu_ps(c + r * ldc, _mm_add_ps(hsum4x256(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), vb));
  } else {
    const float sb = bias != nullptr ? *bias : 0.0f;
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) c[r * ldc] = hsum256(acc[r][0]) + sb;
  }
}

// Rows [0, m) of the column block at b (NR columns), three rows at a time;
// a remainder of one row is avoided where it can be (4 = 2 + 2), since a lone
// row reuses nothing it loads.
// The first tile prefetches `next` (null: nothing).
template <int NR>
__attribute__((target("avx2,fma"))) void column_block(size_t m, size_t k, const float* a, size_t lda, const float* b,
                                                      size_t ldb, const float* bias, float* c, size_t ldc,
                                                      const float* next) {
  const size_t by_three = m % 3 == 1 && m >= 4 ? m - 4 : m - m % 3;
  size_t i = 0;
  for (; i < by_three; i += 3, next = nullptr) tile<3, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
  for (; i + 2 <= m; i += 2, next = nullptr) tile<2, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
  if (i < m) tile<1, NR>(a + i * lda, lda, b, ldb, k, bias, c + i * ldc, ldc, next);
}

__attribute__((target("avx2,fma"))) void small_m_avx2(size_t m, size_t n, size_t k, const float* a, size_t lda,
                                                      const float* b, size_t ldb, const float* bias, float* c,
                                                      size_t ldc) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* next = j + 8 <= n ? b + (j + 4) * ldb : nullptr;
    column_block<4>(m, k, a, lda, b + j * ldb, ldb, bias != nullptr ? bias + j : nullptr, c + j, ldc, next);
  }
  for (; j < n; ++j)
    column_block<1>(m, k, a, lda, b + j * ldb, ldb, bias != nullptr ? bias + j : nullptr, c + j, ldc, nullptr);
}

}  // namespace

void gemm_nt_small_m(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     const float* bias, float* c, size_t ldc, Isa isa) {
  if (m == 0 || n == 0) return;
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return small_m_avx2(m, n, k, a, lda, b, ldb, bias, c, ldc);
  small_m_scalar(m, n, k, a, lda, b, ldb, bias, c, ldc);
}

}  // namespace simile::kernels
