// Sentence-transformers pooling: token vectors -> one text vector.
#pragma once

#include <cstddef>
#include <cstdint>

#include "simile/embedder.h"

namespace simile {

// Pools one text's token vectors (rows x dim, row-major) into out[dim], as
// sentence_transformers.models.Pooling does. mask[r] is 1 for tokens that
// count and 0 for padding or prompt tokens left out (include_prompt = false);
// null means all count.
//   cls            row 0 (whatever the mask says)
//   mean           sum of counted rows / max(count, 1e-9)
//   max            per-dimension max over counted rows (-1e9 if none)
//   mean_sqrt_len  sum of counted rows / sqrt(max(count, 1e-9))
//   lasttoken      the last counted row (zeros if none)
void pool_tokens(const float* tokens, size_t rows, size_t dim, const uint8_t* mask, Pooling mode, float* out);

// v /= max(||v||_2, 1e-12), as torch.nn.functional.normalize.
void l2_normalize(float* v, size_t dim);

}  // namespace simile
