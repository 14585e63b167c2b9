#include "server/embedding_batcher.h"

#include <algorithm>
#include <cstring>

namespace simile::server {

struct EmbeddingBatcher::Job {
  std::vector<Encoding> encodings;
  size_t tokens = 0;
  bool started = false;  // taken by the worker: no longer cancellable
  bool done = false;
  Answer answer;
  std::condition_variable finished;
};

EmbeddingBatcher::EmbeddingBatcher(const Embedder& embedder, size_t batch_tokens, size_t max_queue_tokens,
                                   Metrics* metrics)
    : embedder_(embedder),
      batch_tokens_(std::max<size_t>(batch_tokens, 1)),
      max_queue_tokens_(max_queue_tokens),
      metrics_(metrics),
      worker_([this] { work(); }) {}

EmbeddingBatcher::~EmbeddingBatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

EmbeddingBatcher::Answer EmbeddingBatcher::embed(std::vector<Encoding> encodings, std::chrono::milliseconds timeout) {
  auto job = std::make_shared<Job>();
  for (const Encoding& e : encodings) job->tokens += e.size();
  job->encodings = std::move(encodings);
  std::unique_lock<std::mutex> lock(mu_);
  // An empty queue takes any request: one larger than the queue's bound
  // (allowed by the request limits) must still be able to run.
  if (stopping_ || (!queue_.empty() && queued_tokens_ + job->tokens > max_queue_tokens_)) {
    Answer full;
    full.outcome = Outcome::kQueueFull;
    return full;
  }
  queue_.push_back(job);
  queued_tokens_ += job->tokens;
  wake_.notify_all();
  if (!job->finished.wait_for(lock, timeout, [&] { return job->done; })) {
    if (!job->started) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), job));
      queued_tokens_ -= job->tokens;
      Answer late;
      late.outcome = Outcome::kTimedOut;
      return late;
    }
    job->finished.wait(lock, [&] { return job->done; });  // running: its pass ends soon
  }
  return std::move(job->answer);
}

size_t EmbeddingBatcher::queued_tokens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_tokens_;
}

size_t EmbeddingBatcher::queued_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void EmbeddingBatcher::work() {
  const size_t dims = embedder_.dims();
  for (;;) {
    std::vector<std::shared_ptr<Job>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      size_t tokens = 0;
      while (!queue_.empty() && (batch.empty() || tokens + queue_.front()->tokens <= batch_tokens_)) {
        batch.push_back(queue_.front());
        batch.back()->started = true;
        tokens += queue_.front()->tokens;
        queued_tokens_ -= queue_.front()->tokens;
        queue_.pop_front();
      }
    }
    std::vector<Encoding> all;
    size_t tokens = 0;
    for (const auto& job : batch) {
      tokens += job->tokens;
      all.insert(all.end(), std::make_move_iterator(job->encodings.begin()),
                 std::make_move_iterator(job->encodings.end()));
    }
    const auto start = std::chrono::steady_clock::now();
    auto vectors = embedder_.embed_encodings(all);
    if (metrics_ != nullptr)
      metrics_->record_batch(all.size(), tokens,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::lock_guard<std::mutex> lock(mu_);
    size_t row = 0;
    for (const auto& job : batch) {
      const size_t n = job->encodings.size();
      if (vectors.is_ok()) {
        job->answer.vectors.assign(vectors->begin() + static_cast<std::ptrdiff_t>(row * dims),
                                   vectors->begin() + static_cast<std::ptrdiff_t>((row + n) * dims));
      } else {
        job->answer.outcome = Outcome::kFailed;
        job->answer.status = vectors.status();
      }
      row += n;
      job->done = true;
      job->finished.notify_all();
    }
  }
}

}  // namespace simile::server
