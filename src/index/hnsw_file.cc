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

#include "index/hnsw.h"
#include "util/file_util.h"

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

// A read-only mapping of a whole file, unmapped when it goes out of scope.
class Mapping {
 public:
  Mapping(const void* data, size_t size) : data_(data), size_(size) {}
  ~Mapping() { munmap(const_cast<void*>(data_), size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const char* data() const { return static_cast<const char*>(data_); }
  size_t size() const { return size_; }

 private:
  const void* data_;
  size_t size_;
};

template <class T>
void copy_section(std::vector<T>& to, const char* from, size_t count) {
  to.resize(count);
  if (count > 0) std::memcpy(to.data(), from, count * sizeof(T));
}

}  // namespace

Status HnswIndex::save(const std::string& path, uint64_t generation) const {
  const size_t n = nodes();
  const Layout l = layout_of(n, code_size_, params_.M, upper_.size());
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
  put64(p + 72, removed_);
  put64(p + 80, upper_.size());
  put32(p + 88, static_cast<uint32_t>(max_level_));
  put32(p + 92, entry_);
  put64(p + 96, code_size_);
  put64(p + 104, l.size);
  if (n > 0) {
    std::memcpy(p + l.ids, ids_.data(), n * sizeof(int64_t));
    std::memcpy(p + l.codes, codes_.data(), n * code_size_);
    std::memcpy(p + l.links0, links0_.data(), links0_.size() * sizeof(uint32_t));
    std::memcpy(p + l.upper_at, upper_at_.data(), n * sizeof(uint32_t));
    if (!upper_.empty()) std::memcpy(p + l.upper, upper_.data(), upper_.size() * sizeof(uint32_t));
    std::memcpy(p + l.levels, levels_.data(), n);
    std::memcpy(p + l.tombstones, removed_flags_.data(), n);
  }
  put64(p + l.checksum, XXH3_64bits(p, l.checksum));
  return write_file_atomic(path, out).with_context("saving HNSW index");
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::open(const std::string& path, uint64_t expected_generation) {
  auto corrupt = [&](const std::string& why) { return Status::corrupt("HNSW index " + path + " is corrupt: " + why); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::not_found("no HNSW index file " + path);
    return Status::io_error("cannot open HNSW index " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::io_error("HNSW index " + path + " is not a readable regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < kHeaderSize + sizeof(uint64_t)) {
    close(fd);
    return corrupt("file of " + std::to_string(size) + " bytes is shorter than a header");
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  close(fd);
  if (map == MAP_FAILED) return Status::io_error("cannot map HNSW index " + path + ": " + std::strerror(map_err));
  const Mapping file(map, size);
  madvise(map, size, MADV_SEQUENTIAL);
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
  copy_section(index->ids_, p + l.ids, n);
  copy_section(index->codes_, p + l.codes, n * code_size);
  copy_section(index->links0_, p + l.links0, n * (1 + 2 * m));
  copy_section(index->upper_at_, p + l.upper_at, n);
  copy_section(index->upper_, p + l.upper, upper_words);
  copy_section(index->levels_, p + l.levels, n);
  copy_section(index->removed_flags_, p + l.tombstones, n);
  index->removed_ = removed;
  index->saved_generation_ = generation;
  index->max_level_ = max_level;
  index->entry_ = entry;
  // The generator as add() left it: one draw per node (draw_level).
  index->rng_.discard(n);
  const Status adopted = index->adopt_arrays();
  if (!adopted.is_ok()) return corrupt(adopted.message());
  return index;
}

Status HnswIndex::adopt_arrays() {
  const size_t n = nodes();
  if (n == 0) {
    if (max_level_ != -1 || entry_ != 0 || removed_ != 0 || !upper_.empty())
      return Status::corrupt("an empty graph with a max level, entry point, tombstones or links");
    return Status::ok();
  }
  size_t upper_at = 0;
  size_t removed = 0;
  int top = -1;
  for (uint32_t node = 0; node < n; ++node) {
    const int level = levels_[node];
    if (level > kMaxLevel)
      return Status::corrupt("node " + std::to_string(node) + " on level " + std::to_string(level));
    if (upper_at_[node] != upper_at)
      return Status::corrupt("node " + std::to_string(node) + "'s upper levels at " + std::to_string(upper_at_[node]) +
                             ", expected " + std::to_string(upper_at));
    upper_at += size_t(level) * (1 + max_links_);
    if (upper_at > upper_.size()) return Status::corrupt("upper levels run past their section");
    top = std::max(top, level);
    for (int lc = 0; lc <= level; ++lc) {
      const uint32_t* l = links(node, lc);
      const size_t cap = lc == 0 ? max_links0_ : max_links_;
      if (l[0] > cap)
        return Status::corrupt("node " + std::to_string(node) + " has " + std::to_string(l[0]) + " links on level " +
                               std::to_string(lc));
      for (uint32_t i = 1; i <= l[0]; ++i) {
        if (l[i] >= n)
          return Status::corrupt("node " + std::to_string(node) + " links to node " + std::to_string(l[i]) + " of " +
                                 std::to_string(n));
      }
    }
    if (removed_flags_[node] > 1) return Status::corrupt("tombstone flag " + std::to_string(removed_flags_[node]));
    removed += removed_flags_[node];
  }
  if (upper_at != upper_.size()) return Status::corrupt("upper-level section longer than the levels need");
  if (removed != removed_) return Status::corrupt("tombstone count does not match the flags");
  if (max_level_ != top || entry_ >= n || levels_[entry_] != top)
    return Status::corrupt("entry point " + std::to_string(entry_) + " or max level " + std::to_string(max_level_) +
                           " does not match the levels");
  // The id lookup (hnsw.h: ids_ascending_ / node_of_), rebuilt as add() would have.
  for (uint32_t node = 1; node < n && ids_ascending_; ++node) {
    if (ids_[node] <= ids_[node - 1]) ids_ascending_ = false;
  }
  if (!ids_ascending_) {
    node_of_.reserve(n);
    for (uint32_t node = 0; node < n; ++node) node_of_[ids_[node]] = node;
    for (uint32_t node = 0; node < n; ++node) {
      if (removed_flags_[node] == 0 && node_of_.at(ids_[node]) != node)
        return Status::corrupt("id " + std::to_string(ids_[node]) + " is live on two nodes");
    }
  }
  return Status::ok();
}

}  // namespace simile
