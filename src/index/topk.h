// The k best hits of a scan, kept in a bounded heap.
//
// Order is total and deterministic: higher score first, equal scores by
// smaller id. So a scan split across threads, merged in any order, returns
// exactly what one thread would. NaN scores never enter.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace simile {

struct Hit {
  int64_t id;
  float score;  // higher is better (see the index's metric for its meaning)
};

// Whether a ranks before b.
inline bool hit_before(const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); }

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  // A score below threshold() cannot enter; one at or above it may (ties then
  // go by id). The scan loop tests this before calling push: it is -inf until
  // k hits are held, then the worst held score.
  float threshold() const { return threshold_; }

  void push(int64_t id, float score) {
    if (!(score >= threshold_) || k_ == 0) return;  // also drops NaN
    const Hit hit{id, score};
    if (heap_.size() < k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end(), hit_before);  // front: the worst held hit
      if (heap_.size() == k_) threshold_ = heap_.front().score;
      return;
    }
    if (!hit_before(hit, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), hit_before);
    heap_.back() = hit;
    std::push_heap(heap_.begin(), heap_.end(), hit_before);
    threshold_ = heap_.front().score;
  }

  void merge(const TopK& other) {
    for (const Hit& h : other.heap_) push(h.id, h.score);
  }

  size_t size() const { return heap_.size(); }

  // The hits, best first; leaves this TopK empty.
  std::vector<Hit> take_sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), hit_before);
    threshold_ = -std::numeric_limits<float>::infinity();
    std::vector<Hit> out = std::move(heap_);
    heap_.clear();
    return out;
  }

 private:
  size_t k_;
  float threshold_ = -std::numeric_limits<float>::infinity();
  std::vector<Hit> heap_;
};

}  // namespace simile
