// The matrix products of the encoder, behind one small interface so the BLAS
// can be chosen by measurement (bench/gemm_bench.cc, docs/benchmarks.md).
//
// Backends: oneDNN's dnnl_sgemm (the default: about 2x OpenBLAS on this
// model's shapes where AVX-512 is available, and never slower with AVX2 only)
// and OpenBLAS's cblas_sgemm. SIMILE_GEMM=openblas in the environment selects
// OpenBLAS, for comparisons.
#pragma once

#include <cstddef>
#include <vector>

#include "model/kernels/small_gemm.h"
#include "model/kernels/work_share.h"

namespace simile::kernels {

enum class GemmBackend { kReference, kOpenBlas, kOneDnn };

const char* gemm_backend_name(GemmBackend backend);
// Backends compiled in, fastest first (kReference last).
std::vector<GemmBackend> gemm_backends();
GemmBackend default_gemm_backend();

// C[m x n] = A[m x k] * B[n x k]^T, all row-major with leading dimensions in
// floats. B is a weight matrix in PyTorch's Linear layout [out, in]. Threads:
// the count set by the enclosing ComputeThreads (OpenBLAS and oneDNN both
// parallelise one call internally).
void gemm_nt(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
             GemmBackend backend = default_gemm_backend());

// What gemm_nt_bias() applies to each output after adding the bias.
enum class Epilogue { kBias, kBiasGelu };

// C = epilogue(A * B^T + bias) (bias[n] on every row), as gemm_nt, as one
// step of a team (WorkShare::for_blocks over blocks of columns): each block
// is computed single-threaded by whichever thread claims it, with the
// small-m kernel on `panels` (B packed, small_gemm.h) up to kSmallGemmMaxRows
// rows of A, else (or when panels is null) with `backend` on B. Every
// thread of the team calls it with the same arguments; C is complete when
// it returns.
void gemm_nt_bias(WorkShare& share, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                  size_t ldb, const PanelWeights* panels, const float* bias, float* c, size_t ldc, Epilogue epilogue,
                  GemmBackend backend = default_gemm_backend());

// Bounds the threads of every parallel section below it on this thread — the
// BLAS's and our own OpenMP loops — to `threads`, and restores the previous
// settings on destruction. OpenBLAS's thread count is process-wide, so callers
// must not run two ComputeThreads with different counts at once (the Embedder
// serialises its forward passes).
class ComputeThreads {
 public:
  explicit ComputeThreads(int threads);
  ~ComputeThreads();
  ComputeThreads(const ComputeThreads&) = delete;
  ComputeThreads& operator=(const ComputeThreads&) = delete;

  int threads() const { return threads_; }

 private:
  int threads_;
  int saved_omp_;
  int saved_blas_;
};

// The number of cores to use when the user asks for 0 ("all").
int default_thread_count();

}  // namespace simile::kernels
