// HnswIndex's internals shared by hnsw.cc and hnsw_file.cc: the graph's
// storage, its counters and its locks (index/hnsw.h says who may touch what
// concurrently).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "index/hnsw.h"
#include "index/node_array.h"

namespace simile {

// Which nodes a search has seen: a mark per node equal to the current epoch,
// so starting a search is one increment instead of clearing n marks.
struct HnswIndex::Visited {
  std::vector<uint16_t> marks;
  uint16_t epoch = 0;

  void begin(size_t nodes) {
    if (marks.size() < nodes) marks.resize(nodes, 0);
    if (++epoch == 0) {  // wrapped: old marks could collide with new epochs
      std::fill(marks.begin(), marks.end(), 0);
      epoch = 1;
    }
  }
  // Whether node was seen already; marks it seen.
  bool test_set(uint32_t node) {
    if (marks[node] == epoch) return true;
    marks[node] = epoch;
    return false;
  }
};

struct HnswIndex::VisitedPool {
  std::mutex mutex;
  std::vector<std::unique_ptr<Visited>> free;
};

struct HnswIndex::State {
  // Link lists are guarded by one of this many mutexes (node number modulo):
  // enough that parallel inserts rarely share one, without a mutex per node.
  static constexpr size_t kLinkLocks = 4096;

  State(size_t code_size, size_t links0_words, uint64_t seed)
      : codes(code_size), links0(links0_words), upper(1), ids(1), levels(1), flags(1), rng(seed) {}

  NodeArray<uint8_t> codes;
  NodeArray<uint32_t> links0;                    // words through load_word/store_word
  NodeArray<std::unique_ptr<uint32_t[]>> upper;  // null for level-0 nodes
  NodeArray<int64_t> ids;
  NodeArray<uint8_t> levels;
  NodeArray<uint8_t> flags;  // kReady | kRemoved, through std::atomic_ref
  // Nodes allocated: records below it exist (their code may still be being
  // written; a search reaches a node only through a link or a kReady flag).
  std::atomic<uint32_t> count{0};
  std::atomic<size_t> removed{0};
  std::atomic<size_t> upper_words{0};
  // Top{level, entry} as (level + 1) << 32 | entry; 0 = empty.
  std::atomic<uint64_t> top{0};

  // Guards the id lookup, the level generator and the arrays' growth.
  mutable std::shared_mutex ids_mutex;
  // Ids -> newest node: a binary search in ids while ids were added in
  // ascending order (a store's load order; no map then, ~40 bytes/vector
  // saved), this map from the first id that is not.
  bool ids_ascending = true;
  std::unordered_map<int64_t, uint32_t> node_of;
  std::mt19937_64 rng;

  // Held by an insert that may raise the top level, for its whole insert
  // (rare: about one node in M), so two such inserts do not interleave.
  std::mutex top_mutex;
  mutable std::array<std::mutex, kLinkLocks> link_locks;
  // Visited lists reused across searches (allocating n marks per search
  // would cost more than the search).
  mutable VisitedPool pool;
};

}  // namespace simile
