#include "model/packed_batches.h"

#include <omp.h>

#include <algorithm>
#include <numeric>

#include "model/kernels/gemm.h"

namespace simile {

namespace {

// Items tokenised at a time: bounds the memory held by encodings (token
// strings and offsets) when embedding large inputs.
constexpr size_t kTokenizeChunk = 4096;

}  // namespace

BatchPlan plan_batches(const std::vector<size_t>& lengths, size_t batch_size, int threads, size_t max_batch_tokens) {
  BatchPlan plan;
  const size_t count = lengths.size();
  // Longest first, as sentence-transformers orders its batches. (Sequences
  // are packed, so the order changes no result and little speed; it keeps
  // each batch's work similar.)
  plan.order.resize(count);
  std::iota(plan.order.begin(), plan.order.end(), 0);
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  for (size_t first = 0, tokens = 0, i = 0; i < count; ++i) {
    const size_t len = lengths[plan.order[i]];
    if (i > first && (i - first == batch_size || tokens + len > max_batch_tokens)) {
      plan.units.emplace_back(first, i - first);
      first = i;
      tokens = 0;
    }
    tokens += len;
    if (i + 1 == count) plan.units.emplace_back(first, count - first);
  }
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
  // A lone unit (one text, or a batch that cannot be split) gets every thread
  // inside its forward pass, even for a 13-token query: one parallel region
  // whose threads claim blocks of each step (kernels/work_share.h) halves its
  // latency on 2 cores (docs/benchmarks.md).
  plan.inner = plan.team > 1 ? 1 : threads;
  return plan;
}

void pack_batch(const std::vector<Encoding>& encodings, const size_t* order, size_t n, TokenBatch* batch) {
  batch->clear();
  for (size_t b = 0; b < n; ++b) {
    const Encoding& e = encodings[order[b]];
    batch->ids.insert(batch->ids.end(), e.ids.begin(), e.ids.end());
    batch->type_ids.insert(batch->type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    batch->offsets.push_back(batch->ids.size());
  }
}

Status run_packed(const PackedRun& job, std::mutex& mu, const std::function<Result<Encoding>(size_t item)>& encode,
                  const RunUnit& run) {
  const size_t count = job.count;
  const int threads = job.threads;
  std::vector<Encoding> encodings;
  std::vector<Status> errors;
  for (size_t first_item = 0; first_item < count; first_item += kTokenizeChunk) {
    const size_t n_items = std::min(kTokenizeChunk, count - first_item);
    encodings.assign(n_items, Encoding());
    errors.assign(n_items, Status::ok());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) if (n_items > 16)
    for (long i = 0; i < static_cast<long>(n_items); ++i) {
      auto enc = encode(first_item + static_cast<size_t>(i));
      if (enc.is_ok())
        encodings[i] = std::move(enc).value();
      else
        errors[i] = enc.status();
    }
    std::vector<size_t> lengths(n_items);
    for (size_t i = 0; i < n_items; ++i) {
      const std::string name = job.item_name + " " + std::to_string(first_item + i);
      if (!errors[i].is_ok()) return errors[i].with_context(name);
      if (encodings[i].size() == 0) return Status::invalid_argument(name + " gives no tokens");
      lengths[i] = encodings[i].size();
    }

    const BatchPlan plan = plan_batches(lengths, job.batch_size, threads, job.max_batch_tokens);
    std::vector<Status> status(plan.units.size(), Status::ok());
    std::lock_guard<std::mutex> lock(mu);
    kernels::ComputeThreads compute(plan.inner);
    auto run_unit = [&](size_t u, size_t worker) {
      const auto [first, n] = plan.units[u];
      status[u] = run(encodings, plan.order.data() + first, n, worker, plan.inner, first_item);
    };
    if (plan.team > 1) {
#pragma omp parallel for num_threads(plan.team) schedule(dynamic, 1)
      for (long u = 0; u < static_cast<long>(plan.units.size()); ++u)
        run_unit(static_cast<size_t>(u), static_cast<size_t>(omp_get_thread_num()));
    } else {
      // Not inside a parallel region, not even an inactive one: libgomp
      // reuses its idle threads only for non-nested regions, so a forward
      // pass's own regions would otherwise start new threads every time
      // (55 thread creations per pass of one long text, measured).
      for (size_t u = 0; u < plan.units.size(); ++u) run_unit(u, 0);
    }
    for (const Status& st : status)
      if (!st.is_ok()) return st.with_context("model " + job.model_name);
  }
  return Status::ok();
}

}  // namespace simile
