// C = A * B^T + bias for a few rows of A: the products of a forward pass
// over one short text (one row per token, 13 for a short query).
//
// B is a weight matrix as the model stores it, PyTorch's [out, in], read in
// place: each output is the dot product of an A row and a B row, eight
// floats per instruction along k (sixteen with AVX-512), over tiles of 3 A rows x 4 B rows
// (12 accumulators) so that every B row loaded from memory serves three
// tokens and stays in L1 for the next three. No packing, no allocation, no
// threads: the caller splits the columns among its threads (WorkShare).
// Single-threaded it is about on par with dnnl_sgemm at 13-44 rows (within
// the noise of a shared machine: 0.7-1.1x per shape); what it buys is no
// per-call set-up on 16-column blocks and the bias added in the tile. Above
// kSmallGemmMaxRows rows the BLAS's packed, cache-blocked kernels win.
#pragma once

#include <cstddef>

#include "model/kernels/cpu.h"

namespace simile::kernels {

// Up to this many rows gemm_nt_bias() uses gemm_nt_small_m() (bench/gemm_bench.cc,
// docs/benchmarks.md).
constexpr size_t kSmallGemmMaxRows = 64;

// C[m x n] = A[m x k] * B[n x k]^T (+ bias[n] on every row when bias is not
// null). Row-major, leading dimensions in floats. Sums in float; the SIMD
// paths sum 8 (AVX2) or 16 (AVX-512) partial sums per output, so results
// differ from the scalar reference by rounding only. kAvx2 runs the AVX-512
// version where avx512_allowed() (cpu.h).
void gemm_nt_small_m(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                     const float* bias, float* c, size_t ldc, Isa isa = best_isa());

namespace detail {
// The two SIMD versions, for tests (the caller must check the CPU);
// everything else calls gemm_nt_small_m.
void gemm_nt_small_m_avx2(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                          const float* bias, float* c, size_t ldc);
void gemm_nt_small_m_avx512(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb,
                            const float* bias, float* c, size_t ldc);
}  // namespace detail

}  // namespace simile::kernels
