#include "index/vector_codec.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "model/kernels/convert.h"

namespace simile {

using kernels::Isa;

namespace {

constexpr float kHalfMax = 65504.0f;  // the largest finite binary16

uint32_t float_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

float load_float(const uint8_t* p) {
  float x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

bool use_avx2(Isa isa) { return isa == Isa::kAvx2 && kernels::cpu_has_avx2_fma() && kernels::cpu_has_f16c(); }

// ---- scalar references -------------------------------------------------------

float dot_f32_scalar(const float* q, const uint8_t* code, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += q[i] * load_float(code + 4 * i);
  return s;
}

float dot_f16_scalar(const float* q, const uint8_t* code, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += q[i] * kernels::f16_to_f32(load_u16(code + 2 * i));
  return s;
}

float dot_i8_scalar(const float* q, const uint8_t* code, size_t d) {
  const float scale = load_float(code);
  const auto* c = reinterpret_cast<const int8_t*>(code + 4);
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += q[i] * static_cast<float>(c[i]);
  return scale * s;
}

float l2sq_f32_scalar(const float* q, const uint8_t* code, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float diff = q[i] - load_float(code + 4 * i);
    s += diff * diff;
  }
  return s;
}

float l2sq_f16_scalar(const float* q, const uint8_t* code, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float diff = q[i] - kernels::f16_to_f32(load_u16(code + 2 * i));
    s += diff * diff;
  }
  return s;
}

float l2sq_i8_scalar(const float* q, const uint8_t* code, size_t d) {
  const float scale = load_float(code);
  const auto* c = reinterpret_cast<const int8_t*>(code + 4);
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float diff = q[i] - scale * static_cast<float>(c[i]);
    s += diff * diff;
  }
  return s;
}

// ---- scalar block kernels ------------------------------------------------------

template <VectorType kType, ScoreKernel kScore>
void block_scalar(const float* q, const uint8_t* codes, size_t n, size_t d, float* out) {
  const size_t code_size = encoded_size(kType, d);
  for (size_t i = 0; i < n; ++i) out[i] = kScore(q, codes + i * code_size, d);
}

// ---- AVX2 + FMA + F16C ---------------------------------------------------------
// Four independent accumulators over 32 values per step hide the FMA latency.
// The last d % 8 values are one more 8-wide step with the lanes past d zeroed
// in both operands: float32 codes and the query are read with masked loads
// (the masked-off lanes are never touched); half and int8 codes are read
// 8 wide when the bytes past the vector are known to be readable (a block
// kernel scoring a vector that is not the last of its block) and masked after
// the conversion, else copied into a zeroed buffer first. No kernel reads
// past the memory it was given.
#define SIMILE_AVX2 __attribute__((target("avx2,fma,f16c"), always_inline)) inline
#define SIMILE_AVX2_FN __attribute__((target("avx2,fma,f16c")))

SIMILE_AVX2 float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 8 stored values from element i on, as floats. For int8, `code` points
// past the scale and the scale is applied by the caller.
template <VectorType kType>
SIMILE_AVX2 __m256 load8(const uint8_t* code, size_t i) {
  if constexpr (kType == VectorType::kF32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(code) + i);
  } else if constexpr (kType == VectorType::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code + 2 * i)));
  } else {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + i))));
  }
}

template <VectorType kType>
constexpr size_t kElemBytes = kType == VectorType::kF32   ? 4
                              : kType == VectorType::kF16 ? 2
                                                          : 1;

// All bits set in lanes [0, r), zero in the others (r <= 8).
SIMILE_AVX2 __m256i lane_mask(size_t r) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(r)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The query's last d % 8 values and the mask of those lanes, computed once
// per block of vectors.
struct QueryTail {
  __m256i mask;
  __m256 q;
};

SIMILE_AVX2 QueryTail query_tail(const float* query, size_t d) {
  const size_t start = d - d % 8;
  const __m256i mask = lane_mask(d - start);
  return {mask, _mm256_maskload_ps(query + start, mask)};
}

// The stored values of the tail step (lanes past d zero). `readable`: how
// many bytes from the start of the tail may be read.
template <VectorType kType>
SIMILE_AVX2 __m256 load_tail(const uint8_t* code, size_t d, const __m256i mask, size_t readable) {
  const size_t start = d - d % 8;
  if constexpr (kType == VectorType::kF32) {
    return _mm256_maskload_ps(reinterpret_cast<const float*>(code) + start, mask);
  } else {
    if (readable >= 8 * kElemBytes<kType>) return _mm256_and_ps(load8<kType>(code, start), _mm256_castsi256_ps(mask));
    alignas(16) uint8_t buf[8 * kElemBytes<kType>] = {};
    std::memcpy(buf, code + start * kElemBytes<kType>, (d - start) * kElemBytes<kType>);
    return load8<kType>(buf, 0);
  }
}

template <bool kL2>
SIMILE_AVX2 __m256 step(__m256 q, __m256 v, __m256 scale, __m256 acc) {
  if constexpr (kL2) {
    const __m256 diff = _mm256_fnmadd_ps(scale, v, q);
    return _mm256_fmadd_ps(diff, diff, acc);
  } else {
    return _mm256_fmadd_ps(q, v, acc);
  }
}

// q . v (kL2 false; int8: without the scale) or |q - scale * v|^2 (kL2 true;
// scale is 1 for the float types) over the stored values; `readable` as for
// load_tail, counted from the end of the vector's code.
template <VectorType kType, bool kL2>
SIMILE_AVX2 float score_avx2(const float* q, const uint8_t* code, size_t d, float scale, const QueryTail& tail,
                             size_t readable) {
  const __m256 s = _mm256_set1_ps(scale);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    a0 = step<kL2>(_mm256_loadu_ps(q + i), load8<kType>(code, i), s, a0);
    a1 = step<kL2>(_mm256_loadu_ps(q + i + 8), load8<kType>(code, i + 8), s, a1);
    a2 = step<kL2>(_mm256_loadu_ps(q + i + 16), load8<kType>(code, i + 16), s, a2);
    a3 = step<kL2>(_mm256_loadu_ps(q + i + 24), load8<kType>(code, i + 24), s, a3);
  }
  for (; i + 8 <= d; i += 8) a0 = step<kL2>(_mm256_loadu_ps(q + i), load8<kType>(code, i), s, a0);
  if (i < d) {
    const size_t tail_bytes = (d - i) * kElemBytes<kType>;
    a1 = step<kL2>(tail.q, load_tail<kType>(code, d, tail.mask, tail_bytes + readable), s, a1);
  }
  return hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

// One vector: nothing past its code is known to be readable.
template <VectorType kType, bool kL2>
SIMILE_AVX2_FN float score_one_avx2(const float* q, const uint8_t* code, size_t d) {
  const QueryTail tail = query_tail(q, d);
  if constexpr (kType == VectorType::kI8) {
    const float scale = load_float(code);
    const float s = score_avx2<kType, kL2>(q, code + 4, d, kL2 ? scale : 1.0f, tail, 0);
    return kL2 ? s : scale * s;
  } else {
    return score_avx2<kType, kL2>(q, code, d, 1.0f, tail, 0);
  }
}

// n vectors back to back: the query's tail is loaded once, and every vector
// but the last may read its tail 8 wide into the next one.
template <VectorType kType, bool kL2>
SIMILE_AVX2_FN void score_block_avx2(const float* q, const uint8_t* codes, size_t n, size_t d, float* out) {
  const QueryTail tail = query_tail(q, d);
  const size_t code_size = encoded_size(kType, d);
  for (size_t r = 0; r < n; ++r) {
    const uint8_t* code = codes + r * code_size;
    const size_t readable = (n - 1 - r) * code_size;
    if constexpr (kType == VectorType::kI8) {
      const float scale = load_float(code);
      const float s = score_avx2<kType, kL2>(q, code + 4, d, kL2 ? scale : 1.0f, tail, readable);
      out[r] = kL2 ? s : scale * s;
    } else {
      out[r] = score_avx2<kType, kL2>(q, code, d, 1.0f, tail, readable);
    }
  }
}

SIMILE_AVX2_FN void f32_to_f16_f16c(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = static_cast<uint16_t>(_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT));
}

// Clamps to +-65504 (NaN passes: min/max return their second operand when
// either is NaN), then converts.
SIMILE_AVX2_FN void encode_f16_f16c(const float* src, uint8_t* out, size_t n) {
  const __m256 lo = _mm256_set1_ps(-kHalfMax), hi = _mm256_set1_ps(kHalfMax);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_max_ps(lo, _mm256_min_ps(hi, _mm256_loadu_ps(src + i)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) {
    const float x = src[i] > kHalfMax ? kHalfMax : src[i] < -kHalfMax ? -kHalfMax : src[i];
    const auto h = static_cast<uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT));
    std::memcpy(out + 2 * i, &h, sizeof h);
  }
}

SIMILE_AVX2_FN void decode_i8_avx2(const uint8_t* code, size_t d, float* out) {
  const __m256 s = _mm256_set1_ps(load_float(code));
  const uint8_t* c = code + 4;
  size_t i = 0;
  for (; i + 8 <= d; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(s, load8<VectorType::kI8>(c, i)));
  const float scale = load_float(code);
  for (; i < d; ++i) out[i] = scale * static_cast<float>(static_cast<int8_t>(c[i]));
}

void encode_i8(const float* v, size_t d, uint8_t* out) {
  float max_abs = 0;
  for (size_t i = 0; i < d; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));  // NaN is skipped
  const float scale = max_abs / 127.0f;
  std::memcpy(out, &scale, sizeof scale);
  for (size_t i = 0; i < d; ++i) {
    // x / scale lies in [-127, 127] up to rounding; the clamp also keeps a
    // NaN (or inf / inf) from reaching the integer conversion.
    const float r = scale > 0 ? std::nearbyint(v[i] / scale) : 0.0f;
    const float clamped = r >= 127.0f ? 127.0f : r <= -127.0f ? -127.0f : (r == r ? r : 0.0f);
    out[4 + i] = static_cast<uint8_t>(static_cast<int8_t>(clamped));
  }
}

}  // namespace

std::string_view vector_type_name(VectorType type) {
  switch (type) {
    case VectorType::kF32:
      return "f32";
    case VectorType::kF16:
      return "f16";
    case VectorType::kI8:
      return "int8";
  }
  return "?";
}

Result<VectorType> parse_vector_type(std::string_view name) {
  if (name == "f32" || name == "float32") return VectorType::kF32;
  if (name == "f16" || name == "float16") return VectorType::kF16;
  if (name == "int8" || name == "i8") return VectorType::kI8;
  return Status::invalid_argument("unknown vector type '" + std::string(name) + "' (choose f32, f16 or int8)");
}

size_t encoded_size(VectorType type, size_t dims) {
  switch (type) {
    case VectorType::kF32:
      return 4 * dims;
    case VectorType::kF16:
      return 2 * dims;
    case VectorType::kI8:
      return 4 + dims;
  }
  return 0;
}

void encode_vector(VectorType type, const float* v, size_t dims, uint8_t* out, Isa isa) {
  switch (type) {
    case VectorType::kF32:
      std::memcpy(out, v, 4 * dims);
      return;
    case VectorType::kF16:
      if (use_avx2(isa)) return encode_f16_f16c(v, out, dims);
      for (size_t i = 0; i < dims; ++i) {
        const float x = v[i] > kHalfMax ? kHalfMax : v[i] < -kHalfMax ? -kHalfMax : v[i];
        const uint16_t h = f32_to_f16(x);
        std::memcpy(out + 2 * i, &h, sizeof h);
      }
      return;
    case VectorType::kI8:
      return encode_i8(v, dims, out);
  }
}

Status check_encoded(VectorType type, const uint8_t* data, size_t bytes, size_t dims) {
  const size_t want = encoded_size(type, dims);
  if (bytes != want)
    return Status::corrupt("stored vector has " + std::to_string(bytes) + " bytes; a " + std::to_string(dims) +
                           "-dimensional " + std::string(vector_type_name(type)) + " vector has " +
                           std::to_string(want));
  if (type == VectorType::kI8) {
    const float scale = load_float(data);
    if (!(scale >= 0) || !std::isfinite(scale))
      return Status::corrupt("stored int8 vector has scale " + std::to_string(scale) +
                             " (must be finite and non-negative)");
  }
  return Status::ok();
}

Status decode_vector(VectorType type, const uint8_t* data, size_t bytes, size_t dims, float* out) {
  SIMILE_RETURN_IF_ERROR(check_encoded(type, data, bytes, dims));
  decode_vectors(type, data, 1, dims, out);
  return Status::ok();
}

void decode_vectors(VectorType type, const uint8_t* data, size_t n, size_t dims, float* out, Isa isa) {
  switch (type) {
    case VectorType::kF32:
      std::memcpy(out, data, 4 * dims * n);
      return;
    case VectorType::kF16:
      // Half codes may sit at odd addresses inside a caller's buffer; both
      // converters load them unaligned.
      for (size_t r = 0; r < n; ++r) {
        const uint8_t* code = data + r * 2 * dims;
        if (reinterpret_cast<uintptr_t>(code) % alignof(uint16_t) == 0) {
          kernels::f16_to_f32(reinterpret_cast<const uint16_t*>(code), out + r * dims, dims, isa);
        } else {
          for (size_t i = 0; i < dims; ++i) out[r * dims + i] = kernels::f16_to_f32(load_u16(code + 2 * i));
        }
      }
      return;
    case VectorType::kI8:
      for (size_t r = 0; r < n; ++r) {
        const uint8_t* code = data + r * (4 + dims);
        if (use_avx2(isa)) {
          decode_i8_avx2(code, dims, out + r * dims);
        } else {
          const float scale = load_float(code);
          for (size_t i = 0; i < dims; ++i)
            out[r * dims + i] = scale * static_cast<float>(static_cast<int8_t>(code[4 + i]));
        }
      }
      return;
  }
}

uint16_t f32_to_f16(float x) {
  const uint32_t b = float_bits(x);
  const auto sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const uint32_t a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // infinity or NaN: NaN keeps the top of its payload, made quiet
    return a == 0x7f800000u ? static_cast<uint16_t>(sign | 0x7c00u)
                            : static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  }
  // 65520 is halfway between 65504 (odd mantissa) and 2^16: ties to even overflow.
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  const uint32_t exponent = a >> 23;
  if (exponent < 113) {
    // Below 2^-14: a subnormal half, round(|x| / 2^-24). |x| = m * 2^(exponent - 150)
    // with the implicit bit in m, so |x| / 2^-24 = m >> (126 - exponent).
    const uint32_t shift = 126 - exponent;  // >= 14
    if (shift > 24) return sign;            // under 2^-25: rounds to zero (2^-25 itself ties to even 0)
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) ++h;  // may carry into the smallest normal: still right
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((exponent - 112) << 10) | ((a >> 13) & 0x3ffu);
  const uint32_t rest = a & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry steps the exponent, as it should
  return static_cast<uint16_t>(sign | h);
}

void f32_to_f16(const float* src, uint16_t* dst, size_t n, Isa isa) {
  if (use_avx2(isa)) return f32_to_f16_f16c(src, dst, n);
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

ScoreKernel dot_kernel(VectorType type, Isa isa) {
  const bool fast = use_avx2(isa);
  switch (type) {
    case VectorType::kF32:
      return fast ? score_one_avx2<VectorType::kF32, false> : dot_f32_scalar;
    case VectorType::kF16:
      return fast ? score_one_avx2<VectorType::kF16, false> : dot_f16_scalar;
    case VectorType::kI8:
      return fast ? score_one_avx2<VectorType::kI8, false> : dot_i8_scalar;
  }
  return nullptr;
}

ScoreKernel l2sq_kernel(VectorType type, Isa isa) {
  const bool fast = use_avx2(isa);
  switch (type) {
    case VectorType::kF32:
      return fast ? score_one_avx2<VectorType::kF32, true> : l2sq_f32_scalar;
    case VectorType::kF16:
      return fast ? score_one_avx2<VectorType::kF16, true> : l2sq_f16_scalar;
    case VectorType::kI8:
      return fast ? score_one_avx2<VectorType::kI8, true> : l2sq_i8_scalar;
  }
  return nullptr;
}

BlockKernel dot_block_kernel(VectorType type, Isa isa) {
  const bool fast = use_avx2(isa);
  switch (type) {
    case VectorType::kF32:
      return fast ? score_block_avx2<VectorType::kF32, false> : block_scalar<VectorType::kF32, dot_f32_scalar>;
    case VectorType::kF16:
      return fast ? score_block_avx2<VectorType::kF16, false> : block_scalar<VectorType::kF16, dot_f16_scalar>;
    case VectorType::kI8:
      return fast ? score_block_avx2<VectorType::kI8, false> : block_scalar<VectorType::kI8, dot_i8_scalar>;
  }
  return nullptr;
}

BlockKernel l2sq_block_kernel(VectorType type, Isa isa) {
  const bool fast = use_avx2(isa);
  switch (type) {
    case VectorType::kF32:
      return fast ? score_block_avx2<VectorType::kF32, true> : block_scalar<VectorType::kF32, l2sq_f32_scalar>;
    case VectorType::kF16:
      return fast ? score_block_avx2<VectorType::kF16, true> : block_scalar<VectorType::kF16, l2sq_f16_scalar>;
    case VectorType::kI8:
      return fast ? score_block_avx2<VectorType::kI8, true> : block_scalar<VectorType::kI8, l2sq_i8_scalar>;
  }
  return nullptr;
}

}  // namespace simile
