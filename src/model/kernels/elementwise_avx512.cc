// The AVX-512 versions of exp_inplace and bias_gelu (elementwise.h): the
// AVX2 arithmetic on 16 floats, the tail under a mask.
#include "model/kernels/elementwise.h"

// clang ignores GCC's target pragmas: it takes the same features as an
// attribute applied to every function until the pop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#endif
#include "model/kernels/avx512_math.h"

namespace simile::kernels::detail {

namespace {
__mmask16 first_lanes(size_t count) { return static_cast<__mmask16>((1u << count) - 1); }
}  // namespace

void exp_avx512(float* x, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, exp512(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(x + i, m, exp512(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

void bias_gelu_avx512(float* x, size_t rows, size_t cols, size_t ld, const float* bias) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    for (size_t c = 0; c < cols; c += 16) {
      const __mmask16 m = cols - c >= 16 ? static_cast<__mmask16>(0xffff) : first_lanes(cols - c);
      __m512 v = _mm512_maskz_loadu_ps(m, row + c);
      if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
      _mm512_mask_storeu_ps(row + c, m, gelu512(v));
    }
  }
}

}  // namespace simile::kernels::detail
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
