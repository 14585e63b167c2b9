#include "words/word_graph.h"

#include <chrono>
#include <filesystem>
#include <numeric>

#include "util/hash.h"
#include "util/user_dirs.h"

namespace simile::words {

namespace {

// The cache key: the searched words, their vectors and the graph's shape.
std::string graph_key(const WordVectors& vectors, size_t n, const HnswParams& p) {
  ContentHash h;
  h.add("simile word graph 1");
  h.add(std::to_string(n) + " " + std::to_string(vectors.dims()) + " " + std::to_string(p.M) + " " +
        std::to_string(p.ef_construction) + " " + std::to_string(p.seed));
  for (size_t i = 0; i < n; ++i) h.add(vectors.word(i));
  h.add(std::string_view(reinterpret_cast<const char*>(vectors.vectors().data()), n * vectors.dims() * sizeof(float)));
  return h.hex();
}

}  // namespace

Result<std::unique_ptr<HnswIndex>> word_graph(const WordVectors& vectors, const WordGraphOptions& options,
                                              void (*log)(const std::string&)) {
  const size_t n = options.restrict_to == 0 ? vectors.size() : std::min(options.restrict_to, vectors.size());
  const std::string key = graph_key(vectors, n, options.params);
  // The file's generation: the key's first 64 bits, checked on open.
  const uint64_t generation = std::stoull(key.substr(0, 16), nullptr, 16);
  const std::string dir =
      options.cache_dir.empty() ? user_dir(UserDirKind::kCache) + "/words/graphs" : options.cache_dir;
  const std::string path = dir + "/" + key + ".hnsw";
  auto cached = HnswIndex::open(path, generation);
  if (cached.is_ok() && (*cached)->size() == n) return cached;

  const auto start = std::chrono::steady_clock::now();
  auto graph = std::make_unique<HnswIndex>(vectors.dims(), VectorType::kF32, Metric::kCosine, options.params);
  graph->reserve(n);
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), int64_t{0});
  SIMILE_RETURN_IF_ERROR(graph->add_batch(ids, vectors.vectors().data(), options.threads));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const Status saved = graph->save(path, generation);
  if (log != nullptr)
    log("built an HNSW graph of " + std::to_string(n) + " words in " + std::to_string(static_cast<int>(seconds)) +
        " s" + (saved.is_ok() ? ", cached in " + path : " (not cached: " + saved.message() + ")"));
  return graph;
}

}  // namespace simile::words
