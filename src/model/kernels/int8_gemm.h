// The int8 matrix product of dynamically quantised linear layers:
//
//   y[i][j] = sx[i] * sw[j] * sum_k (qx[i][k] - zx[i]) * qw[j][k]  (+ bias[j], then GELU)
//
// Weights are int8 per output row (symmetric, qw in [-127, 127], scale sw[j]).
// Activations are quantised per row at run time, asymmetrically to 7 bits:
// qx in [0, 127] with an integer zero point zx. Why 7 bits: AVX2's only
// u8 x s8 multiply, vpmaddubsw, adds pairs of products into int16 with
// saturation; with qx <= 127 and |qw| <= 127 a pair is at most 32258, so it
// never saturates and the int32 sums are exact — identical in the scalar
// reference, the AVX2 kernel and any VNNI kernel. Asymmetric 7 bits spend
// their 128 levels on [min, max] of the row, which is as fine as symmetric
// 8 bits on a symmetric row and finer on a skewed one (GELU outputs).
//
// Layout: weights are packed once into panels of 16 output rows, the k axis
// padded to a multiple of 4 and interleaved so that one 32-byte load holds
// 4 consecutive k of 8 rows (what vpmaddubsw + vpmaddwd consume).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "model/kernels/cpu.h"
#include "model/kernels/work_share.h"

namespace simile::kernels {

// Values of k are padded to a multiple of this.
inline constexpr size_t kInt8KGroup = 4;
// Output rows per packed panel.
inline constexpr size_t kInt8Panel = 16;

inline size_t int8_padded_k(size_t k) { return (k + kInt8KGroup - 1) / kInt8KGroup * kInt8KGroup; }

// Quantised weights in the kernel's layout. Immutable once built; shared by
// every thread.
class PackedInt8Weights {
 public:
  PackedInt8Weights() = default;
  // Packs `n` rows of `k` int8 values (row-major, leading dimension ldw, all
  // in [-127, 127]) with their scales.
  PackedInt8Weights(const int8_t* w, size_t n, size_t k, size_t ldw, const float* scales);

  size_t rows() const { return n_; }  // output features
  size_t k() const { return k_; }     // input features
  size_t padded_k() const { return int8_padded_k(k_); }
  size_t panels() const { return (n_ + kInt8Panel - 1) / kInt8Panel; }
  const int8_t* panel(size_t p) const { return data_.get() + p * kInt8Panel * padded_k(); }
  const float* scales() const { return scales_.get(); }       // [panels * 16], zero past n
  const int32_t* row_sums() const { return row_sums_.get(); }  // sum_k qw[j][k], [panels * 16]
  size_t bytes() const { return panels() * kInt8Panel * (padded_k() + sizeof(float) + sizeof(int32_t)); }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  size_t n_ = 0, k_ = 0;
  std::unique_ptr<int8_t, Free> data_;
  std::unique_ptr<float[]> scales_;
  std::unique_ptr<int32_t[]> row_sums_;
};

// Activations quantised per row, as quantize_rows_u7 writes them: `q` holds
// rows x ld bytes in [0, 127] (ld >= int8_padded_k(k), the padding zeroed);
// per row, x ~ scale * (q - zero), except at column outlier_col, whose
// value is kept in fp32 in `outlier` (its byte is the zero point, so the
// int8 product leaves it out and the dequantisation adds it back).
//
// Why keep one value out: the rows that enter BERT's projections carry a
// few channels far larger than the rest (all-MiniLM-L6-v2: up to 30 where a
// row's other values stay within about 2), and in 7 bits the step follows
// the largest. Taking each row's largest value out of the range brings the
// worst cosine to fp32 on the golden texts from 0.975 to 0.994
// (docs/models.md, "int8 inference").
struct QuantizedRows {
  uint8_t* q = nullptr;
  size_t ld = 0;
  float* scale = nullptr;
  int32_t* zero = nullptr;
  float* outlier = nullptr;
  int32_t* outlier_col = nullptr;

  // The same rows from row r on.
  QuantizedRows from(size_t r) const { return {q + r * ld, ld, scale + r, zero + r, outlier + r, outlier_col + r}; }
};

// Per-row activation quantisation of x (rows x k, leading dimension ldx):
// the row's largest value in magnitude (the first, on ties) goes to
// `outlier`, the rest is quantised over its own range, widened to include 0
// so that 0 is exact; a row of zeros gets scale 1. Both Isas give identical
// results.
void quantize_rows_u7(const float* x, size_t rows, size_t k, size_t ldx, const QuantizedRows& out,
                      Isa isa = best_isa());

// The implementations of the int8 product, all giving the same int32 sums.
enum class Int8Kernel {
  kScalar,      // the reference
  kAvx2,        // vpmaddubsw + vpmaddwd (the target: AVX2 machines)
  kAvx2Vnni,    // vpdpbusd on 256-bit vectors (AVX512-VNNI + VL)
  kAvx512Vnni,  // vpdpbusd on 512-bit vectors: a whole panel's k group per instruction
};
const char* int8_kernel_name(Int8Kernel kernel);
// What this CPU runs: kScalar when best_isa() is; else kAvx512Vnni where the
// CPU has it and avx512_allowed() (SIMILE_ISA=avx2 caps it at kAvx2); else
// kAvx2. (kAvx2Vnni is kept for the tests and measurements: on the one CPU
// here the 512-bit version is faster.)
Int8Kernel best_int8_kernel();
// Whether this CPU can run a kernel.
bool int8_kernel_supported(Int8Kernel kernel);

// acc[i][j] = sum_k qa[i][k] * qw[j][k] for i < m, j < w.rows(): exact int32,
// bit-identical for every kernel. qa: m x lda bytes in [0, 127], lda >= padded_k.
void gemm_u7s8_s32(size_t m, const uint8_t* qa, size_t lda, const PackedInt8Weights& w, int32_t* acc, size_t ldacc,
                   Int8Kernel kernel = best_int8_kernel());

enum class Int8Epilogue {
  kNone,      // y = x W^T (the caller adds the bias, e.g. inside LayerNorm)
  kBias,      // y = x W^T + b
  kBiasGelu,  // y = gelu(x W^T + b), erf GELU
};

// y (m x w.rows(), leading dimension ldy) = the dequantised product of
// quantised activations (from quantize_rows_u7, each row's outlier times
// its int8 weight added in fp32) and w, with the epilogue, as one step of a
// team (blocks of 16 output columns). The scalar kernel dequantises in
// scalar code, the others with AVX2 (the same formula, the same fused
// multiply-adds: equal results).
void linear_int8(WorkShare& share, size_t m, const QuantizedRows& a, const PackedInt8Weights& w, const float* bias,
                 Int8Epilogue epilogue, float* y, size_t ldy, Int8Kernel kernel = best_int8_kernel());

}  // namespace simile::kernels
