#include "model/dense.h"

#include <filesystem>

#include "model/kernels/gemm.h"
#include "model/safetensors.h"

namespace simile {

namespace fs = std::filesystem;

Result<DenseLayer> DenseLayer::load(const DenseConfig& config) {
  std::error_code ec;
  bool has_safetensors = false;
  for (const auto& entry : fs::directory_iterator(config.dir, ec))
    has_safetensors |= entry.path().extension() == ".safetensors";
  if (!has_safetensors && fs::exists(fs::path(config.dir) / "pytorch_model.bin", ec))
    return Status::unsupported("Dense module " + config.dir +
                               " holds its weights only as pytorch_model.bin (a Python pickle, which simile does not "
                               "read); save it as model.safetensors, e.g. with sentence-transformers: "
                               "SentenceTransformer(dir).save(dir, safe_serialization=True)");
  const std::string where = "Dense module " + config.dir;
  auto files = WeightFiles::open(config.dir);
  if (!files.is_ok()) return files.status().with_context(where);
  DenseLayer layer(config);
  const std::string implied_by = "its config.json";
  auto weight = (*files)->read_f32_checked("linear.weight", {config.out_features, config.in_features}, implied_by);
  if (!weight.is_ok()) return weight.status().with_context(where);
  layer.weight_ = std::move(weight).value();
  if (config.bias) {
    auto bias = (*files)->read_f32_checked("linear.bias", {config.out_features}, implied_by);
    if (!bias.is_ok()) return bias.status().with_context(where);
    layer.bias_ = std::move(bias).value();
  }
  return layer;
}

void DenseLayer::apply(const float* in, size_t rows, float* out) const {
  const size_t n_in = config_.in_features, n_out = config_.out_features;
  kernels::gemm_nt(rows, n_out, n_in, in, n_in, weight_.data(), n_in, out, n_out);
  for (size_t r = 0; r < rows; ++r) {
    float* y = out + r * n_out;
    if (!bias_.empty())
      for (size_t c = 0; c < n_out; ++c) y[c] += bias_[c];
    apply_activation(config_.activation, y, n_out);
  }
}

}  // namespace simile
