// BERT-family encoders (BERT, MiniLM, BGE, E5 ...): post-LN transformer
// layers with absolute position embeddings and erf GELU, in fp32.
#pragma once

#include "model/architecture.h"

namespace simile {

// The table entry: model types, tensor names and shapes, and the forward pass.
const Architecture& bert_architecture();

}  // namespace simile
