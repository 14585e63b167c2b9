#include "model/kernels/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/kernels/elementwise.h"

namespace simile::kernels {

namespace {

size_t round_up8(size_t n) { return (n + 7) / 8 * 8; }

using detail::AttentionKeys;

// The bias row of query i, or null.
const float* bias_row(ScoreBias bias, size_t i) {
  return bias.values == nullptr ? nullptr : bias.values + static_cast<std::ptrdiff_t>(i) * bias.row_stride;
}

void attention_scalar(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                      size_t d, float scale, AttentionKeys keys, ScoreBias bias, float* scores) {
  for (size_t i = 0; i < n; ++i) {
    const size_t lo = keys.first(i), hi = keys.end(i);
    const float* b = bias_row(bias, i);
    float max_score = -std::numeric_limits<float>::infinity();
    for (size_t j = lo; j < hi; ++j) {
      float dot = 0;
      for (size_t c = 0; c < d; ++c) dot += q[i * ld + c] * k[j * ld + c];
      scores[j] = dot * scale;
      if (b != nullptr) scores[j] += b[j];
      max_score = std::max(max_score, scores[j]);
    }
    float sum = 0;
    for (size_t j = lo; j < hi; ++j) {
      scores[j] = std::exp(scores[j] - max_score);
      sum += scores[j];
    }
    const float inv = 1.0f / sum;
    for (size_t c = 0; c < d; ++c) {
      float acc = 0;
      for (size_t j = lo; j < hi; ++j) acc += scores[j] * v[j * ld + c];
      out[i * ld_out + c] = acc * inv;
    }
  }
}

#define SIMILE_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

SIMILE_AVX2 float hmax256(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

SIMILE_AVX2 float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// x[0, n) += y[0, n).
__attribute__((target("avx2,fma"))) void add_row(float* x, const float* y, size_t n) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(x + j, _mm256_add_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
  for (; j < n; ++j) x[j] += y[j];
}

// scores[0, np) -> exp(scores - max); returns 1 / sum. Lanes past n must
// already hold -inf (they come out as exactly 0).
__attribute__((target("avx2,fma"))) float softmax_numerators(float* scores, size_t np) {
  __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (size_t j = 0; j < np; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(scores + j));
  const __m256 vm = _mm256_set1_ps(hmax256(vmax));
  for (size_t j = 0; j < np; j += 8) _mm256_storeu_ps(scores + j, _mm256_sub_ps(_mm256_loadu_ps(scores + j), vm));
  exp_inplace(scores, np, Isa::kAvx2);
  __m256 vsum = _mm256_setzero_ps();
  for (size_t j = 0; j < np; j += 8) vsum = _mm256_add_ps(vsum, _mm256_loadu_ps(scores + j));
  return 1.0f / hsum256(vsum);
}

// Scores of R queries (R = 1 or 2) against the first `count` keys (a
// multiple of 8): s_r = scale * q_r . K^T, rows of `scores` and of the key
// table kt both `np` floats apart. Register blocking — R queries x B blocks of
// 8 keys — keeps R*B independent FMA chains in flight and loads each key
// block once for all R queries.
template <int R>
__attribute__((target("avx2,fma"))) void scores_block(const float* q, size_t ld, const float* kt, size_t np,
                                                      size_t count, size_t d, float scale, float* scores) {
  constexpr int B = 4;
  const __m256 vscale = _mm256_set1_ps(scale);
  size_t jb = 0;
  for (; jb + 8 * B <= count; jb += 8 * B) {
    __m256 acc[R][B];
    for (int r = 0; r < R; ++r)
      for (int b = 0; b < B; ++b) acc[r][b] = _mm256_setzero_ps();
    for (size_t c = 0; c < d; ++c) {
      const float* row = kt + c * np + jb;
      __m256 k[B];
      for (int b = 0; b < B; ++b) k[b] = _mm256_loadu_ps(row + 8 * b);
      for (int r = 0; r < R; ++r) {
        const __m256 qc = _mm256_broadcast_ss(q + r * ld + c);
        for (int b = 0; b < B; ++b) acc[r][b] = _mm256_fmadd_ps(qc, k[b], acc[r][b]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int b = 0; b < B; ++b) _mm256_storeu_ps(scores + r * np + jb + 8 * b, _mm256_mul_ps(acc[r][b], vscale));
  }
  for (; jb < count; jb += 8) {
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (size_t c = 0; c < d; ++c) {
      const __m256 k = _mm256_loadu_ps(kt + c * np + jb);
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(q + r * ld + c), k, acc[r]);
    }
    for (int r = 0; r < R; ++r) _mm256_storeu_ps(scores + r * np + jb, _mm256_mul_ps(acc[r], vscale));
  }
}

// out_r = inv_r * sum_j p_r[j] v_j for R queries, blocked like scores_block.
template <int R>
__attribute__((target("avx2,fma"))) void weighted_values(const float* p, size_t np, const float* inv, const float* v,
                                                         size_t ld, size_t n, size_t d, float* out, size_t ld_out) {
  constexpr int B = 4;
  size_t c = 0;
  for (; c + 8 * B <= d; c += 8 * B) {
    __m256 acc[R][B];
    for (int r = 0; r < R; ++r)
      for (int b = 0; b < B; ++b) acc[r][b] = _mm256_setzero_ps();
    for (size_t j = 0; j < n; ++j) {
      const float* vj = v + j * ld + c;
      __m256 x[B];
      for (int b = 0; b < B; ++b) x[b] = _mm256_loadu_ps(vj + 8 * b);
      for (int r = 0; r < R; ++r) {
        const __m256 pj = _mm256_broadcast_ss(p + r * np + j);
        for (int b = 0; b < B; ++b) acc[r][b] = _mm256_fmadd_ps(pj, x[b], acc[r][b]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int b = 0; b < B; ++b)
        _mm256_storeu_ps(out + r * ld_out + c + 8 * b, _mm256_mul_ps(acc[r][b], _mm256_set1_ps(inv[r])));
  }
  for (; c < d; c += 8) {
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (size_t j = 0; j < n; ++j) {
      const __m256 x = _mm256_loadu_ps(v + j * ld + c);
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p + r * np + j), x, acc[r]);
    }
    for (int r = 0; r < R; ++r) _mm256_storeu_ps(out + r * ld_out + c, _mm256_mul_ps(acc[r], _mm256_set1_ps(inv[r])));
  }
}

// head_dim must be a multiple of 8. Keys are transposed once into kt
// (head_dim x np, np = n rounded up to 8) so scores come out 8 keys per
// instruction; queries go two at a time, each pair scoring the keys its
// later query sees (all n, or up to itself when causal).
__attribute__((target("avx2,fma"))) void attention_avx2(const float* q, const float* k, const float* v, size_t ld,
                                                        float* out, size_t ld_out, size_t n, size_t d, float scale,
                                                        AttentionKeys keys, ScoreBias bias, float* scratch) {
  const size_t np = round_up8(n);
  float* kt = scratch;
  float* vc = kt + d * np;
  float* scores = vc + d * np;  // two rows of np
  for (size_t c = 0; c < d; ++c) {
    float* dst = kt + c * np;
    for (size_t j = 0; j < n; ++j) dst[j] = k[j * ld + c];
    for (size_t j = n; j < np; ++j) dst[j] = 0.0f;
  }
  for (size_t j = 0; j < n; ++j) std::memcpy(vc + j * d, v + j * ld, d * sizeof(float));
  const float neg_inf = -std::numeric_limits<float>::infinity();
  // The bias is added over the keys query i sees; scores outside them become
  // -inf: exactly 0 after the softmax.
  auto mask = [&](float* row, size_t i, size_t count) {
    if (bias.values != nullptr) add_row(row, bias_row(bias, i), keys.end(i));
    for (size_t j = 0; j < keys.first(i); ++j) row[j] = neg_inf;
    for (size_t j = keys.end(i); j < count; ++j) row[j] = neg_inf;
  };
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const size_t end = keys.end(i + 1), count = round_up8(end);
    scores_block<2>(q + i * ld, ld, kt, np, count, d, scale, scores);
    float inv[2];
    for (size_t r = 0; r < 2; ++r) {
      mask(scores + r * np, i + r, count);
      inv[r] = softmax_numerators(scores + r * np, count);
    }
    weighted_values<2>(scores, np, inv, vc, d, end, d, out + i * ld_out, ld_out);
  }
  if (i < n) {
    const size_t end = keys.end(i), count = round_up8(end);
    scores_block<1>(q + i * ld, ld, kt, np, count, d, scale, scores);
    mask(scores, i, count);
    float inv = softmax_numerators(scores, count);
    weighted_values<1>(scores, np, &inv, vc, d, end, d, out + i * ld_out, ld_out);
  }
}

void attention(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
               size_t head_dim, float scale, AttentionKeys keys, ScoreBias bias, float* scratch, Isa isa) {
  if (n == 0) return;
  if (isa == Isa::kAvx2 && head_dim % 16 == 0 && avx512_allowed())
    return detail::attention_avx512(q, k, v, ld, out, ld_out, n, head_dim, scale, keys, bias, scratch);
  if (isa == Isa::kAvx2 && head_dim % 8 == 0 && cpu_has_avx2_fma())
    return attention_avx2(q, k, v, ld, out, ld_out, n, head_dim, scale, keys, bias, scratch);
  attention_scalar(q, k, v, ld, out, ld_out, n, head_dim, scale, keys, bias, scratch);
}

}  // namespace

size_t attention_scratch_floats(size_t n, size_t head_dim) {
  const size_t np = round_up8(n);
  return std::max(2 * head_dim * np + 2 * np, detail::attention_avx512_scratch_floats(n, head_dim));
}

void attention_head(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                    size_t head_dim, float scale, float* scratch, Isa isa) {
  attention(q, k, v, ld, out, ld_out, n, head_dim, scale, AttentionKeys{false, 0, n}, ScoreBias{}, scratch, isa);
}

void attention_head(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                    size_t head_dim, float scale, ScoreBias bias, float* scratch, Isa isa) {
  attention(q, k, v, ld, out, ld_out, n, head_dim, scale, AttentionKeys{false, 0, n}, bias, scratch, isa);
}

void attention_head_causal(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out,
                           size_t n, size_t head_dim, float scale, size_t window, float* scratch, Isa isa) {
  attention(q, k, v, ld, out, ld_out, n, head_dim, scale, AttentionKeys{true, window, n}, ScoreBias{}, scratch, isa);
}

namespace detail {

void attention_simd(AttentionSimd simd, const float* q, const float* k, const float* v, size_t ld, float* out,
                    size_t ld_out, size_t n, size_t head_dim, float scale, AttentionKeys keys, ScoreBias bias,
                    float* scratch) {
  if (n == 0) return;
  if (simd == AttentionSimd::kAvx512)
    return attention_avx512(q, k, v, ld, out, ld_out, n, head_dim, scale, keys, bias, scratch);
  attention_avx2(q, k, v, ld, out, ld_out, n, head_dim, scale, keys, bias, scratch);
}

}  // namespace detail

}  // namespace simile::kernels
