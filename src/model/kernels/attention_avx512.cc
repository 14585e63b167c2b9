// attention_head's AVX-512 version (attention.h), for head_dim a multiple of
// 16. The same steps as the AVX2 one in attention.cc, with 32 vector
// registers used for more queries at once: eight queries share each load of
// a key or value block, which the AVX2 version (two queries) cannot afford
// in 16 registers.
#include <cstring>
#include <limits>

#include "model/kernels/attention.h"

// clang ignores GCC's target pragmas: it takes the same features as an
// attribute applied to every function until the pop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#endif
#include "model/kernels/avx512_math.h"

namespace simile::kernels {
namespace {

constexpr size_t kMaxQueries = 8;  // queries per pass: 2 x 8 accumulators of 16 keys or head dims

size_t round_up16(size_t n) { return (n + 15) / 16 * 16; }

// Scores of R queries against the first `count` keys (a multiple of 16):
// scores[r][j] = scale * q_r . k_j, from the transposed keys kt (head_dim
// rows of np floats). Blocks of 32 keys keep 2R accumulators in flight.
template <int R>
void scores_block(const float* q, size_t ld, const float* kt, size_t np, size_t count, size_t d, float scale,
                  float* scores) {
  const __m512 vscale = _mm512_set1_ps(scale);
  size_t jb = 0;
  for (; jb + 32 <= count; jb += 32) {
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t c = 0; c < d; ++c) {
      const __m512 k0 = _mm512_loadu_ps(kt + c * np + jb), k1 = _mm512_loadu_ps(kt + c * np + jb + 16);
      for (int r = 0; r < R; ++r) {
        const __m512 qc = _mm512_set1_ps(q[r * ld + c]);
        acc[r][0] = _mm512_fmadd_ps(qc, k0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(qc, k1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm512_storeu_ps(scores + r * np + jb, _mm512_mul_ps(acc[r][0], vscale));
      _mm512_storeu_ps(scores + r * np + jb + 16, _mm512_mul_ps(acc[r][1], vscale));
    }
  }
  if (jb < count) {  // 16 keys left
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t c = 0; c < d; ++c) {
      const __m512 k0 = _mm512_loadu_ps(kt + c * np + jb);
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * ld + c]), k0, acc[r]);
    }
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(scores + r * np + jb, _mm512_mul_ps(acc[r], vscale));
  }
}

// row[0, count) -> exp(row - max); returns 1 / sum. Entries that must get no
// weight already hold -inf.
float softmax_numerators(float* row, size_t count) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (size_t j = 0; j < count; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 sum = _mm512_setzero_ps();
  for (size_t j = 0; j < count; j += 16) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j), m));
    _mm512_storeu_ps(row + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  return 1.0f / _mm512_reduce_add_ps(sum);
}

// out_r = inv_r * sum_{j < n} p_r[j] v_j for R queries; v: n rows of d
// floats, contiguous. Blocks of 32 output columns (16 when d is an odd
// multiple of 16).
template <int R>
void weighted_values(const float* p, size_t np, const float* inv, const float* v, size_t n, size_t d, float* out,
                     size_t ld_out) {
  size_t c = 0;
  for (; c + 32 <= d; c += 32) {
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t j = 0; j < n; ++j) {
      const __m512 x0 = _mm512_loadu_ps(v + j * d + c), x1 = _mm512_loadu_ps(v + j * d + c + 16);
      for (int r = 0; r < R; ++r) {
        const __m512 pj = _mm512_set1_ps(p[r * np + j]);
        acc[r][0] = _mm512_fmadd_ps(pj, x0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(pj, x1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m512 s = _mm512_set1_ps(inv[r]);
      _mm512_storeu_ps(out + r * ld_out + c, _mm512_mul_ps(acc[r][0], s));
      _mm512_storeu_ps(out + r * ld_out + c + 16, _mm512_mul_ps(acc[r][1], s));
    }
  }
  if (c < d) {
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t j = 0; j < n; ++j) {
      const __m512 x0 = _mm512_loadu_ps(v + j * d + c);
      for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r * np + j]), x0, acc[r]);
    }
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + r * ld_out + c, _mm512_mul_ps(acc[r], _mm512_set1_ps(inv[r])));
  }
}

// The keys and values one head reads, laid out for the kernels above.
struct Head {
  const float* q;
  size_t ld;
  const float* kt;  // d rows of np keys
  const float* v;   // n rows of d
  size_t n, np, d;
  float scale;
  detail::AttentionKeys keys;
  ScoreBias bias;
  float* scores;  // kMaxQueries rows of np
  float* out;
  size_t ld_out;
};

// Queries [i, i + R): the keys the last of them sees (the most, when
// causal) are scored for all, then each row's own range is masked.
template <int R>
void queries(const Head& h, size_t i) {
  const size_t end = h.keys.end(i + R - 1), count = round_up16(end);
  scores_block<R>(h.q + i * h.ld, h.ld, h.kt, h.np, count, h.d, h.scale, h.scores);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  float inv[R];
  for (int r = 0; r < R; ++r) {
    float* row = h.scores + r * h.np;
    const size_t first = h.keys.first(i + r), last = h.keys.end(i + r);
    if (h.bias.values != nullptr) {
      const float* b = h.bias.values + static_cast<std::ptrdiff_t>(i + r) * h.bias.row_stride;
      for (size_t j = 0; j < last; ++j) row[j] += b[j];
    }
    for (size_t j = 0; j < first; ++j) row[j] = neg_inf;
    for (size_t j = last; j < count; ++j) row[j] = neg_inf;
    inv[r] = softmax_numerators(row, count);
  }
  weighted_values<R>(h.scores, h.np, inv, h.v, end, h.d, h.out + i * h.ld_out, h.ld_out);
}

}  // namespace

namespace detail {

size_t attention_avx512_scratch_floats(size_t n, size_t head_dim) {
  const size_t np = round_up16(n);
  return 2 * head_dim * np + kMaxQueries * np;
}

void attention_avx512(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                      size_t d, float scale, AttentionKeys keys, ScoreBias bias, float* scratch) {
  const size_t np = round_up16(n);
  // Keys transposed (16 keys per load); values copied contiguous: their rows
  // in the QKV matrix are 3 * hidden floats apart, a stride that maps them to
  // a few L1 sets, so read in place they would come from L2 every time.
  float* kt = scratch;
  float* vc = kt + d * np;
  for (size_t c = 0; c < d; ++c) {
    float* dst = kt + c * np;
    for (size_t j = 0; j < n; ++j) dst[j] = k[j * ld + c];
    for (size_t j = n; j < np; ++j) dst[j] = 0.0f;
  }
  for (size_t j = 0; j < n; ++j) std::memcpy(vc + j * d, v + j * ld, d * sizeof(float));
  const Head h{q, ld, kt, vc, n, np, d, scale, keys, bias, vc + d * np, out, ld_out};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) queries<8>(h, i);
  if (i + 4 <= n) queries<4>(h, i), i += 4;
  if (i + 2 <= n) queries<2>(h, i), i += 2;
  if (i < n) queries<1>(h, i);
}

}  // namespace detail
}  // namespace simile::kernels
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
