// Exact (brute-force) k-nearest-neighbour search over one collection's
// vectors, held in memory in their stored encoding: an int8 collection stays
// int8 in RAM and a f16 one f16, and the scan scores the float32 query against
// the codes directly (index/vector_codec.h).
//
// Scores, higher = better for every metric:
//   kCosine  q . v: the cosine similarity, because the query is normalised
//            here and stored vectors are normalised before they are encoded
//            (add_float does it; add trusts the blob). int8 and f16 codes of a
//            unit vector are only nearly unit, so their scores are too.
//   kDot     q . v
//   kL2      -|q - v|: the negated Euclidean distance. Print -score as the
//            distance (similarity() in index/similarity.h returns that value).
// kPearson is not an index metric.
//
// Thread safety: const methods may run concurrently; add* must not run
// concurrently with anything. search() parallelises one query over the
// database with OpenMP (up to omp_get_max_threads(), e.g. as bounded by
// kernels::ComputeThreads) once the scan is large enough to pay for it, and
// runs on one thread when called inside a parallel region.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "index/similarity.h"
#include "index/topk.h"
#include "index/vector_codec.h"

namespace simile {

// What a search did, for benchmarks and --explain. Searches add to the
// counters, so one SearchStats can follow a query through its stages.
struct SearchStats {
  size_t vectors_scored = 0;       // distances computed by the scan (a dense filter scores all)
  size_t candidates_rescored = 0;  // distances recomputed on float32 originals
  double scan_seconds = 0;
  double rescore_seconds = 0;
};

// Which vectors a search may return: the metadata filter of a query, applied
// before ranking. (HnswIndex takes it too; index/hnsw.h says how it uses it.)
// Each FlatIndex search resolves it once into a sorted list of index
// positions and scans only those, prefetching across the gaps; when 40% or
// more are allowed it streams the whole database instead and masks the
// ranking (faster than skipping through memory). Pass the same IdFilter to
// search_batch to resolve it once for many queries.
class IdFilter {
 public:
  // These ids, in any order; duplicates and ids the index lacks are ignored.
  // Resolving costs O(ids + index size) when the index's ids ascend (the order
  // a store loads them in), one hash lookup per id otherwise.
  static IdFilter ids(std::vector<int64_t> ids);
  // The ids for which accept(id) is true: called once per indexed vector per
  // resolution, from the calling thread.
  static IdFilter where(std::function<bool(int64_t)> accept);

 private:
  friend class FlatIndex;
  friend class HnswIndex;
  IdFilter() = default;
  std::vector<int64_t> ids_;  // sorted, unique; used when accept_ is empty
  std::function<bool(int64_t)> accept_;
};

class FlatIndex {
 public:
  using Hit = simile::Hit;

  // metric: kCosine, kDot or kL2. dims > 0.
  FlatIndex(size_t dims, VectorType type, Metric metric);

  size_t dims() const { return dims_; }
  VectorType type() const { return type_; }
  Metric metric() const { return metric_; }
  size_t size() const { return ids_.size(); }
  // Bytes of one stored vector: encoded_size(type(), dims()).
  size_t code_size() const { return code_size_; }
  // Bytes held for the vectors and their ids.
  size_t memory_bytes() const;

  void reserve(size_t n);

  // Adds a stored blob as is: encoded_size bytes from encode_vector, already
  // checked with check_encoded when read from disk. Ids are unique (a repeated
  // id aborts); adding in ascending id order keeps IdFilter::ids resolution a
  // merge instead of hash lookups.
  void add(int64_t id, const uint8_t* code);
  // Encodes v[dims] (L2-normalised first when the metric is cosine) and adds it.
  void add_float(int64_t id, const float* v);

  // The position of an id (its insertion index), if present.
  std::optional<size_t> position(int64_t id) const;
  int64_t id_at(size_t position) const { return ids_[position]; }
  const uint8_t* code_at(size_t position) const { return codes_.data() + position * code_size_; }

  // The k best vectors for query[dims] (float32, never quantised), best first,
  // ties broken by the smaller id; fewer than k when fewer are allowed.
  // filter null = all vectors.
  std::vector<Hit> search(const float* query, size_t k, const IdFilter* filter = nullptr,
                          SearchStats* stats = nullptr) const;

  // search() for n queries (row-major n x dims): result i belongs to query i.
  // From a few queries on, the scan becomes matrix products: tiles of the
  // database are decoded to float32 once and multiplied against a block of
  // queries (kernels::gemm_nt), which reads the database once per block
  // instead of once per query. Use it for "related" (every chunk against all).
  // Scores may then differ from search()'s in the last float bits.
  std::vector<std::vector<Hit>> search_batch(const float* queries, size_t n, size_t k, const IdFilter* filter = nullptr,
                                             SearchStats* stats = nullptr) const;

  // Re-scores candidates exactly and returns the best k: for an int8 (or f16)
  // index, search k * oversample candidates, then rescore them against the
  // float32 originals the store keeps. original(id) returns the id's vector
  // (dims floats) or null to drop the candidate. Scores are as above computed
  // in float32; for kCosine the original's norm is divided out, so it need not
  // be normalised.
  std::vector<Hit> rescore(const float* query, const std::vector<Hit>& candidates, size_t k,
                           const std::function<const float*(int64_t)>& original, SearchStats* stats = nullptr) const;

 private:
  // The query as the scan uses it: normalised for cosine.
  const float* prepare_query(const float* query, std::vector<float>& scratch) const;
  std::vector<uint32_t> select(const IdFilter& filter) const;
  // Adds the number of vectors scored to *scored (with a dense filter, all).
  std::vector<Hit> search_prepared(const float* query, size_t k, const std::vector<uint32_t>* positions,
                                   size_t* scored) const;
  std::vector<std::vector<Hit>> search_batch_gemm(const float* queries, size_t n, size_t k,
                                                  const std::vector<uint32_t>* positions) const;
  Hit finish(Hit h) const;  // the ranking score -> the reported score

  size_t dims_;
  VectorType type_;
  Metric metric_;
  size_t code_size_;
  ScoreKernel kernel_;        // dot or squared L2 for type_
  BlockKernel block_kernel_;  // the same over consecutive vectors
  std::vector<uint8_t> codes_;
  std::vector<int64_t> ids_;
  bool ids_ascending_ = true;
  std::unordered_map<int64_t, uint32_t> position_of_;  // filled only once ids stop ascending
};

}  // namespace simile
