#include "model/kernels/int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "model/kernels/elementwise.h"
#include "util/check.h"

namespace simile::kernels {

namespace {

constexpr int kMaxQ = 127;
// Rows of activations one task covers: their bytes (up to 128 x 1536) stay in
// L2 while the task walks its weight panels, each of which stays in L1.
constexpr size_t kRowBlock = 128;
// Rows of the register tile.
constexpr int kTileRows = 4;

// ---- activation quantisation ------------------------------------------------

struct RowParams {
  float scale, inv_scale;
  int32_t zero;
};

// Shared by both Isas, so they agree to the bit.
RowParams row_params(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  const float range = hi - lo;
  if (!(range > 0) || !std::isfinite(range)) return {1.0f, 1.0f, 0};
  const float scale = range / static_cast<float>(kMaxQ);
  const float inv = 1.0f / scale;
  const int32_t zero = std::clamp(static_cast<int32_t>(std::nearbyintf(-lo * inv)), 0, kMaxQ);
  return {scale, inv, zero};
}

// cvtps2dq's conversion: round to nearest even (the default mode), and
// 0x80000000 for NaN and out-of-range values.
int32_t round_like_cvtps(float v) {
  const float r = std::nearbyintf(v);
  return r >= -2147483648.0f && r < 2147483648.0f ? static_cast<int32_t>(r) : INT32_MIN;
}

uint8_t quantize_one(float x, const RowParams& p) {
  const int32_t q = round_like_cvtps(x * p.inv_scale);
  // The add wraps for INT32_MIN as vpaddd does (then clamps to 0).
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(q) + static_cast<uint32_t>(p.zero));
  return static_cast<uint8_t>(std::clamp(shifted, 0, kMaxQ));
}

// Of a row whose range (with 0) is [lo, hi]: the end larger in magnitude.
// No outlier (-1) when that is 0, or when it is not in the row (NaN).
float outlier_of(float lo, float hi) { return -lo > hi ? lo : hi; }

// Records the row's outlier and takes it out of its bytes: the byte becomes
// the zero point, which the int8 product counts as 0.
void keep_outlier(const float* row, int32_t col, int32_t zero, uint8_t* q, float* outlier, int32_t* outlier_col) {
  *outlier = col >= 0 ? row[col] : 0.0f;
  *outlier_col = std::max(col, 0);
  if (col >= 0) q[col] = static_cast<uint8_t>(zero);
}

void quantize_rows_scalar(const float* x, size_t rows, size_t k, size_t ldx, const QuantizedRows& out) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * ldx;
    float lo = 0, hi = 0;
    for (size_t c = 0; c < k; ++c) {
      lo = std::min(lo, row[c]);
      hi = std::max(hi, row[c]);
    }
    const float target = outlier_of(lo, hi);
    int32_t col = -1;
    if (target != 0.0f)
      for (size_t c = 0; c < k && col < 0; ++c)
        if (row[c] == target) col = static_cast<int32_t>(c);
    // The range of the rest (the outlier counts as 0, which is in it anyway).
    lo = hi = 0;
    for (size_t c = 0; c < k; ++c) {
      const float v = static_cast<int32_t>(c) == col ? 0.0f : row[c];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const RowParams p = row_params(lo, hi);
    uint8_t* q = out.q + r * out.ld;
    for (size_t c = 0; c < k; ++c) q[c] = quantize_one(row[c], p);
    std::memset(q + k, 0, int8_padded_k(k) - k);
    out.scale[r] = p.scale;
    out.zero[r] = p.zero;
    keep_outlier(row, col, p.zero, q, out.outlier + r, out.outlier_col + r);
  }
}

#define SIMILE_AVX2_FN __attribute__((target("avx2,fma")))

SIMILE_AVX2_FN __attribute__((always_inline)) inline __m256i quantize8_avx2(const float* src, __m256 inv, __m256i z,
                                                                           __m256i qmax) {
  const __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src), inv)), z);
  return _mm256_min_epi32(_mm256_max_epi32(i, _mm256_setzero_si256()), qmax);
}

// [lo, hi] of row[0, k) and 0, with column `skip` counted as 0.
SIMILE_AVX2_FN void range_avx2(const float* row, size_t k, int32_t skip, float& lo_out, float& hi_out) {
  __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    __m256 v = _mm256_loadu_ps(row + c);
    if (skip >= static_cast<int32_t>(c) && skip < static_cast<int32_t>(c + 8)) {
      const __m256i hit = _mm256_cmpeq_epi32(lanes, _mm256_set1_epi32(skip - static_cast<int32_t>(c)));
      v = _mm256_andnot_ps(_mm256_castsi256_ps(hit), v);
    }
    vlo = _mm256_min_ps(vlo, v);
    vhi = _mm256_max_ps(vhi, v);
  }
  alignas(32) float los[8], his[8];
  _mm256_store_ps(los, vlo);
  _mm256_store_ps(his, vhi);
  float lo = 0, hi = 0;
  for (int i = 0; i < 8; ++i) {
    lo = std::min(lo, los[i]);
    hi = std::max(hi, his[i]);
  }
  for (; c < k; ++c) {
    const float v = static_cast<int32_t>(c) == skip ? 0.0f : row[c];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  lo_out = lo;
  hi_out = hi;
}

// The first column of row[0, k) equal to target, or -1.
SIMILE_AVX2_FN int32_t find_avx2(const float* row, size_t k, float target) {
  const __m256 t = _mm256_set1_ps(target);
  size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    const int hits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + c), t, _CMP_EQ_OQ));
    if (hits != 0) return static_cast<int32_t>(c) + __builtin_ctz(static_cast<unsigned>(hits));
  }
  for (; c < k; ++c)
    if (row[c] == target) return static_cast<int32_t>(c);
  return -1;
}

SIMILE_AVX2_FN void quantize_rows_avx2(const float* x, size_t rows, size_t k, size_t ldx, const QuantizedRows& out) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * ldx;
    float lo, hi;
    range_avx2(row, k, -1, lo, hi);
    const float target = outlier_of(lo, hi);
    const int32_t col = target != 0.0f ? find_avx2(row, k, target) : -1;
    range_avx2(row, k, col, lo, hi);
    const RowParams p = row_params(lo, hi);
    const __m256 inv = _mm256_set1_ps(p.inv_scale);
    const __m256i z = _mm256_set1_epi32(p.zero);
    const __m256i qmax = _mm256_set1_epi32(kMaxQ);
    const __m256i unscramble = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    uint8_t* q = out.q + r * out.ld;
    size_t c = 0;
    for (; c + 32 <= k; c += 32) {
      const __m256i a =
          _mm256_packs_epi32(quantize8_avx2(row + c, inv, z, qmax), quantize8_avx2(row + c + 8, inv, z, qmax));
      const __m256i b =
          _mm256_packs_epi32(quantize8_avx2(row + c + 16, inv, z, qmax), quantize8_avx2(row + c + 24, inv, z, qmax));
      // packs work within 128-bit lanes: dwords come out as 0 2 4 6 1 3 5 7.
      const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b), unscramble);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + c), bytes);
    }
    for (; c < k; ++c) q[c] = quantize_one(row[c], p);
    std::memset(q + k, 0, int8_padded_k(k) - k);
    out.scale[r] = p.scale;
    out.zero[r] = p.zero;
    keep_outlier(row, col, p.zero, q, out.outlier + r, out.outlier_col + r);
  }
}

// ---- int32 tiles --------------------------------------------------------------
// One tile: `rows` (<= 4) activation rows times one 16-row weight panel,
// written to tile[r * 16 + j].

void tile_scalar(int rows, const uint8_t* a, size_t lda, const int8_t* panel, size_t kgroups, int32_t* tile) {
  for (int r = 0; r < rows; ++r)
    for (size_t j = 0; j < kInt8Panel; ++j) {
      // Row j of the panel: 4 bytes per k group, in the 32-byte half j / 8.
      const int8_t* w = panel + (j / 8) * 32 + (j % 8) * 4;
      const uint8_t* x = a + static_cast<size_t>(r) * lda;
      int32_t acc = 0;
      for (size_t g = 0; g < kgroups; ++g, w += 64, x += 4)
        for (size_t t = 0; t < 4; ++t) acc += static_cast<int32_t>(x[t]) * static_cast<int32_t>(w[t]);
      tile[static_cast<size_t>(r) * kInt8Panel + j] = acc;
    }
}

// u8 x s8 products of 4 consecutive k, summed per 32-bit lane: vpmaddubsw
// (pairs into int16, exact since qa <= 127) then vpmaddwd by ones, or one
// vpdpbusd with VNNI.
#define SIMILE_DOT4_AVX2(acc, x, b) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b), ones))
#define SIMILE_DOT4_VNNI(acc, x, b) _mm256_dpbusd_epi32(acc, x, b)

// The register tile: R rows x 16 columns in 2R accumulators. One body for
// both instruction sets (a function template cannot carry two targets).
// Named accumulators, not an array: with acc[R][2] GCC 12 copied every
// accumulator to a new register (and one to the stack) on each k group,
// 50 instructions where 32 do (perf annotate; the products ran no faster
// than fp32's).
#define SIMILE_INT8_ROW(r, c0, c1, DOT4)                                              \
  if constexpr (R > r) {                                                              \
    int32_t four;                                                                     \
    std::memcpy(&four, a + static_cast<size_t>(r) * lda + g * 4, 4);                  \
    const __m256i x = _mm256_set1_epi32(four);                                        \
    c0 = DOT4(c0, x, b0);                                                             \
    c1 = DOT4(c1, x, b1);                                                             \
  }
#define SIMILE_INT8_STORE(r, c0, c1)                                                  \
  if constexpr (R > r) {                                                              \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * 16), c0);               \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * 16 + 8), c1);           \
  }
#define SIMILE_INT8_TILE_BODY(DOT4)                                                           \
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, \
          c30 = c00, c31 = c00;                                                               \
  [[maybe_unused]] const __m256i ones = _mm256_set1_epi16(1);                                 \
  for (size_t g = 0; g < kgroups; ++g) {                                                      \
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * 64));   \
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + g * 64 + 32)); \
    SIMILE_INT8_ROW(0, c00, c01, DOT4)                                                        \
    SIMILE_INT8_ROW(1, c10, c11, DOT4)                                                        \
    SIMILE_INT8_ROW(2, c20, c21, DOT4)                                                        \
    SIMILE_INT8_ROW(3, c30, c31, DOT4)                                                        \
  }                                                                                           \
  SIMILE_INT8_STORE(0, c00, c01)                                                              \
  SIMILE_INT8_STORE(1, c10, c11)                                                              \
  SIMILE_INT8_STORE(2, c20, c21)                                                              \
  SIMILE_INT8_STORE(3, c30, c31)

template <int R>
SIMILE_AVX2_FN void tile_avx2(const uint8_t* a, size_t lda, const int8_t* panel, size_t kgroups, int32_t* tile) {
  SIMILE_INT8_TILE_BODY(SIMILE_DOT4_AVX2)
}

template <int R>
__attribute__((target("avx2,fma,avx512vl,avx512vnni"))) void tile_vnni(const uint8_t* a, size_t lda,
                                                                        const int8_t* panel, size_t kgroups,
                                                                        int32_t* tile) {
  SIMILE_INT8_TILE_BODY(SIMILE_DOT4_VNNI)
}

// The same tile on 512-bit vectors: one 64-byte load holds a k group of all
// 16 rows of the panel, so each activation row needs one vpdpbusd per group
// instead of two. Two accumulators per row (even and odd k groups): with one,
// each row's chain of dependent vpdpbusd (latency 5) left the unit idle.
#define SIMILE_INT8_ROW512(r)                                         \
  if constexpr (R > r) {                                              \
    int32_t four;                                                     \
    std::memcpy(&four, a + r * lda + g * 4, 4);                       \
    even[r] = _mm512_dpbusd_epi32(even[r], _mm512_set1_epi32(four), b0); \
    std::memcpy(&four, a + r * lda + g * 4 + 4, 4);                   \
    odd[r] = _mm512_dpbusd_epi32(odd[r], _mm512_set1_epi32(four), b1);   \
  }

template <int R>
__attribute__((target("avx2,fma,avx512f,avx512vl,avx512bw,avx512vnni"))) void tile_vnni512(const uint8_t* a,
                                                                                            size_t lda,
                                                                                            const int8_t* panel,
                                                                                            size_t kgroups,
                                                                                            int32_t* tile) {
  __m512i even[4], odd[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) even[r] = odd[r] = _mm512_setzero_si512();
  size_t g = 0;
  for (; g + 2 <= kgroups; g += 2) {
    const __m512i b0 = _mm512_load_si512(panel + g * 64);
    const __m512i b1 = _mm512_load_si512(panel + g * 64 + 64);
    SIMILE_INT8_ROW512(0)
    SIMILE_INT8_ROW512(1)
    SIMILE_INT8_ROW512(2)
    SIMILE_INT8_ROW512(3)
  }
  if (g < kgroups) {
    const __m512i b = _mm512_load_si512(panel + g * 64);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, a + r * lda + g * 4, 4);
      even[r] = _mm512_dpbusd_epi32(even[r], _mm512_set1_epi32(four), b);
    }
  }
  // Lanes 0-7 hold panel rows 0-7 (the first 32 bytes of each group), lanes
  // 8-15 rows 8-15: the order tile[] wants.
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) _mm512_storeu_si512(tile + r * 16, _mm512_add_epi32(even[r], odd[r]));
}

using TileFn = void (*)(const uint8_t*, size_t, const int8_t*, size_t, int32_t*);

void tile(int rows, const uint8_t* a, size_t lda, const int8_t* panel, size_t kgroups, int32_t* out,
          Int8Kernel kernel) {
  static const TileFn kAvx2[] = {tile_avx2<1>, tile_avx2<2>, tile_avx2<3>, tile_avx2<4>};
  static const TileFn kVnni[] = {tile_vnni<1>, tile_vnni<2>, tile_vnni<3>, tile_vnni<4>};
  static const TileFn kVnni512[] = {tile_vnni512<1>, tile_vnni512<2>, tile_vnni512<3>, tile_vnni512<4>};
  switch (kernel) {
    case Int8Kernel::kScalar:
      return tile_scalar(rows, a, lda, panel, kgroups, out);
    case Int8Kernel::kAvx2:
      return kAvx2[rows - 1](a, lda, panel, kgroups, out);
    case Int8Kernel::kAvx2Vnni:
      return kVnni[rows - 1](a, lda, panel, kgroups, out);
    case Int8Kernel::kAvx512Vnni:
      return kVnni512[rows - 1](a, lda, panel, kgroups, out);
  }
}

// ---- dequantisation -----------------------------------------------------------
// y = float(acc - zx * rowsum) * (sx * sw) + b, then + w[oc] * (outlier * sw)
// for the row's outlier column oc, each a single rounding in both Isas
// (std::fma, vfmadd).

// Weight j (< 16) of column c in a panel (the layout of PackedInt8Weights).
int8_t panel_weight(const int8_t* panel, size_t j, int32_t c) {
  return panel[static_cast<size_t>(c / 4) * 64 + (j / 8) * 32 + (j % 8) * 4 + static_cast<size_t>(c % 4)];
}

void dequantize_scalar(int rows, size_t cols, const int32_t* tile, const QuantizedRows& a, const int8_t* panel,
                       const float* w_scale, const int32_t* w_sum, const float* bias, float* y, size_t ldy) {
  for (int r = 0; r < rows; ++r)
    for (size_t j = 0; j < cols; ++j) {
      const float v = static_cast<float>(tile[r * 16 + static_cast<int>(j)] - a.zero[r] * w_sum[j]);
      const float y0 = std::fma(v, a.scale[r] * w_scale[j], bias != nullptr ? bias[j] : 0.0f);
      const float w = panel_weight(panel, j, a.outlier_col[r]);
      y[static_cast<size_t>(r) * ldy + j] = std::fma(w, a.outlier[r] * w_scale[j], y0);
    }
}

SIMILE_AVX2_FN void dequantize_avx2(int rows, size_t cols, const int32_t* tile, const QuantizedRows& a,
                                    const int8_t* panel, const float* w_scale, const int32_t* w_sum,
                                    const float* bias, float* y, size_t ldy) {
  alignas(32) float padded_bias[16] = {};
  if (bias != nullptr) std::memcpy(padded_bias, bias, cols * sizeof(float));
  for (int r = 0; r < rows; ++r) {
    const __m256 sx = _mm256_set1_ps(a.scale[r]);
    const __m256i zx = _mm256_set1_epi32(a.zero[r]);
    const __m256 outlier = _mm256_set1_ps(a.outlier[r]);
    // The outlier column's weights: byte c % 4 of each 32-bit lane of its
    // k group, moved to the top and shifted back down with its sign.
    const int32_t oc = a.outlier_col[r];
    const int8_t* group = panel + static_cast<size_t>(oc / 4) * 64;
    const __m256i up = _mm256_set1_epi32(8 * (3 - oc % 4));
    // A whole panel's row goes straight to y; the last, narrower panel
    // through a buffer (a memcpy per row measured 6-8% of an int8 pass).
    alignas(32) float buffer[16];
    float* out = cols == 16 ? y + static_cast<size_t>(r) * ldy : buffer;
    for (int h = 0; h < 2; ++h) {
      const __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + r * 16 + h * 8));
      const __m256i sum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w_sum + h * 8));
      const __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, _mm256_mullo_epi32(zx, sum)));
      const __m256 sw = _mm256_loadu_ps(w_scale + h * 8);
      const __m256 y0 = _mm256_fmadd_ps(v, _mm256_mul_ps(sx, sw), _mm256_load_ps(padded_bias + h * 8));
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + h * 32));
      const __m256 w = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_sllv_epi32(bytes, up), 24));
      _mm256_storeu_ps(out + h * 8, _mm256_fmadd_ps(w, _mm256_mul_ps(outlier, sw), y0));
    }
    if (out == buffer) std::memcpy(y + static_cast<size_t>(r) * ldy, buffer, cols * sizeof(float));
  }
}

}  // namespace

const char* int8_kernel_name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kScalar:
      return "scalar";
    case Int8Kernel::kAvx2:
      return "avx2";
    case Int8Kernel::kAvx2Vnni:
      return "avx2-vnni";
    case Int8Kernel::kAvx512Vnni:
      return "avx512-vnni";
  }
  return "?";
}

bool int8_kernel_supported(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kScalar:
      return true;
    case Int8Kernel::kAvx2:
      return cpu_has_avx2_fma();
    case Int8Kernel::kAvx2Vnni:
      return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    case Int8Kernel::kAvx512Vnni:
      return int8_kernel_supported(Int8Kernel::kAvx2Vnni) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw");
  }
  return false;
}

Int8Kernel best_int8_kernel() {
  static const Int8Kernel kernel = [] {
    if (best_isa() == Isa::kScalar) return Int8Kernel::kScalar;
    return avx512_allowed() && int8_kernel_supported(Int8Kernel::kAvx512Vnni) ? Int8Kernel::kAvx512Vnni
                                                                              : Int8Kernel::kAvx2;
  }();
  return kernel;
}

void PackedInt8Weights::Free::operator()(void* p) const { std::free(p); }

PackedInt8Weights::PackedInt8Weights(const int8_t* w, size_t n, size_t k, size_t ldw, const float* scales)
    : n_(n), k_(k) {
  const size_t kp = padded_k(), rows = panels() * kInt8Panel;
  void* mem = std::aligned_alloc(64, std::max<size_t>(rows * kp, 64));
  SIMILE_CHECK(mem != nullptr);
  data_.reset(static_cast<int8_t*>(mem));
  scales_ = std::make_unique<float[]>(rows);
  row_sums_ = std::make_unique<int32_t[]>(rows);
  int8_t* dst = data_.get();
  std::memset(dst, 0, rows * kp);
  for (size_t j = 0; j < rows; ++j) {
    scales_[j] = j < n ? scales[j] : 0.0f;
    int32_t sum = 0;
    if (j < n) {
      int8_t* panel = dst + (j / kInt8Panel) * kInt8Panel * kp;
      const size_t in_panel = j % kInt8Panel;
      int8_t* base = panel + (in_panel / 8) * 32 + (in_panel % 8) * 4;
      for (size_t c = 0; c < k; ++c) {
        const int8_t v = w[j * ldw + c];
        SIMILE_CHECK(v >= -kMaxQ);
        base[(c / 4) * 64 + c % 4] = v;
        sum += v;
      }
    }
    row_sums_[j] = sum;
  }
}

void quantize_rows_u7(const float* x, size_t rows, size_t k, size_t ldx, const QuantizedRows& out, Isa isa) {
  SIMILE_CHECK(out.ld >= int8_padded_k(k));
  if (isa == Isa::kAvx2)
    quantize_rows_avx2(x, rows, k, ldx, out);
  else
    quantize_rows_scalar(x, rows, k, ldx, out);
}

void gemm_u7s8_s32(size_t m, const uint8_t* qa, size_t lda, const PackedInt8Weights& w, int32_t* acc, size_t ldacc,
                   Int8Kernel kernel) {
  SIMILE_CHECK(lda >= w.padded_k());
  const size_t kgroups = w.padded_k() / kInt8KGroup;
  alignas(32) int32_t t[kTileRows * kInt8Panel];
  for (size_t p = 0; p < w.panels(); ++p) {
    const size_t j0 = p * kInt8Panel, cols = std::min(kInt8Panel, w.rows() - j0);
    for (size_t i = 0; i < m; i += kTileRows) {
      const int rows = static_cast<int>(std::min<size_t>(kTileRows, m - i));
      tile(rows, qa + i * lda, lda, w.panel(p), kgroups, t, kernel);
      for (int r = 0; r < rows; ++r) std::memcpy(acc + (i + r) * ldacc + j0, t + r * 16, cols * sizeof(int32_t));
    }
  }
}

void linear_int8(WorkShare& share, size_t m, const QuantizedRows& a, const PackedInt8Weights& w, const float* bias,
                 Int8Epilogue epilogue, float* y, size_t ldy, Int8Kernel kernel) {
  const Isa isa = kernel == Int8Kernel::kScalar ? Isa::kScalar : Isa::kAvx2;
  if (m == 0 || w.rows() == 0) return share.for_blocks(0, 1, [](size_t, size_t) {});
  SIMILE_CHECK(a.ld >= w.padded_k());
  const size_t kgroups = w.padded_k() / kInt8KGroup;
  const size_t panels = w.panels();
  const size_t row_blocks = (m + kRowBlock - 1) / kRowBlock;
  const bool add_bias = epilogue != Int8Epilogue::kNone && bias != nullptr;
  // A task is one panel of 16 output columns for one block of rows: a few
  // microseconds for a short text, so the threads stay balanced.
  share.for_blocks(row_blocks * panels, 1, [&](size_t first, size_t last) {
    for (size_t task = first; task < last; ++task) {
      const size_t rb = task / panels, p = task % panels;
      const size_t j0 = p * kInt8Panel, cols = std::min(kInt8Panel, w.rows() - j0);
      const float* b = add_bias ? bias + j0 : nullptr;
      alignas(32) int32_t t[kTileRows * kInt8Panel];
      const size_t end = std::min(m, (rb + 1) * kRowBlock);
      for (size_t i = rb * kRowBlock; i < end; i += kTileRows) {
        const int rows = static_cast<int>(std::min<size_t>(kTileRows, end - i));
        const QuantizedRows tile_rows = a.from(i);
        tile(rows, tile_rows.q, a.ld, w.panel(p), kgroups, t, kernel);
        float* out = y + i * ldy + j0;
        if (isa == Isa::kScalar)
          dequantize_scalar(rows, cols, t, tile_rows, w.panel(p), w.scales() + j0, w.row_sums() + j0, b, out, ldy);
        else
          dequantize_avx2(rows, cols, t, tile_rows, w.panel(p), w.scales() + j0, w.row_sums() + j0, b, out, ldy);
        // GELU while the tile is in L1.
        if (epilogue == Int8Epilogue::kBiasGelu) bias_gelu(out, static_cast<size_t>(rows), cols, ldy, nullptr, isa);
      }
    }
  });
}

}  // namespace simile::kernels
