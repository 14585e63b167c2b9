#include "words/word2vec_kernels.h"

#include <immintrin.h>

#include <cmath>

namespace simile::words {

namespace {

struct SigmoidTable {
  float values[kSigmoidTableSize + 1];
  SigmoidTable() {
    for (int i = 0; i <= kSigmoidTableSize; ++i) {
      const double x = (2.0 * i / kSigmoidTableSize - 1.0) * kMaxExp;
      values[i] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    }
  }
};

// The label minus the sigmoid of f; 0 (no update) beyond +-kMaxExp.
inline float error_of(float f, float label, const float* table) {
  if (!(f > -kMaxExp && f < kMaxExp)) return 0.0f;
  const int i = static_cast<int>((f + kMaxExp) * (kSigmoidTableSize / kMaxExp / 2));
  return label - table[i];
}

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

const float* sigmoid_table() {
  static const SigmoidTable table;
  return table.values;
}

namespace detail {

void negative_step_scalar(const float* in, float* grad, float* output_rows, const uint32_t* targets, size_t n_targets,
                          size_t dims, float alpha) {
  const float* table = sigmoid_table();
  for (size_t t = 0; t < n_targets; ++t) {
    float* out = output_rows + static_cast<size_t>(targets[t]) * dims;
    float f = 0;
    for (size_t d = 0; d < dims; ++d) f += in[d] * out[d];
    const float g = error_of(f, t == 0 ? 1.0f : 0.0f, table) * alpha;
    if (g == 0.0f) continue;
    for (size_t d = 0; d < dims; ++d) grad[d] += g * out[d];
    for (size_t d = 0; d < dims; ++d) out[d] += g * in[d];
  }
}

__attribute__((target("avx2,fma"))) void negative_step_avx2(const float* in, float* grad, float* output_rows,
                                                             const uint32_t* targets, size_t n_targets, size_t dims,
                                                             float alpha) {
  const float* table = sigmoid_table();
  const size_t body = dims & ~size_t{7};
  for (size_t t = 0; t < n_targets; ++t) {
    float* out = output_rows + static_cast<size_t>(targets[t]) * dims;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t d = 0;
    for (; d + 16 <= body; d += 16) {
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(in + d), _mm256_loadu_ps(out + d), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(in + d + 8), _mm256_loadu_ps(out + d + 8), acc1);
    }
    for (; d < body; d += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(in + d), _mm256_loadu_ps(out + d), acc0);
    float f = hsum(_mm256_add_ps(acc0, acc1));
    for (; d < dims; ++d) f += in[d] * out[d];
    const float g = error_of(f, t == 0 ? 1.0f : 0.0f, table) * alpha;
    if (g == 0.0f) continue;
    const __m256 gv = _mm256_set1_ps(g);
    for (d = 0; d < body; d += 8) {
      const __m256 o = _mm256_loadu_ps(out + d);
      _mm256_storeu_ps(grad + d, _mm256_fmadd_ps(gv, o, _mm256_loadu_ps(grad + d)));
      _mm256_storeu_ps(out + d, _mm256_fmadd_ps(gv, _mm256_loadu_ps(in + d), o));
    }
    for (; d < dims; ++d) {
      grad[d] += g * out[d];
      out[d] += g * in[d];
    }
  }
}

void add_into_scalar(float* in, const float* delta, size_t dims) {
  for (size_t d = 0; d < dims; ++d) in[d] += delta[d];
}

__attribute__((target("avx2,fma"))) void add_into_avx2(float* in, const float* delta, size_t dims) {
  size_t d = 0;
  for (; d + 8 <= dims; d += 8)
    _mm256_storeu_ps(in + d, _mm256_add_ps(_mm256_loadu_ps(in + d), _mm256_loadu_ps(delta + d)));
  for (; d < dims; ++d) in[d] += delta[d];
}

}  // namespace detail

NegativeStep negative_step(kernels::Isa isa) {
  return isa == kernels::Isa::kAvx2 ? detail::negative_step_avx2 : detail::negative_step_scalar;
}

AddInto add_into(kernels::Isa isa) { return isa == kernels::Isa::kAvx2 ? detail::add_into_avx2 : detail::add_into_scalar; }

}  // namespace simile::words
