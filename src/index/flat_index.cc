#include "index/flat_index.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "model/kernels/gemm.h"
#include "model/pooling.h"
#include "util/check.h"

namespace simile {

namespace {

// A single query's scan is split across threads from this many stored bytes
// on (2.7k 384-d f32 vectors, 10.8k int8 ones, about 0.2 ms of scanning):
// below it the fork/join, and on a busy machine the wait for the slowest
// thread, cost more than the split saves.
constexpr size_t kParallelMinBytes = size_t{4} << 20;
// search_batch switches from one scan per query to matrix products from this
// many queries on (bench/flat_search_bench.cc measures both).
constexpr size_t kGemmMinQueries = 8;
// The matrix-product path works on blocks of kQueryBlock queries against
// tiles of kTileRows database vectors (decoded tile + score block stay in L2).
constexpr size_t kQueryBlock = 128;
constexpr size_t kTileRows = 256;
// A filtered scan reads only the allowed vectors, prefetching about this many
// bytes ahead: the gaps between them defeat the hardware prefetcher.
constexpr size_t kPrefetchBytes = 4096;
// From this fraction of allowed vectors on, skipping through memory costs more
// than streaming it all: the scan scores every vector and masks the push
// instead. Measured crossovers at 100k x 384 (bench/flat_search_bench.cc):
// f32 and f16 about 40%, int8 about 50%.
constexpr double kDenseFilterFraction = 0.4;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// [begin, end) of part `part` of `parts` near-equal parts of n items.
std::pair<size_t, size_t> split(size_t n, size_t part, size_t parts) {
  return {n * part / parts, n * (part + 1) / parts};
}

// A dense scan scores this many consecutive vectors per block-kernel call,
// into a buffer that stays in L1.
constexpr size_t kScanBlock = 128;

// What one scan reads: the whole database, `positions` (sorted) of it, or the
// whole database with only the rows whose `mask` bit is set allowed to enter.
struct ScanInput {
  ScoreKernel kernel;
  BlockKernel block_kernel;
  const float* query;
  const uint8_t* codes;
  size_t code_size;
  size_t dims;
  const int64_t* ids;
  const uint32_t* positions = nullptr;  // scan positions[begin, end)
  const uint64_t* mask = nullptr;       // scan rows [begin, end), keep those with their bit set
};

// Pushes scores[0, n), the ranking scores of rows first..first + n - 1, into
// top (rows whose mask bit is clear skipped). Once top is full almost no
// score reaches its threshold, so eight at a time are compared first (SSE,
// part of every x86-64) and only a group with a hit is looked at one by one.
void push_scores(const float* scores, size_t n, size_t first, const int64_t* ids, const uint64_t* mask, TopK& top) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m128 t = _mm_set1_ps(top.threshold());
    const __m128 hit =
        _mm_or_ps(_mm_cmpge_ps(_mm_loadu_ps(scores + j), t), _mm_cmpge_ps(_mm_loadu_ps(scores + j + 4), t));
    if (_mm_movemask_ps(hit) == 0) continue;
    for (size_t i = j; i < j + 8; ++i) {
      const size_t p = first + i;
      if (scores[i] >= top.threshold() && (mask == nullptr || ((mask[p / 64] >> (p % 64)) & 1u)))
        top.push(ids[p], scores[i]);
    }
  }
  for (; j < n; ++j) {
    const size_t p = first + j;
    if (scores[j] >= top.threshold() && (mask == nullptr || ((mask[p / 64] >> (p % 64)) & 1u)))
      top.push(ids[p], scores[j]);
  }
}

// L2 kernels return squared distances; the ranking score is their negation.
template <bool kNegate>
void scan(const ScanInput& in, size_t begin, size_t end, TopK& top) {
  if (in.positions != nullptr) {
    const size_t ahead = std::max<size_t>(2, kPrefetchBytes / in.code_size);
    for (size_t i = begin; i < end; ++i) {
      if (i + ahead < end) {
        const uint8_t* next = in.codes + size_t{in.positions[i + ahead]} * in.code_size;
        for (size_t line = 0; line < in.code_size; line += 64) __builtin_prefetch(next + line);
      }
      const size_t p = in.positions[i];
      const float s = in.kernel(in.query, in.codes + p * in.code_size, in.dims);
      if ((kNegate ? -s : s) >= top.threshold()) top.push(in.ids[p], kNegate ? -s : s);
    }
    return;
  }
  float scores[kScanBlock];
  for (size_t b = begin; b < end; b += kScanBlock) {
    const size_t n = std::min(kScanBlock, end - b);
    in.block_kernel(in.query, in.codes + b * in.code_size, n, in.dims, scores);
    if constexpr (kNegate)
      for (size_t j = 0; j < n; ++j) scores[j] = -scores[j];
    push_scores(scores, n, b, in.ids, in.mask, top);
  }
}

}  // namespace

// ---- IdFilter -------------------------------------------------------------------

IdFilter IdFilter::ids(std::vector<int64_t> ids) {
  IdFilter f;
  if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  f.ids_ = std::move(ids);
  return f;
}

IdFilter IdFilter::where(std::function<bool(int64_t)> accept) {
  SIMILE_CHECK(accept != nullptr);
  IdFilter f;
  f.accept_ = std::move(accept);
  return f;
}

// ---- FlatIndex ------------------------------------------------------------------

FlatIndex::FlatIndex(size_t dims, VectorType type, Metric metric)
    : dims_(dims),
      type_(type),
      metric_(metric),
      code_size_(encoded_size(type, dims)),
      kernel_(metric == Metric::kL2 ? l2sq_kernel(type) : dot_kernel(type)),
      block_kernel_(metric == Metric::kL2 ? l2sq_block_kernel(type) : dot_block_kernel(type)) {
  SIMILE_CHECK(dims > 0);
  SIMILE_CHECK(metric == Metric::kCosine || metric == Metric::kDot || metric == Metric::kL2);
}

size_t FlatIndex::memory_bytes() const {
  return codes_.capacity() + ids_.capacity() * sizeof(int64_t) +
         position_of_.size() * (sizeof(int64_t) + sizeof(uint32_t) + 2 * sizeof(void*));
}

void FlatIndex::reserve(size_t n) {
  codes_.reserve(n * code_size_);
  ids_.reserve(n);
}

void FlatIndex::add(int64_t id, const uint8_t* code) {
  SIMILE_CHECK(ids_.size() < std::numeric_limits<uint32_t>::max());  // positions are 32-bit
  const auto pos = static_cast<uint32_t>(ids_.size());
  if (ids_ascending_ && !ids_.empty() && id <= ids_.back()) {
    ids_ascending_ = false;
    position_of_.reserve(ids_.capacity());
    for (uint32_t p = 0; p < pos; ++p) position_of_.emplace(ids_[p], p);
  }
  if (!ids_ascending_) {
    const bool inserted = position_of_.emplace(id, pos).second;
    SIMILE_CHECK(inserted && "ids are unique");
  }
  ids_.push_back(id);
  codes_.insert(codes_.end(), code, code + code_size_);
}

void FlatIndex::add_float(int64_t id, const float* v) {
  std::vector<float> unit;
  if (metric_ == Metric::kCosine) {
    unit.assign(v, v + dims_);
    l2_normalize(unit.data(), dims_);
    v = unit.data();
  }
  std::vector<uint8_t> code(code_size_);
  encode_vector(type_, v, dims_, code.data());
  add(id, code.data());
}

std::optional<size_t> FlatIndex::position(int64_t id) const {
  if (ids_ascending_) {
    auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) return std::nullopt;
    return static_cast<size_t>(it - ids_.begin());
  }
  auto it = position_of_.find(id);
  if (it == position_of_.end()) return std::nullopt;
  return it->second;
}

std::vector<uint32_t> FlatIndex::select(const IdFilter& filter) const {
  std::vector<uint32_t> positions;
  if (filter.accept_) {
    for (size_t p = 0; p < ids_.size(); ++p)
      if (filter.accept_(ids_[p])) positions.push_back(static_cast<uint32_t>(p));
    return positions;
  }
  const std::vector<int64_t>& want = filter.ids_;
  positions.reserve(std::min(want.size(), ids_.size()));
  if (!ids_ascending_) {
    for (int64_t id : want) {
      auto it = position_of_.find(id);
      if (it != position_of_.end()) positions.push_back(it->second);
    }
    std::sort(positions.begin(), positions.end());  // scan memory in order
    return positions;
  }
  // Both sorted: a merge, galloping through the index by binary search when
  // the filter is much smaller than it.
  const bool gallop = want.size() * 16 < ids_.size();
  auto it = ids_.begin();
  for (int64_t id : want) {
    if (gallop) {
      it = std::lower_bound(it, ids_.end(), id);
    } else {
      while (it != ids_.end() && *it < id) ++it;
    }
    if (it == ids_.end()) break;
    if (*it == id) positions.push_back(static_cast<uint32_t>(it - ids_.begin()));
  }
  return positions;
}

const float* FlatIndex::prepare_query(const float* query, std::vector<float>& scratch) const {
  if (metric_ != Metric::kCosine) return query;
  scratch.assign(query, query + dims_);
  l2_normalize(scratch.data(), dims_);
  return scratch.data();
}

Hit FlatIndex::finish(Hit h) const {
  if (metric_ == Metric::kL2) h.score = -std::sqrt(std::max(0.0f, -h.score));
  return h;
}

std::vector<Hit> FlatIndex::search(const float* query, size_t k, const IdFilter* filter, SearchStats* stats) const {
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> scratch;
  const float* q = prepare_query(query, scratch);
  std::vector<uint32_t> positions;
  if (filter != nullptr) positions = select(*filter);
  size_t scored = 0;
  std::vector<Hit> hits = search_prepared(q, k, filter != nullptr ? &positions : nullptr, &scored);
  if (stats != nullptr) {
    stats->vectors_scored += scored;
    stats->scan_seconds += seconds_since(start);
  }
  return hits;
}

std::vector<Hit> FlatIndex::search_prepared(const float* q, size_t k, const std::vector<uint32_t>* positions,
                                            size_t* scored) const {
  ScanInput in{kernel_, block_kernel_, q, codes_.data(), code_size_, dims_, ids_.data()};
  size_t n = size();
  std::vector<uint64_t> mask;
  if (positions != nullptr) {
    if (static_cast<double>(positions->size()) >= kDenseFilterFraction * static_cast<double>(size())) {
      mask.assign((size() + 63) / 64, 0);
      for (uint32_t p : *positions) mask[p / 64] |= uint64_t{1} << (p % 64);
      in.mask = mask.data();
    } else {
      in.positions = positions->data();
      n = positions->size();
    }
  }
  *scored += n;
  auto scan_part = [&](size_t begin, size_t end, TopK& top) {
    if (metric_ == Metric::kL2) {
      scan<true>(in, begin, end, top);
    } else {
      scan<false>(in, begin, end, top);
    }
  };

  int threads = 1;
  if (!omp_in_parallel() && n * code_size_ >= kParallelMinBytes) threads = omp_get_max_threads();
  TopK top(k);
  if (threads <= 1) {
    scan_part(0, n, top);
  } else {
    std::vector<TopK> partial(threads, TopK(k));
#pragma omp parallel num_threads(threads)
    {
      const auto parts = static_cast<size_t>(omp_get_num_threads());
      const auto t = static_cast<size_t>(omp_get_thread_num());
      auto [begin, end] = split(n, t, parts);
      scan_part(begin, end, partial[t]);
    }
    for (const TopK& p : partial) top.merge(p);
  }
  std::vector<Hit> hits = top.take_sorted();
  for (Hit& h : hits) h = finish(h);
  return hits;
}

std::vector<std::vector<Hit>> FlatIndex::search_batch(const float* queries, size_t n, size_t k, const IdFilter* filter,
                                                      SearchStats* stats) const {
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> prepared;
  if (metric_ == Metric::kCosine) {
    prepared.assign(queries, queries + n * dims_);
    for (size_t i = 0; i < n; ++i) l2_normalize(prepared.data() + i * dims_, dims_);
    queries = prepared.data();
  }
  std::vector<uint32_t> positions;
  if (filter != nullptr) positions = select(*filter);
  const std::vector<uint32_t>* pos = filter != nullptr ? &positions : nullptr;

  std::vector<std::vector<Hit>> results;
  size_t scored = 0;
  if (n >= kGemmMinQueries) {
    results = search_batch_gemm(queries, n, k, pos);
    scored = n * (pos != nullptr ? positions.size() : size());
  } else {
    results.resize(n);
    // Few queries: each runs the (itself parallel) single-query scan.
    for (size_t i = 0; i < n; ++i) results[i] = search_prepared(queries + i * dims_, k, pos, &scored);
  }
  if (stats != nullptr) {
    stats->vectors_scored += scored;
    stats->scan_seconds += seconds_since(start);
  }
  return results;
}

std::vector<std::vector<Hit>> FlatIndex::search_batch_gemm(const float* queries, size_t n, size_t k,
                                                           const std::vector<uint32_t>* positions) const {
  const size_t rows = positions != nullptr ? positions->size() : size();
  const bool l2 = metric_ == Metric::kL2;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const size_t query_blocks = (n + kQueryBlock - 1) / kQueryBlock;
  // With fewer query blocks than threads, also split the database, so every
  // thread has work; each (query block, part) keeps its own top-k per query.
  size_t parts = 1;
  if (query_blocks < static_cast<size_t>(threads))
    parts = std::max<size_t>(1, std::min(static_cast<size_t>(threads), rows / kTileRows));
  std::vector<TopK> partial(n * parts, TopK(k));

  std::vector<float> query_sq(l2 ? n : 0);  // |q|^2 for the L2 expansion
  for (size_t i = 0; i < query_sq.size(); ++i) {
    const float* q = queries + i * dims_;
    double s = 0;
    for (size_t c = 0; c < dims_; ++c) s += static_cast<double>(q[c]) * q[c];
    query_sq[i] = static_cast<float>(s);
  }
  // A float32 index without a filter is already the matrix the GEMM needs.
  const bool in_place = type_ == VectorType::kF32 && positions == nullptr;
  const auto* floats = reinterpret_cast<const float*>(codes_.data());

#pragma omp parallel num_threads(threads)
  {
    std::vector<float> tile(in_place ? 0 : kTileRows * dims_);
    std::vector<float> row_sq(kTileRows);
    std::vector<float> scores(kQueryBlock * kTileRows);
#pragma omp for schedule(dynamic, 1)
    for (size_t item = 0; item < query_blocks * parts; ++item) {
      const size_t qb = item / parts, part = item % parts;
      const size_t q0 = qb * kQueryBlock, qn = std::min(kQueryBlock, n - q0);
      auto [lo, hi] = split(rows, part, parts);
      for (size_t t0 = lo; t0 < hi; t0 += kTileRows) {
        const size_t tn = std::min(kTileRows, hi - t0);
        const float* b = nullptr;
        if (in_place) {
          b = floats + t0 * dims_;
        } else if (positions == nullptr) {
          decode_vectors(type_, codes_.data() + t0 * code_size_, tn, dims_, tile.data());
          b = tile.data();
        } else {
          for (size_t j = 0; j < tn; ++j)
            decode_vectors(type_, code_at((*positions)[t0 + j]), 1, dims_, tile.data() + j * dims_);
          b = tile.data();
        }
        if (l2) {
          for (size_t j = 0; j < tn; ++j) {
            const float* v = b + j * dims_;
            float s = 0;
            for (size_t c = 0; c < dims_; ++c) s += v[c] * v[c];
            row_sq[j] = s;
          }
        }
        kernels::gemm_nt(qn, tn, dims_, queries + q0 * dims_, dims_, b, dims_, scores.data(), kTileRows);
        for (size_t i = 0; i < qn; ++i) {
          TopK& top = partial[(q0 + i) * parts + part];
          float* row = scores.data() + i * kTileRows;
          // L2: -(|q|^2 + |v|^2 - 2 q.v), the negated squared distance.
          if (l2)
            for (size_t j = 0; j < tn; ++j) row[j] = 2 * row[j] - row_sq[j] - query_sq[q0 + i];
          if (positions == nullptr) {
            push_scores(row, tn, t0, ids_.data(), nullptr, top);
          } else {
            for (size_t j = 0; j < tn; ++j)
              if (row[j] >= top.threshold()) top.push(ids_[(*positions)[t0 + j]], row[j]);
          }
        }
      }
    }
  }

  std::vector<std::vector<Hit>> results(n);
  for (size_t i = 0; i < n; ++i) {
    TopK& top = partial[i * parts];
    for (size_t part = 1; part < parts; ++part) top.merge(partial[i * parts + part]);
    results[i] = top.take_sorted();
    for (Hit& h : results[i]) h = finish(h);
  }
  return results;
}

std::vector<Hit> FlatIndex::rescore(const float* query, const std::vector<Hit>& candidates, size_t k,
                                    const std::function<const float*(int64_t)>& original, SearchStats* stats) const {
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> scratch;
  const float* q = prepare_query(query, scratch);
  const ScoreKernel dot = dot_kernel(VectorType::kF32), l2sq = l2sq_kernel(VectorType::kF32);
  TopK top(k);
  size_t scored = 0;
  for (const Hit& c : candidates) {
    const float* v = original(c.id);
    if (v == nullptr) continue;
    const auto* code = reinterpret_cast<const uint8_t*>(v);
    float s = 0;
    switch (metric_) {
      case Metric::kL2:
        s = -l2sq(q, code, dims_);
        break;
      case Metric::kDot:
        s = dot(q, code, dims_);
        break;
      default: {  // cosine: q is unit; divide out |v| in case v is not
        const float norm = std::sqrt(dot(v, code, dims_));
        s = norm > 0 ? dot(q, code, dims_) / norm : 0.0f;
      }
    }
    ++scored;
    top.push(c.id, s);
  }
  std::vector<Hit> hits = top.take_sorted();
  for (Hit& h : hits) h = finish(h);
  if (stats != nullptr) {
    stats->candidates_rescored += scored;
    stats->rescore_seconds += seconds_since(start);
  }
  return hits;
}

}  // namespace simile
