// The HNSW graph of one collection (docs/vector-index.md): a file beside the
// SQLite store, derived from it and never trusted blindly. Loading opens the
// file when it reflects the store's generation; catches it up by chunk ids
// when it is stale (chunk ids are never reused, store/store.h); and builds it
// from the stored vectors when it is missing, corrupt, built with other
// settings, or so stale that catching up would cost more than building.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "index/hnsw.h"
#include "simile/collection.h"
#include "store/store.h"

namespace simile::search {

// "<store path>.c<collection id>.hnsw": ids, not names, so a rename keeps it.
std::string graph_path(const std::string& store_path, int64_t collection);
// Deletes a collection's graph file, if any (best effort: it is derived data).
void remove_graph_file(const std::string& store_path, int64_t collection);

// How load_graph may build: anew even if the file is usable, on how many
// threads, reporting (chunks inserted, chunks to insert) as it goes.
struct GraphBuild {
  bool rebuild = false;
  int threads = 0;
  std::function<void(size_t done, size_t total)> progress;
};

struct LoadedGraph {
  std::unique_ptr<HnswIndex> graph;
  std::string how;  // opened | caught up (+A -R) | built (why)
  double seconds = 0;
};

// The collection's graph as of row.generation, whose chunk ids (ascending)
// are `chunks`. A graph that had to
// be caught up or built is saved for the next process; when saving fails (a
// read-only directory) the graph is still returned, and `how` says so.
Result<LoadedGraph> load_graph(store::Store& store, const store::CollectionRow& row,
                               const VectorIndexSettings& settings, const std::vector<int64_t>& chunks,
                               const GraphBuild& how);

// Does this collection search through a graph? (auto: from settings.threshold
// chunks on).
bool uses_graph(const VectorIndexSettings& settings, size_t chunks);

// Settings a user typed: kind auto|flat|hnsw, M >= 2, ef values >= 1.
Status check_vector_index_settings(const VectorIndexSettings& settings);

}  // namespace simile::search
