#include "model/kernels/work_share.h"

#include <immintrin.h>
#include <omp.h>

#include <thread>

namespace simile::kernels {

void WorkShare::wait_until(const std::atomic<size_t>& done, size_t total) {
  // The other threads' blocks take microseconds: spin. Past a few thousand
  // spins the thread holding the last block has probably been descheduled;
  // yielding lets it run if it waits for this core.
  for (int spins = 0; done.load(std::memory_order_acquire) < total; ++spins) {
    if (spins < 4096)
      _mm_pause();
    else
      std::this_thread::yield();
  }
}

void run_team(int threads, size_t steps, const std::function<void(WorkShare&)>& pass) {
  if (threads <= 1) {
    WorkShare lone;
    pass(lone);
    return;
  }
  std::unique_ptr<WorkShare::Step[]> counters(new WorkShare::Step[steps]);
#pragma omp parallel num_threads(threads)
  {
    WorkShare share(omp_get_thread_num(), omp_get_num_threads(), counters.get(), steps);
    pass(share);
  }
}

}  // namespace simile::kernels
