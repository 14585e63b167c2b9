// How the texts of one call are tokenised, grouped into packed forward passes
// and spread over threads (shared by the Embedder and the Reranker).
//
// Each thread runs whole batches on its own, with single-threaded GEMMs: one
// synchronisation per batch instead of dozens per layer, which matters on a
// busy machine where a preempted thread stalls every barrier. Too few batches
// for the threads are split (sequences are packed without padding, so a
// batch's split changes no result); only a lone text is parallelised inside
// the forward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "model/architecture.h"
#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile {

struct BatchPlan {
  std::vector<size_t> order;                     // sequence indices, longest first
  std::vector<std::pair<size_t, size_t>> units;  // (first, count) ranges of `order`: one forward pass each
  int team = 1;                                  // units run side by side
  int inner = 1;                                 // threads inside one forward pass
};

// Plans `lengths.size()` sequences of those token counts into batches of at
// most `batch_size` sequences and (unless one sequence alone is longer)
// `max_batch_tokens` tokens, for `threads` threads.
BatchPlan plan_batches(const std::vector<size_t>& lengths, size_t batch_size, int threads,
                       size_t max_batch_tokens = SIZE_MAX);

// Packs encodings[order[0..n)] back to back into `batch`.
void pack_batch(const std::vector<Encoding>& encodings, const size_t* order, size_t n, TokenBatch* batch);

// One forward pass of a unit: the encodings of the current slice of items,
// the unit's `n` of them (order[0..n) index `encodings`), the calling thread's
// `worker` index in [0, threads), the threads to use inside the pass, and the
// index of the slice's first item.
using RunUnit = std::function<Status(const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                                     size_t worker, int inner, size_t first_item)>;

// Runs items [0, count) through packed forward passes, a few thousand at a
// time (bounding the memory the encodings hold): encodes them in parallel with
// encode(i), plans batches of at most batch_size and calls run for each,
// holding `mu` while computing (the BLAS thread count is process-wide).
// Errors: the first item that fails to encode or gives no tokens, named
// `item_name` + its index ("text 3: ..."); else the first failing unit's,
// named after the model ("model M: ...").
struct PackedRun {
  size_t count = 0;
  int threads = 1;
  size_t batch_size = 32;
  std::string item_name;   // "text", "document"
  std::string model_name;
  // A batch also stops at this many tokens: a large model's workspace per
  // token (188 KB for a 7B decoder) would otherwise take tens of GB for 32
  // long texts. It binds only for such models.
  size_t max_batch_tokens = SIZE_MAX;
};
Status run_packed(const PackedRun& job, std::mutex& mu, const std::function<Result<Encoding>(size_t item)>& encode,
                  const RunUnit& run);

}  // namespace simile
