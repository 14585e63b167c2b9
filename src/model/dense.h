// sentence-transformers Dense modules: a linear layer and an activation
// applied to the pooled sentence vector (e.g. 768 -> 256 with Tanh).
#pragma once

#include <cstddef>
#include <vector>

#include "model/config.h"
#include "simile/status.h"

namespace simile {

class DenseLayer {
 public:
  // Reads the module's weights ("linear.weight" [out, in], "linear.bias"
  // [out]) from the safetensors file in config.dir, checked against the
  // config. A module saved only as pytorch_model.bin is refused with a
  // message saying how to convert it.
  static Result<DenseLayer> load(const DenseConfig& config);

  size_t in_features() const { return config_.in_features; }
  size_t out_features() const { return config_.out_features; }

  // out[r] = activation(W in[r] + b) for `rows` rows; in is rows x in_features,
  // out rows x out_features, both row-major. Thread-safe.
  void apply(const float* in, size_t rows, float* out) const;

 private:
  explicit DenseLayer(const DenseConfig& config) : config_(config) {}
  DenseConfig config_;
  std::vector<float> weight_;  // [out, in]
  std::vector<float> bias_;    // [out], empty without bias
};

}  // namespace simile
