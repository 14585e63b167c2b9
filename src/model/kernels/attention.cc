#include "model/kernels/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/kernels/elementwise.h"

namespace simile::kernels {

namespace {

size_t round_up8(size_t n) { return (n + 7) / 8 * 8; }

void attention_scalar(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                      size_t d, float scale, float* scores) {
  for (size_t i = 0; i < n; ++i) {
    float max_score = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < n; ++j) {
      float dot = 0;
      for (size_t c = 0; c < d; ++c) dot += q[i * ld + c] * k[j * ld + c];
      scores[j] = dot * scale;
      max_score = std::max(max_score, scores[j]);
    }
    float sum = 0;
    for (size_t j = 0; j < n; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      sum += scores[j];
    }
    const float inv = 1.0f / sum;
    for (size_t c = 0; c < d; ++c) {
      float acc = 0;
      for (size_t j = 0; j < n; ++j) acc += scores[j] * v[j * ld + c];
      out[i * ld_out + c] = acc * inv;
    }
  }
}

// head_dim must be a multiple of 8. Keys are transposed once into kt
// (head_dim x np, np = n rounded up to 8) so each query's scores come out 8
// keys per instruction; the weighted sum of values then runs 8 dims at a time.
__attribute__((target("avx2,fma"))) void attention_avx2(const float* q, const float* k, const float* v, size_t ld,
                                                        float* out, size_t ld_out, size_t n, size_t d, float scale,
                                                        float* scratch) {
  const size_t np = round_up8(n);
  float* kt = scratch;
  float* scores = scratch + d * np;
  for (size_t c = 0; c < d; ++c) {
    float* dst = kt + c * np;
    for (size_t j = 0; j < n; ++j) dst[j] = k[j * ld + c];
    for (size_t j = n; j < np; ++j) dst[j] = 0.0f;
  }
  const __m256 vscale = _mm256_set1_ps(scale);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const float* qi = q + i * ld;
    // scores = scale * (q_i . K^T), four blocks of 8 keys per pass over q_i.
    size_t jb = 0;
    for (; jb + 32 <= np; jb += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (size_t c = 0; c < d; ++c) {
        const __m256 qc = _mm256_broadcast_ss(qi + c);
        const float* row = kt + c * np + jb;
        a0 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(row), a0);
        a1 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(row + 8), a1);
        a2 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(row + 16), a2);
        a3 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(row + 24), a3);
      }
      _mm256_storeu_ps(scores + jb, _mm256_mul_ps(a0, vscale));
      _mm256_storeu_ps(scores + jb + 8, _mm256_mul_ps(a1, vscale));
      _mm256_storeu_ps(scores + jb + 16, _mm256_mul_ps(a2, vscale));
      _mm256_storeu_ps(scores + jb + 24, _mm256_mul_ps(a3, vscale));
    }
    for (; jb < np; jb += 8) {
      __m256 a0 = _mm256_setzero_ps();
      for (size_t c = 0; c < d; ++c)
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(qi + c), _mm256_loadu_ps(kt + c * np + jb), a0);
      _mm256_storeu_ps(scores + jb, _mm256_mul_ps(a0, vscale));
    }
    for (size_t j = n; j < np; ++j) scores[j] = neg_inf;  // padding lanes weigh exactly 0

    // Softmax numerator and denominator; the division is applied to the output.
    __m256 vmax = _mm256_set1_ps(neg_inf);
    for (size_t j = 0; j < np; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(scores + j));
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    const float max_score = *std::max_element(lanes, lanes + 8);
    const __m256 vm = _mm256_set1_ps(max_score);
    for (size_t j = 0; j < np; j += 8) _mm256_storeu_ps(scores + j, _mm256_sub_ps(_mm256_loadu_ps(scores + j), vm));
    exp_inplace(scores, np, Isa::kAvx2);
    __m256 vsum = _mm256_setzero_ps();
    for (size_t j = 0; j < np; j += 8) vsum = _mm256_add_ps(vsum, _mm256_loadu_ps(scores + j));
    _mm256_storeu_ps(lanes, vsum);
    float sum = 0;
    for (float l : lanes) sum += l;
    const __m256 inv = _mm256_set1_ps(1.0f / sum);

    // out_i = (sum_j p_j v_j) / sum
    float* oi = out + i * ld_out;
    size_t c = 0;
    for (; c + 32 <= d; c += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (size_t j = 0; j < n; ++j) {
        const __m256 p = _mm256_broadcast_ss(scores + j);
        const float* vj = v + j * ld + c;
        a0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj), a0);
        a1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 8), a1);
        a2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 16), a2);
        a3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 24), a3);
      }
      _mm256_storeu_ps(oi + c, _mm256_mul_ps(a0, inv));
      _mm256_storeu_ps(oi + c + 8, _mm256_mul_ps(a1, inv));
      _mm256_storeu_ps(oi + c + 16, _mm256_mul_ps(a2, inv));
      _mm256_storeu_ps(oi + c + 24, _mm256_mul_ps(a3, inv));
    }
    for (; c < d; c += 8) {
      __m256 a0 = _mm256_setzero_ps();
      for (size_t j = 0; j < n; ++j)
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(scores + j), _mm256_loadu_ps(v + j * ld + c), a0);
      _mm256_storeu_ps(oi + c, _mm256_mul_ps(a0, inv));
    }
  }
}

}  // namespace

size_t attention_scratch_floats(size_t n, size_t head_dim) {
  const size_t np = round_up8(n);
  return head_dim * np + np;
}

void attention_head(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                    size_t head_dim, float scale, float* scratch, Isa isa) {
  if (n == 0) return;
  if (isa == Isa::kAvx2 && head_dim % 8 == 0 && cpu_has_avx2_fma())
    return attention_avx2(q, k, v, ld, out, ld_out, n, head_dim, scale, scratch);
  attention_scalar(q, k, v, ld, out, ld_out, n, head_dim, scale, scratch);
}

}  // namespace simile::kernels
