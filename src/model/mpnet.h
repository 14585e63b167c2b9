// MPNet encoders (all-mpnet-base-v2, multi-qa-mpnet-base-dot-v1 ...): BERT's layers
// under other names, no token types, position ids numbered from 2 as fairseq
// does, and a bucketed relative position bias (model/relative_position.h)
// added to every layer's attention scores.
#pragma once

#include "model/architecture.h"

namespace simile {

const Architecture& mpnet_architecture();

}  // namespace simile
