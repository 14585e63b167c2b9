// The inner step of word2vec training with negative sampling, in a scalar
// reference and an AVX2+FMA version (tests compare them).
//
// One step trains an input vector `in` (a context word's row of the input
// matrix for skip-gram, the mean of the context rows for CBOW) to predict
// targets[0] (label 1) and not targets[1..n) (the negative samples, label
// 0): for each target t with output row o_t,
//   g = (label - sigmoid(in . o_t)) * alpha
//   grad += g o_t;  o_t += g in
// The caller adds `grad` to the input row(s) afterwards. sigmoid reads a
// table over (-6, 6); a target whose dot product falls outside it is left
// alone (g = 0), as gensim does (word2vec.c instead saturates the sigmoid).
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/kernels/cpu.h"

namespace simile::words {

// The sigmoid table: kSigmoidTableSize values over [-kMaxExp, kMaxExp].
inline constexpr int kSigmoidTableSize = 1000;
inline constexpr float kMaxExp = 6.0f;
const float* sigmoid_table();

using NegativeStep = void (*)(const float* in, float* grad, float* output_rows, const uint32_t* targets,
                              size_t n_targets, size_t dims, float alpha);

NegativeStep negative_step(kernels::Isa isa = kernels::best_isa());

// in[d] += delta[d]: how the gradient reaches the input rows.
using AddInto = void (*)(float* in, const float* delta, size_t dims);
AddInto add_into(kernels::Isa isa = kernels::best_isa());

namespace detail {
void negative_step_scalar(const float* in, float* grad, float* output_rows, const uint32_t* targets, size_t n_targets,
                          size_t dims, float alpha);
void negative_step_avx2(const float* in, float* grad, float* output_rows, const uint32_t* targets, size_t n_targets,
                        size_t dims, float alpha);
void add_into_scalar(float* in, const float* delta, size_t dims);
void add_into_avx2(float* in, const float* delta, size_t dims);
}  // namespace detail

}  // namespace simile::words
