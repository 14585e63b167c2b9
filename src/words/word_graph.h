// An HNSW graph over a set of word vectors, for nearest-word questions on
// vocabularies too large to scan per query. Built once and cached: the file
// is named after a hash of the words and their values (and the graph's
// parameters), so a changed file never meets a stale graph.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "index/hnsw.h"
#include "simile/status.h"
#include "words/word_vectors.h"

namespace simile::words {

struct WordGraphOptions {
  size_t restrict_to = 0;  // the first N words only (0 = all), as WordSearch
  HnswParams params;
  size_t threads = 0;      // building: 0 = one per core
  std::string cache_dir;   // "" = <cache>/words/graphs
};

// Loads the cached graph of these vectors, or builds and caches it (a cache
// that cannot be written only costs the next run a rebuild). `log` receives
// a line when it builds (may be null).
Result<std::unique_ptr<HnswIndex>> word_graph(const WordVectors& vectors, const WordGraphOptions& options,
                                              void (*log)(const std::string&));

}  // namespace simile::words
