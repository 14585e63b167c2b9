// The element-wise activations that sentence-transformers configuration files
// name by their PyTorch class: a Dense module's "activation_function" and a
// cross-encoder's "activation_fn". They run on a handful of vectors per text,
// so scalar code is enough.
#pragma once

#include <cstddef>
#include <string>

#include "simile/status.h"

namespace simile {

enum class Activation { kIdentity, kTanh, kSigmoid, kReLU, kGELU };

// "identity", "tanh", "sigmoid", "relu", "gelu".
const char* activation_name(Activation a);

// A PyTorch class path as sentence-transformers saves it
// ("torch.nn.modules.activation.Tanh", "torch.nn.modules.linear.Identity"),
// or a short name as activation_name() spells it. Errors: unsupported, naming
// the class and what is supported.
Result<Activation> parse_activation(const std::string& name);

// x[i] = a(x[i]). GELU is the exact erf form (torch.nn.GELU's default).
void apply_activation(Activation a, float* x, size_t n);

}  // namespace simile
