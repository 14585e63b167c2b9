// C = A * B^T + bias for a few rows of A: the products of a forward pass
// over one short text (one row per token, 13 for a short query).
//
// B is a weight matrix as the model stores it, PyTorch's [out, in], packed
// once (PanelWeights) into panels of 16 output columns, each k rows of 16
// floats. A tile of C — up to 8 rows x 32 columns with AVX-512, 6 x 16 with
// AVX2 — keeps its sums in registers: each step along k loads one row of
// each panel and broadcasts one A value per row, so there are no horizontal
// sums and the panel streams from memory in order. No allocation, no
// threads: the caller splits the columns among its threads (WorkShare).
// Single-threaded, weights in cache, it runs at 140-180 GFLOP/s on 13-96
// rows with AVX-512 (1.4-2x the dot-product kernel it replaced, 1.0-1.2x
// dnnl_sgemm on the unpacked weights; bench/gemm_bench.cc); in a pass over
// one text the weights come from memory, where binary16 panels halve the
// wait (short texts 3.2 -> 1.9 ms on 1 thread). Above kSmallGemmMaxRows rows
// oneDNN's cache-blocked kernels win.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/kernels/cpu.h"

namespace simile::kernels {

// Up to this many rows gemm_nt_bias() uses gemm_nt_small_m(): one text of
// 128 tokens. Measured in whole passes (docs/benchmarks.md): at 64 the
// longest medium texts (p99) took 15 ms against 11 at 128; at 256 long
// texts (245 tokens) took 50 ms against 42.
constexpr size_t kSmallGemmMaxRows = 128;

// B [n x k] (row-major, leading dimension ldb) in panels of kPanelWidth
// columns: panel q holds columns [16q, 16q + 16), row p of it at
// panel(q) + 16p; columns past n are zero. When every value of B is exactly
// a binary16 (weights loaded from F16 tensors), the panels hold binary16:
// the same numbers in half the bytes, which is what a pass over one short
// text waits for (it reads every weight once, from memory rather than
// cache); the kernels widen them with F16C, exactly.
class PanelWeights {
 public:
  static constexpr size_t kPanelWidth = 16;
  PanelWeights() = default;
  PanelWeights(const float* b, size_t n, size_t k, size_t ldb);
  size_t n() const { return n_; }
  size_t k() const { return k_; }
  bool half() const { return !halves_.empty(); }
  // Panel q's first value, as float or binary16 (half()).
  const float* panel(size_t q) const { return floats_.data() + q * kPanelWidth * k_; }
  const uint16_t* half_panel(size_t q) const { return halves_.data() + q * kPanelWidth * k_; }
  float at(size_t col, size_t p) const;

 private:
  size_t n_ = 0, k_ = 0;
  std::vector<float> floats_;
  std::vector<uint16_t> halves_;
};

// Columns [first, first + n) of C[m x *] = A[m x k] * B^T (+ bias on every
// row when bias is not null; bias[0] is column `first`'s), into c (c[0] is
// row 0, column `first`). `first` is a multiple of kPanelWidth. Sums in
// float in the order of k, so the SIMD versions differ from the scalar
// reference by the rounding of the FMAs only. kAvx2 runs the AVX-512
// version where avx512_allowed() (cpu.h).
void gemm_nt_small_m(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                     const float* bias, float* c, size_t ldc, Isa isa = best_isa());

namespace detail {
// The two SIMD versions, for tests (the caller must check the CPU);
// everything else calls gemm_nt_small_m.
void gemm_nt_small_m_avx2(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                          const float* bias, float* c, size_t ldc);
void gemm_nt_small_m_avx512(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                            const float* bias, float* c, size_t ldc);
}  // namespace detail

}  // namespace simile::kernels
