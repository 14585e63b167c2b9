// The in-memory side of one collection, rebuilt from the store: every
// chunk's vector in a FlatIndex (in its stored encoding), which document each
// chunk belongs to, and on demand one vector per document (the mean of its
// chunks) for "similar" and "related".
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "index/flat_index.h"
#include "store/store.h"

namespace simile::search {

struct DocumentHit {
  int64_t document = 0;  // documents.id
  int64_t chunk = 0;     // its best chunk (chunks.id); 0 for document-vector hits
  float score = 0;
};

class CollectionIndex {
 public:
  static Result<std::unique_ptr<CollectionIndex>> load(store::Store& store, const store::CollectionRow& row);

  int64_t generation() const { return generation_; }
  size_t chunks() const { return chunks_.size(); }

  // The k documents whose best chunk scores highest for `query` (float32,
  // dims). `allowed` (sorted documents.id, or null for all) is applied before
  // ranking. int8 collections re-score an oversampled candidate set on the
  // float32 originals kept in the store.
  Result<std::vector<DocumentHit>> search(const float* query, size_t k, const std::vector<int64_t>* allowed,
                                          store::Store& store, SearchStats* stats = nullptr) const;

  // One vector per document: the mean of its chunk vectors (normalised for
  // cosine), keyed by documents.id. Built on first use.
  const FlatIndex& documents();

 private:
  CollectionIndex(size_t dims, VectorType type, Metric metric) : chunks_(dims, type, metric) {}
  FlatIndex chunks_;
  std::vector<int64_t> document_of_;  // by chunk position
  std::unique_ptr<FlatIndex> documents_;
  int64_t generation_ = 0;
};

Result<Metric> parse_collection_metric(const std::string& name);  // cosine | dot | l2

}  // namespace simile::search
