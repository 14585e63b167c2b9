#include "search/collection_index.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "model/pooling.h"
#include "search/score_background.h"
#include "util/check.h"

namespace simile::search {

namespace {

// int8 codes rank candidates; this many times k of them are re-scored on the
// float32 originals, enough for recall@10 of 1.0 in bench/flat_search_bench.
constexpr size_t kRescoreOversample = 4;

}  // namespace

Result<Metric> parse_collection_metric(const std::string& name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "dot") return Metric::kDot;
  if (name == "l2") return Metric::kL2;
  return Status::invalid_argument("unknown metric '" + name + "' (use cosine, dot or l2)");
}

Result<std::unique_ptr<CollectionIndex>> CollectionIndex::load(store::Store& store, const store::CollectionRow& row) {
  SIMILE_ASSIGN_OR_RETURN(VectorType type, parse_vector_type(row.info.vector_type));
  SIMILE_ASSIGN_OR_RETURN(Metric metric, parse_collection_metric(row.info.metric));
  std::unique_ptr<CollectionIndex> index(new CollectionIndex(row.info.dims, type, metric));
  index->generation_ = row.generation;
  // Reserved up front: growing the buffer by doubling cost a third of the
  // load time in page faults (docs/benchmarks.md).
  store::CollectionRow counted = row;
  SIMILE_RETURN_IF_ERROR(store.count(counted));
  index->chunks_.reserve(counted.info.chunks);
  index->document_of_.reserve(counted.info.chunks);
  Status bad = Status::ok();
  SIMILE_RETURN_IF_ERROR(store.for_each_vector(row.id, [&](int64_t chunk, int64_t document, std::string_view blob) {
    if (!bad.is_ok()) return;
    const auto* data = reinterpret_cast<const uint8_t*>(blob.data());
    Status st = check_encoded(type, data, blob.size(), row.info.dims);
    if (!st.is_ok()) {
      bad = st.with_context(store.path() + ": chunk " + std::to_string(chunk));
      return;
    }
    index->chunks_.add(chunk, data);
    index->document_of_.push_back(document);
  }));
  if (!bad.is_ok()) return bad;
  return index;
}

Result<std::vector<DocumentHit>> CollectionIndex::search(const float* query, size_t k,
                                                         const std::vector<int64_t>* allowed, store::Store& store,
                                                         SearchStats* stats) const {
  const bool rescore = chunks_.type() == VectorType::kI8;
  return best_documents(k, allowed, [&](size_t want, const IdFilter* filter) -> Result<std::vector<Hit>> {
    if (!rescore) return chunks_.search(query, want, filter, stats);
    auto candidates = chunks_.search(query, want * kRescoreOversample, filter, stats);
    std::unordered_map<int64_t, std::vector<float>> originals;
    std::vector<int64_t> ids;
    for (const Hit& h : candidates) ids.push_back(h.id);
    SIMILE_RETURN_IF_ERROR(store.for_each_exact(ids, [&](int64_t id, std::string_view exact) {
      std::vector<float> v(chunks_.dims());
      SIMILE_RETURN_IF_ERROR(decode_vector(VectorType::kF32, reinterpret_cast<const uint8_t*>(exact.data()),
                                           exact.size(), chunks_.dims(), v.data()));
      originals[id] = std::move(v);
      return Status::ok();
    }));
    return chunks_.rescore(query, candidates, want,
                           [&](int64_t id) -> const float* {
                             auto it = originals.find(id);
                             return it == originals.end() ? nullptr : it->second.data();
                           },
                           stats);
  });
}

Result<std::vector<DocumentHit>> CollectionIndex::best_documents(
    size_t k, const std::vector<int64_t>* allowed,
    const std::function<Result<std::vector<Hit>>(size_t want, const IdFilter* filter)>& ranked) const {
  std::vector<DocumentHit> out;
  if (k == 0 || chunks_.size() == 0) return out;
  std::unique_ptr<IdFilter> filter;
  size_t candidates_total = chunks_.size();
  if (allowed != nullptr) {
    std::vector<int64_t> ids;
    for (size_t p = 0; p < chunks_.size(); ++p)
      if (std::binary_search(allowed->begin(), allowed->end(), document_of_[p])) ids.push_back(chunks_.id_at(p));
    candidates_total = ids.size();
    if (ids.empty()) return out;
    filter = std::make_unique<IdFilter>(IdFilter::ids(std::move(ids)));
  }
  // Documents have several chunks: ask for more chunks until k distinct
  // documents are among them (or every allowed chunk was taken).
  for (size_t want = std::min(candidates_total, std::max<size_t>(4 * k, 32));;
       want = std::min(candidates_total, want * 4)) {
    SIMILE_ASSIGN_OR_RETURN(std::vector<Hit> hits, ranked(want, filter.get()));
    out.clear();
    std::unordered_set<int64_t> seen;
    for (const Hit& h : hits) {
      const int64_t doc = document_of_[*chunks_.position(h.id)];
      if (seen.insert(doc).second) out.push_back({doc, h.id, h.score});
      if (out.size() == k) break;
    }
    if (out.size() == k || want >= candidates_total) return out;
  }
}

const std::vector<float>& CollectionIndex::mean() {
  if (!mean_.empty() || chunks_.size() == 0) return mean_;
  const size_t dims = chunks_.dims();
  std::vector<double> sum(dims, 0.0);
  std::vector<float> v(dims);
  for (size_t p = 0; p < chunks_.size(); ++p) {
    decode_vectors(chunks_.type(), chunks_.code_at(p), 1, dims, v.data());
    for (size_t i = 0; i < dims; ++i) sum[i] += v[i];
  }
  mean_.resize(dims);
  for (size_t i = 0; i < dims; ++i) mean_[i] = static_cast<float>(sum[i] / static_cast<double>(chunks_.size()));
  return mean_;
}

std::vector<float> CollectionIndex::center(const float* v) {
  const size_t dims = chunks_.dims();
  std::vector<float> out(v, v + dims);
  if (chunks_.metric() == Metric::kCosine) l2_normalize(out.data(), dims);
  const std::vector<float>& m = mean();
  if (!m.empty())
    for (size_t i = 0; i < dims; ++i) out[i] -= m[i];
  return out;
}

const FlatIndex& CollectionIndex::centered() {
  SIMILE_CHECK(chunks_.metric() != Metric::kL2);
  if (centered_) return *centered_;
  const size_t dims = chunks_.dims();
  const std::vector<float>& m = mean();
  // float32 whatever the stored type: centred values are small differences
  // that int8's one scale per vector would coarsen. The same ids in the same
  // order as chunks_, so positions and document_of_ carry over.
  centered_ = std::make_unique<FlatIndex>(dims, VectorType::kF32, chunks_.metric());
  centered_->reserve(chunks_.size());
  std::vector<float> v(dims);
  for (size_t p = 0; p < chunks_.size(); ++p) {
    decode_vectors(chunks_.type(), chunks_.code_at(p), 1, dims, v.data());
    for (size_t i = 0; i < dims; ++i) v[i] -= m[i];
    centered_->add_float(chunks_.id_at(p), v.data());
  }
  return *centered_;
}

Result<std::vector<DocumentHit>> CollectionIndex::search_centered(const float* query, size_t k,
                                                                  const std::vector<int64_t>* allowed) {
  const FlatIndex& index = centered();
  const std::vector<float> q = center(query);
  return best_documents(k, allowed, [&](size_t want, const IdFilter* filter) -> Result<std::vector<Hit>> {
    return index.search(q.data(), want, filter);
  });
}

std::shared_ptr<const ScoreBackground> CollectionIndex::background(bool centered_vectors) {
  std::shared_ptr<const ScoreBackground>& cached = background_[centered_vectors ? 1 : 0];
  if (cached) return cached;
  ScoreBackground b = sample_background(centered_vectors ? centered() : chunks_, document_of_);
  b.centered = centered_vectors;
  if (centered_vectors) b.center = mean();
  cached = std::make_shared<const ScoreBackground>(std::move(b));
  return cached;
}

const FlatIndex& CollectionIndex::documents() {
  if (documents_) return *documents_;
  const size_t dims = chunks_.dims();
  std::map<int64_t, std::pair<std::vector<double>, size_t>> sums;  // ascending ids, as FlatIndex likes
  std::vector<float> v(dims);
  for (size_t p = 0; p < chunks_.size(); ++p) {
    decode_vectors(chunks_.type(), chunks_.code_at(p), 1, dims, v.data());
    auto& [sum, n] = sums[document_of_[p]];
    if (sum.empty()) sum.assign(dims, 0.0);
    for (size_t i = 0; i < dims; ++i) sum[i] += v[i];
    ++n;
  }
  documents_ = std::make_unique<FlatIndex>(dims, VectorType::kF32, chunks_.metric());
  documents_->reserve(sums.size());
  for (const auto& [doc, acc] : sums) {
    for (size_t i = 0; i < dims; ++i) v[i] = static_cast<float>(acc.first[i] / static_cast<double>(acc.second));
    documents_->add_float(doc, v.data());
  }
  return *documents_;
}

}  // namespace simile::search
