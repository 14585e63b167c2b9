// Approximate k-nearest-neighbour search: a hierarchical navigable small
// world graph (HNSW; Malkov & Yashunin, "Efficient and robust approximate
// nearest neighbor search using Hierarchical Navigable Small World graphs",
// 2016/2018). Our own implementation of the paper's algorithms 1 (insert),
// 2 (search a level), 4 (select neighbours by heuristic) and 5 (k-NN search).
//
// Every vector is a node on level 0 and, with probability falling
// exponentially (mL = 1 / ln M), on levels 1, 2, ... too. A search descends
// greedily from the top level's entry point to level 1, then runs a beam
// search of width ef on level 0. Links are chosen with the paper's
// neighbour-selection heuristic (algorithm 4): a candidate is kept only if it
// is closer to the node than to every neighbour already kept, so links spread
// over directions instead of crowding into one cluster.
//
// Memory layout (why: a search touches links and codes of a few thousand
// nodes, so both are arrays indexed by a 32-bit node number, with no
// per-node allocation on level 0). Every per-node array is a NodeArray
// (index/node_array.h): chunks that double in size and never move, so a
// search can read them while add() appends.
//   codes     node n's vector, code_size bytes, in the index's VectorType
//   links0    node n's level-0 list: a count, then 2M slots
//   upper     levels 1..level(n) of node n, (1 + M) words each (null on level 0)
//   ids, levels, flags (ready, removed)
// Nodes are numbered in insertion order; ids map them back to caller ids.
//
// Scores are FlatIndex's (index/flat_index.h): higher = better; cosine and
// dot are q . v (cosine normalises query and vectors), L2 is -|q - v|.
//
// Vector types: f32, f16 or int8 codes. Queries stay float32 (asymmetric
// distance). With f16/int8, search() can re-score the final ef candidates
// against float32 originals the caller keeps (the store), so quantisation
// costs graph quality only, not final ranking precision.
//
// Deletes are tombstones: a removed node is never returned but stays in the
// graph and is still traversed, so the graph keeps its connectivity. As they
// pile up they waste the beam (links that lead to nodes that cannot be
// results): repair() relinks the live nodes around them (the paper's
// heuristic over the removed neighbours' own neighbours), after which
// tombstones are unreachable; compact() then gives a new index without them.
// The policy is the caller's: tombstone_fraction() says how many there are
// (e.g. repair above 10%, compact above 25%).
//
// Known limit: many exact copies of one vector (more than about 2M) can lose
// their in-links, since all are at distance 0 and a full list keeps the
// oldest; collapsing exact duplicates into one node is future work.
//
// Determinism: the same vectors added in the same order with the same
// HnswParams::seed on one thread give the same graph and the same results,
// also when the index was saved and opened in between (open() restores the
// level generator). Inserts on several threads (add_batch) give a graph as
// good but not the same one: the order in which nodes link to each other
// depends on timing.
//
// Persistence (docs/formats/hnsw.md): save() writes the graph with the
// caller's store generation and a checksum; open() refuses a file that is
// missing, stale or corrupt, and otherwise gives a normal index (searchable,
// and add()/remove() work on it).
//
// Thread safety (checked under ThreadSanitizer: tests/index/hnsw_concurrency_test.cc):
//  - search(), contains() and the other const accessors may run at any time,
//    concurrently with each other and with add(), add_code(), add_batch()
//    and remove(). A search never waits for a writer: it reads links and
//    flags through atomics (a list being rewritten may be read half old,
//    half new: every entry is still a node whose code is written), and node
//    memory is never moved or freed while the index lives.
//    What it returns: live nodes inserted before it began, as the graph
//    finds them; nodes inserted meanwhile or not; never a node whose
//    remove() returned before it began. Only an IdFilter::ids search and
//    contains() take the id lookup's reader lock, which writers hold for a
//    hash-map update (rarely longer: the switch to the map, a rehash).
//  - add(), add_code(), add_batch() and remove() may run concurrently with
//    each other (a parallel build): link lists are changed under per-node
//    (striped) locks, and a new top level under one lock.
//  - repair(), compact() and save() may run concurrently with const methods
//    (searches) but not with add(), remove() or each other. reserve() is
//    safe at any time. Moving or destroying the index needs it to be idle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "index/flat_index.h"
#include "index/similarity.h"
#include "index/topk.h"
#include "index/vector_codec.h"
#include "simile/status.h"

namespace simile {

struct HnswParams {
  size_t M = 16;                 // links per node on levels >= 1; 2M on level 0
  size_t ef_construction = 200;  // beam width while inserting; raised to M if below it
  uint64_t seed = 100;           // draws the levels
};

class HnswIndex {
 public:
  // Returns the float32 original of an id (dims floats), or null to drop it.
  using OriginalFn = std::function<const float*(int64_t)>;

  // metric: kCosine, kDot or kL2; dims > 0; params.M >= 2.
  HnswIndex(size_t dims, VectorType type, Metric metric, HnswParams params = {});
  ~HnswIndex();
  HnswIndex(HnswIndex&&) noexcept;
  HnswIndex& operator=(HnswIndex&&) noexcept;

  size_t dims() const { return dims_; }
  VectorType type() const { return type_; }
  Metric metric() const { return metric_; }
  const HnswParams& params() const { return params_; }
  // Live (not removed) vectors.
  size_t size() const;
  // Nodes in the graph, removed ones included.
  size_t nodes() const;
  // Removed nodes / nodes (0 when empty): how much of the graph is tombstones.
  double tombstone_fraction() const;
  // The highest level of the graph; -1 when empty.
  int max_level() const;
  // Bytes held for codes, links, ids, bookkeeping and the pooled visited
  // lists (2 bytes per node each; one per concurrent search).
  size_t memory_bytes() const;

  // Makes room for n nodes. Safe at any time.
  void reserve(size_t n);

  // Levels are capped here: with M >= 2 a level above 31 has probability
  // below 2^-31 per node, and the cap keeps a level in one byte.
  static constexpr int kMaxLevel = 31;

  // Writes the index to path (docs/formats/hnsw.md), tagged with the store
  // generation it reflects: to a temporary file beside path, fsynced, then
  // renamed over path, so path holds the old file or the new one, never a
  // torn one. io_error when the file cannot be written.
  Status save(const std::string& path, uint64_t generation) const;
  // Reads an index saved by save(). not_found: no file at path.
  // failed_precondition: an intact file saved at another generation than
  // expected_generation (stale; rebuild or catch up from the store).
  // corrupt: anything else wrong (magic, version, size, checksum, a link or
  // count out of range). The file is checked in full before it is used.
  // expected_generation kAnyGeneration accepts every generation (to catch a
  // stale index up rather than rebuild it); saved_generation() tells which.
  static Result<std::unique_ptr<HnswIndex>> open(const std::string& path, uint64_t expected_generation);
  static constexpr uint64_t kAnyGeneration = ~uint64_t{0};
  // The generation the index was saved at (open()); 0 for a new index.
  uint64_t saved_generation() const { return saved_generation_; }

  // Inserts v[dims] (normalised first for cosine, then encoded) under id.
  // An id that is present and not removed is an invalid-argument error;
  // a removed id may be added again (an update: the old node stays a
  // tombstone). Non-finite components are an error too.
  Status add(int64_t id, const float* v);
  // Inserts a code as stored (encoded_size(type(), dims()) bytes from
  // encode_vector; for cosine, of an already normalised vector), byte for
  // byte: a collection's index then scores exactly what its store holds.
  Status add_code(int64_t id, const uint8_t* code);
  // add() for ids.size() vectors (row-major, ids.size() x dims) on `threads`
  // threads (0 = the machine's cores), each taking the next row in order;
  // nodes are numbered in row order. With one thread, the same as add() in
  // a loop. The first failing row's error is returned: the rows before it
  // were added, the rest were not.
  Status add_batch(std::span<const int64_t> ids, const float* vectors, size_t threads);
  // add_code() for ids.size() codes, row after row, on `threads` threads as add_batch.
  Status add_code_batch(std::span<const int64_t> ids, const uint8_t* codes, size_t threads);
  // Marks id removed: it is never returned again. not_found if absent.
  Status remove(int64_t id);
  bool contains(int64_t id) const;
  // The ids of the live nodes, ascending.
  std::vector<int64_t> live_ids() const;
  // The code of a live id (code_size bytes, the index's VectorType), or null.
  const uint8_t* code_of(int64_t id) const;

  // Relinks every live node that has removed neighbours: the removed ones
  // are replaced by the heuristic's choice (select_neighbours) among the
  // node's live neighbours and the live nodes the removed ones linked to
  // (through chains of removed nodes, a few hops). A removed entry point is
  // replaced by a live node of the highest level. Afterwards no live node
  // links to a removed one, so searches no longer spend their beam on them.
  // Returns the number of links to removed nodes that were replaced.
  size_t repair();
  // A new index of the live nodes only (repair() runs on this one first):
  // renumbered in node order, same ids, params and vectors, no tombstones.
  // Its level generator continues as if its nodes had been added to it.
  HnswIndex compact();

  // The k best vectors for query[dims], best first (ties by smaller id),
  // searching with beam width max(ef, k). filter null = all. Nodes outside
  // the filter are still traversed (stepping stones) but never returned. An
  // IdFilter::ids list allowing few nodes (hnsw.cc: kExactFilter*) is
  // answered by scoring them exactly instead of walking a graph where almost
  // nothing qualifies; an IdFilter::where predicate is asked lazily for the
  // nodes the walk reaches, so it has no such fallback (its selectivity is
  // unknown) and a very selective one makes the walk visit much of the graph. With original
  // set, the final max(ef, k) candidates are re-scored exactly in float32 (use
  // with f16/int8 codes). Fewer than k hits when fewer qualify.
  std::vector<Hit> search(const float* query, size_t k, size_t ef, const IdFilter* filter = nullptr,
                          SearchStats* stats = nullptr, const OriginalFn* original = nullptr) const;

 private:
  struct Visited;
  struct VisitedPool;
  struct State;
  struct Candidate {
    float dist;  // lower = closer: squared L2, or -dot
    uint32_t node;
  };
  // The entry point and the level searches start on, read and written as one word.
  struct Top {
    int level;  // -1: empty graph
    uint32_t entry;
  };
  // The arrays of the file format (docs/formats/hnsw.md), as save() writes
  // them and open() and compact() read them.
  struct Flat {
    std::span<const int64_t> ids;
    std::span<const uint8_t> codes;
    std::span<const uint32_t> links0, upper_at, upper;
    std::span<const uint8_t> levels, tombstones;
    size_t removed = 0;
    Top top{-1, 0};
  };
  class NodeFilter;

  // Node flags (State::flags).
  static constexpr uint8_t kRemoved = 1;  // a tombstone
  static constexpr uint8_t kReady = 2;    // its code is written: an id filter may score it

  uint32_t* links(uint32_t node, int level) const;
  const uint8_t* code(uint32_t node) const;
  uint8_t flags(uint32_t node) const;
  // Distance from a float32 query to a node's code.
  float dist(const float* query, uint32_t node) const { return sign_ * kernel_(query, code(node), dims_); }
  // A node's vector as float32: the code itself for f32, else decoded into scratch.
  const float* node_vector(uint32_t node, std::vector<float>& scratch) const;
  // v as the graph scores it: normalised into scratch for cosine.
  const float* prepare(const float* v, std::vector<float>& scratch) const;
  Top load_top() const;
  void store_top(Top top);
  // The level of a new node: one draw of rng per node, so the generator's
  // state after n nodes is the seed's advanced by n (open() restores it so).
  // Under the id lock: draws follow node numbers.
  int draw_level();
  // add() and add_code(): q is the vector as the graph scores it; code, if
  // not null, is stored instead of q's encoding.
  Status insert(int64_t id, const float* q, const uint8_t* code);
  // add_batch and add_code_batch: rows of `vectors`, or of `codes` if not null.
  Status insert_batch(std::span<const int64_t> ids, const float* vectors, const uint8_t* codes, size_t threads);
  // Takes a node number for id and makes its records (under the id lock).
  Result<uint32_t> allocate(int64_t id);
  // Writes an allocated node's code and links it into the graph.
  void link_in(uint32_t node, const float* q, const uint8_t* code);
  // Writes a new node's list on level.
  void set_links(uint32_t node, int level, const std::vector<Candidate>& chosen);
  // open() and compact(): checks that f forms a graph a search can walk
  // safely (counts, links and their levels, entry point, tombstones, unique
  // live ids), then copies it in and builds the id lookup. Empty index only.
  Status adopt(const Flat& f);
  // The live node of an id; the caller holds the id lock.
  std::optional<uint32_t> find(int64_t id) const;
  std::mutex& link_lock(uint32_t node) const;

  std::unique_ptr<Visited> acquire_visited() const;
  void release_visited(std::unique_ptr<Visited> v) const;

  // Greedy walk on one level from *entry to the closest node it can reach
  // among nodes below limit.
  void greedy(const float* query, int level, uint32_t limit, Candidate& entry, size_t* scored) const;
  // Beam search of width ef on one level from the entry candidates, over
  // nodes below limit. Returns the closest ef nodes that filter accepts (all
  // when filter is null), as a max-heap on dist.
  std::vector<Candidate> search_level(const float* query, const std::vector<Candidate>& entries, size_t ef, int level,
                                      uint32_t limit, const NodeFilter* filter, Visited& visited, size_t* scored) const;
  // Algorithm 4: up to m of `candidates` (sorted by dist ascending), each
  // closer to the base than to those already chosen.
  std::vector<Candidate> select_neighbours(const std::vector<Candidate>& candidates, size_t m) const;
  // Adds `from` -> `to` on `level`, re-selecting to's list if it is full.
  void link_back(uint32_t to, uint32_t from, float d, int level);
  // repair() for one list; returns the removed links it replaced.
  size_t repair_list(uint32_t node, int level, std::vector<uint32_t>& seen, uint32_t epoch);
  std::vector<Hit> exact(const float* query, size_t k, const std::vector<uint32_t>& nodes, size_t* scored) const;
  // Ranking scores (-distance) -> reported scores: -|q - v| for L2.
  void finish(std::vector<Hit>& hits) const;

  size_t dims_;
  VectorType type_;
  Metric metric_;
  HnswParams params_;
  size_t code_size_;
  size_t max_links0_;  // 2M
  size_t max_links_;   // M
  double level_mult_;  // mL = 1 / ln M
  ScoreKernel kernel_;
  float sign_;  // +1 for squared L2, -1 to turn dot into a distance
  // Re-scores final candidates on float32 originals: FlatIndex::rescore is
  // exactly that computation, and an empty FlatIndex holds no vectors.
  FlatIndex rescorer_;
  // The graph, its locks and counters: behind a pointer so the index moves
  // (atomics and mutexes do not).
  std::unique_ptr<State> s_;
  uint64_t saved_generation_ = 0;
};

}  // namespace simile
