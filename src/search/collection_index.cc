#include "search/collection_index.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "model/pooling.h"
#include "search/collection_graph.h"
#include "search/score_background.h"
#include "store/sqlite.h"
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

Result<std::unique_ptr<CollectionIndex>> CollectionIndex::load(store::Store& store, const store::CollectionRow& given,
                                                               const VectorIndexSettings& settings,
                                                               const GraphBuild& graph) {
  // One snapshot for the chunk list and the vectors, so that they agree.
  SIMILE_ASSIGN_OR_RETURN(auto snapshot, sqlite::Transaction::begin_read(store.db()));
  SIMILE_ASSIGN_OR_RETURN(auto found, store.find_collection(given.info.name));
  if (!found || found->id != given.id) return Status::not_found("collection '" + given.info.name + "' was dropped");
  store::CollectionRow row = *found;
  SIMILE_ASSIGN_OR_RETURN(VectorType type, parse_vector_type(row.info.vector_type));
  SIMILE_ASSIGN_OR_RETURN(Metric metric, parse_collection_metric(row.info.metric));
  std::unique_ptr<CollectionIndex> index(new CollectionIndex(row.info.dims, type, metric));
  index->generation_ = row.generation;
  index->ef_search_ = settings.ef_search;
  SIMILE_RETURN_IF_ERROR(store.count(row));
  index->chunk_ids_.reserve(row.info.chunks);
  index->document_of_.reserve(row.info.chunks);
  if (uses_graph(settings, row.info.chunks)) {
    SIMILE_RETURN_IF_ERROR(store.for_each_chunk(row.id, [&](int64_t chunk, int64_t document) {
      index->chunk_ids_.push_back(chunk);
      index->document_of_.push_back(document);
    }));
    SIMILE_ASSIGN_OR_RETURN(LoadedGraph g, load_graph(store, row, settings, index->chunk_ids_, graph));
    if (g.graph->size() != index->chunk_ids_.size())
      return Status::internal("the HNSW graph of " + row.info.name + " holds " + std::to_string(g.graph->size()) +
                              " chunks, the store " + std::to_string(index->chunk_ids_.size()));
    index->graph_ = std::move(g.graph);
    index->graph_load_ = std::move(g.how);
    index->graph_seconds_ = g.seconds;
    return index;
  }
  // Reserved up front: growing the buffer by doubling cost a third of the
  // load time in page faults (docs/benchmarks.md).
  index->chunks_.reserve(row.info.chunks);
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
    index->chunk_ids_.push_back(chunk);
    index->document_of_.push_back(document);
  }));
  if (!bad.is_ok()) return bad;
  return index;
}

const uint8_t* CollectionIndex::code_at(size_t position) const {
  return graph_ ? graph_->code_of(chunk_ids_[position]) : chunks_.code_at(position);
}

std::optional<size_t> CollectionIndex::position(int64_t chunk) const {
  auto it = std::lower_bound(chunk_ids_.begin(), chunk_ids_.end(), chunk);
  if (it == chunk_ids_.end() || *it != chunk) return std::nullopt;
  return static_cast<size_t>(it - chunk_ids_.begin());
}

ChunkCodes CollectionIndex::codes() const {
  return ChunkCodes{chunk_ids_.size(), chunks_.dims(), chunks_.type(), chunks_.metric(),
                    [this](size_t p) { return chunk_ids_[p]; }, [this](size_t p) { return code_at(p); }};
}

Result<std::vector<DocumentHit>> CollectionIndex::search(const float* query, size_t k,
                                                         const std::vector<int64_t>* allowed, store::Store& store,
                                                         SearchStats* stats, size_t ef) const {
  const bool rescore = chunks_.type() == VectorType::kI8;
  return best_documents(k, allowed, [&](size_t want, const IdFilter* filter) -> Result<std::vector<Hit>> {
    const size_t candidates = rescore ? want * kRescoreOversample : want;
    std::vector<Hit> ranked =
        graph_ ? graph_->search(query, candidates, std::max(ef == 0 ? ef_search_ : ef, candidates), filter, stats)
               : chunks_.search(query, candidates, filter, stats);
    if (!rescore) return ranked;
    std::unordered_map<int64_t, std::vector<float>> originals;
    std::vector<int64_t> ids;
    for (const Hit& h : ranked) ids.push_back(h.id);
    SIMILE_RETURN_IF_ERROR(store.for_each_exact(ids, [&](int64_t id, std::string_view exact) {
      std::vector<float> v(chunks_.dims());
      SIMILE_RETURN_IF_ERROR(decode_vector(VectorType::kF32, reinterpret_cast<const uint8_t*>(exact.data()),
                                           exact.size(), chunks_.dims(), v.data()));
      originals[id] = std::move(v);
      return Status::ok();
    }));
    return chunks_.rescore(query, ranked, want,
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
  if (k == 0 || chunk_ids_.empty()) return out;
  std::unique_ptr<IdFilter> filter;
  size_t candidates_total = chunk_ids_.size();
  if (allowed != nullptr) {
    std::vector<int64_t> ids;
    for (size_t p = 0; p < chunk_ids_.size(); ++p)
      if (std::binary_search(allowed->begin(), allowed->end(), document_of_[p])) ids.push_back(chunk_ids_[p]);
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
      const std::optional<size_t> p = position(h.id);
      SIMILE_CHECK(p.has_value());  // the graph and the chunk list come from one snapshot
      const int64_t doc = document_of_[*p];
      if (seen.insert(doc).second) out.push_back({doc, h.id, h.score});
      if (out.size() == k) break;
    }
    if (out.size() == k || want >= candidates_total) return out;
  }
}

const std::vector<float>& CollectionIndex::mean() {
  if (!mean_.empty() || chunk_ids_.empty()) return mean_;
  const size_t dims = chunks_.dims();
  std::vector<double> sum(dims, 0.0);
  std::vector<float> v(dims);
  for (size_t p = 0; p < chunk_ids_.size(); ++p) {
    decode_vectors(chunks_.type(), code_at(p), 1, dims, v.data());
    for (size_t i = 0; i < dims; ++i) sum[i] += v[i];
  }
  mean_.resize(dims);
  for (size_t i = 0; i < dims; ++i) mean_[i] = static_cast<float>(sum[i] / static_cast<double>(chunk_ids_.size()));
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
  // order as chunk_ids_, so positions and document_of_ carry over. Searched
  // exactly even when the collection has a graph: centering is an option for
  // reading scores, not a path to speed.
  centered_ = std::make_unique<FlatIndex>(dims, VectorType::kF32, chunks_.metric());
  centered_->reserve(chunk_ids_.size());
  std::vector<float> v(dims);
  for (size_t p = 0; p < chunk_ids_.size(); ++p) {
    decode_vectors(chunks_.type(), code_at(p), 1, dims, v.data());
    for (size_t i = 0; i < dims; ++i) v[i] -= m[i];
    centered_->add_float(chunk_ids_[p], v.data());
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
  ScoreBackground b =
      centered_vectors ? sample_background(centered(), document_of_) : sample_background(codes(), document_of_);
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
  for (size_t p = 0; p < chunk_ids_.size(); ++p) {
    decode_vectors(chunks_.type(), code_at(p), 1, dims, v.data());
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
