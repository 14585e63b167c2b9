#include "model/kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>

#ifdef SIMILE_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "model/kernels/elementwise.h"
#include "model/kernels/small_gemm.h"
#include "util/check.h"

extern "C" {
// OpenBLAS extensions (declared by its cblas.h too, but not by every cblas.h).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace simile::kernels {

namespace {

void gemm_reference(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb, float* c,
                    size_t ldc) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double acc = 0;
      for (size_t p = 0; p < k; ++p) acc += static_cast<double>(a[i * lda + p]) * b[j * ldb + p];
      c[i * ldc + j] = static_cast<float>(acc);
    }
}

}  // namespace

const char* gemm_backend_name(GemmBackend backend) {
  switch (backend) {
    case GemmBackend::kReference:
      return "reference";
    case GemmBackend::kOpenBlas:
      return "openblas";
    case GemmBackend::kOneDnn:
      return "onednn";
  }
  return "?";
}

std::vector<GemmBackend> gemm_backends() {
#ifdef SIMILE_HAVE_DNNL
  return {GemmBackend::kOneDnn, GemmBackend::kOpenBlas, GemmBackend::kReference};
#else
  return {GemmBackend::kOpenBlas, GemmBackend::kReference};
#endif
}

GemmBackend default_gemm_backend() {
  static const GemmBackend backend = [] {
    const char* forced = std::getenv("SIMILE_GEMM");
    if (forced != nullptr && std::strcmp(forced, "openblas") == 0) return GemmBackend::kOpenBlas;
    return gemm_backends().front();
  }();
  return backend;
}

void gemm_nt(size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
             GemmBackend backend) {
  if (m == 0 || n == 0) return;
  switch (backend) {
    case GemmBackend::kReference:
      gemm_reference(m, n, k, a, lda, b, ldb, c, ldc);
      return;
    case GemmBackend::kOpenBlas:
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(m), static_cast<blasint>(n),
                  static_cast<blasint>(k), 1.0f, a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), 0.0f, c,
                  static_cast<blasint>(ldc));
      return;
    case GemmBackend::kOneDnn:
#ifdef SIMILE_HAVE_DNNL
    {
      // dnnl_sgemm takes row-major matrices (unlike BLAS). Inside a parallel
      // region it runs on the calling thread alone.
      dnnl_status_t st = dnnl_sgemm('N', 'T', static_cast<dnnl_dim_t>(m), static_cast<dnnl_dim_t>(n),
                                    static_cast<dnnl_dim_t>(k), 1.0f, a, static_cast<dnnl_dim_t>(lda), b,
                                    static_cast<dnnl_dim_t>(ldb), 0.0f, c, static_cast<dnnl_dim_t>(ldc));
      SIMILE_CHECK(st == dnnl_success);  // only invalid arguments fail, and ours are checked shapes
      return;
    }
#else
      SIMILE_CHECK(!"oneDNN is not compiled in");
#endif
  }
}

void gemm_nt_bias(WorkShare& share, size_t m, size_t n, size_t k, const float* a, size_t lda, const float* b,
                  size_t ldb, const PanelWeights* panels, const float* bias, float* c, size_t ldc, Epilogue epilogue,
                  GemmBackend backend) {
  if (m == 0) return share.for_blocks(0, 1, [](size_t, size_t) {});
  const bool small_m = m <= kSmallGemmMaxRows && panels != nullptr && backend != GemmBackend::kReference;
  // Blocks of 32 columns for the small-m kernel: two panels, its widest
  // tile, a few microseconds each for one short text. The BLAS gets two
  // blocks per thread (multiples of 16 columns): each call costs set-up and
  // re-reads A, so fewer, wider calls pay (one long text, 2 threads: 64-column
  // blocks measured 9% slower than oneDNN threading the whole product itself).
  const size_t per_call = (n + 2 * static_cast<size_t>(share.count()) - 1) / (2 * static_cast<size_t>(share.count()));
  const size_t block = small_m ? 2 * PanelWeights::kPanelWidth : (per_call + 15) / 16 * 16;
  share.for_blocks(n, block, [&](size_t first, size_t last) {
    const size_t cols = last - first;
    float* slice = c + first;
    if (small_m) {
      gemm_nt_small_m(m, first, cols, a, lda, *panels, bias + first, slice, ldc);
      if (epilogue == Epilogue::kBiasGelu) bias_gelu(slice, m, cols, ldc, nullptr);
      return;
    }
    gemm_nt(m, cols, k, a, lda, b + first * ldb, ldb, slice, ldc, backend);
    if (epilogue == Epilogue::kBiasGelu)
      bias_gelu(slice, m, cols, ldc, bias + first);
    else
      add_bias(slice, m, cols, ldc, bias + first);
  });
}

int default_thread_count() { return omp_get_num_procs(); }

ComputeThreads::ComputeThreads(int threads)
    : threads_(threads > 0 ? threads : default_thread_count()),
      saved_omp_(omp_get_max_threads()),
      saved_blas_(openblas_get_num_threads()) {
  // The OpenMP build of OpenBLAS keeps its own count (and also sets this
  // thread's OpenMP count); oneDNN's OpenMP runtime follows omp_get_max_threads.
  openblas_set_num_threads(threads_);
  omp_set_num_threads(threads_);
}

ComputeThreads::~ComputeThreads() {
  openblas_set_num_threads(saved_blas_);
  omp_set_num_threads(saved_omp_);
}

}  // namespace simile::kernels
