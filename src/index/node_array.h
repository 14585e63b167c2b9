// NodeArray: per-node records of a fixed size, indexed by a 32-bit node
// number, in chunks that are allocated on demand and never move.
//
// Why not a std::vector: HnswIndex::search runs while add() appends nodes,
// and a vector that grows reallocates under its readers. Here chunk k holds
// kFirst << k nodes (so chunk sizes double and 23 chunks reach 2^32 nodes),
// the chunk table has a fixed size, and growing only fills in a null slot of
// it: a record's address never changes once its chunk exists.
//
// Locating node n is a few instructions (x = n + kFirst; the chunk is the
// position of x's top bit minus kFirstBits, the record x minus that bit), so
// a search pays almost nothing over a flat array. Records are
// default-initialised (trivial types are left uninitialised: the memory of a
// large chunk is only touched, and becomes resident, as nodes are written).
//
// Thread safety: at() may run concurrently with grow(). Callers make sure a
// reader only asks for records whose chunk was grown, and whose contents were
// written, before (a happens-before edge of their own: HnswIndex publishes
// node numbers with release stores). grow() calls must not overlap.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "util/check.h"

namespace simile {

template <class T>
class NodeArray {
 public:
  static constexpr unsigned kFirstBits = 10;
  static constexpr uint64_t kFirst = uint64_t{1} << kFirstBits;
  static constexpr size_t kChunks = 33 - kFirstBits;  // chunk of node 2^32 - 1 is 32 - kFirstBits

  // stride: records of T per node (e.g. a code's bytes, a link list's words).
  explicit NodeArray(size_t stride) : stride_(stride) {}
  ~NodeArray() {
    for (std::atomic<T*>& c : chunks_) delete[] c.load(std::memory_order_relaxed);
  }
  NodeArray(const NodeArray&) = delete;
  NodeArray& operator=(const NodeArray&) = delete;

  size_t stride() const { return stride_; }

  // The stride records of node n.
  T* at(uint32_t n) const {
    const uint64_t x = uint64_t{n} + kFirst;
    const int top = std::bit_width(x) - 1;
    T* chunk = chunks_[top - kFirstBits].load(std::memory_order_acquire);
    return chunk + (x - (uint64_t{1} << top)) * stride_;
  }

  // Makes room for nodes [0, n). Writers only, one at a time.
  void grow(uint64_t n) {
    uint64_t capacity = capacity_.load(std::memory_order_relaxed);
    while (capacity < n) {
      SIMILE_CHECK(used_ < kChunks);
      chunks_[used_].store(new T[(kFirst << used_) * stride_], std::memory_order_release);
      capacity += kFirst << used_;
      ++used_;
    }
    capacity_.store(capacity, std::memory_order_relaxed);
  }

  // Nodes there is room for.
  uint64_t capacity() const { return capacity_.load(std::memory_order_relaxed); }

 private:
  size_t stride_;
  size_t used_ = 0;  // chunks allocated
  std::atomic<uint64_t> capacity_{0};
  std::array<std::atomic<T*>, kChunks> chunks_{};
};

}  // namespace simile
