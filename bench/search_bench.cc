// search_bench: latency of Collection::search() on stored collections, through
// the public API, with the query embedding timed on its own beside it.
//
//   search_bench --queries queries.jsonl --db f32=A.db [--db f16=B.db ...]
//                [--collection NAME] [--k 10] [--filter EXPR] [--threads 2]
//                [--runs 3] [--warmup 20] [--stages] [--results FILE]
//
// Every --db LABEL=PATH holds the same documents (e.g. in f32, f16 and int8
// collections) in collection NAME (default "bench"). Queries are the "text" of
// each JSON line (Cranfield's queries.jsonl). Protocol:
//   * open each database and collection (Database::open, open_collection(name,
//     nullptr)); the first search() of each loads its vectors from SQLite:
//     load_ms is its time minus that of the same search repeated;
//   * warm-up: the first --warmup queries through every variant;
//   * --runs passes over all queries; for each query every variant runs once,
//     in an order rotated per query, so that variants share the machine's
//     state (other processes' load) as evenly as possible;
//   * per variant: median, p90 and p99 (nearest rank) of one call, in ms.
// Variants: "embed" (Embedder::embed of one query with the collection's query
// prompt: the model's share of a search), "embed 1 thread" (the same with
// threads = 1, unless --threads is 1), each LABEL, and with --filter each
// LABEL+filter; with --modes, each LABEL also in every other mode listed
// ("LABEL hybrid", ...; plain LABEL is dense). recall@k compares each
// variant's document ids with the first LABEL's in the same mode (for
// filtered variants, with the first LABEL's filtered results).
//
// --stages also times the parts of a search through internal classes (the
// same ones Collection uses): "LABEL index" is CollectionIndex::search on a
// precomputed query vector (the scan, plus re-scoring for int8), and
// "LABEL+filter sql" the metadata filter's SQL query over the documents. A
// search() minus embed, sql and index is reading the row and the hits' texts.
//
// One JSON record per variant goes to stdout (and is appended to --results).
//
//   search_bench --reencode SRC.db --to DST.db --vector-type f16|int8
//
// writes a copy of SRC.db (whose collections are f32) with every collection
// re-encoded: collections.vector_type set, chunks.vector encoded from the
// stored float32 vector, chunks.exact = that float32 vector for int8 (NULL
// otherwise). The stored f32 vector is already what store::encode_for_storage
// normalised, so this is byte for byte what `simile add --vector-type T` on
// the same texts writes, without embedding them again.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "index/vector_codec.h"
#include "search/collection_index.h"
#include "search/filter.h"
#include "simile/collection.h"
#include "simile/embedder.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace {

using simile::Result;
using simile::Status;

struct DbArg {
  std::string label, path;
};

struct Args {
  std::vector<DbArg> dbs;
  std::string collection = "bench";
  std::string queries;
  std::string filter;
  std::string results;
  size_t k = 10;
  int threads = 2;
  int runs = 3;
  size_t warmup = 20;
  bool stages = false;
  // Search modes timed per database: "dense" is LABEL, others LABEL+" "+mode.
  std::vector<simile::SearchMode> modes = {simile::SearchMode::kDense};
  // --reencode
  std::string reencode_from, reencode_to, vector_type;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: search_bench --queries Q.jsonl --db LABEL=PATH [--db LABEL=PATH ...] [--collection bench]\n"
               "                    [--k 10] [--filter EXPR] [--threads 2] [--runs 3] [--warmup 20] [--stages]\n"
               "                    [--results FILE] [--modes dense,hybrid,bm25]\n"
               "       search_bench --reencode SRC.db --to DST.db --vector-type f16|int8\n");
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--stages") {
      a.stages = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (key == "--db") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) usage();
      a.dbs.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (key == "--collection") {
      a.collection = value;
    } else if (key == "--queries") {
      a.queries = value;
    } else if (key == "--filter") {
      a.filter = value;
    } else if (key == "--results") {
      a.results = value;
    } else if (key == "--k") {
      a.k = std::stoul(value);
    } else if (key == "--threads") {
      a.threads = std::stoi(value);
    } else if (key == "--runs") {
      a.runs = std::stoi(value);
    } else if (key == "--warmup") {
      a.warmup = std::stoul(value);
    } else if (key == "--modes") {
      a.modes.clear();
      size_t begin = 0;
      while (begin <= value.size()) {
        const size_t comma = std::min(value.find(',', begin), value.size());
        auto mode = simile::parse_search_mode(value.substr(begin, comma - begin));
        if (!mode.is_ok()) usage();
        a.modes.push_back(*mode);
        begin = comma + 1;
      }
    } else if (key == "--reencode") {
      a.reencode_from = value;
    } else if (key == "--to") {
      a.reencode_to = value;
    } else if (key == "--vector-type") {
      a.vector_type = value;
    } else {
      usage();
    }
  }
  if (!a.reencode_from.empty()) {
    if (a.reencode_to.empty() || a.vector_type.empty()) usage();
    return a;
  }
  if (a.dbs.empty() || a.queries.empty() || a.k == 0 || a.runs < 1) usage();
  return a;
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  if (!r.is_ok()) {
    std::fprintf(stderr, "search_bench: %s: %s\n", what.c_str(), r.status().message().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

void check(const Status& st, const std::string& what) {
  if (!st.is_ok()) {
    std::fprintf(stderr, "search_bench: %s: %s\n", what.c_str(), st.message().c_str());
    std::exit(1);
  }
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Nearest-rank percentile, as bench/embed_bench.cc and the peers define it.
double percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  long k = static_cast<long>(std::ceil(p * static_cast<double>(xs.size()) / 100)) - 1;
  k = std::clamp(k, 0L, static_cast<long>(xs.size()) - 1);
  return xs[static_cast<size_t>(k)];
}

double round_to(double x, double unit) { return std::round(x / unit) / (1 / unit); }

// The 1-minute load average: how busy the shared machine was.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

// ---- --reencode -------------------------------------------------------------

int reencode(const Args& a) {
  using namespace simile;
  const VectorType type = take(parse_vector_type(a.vector_type), "--vector-type");
  if (type == VectorType::kF32) {
    std::fprintf(stderr, "search_bench: --reencode makes f16 or int8 copies of an f32 database\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::remove(a.reencode_to, ec);
  std::filesystem::remove(a.reencode_to + "-wal", ec);
  std::filesystem::remove(a.reencode_to + "-shm", ec);
  {
    auto src = take(sqlite::Database::open(a.reencode_from), "opening " + a.reencode_from);
    auto into = take(src.prepare("VACUUM INTO ?"), "VACUUM INTO");
    check(into.bind(1, a.reencode_to).run(), "copying " + a.reencode_from + " to " + a.reencode_to);
  }
  auto db = take(sqlite::Database::open(a.reencode_to), "opening " + a.reencode_to);
  auto tx = take(sqlite::Transaction::begin(db), "BEGIN");
  auto collections = take(db.prepare("SELECT id, name, dims, vector_type FROM collections"), "collections");
  std::vector<std::pair<int64_t, size_t>> todo;  // (collection id, dims)
  while (take(collections.step(), "collections")) {
    const std::string name = collections.column_text(1);
    const std::string have = collections.column_text(3);
    if (have != "f32") {
      std::fprintf(stderr, "search_bench: collection %s of %s is %s, not f32\n", name.c_str(),
                   a.reencode_from.c_str(), have.c_str());
      return 1;
    }
    todo.emplace_back(collections.column_int(0), static_cast<size_t>(collections.column_int(2)));
  }
  auto set_type = take(db.prepare("UPDATE collections SET vector_type = ? WHERE id = ?"), "UPDATE collections");
  auto read = take(db.prepare("SELECT id, vector FROM chunks WHERE collection_id = ? ORDER BY id"), "chunks");
  auto write = take(db.prepare("UPDATE chunks SET vector = ?, exact = ? WHERE id = ?"), "UPDATE chunks");
  size_t rewritten = 0;
  for (const auto& [collection, dims] : todo) {
    set_type.reset();
    check(set_type.bind(1, std::string(vector_type_name(type))).bind(2, collection).run(), "UPDATE collections");
    // Read first, then write: no update while a SELECT walks the same table.
    std::vector<std::pair<int64_t, std::vector<float>>> rows;
    read.reset();
    read.bind(1, collection);
    while (take(read.step(), "reading chunks")) {
      const std::string_view blob = read.column_blob(1);
      std::vector<float> v(dims);
      check(decode_vector(VectorType::kF32, reinterpret_cast<const uint8_t*>(blob.data()), blob.size(), dims,
                          v.data()),
            "chunk " + std::to_string(read.column_int(0)));
      rows.emplace_back(read.column_int(0), std::move(v));
    }
    std::string code(encoded_size(type, dims), '\0');
    for (const auto& [id, v] : rows) {
      encode_vector(type, v.data(), dims, reinterpret_cast<uint8_t*>(code.data()));
      write.reset();
      write.bind_blob(1, code.data(), code.size());
      if (type == VectorType::kI8)
        write.bind_blob(2, v.data(), v.size() * sizeof(float));  // the f32 encoding is the floats' bytes
      else
        write.bind_null(2);
      write.bind(3, id);
      check(write.run(), "rewriting chunk " + std::to_string(id));
      ++rewritten;
    }
  }
  check(tx.commit(), "COMMIT");
  check(db.exec("VACUUM"), "VACUUM");
  std::fprintf(stderr, "search_bench: %s -> %s: %zu chunks re-encoded as %s\n", a.reencode_from.c_str(),
               a.reencode_to.c_str(), rewritten, std::string(vector_type_name(type)).c_str());
  return 0;
}

// ---- latency ----------------------------------------------------------------

struct Variant {
  std::string name;
  std::string kind;  // embed | search | index | sql
  size_t db = 0;
  simile::SearchMode mode = simile::SearchMode::kDense;  // kind "search"
  bool filtered = false;
  std::vector<double> ms;
  std::vector<std::vector<std::string>> ids;  // per query, from the first timed pass
};

// What --stages needs: the collection's in-memory index and the filter's
// documents, built through the internal classes Collection itself uses.
struct Stages {
  std::unique_ptr<simile::store::Store> store;
  simile::store::CollectionRow row;
  std::unique_ptr<simile::search::CollectionIndex> index;
  std::vector<int64_t> allowed;
};

Result<std::vector<int64_t>> filter_documents(simile::store::Store& store, int64_t collection,
                                              const std::string& filter) {
  // The query CollectionImpl::allowed_documents runs (src/search/collection.cc).
  SIMILE_ASSIGN_OR_RETURN(auto parsed, simile::parse_filter(filter));
  const simile::SqlFilter sql = simile::filter_to_sql(parsed, "meta");
  SIMILE_ASSIGN_OR_RETURN(auto q, store.db().prepare("SELECT id FROM documents WHERE collection_id = ? AND (" +
                                                     sql.where + ") ORDER BY id"));
  q.bind(1, collection);
  SIMILE_RETURN_IF_ERROR(simile::bind_filter_params(q.handle(), 2, sql));
  std::vector<int64_t> ids;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool has, q.step());
    if (!has) return ids;
    ids.push_back(q.column_int(0));
  }
}

int run_latency(const Args& a) {
  using namespace simile;
  std::vector<std::string> queries;
  {
    std::ifstream in(a.queries);
    if (!in) {
      std::fprintf(stderr, "search_bench: cannot open %s\n", a.queries.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
        std::fprintf(stderr, "search_bench: %s: a line without a \"text\" string\n", a.queries.c_str());
        return 1;
      }
      queries.push_back(j["text"].get<std::string>());
    }
  }
  if (queries.empty()) {
    std::fprintf(stderr, "search_bench: no queries in %s\n", a.queries.c_str());
    return 1;
  }

  EmbedderOptions runtime;
  runtime.threads = a.threads;
  std::vector<std::unique_ptr<Database>> dbs;
  std::vector<std::unique_ptr<Collection>> collections;
  std::vector<double> load_ms;
  std::vector<size_t> chunks;
  for (const DbArg& d : a.dbs) {
    dbs.push_back(take(Database::open(d.path), "opening " + d.path));
    collections.push_back(take(dbs.back()->open_collection(a.collection, nullptr, runtime),
                               "collection " + a.collection + " in " + d.path));
    chunks.push_back(take(dbs.back()->info(a.collection), "info").chunks);
    // The first search loads the vectors from SQLite into the flat index:
    // its time minus that of the same search repeated.
    SearchOptions top_k;
    top_k.k = a.k;
    top_k.mode = SearchMode::kDense;
    double t0 = now_s();
    take(collections.back()->search(queries[0], top_k), "first search in " + d.path);
    const double first = now_s() - t0;
    t0 = now_s();
    take(collections.back()->search(queries[0], top_k), "search in " + d.path);
    load_ms.push_back(std::max(0.0, first - (now_s() - t0)) * 1e3);
  }
  const CollectionInfo& info = collections[0]->info();
  for (size_t i = 1; i < collections.size(); ++i)
    if (collections[i]->info().model_fingerprint != info.model_fingerprint || chunks[i] != chunks[0])
      std::fprintf(stderr, "search_bench: warning: %s does not hold the same model and chunk count as %s\n",
                   a.dbs[i].path.c_str(), a.dbs[0].path.c_str());
  // The query model alone, opened as the collection opens it.
  EmbedderOptions model = runtime;
  model.model = info.model;
  model.pooling = take(parse_pooling(info.pooling), "pooling");
  model.normalize = info.normalize;
  auto embedder = take(Embedder::open(model), "model " + info.model);
  // And on one thread: one short text split over several threads pays a
  // barrier per product, which a busy machine makes expensive.
  model.threads = 1;
  auto embedder_1 = take(Embedder::open(model), "model " + info.model);

  std::vector<Stages> stages(a.stages ? a.dbs.size() : 0);
  std::vector<std::vector<float>> query_vectors;
  if (a.stages) {
    for (size_t i = 0; i < a.dbs.size(); ++i) {
      Stages& s = stages[i];
      s.store = take(store::Store::open(a.dbs[i].path), "store " + a.dbs[i].path);
      auto row = take(s.store->find_collection(a.collection), "collection");
      if (!row) return 1;
      s.row = *row;
      VectorIndexSettings exact;  // the stage timings are of exact search
      exact.kind = "flat";
      s.index = take(search::CollectionIndex::load(*s.store, s.row, exact), "index of " + a.dbs[i].path);
      if (!a.filter.empty()) s.allowed = take(filter_documents(*s.store, s.row.id, a.filter), "filter");
    }
    for (const std::string& q : queries) query_vectors.push_back(take(embedder->embed({q}, info.query_prompt), "embed"));
  }

  std::vector<Variant> variants;
  auto add_variant = [&](std::string name, std::string kind, size_t db, bool filtered,
                         SearchMode mode = SearchMode::kDense) {
    Variant v;
    v.name = std::move(name);
    v.kind = std::move(kind);
    v.db = db;
    v.filtered = filtered;
    v.mode = mode;
    variants.push_back(std::move(v));
  };
  auto mode_suffix = [](SearchMode m) {
    return m == SearchMode::kDense ? std::string() : std::string(" ") + simile::search_mode_name(m);
  };
  add_variant("embed", "embed", 0, false);
  if (a.threads != 1) add_variant("embed 1 thread", "embed1", 0, false);
  for (size_t i = 0; i < a.dbs.size(); ++i) {
    for (SearchMode m : a.modes) add_variant(a.dbs[i].label + mode_suffix(m), "search", i, false, m);
    if (a.stages) add_variant(a.dbs[i].label + " index", "index", i, false);
  }
  if (!a.filter.empty()) {
    for (size_t i = 0; i < a.dbs.size(); ++i) {
      for (SearchMode m : a.modes) add_variant(a.dbs[i].label + "+filter" + mode_suffix(m), "search", i, true, m);
      if (a.stages) {
        add_variant(a.dbs[i].label + "+filter sql", "sql", i, true);
        add_variant(a.dbs[i].label + "+filter index", "index", i, true);
      }
    }
  }
  size_t allowed_documents = 0;
  if (!a.filter.empty()) allowed_documents = a.stages ? stages[0].allowed.size() : 0;

  // One call of variant v on query q; returns the hits' document ids.
  auto call = [&](Variant& v, size_t q) -> std::vector<std::string> {
    std::vector<std::string> ids;
    if (v.kind == "embed" || v.kind == "embed1") {
      take((v.kind == "embed" ? embedder : embedder_1)->embed({queries[q]}, info.query_prompt), "embed");
    } else if (v.kind == "search") {
      SearchOptions o;
      o.k = a.k;
      o.mode = v.mode;
      o.filter = v.filtered ? a.filter : "";
      for (const SearchHit& h : take(collections[v.db]->search(queries[q], o), "search"))
        ids.push_back(h.id);
    } else if (v.kind == "sql") {
      Stages& s = stages[v.db];
      s.allowed = take(filter_documents(*s.store, s.row.id, a.filter), "filter");
    } else {
      Stages& s = stages[v.db];
      take(s.index->search(query_vectors[q].data(), a.k, v.filtered ? &s.allowed : nullptr, *s.store), "index");
    }
    return ids;
  };

  const double load_before = load_average();
  const size_t warm = std::min(a.warmup, queries.size());
  for (size_t q = 0; q < warm; ++q)
    for (Variant& v : variants) call(v, q);
  const double t_start = now_s();
  for (int r = 0; r < a.runs; ++r) {
    for (size_t q = 0; q < queries.size(); ++q) {
      const size_t n = variants.size();
      const size_t first = (q + static_cast<size_t>(r)) % n;
      for (size_t j = 0; j < n; ++j) {
        Variant& v = variants[(first + j) % n];
        const double t0 = now_s();
        auto ids = call(v, q);
        v.ms.push_back((now_s() - t0) * 1e3);
        if (r == 0) v.ids.push_back(std::move(ids));
      }
    }
  }
  const double total_s = now_s() - t_start;
  const double load_after = load_average();

  // recall@k of the document ids against the first database's (f32) results.
  auto reference = [&](const Variant& v) -> const Variant* {
    for (const Variant& w : variants)
      if (w.kind == "search" && w.db == 0 && w.filtered == v.filtered && w.mode == v.mode) return &w;
    return nullptr;
  };
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::ofstream results;
  if (!a.results.empty()) results.open(a.results, std::ios::app);
  for (const Variant& v : variants) {
    const bool embeds = v.kind == "embed" || v.kind == "embed1";
    nlohmann::ordered_json rec = {
        {"bench", "search"},
        {"variant", v.name},
        {"kind", v.kind},
        {"db", embeds ? "" : a.dbs[v.db].path},
        {"vector_type", embeds ? "" : collections[v.db]->info().vector_type},
        {"chunks", chunks[v.db]},
        {"filter", v.filtered ? a.filter : ""},
        {"queries", queries.size()},
        {"runs", a.runs},
        {"k", a.k},
        {"threads", v.kind == "embed1" ? 1 : a.threads},
        {"median_ms", round_to(percentile(v.ms, 50), 0.001)},
        {"p90_ms", round_to(percentile(v.ms, 90), 0.001)},
        {"p99_ms", round_to(percentile(v.ms, 99), 0.001)},
        {"max_ms", round_to(*std::max_element(v.ms.begin(), v.ms.end()), 0.001)},
    };
    if (v.kind == "search") {
      rec["load_ms"] = round_to(load_ms[v.db], 0.1);
      const Variant* ref = reference(v);
      if (ref != nullptr && ref != &v) {
        double sum = 0;
        for (size_t q = 0; q < v.ids.size(); ++q) {
          const std::set<std::string> want(ref->ids[q].begin(), ref->ids[q].end());
          size_t found = 0;
          for (const std::string& id : v.ids[q]) found += want.count(id);
          sum += want.empty() ? 1.0 : static_cast<double>(found) / static_cast<double>(want.size());
        }
        rec["recall_vs_" + a.dbs[0].label] = round_to(sum / static_cast<double>(v.ids.size()), 0.0001);
      }
    }
    if (v.filtered && a.stages) rec["allowed_documents"] = allowed_documents;
    rec["peak_rss_mb"] = round_to(usage.ru_maxrss / 1024.0, 0.1);
    rec["bench_s"] = round_to(total_s, 0.1);
    rec["load_before"] = load_before;
    rec["load_after"] = load_after;
    std::cout << rec.dump() << std::endl;
    if (results) results << rec.dump() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  if (!args.reencode_from.empty()) return reencode(args);
  return run_latency(args);
}
