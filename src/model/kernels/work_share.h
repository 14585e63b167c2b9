// One parallel region for a whole forward pass, and how its threads divide
// each step of it.
//
// A forward pass of a short text is a few hundred microseconds of work per
// layer, cut into a handful of steps (a product, attention, a LayerNorm).
// Opening an OpenMP region per step, and letting the BLAS open its own inside
// each product, costs more than the steps themselves at that size. Here the
// pass opens one region; each step is cut into blocks that the threads claim
// from a shared counter, and a thread moves on to the next step once every
// block of this one is done, whoever did it.
//
// Claiming instead of a fixed split is what makes two threads safe on a busy
// machine: a thread that the OS has descheduled holds at most one block, and
// the others do the rest of its share; with a barrier per step every step
// would wait for it (docs/benchmarks.md measured 3-10x slower passes that way
// at load 7 on 2 cores). Results do not depend on which thread ran a block.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "util/check.h"

namespace simile::kernels {

class WorkShare {
 public:
  // The lone thread of a pass run without a team: for_blocks runs everything.
  WorkShare() = default;

  int index() const { return index_; }
  int count() const { return count_; }

  // The next step: cuts [0, n) into blocks of `block` items (the last may be
  // short) and calls fn(first, last) for those this thread claims; returns
  // once every block has been done, so the step's whole output is then
  // visible. Every thread of the team calls the same for_blocks sequence.
  template <typename Fn>
  void for_blocks(size_t n, size_t block, Fn&& fn);

 private:
  friend void run_team(int threads, size_t steps, const std::function<void(WorkShare&)>& pass);

  struct Step {
    alignas(64) std::atomic<size_t> next{0};
    alignas(64) std::atomic<size_t> done{0};
  };

  WorkShare(int index, int count, Step* steps, size_t step_count)
      : index_(index), count_(count), steps_(steps), step_count_(step_count) {}

  // Spins (then yields) until `done` reaches `total`.
  static void wait_until(const std::atomic<size_t>& done, size_t total);

  int index_ = 0;
  int count_ = 1;
  Step* steps_ = nullptr;
  size_t step_count_ = 0;
  size_t step_ = 0;  // this thread's position in the pass
};

// Runs pass(share) once on each of `threads` threads of one OpenMP parallel
// region and returns when all have finished; `steps` bounds the number of
// for_blocks calls each makes. One thread: a plain call (so that a pass run
// inside another team's region shares nothing with that team).
void run_team(int threads, size_t steps, const std::function<void(WorkShare&)>& pass);

template <typename Fn>
void WorkShare::for_blocks(size_t n, size_t block, Fn&& fn) {
  if (count_ == 1) {
    if (n > 0) fn(size_t{0}, n);
    return;
  }
  SIMILE_CHECK(step_ < step_count_);
  Step& step = steps_[step_++];
  const size_t blocks = (n + block - 1) / block;
  for (size_t b; (b = step.next.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
    const size_t first = b * block;
    fn(first, first + block < n ? first + block : n);
    step.done.fetch_add(1, std::memory_order_release);
  }
  wait_until(step.done, blocks);
}

}  // namespace simile::kernels
