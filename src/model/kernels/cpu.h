// Which SIMD kernels this CPU can run.
//
// Kernels come in pairs: a portable scalar reference and an AVX2+FMA (and F16C)
// version compiled with per-function target attributes, so the binary runs on
// any x86-64 and picks the fast path at run time. Tests call both and compare.
#pragma once

namespace simile::kernels {

enum class Isa {
  kScalar,  // portable C++: the reference every fast kernel is tested against
  kAvx2,    // AVX2 + FMA (+ F16C for half-precision conversion)
};

// The best Isa this CPU supports (detected once). SIMILE_ISA=scalar in the
// environment forces the reference kernels, for debugging and comparisons.
Isa best_isa();
// best_isa()'s rule: given the SIMILE_ISA value (null when unset) and whether
// the CPU has AVX2, FMA and F16C. "scalar" forces kScalar; any other value
// changes nothing (a CPU without the features always gets kScalar).
Isa choose_isa(const char* simile_isa, bool cpu_has_avx2);
bool cpu_has_avx2_fma();
bool cpu_has_f16c();
// Whether a kernel with an AVX-512 version may run it: best_isa() is kAvx2,
// the CPU has AVX-512 F, VL, BW and DQ, and SIMILE_ISA is not "avx2", which
// holds every kernel to AVX2 as on the machines without AVX-512 (for
// measuring those here). The versions: the fp32 small-m product
// (small_gemm.h), attention (attention.h), exp and GELU (elementwise.h) and
// the int8 product (int8_gemm.h, with VNNI). oneDNN picks its own ISA.
bool avx512_allowed();

const char* isa_name(Isa isa);

}  // namespace simile::kernels
