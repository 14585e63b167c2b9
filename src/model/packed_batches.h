// How the texts of one call are grouped into packed forward passes and spread
// over threads (shared by the Embedder and the Reranker).
//
// Each thread runs whole batches on its own, with single-threaded GEMMs: one
// synchronisation per batch instead of dozens per layer, which matters on a
// busy machine where a preempted thread stalls every barrier. Too few batches
// for the threads are split (sequences are packed without padding, so a
// batch's split changes no result); only a lone text is parallelised inside
// the forward pass.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "simile/status.h"

namespace simile {

struct BatchPlan {
  std::vector<size_t> order;                     // sequence indices, longest first
  std::vector<std::pair<size_t, size_t>> units;  // (first, count) ranges of `order`: one forward pass each
  int team = 1;                                  // units run side by side
  int inner = 1;                                 // threads inside one forward pass
};

// Plans `lengths.size()` sequences of those token counts into batches of at
// most `batch_size`, for `threads` threads.
BatchPlan plan_batches(const std::vector<size_t>& lengths, size_t batch_size, int threads);

// Calls run(first, count, worker, inner) for every unit, plan.team at a time,
// under kernels::ComputeThreads(plan.inner); `worker` in [0, team) names the
// calling thread's buffers. Returns the first failure in unit order. Callers
// serialise run_batches calls (the BLAS thread count is process-wide).
Status run_batches(const BatchPlan& plan,
                   const std::function<Status(size_t first, size_t count, size_t worker, int inner)>& run);

}  // namespace simile
