// One parallel region for a whole forward pass, and how its threads divide
// each step of it.
//
// A forward pass of a short text is a few hundred microseconds of work per
// layer split into a dozen steps. Opening an OpenMP region per step (and
// letting the BLAS open its own inside each product) costs more than the
// steps themselves at that size; one region whose threads meet at a barrier
// between steps costs a few microseconds per step. Kernels that take a
// WorkShare compute the calling thread's part of their output; the caller
// calls sync() before anything reads the whole output.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>

namespace simile::kernels {

class WorkShare {
 public:
  // The lone thread of a pass run without a team.
  WorkShare() = default;
  WorkShare(int index, int count) : index_(index), count_(count) {}

  int index() const { return index_; }
  int count() const { return count_; }

  // This thread's contiguous part [first, second) of n items cut into blocks
  // of `block` items (the last block may be short): every thread gets a
  // near-equal number of whole blocks, in thread order.
  std::pair<size_t, size_t> part(size_t n, size_t block = 1) const;

  // Waits until every thread of the team has arrived. Nothing for a team of one.
  void sync() const;

 private:
  int index_ = 0;
  int count_ = 1;
};

// Runs step(share) once on each of `threads` threads of one OpenMP parallel
// region (a plain call for one thread, so that a pass run inside another
// team's region does not bind its barriers to that team) and returns when all
// have finished.
void run_team(int threads, const std::function<void(const WorkShare&)>& step);

}  // namespace simile::kernels
