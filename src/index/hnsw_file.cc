// HnswIndex::save and HnswIndex::open: the file format of
// docs/formats/hnsw.md.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <span>

#include "index/hnsw.h"
#include "index/hnsw_state.h"
#include "util/file_util.h"
#include "util/mapped_file.h"

namespace simile {

namespace {

static_assert(std::endian::native == std::endian::little, "the HNSW file format is little-endian");

constexpr char kMagic[8] = {'S', 'I', 'M', 'H', 'N', 'S', 'W', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 128;
constexpr size_t kAlign = 64;
// Bounds on header fields, checked before any size is computed from them, so
// that no size below can overflow 64 bits.
constexpr uint64_t kMaxDims = uint64_t{1} << 24;
constexpr uint64_t kMaxM = uint64_t{1} << 16;
constexpr uint64_t kMaxNodes = uint64_t{1} << 32;

size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

// Where each section starts, from the header's counts alone.
struct Layout {
  size_t ids, codes, links0, upper_at, upper, levels, tombstones, checksum, size;
};

Layout layout_of(size_t n, size_t code_size, size_t m, size_t upper_words) {
  Layout l{};
  l.ids = align_up(kHeaderSize, kAlign);
  l.codes = align_up(l.ids + n * sizeof(int64_t), kAlign);
  l.links0 = align_up(l.codes + n * code_size, kAlign);
  l.upper_at = align_up(l.links0 + n * (1 + 2 * m) * sizeof(uint32_t), kAlign);
  l.upper = align_up(l.upper_at + n * sizeof(uint32_t), kAlign);
  l.levels = align_up(l.upper + upper_words * sizeof(uint32_t), kAlign);
  l.tombstones = align_up(l.levels + n, kAlign);
  l.checksum = align_up(l.tombstones + n, 8);
  l.size = l.checksum + sizeof(uint64_t);
  return l;
}

void put32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
void put64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }
uint32_t get32(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t get64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The numbers written for metrics and vector types: fixed by the format, not
// by the order of the C++ enums.
uint32_t metric_code(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return 0;
    case Metric::kDot:
      return 1;
    default:
      return 2;  // kL2: the constructor allows no other metric
  }
}
uint32_t type_code(VectorType t) {
  switch (t) {
    case VectorType::kF32:
      return 0;
    case VectorType::kF16:
      return 1;
    case VectorType::kI8:
      return 2;
  }
  return 0;
}

// A section of the mapped file as an array: sections are aligned for their
// type (layout_of), and the mapping outlives the spans.
template <class T>
std::span<const T> section(const char* at, size_t count) {
  return {reinterpret_cast<const T*>(at), count};
}

}  // namespace

Status HnswIndex::save(const std::string& path, uint64_t generation) const {
  const size_t n = nodes();
  const size_t upper_words = s_->upper_words.load(std::memory_order_relaxed);
  const Layout l = layout_of(n, code_size_, params_.M, upper_words);
  const Top top = load_top();
  std::string out(l.size, '\0');
  char* p = out.data();
  std::memcpy(p, kMagic, sizeof kMagic);
  put32(p + 8, kVersion);
  put32(p + 12, static_cast<uint32_t>(kHeaderSize));
  put64(p + 16, generation);
  put64(p + 24, dims_);
  put32(p + 32, metric_code(metric_));
  put32(p + 36, type_code(type_));
  put64(p + 40, params_.M);
  put64(p + 48, params_.ef_construction);
  put64(p + 56, params_.seed);
  put64(p + 64, n);
  put64(p + 72, s_->removed.load(std::memory_order_relaxed));
  put64(p + 80, upper_words);
  put32(p + 88, static_cast<uint32_t>(top.level));
  put32(p + 92, top.entry);
  put64(p + 96, code_size_);
  put64(p + 104, l.size);
  // Node by node out of the chunks; a node's upper levels follow the
  // previous node's in the upper section.
  const size_t list0 = (1 + max_links0_) * sizeof(uint32_t);
  const size_t list = (1 + max_links_) * sizeof(uint32_t);
  size_t upper_at = 0;
  for (uint32_t node = 0; node < n; ++node) {
    const int level = *s_->levels.at(node);
    put64(p + l.ids + size_t{node} * sizeof(int64_t), static_cast<uint64_t>(*s_->ids.at(node)));
    std::memcpy(p + l.codes + size_t{node} * code_size_, code(node), code_size_);
    std::memcpy(p + l.links0 + size_t{node} * list0, links(node, 0), list0);
    put32(p + l.upper_at + size_t{node} * sizeof(uint32_t), static_cast<uint32_t>(upper_at));
    if (level > 0) std::memcpy(p + l.upper + upper_at * sizeof(uint32_t), links(node, 1), size_t(level) * list);
    upper_at += size_t(level) * (1 + max_links_);
    p[l.levels + node] = static_cast<char>(level);
    p[l.tombstones + node] = (flags(node) & kRemoved) ? 1 : 0;
  }
  put64(p + l.checksum, XXH3_64bits(p, l.checksum));
  return write_file_atomic(path, out).with_context("saving HNSW index");
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::open(const std::string& path, uint64_t expected_generation) {
  auto corrupt = [&](const std::string& why) { return Status::corrupt("HNSW index " + path + " is corrupt: " + why); };
  SIMILE_ASSIGN_OR_RETURN(const MappedFile file, MappedFile::open(path, "HNSW index"));
  const size_t size = file.size();
  if (size < kHeaderSize + sizeof(uint64_t))
    return corrupt("file of " + std::to_string(size) + " bytes is shorter than a header");
  file.advise_sequential();
  const char* p = file.data();

  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return corrupt("bad magic (not an HNSW index file)");
  if (get32(p + 8) != kVersion)
    return corrupt("format version " + std::to_string(get32(p + 8)) + ", expected " + std::to_string(kVersion));
  if (get32(p + 12) != kHeaderSize) return corrupt("header size " + std::to_string(get32(p + 12)));
  const uint64_t generation = get64(p + 16);
  const uint64_t dims = get64(p + 24);
  const uint32_t metric = get32(p + 32);
  const uint32_t type = get32(p + 36);
  const uint64_t m = get64(p + 40);
  const uint64_t ef_construction = get64(p + 48);
  const uint64_t seed = get64(p + 56);
  const uint64_t n = get64(p + 64);
  const uint64_t removed = get64(p + 72);
  const uint64_t upper_words = get64(p + 80);
  const auto max_level = static_cast<int32_t>(get32(p + 88));
  const uint32_t entry = get32(p + 92);
  const uint64_t code_size = get64(p + 96);
  const uint64_t file_size = get64(p + 104);
  if (dims == 0 || dims > kMaxDims) return corrupt("dims " + std::to_string(dims));
  if (metric > 2) return corrupt("metric " + std::to_string(metric));
  if (type > 2) return corrupt("vector type " + std::to_string(type));
  if (m < 2 || m > kMaxM) return corrupt("M " + std::to_string(m));
  if (n >= kMaxNodes) return corrupt("node count " + std::to_string(n));
  if (upper_words > n * kMaxLevel * (1 + m)) return corrupt("upper-level words " + std::to_string(upper_words));
  const Metric metrics[] = {Metric::kCosine, Metric::kDot, Metric::kL2};
  const VectorType types[] = {VectorType::kF32, VectorType::kF16, VectorType::kI8};
  if (code_size != encoded_size(types[type], dims))
    return corrupt("code size " + std::to_string(code_size) + " for " + std::to_string(dims) + " dims");
  const Layout l = layout_of(n, code_size, m, upper_words);
  if (file_size != l.size || size != l.size)
    return corrupt("file is " + std::to_string(size) + " bytes, its header implies " + std::to_string(l.size) +
                   " (records " + std::to_string(file_size) + ")");
  if (XXH3_64bits(p, l.checksum) != get64(p + l.checksum)) return corrupt("checksum mismatch");
  if (expected_generation != kAnyGeneration && generation != expected_generation)
    return Status::failed_precondition("HNSW index " + path + " is stale: saved at store generation " +
                                       std::to_string(generation) + ", the store is at " +
                                       std::to_string(expected_generation));

  HnswParams params;
  params.M = m;
  params.ef_construction = ef_construction;
  params.seed = seed;
  auto index = std::make_unique<HnswIndex>(dims, types[type], metrics[metric], params);
  Flat flat;
  flat.ids = section<int64_t>(p + l.ids, n);
  flat.codes = section<uint8_t>(p + l.codes, n * code_size);
  flat.links0 = section<uint32_t>(p + l.links0, n * (1 + 2 * m));
  flat.upper_at = section<uint32_t>(p + l.upper_at, n);
  flat.upper = section<uint32_t>(p + l.upper, upper_words);
  flat.levels = section<uint8_t>(p + l.levels, n);
  flat.tombstones = section<uint8_t>(p + l.tombstones, n);
  flat.removed = removed;
  flat.top = {max_level, entry};
  index->saved_generation_ = generation;
  const Status adopted = index->adopt(flat);
  if (!adopted.is_ok()) return corrupt(adopted.message());
  return index;
}

Status HnswIndex::adopt(const Flat& f) {
  const size_t n = f.ids.size();
  SIMILE_CHECK(nodes() == 0);
  SIMILE_CHECK(f.codes.size() == n * code_size_ && f.links0.size() == n * (1 + max_links0_) && f.upper_at.size() == n &&
               f.levels.size() == n && f.tombstones.size() == n);
  if (n == 0) {
    if (f.top.level != -1 || f.top.entry != 0 || f.removed != 0 || !f.upper.empty())
      return Status::corrupt("an empty graph with a max level, entry point, tombstones or links");
    return Status::ok();
  }
  // The structure first, so that nothing below reads out of bounds.
  size_t upper_at = 0;
  size_t removed = 0;
  for (uint32_t node = 0; node < n; ++node) {
    const int level = f.levels[node];
    if (level > kMaxLevel)
      return Status::corrupt("node " + std::to_string(node) + " on level " + std::to_string(level));
    if (f.upper_at[node] != upper_at)
      return Status::corrupt("node " + std::to_string(node) + "'s upper levels at " + std::to_string(f.upper_at[node]) +
                             ", expected " + std::to_string(upper_at));
    upper_at += size_t(level) * (1 + max_links_);
    if (upper_at > f.upper.size()) return Status::corrupt("upper levels run past their section");
    if (f.tombstones[node] > 1) return Status::corrupt("tombstone flag " + std::to_string(f.tombstones[node]));
    removed += f.tombstones[node];
  }
  if (upper_at != f.upper.size()) return Status::corrupt("upper-level section longer than the levels need");
  if (removed != f.removed) return Status::corrupt("tombstone count does not match the flags");
  // Searches start at the entry point on its level; nodes above it can only
  // be tombstones that repair() took the entry point from.
  const Top top = f.top;
  if (top.level < 0 || top.entry >= n || f.levels[top.entry] != top.level)
    return Status::corrupt("entry point " + std::to_string(top.entry) + " or max level " + std::to_string(top.level) +
                           " does not match the levels");
  for (uint32_t node = 0; node < n; ++node) {
    const int level = f.levels[node];
    if (level > top.level && f.tombstones[node] == 0)
      return Status::corrupt("live node " + std::to_string(node) + " above the max level " + std::to_string(top.level));
    for (int lc = 0; lc <= level; ++lc) {
      const uint32_t* l = lc == 0 ? &f.links0[node * (1 + max_links0_)]
                                  : &f.upper[f.upper_at[node] + size_t(lc - 1) * (1 + max_links_)];
      const size_t cap = lc == 0 ? max_links0_ : max_links_;
      if (l[0] > cap)
        return Status::corrupt("node " + std::to_string(node) + " has " + std::to_string(l[0]) + " links on level " +
                               std::to_string(lc));
      for (uint32_t i = 1; i <= l[0]; ++i) {
        // A link on level lc to a node below lc would make a search read
        // lists that node does not have.
        if (l[i] >= n || f.levels[l[i]] < lc)
          return Status::corrupt("node " + std::to_string(node) + " links on level " + std::to_string(lc) +
                                 " to node " + std::to_string(l[i]) + " of " + std::to_string(n) +
                                 (l[i] < n ? " on level " + std::to_string(f.levels[l[i]]) : ""));
      }
    }
  }

  // Then the copy, into chunks as add() would have made them.
  State& s = *s_;
  std::unique_lock<std::shared_mutex> lock(s.ids_mutex);
  for (NodeArray<uint8_t>* a : {&s.codes, &s.levels, &s.flags}) a->grow(n);
  s.links0.grow(n);
  s.upper.grow(n);
  s.ids.grow(n);
  for (uint32_t node = 0; node < n; ++node) {
    const int level = f.levels[node];
    *s.ids.at(node) = f.ids[node];
    std::memcpy(s.codes.at(node), &f.codes[node * code_size_], code_size_);
    std::memcpy(s.links0.at(node), &f.links0[node * (1 + max_links0_)], (1 + max_links0_) * sizeof(uint32_t));
    *s.levels.at(node) = static_cast<uint8_t>(level);
    *s.flags.at(node) = kReady | (f.tombstones[node] != 0 ? kRemoved : 0);
    s.upper.at(node)->reset();
    if (level > 0) {
      const size_t words = size_t(level) * (1 + max_links_);
      *s.upper.at(node) = std::make_unique<uint32_t[]>(words);
      std::memcpy(s.upper.at(node)->get(), &f.upper[f.upper_at[node]], words * sizeof(uint32_t));
    }
  }
  // The id lookup (hnsw_state.h: ids_ascending / node_of), rebuilt as add() would have.
  for (uint32_t node = 1; node < n && s.ids_ascending; ++node) {
    if (f.ids[node] <= f.ids[node - 1]) s.ids_ascending = false;
  }
  if (!s.ids_ascending) {
    s.node_of.reserve(n);
    for (uint32_t node = 0; node < n; ++node) s.node_of[f.ids[node]] = node;
    for (uint32_t node = 0; node < n; ++node) {
      if (f.tombstones[node] == 0 && s.node_of.at(f.ids[node]) != node) {
        s.node_of.clear();
        return Status::corrupt("id " + std::to_string(f.ids[node]) + " is live on two nodes");
      }
    }
  }
  // The generator as add() leaves it: one draw per node (draw_level).
  s.rng.discard(n);
  s.upper_words.store(f.upper.size(), std::memory_order_relaxed);
  s.removed.store(f.removed, std::memory_order_relaxed);
  store_top(top);
  s.count.store(static_cast<uint32_t>(n), std::memory_order_release);
  return Status::ok();
}

}  // namespace simile
