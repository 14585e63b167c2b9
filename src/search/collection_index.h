// The in-memory side of one collection, rebuilt from the store: which
// document each chunk belongs to, and the chunk vectors in their stored
// encoding (an int8 collection stays int8 in RAM), searched either exactly (a
// FlatIndex loaded from the store) or through the collection's HNSW graph
// (search/collection_graph.h; then the vectors are the graph's codes and the
// store's blobs are not read at all when the graph file is fresh). On demand:
// one vector per document (the mean of its chunks) for "similar" and
// "related"; the chunk vectors centred on their mean (SearchOptions::center);
// the background distributions of scores (search/score_background.h).
// Whatever is built on demand belongs to this generation of the store and
// goes with it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/flat_index.h"
#include "index/hnsw.h"
#include "search/collection_graph.h"
#include "search/score_background.h"
#include "simile/collection.h"
#include "store/store.h"

namespace simile::search {

struct DocumentHit {
  int64_t document = 0;  // documents.id
  int64_t chunk = 0;     // its best chunk (chunks.id); 0 for document-vector hits
  float score = 0;
};

class CollectionIndex {
 public:
  // Loads the collection as of its current generation. `settings` choose
  // exact or graph search (uses_graph); `graph` says how a graph is built if
  // it must be.
  static Result<std::unique_ptr<CollectionIndex>> load(store::Store& store, const store::CollectionRow& row,
                                                       const VectorIndexSettings& settings,
                                                       const GraphBuild& graph = {});

  int64_t generation() const { return generation_; }
  size_t chunks() const { return chunk_ids_.size(); }
  // The graph searches go through, or null for exact search.
  const HnswIndex* graph() const { return graph_.get(); }
  // How the graph was loaded (collection_graph.h's LoadedGraph).
  const std::string& graph_load() const { return graph_load_; }
  double graph_seconds() const { return graph_seconds_; }

  // The k documents whose best chunk scores highest for `query` (float32,
  // dims). `allowed` (sorted documents.id, or null for all) is applied before
  // ranking. int8 collections re-score an oversampled candidate set on the
  // float32 originals kept in the store. ef: the graph's beam width (0 = the
  // collection's ef_search); unused by exact search.
  Result<std::vector<DocumentHit>> search(const float* query, size_t k, const std::vector<int64_t>* allowed,
                                          store::Store& store, SearchStats* stats = nullptr, size_t ef = 0) const;

  // One vector per document: the mean of its chunk vectors (normalised for
  // cosine), keyed by documents.id. Built on first use.
  const FlatIndex& documents();

  // The mean of the chunk vectors as stored (unit vectors for cosine),
  // decoded; computed on first use.
  const std::vector<float>& mean();
  // A vector as the centred index sees it: normalised first for cosine (as
  // stored chunks were), minus mean(). The centred index normalises it again.
  std::vector<float> center(const float* v);
  // search() over the centred chunk vectors (float32, normalised again for
  // cosine) with center(query). Not for l2, where centering changes nothing.
  Result<std::vector<DocumentHit>> search_centered(const float* query, size_t k, const std::vector<int64_t>* allowed);

  // The background of chunk-pair scores, plain or of the centred vectors
  // (then `center` holds mean()); sampled on first use and shared, so a
  // search may hold it while the index is replaced.
  std::shared_ptr<const ScoreBackground> background(bool centered);

 private:
  CollectionIndex(size_t dims, VectorType type, Metric metric) : chunks_(dims, type, metric) {}
  // The stored code of the chunk at a position (of chunk_ids_).
  const uint8_t* code_at(size_t position) const;
  std::optional<size_t> position(int64_t chunk) const;
  ChunkCodes codes() const;
  // The search loop over `index` (chunks_ or the centred copy: same ids, same
  // positions): ranked(want, filter) returns the `want` best chunks.
  Result<std::vector<DocumentHit>> best_documents(
      size_t k, const std::vector<int64_t>* allowed,
      const std::function<Result<std::vector<Hit>>(size_t want, const IdFilter* filter)>& ranked) const;
  const FlatIndex& centered();

  // Exact search: every chunk vector; graph search: empty (it only
  // re-scores int8 candidates, which needs no vectors of its own).
  FlatIndex chunks_;
  std::unique_ptr<HnswIndex> graph_;
  std::string graph_load_;
  double graph_seconds_ = 0;
  size_t ef_search_ = 0;
  std::vector<int64_t> chunk_ids_;    // ascending
  std::vector<int64_t> document_of_;  // by chunk position
  std::unique_ptr<FlatIndex> documents_;
  std::vector<float> mean_;
  std::unique_ptr<FlatIndex> centered_;
  std::shared_ptr<const ScoreBackground> background_[2];  // plain, centred
  int64_t generation_ = 0;
};

Result<Metric> parse_collection_metric(const std::string& name);  // cosine | dot | l2

}  // namespace simile::search
