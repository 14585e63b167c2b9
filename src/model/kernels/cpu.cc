#include "model/kernels/cpu.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

namespace simile::kernels {

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

bool cpu_has_f16c() {
  // GCC's __builtin_cpu_supports has no "f16c" name before GCC 14: read CPUID
  // leaf 1, ECX bit 29 (F16C) and bit 27 (OSXSAVE, the OS saves AVX state).
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & (1u << 29)) != 0 && (ecx & (1u << 27)) != 0 && __builtin_cpu_supports("avx");
  }();
  return has;
}

Isa choose_isa(const char* simile_isa, bool cpu_has_avx2) {
  if (simile_isa != nullptr && std::strcmp(simile_isa, "scalar") == 0) return Isa::kScalar;
  return cpu_has_avx2 ? Isa::kAvx2 : Isa::kScalar;
}

Isa best_isa() {
  static const Isa isa = choose_isa(std::getenv("SIMILE_ISA"), cpu_has_avx2_fma() && cpu_has_f16c());
  return isa;
}

bool avx512_allowed() {
  static const bool allowed = [] {
    const char* isa = std::getenv("SIMILE_ISA");
    if (best_isa() != Isa::kAvx2 || (isa != nullptr && std::strcmp(isa, "avx2") == 0)) return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  }();
  return allowed;
}

const char* isa_name(Isa isa) { return isa == Isa::kAvx2 ? "avx2" : "scalar"; }

}  // namespace simile::kernels
