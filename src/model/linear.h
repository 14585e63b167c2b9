// A linear layer's product y = x W^T (+ b), with W either the fp32 weights of
// the model or an int8 copy (dynamic quantisation: activations are quantised
// per row at run time, kernels/int8_gemm.h). The encoders call apply() at
// their projections and stay the same for both precisions.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "model/kernels/gemm.h"
#include "model/kernels/int8_gemm.h"
#include "model/kernels/work_share.h"
#include "model/quantize.h"

namespace simile {

// Room for the quantised activations of the int8 products of a forward pass,
// shared by the team that runs it. Reserved by the pass's own thread before
// the team starts; grows, never shrinks, so a warm pass allocates nothing.
class Int8Activations {
 public:
  // Rows of up to `cols` inputs each.
  void reserve(size_t rows, size_t cols);

 private:
  friend class Linear;
  std::vector<uint8_t> q_;
  std::vector<float> scale_, outlier_;
  std::vector<int32_t> zero_, outlier_col_;
};

class Linear {
 public:
  Linear() = default;
  // fp32 weights [out, in], row-major, owned by the caller (the weight
  // arena); also packed into a copy for short inputs (kernels/small_gemm.h).
  static Linear fp32(const float* weight, size_t out, size_t in);
  // int8 weights: the rows of `parts` stacked (all with the same cols), e.g.
  // query, key and value as one [3H, H] matrix. Packed into the kernel's
  // layout; `parts` may be freed afterwards.
  static Linear int8(const std::vector<const QuantizedMatrix*>& parts);

  size_t out_features() const { return out_; }
  size_t in_features() const { return in_; }
  bool is_int8() const { return packed_ != nullptr; }

  // The steps of a team (WorkShare::for_blocks calls) that apply() takes.
  size_t steps() const { return is_int8() ? 2 : 1; }

  // y[rows x out] (row-major, leading dimension out) = epilogue(x W^T + bias)
  // from x[rows x in] (leading dimension in), as steps of `share`'s team.
  // The int8 product quantises x into `activations`, which must have room
  // for `rows` rows of in_features(). Thread-safe for concurrent passes.
  void apply(kernels::WorkShare& share, const float* x, size_t rows, float* y, const float* bias,
             kernels::Epilogue epilogue, Int8Activations& activations) const;

 private:
  size_t out_ = 0, in_ = 0;
  const float* weight_ = nullptr;
  // weight_ packed for the small-m kernel (kernels/small_gemm.h).
  std::shared_ptr<const kernels::PanelWeights> panels_;
  std::shared_ptr<const kernels::PackedInt8Weights> packed_;
};

}  // namespace simile
