// RoBERTa and XLM-RoBERTa encoders (ko-sroberta-multitask, multilingual-e5,
// paraphrase-multilingual-mpnet-base-v2 ...): BERT's tensors and forward pass,
// with position ids numbered from pad_token_id + 1 as fairseq does, and
// usually a single token type.
#pragma once

#include "model/architecture.h"

namespace simile {

const Architecture& roberta_architecture();

}  // namespace simile
