#include "model/dense.h"

#include <filesystem>

#include "model/kernels/gemm.h"
#include "model/safetensors.h"

namespace simile {

namespace fs = std::filesystem;

namespace {

Result<std::vector<float>> read_tensor(const WeightFiles& files, const std::string& name,
                                       const std::vector<uint64_t>& shape, const std::string& dir) {
  const TensorView* t = files.find(name);
  if (t == nullptr) return Status::corrupt("Dense module " + dir + ": the weights have no tensor '" + name + "'");
  if (t->shape != shape) {
    TensorView want;
    want.shape = shape;
    return Status::corrupt("Dense module " + dir + ": tensor '" + name + "' has shape " + t->shape_string() +
                           ", but its config.json implies " + want.shape_string());
  }
  return WeightFiles::to_f32(*t);
}

}  // namespace

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
  auto files = WeightFiles::open(config.dir);
  if (!files.is_ok()) return files.status().with_context("Dense module " + config.dir);
  DenseLayer layer(config);
  SIMILE_ASSIGN_OR_RETURN(layer.weight_,
                          read_tensor(**files, "linear.weight", {config.out_features, config.in_features}, config.dir));
  if (config.bias) {
    SIMILE_ASSIGN_OR_RETURN(layer.bias_, read_tensor(**files, "linear.bias", {config.out_features}, config.dir));
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
