// gemm_bench: OpenBLAS vs oneDNN on the matrix products of a BERT encoder.
//
// The shapes are those of all-MiniLM-L6-v2's forward pass (hidden 384, FFN 1536)
// for token counts from one short sentence (14) to a large batch (8192):
//   qkv  tokens x 1152 x 384   (query, key and value projections fused)
//   attn tokens x  384 x 384   (attention output projection)
//   ffn1 tokens x 1536 x 384   (intermediate)
//   ffn2 tokens x  384 x 1536  (output)
// Weights are stored as PyTorch keeps them, [out, in], so every product is
// C = A * W^T with A row-major; "openblas-nn" also times W pre-transposed to
// [in, out], the other layout the model room could choose at load time.
//
//   gemm_bench [--threads 1,2] [--tokens 14,64,448,1400,8192] [--reps 7]
//              [--min-ms 30] [--dnnl-isa avx2] [--markdown]
//
// Each cell is the median of --reps timings, each timing as many calls as fill
// --min-ms. Inputs are fixed-seed random numbers; the two libraries' results are
// compared so a fast wrong answer cannot win.
//
// "team" is what the encoder runs: kernels::gemm_nt_bias (bias included) on
// one parallel region of `threads` threads, which claim blocks of columns and
// compute each single-threaded (the small-m kernel up to kSmallGemmMaxRows tokens,
// else oneDNN or OpenBLAS on the slice). "int8" is what `--dtype int8` runs:
// simile::Linear over the same weights quantised (quantise the rows, then
// the int8 product with its dequantisation; GOP/s counts 2mnk like the
// others), checked against the fp32 result within quantisation error.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifdef SIMILE_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "model/kernels/gemm.h"
#include "model/kernels/work_share.h"
#include "model/linear.h"
#include "model/quantize.h"

extern "C" {
char* openblas_get_corename(void);
}

namespace {

struct Shape {
  const char* name;
  size_t n;  // output features
  size_t k;  // input features
};

constexpr Shape kShapes[] = {{"qkv", 1152, 384}, {"attn", 384, 384}, {"ffn1", 1536, 384}, {"ffn2", 384, 1536}};

std::vector<size_t> parse_list(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    char* end = nullptr;
    out.push_back(std::strtoul(p, &end, 10));
    p = (*end == ',') ? end + 1 : end;
    if (end == p && *p) break;
  }
  return out;
}

std::vector<float> random_matrix(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

void set_threads(int threads) {
  // The OpenMP build of OpenBLAS keeps its own count; oneDNN (OpenMP runtime)
  // follows omp_set_num_threads. Set both so each library gets the same cores.
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

// Median seconds per call of fn().
template <typename Fn>
double time_call(Fn&& fn, int reps, double min_ms) {
  fn();  // warm caches, JIT kernels, thread pools
  auto once = [&] {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double first = once();
  size_t calls = std::max<size_t>(1, static_cast<size_t>(min_ms * 1e-3 / std::max(first, 1e-7)));
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t c = 0; c < calls; ++c) fn();
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / calls);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1.0 + std::abs(double(b[i]))));
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> threads = {1, 2};
  std::vector<size_t> tokens = {14, 64, 448, 1400, 8192};
  int reps = 7;
  double min_ms = 30;
  bool markdown = false;
  const char* dnnl_isa = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads")
      threads = parse_list(next());
    else if (a == "--tokens")
      tokens = parse_list(next());
    else if (a == "--reps")
      reps = std::atoi(next());
    else if (a == "--min-ms")
      min_ms = std::atof(next());
    else if (a == "--dnnl-isa")
      dnnl_isa = next();
    else if (a == "--markdown")
      markdown = true;
    else {
      std::fprintf(stderr,
                   "usage: gemm_bench [--threads 1,2] [--tokens 14,64,...] [--reps 7] [--min-ms 30] "
                   "[--dnnl-isa avx2|avx512] [--markdown]\n");
      return 2;
    }
  }

#ifdef SIMILE_HAVE_DNNL
  if (dnnl_isa != nullptr) {
    dnnl_cpu_isa_t isa = std::string(dnnl_isa) == "avx2" ? dnnl_cpu_isa_avx2 : dnnl_cpu_isa_all;
    if (dnnl_set_max_cpu_isa(isa) != dnnl_success) std::fprintf(stderr, "cannot limit oneDNN's ISA\n");
  }
  const dnnl_version_t* v = dnnl_version();
  std::printf("# OpenBLAS %s kernels; oneDNN %d.%d.%d, max ISA %s\n", openblas_get_corename(), v->major, v->minor,
              v->patch, dnnl_isa ? dnnl_isa : "all");
#else
  std::printf("# OpenBLAS %s kernels; oneDNN not built in (install libdnnl-dev)\n", openblas_get_corename());
#endif

  if (markdown) {
    std::printf(
        "| shape (M x N x K) | threads | OpenBLAS ms | OpenBLAS GFLOP/s | OpenBLAS NN ms | oneDNN ms | "
        "oneDNN GFLOP/s | oneDNN / OpenBLAS | team ms | team GFLOP/s | team / oneDNN | int8 ms | int8 GOP/s | "
        "int8 / team |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  } else {
    std::printf("%-22s %3s %12s %8s %12s %12s %8s %8s %9s %8s %8s %9s %8s %8s\n", "shape", "thr", "openblas_ms",
                "GFLOP/s", "openblas_nn", "onednn_ms", "GFLOP/s", "speedup", "team_ms", "GFLOP/s", "vs_dnnl", "int8_ms",
                "GOP/s", "vs_team");
  }

  for (size_t m : tokens) {
    for (const Shape& s : kShapes) {
      std::vector<float> a = random_matrix(m * s.k, 1);
      std::vector<float> w = random_matrix(s.n * s.k, 2);  // [n, k]
      std::vector<float> wt(s.k * s.n);                    // [k, n]
      for (size_t r = 0; r < s.n; ++r)
        for (size_t c = 0; c < s.k; ++c) wt[c * s.n + r] = w[r * s.k + c];
      std::vector<float> c_blas(m * s.n), c_nn(m * s.n), c_dnnl(m * s.n), c_team(m * s.n), c_int8(m * s.n);
      const simile::QuantizedMatrix w_int8 = simile::quantize_weights(w.data(), s.n, s.k);
      const simile::Linear int8 = simile::Linear::int8({&w_int8});
      simile::Int8Activations activations;
      activations.reserve(m, s.k);
      const std::vector<float> zero_bias(s.n, 0.0f);
      double flops = 2.0 * m * s.n * s.k;

      for (size_t t : threads) {
        set_threads(static_cast<int>(t));
        auto blas = [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, s.n, s.k, 1.0f, a.data(), s.k, w.data(), s.k, 0.0f,
                      c_blas.data(), s.n);
        };
        auto blas_nn = [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, s.n, s.k, 1.0f, a.data(), s.k, wt.data(), s.n, 0.0f,
                      c_nn.data(), s.n);
        };
        double t_blas = time_call(blas, reps, min_ms);
        double t_nn = time_call(blas_nn, reps, min_ms);
        double t_dnnl = NAN;
#ifdef SIMILE_HAVE_DNNL
        // Unlike BLAS, dnnl_sgemm takes row-major matrices.
        auto dnnl = [&] {
          dnnl_sgemm('N', 'T', m, s.n, s.k, 1.0f, a.data(), s.k, w.data(), s.k, 0.0f, c_dnnl.data(), s.n);
        };
        t_dnnl = time_call(dnnl, reps, min_ms);
        double diff = max_rel_diff(c_dnnl, c_blas);
        if (diff > 1e-4) {
          std::fprintf(stderr, "oneDNN and OpenBLAS disagree on %s m=%zu: %g\n", s.name, m, diff);
          return 1;
        }
#endif
        const simile::kernels::PanelWeights panels(w.data(), s.n, s.k, s.k);
        auto team = [&] {
          simile::kernels::run_team(static_cast<int>(t), 1, [&](simile::kernels::WorkShare& share) {
            simile::kernels::gemm_nt_bias(share, m, s.n, s.k, a.data(), s.k, w.data(), s.k, &panels, zero_bias.data(),
                                          c_team.data(), s.n, simile::kernels::Epilogue::kBias);
          });
        };
        double t_team = time_call(team, reps, min_ms);
        if (max_rel_diff(c_team, c_blas) > 1e-4) {
          std::fprintf(stderr, "team product and OpenBLAS disagree on %s m=%zu\n", s.name, m);
          return 1;
        }
        auto int8_team = [&] {
          simile::kernels::run_team(static_cast<int>(t), int8.steps(), [&](simile::kernels::WorkShare& share) {
            int8.apply(share, a.data(), m, c_int8.data(), zero_bias.data(), simile::kernels::Epilogue::kBias,
                       activations);
          });
        };
        double t_int8 = time_call(int8_team, reps, min_ms);
        // Quantisation error: sums of k products of [-1, 1] values, each off
        // by about 1/127 of a step on both sides.
        if (max_rel_diff(c_int8, c_blas) > 0.05 * std::sqrt(double(s.k))) {
          std::fprintf(stderr, "int8 product too far from OpenBLAS on %s m=%zu: %g\n", s.name, m,
                       max_rel_diff(c_int8, c_blas));
          return 1;
        }
        if (max_rel_diff(c_nn, c_blas) > 1e-4) {
          std::fprintf(stderr, "OpenBLAS layouts disagree on %s m=%zu\n", s.name, m);
          return 1;
        }
        char shape[64];
        std::snprintf(shape, sizeof shape, "%s %zux%zux%zu", s.name, m, s.n, s.k);
        if (markdown) {
          std::printf("| %s | %zu | %.3f | %.1f | %.3f | %.3f | %.1f | %.2f | %.3f | %.1f | %.2f | %.3f | %.1f | %.2f |\n",
                      shape, t, t_blas * 1e3, flops / t_blas * 1e-9, t_nn * 1e3, t_dnnl * 1e3, flops / t_dnnl * 1e-9,
                      t_blas / t_dnnl, t_team * 1e3, flops / t_team * 1e-9, t_dnnl / t_team, t_int8 * 1e3,
                      flops / t_int8 * 1e-9, t_team / t_int8);
        } else {
          std::printf("%-22s %3zu %12.3f %8.1f %12.3f %12.3f %8.1f %8.2f %9.3f %8.1f %8.2f %9.3f %8.1f %8.2f\n", shape, t,
                      t_blas * 1e3, flops / t_blas * 1e-9, t_nn * 1e3, t_dnnl * 1e3, flops / t_dnnl * 1e-9,
                      t_blas / t_dnnl, t_team * 1e3, flops / t_team * 1e-9, t_dnnl / t_team, t_int8 * 1e3,
                      flops / t_int8 * 1e-9, t_team / t_int8);
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
