// ModelInfo from a described model and its weight files (shared by
// inspect_model and Embedder).
#pragma once

#include "model/config.h"
#include "model/safetensors.h"
#include "simile/embedder.h"

namespace simile {

ModelInfo make_model_info(const ModelDescription& model, const WeightFiles& files);

}  // namespace simile
