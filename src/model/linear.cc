#include "model/linear.h"

#include <vector>

#include "util/check.h"

namespace simile {

void Int8Activations::reserve(size_t rows, size_t cols) {
  const size_t bytes = rows * kernels::int8_padded_k(cols);
  if (q_.size() < bytes) q_.resize(bytes);
  if (scale_.size() < rows) {
    scale_.resize(rows);
    zero_.resize(rows);
    outlier_.resize(rows);
    outlier_col_.resize(rows);
  }
}

Linear Linear::fp32(const float* weight, size_t out, size_t in) {
  SIMILE_CHECK(weight != nullptr);
  Linear l;
  l.out_ = out;
  l.in_ = in;
  l.weight_ = weight;
  l.panels_ = std::make_shared<kernels::PanelWeights>(weight, out, in, in);
  return l;
}

Linear Linear::int8(const std::vector<const QuantizedMatrix*>& parts) {
  SIMILE_CHECK(!parts.empty());
  Linear l;
  l.in_ = parts[0]->cols;
  for (const QuantizedMatrix* p : parts) {
    SIMILE_CHECK(p->cols == l.in_ && p->values.size() == p->rows * p->cols);
    l.out_ += p->rows;
  }
  std::vector<int8_t> values;
  std::vector<float> scales;
  const std::vector<int8_t>* all = &parts[0]->values;
  const std::vector<float>* all_scales = &parts[0]->scales;
  if (parts.size() > 1) {
    values.reserve(l.out_ * l.in_);
    scales.reserve(l.out_);
    for (const QuantizedMatrix* p : parts) {
      values.insert(values.end(), p->values.begin(), p->values.end());
      scales.insert(scales.end(), p->scales.begin(), p->scales.end());
    }
    all = &values;
    all_scales = &scales;
  }
  l.packed_ = std::make_shared<kernels::PackedInt8Weights>(all->data(), l.out_, l.in_, l.in_, all_scales->data());
  return l;
}

void Linear::apply(kernels::WorkShare& share, const float* x, size_t rows, float* y, const float* bias,
                   kernels::Epilogue epilogue, Int8Activations& activations) const {
  if (packed_ == nullptr) {
    kernels::gemm_nt_bias(share, rows, out_, in_, x, in_, weight_, in_, panels_.get(), bias, y, out_, epilogue);
    return;
  }
  const size_t ldq = packed_->padded_k();
  SIMILE_CHECK(activations.q_.size() >= rows * ldq && activations.scale_.size() >= rows);
  const kernels::QuantizedRows q{activations.q_.data(),       ldq,
                                 activations.scale_.data(),   activations.zero_.data(),
                                 activations.outlier_.data(), activations.outlier_col_.data()};
  constexpr size_t kRowBlock = 4;
  share.for_blocks(rows, kRowBlock, [&](size_t r0, size_t r1) {
    kernels::quantize_rows_u7(x + r0 * in_, r1 - r0, in_, in_, q.from(r0));
  });
  const kernels::Int8Epilogue e =
      epilogue == kernels::Epilogue::kBias ? kernels::Int8Epilogue::kBias : kernels::Int8Epilogue::kBiasGelu;
  kernels::linear_int8(share, rows, q, *packed_, bias, e, y, out_);
}

}  // namespace simile
