#include "model/packed_batches.h"

#include <omp.h>

#include <algorithm>
#include <numeric>

#include "model/kernels/gemm.h"

namespace simile {

namespace {

// Below this many tokens a single text is not split across threads: that costs
// more in synchronisation than it saves (docs/benchmarks.md, batch 1: 196
// against 68 sentences/s on short texts; from about 128 tokens on, two
// threads win).
constexpr size_t kIntraOpMinTokens = 128;

}  // namespace

BatchPlan plan_batches(const std::vector<size_t>& lengths, size_t batch_size, int threads) {
  BatchPlan plan;
  const size_t count = lengths.size();
  // Longest first, as sentence-transformers orders its batches. (Sequences
  // are packed, so the order changes no result and little speed; it keeps
  // each batch's work similar.)
  plan.order.resize(count);
  std::iota(plan.order.begin(), plan.order.end(), 0);
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  for (size_t first = 0; first < count; first += batch_size)
    plan.units.emplace_back(first, std::min(batch_size, count - first));
  while (plan.units.size() < static_cast<size_t>(threads)) {
    auto largest = std::max_element(plan.units.begin(), plan.units.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
    if (largest == plan.units.end() || largest->second < 2) break;
    const size_t half = largest->second / 2;
    const std::pair<size_t, size_t> tail(largest->first + half, largest->second - half);
    largest->second = half;
    plan.units.push_back(tail);
  }
  plan.team = static_cast<int>(std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), plan.units.size())));
  plan.inner = plan.team > 1 ? 1 : threads;
  if (plan.team == 1 && plan.units.size() == 1 && plan.units[0].second == 1 &&
      lengths[plan.order[0]] < kIntraOpMinTokens)
    plan.inner = 1;
  return plan;
}

Status run_batches(const BatchPlan& plan,
                   const std::function<Status(size_t first, size_t count, size_t worker, int inner)>& run) {
  std::vector<Status> status(plan.units.size(), Status::ok());
  kernels::ComputeThreads threads(plan.inner);
#pragma omp parallel for num_threads(plan.team) schedule(dynamic, 1) if (plan.team > 1)
  for (long u = 0; u < static_cast<long>(plan.units.size()); ++u) {
    const auto [first, n] = plan.units[static_cast<size_t>(u)];
    const size_t worker = plan.team > 1 ? static_cast<size_t>(omp_get_thread_num()) : 0;
    status[static_cast<size_t>(u)] = run(first, n, worker, plan.inner);
  }
  for (const Status& st : status)
    if (!st.is_ok()) return st;
  return Status::ok();
}

}  // namespace simile
