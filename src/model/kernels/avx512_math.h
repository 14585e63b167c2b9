// exp and GELU on 16 floats: the AVX2 versions' arithmetic (poly_coefficients.h)
// at twice the width. Include only inside `#pragma GCC target("avx512f,...")`:
// the functions are compiled for the including file's target, and have
// internal linkage so that no other file's copy can replace them.
#pragma once

#include <cstddef>

#include "model/kernels/avx512_intrinsics.h"
#include "model/kernels/poly_coefficients.h"

namespace simile::kernels {
namespace {

template <size_t N>
inline __m512 horner512(const float (&coefficients)[N], __m512 x) {
  __m512 p = _mm512_set1_ps(coefficients[0]);
#pragma GCC unroll 8
  for (size_t i = 1; i < N; ++i) p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(coefficients[i]));
  return p;
}

inline __m512 exp512(__m512 x) {
  const __m512 lo = _mm512_set1_ps(poly::kExpMin);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);  // the rest underflows to 0 (and -inf, NaN)
  x = _mm512_min_ps(_mm512_max_ps(x, lo), _mm512_set1_ps(poly::kExpMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(poly::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(poly::kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(poly::kLn2Lo), r);
  const __m512 p = horner512(poly::kExpTaylor, r);
  const __m512i pow2n = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(pow2n));
}

inline __m512 gelu512(__m512 x) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(poly::kInvSqrt2));
  const __mmask16 negative = _mm512_movepi32_mask(_mm512_castps_si512(x));  // the sign bit, as blendv reads it

  const __m512 p = horner512(poly::kErfSmall, _mm512_mul_ps(z, z));
  const __m512 half_erf = _mm512_mul_ps(_mm512_mul_ps(z, p), _mm512_set1_ps(0.5f));
  // 0.5 + copysign(half_erf, x)
  const __m512 phi_small =
      _mm512_add_ps(_mm512_set1_ps(0.5f), _mm512_mask_sub_ps(half_erf, negative, _mm512_setzero_ps(), half_erf));

  const __m512 zc = _mm512_min_ps(z, _mm512_set1_ps(poly::kErfcMaxZ));
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(zc, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
  const __m512 q = horner512(poly::kErfcLarge, t);
  const __m512 neg_zz = _mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(zc, zc));
  const __m512 half_erfc = _mm512_mul_ps(_mm512_mul_ps(exp512(neg_zz), q), _mm512_set1_ps(0.5f));
  // x >= 0: 1 - erfc/2; x < 0: erfc/2.
  const __m512 phi_large = _mm512_mask_blend_ps(negative, _mm512_sub_ps(_mm512_set1_ps(1.0f), half_erfc), half_erfc);

  const __mmask16 large = _mm512_cmp_ps_mask(z, _mm512_set1_ps(1.0f), _CMP_GE_OQ);
  return _mm512_mul_ps(x, _mm512_mask_blend_ps(large, phi_small, phi_large));
}

}  // namespace
}  // namespace simile::kernels
