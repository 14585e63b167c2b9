#include "index/hnsw.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>

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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

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

// A search's filter resolved against nodes: removed nodes, and nodes outside
// the caller's filter, are never results.
class HnswIndex::NodeFilter {
 public:
  NodeFilter(const HnswIndex& index, const std::function<bool(int64_t)>* accept, std::vector<uint64_t> bits)
      : index_(index), accept_(accept), bits_(std::move(bits)) {}

  bool accept(uint32_t node) const {
    if (index_.removed_flags_[node] != 0) return false;
    if (!bits_.empty()) return (bits_[node >> 6] >> (node & 63)) & 1;
    if (accept_ != nullptr) return (*accept_)(index_.ids_[node]);
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
      rng_(params.seed),
      rescorer_(dims, VectorType::kF32, metric),
      pool_(std::make_unique<VisitedPool>()) {
  SIMILE_CHECK(dims > 0);
  SIMILE_CHECK(metric == Metric::kCosine || metric == Metric::kDot || metric == Metric::kL2);
  SIMILE_CHECK(params.M >= 2);
  // A beam narrower than M could not even fill a new node's links.
  params_.ef_construction = std::max(params_.ef_construction, params_.M);
}

HnswIndex::~HnswIndex() = default;
HnswIndex::HnswIndex(HnswIndex&&) noexcept = default;
HnswIndex& HnswIndex::operator=(HnswIndex&&) noexcept = default;

size_t HnswIndex::memory_bytes() const {
  // An unordered_map entry: key, value, next pointer and cached hash in a
  // heap node, plus a bucket pointer.
  const size_t map_entry = sizeof(int64_t) + sizeof(uint32_t) + 3 * sizeof(void*);
  size_t visited = 0;
  {
    std::lock_guard<std::mutex> lock(pool_->mutex);
    for (const auto& v : pool_->free) visited += v->marks.capacity() * sizeof(uint16_t);
  }
  return visited + codes_.capacity() + (links0_.capacity() + upper_.capacity() + upper_at_.capacity()) * sizeof(uint32_t) +
         levels_.capacity() + ids_.capacity() * sizeof(int64_t) + removed_flags_.capacity() +
         node_of_.size() * map_entry;
}

void HnswIndex::reserve(size_t n) {
  codes_.reserve(n * code_size_);
  links0_.reserve(n * (1 + max_links0_));
  upper_at_.reserve(n);
  levels_.reserve(n);
  ids_.reserve(n);
  removed_flags_.reserve(n);
}

uint32_t* HnswIndex::links(uint32_t node, int level) {
  if (level == 0) return links0_.data() + size_t{node} * (1 + max_links0_);
  return upper_.data() + upper_at_[node] + size_t(level - 1) * (1 + max_links_);
}

const uint32_t* HnswIndex::links(uint32_t node, int level) const {
  return const_cast<HnswIndex*>(this)->links(node, level);
}

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
  const double u = static_cast<double>((rng_() >> 11) + 1) * 0x1p-53;
  const double level = std::floor(-std::log(u) * level_mult_);
  return static_cast<int>(std::min<double>(level, kMaxLevel));
}

std::unique_ptr<HnswIndex::Visited> HnswIndex::acquire_visited() const {
  {
    std::lock_guard<std::mutex> lock(pool_->mutex);
    if (!pool_->free.empty()) {
      std::unique_ptr<Visited> v = std::move(pool_->free.back());
      pool_->free.pop_back();
      return v;
    }
  }
  return std::make_unique<Visited>();
}

void HnswIndex::release_visited(std::unique_ptr<Visited> v) const {
  std::lock_guard<std::mutex> lock(pool_->mutex);
  pool_->free.push_back(std::move(v));
}

void HnswIndex::greedy(const float* query, int level, Candidate& entry, size_t* scored) const {
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t* l = links(entry.node, level);
    for (uint32_t i = 1; i <= l[0]; ++i) {
      const float d = dist(query, l[i]);
      ++*scored;
      if (d < entry.dist) {
        entry = {d, l[i]};
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
                                                          size_t ef, int level, const NodeFilter* filter,
                                                          Visited& visited, size_t* scored) const {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  visited.begin(nodes());
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
  std::vector<uint32_t> fresh(std::max(max_links0_, max_links_));
  while (!frontier.empty()) {
    const Candidate c = frontier.front();
    if (c.dist > bound) break;  // every unexpanded node is farther than the ef-th result
    std::pop_heap(frontier.begin(), frontier.end(), Nearer{});
    frontier.pop_back();
    const uint32_t* l = links(c.node, level);
    size_t n_fresh = 0;
    for (uint32_t i = 1; i <= l[0]; ++i) {
      const uint32_t nb = l[i];
      if (visited.test_set(nb)) continue;
      fresh[n_fresh++] = nb;
      const uint8_t* p = code(nb);
      for (size_t off = 0; off < prefetch_bytes; off += 64) __builtin_prefetch(p + off);
    }
    // The next node to expand is probably the frontier's nearest: fetch its list now.
    if (!frontier.empty()) __builtin_prefetch(links(frontier.front().node, level));
    for (size_t i = 0; i < n_fresh; ++i) {
      const uint32_t nb = fresh[i];
      const float d = dist(query, nb);
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
  uint32_t* l = links(to, level);
  const size_t cap = level == 0 ? max_links0_ : max_links_;
  if (l[0] < cap) {
    l[1 + l[0]] = from;
    ++l[0];
    return;
  }
  std::vector<float> scratch;
  const float* v = node_vector(to, scratch);
  std::vector<Candidate> candidates;
  candidates.reserve(cap + 1);
  candidates.push_back({d, from});
  for (uint32_t i = 1; i <= l[0]; ++i) candidates.push_back({dist(v, l[i]), l[i]});
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.dist < b.dist || (a.dist == b.dist && a.node < b.node); });
  const std::vector<Candidate> chosen = select_neighbours(candidates, cap);
  l[0] = static_cast<uint32_t>(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) l[1 + i] = chosen[i].node;
}

Status HnswIndex::add(int64_t id, const float* v) {
  for (size_t i = 0; i < dims_; ++i) {
    if (!std::isfinite(v[i]))
      return Status::invalid_argument("vector for id " + std::to_string(id) + " has a non-finite component " +
                                      std::to_string(i));
  }
  std::vector<float> unit;
  return insert(id, prepare(v, unit), nullptr);
}

std::vector<int64_t> HnswIndex::live_ids() const {
  std::vector<int64_t> out;
  out.reserve(size());
  for (size_t n = 0; n < ids_.size(); ++n)
    if (removed_flags_[n] == 0) out.push_back(ids_[n]);
  if (!ids_ascending_) std::sort(out.begin(), out.end());
  return out;
}

const uint8_t* HnswIndex::code_of(int64_t id) const {
  const std::optional<uint32_t> node = find(id);
  return node ? code(*node) : nullptr;
}

Status HnswIndex::add_code(int64_t id, const uint8_t* code) {
  std::vector<float> v(dims_);
  decode_vectors(type_, code, 1, dims_, v.data());
  for (size_t i = 0; i < dims_; ++i) {
    if (!std::isfinite(v[i]))
      return Status::invalid_argument("code for id " + std::to_string(id) + " has a non-finite component " +
                                      std::to_string(i));
  }
  return insert(id, v.data(), code);
}

Status HnswIndex::insert(int64_t id, const float* q, const uint8_t* code) {
  if (contains(id))
    return Status::invalid_argument("id " + std::to_string(id) + " is already in the index");
  if (ids_.size() >= std::numeric_limits<uint32_t>::max())
    return Status::invalid_argument("the index is full (2^32 - 1 nodes)");

  const auto node = static_cast<uint32_t>(ids_.size());
  const int level = draw_level();
  codes_.resize(codes_.size() + code_size_);
  if (code != nullptr) {
    std::memcpy(codes_.data() + size_t{node} * code_size_, code, code_size_);
  } else {
    encode_vector(type_, q, dims_, codes_.data() + size_t{node} * code_size_);
  }
  links0_.resize(links0_.size() + 1 + max_links0_, 0);
  upper_at_.push_back(static_cast<uint32_t>(upper_.size()));
  upper_.resize(upper_.size() + size_t(level) * (1 + max_links_), 0);
  levels_.push_back(static_cast<uint8_t>(level));
  removed_flags_.push_back(0);
  if (ids_ascending_ && node > 0 && id <= ids_[node - 1]) {
    // From here on ids need the map; in node order, so a re-added id maps
    // to its newest node.
    ids_ascending_ = false;
    node_of_.reserve(ids_.capacity());
    for (uint32_t n = 0; n < node; ++n) node_of_[ids_[n]] = n;
  }
  if (!ids_ascending_) node_of_[id] = node;
  ids_.push_back(id);

  if (max_level_ < 0) {
    entry_ = node;
    max_level_ = level;
    return Status::ok();
  }
  size_t scored = 0;
  Candidate entry{dist(q, entry_), entry_};
  for (int lc = max_level_; lc > level; --lc) greedy(q, lc, entry, &scored);
  std::unique_ptr<Visited> visited = acquire_visited();
  std::vector<Candidate> entries{entry};
  for (int lc = std::min(level, max_level_); lc >= 0; --lc) {
    std::vector<Candidate> found = search_level(q, entries, params_.ef_construction, lc, nullptr, *visited, &scored);
    std::sort(found.begin(), found.end(),
              [](const Candidate& a, const Candidate& b) { return a.dist < b.dist || (a.dist == b.dist && a.node < b.node); });
    const std::vector<Candidate> chosen = select_neighbours(found, max_links_);
    uint32_t* l = links(node, lc);
    l[0] = static_cast<uint32_t>(chosen.size());
    for (size_t i = 0; i < chosen.size(); ++i) l[1 + i] = chosen[i].node;
    for (const Candidate& c : chosen) link_back(c.node, node, c.dist, lc);
    entries = std::move(found);
  }
  release_visited(std::move(visited));
  if (level > max_level_) {
    max_level_ = level;
    entry_ = node;
  }
  return Status::ok();
}

Status HnswIndex::remove(int64_t id) {
  const std::optional<uint32_t> node = find(id);
  if (!node) return Status::not_found("id " + std::to_string(id) + " is not in the index");
  removed_flags_[*node] = 1;
  ++removed_;
  return Status::ok();
}

std::optional<uint32_t> HnswIndex::find(int64_t id) const {
  uint32_t node = 0;
  if (ids_ascending_) {
    auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) return std::nullopt;
    node = static_cast<uint32_t>(it - ids_.begin());
  } else {
    auto it = node_of_.find(id);
    if (it == node_of_.end()) return std::nullopt;
    node = it->second;
  }
  if (removed_flags_[node] != 0) return std::nullopt;
  return node;
}

bool HnswIndex::contains(int64_t id) const { return find(id).has_value(); }

void HnswIndex::finish(std::vector<Hit>& hits) const {
  if (metric_ != Metric::kL2) return;
  for (Hit& h : hits) h.score = -std::sqrt(std::max(0.0f, -h.score));
}

std::vector<Hit> HnswIndex::exact(const float* query, size_t k, const std::vector<uint32_t>& nodes,
                                  size_t* scored) const {
  TopK top(k);
  for (uint32_t n : nodes) top.push(ids_[n], -dist(query, n));
  *scored += nodes.size();
  std::vector<Hit> hits = top.take_sorted();
  finish(hits);
  return hits;
}

std::vector<Hit> HnswIndex::search(const float* query, size_t k, size_t ef, const IdFilter* filter,
                                   SearchStats* stats, const OriginalFn* original) const {
  if (k == 0 || size() == 0) return {};
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
    allowed.reserve(std::min(filter->ids_.size(), nodes()));
    for (int64_t id : filter->ids_) {
      if (const std::optional<uint32_t> node = find(id)) allowed.push_back(*node);
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    if (allowed.size() <= kExactFilterMaxNodes || allowed.size() * kExactFilterDivisor < nodes()) {
      hits = exact(q, original != nullptr ? ef : k, allowed, &scored);
      record();
      return original != nullptr ? rescorer_.rescore(query, hits, k, *original, stats) : hits;
    }
    std::vector<uint64_t> bits((nodes() + 63) / 64, 0);
    for (uint32_t n : allowed) bits[n >> 6] |= uint64_t{1} << (n & 63);
    node_filter = std::make_unique<NodeFilter>(*this, nullptr, std::move(bits));
  } else if (filter != nullptr) {
    node_filter = std::make_unique<NodeFilter>(*this, &filter->accept_, std::vector<uint64_t>{});
  } else if (removed_ > 0) {
    node_filter = std::make_unique<NodeFilter>(*this, nullptr, std::vector<uint64_t>{});
  }

  Candidate entry{dist(q, entry_), entry_};
  ++scored;
  for (int lc = max_level_; lc > 0; --lc) greedy(q, lc, entry, &scored);
  std::unique_ptr<Visited> visited = acquire_visited();
  std::vector<Candidate> found = search_level(q, {entry}, ef, 0, node_filter.get(), *visited, &scored);
  release_visited(std::move(visited));

  if (original != nullptr) {
    hits.reserve(found.size());
    for (const Candidate& c : found) hits.push_back({ids_[c.node], -c.dist});
    record();
    return rescorer_.rescore(query, hits, k, *original, stats);
  }
  TopK top(k);
  for (const Candidate& c : found) top.push(ids_[c.node], -c.dist);
  hits = top.take_sorted();
  finish(hits);
  record();
  return hits;
}

}  // namespace simile
