#include "model/kernels/elementwise.h"

#include <immintrin.h>

#include <cmath>

#include "model/kernels/poly_coefficients.h"

namespace simile::kernels {

namespace {

using poly::kInvSqrt2;

// ---- AVX2 exp and GELU (poly_coefficients.h) ---------------------------------
#define SIMILE_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// p(x) by Horner's rule, coefficients highest degree first.
template <size_t N>
SIMILE_AVX2 __m256 horner256(const float (&coefficients)[N], __m256 x) {
  __m256 p = _mm256_set1_ps(coefficients[0]);
#pragma GCC unroll 8
  for (size_t i = 1; i < N; ++i) p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(coefficients[i]));
  return p;
}

SIMILE_AVX2 __m256 exp256(__m256 x) {
  const __m256 lo = _mm256_set1_ps(poly::kExpMin);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(poly::kExpMax));
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(poly::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(poly::kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(poly::kLn2Lo), r);
  const __m256 p = horner256(poly::kExpTaylor, r);
  const __m256i pow2n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(pow2n)));
}

SIMILE_AVX2 __m256 gelu256(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(sign_bit, x), _mm256_set1_ps(kInvSqrt2));

  const __m256 p = horner256(poly::kErfSmall, _mm256_mul_ps(z, z));
  const __m256 half_erf = _mm256_mul_ps(_mm256_mul_ps(z, p), _mm256_set1_ps(0.5f));
  // 0.5 + copysign(half_erf, x)
  const __m256 phi_small = _mm256_add_ps(_mm256_set1_ps(0.5f), _mm256_or_ps(half_erf, _mm256_and_ps(sign_bit, x)));

  const __m256 zc = _mm256_min_ps(z, _mm256_set1_ps(poly::kErfcMaxZ));
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(zc, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
  const __m256 q = horner256(poly::kErfcLarge, t);
  const __m256 neg_zz = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(zc, zc));
  const __m256 half_erfc = _mm256_mul_ps(_mm256_mul_ps(exp256(neg_zz), q), _mm256_set1_ps(0.5f));
  // x >= 0: 1 - erfc/2; x < 0: erfc/2 (blendv picks by the sign bit of x).
  const __m256 phi_large = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), half_erfc), half_erfc, x);

  const __m256 phi = _mm256_blendv_ps(phi_small, phi_large, _mm256_cmp_ps(z, _mm256_set1_ps(1.0f), _CMP_GE_OQ));
  return _mm256_mul_ps(x, phi);
}

__attribute__((target("avx2,fma"))) void exp_avx2(float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, exp256(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tail[8] = {};
    for (size_t j = i; j < n; ++j) tail[j - i] = x[j];
    _mm256_storeu_ps(tail, exp256(_mm256_loadu_ps(tail)));
    for (size_t j = i; j < n; ++j) x[j] = tail[j - i];
  }
}

__attribute__((target("avx2,fma"))) void bias_gelu_avx2(float* x, size_t rows, size_t cols, size_t ld,
                                                        const float* bias) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      __m256 v = _mm256_loadu_ps(row + c);
      if (bias != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + c));
      _mm256_storeu_ps(row + c, gelu256(v));
    }
    if (c < cols) {
      float tail[8] = {};
      for (size_t j = c; j < cols; ++j) tail[j - c] = row[j] + (bias != nullptr ? bias[j] : 0.0f);
      _mm256_storeu_ps(tail, gelu256(_mm256_loadu_ps(tail)));
      for (size_t j = c; j < cols; ++j) row[j] = tail[j - c];
    }
  }
}

SIMILE_AVX2 float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) void layer_norm_avx2(float* x, const float* residual, const float* bias,
                                                         const float* gamma, const float* beta, size_t rows,
                                                         size_t cols, float eps) {
  const size_t vec_end = cols - cols % 8;
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float* res = residual != nullptr ? residual + r * cols : nullptr;
    // Pass 1: x += bias + residual (in the reference's order: (x + b) + res), and the sum.
    __m256 acc = _mm256_setzero_ps();
    float tail_sum = 0;
    for (size_t c = 0; c < vec_end; c += 8) {
      __m256 v = _mm256_loadu_ps(row + c);
      if (bias != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + c));
      if (res != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(res + c));
      _mm256_storeu_ps(row + c, v);
      acc = _mm256_add_ps(acc, v);
    }
    for (size_t c = vec_end; c < cols; ++c) {
      float v = row[c];
      if (bias != nullptr) v += bias[c];
      if (res != nullptr) v += res[c];
      row[c] = v;
      tail_sum += v;
    }
    const float mean = (hsum256(acc) + tail_sum) / static_cast<float>(cols);
    // Pass 2: variance about the mean (two-pass: no cancellation).
    const __m256 vmean = _mm256_set1_ps(mean);
    __m256 acc2 = _mm256_setzero_ps();
    float tail_sq = 0;
    for (size_t c = 0; c < vec_end; c += 8) {
      __m256 d = _mm256_sub_ps(_mm256_loadu_ps(row + c), vmean);
      acc2 = _mm256_fmadd_ps(d, d, acc2);
    }
    for (size_t c = vec_end; c < cols; ++c) tail_sq += (row[c] - mean) * (row[c] - mean);
    const float var = (hsum256(acc2) + tail_sq) / static_cast<float>(cols);
    const float rstd = 1.0f / std::sqrt(var + eps);
    // Pass 3: normalise, scale, shift.
    const __m256 vrstd = _mm256_set1_ps(rstd);
    for (size_t c = 0; c < vec_end; c += 8) {
      __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + c), vmean), vrstd);
      _mm256_storeu_ps(row + c, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + c), _mm256_loadu_ps(beta + c)));
    }
    for (size_t c = vec_end; c < cols; ++c) row[c] = (row[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

__attribute__((target("avx2,fma"))) void silu_mul_avx2(float* gate, const float* up, size_t rows, size_t cols,
                                                       size_t ld) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (size_t r = 0; r < rows; ++r) {
    float* g = gate + r * ld;
    const float* u = up + r * ld;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const __m256 x = _mm256_loadu_ps(g + c);
      const __m256 e = exp256(_mm256_xor_ps(x, sign_bit));
      _mm256_storeu_ps(g + c, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + c)));
    }
    for (; c < cols; ++c) g[c] = g[c] / (1.0f + std::exp(-g[c])) * u[c];
  }
}

__attribute__((target("avx2,fma"))) void rms_norm_avx2(float* x, const float* delta, float* out, const float* gamma,
                                                       size_t rows, size_t cols, float eps) {
  const size_t vec_end = cols - cols % 8;
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float* d = delta != nullptr ? delta + r * cols : nullptr;
    float* o = out + r * cols;
    __m256 acc = _mm256_setzero_ps();
    float tail = 0;
    for (size_t c = 0; c < vec_end; c += 8) {
      __m256 v = _mm256_loadu_ps(row + c);
      if (d != nullptr) {
        v = _mm256_add_ps(v, _mm256_loadu_ps(d + c));
        _mm256_storeu_ps(row + c, v);
      }
      acc = _mm256_fmadd_ps(v, v, acc);
    }
    for (size_t c = vec_end; c < cols; ++c) {
      if (d != nullptr) row[c] += d[c];
      tail += row[c] * row[c];
    }
    const float rstd = 1.0f / std::sqrt((hsum256(acc) + tail) / static_cast<float>(cols) + eps);
    const __m256 vrstd = _mm256_set1_ps(rstd);
    for (size_t c = 0; c < vec_end; c += 8)
      _mm256_storeu_ps(o + c,
                       _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(row + c), vrstd), _mm256_loadu_ps(gamma + c)));
    for (size_t c = vec_end; c < cols; ++c) o[c] = row[c] * rstd * gamma[c];
  }
}

}  // namespace

float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2)); }

void exp_inplace(float* x, size_t n, Isa isa) {
  if (isa == Isa::kAvx2 && avx512_allowed()) return detail::exp_avx512(x, n);
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return exp_avx2(x, n);
  for (size_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

void bias_gelu(float* x, size_t rows, size_t cols, size_t ld, const float* bias, Isa isa) {
  if (isa == Isa::kAvx2 && avx512_allowed()) return detail::bias_gelu_avx512(x, rows, cols, ld, bias);
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return bias_gelu_avx2(x, rows, cols, ld, bias);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      float& v = x[r * ld + c];
      v = gelu_erf(bias != nullptr ? v + bias[c] : v);
    }
}

void add_bias(float* x, size_t rows, size_t cols, size_t ld, const float* bias) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    for (size_t c = 0; c < cols; ++c) row[c] += bias[c];
  }
}

void bias_residual_layer_norm(float* x, const float* residual, const float* bias, const float* gamma, const float* beta,
                              size_t rows, size_t cols, float eps, Isa isa) {
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return layer_norm_avx2(x, residual, bias, gamma, beta, rows, cols, eps);
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    double sum = 0;
    for (size_t c = 0; c < cols; ++c) {
      float v = row[c];
      if (bias != nullptr) v += bias[c];
      if (residual != nullptr) v += residual[r * cols + c];
      row[c] = v;
      sum += v;
    }
    const double mean = sum / static_cast<double>(cols);
    double sq = 0;
    for (size_t c = 0; c < cols; ++c) sq += (row[c] - mean) * (row[c] - mean);
    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
    for (size_t c = 0; c < cols; ++c) row[c] = static_cast<float>((row[c] - mean) * rstd) * gamma[c] + beta[c];
  }
}

void silu_mul(float* gate, const float* up, size_t rows, size_t cols, size_t ld, Isa isa) {
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return silu_mul_avx2(gate, up, rows, cols, ld);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      float& g = gate[r * ld + c];
      g = g / (1.0f + std::exp(-g)) * up[r * ld + c];
    }
}

void residual_rms_norm(float* x, const float* delta, float* out, const float* gamma, size_t rows, size_t cols,
                       float eps, Isa isa) {
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return rms_norm_avx2(x, delta, out, gamma, rows, cols, eps);
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    double sq = 0;
    for (size_t c = 0; c < cols; ++c) {
      if (delta != nullptr) row[c] += delta[r * cols + c];
      sq += static_cast<double>(row[c]) * row[c];
    }
    const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
    for (size_t c = 0; c < cols; ++c) out[r * cols + c] = row[c] * rstd * gamma[c];
  }
}

}  // namespace simile::kernels
