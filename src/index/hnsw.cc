#include "index/hnsw.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "index/hnsw_state.h"
#include "model/pooling.h"
#include "util/check.h"

namespace simile {

namespace {

// An id-list filter allowing at most this many nodes, or less than
// 1 / kExactFilterDivisor of the graph, is answered by scoring the allowed
// nodes exactly: the graph walk would traverse about divisor times more
// nodes than it keeps before finding ef allowed ones. First guesses, to be
// tuned with `simile bench ann`.
constexpr size_t kExactFilterMaxNodes = 2048;
constexpr size_t kExactFilterDivisor = 50;

// repair(): how many removed nodes one list's repair may walk through to
// find live replacements, per slot of the list. Removed nodes usually link
// to live ones directly; the bound only stops a walk through a large
// removed region from costing more than the list is worth.
constexpr size_t kRepairWalkPerSlot = 4;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Link words and flags are read by searches while writers change them, so
// every access is atomic. Release stores and acquire loads make a node's
// code and lists visible to a reader before the link that leads to it (on
// x86 both are plain moves).
uint32_t load_word(const uint32_t* w) {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(w)).load(std::memory_order_acquire);
}
void store_word(uint32_t* w, uint32_t v) { std::atomic_ref<uint32_t>(*w).store(v, std::memory_order_release); }

bool nearer_first(const auto& a, const auto& b) { return a.dist < b.dist || (a.dist == b.dist && a.node < b.node); }

}  // namespace

// A search's filter resolved against nodes: removed nodes, and nodes outside
// the caller's filter, are never results.
class HnswIndex::NodeFilter {
 public:
  NodeFilter(const HnswIndex& index, const std::function<bool(int64_t)>* accept, std::vector<uint64_t> bits)
      : index_(index), accept_(accept), bits_(std::move(bits)) {}

  bool accept(uint32_t node) const {
    if (index_.flags(node) & kRemoved) return false;
    if (!bits_.empty()) return (bits_[node >> 6] >> (node & 63)) & 1;
    if (accept_ != nullptr) return (*accept_)(*index_.s_->ids.at(node));
    return true;
  }

 private:
  const HnswIndex& index_;
  const std::function<bool(int64_t)>* accept_;
  std::vector<uint64_t> bits_;  // allowed nodes, when the filter was an id list
};

HnswIndex::HnswIndex(size_t dims, VectorType type, Metric metric, HnswParams params)
    : dims_(dims),
      type_(type),
      metric_(metric),
      params_(params),
      code_size_(encoded_size(type, dims)),
      max_links0_(2 * params.M),
      max_links_(params.M),
      level_mult_(params.M >= 2 ? 1.0 / std::log(static_cast<double>(params.M)) : 0.0),
      kernel_(metric == Metric::kL2 ? l2sq_kernel(type) : dot_kernel(type)),
      sign_(metric == Metric::kL2 ? 1.0f : -1.0f),
      rescorer_(dims, VectorType::kF32, metric),
      s_(std::make_unique<State>(code_size_, 1 + max_links0_, params.seed)) {
  SIMILE_CHECK(dims > 0);
  SIMILE_CHECK(metric == Metric::kCosine || metric == Metric::kDot || metric == Metric::kL2);
  SIMILE_CHECK(params.M >= 2);
  // A beam narrower than M could not even fill a new node's links.
  params_.ef_construction = std::max(params_.ef_construction, params_.M);
}

HnswIndex::~HnswIndex() = default;
HnswIndex::HnswIndex(HnswIndex&&) noexcept = default;
HnswIndex& HnswIndex::operator=(HnswIndex&&) noexcept = default;

size_t HnswIndex::nodes() const { return s_->count.load(std::memory_order_acquire); }

size_t HnswIndex::size() const { return nodes() - s_->removed.load(std::memory_order_relaxed); }

double HnswIndex::tombstone_fraction() const {
  const size_t n = nodes();
  return n == 0 ? 0.0 : static_cast<double>(s_->removed.load(std::memory_order_relaxed)) / static_cast<double>(n);
}

int HnswIndex::max_level() const { return load_top().level; }

HnswIndex::Top HnswIndex::load_top() const {
  const uint64_t t = s_->top.load(std::memory_order_acquire);
  return {static_cast<int>(t >> 32) - 1, static_cast<uint32_t>(t)};
}

void HnswIndex::store_top(Top top) {
  s_->top.store((uint64_t(top.level + 1) << 32) | top.entry, std::memory_order_release);
}

size_t HnswIndex::memory_bytes() const {
  // An unordered_map entry: key, value, next pointer and cached hash in a
  // heap node, plus a bucket pointer.
  const size_t map_entry = sizeof(int64_t) + sizeof(uint32_t) + 3 * sizeof(void*);
  size_t visited = 0;
  {
    std::lock_guard<std::mutex> lock(s_->pool.mutex);
    for (const auto& v : s_->pool.free) visited += v->marks.capacity() * sizeof(uint16_t);
  }
  size_t map = 0;
  {
    std::shared_lock<std::shared_mutex> lock(s_->ids_mutex);
    map = s_->node_of.size() * map_entry;
  }
  // The records of the nodes there are: a chunk's unused tail is address
  // space that no write has touched, not memory.
  const size_t per_node =
      code_size_ + (1 + max_links0_) * sizeof(uint32_t) + sizeof(std::unique_ptr<uint32_t[]>) + sizeof(int64_t) + 2;
  return visited + map + nodes() * per_node + s_->upper_words.load(std::memory_order_relaxed) * sizeof(uint32_t);
}

void HnswIndex::reserve(size_t n) {
  std::unique_lock<std::shared_mutex> lock(s_->ids_mutex);
  s_->codes.grow(n);
  s_->links0.grow(n);
  s_->upper.grow(n);
  s_->ids.grow(n);
  s_->levels.grow(n);
  s_->flags.grow(n);
}

uint32_t* HnswIndex::links(uint32_t node, int level) const {
  if (level == 0) return s_->links0.at(node);
  return s_->upper.at(node)->get() + size_t(level - 1) * (1 + max_links_);
}

const uint8_t* HnswIndex::code(uint32_t node) const { return s_->codes.at(node); }

uint8_t HnswIndex::flags(uint32_t node) const {
  return std::atomic_ref<uint8_t>(*s_->flags.at(node)).load(std::memory_order_acquire);
}

std::mutex& HnswIndex::link_lock(uint32_t node) const { return s_->link_locks[node % State::kLinkLocks]; }

const float* HnswIndex::node_vector(uint32_t node, std::vector<float>& scratch) const {
  if (type_ == VectorType::kF32) return reinterpret_cast<const float*>(code(node));
  scratch.resize(dims_);
  decode_vectors(type_, code(node), 1, dims_, scratch.data());
  return scratch.data();
}

const float* HnswIndex::prepare(const float* v, std::vector<float>& scratch) const {
  if (metric_ != Metric::kCosine) return v;
  scratch.assign(v, v + dims_);
  l2_normalize(scratch.data(), dims_);
  return scratch.data();
}

int HnswIndex::draw_level() {
  // One draw per node: open() relies on it to restore the generator.
  // u in (0, 1] from the top 53 bits, computed here rather than with
  // std::uniform_real_distribution so levels are the same on every standard
  // library.
  const double u = static_cast<double>((s_->rng() >> 11) + 1) * 0x1p-53;
  const double level = std::floor(-std::log(u) * level_mult_);
  return static_cast<int>(std::min<double>(level, kMaxLevel));
}

std::unique_ptr<HnswIndex::Visited> HnswIndex::acquire_visited() const {
  {
    std::lock_guard<std::mutex> lock(s_->pool.mutex);
    if (!s_->pool.free.empty()) {
      std::unique_ptr<Visited> v = std::move(s_->pool.free.back());
      s_->pool.free.pop_back();
      return v;
    }
  }
  return std::make_unique<Visited>();
}

void HnswIndex::release_visited(std::unique_ptr<Visited> v) const {
  std::lock_guard<std::mutex> lock(s_->pool.mutex);
  s_->pool.free.push_back(std::move(v));
}

void HnswIndex::greedy(const float* query, int level, uint32_t limit, Candidate& entry, size_t* scored) const {
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t* l = links(entry.node, level);
    const uint32_t count = load_word(l);
    for (uint32_t i = 1; i <= count; ++i) {
      const uint32_t nb = load_word(l + i);
      if (nb >= limit) continue;
      const float d = dist(query, nb);
      ++*scored;
      if (d < entry.dist) {
        entry = {d, nb};
        moved = true;
      }
    }
  }
}

namespace {

struct Farther {  // max-heap on distance: front = the farthest
  template <class C>
  bool operator()(const C& a, const C& b) const {
    return a.dist < b.dist;
  }
};
struct Nearer {  // min-heap on distance: front = the nearest
  template <class C>
  bool operator()(const C& a, const C& b) const {
    return a.dist > b.dist;
  }
};

}  // namespace

std::vector<HnswIndex::Candidate> HnswIndex::search_level(const float* query, const std::vector<Candidate>& entries,
                                                          size_t ef, int level, uint32_t limit,
                                                          const NodeFilter* filter, Visited& visited,
                                                          size_t* scored) const {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  visited.begin(limit);
  std::vector<Candidate> frontier;  // min-heap: the next node to expand
  std::vector<Candidate> results;   // max-heap: the best ef accepted so far
  frontier.reserve(ef * 2);
  results.reserve(ef + 1);
  auto keep = [&](Candidate c) {
    results.push_back(c);
    std::push_heap(results.begin(), results.end(), Farther{});
    if (results.size() > ef) {
      std::pop_heap(results.begin(), results.end(), Farther{});
      results.pop_back();
    }
  };
  for (const Candidate& e : entries) {
    if (visited.test_set(e.node)) continue;
    frontier.push_back(e);
    std::push_heap(frontier.begin(), frontier.end(), Nearer{});
    if (filter == nullptr || filter->accept(e.node)) keep(e);
  }
  // Until ef results are held, everything reached is worth expanding.
  float bound = results.size() >= ef ? results.front().dist : kInf;
  // A graph walk is bound by memory latency, not arithmetic: each expansion
  // first collects the unseen neighbours and prefetches all their codes, so
  // their cache misses overlap instead of coming one at a time.
  const size_t prefetch_bytes = std::min<size_t>(code_size_, 512);
  // Each fresh neighbour's code is located once (a chunk lookup), for the
  // prefetch and then the distance.
  std::vector<uint32_t> fresh(std::max(max_links0_, max_links_));
  std::vector<const uint8_t*> fresh_code(fresh.size());
  const ScoreKernel kernel = kernel_;
  while (!frontier.empty()) {
    const Candidate c = frontier.front();
    if (c.dist > bound) break;  // every unexpanded node is farther than the ef-th result
    std::pop_heap(frontier.begin(), frontier.end(), Nearer{});
    frontier.pop_back();
    const uint32_t* l = links(c.node, level);
    const uint32_t count = load_word(l);
    size_t n_fresh = 0;
    for (uint32_t i = 1; i <= count; ++i) {
      const uint32_t nb = load_word(l + i);
      // A node newer than the search (limit) is skipped: the visited marks
      // only cover the nodes there were when it began.
      if (nb >= limit || visited.test_set(nb)) continue;
      const uint8_t* p = code(nb);
      fresh[n_fresh] = nb;
      fresh_code[n_fresh++] = p;
      for (size_t off = 0; off < prefetch_bytes; off += 64) __builtin_prefetch(p + off);
    }
    // The next node to expand is probably the frontier's nearest: fetch its list now.
    if (!frontier.empty()) __builtin_prefetch(links(frontier.front().node, level));
    for (size_t i = 0; i < n_fresh; ++i) {
      const uint32_t nb = fresh[i];
      const float d = sign_ * kernel(query, fresh_code[i], dims_);
      if (results.size() < ef || d < bound) {
        frontier.push_back({d, nb});
        std::push_heap(frontier.begin(), frontier.end(), Nearer{});
        if (filter == nullptr || filter->accept(nb)) {
          keep({d, nb});
          if (results.size() >= ef) bound = results.front().dist;
        }
      }
    }
    *scored += n_fresh;
  }
  return results;
}

std::vector<HnswIndex::Candidate> HnswIndex::select_neighbours(const std::vector<Candidate>& candidates,
                                                               size_t m) const {
  // With no more candidates than slots, pruning would only leave slots empty.
  if (candidates.size() <= m) return candidates;
  std::vector<Candidate> chosen;
  chosen.reserve(m);
  std::vector<float> scratch;
  for (const Candidate& c : candidates) {
    if (chosen.size() >= m) break;
    const float* v = node_vector(c.node, scratch);
    bool diverse = true;
    for (const Candidate& r : chosen) {
      // c is nearer to a chosen neighbour than to the base: reachable through it.
      if (dist(v, r.node) < c.dist) {
        diverse = false;
        break;
      }
    }
    if (diverse) chosen.push_back(c);
  }
  return chosen;
}

void HnswIndex::link_back(uint32_t to, uint32_t from, float d, int level) {
  std::lock_guard<std::mutex> lock(link_lock(to));
  uint32_t* l = links(to, level);
  const uint32_t count = load_word(l);
  const size_t cap = level == 0 ? max_links0_ : max_links_;
  if (count < cap) {
    // The slot before the count: a reader that sees the new count sees the link.
    store_word(l + 1 + count, from);
    store_word(l, count + 1);
    return;
  }
  std::vector<float> scratch;
  const float* v = node_vector(to, scratch);
  std::vector<Candidate> candidates;
  candidates.reserve(cap + 1);
  candidates.push_back({d, from});
  for (uint32_t i = 1; i <= count; ++i) {
    const uint32_t nb = load_word(l + i);
    candidates.push_back({dist(v, nb), nb});
  }
  std::sort(candidates.begin(), candidates.end(), nearer_first<Candidate, Candidate>);
  const std::vector<Candidate> chosen = select_neighbours(candidates, cap);
  // Rewritten in place: a reader meanwhile sees a mix of old and new links,
  // each of them a valid node, which is all a walk needs.
  for (size_t i = 0; i < chosen.size(); ++i) store_word(l + 1 + i, chosen[i].node);
  store_word(l, static_cast<uint32_t>(chosen.size()));
}

void HnswIndex::set_links(uint32_t node, int level, const std::vector<Candidate>& chosen) {
  // No lock: nothing links to node yet (insert links back only once all of
  // node's own lists are written), so no other insert writes this list.
  uint32_t* l = links(node, level);
  for (size_t i = 0; i < chosen.size(); ++i) store_word(l + 1 + i, chosen[i].node);
  store_word(l, static_cast<uint32_t>(chosen.size()));
}

namespace {

Status check_finite(int64_t id, const float* v, size_t dims, const char* what) {
  for (size_t i = 0; i < dims; ++i) {
    if (!std::isfinite(v[i]))
      return Status::invalid_argument(std::string(what) + " for id " + std::to_string(id) +
                                      " has a non-finite component " + std::to_string(i));
  }
  return Status::ok();
}

}  // namespace

Status HnswIndex::add(int64_t id, const float* v) {
  const Status finite = check_finite(id, v, dims_, "vector");
  if (!finite.is_ok()) return finite;
  std::vector<float> unit;
  return insert(id, prepare(v, unit), nullptr);
}

std::vector<int64_t> HnswIndex::live_ids() const {
  std::shared_lock<std::shared_mutex> lock(s_->ids_mutex);
  std::vector<int64_t> out;
  const uint32_t n = s_->count.load(std::memory_order_acquire);
  out.reserve(n);
  for (uint32_t node = 0; node < n; ++node)
    if ((flags(node) & (kReady | kRemoved)) == kReady) out.push_back(*s_->ids.at(node));
  if (!s_->ids_ascending) std::sort(out.begin(), out.end());
  return out;
}

const uint8_t* HnswIndex::code_of(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(s_->ids_mutex);
  const std::optional<uint32_t> node = find(id);
  return node ? code(*node) : nullptr;
}

Status HnswIndex::add_code(int64_t id, const uint8_t* code) {
  std::vector<float> v(dims_);
  decode_vectors(type_, code, 1, dims_, v.data());
  const Status finite = check_finite(id, v.data(), dims_, "code");
  if (!finite.is_ok()) return finite;
  return insert(id, v.data(), code);
}

Status HnswIndex::add_batch(std::span<const int64_t> ids, const float* vectors, size_t threads) {
  return insert_batch(ids, vectors, nullptr, threads);
}

Status HnswIndex::add_code_batch(std::span<const int64_t> ids, const uint8_t* codes, size_t threads) {
  return insert_batch(ids, nullptr, codes, threads);
}

Status HnswIndex::insert_batch(std::span<const int64_t> ids, const float* vectors, const uint8_t* codes,
                               size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, ids.size());
  if (threads <= 1) {
    for (size_t i = 0; i < ids.size(); ++i) {
      const Status st = codes != nullptr ? add_code(ids[i], codes + i * code_size_) : add(ids[i], vectors + i * dims_);
      if (!st.is_ok()) return st;
    }
    return Status::ok();
  }
  // A row is taken and given its node number in one step, so nodes follow
  // rows: ascending ids keep needing no id map, and the first failing row
  // (only checking and allocating can fail) stops the batch as add() in a
  // loop would. The insert itself, nearly all the work, runs unlocked.
  std::mutex order_mutex;
  size_t next = 0;
  Status error = Status::ok();
  auto work = [&] {
    std::vector<float> unit;
    for (;;) {
      size_t row = 0;
      uint32_t node = 0;
      const float* q = nullptr;
      {
        std::lock_guard<std::mutex> lock(order_mutex);
        if (next >= ids.size() || !error.is_ok()) return;
        row = next++;
        if (codes != nullptr) {
          unit.resize(dims_);
          decode_vectors(type_, codes + row * code_size_, 1, dims_, unit.data());
          error = check_finite(ids[row], unit.data(), dims_, "code");
          q = unit.data();
        } else {
          error = check_finite(ids[row], vectors + row * dims_, dims_, "vector");
        }
        if (!error.is_ok()) return;
        Result<uint32_t> allocated = allocate(ids[row]);
        if (!allocated.is_ok()) {
          error = allocated.status();
          return;
        }
        node = *allocated;
      }
      if (codes != nullptr) {
        link_in(node, q, codes + row * code_size_);
      } else {
        link_in(node, prepare(vectors + row * dims_, unit), nullptr);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
  return error;
}

Result<uint32_t> HnswIndex::allocate(int64_t id) {
  std::unique_lock<std::shared_mutex> lock(s_->ids_mutex);
  if (find(id)) return Status::invalid_argument("id " + std::to_string(id) + " is already in the index");
  const uint32_t node = s_->count.load(std::memory_order_relaxed);
  if (node == std::numeric_limits<uint32_t>::max())
    return Status::invalid_argument("the index is full (2^32 - 1 nodes)");
  const int level = draw_level();
  State& s = *s_;
  if (s.codes.capacity() <= node) {
    for (NodeArray<uint8_t>* a : {&s.codes, &s.levels, &s.flags}) a->grow(uint64_t{node} + 1);
    s.links0.grow(uint64_t{node} + 1);
    s.upper.grow(uint64_t{node} + 1);
    s.ids.grow(uint64_t{node} + 1);
  }
  *s.levels.at(node) = static_cast<uint8_t>(level);
  std::atomic_ref<uint8_t>(*s.flags.at(node)).store(0, std::memory_order_relaxed);
  store_word(s.links0.at(node), 0);
  if (level > 0) {
    const size_t words = size_t(level) * (1 + max_links_);
    *s.upper.at(node) = std::make_unique<uint32_t[]>(words);  // zeros: every count 0
    s.upper_words.fetch_add(words, std::memory_order_relaxed);
  } else {
    s.upper.at(node)->reset();
  }
  if (s.ids_ascending && node > 0 && id <= *s.ids.at(node - 1)) {
    // From here on ids need the map; in node order, so a re-added id maps
    // to its newest node.
    s.ids_ascending = false;
    s.node_of.reserve(node + 1);
    for (uint32_t n = 0; n < node; ++n) s.node_of[*s.ids.at(n)] = n;
  }
  if (!s.ids_ascending) s.node_of[id] = node;
  *s.ids.at(node) = id;
  s.count.store(node + 1, std::memory_order_release);
  return node;
}

Status HnswIndex::insert(int64_t id, const float* q, const uint8_t* code) {
  Result<uint32_t> allocated = allocate(id);
  if (!allocated.is_ok()) return allocated.status();
  link_in(*allocated, q, code);
  return Status::ok();
}

void HnswIndex::link_in(uint32_t node, const float* q, const uint8_t* code) {
  const int level = *s_->levels.at(node);
  uint8_t* dst = s_->codes.at(node);
  if (code != nullptr) {
    std::memcpy(dst, code, code_size_);
  } else {
    encode_vector(type_, q, dims_, dst);
  }
  std::atomic_ref<uint8_t>(*s_->flags.at(node)).fetch_or(kReady, std::memory_order_release);

  // An insert that may become the entry point holds the top lock throughout,
  // so two such inserts cannot both take the top from under each other.
  std::unique_lock<std::mutex> top_lock(s_->top_mutex, std::defer_lock);
  Top top = load_top();
  if (level > top.level) {
    top_lock.lock();
    top = load_top();
  }
  if (top.level < 0) {
    store_top({level, node});
    return;
  }
  // Loaded after the top, so the entry point is below it.
  const uint32_t limit = s_->count.load(std::memory_order_acquire);
  size_t scored = 0;
  Candidate entry{dist(q, top.entry), top.entry};
  for (int lc = top.level; lc > level; --lc) greedy(q, lc, limit, entry, &scored);
  std::unique_ptr<Visited> visited = acquire_visited();
  std::vector<Candidate> entries{entry};
  const int linked = std::min(level, top.level);
  std::vector<std::vector<Candidate>> chosen(size_t(linked) + 1);
  for (int lc = linked; lc >= 0; --lc) {
    std::vector<Candidate> found =
        search_level(q, entries, params_.ef_construction, lc, limit, nullptr, *visited, &scored);
    std::sort(found.begin(), found.end(), nearer_first<Candidate, Candidate>);
    chosen[lc] = select_neighbours(found, max_links_);
    set_links(node, lc, chosen[lc]);
    entries = std::move(found);
  }
  release_visited(std::move(visited));
  // Links back to node only now that all its lists are written: a search
  // that reaches it on a level then finds its links on every level below
  // (reached on level 1 with an empty level-0 list, a walk would end there).
  // Each level's links back touch that level's lists only, so deferring
  // them leaves a one-thread build the same graph.
  for (int lc = 0; lc <= linked; ++lc) {
    for (const Candidate& c : chosen[lc]) link_back(c.node, node, c.dist, lc);
  }
  if (level > top.level) store_top({level, node});
}

Status HnswIndex::remove(int64_t id) {
  std::unique_lock<std::shared_mutex> lock(s_->ids_mutex);
  const std::optional<uint32_t> node = find(id);
  if (!node) return Status::not_found("id " + std::to_string(id) + " is not in the index");
  std::atomic_ref<uint8_t>(*s_->flags.at(*node)).fetch_or(kRemoved, std::memory_order_release);
  s_->removed.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

std::optional<uint32_t> HnswIndex::find(int64_t id) const {
  uint32_t node = 0;
  if (s_->ids_ascending) {
    // Binary search over node numbers: ids ascend with them.
    uint32_t lo = 0, hi = s_->count.load(std::memory_order_relaxed);
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      if (*s_->ids.at(mid) < id) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == s_->count.load(std::memory_order_relaxed) || *s_->ids.at(lo) != id) return std::nullopt;
    node = lo;
  } else {
    auto it = s_->node_of.find(id);
    if (it == s_->node_of.end()) return std::nullopt;
    node = it->second;
  }
  if (flags(node) & kRemoved) return std::nullopt;
  return node;
}

bool HnswIndex::contains(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(s_->ids_mutex);
  return find(id).has_value();
}

size_t HnswIndex::repair() {
  const uint32_t n = static_cast<uint32_t>(nodes());
  std::vector<uint32_t> seen(n, 0);
  uint32_t epoch = 0;
  size_t repaired = 0;
  for (uint32_t node = 0; node < n; ++node) {
    if (flags(node) & kRemoved) continue;
    for (int lc = 0; lc <= *s_->levels.at(node); ++lc) {
      if (++epoch == 0) {
        std::fill(seen.begin(), seen.end(), 0);
        epoch = 1;
      }
      repaired += repair_list(node, lc, seen, epoch);
    }
  }
  // A removed entry point would keep searches starting among tombstones: the
  // first live node of the highest level takes its place. Removed nodes above
  // that level are unreachable from then on.
  const Top top = load_top();
  if (top.level >= 0 && (flags(top.entry) & kRemoved)) {
    Top best{-1, 0};
    for (uint32_t node = 0; node < n; ++node) {
      if (!(flags(node) & kRemoved) && *s_->levels.at(node) > best.level) best = {*s_->levels.at(node), node};
    }
    if (best.level >= 0) store_top(best);  // else every node is removed: nothing to search anyway
  }
  return repaired;
}

size_t HnswIndex::repair_list(uint32_t node, int level, std::vector<uint32_t>& seen, uint32_t epoch) {
  uint32_t* l = links(node, level);
  const uint32_t count = load_word(l);
  bool any_removed = false;
  for (uint32_t i = 1; i <= count && !any_removed; ++i) any_removed = flags(load_word(l + i)) & kRemoved;
  if (!any_removed) return 0;

  // The live neighbours stay candidates; each removed one is replaced by the
  // live nodes it led to, breadth first through removed ones.
  const size_t cap = level == 0 ? max_links0_ : max_links_;
  seen[node] = epoch;
  std::vector<uint32_t> live, removed;
  for (uint32_t i = 1; i <= count; ++i) {
    const uint32_t nb = load_word(l + i);
    if (seen[nb] == epoch) continue;
    seen[nb] = epoch;
    (flags(nb) & kRemoved ? removed : live).push_back(nb);
  }
  const size_t dropped = removed.size();
  const size_t walk = kRepairWalkPerSlot * cap;
  for (size_t r = 0; r < removed.size() && r < walk; ++r) {
    const uint32_t* rl = links(removed[r], level);
    const uint32_t rc = load_word(rl);
    for (uint32_t i = 1; i <= rc; ++i) {
      const uint32_t nb = load_word(rl + i);
      if (seen[nb] == epoch) continue;
      seen[nb] = epoch;
      (flags(nb) & kRemoved ? removed : live).push_back(nb);
    }
  }
  std::vector<float> scratch;
  const float* v = node_vector(node, scratch);
  std::vector<Candidate> candidates;
  candidates.reserve(live.size());
  for (uint32_t nb : live) candidates.push_back({dist(v, nb), nb});
  std::sort(candidates.begin(), candidates.end(), nearer_first<Candidate, Candidate>);
  std::vector<Candidate> chosen = select_neighbours(candidates, cap);
  // The heuristic alone would thin the list: links it prunes were pruned
  // before among the links the node got over time, and the removed ones had
  // been kept. The nearest pruned candidates make up the old count, so the
  // node keeps as many ways out as it had.
  for (size_t i = 0; i < candidates.size() && chosen.size() < count; ++i) {
    const uint32_t c = candidates[i].node;
    if (std::none_of(chosen.begin(), chosen.end(), [&](const Candidate& x) { return x.node == c; }))
      chosen.push_back(candidates[i]);
  }
  std::lock_guard<std::mutex> lock(link_lock(node));
  for (size_t i = 0; i < chosen.size(); ++i) store_word(l + 1 + i, chosen[i].node);
  store_word(l, static_cast<uint32_t>(chosen.size()));
  return dropped;
}

HnswIndex HnswIndex::compact() {
  repair();
  const uint32_t n = static_cast<uint32_t>(nodes());
  constexpr uint32_t kGone = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> renumbered(n, kGone);
  uint32_t live = 0;
  for (uint32_t node = 0; node < n; ++node) {
    if (!(flags(node) & kRemoved)) renumbered[node] = live++;
  }
  std::vector<int64_t> ids;
  std::vector<uint8_t> codes, levels;
  std::vector<uint32_t> links0, upper_at, upper;
  ids.reserve(live);
  codes.reserve(size_t{live} * code_size_);
  links0.reserve(size_t{live} * (1 + max_links0_));
  // A list with its removed links dropped (repair() left none, but a list is
  // never trusted to be free of them) and the rest renumbered.
  auto copy_list = [&](std::vector<uint32_t>& out, const uint32_t* l, size_t cap) {
    const size_t at = out.size();
    out.resize(at + 1 + cap, 0);
    uint32_t kept = 0;
    for (uint32_t i = 1; i <= load_word(l); ++i) {
      const uint32_t nb = renumbered[load_word(l + i)];
      if (nb != kGone) out[at + 1 + kept++] = nb;
    }
    out[at] = kept;
  };
  for (uint32_t node = 0; node < n; ++node) {
    if (renumbered[node] == kGone) continue;
    ids.push_back(*s_->ids.at(node));
    codes.insert(codes.end(), code(node), code(node) + code_size_);
    const int level = *s_->levels.at(node);
    levels.push_back(static_cast<uint8_t>(level));
    copy_list(links0, links(node, 0), max_links0_);
    upper_at.push_back(static_cast<uint32_t>(upper.size()));
    for (int lc = 1; lc <= level; ++lc) copy_list(upper, links(node, lc), max_links_);
  }
  const std::vector<uint8_t> tombstones(live, 0);
  Flat flat{ids, codes, links0, upper_at, upper, levels, tombstones};
  const Top top = load_top();
  if (live > 0) flat.top = {top.level, renumbered[top.entry]};
  HnswIndex out(dims_, type_, metric_, params_);
  const Status adopted = out.adopt(flat);
  SIMILE_CHECK(adopted.is_ok());
  return out;
}

void HnswIndex::finish(std::vector<Hit>& hits) const {
  if (metric_ != Metric::kL2) return;
  for (Hit& h : hits) h.score = -std::sqrt(std::max(0.0f, -h.score));
}

std::vector<Hit> HnswIndex::exact(const float* query, size_t k, const std::vector<uint32_t>& nodes,
                                  size_t* scored) const {
  TopK top(k);
  for (uint32_t n : nodes) top.push(*s_->ids.at(n), -dist(query, n));
  *scored += nodes.size();
  std::vector<Hit> hits = top.take_sorted();
  finish(hits);
  return hits;
}

std::vector<Hit> HnswIndex::search(const float* query, size_t k, size_t ef, const IdFilter* filter, SearchStats* stats,
                                   const OriginalFn* original) const {
  // The top before the node count: the entry point is then below the count.
  const Top top = load_top();
  const uint32_t limit = s_->count.load(std::memory_order_acquire);
  if (k == 0 || top.level < 0 || size() == 0) return {};
  const auto start = std::chrono::steady_clock::now();
  ef = std::max(ef, k);
  std::vector<float> unit;
  const float* q = prepare(query, unit);
  size_t scored = 0;
  std::vector<Hit> hits;
  auto record = [&] {
    if (stats != nullptr) {
      stats->vectors_scored += scored;
      stats->scan_seconds += seconds_since(start);
    }
  };

  std::unique_ptr<NodeFilter> node_filter;
  if (filter != nullptr && !filter->accept_) {
    std::vector<uint32_t> allowed;
    allowed.reserve(std::min<size_t>(filter->ids_.size(), limit));
    {
      std::shared_lock<std::shared_mutex> lock(s_->ids_mutex);
      for (int64_t id : filter->ids_) {
        // A node whose insert is still writing its code is left out, as is
        // one newer than the search.
        const std::optional<uint32_t> node = find(id);
        if (node && *node < limit && (flags(*node) & kReady)) allowed.push_back(*node);
      }
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    if (allowed.size() <= kExactFilterMaxNodes || allowed.size() * kExactFilterDivisor < limit) {
      hits = exact(q, original != nullptr ? ef : k, allowed, &scored);
      record();
      return original != nullptr ? rescorer_.rescore(query, hits, k, *original, stats) : hits;
    }
    std::vector<uint64_t> bits((limit + 63) / 64, 0);
    for (uint32_t n : allowed) bits[n >> 6] |= uint64_t{1} << (n & 63);
    node_filter = std::make_unique<NodeFilter>(*this, nullptr, std::move(bits));
  } else if (filter != nullptr) {
    node_filter = std::make_unique<NodeFilter>(*this, &filter->accept_, std::vector<uint64_t>{});
  } else if (s_->removed.load(std::memory_order_relaxed) > 0) {
    node_filter = std::make_unique<NodeFilter>(*this, nullptr, std::vector<uint64_t>{});
  }

  Candidate entry{dist(q, top.entry), top.entry};
  ++scored;
  for (int lc = top.level; lc > 0; --lc) greedy(q, lc, limit, entry, &scored);
  std::unique_ptr<Visited> visited = acquire_visited();
  std::vector<Candidate> found = search_level(q, {entry}, ef, 0, limit, node_filter.get(), *visited, &scored);
  release_visited(std::move(visited));

  if (original != nullptr) {
    hits.reserve(found.size());
    for (const Candidate& c : found) hits.push_back({*s_->ids.at(c.node), -c.dist});
    record();
    return rescorer_.rescore(query, hits, k, *original, stats);
  }
  TopK top_k(k);
  for (const Candidate& c : found) top_k.push(*s_->ids.at(c.node), -c.dist);
  hits = top_k.take_sorted();
  finish(hits);
  record();
  return hits;
}

}  // namespace simile
