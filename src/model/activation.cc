#include "model/activation.h"

#include <cmath>

#include "model/kernels/elementwise.h"

namespace simile {

namespace {

constexpr Activation kAll[] = {Activation::kIdentity, Activation::kTanh, Activation::kSigmoid, Activation::kReLU,
                               Activation::kGELU};

// The PyTorch class of each activation, as `fullname(module)` writes it.
const char* torch_class(Activation a) {
  switch (a) {
    case Activation::kIdentity:
      return "torch.nn.modules.linear.Identity";
    case Activation::kTanh:
      return "torch.nn.modules.activation.Tanh";
    case Activation::kSigmoid:
      return "torch.nn.modules.activation.Sigmoid";
    case Activation::kReLU:
      return "torch.nn.modules.activation.ReLU";
    case Activation::kGELU:
      return "torch.nn.modules.activation.GELU";
  }
  return "?";
}

// The class name alone ("Tanh"): older files and hand-written configs also
// use torch.nn.Tanh, which is the same class.
std::string class_name(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kIdentity:
      return "identity";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kReLU:
      return "relu";
    case Activation::kGELU:
      return "gelu";
  }
  return "?";
}

Result<Activation> parse_activation(const std::string& name) {
  for (Activation a : kAll) {
    if (name == activation_name(a) || name == torch_class(a)) return a;
    if (name.rfind("torch.nn.", 0) == 0 && class_name(name) == class_name(torch_class(a))) return a;
  }
  std::string known;
  for (Activation a : kAll) known += (known.empty() ? "" : ", ") + class_name(torch_class(a));
  return Status::unsupported("activation '" + name + "' is not supported (simile runs " + known + ")");
}

void apply_activation(Activation a, float* x, size_t n) {
  switch (a) {
    case Activation::kIdentity:
      return;
    case Activation::kTanh:
      for (size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      return;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
      return;
    case Activation::kReLU:
      for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0.0f;
      return;
    case Activation::kGELU:
      for (size_t i = 0; i < n; ++i) x[i] = kernels::gelu_erf(x[i]);
      return;
  }
}

}  // namespace simile
