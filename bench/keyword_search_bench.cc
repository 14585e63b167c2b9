// keyword_search_bench: BM25 top-k over a large keyword index, MaxScore
// against exhaustive scoring of every matching document, on the same loaded
// index and the same queries, plus Collection::search() end to end.
//
//   keyword_search_bench --db DB --queries Q.jsonl [--collection bench] [--k 10]
//                        [--join 4] [--runs 3]
//
// The collection must exist (e.g. `simile add bench corpus.jsonl --model none`).
// Queries are the "text" of each JSON line (Cranfield's queries.jsonl); the
// "long" set joins --join consecutive queries into one (about 4x the terms).
// Reported per variant: median and p99 (nearest rank) of one call in ms over
// --runs passes, and the mean postings read per query. "same top-k" counts the
// queries whose MaxScore ids equal the exhaustive ones (near-equal scores may
// swap; every score is compared to 1e-4 relative).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/keyword_search.h"
#include "simile/collection.h"
#include "store/store.h"
#include "text/analyzer.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(xs.size())));
  return xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)];
}

template <class T>
T must(simile::Result<T> r) {
  if (!r.is_ok()) {
    std::cerr << "keyword_search_bench: " << r.status().message() << "\n";
    std::exit(1);
  }
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, queries_path, collection = "bench";
  size_t k = 10, join = 4;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--db") db_path = value;
    else if (key == "--queries") queries_path = value;
    else if (key == "--collection") collection = value;
    else if (key == "--k") k = std::stoul(value);
    else if (key == "--join") join = std::stoul(value);
    else if (key == "--runs") runs = std::stoi(value);
  }
  if (db_path.empty() || queries_path.empty()) {
    std::cerr << "usage: keyword_search_bench --db DB --queries Q.jsonl [--collection bench] [--k 10] [--join 4] "
                 "[--runs 3]\n";
    return 2;
  }
  std::vector<std::string> short_queries;
  std::ifstream in(queries_path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) short_queries.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  std::vector<std::string> long_queries;
  for (size_t i = 0; i + join <= short_queries.size(); i += join) {
    std::string q;
    for (size_t j = i; j < i + join; ++j) q += short_queries[j] + " ";
    long_queries.push_back(q);
  }

  // The public path first: it brings the index up to date (catch-up) and loads it.
  auto db = must(simile::Database::open(db_path));
  auto coll = must(db->open_collection(collection, nullptr));
  simile::SearchOptions options;
  options.k = k;
  options.mode = simile::SearchMode::kBm25;
  options.snippets = false;
  auto t0 = Clock::now();
  must(coll->search(short_queries.front(), options));
  const double first_ms = ms_since(t0);
  const auto info = must(coll->keyword_index_info());

  auto store = must(simile::store::Store::open(db_path));
  auto row = must(store->find_collection(collection));
  t0 = Clock::now();
  auto index = must(simile::search::load_keyword_index(*store, row->id));
  const double load_ms = ms_since(t0);
  auto analyzer = must(simile::text::Analyzer::create(must(simile::text::parse_analyzer_spec(row->info.analyzer))));
  simile::keyword::RankingParams bm25;

  std::cout << nlohmann::json({{"documents", info.documents},
                               {"terms", info.terms},
                               {"postings", info.postings},
                               {"segments", info.segments},
                               {"first_search_ms", first_ms},
                               {"load_ms", load_ms}})
                   .dump()
            << "\n";
  std::printf("| queries | variant | median ms | p99 ms | postings read / query | same top-k |\n|---|---|---:|---:|---:|---:|\n");
  for (const auto& [label, queries] : {std::pair{"cranfield", &short_queries}, std::pair{"long (x4)", &long_queries}}) {
    std::vector<std::vector<simile::keyword::QueryTerm>> terms;
    for (const std::string& q : *queries) terms.push_back(simile::search::query_terms(*analyzer, q));
    std::vector<double> pruned_ms, full_ms, api_ms;
    double pruned_postings = 0, full_postings = 0;
    size_t same = 0;
    for (int r = 0; r < runs; ++r) {
      for (size_t i = 0; i < terms.size(); ++i) {
        simile::keyword::KeywordStats ps, fs;
        t0 = Clock::now();
        auto a = index->search(terms[i], bm25, k, nullptr, &ps);
        pruned_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        auto b = index->search(terms[i], bm25, k, nullptr, &fs, true);
        full_ms.push_back(ms_since(t0));
        t0 = Clock::now();
        must(coll->search((*queries)[i], options));
        api_ms.push_back(ms_since(t0));
        if (r == 0) {
          pruned_postings += static_cast<double>(ps.postings);
          full_postings += static_cast<double>(fs.postings);
          bool equal = a.size() == b.size();
          for (size_t j = 0; equal && j < a.size(); ++j) {
            if (std::fabs(a[j].score - b[j].score) > 1e-4f * std::max(1.0f, b[j].score)) {
              std::cerr << "score mismatch in query " << i << "\n";
              return 1;
            }
            equal = a[j].id == b[j].id;
          }
          same += equal;
        }
      }
    }
    const double n = static_cast<double>(terms.size());
    std::printf("| %s | MaxScore | %.3f | %.3f | %.0f | %zu/%zu |\n", label, percentile(pruned_ms, 0.5),
                percentile(pruned_ms, 0.99), pruned_postings / n, same, terms.size());
    std::printf("| %s | exhaustive | %.3f | %.3f | %.0f | |\n", label, percentile(full_ms, 0.5),
                percentile(full_ms, 0.99), full_postings / n);
    std::printf("| %s | Collection::search (MaxScore, ids and titles) | %.3f | %.3f | | |\n", label,
                percentile(api_ms, 0.5), percentile(api_ms, 0.99));
  }
  return 0;
}
