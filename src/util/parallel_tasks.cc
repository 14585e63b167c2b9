#include "util/parallel_tasks.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace simile {

Status run_tasks(size_t count, size_t parallel, const std::function<Status(size_t index)>& task) {
  std::mutex mu;
  Status failed;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < count && !stop; i = next.fetch_add(1)) {
      Status st = task(i);
      if (st.is_ok()) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (failed.is_ok()) failed = st;
      stop = true;
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(count, std::max<size_t>(1, parallel)); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return failed;
}

}  // namespace simile
