#include "search/collection_graph.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>

#include "search/collection_index.h"

namespace simile::search {

namespace {

// Catching up costs an insert per added chunk, so past this share of the
// graph a fresh build is about as cheap and gives a better graph.
constexpr double kMaxCatchUpShare = 0.5;
// Removed chunks stay as tombstones: repaired around after each catch-up
// (walks then never reach them), dropped by compaction past this share.
constexpr double kMaxTombstoneShare = 0.2;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Stored vectors are inserted in blocks of this many, each on all the
// build's threads: enough work per block to keep them busy, little memory.
constexpr size_t kBlock = 4096;

// Inserts stored vectors into the graph, checked first, a block at a time.
class Inserter {
 public:
  Inserter(const store::Store& store, HnswIndex& graph, size_t total, const GraphBuild& how)
      : path_(store.path()), graph_(graph), total_(total), how_(how) {}
  Status add(int64_t chunk, std::string_view blob) {
    const auto* code = reinterpret_cast<const uint8_t*>(blob.data());
    SIMILE_RETURN_IF_ERROR(check_encoded(graph_.type(), code, blob.size(), graph_.dims())
                               .with_context(path_ + ": chunk " + std::to_string(chunk)));
    ids_.push_back(chunk);
    codes_.insert(codes_.end(), code, code + blob.size());
    return ids_.size() == kBlock ? flush() : Status::ok();
  }
  Status flush() {
    if (ids_.empty()) return Status::ok();
    SIMILE_RETURN_IF_ERROR(graph_.add_code_batch(ids_, codes_.data(), static_cast<size_t>(std::max(how_.threads, 0))));
    done_ += ids_.size();
    ids_.clear();
    codes_.clear();
    if (how_.progress) how_.progress(done_, total_);
    return Status::ok();
  }

 private:
  std::string path_;
  HnswIndex& graph_;
  size_t total_, done_ = 0;
  const GraphBuild& how_;
  std::vector<int64_t> ids_;
  std::vector<uint8_t> codes_;
};

Result<std::unique_ptr<HnswIndex>> build(store::Store& store, const store::CollectionRow& row,
                                         const VectorIndexSettings& settings, size_t chunks, const GraphBuild& how) {
  SIMILE_ASSIGN_OR_RETURN(VectorType type, parse_vector_type(row.info.vector_type));
  SIMILE_ASSIGN_OR_RETURN(Metric metric, parse_collection_metric(row.info.metric));
  HnswParams params;
  params.M = settings.M;
  params.ef_construction = settings.ef_construction;
  auto graph = std::make_unique<HnswIndex>(row.info.dims, type, metric, params);
  graph->reserve(chunks);
  Inserter inserter(store, *graph, chunks, how);
  Status bad = Status::ok();
  SIMILE_RETURN_IF_ERROR(store.for_each_vector(row.id, [&](int64_t chunk, int64_t, std::string_view blob) {
    if (bad.is_ok()) bad = inserter.add(chunk, blob);
  }));
  if (!bad.is_ok()) return bad;
  SIMILE_RETURN_IF_ERROR(inserter.flush());
  return graph;
}

// Why an intact graph file cannot serve this collection, or "" if it can.
std::string mismatch(const HnswIndex& graph, const store::CollectionRow& row, const VectorIndexSettings& settings) {
  auto type = parse_vector_type(row.info.vector_type);
  auto metric = parse_collection_metric(row.info.metric);
  if (graph.dims() != row.info.dims || !type.is_ok() || graph.type() != type.value() || !metric.is_ok() ||
      graph.metric() != metric.value())
    return "the file is of other vectors";
  if (graph.params().M != settings.M || graph.params().ef_construction != std::max(settings.ef_construction, settings.M))
    return "the settings changed";
  return "";
}

}  // namespace

std::string graph_path(const std::string& store_path, int64_t collection) {
  return store_path + ".c" + std::to_string(collection) + ".hnsw";
}

void remove_graph_file(const std::string& store_path, int64_t collection) {
  std::error_code ec;
  std::filesystem::remove(graph_path(store_path, collection), ec);
}

bool uses_graph(const VectorIndexSettings& settings, size_t chunks) {
  if (settings.kind == "hnsw") return true;
  if (settings.kind == "flat") return false;
  return chunks >= settings.threshold;
}

Status check_vector_index_settings(const VectorIndexSettings& s) {
  if (s.kind != "auto" && s.kind != "flat" && s.kind != "hnsw")
    return Status::invalid_argument("unknown vector index kind '" + s.kind + "' (use auto, flat or hnsw)");
  if (s.M < 2 || s.M > 256) return Status::invalid_argument("M must be between 2 and 256");
  if (s.ef_construction < 1 || s.ef_construction > 100000)
    return Status::invalid_argument("ef-construction must be between 1 and 100000");
  if (s.ef_search < 1 || s.ef_search > 100000) return Status::invalid_argument("ef-search must be between 1 and 100000");
  return Status::ok();
}

Result<LoadedGraph> load_graph(store::Store& store, const store::CollectionRow& row,
                               const VectorIndexSettings& settings, const std::vector<int64_t>& chunks,
                               const GraphBuild& how) {
  const auto start = std::chrono::steady_clock::now();
  const std::string path = graph_path(store.path(), row.id);
  const auto generation = static_cast<uint64_t>(row.generation);
  LoadedGraph out;
  std::string why = "requested";
  if (!how.rebuild) {
    auto opened = HnswIndex::open(path, HnswIndex::kAnyGeneration);
    if (!opened.is_ok()) {
      why = opened.status().code() == Status::Code::kNotFound ? "no file" : opened.status().message();
    } else if (std::string m = mismatch(*opened.value(), row, settings); !m.empty()) {
      why = m;
    } else {
      out.graph = std::move(opened).value();
      // The chunks added since the save are the ids the graph lacks, the
      // chunks deleted (or replaced) the live ids the store lacks. Compared
      // even when the generations agree (a linear pass, small beside the
      // load): a file of another store with the same generation is caught.
      const std::vector<int64_t> live = out.graph->live_ids();
      std::vector<int64_t> added, removed;
      std::set_difference(chunks.begin(), chunks.end(), live.begin(), live.end(), std::back_inserter(added));
      std::set_difference(live.begin(), live.end(), chunks.begin(), chunks.end(), std::back_inserter(removed));
      if (added.empty() && removed.empty() && out.graph->saved_generation() == generation) {
        out.how = "opened";
        out.seconds = seconds_since(start);
        return out;
      }
      const double nodes = static_cast<double>(std::max<size_t>(out.graph->nodes(), 1));
      if (static_cast<double>(added.size() + removed.size()) > kMaxCatchUpShare * nodes) {
        why = "too much changed to catch up";
        out.graph.reset();
      } else {
        for (int64_t id : removed) SIMILE_RETURN_IF_ERROR(out.graph->remove(id));
        Inserter inserter(store, *out.graph, added.size(), how);
        SIMILE_RETURN_IF_ERROR(store.for_each_vector_of(
            added, [&](int64_t chunk, std::string_view blob) { return inserter.add(chunk, blob); }));
        SIMILE_RETURN_IF_ERROR(inserter.flush());
        out.how = "caught up (+" + std::to_string(added.size()) + " -" + std::to_string(removed.size()) + ")";
        if (out.graph->tombstone_fraction() > kMaxTombstoneShare) {
          out.graph = std::make_unique<HnswIndex>(out.graph->compact());
          out.how += ", compacted";
        } else if (!removed.empty()) {
          out.graph->repair();
        }
      }
    }
  }
  if (!out.graph) {
    SIMILE_ASSIGN_OR_RETURN(out.graph, build(store, row, settings, chunks.size(), how));
    out.how = "built (" + why + ")";
  }
  const Status saved = out.graph->save(path, generation);
  if (!saved.is_ok()) out.how += "; not saved: " + saved.message();
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace simile::search
