#include "model/kernels/work_share.h"

#include <omp.h>

namespace simile::kernels {

std::pair<size_t, size_t> WorkShare::part(size_t n, size_t block) const {
  const size_t blocks = (n + block - 1) / block;
  const size_t count = static_cast<size_t>(count_), index = static_cast<size_t>(index_);
  const size_t first = blocks * index / count * block, last = blocks * (index + 1) / count * block;
  return {first < n ? first : n, last < n ? last : n};
}

void WorkShare::sync() const {
  if (count_ > 1) {
#pragma omp barrier
  }
}

void run_team(int threads, const std::function<void(const WorkShare&)>& step) {
  if (threads <= 1) {
    step(WorkShare());
    return;
  }
#pragma omp parallel num_threads(threads)
  step(WorkShare(omp_get_thread_num(), omp_get_num_threads()));
}

}  // namespace simile::kernels
