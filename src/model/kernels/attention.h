// Scaled dot-product attention for one head of one sequence: bidirectional
// (encoders) or causal (decoders).
//
// The encoder runs sequences packed back to back, without padding: each call
// sees exactly the n real tokens of its sequence. That is the same arithmetic
// as a padded batch with an additive key mask (masked scores become -inf and
// their softmax weight exactly 0), minus the work on padding.
#pragma once

#include <cstddef>

#include "model/kernels/cpu.h"

namespace simile::kernels {

// Floats of scratch space attention_head() needs for n tokens of head_dim.
size_t attention_scratch_floats(size_t n, size_t head_dim);

// out[i] = sum_j softmax_j(scale * q[i] . k[j]) * v[j] for i, j < n.
// q, k, v: n rows of head_dim floats, `ld` floats apart (they are column
// slices of the fused QKV projection); out: n rows, `ld_out` apart. `scratch`
// holds attention_scratch_floats(n, head_dim) floats, private to the caller.
void attention_head(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                    size_t head_dim, float scale, float* scratch, Isa isa = best_isa());

// An additive bias on the scaled scores: query i and key j get
// values[i * row_stride + j]. The stride may be zero or negative: a bias that
// depends only on j - i (MPNet's relative positions) is one band of 2n - 1
// values read with stride -1, values pointing at its (i = 0, j = 0) entry.
struct ScoreBias {
  const float* values = nullptr;  // null: no bias
  std::ptrdiff_t row_stride = 0;
};

// attention_head() with softmax_j(scale * q[i] . k[j] + bias(i, j)), the
// order in which transformers adds a position bias.
void attention_head(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                    size_t head_dim, float scale, ScoreBias bias, float* scratch, Isa isa = best_isa());

// The causal attention of decoder-only models, same layout and scratch: query
// i attends keys j <= i and, when window > 0, only those with i - j < window
// (a sliding window, as transformers' sliding_window_overlay). Row i is what
// attention_head gives for the first i + 1 tokens alone.
void attention_head_causal(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out,
                           size_t n, size_t head_dim, float scale, size_t window, float* scratch, Isa isa = best_isa());

namespace detail {

// Which keys each query sees: [first(i), end(i)).
struct AttentionKeys {
  bool causal;
  size_t window;  // 0: unbounded
  size_t n;
  size_t first(size_t i) const { return causal && window > 0 && i + 1 > window ? i + 1 - window : 0; }
  size_t end(size_t i) const { return causal ? i + 1 : n; }
};

// The kernels behind Isa::kAvx2: AVX2, or AVX-512 where avx512_allowed()
// and head_dim is a multiple of 16.
enum class AttentionSimd { kAvx2, kAvx512 };

// One kernel by name, for tests (the caller checks that the CPU has it and
// that head_dim is a multiple of 8, or 16 for kAvx512).
void attention_simd(AttentionSimd simd, const float* q, const float* k, const float* v, size_t ld, float* out,
                    size_t ld_out, size_t n, size_t head_dim, float scale, AttentionKeys keys, ScoreBias bias,
                    float* scratch);

size_t attention_avx512_scratch_floats(size_t n, size_t head_dim);
void attention_avx512(const float* q, const float* k, const float* v, size_t ld, float* out, size_t ld_out, size_t n,
                      size_t head_dim, float scale, AttentionKeys keys, ScoreBias bias, float* scratch);

}  // namespace detail

}  // namespace simile::kernels
