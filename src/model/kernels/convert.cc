#include "model/kernels/convert.h"

#include <immintrin.h>

#include <cstring>

namespace simile::kernels {

namespace {

float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

__attribute__((target("avx,f16c"))) void f16_to_f32_f16c(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

__attribute__((target("avx2"))) void bf16_to_f32_avx2(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(wide, 16));
  }
  for (; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

}  // namespace

std::optional<uint16_t> f32_to_f16_exact(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const int exponent = static_cast<int>((bits >> 23) & 0xffu);
  const uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0 && mantissa == 0) return sign;                                                      // +-0
  if (exponent == 0xff) return mantissa == 0 ? std::optional<uint16_t>(sign | 0x7c00u) : std::nullopt;  // inf, NaN
  if (exponent == 0) return std::nullopt;  // float subnormals are far below the smallest half
  const int e = exponent - 127;
  if (e >= -14 && e <= 15) {  // a normal half: 10 bits of mantissa
    if ((mantissa & 0x1fffu) != 0) return std::nullopt;
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(e + 15) << 10 | mantissa >> 13);
  }
  if (e >= -24 && e < -14) {  // a subnormal half: significand * 2^(e - 23) = m * 2^-24
    const uint32_t significand = mantissa | 0x800000u;
    const int shift = -(e + 1);  // 14..23
    if ((significand & ((1u << shift) - 1)) != 0) return std::nullopt;
    return static_cast<uint16_t>(sign | significand >> shift);
  }
  return std::nullopt;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float32.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    uint32_t bits;
    std::memcpy(&bits, &magnitude, sizeof bits);
    return from_bits(sign | bits);
  }
  if (exponent == 0x1f) {
    // Infinity, or NaN with its payload kept and the quiet bit set.
    return from_bits(sign | 0x7f800000u | (mantissa << 13) | (mantissa != 0 ? 0x00400000u : 0u));
  }
  return from_bits(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
}

float bf16_to_f32(uint16_t h) { return from_bits(static_cast<uint32_t>(h) << 16); }

void f16_to_f32(const uint16_t* src, float* dst, size_t n, Isa isa) {
  if (isa == Isa::kAvx2 && cpu_has_f16c()) return f16_to_f32_f16c(src, dst, n);
  for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, size_t n, Isa isa) {
  if (isa == Isa::kAvx2 && cpu_has_avx2_fma()) return bf16_to_f32_avx2(src, dst, n);
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

}  // namespace simile::kernels
