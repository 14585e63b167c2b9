// Dynamic batching of embedding requests, as text-embeddings-inference does:
// concurrent requests wait in one queue, and a worker thread takes from its
// front as many as fit a token budget and embeds them in one pass (the
// Embedder sorts them by length and packs them without padding), so ten
// clients asking for one text each cost about one pass, not ten.
//
// The queue is bounded in tokens: a request that would overflow it is
// refused at once (the caller answers 429 with Retry-After) rather than
// held, so memory stays bounded however many clients call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/metrics.h"
#include "simile/embedder.h"

namespace simile::server {

class EmbeddingBatcher {
 public:
  // `batch_tokens`: the most tokens one pass takes (a request larger than
  // that runs alone); `max_queue_tokens`: the most waiting at once.
  EmbeddingBatcher(const Embedder& embedder, size_t batch_tokens, size_t max_queue_tokens, Metrics* metrics);
  // Finishes the queued requests, then stops the worker.
  ~EmbeddingBatcher();
  EmbeddingBatcher(const EmbeddingBatcher&) = delete;
  EmbeddingBatcher& operator=(const EmbeddingBatcher&) = delete;

  enum class Outcome { kDone, kQueueFull, kTimedOut, kFailed };
  struct Answer {
    Outcome outcome = Outcome::kDone;
    Status status;               // kFailed: why
    std::vector<float> vectors;  // kDone: encodings.size() x dims
  };
  // Waits up to `timeout` for the vectors of the encodings (made by the
  // embedder's encode / encode_ids). A request that times out is dropped
  // from the queue if it has not started.
  Answer embed(std::vector<Encoding> encodings, std::chrono::milliseconds timeout);

  size_t queued_tokens() const;
  size_t queued_requests() const;

 private:
  struct Job;
  void work();

  const Embedder& embedder_;
  const size_t batch_tokens_, max_queue_tokens_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t queued_tokens_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace simile::server
