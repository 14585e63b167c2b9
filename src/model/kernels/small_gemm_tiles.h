// The tiles of gemm_nt_small_m (small_gemm.h), written once over a vector
// type V and compiled twice: in small_gemm.cc for AVX2 (8 floats) and in
// small_gemm_avx512.cc for AVX-512 (16 floats), each file under its own
// `#pragma GCC target`. Everything here has internal linkage (an anonymous
// namespace) on purpose: the two files' copies are different machine code
// and must never be merged by the linker.
//
// V provides: `reg`; `kWidth` floats per reg; kMaxRows and kMaxPanels, the
// largest tile (its accumulators fill most of the register file); zero();
// load(p) of 16 / kWidth floats or binary16; broadcast(p); add(a, b); fmadd(a, b, acc); store(p, v).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "model/kernels/small_gemm.h"

namespace simile::kernels {
namespace {

constexpr size_t kPanel = PanelWeights::kPanelWidth;

// Rows [0, MR) x panels [0, NP) of C: MR x NP x (16 / kWidth) accumulators.
// `cols` (<= NP * 16) of the tile's columns are stored; the rest are the
// zero columns past B's end.
template <class V, int MR, int NP, class T>
__attribute__((always_inline)) inline void panel_tile(const float* a, size_t lda, const T* panels, size_t k,
                                                      const float* bias, float* c, size_t ldc, size_t cols) {
  constexpr int VP = static_cast<int>(kPanel / V::kWidth);  // vectors per panel row
  constexpr int NV = NP * VP;
  const size_t panel_stride = kPanel * k;
  typename V::reg acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
  for (size_t p = 0; p < k; ++p) {
    typename V::reg b[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) b[v] = V::load(panels + (v / VP) * panel_stride + p * kPanel + (v % VP) * V::kWidth);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const typename V::reg av = V::broadcast(a + r * lda + p);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(av, b[v], acc[r][v]);
    }
  }
  constexpr size_t kTileCols = NV * V::kWidth;
  float bias_tile[kTileCols] = {};
  if (bias != nullptr) std::memcpy(bias_tile, bias, (cols < kTileCols ? cols : kTileCols) * sizeof(float));
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    if (cols >= kTileCols) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) V::store(row + v * V::kWidth, V::add(acc[r][v], V::load(bias_tile + v * V::kWidth)));
    } else {  // the last, partial panel of B
      float tile[kTileCols];
      for (int v = 0; v < NV; ++v)
        V::store(tile + v * V::kWidth, V::add(acc[r][v], V::load(bias_tile + v * V::kWidth)));
      std::memcpy(row, tile, cols * sizeof(float));
    }
  }
}

// The last `rows` (< V::kMaxRows) rows, one tile of exactly that many.
template <class V, int MR, int NP, class T>
inline void panel_tail(size_t rows, const float* a, size_t lda, const T* panels, size_t k, const float* bias, float* c,
                       size_t ldc, size_t cols) {
  if constexpr (MR > 0) {
    if (rows == MR) return panel_tile<V, MR, NP>(a, lda, panels, k, bias, c, ldc, cols);
    panel_tail<V, MR - 1, NP>(rows, a, lda, panels, k, bias, c, ldc, cols);
  }
}

// All m rows of NP panels.
template <class V, int NP, class T>
void panel_rows(size_t m, const float* a, size_t lda, const T* panels, size_t k, const float* bias, float* c,
                size_t ldc, size_t cols) {
  constexpr size_t R = V::kMaxRows;
  size_t i = 0;
  for (; i + R <= m; i += R) panel_tile<V, R, NP>(a + i * lda, lda, panels, k, bias, c + i * ldc, ldc, cols);
  if (i < m) panel_tail<V, R - 1, NP>(m - i, a + i * lda, lda, panels, k, bias, c + i * ldc, ldc, cols);
}

template <class V, class T>
void small_m_panels(size_t m, size_t first, size_t n, const float* a, size_t lda, const T* panels, size_t k,
                    const float* bias, float* c, size_t ldc) {
  auto panel = [&](size_t j) { return panels + (first + j) / kPanel * kPanel * k; };
  size_t j = 0;
  if constexpr (V::kMaxPanels >= 2) {
    for (; j + kPanel < n; j += 2 * kPanel) {
      const size_t cols = n - j < 2 * kPanel ? n - j : 2 * kPanel;
      panel_rows<V, 2>(m, a, lda, panel(j), k, bias != nullptr ? bias + j : nullptr, c + j, ldc, cols);
    }
  }
  for (; j < n; j += kPanel) {
    const size_t cols = n - j < kPanel ? n - j : kPanel;
    panel_rows<V, 1>(m, a, lda, panel(j), k, bias != nullptr ? bias + j : nullptr, c + j, ldc, cols);
  }
}

template <class V>
void small_m_product(size_t m, size_t first, size_t n, const float* a, size_t lda, const PanelWeights& b,
                     const float* bias, float* c, size_t ldc) {
  if (b.half()) return small_m_panels<V>(m, first, n, a, lda, b.half_panel(0), b.k(), bias, c, ldc);
  small_m_panels<V>(m, first, n, a, lda, b.panel(0), b.k(), bias, c, ldc);
}

}  // namespace
}  // namespace simile::kernels
