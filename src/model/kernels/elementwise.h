// Element-wise and row-wise kernels of the encoder: exp, GELU, LayerNorm,
// and for decoder-only models SiLU-gated units and RMSNorm.
//
// Each has a scalar reference (Isa::kScalar) and an AVX2+FMA version; exp and
// GELU also an AVX-512 one (the same arithmetic, poly_coefficients.h); tests
// compare them on random inputs. The SIMD exp and erf are polynomial
// approximations accurate to float rounding (exp: relative error < 2e-7;
// GELU: |error| < 3e-7 * max(|x|, 1)), not the fast low-precision kind.
#pragma once

#include <cstddef>

#include "model/kernels/cpu.h"

namespace simile::kernels {

// x[i] = exp(x[i]). Inputs above 88 saturate at exp(88); inputs below -87.33
// (results under FLT_MIN) give 0 in the AVX2 path.
void exp_inplace(float* x, size_t n, Isa isa = best_isa());

// GELU with the exact erf, as BERT's "gelu": 0.5 * x * (1 + erf(x / sqrt(2))).
float gelu_erf(float x);
// x[r][c] = gelu(x[r][c] + bias[c]) for a rows x cols row-major matrix with
// leading dimension ld; bias may be null.
void bias_gelu(float* x, size_t rows, size_t cols, size_t ld, const float* bias, Isa isa = best_isa());

// x[r][c] += bias[c] for a rows x cols row-major matrix with leading
// dimension ld (one pass the compiler vectorises; no SIMD variant needed).
void add_bias(float* x, size_t rows, size_t cols, size_t ld, const float* bias);

// Post-LN residual block: for each of `rows` rows of length `cols`,
//   x = LayerNorm(x + bias + residual) * gamma + beta
// with biased variance, as torch.nn.functional.layer_norm. bias and residual
// may be null; residual may not alias x.
void bias_residual_layer_norm(float* x, const float* residual, const float* bias, const float* gamma, const float* beta,
                              size_t rows, size_t cols, float eps, Isa isa = best_isa());

// SwiGLU: gate[r][c] = silu(gate[r][c]) * up[r][c], silu(x) = x / (1 + exp(-x)),
// for a rows x cols matrix with leading dimension ld (both operands).
void silu_mul(float* gate, const float* up, size_t rows, size_t cols, size_t ld, Isa isa = best_isa());

// Pre-norm residual step of decoder layers (LlamaRMSNorm): for each of `rows`
// rows of length `cols`, x += delta (when delta is not null), then
//   out = x / sqrt(mean(x^2) + eps) * gamma
// out may alias x or delta (each row is read before it is written).
void residual_rms_norm(float* x, const float* delta, float* out, const float* gamma, size_t rows, size_t cols,
                       float eps, Isa isa = best_isa());

namespace detail {
// The AVX-512 versions that exp_inplace and bias_gelu run for Isa::kAvx2
// where avx512_allowed(), for tests (the caller checks the CPU).
void exp_avx512(float* x, size_t n);
void bias_gelu_avx512(float* x, size_t rows, size_t cols, size_t ld, const float* bias);
}  // namespace detail

}  // namespace simile::kernels
