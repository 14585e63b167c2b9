// simile eval: search quality on a BEIR-format folder. Builds (or brings up
// to date) a collection from its corpus, runs every query in each of the
// modes asked for, and scores each run against the judgments with trec_eval
// semantics (eval/ir_eval.h): one table, one row per mode, the corpus indexed
// once.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "cli/cli.h"
#include "cli/embedder_flags.h"
#include "cli/progress.h"
#include "cli/search_flags.h"
#include "cli/stop_signals.h"
#include "eval/ir_eval.h"
#include "simile/collection.h"

namespace simile::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kModeHelp =
    "comma-separated modes to compare: dense, bm25, tfidf, bow, hybrid (fusion from --fusion etc.), "
    "hybrid-rrf[-K] (RRF with constant K, default --rrf-k), "
    "hybrid-weighted[-minmax|-zscore][-W] (normalised scores, dense weight W, defaults --normalize-scores "
    "and --weight), auto (hybrid with a model, else bm25); default: dense,bm25,hybrid-rrf,hybrid-weighted "
    "for a collection with a model, bm25 for a keyword-only one; --center adds MODE+center rows, --rerank "
    "MODE+rerank rows";

// The score as the run file holds it (write_trec_run prints %.6f), so that the
// metrics are exactly those of the file, ties made by the rounding included:
// RRF scores, sums of 1 / (60 + rank), meet within 1e-6 now and then.
double as_written(double score) {
  char text[400];  // %.6f of the largest double takes 316 bytes
  std::snprintf(text, sizeof(text), "%.6f", score);
  return std::strtod(text, nullptr);
}

// One row of the comparison: a mode, its fusion fixed, maybe re-ranked.
struct EvalRow {
  std::string name;  // as printed, in the JSON and in run file names
  SearchOptions options;
};

// "eval-" and the folder's name, reduced to the characters collection names allow.
std::string default_collection(const std::string& dir) {
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::string name = "eval-";
  for (char c : base)
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return name.substr(0, 64);
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  const size_t i = std::min(xs.size() - 1, static_cast<size_t>(p * static_cast<double>(xs.size())));
  return xs[i];
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

bool parse_number(const std::string& s, double* out) {
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return false;
  errno = 0;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size();
}

// The options of one mode name (kModeHelp), over `base` (the flags' values).
// Throws UsageError naming what is wrong.
SearchOptions parse_eval_mode(const std::string& name, const SearchOptions& base) {
  SearchOptions o = base;
  const auto bad = [&name](const std::string& why) {
    return UsageError("--mode: '" + name + "' " + why +
                      " (use dense, bm25, tfidf, bow, hybrid, hybrid-rrf[-K], "
                      "hybrid-weighted[-minmax|-zscore][-W] or auto)");
  };
  const std::vector<std::string> parts = split(name, '-');
  if (parts.empty() || parts[0].empty()) throw bad("is empty");
  if (parts[0] != "hybrid") {
    const auto mode = parse_search_mode(name);
    if (!mode.is_ok()) throw bad("is not a mode");
    o.mode = *mode;
    return o;
  }
  o.mode = SearchMode::kHybrid;
  if (parts.size() == 1) return o;
  if (parts[1] == "rrf") {
    o.fusion.method = Fusion::Method::kRrf;
    if (parts.size() > 3) throw bad("has too many parts");
    if (parts.size() == 3 && !parse_number(parts[2], &o.fusion.rrf_k))
      throw bad("ends in '" + parts[2] + "', not an RRF constant");
    return o;
  }
  if (parts[1] != "weighted") throw bad("names no fusion: rrf or weighted");
  o.fusion.method = Fusion::Method::kWeighted;
  size_t i = 2;
  if (i < parts.size() && (parts[i] == "minmax" || parts[i] == "zscore")) {
    o.fusion.normalization = take(parse_normalization(parts[i]));
    ++i;
  }
  if (i < parts.size()) {
    if (!parse_number(parts[i], &o.fusion.dense_weight) || o.fusion.dense_weight > 1)
      throw bad("ends in '" + parts[i] + "', not a dense weight between 0 and 1");
    ++i;
  }
  if (i != parts.size()) throw bad("has too many parts");
  return o;
}

// FILE with the row's name before its extension: run.trec -> run.bm25.trec.
std::string run_path(const std::string& file, const std::string& row) {
  fs::path p(file);
  const std::string ext = p.extension().string();
  p.replace_filename(p.stem().string() + "." + row + ext);
  return p.string();
}

// What one row measured.
struct RowResult {
  eval::EvalReport report;
  std::vector<double> ms;                              // per query
  std::vector<std::pair<std::string, double>> stages;  // mean ms per stage, in pipeline order
  std::string run_file;
  // Centred rows: how much centering moved each query's top k, summed.
  size_t centered_queries = 0;
  double shared_fraction = 0, footrule = 0;
};

nlohmann::json row_json(const EvalRow& row, const RowResult& r, bool per_query) {
  nlohmann::json j = eval::report_to_json(r.report, per_query);
  j["mode"] = row.name;
  const SearchOptions& o = row.options;
  if (o.mode == SearchMode::kHybrid) {
    if (o.fusion.method == Fusion::Method::kRrf)
      j["fusion"] = {{"method", "rrf"}, {"rrf_k", o.fusion.rrf_k}};
    else
      j["fusion"] = {{"method", "weighted"},
                     {"normalization", normalization_name(o.fusion.normalization)},
                     {"dense_weight", o.fusion.dense_weight}};
  }
  if (!o.rerank.empty())
    j["rerank"] = {{"model", o.rerank}, {"top", o.rerank_top != 0 ? o.rerank_top : std::max<size_t>(o.k, 50)}};
  double total = 0;
  for (double x : r.ms) total += x;
  const double mean = r.ms.empty() ? 0 : total / static_cast<double>(r.ms.size());
  j["query_ms"] = {{"mean", mean}, {"p50", percentile(r.ms, 0.5)}, {"p99", percentile(r.ms, 0.99)}};
  nlohmann::json stages = nlohmann::json::object();
  for (const auto& [stage, ms] : r.stages) stages[stage] = ms;
  j["stage_ms"] = stages;
  if (!r.run_file.empty()) j["run"] = r.run_file;
  if (r.centered_queries != 0)
    j["centering"] = {{"shared_fraction", r.shared_fraction / static_cast<double>(r.centered_queries)},
                      {"footrule", r.footrule / static_cast<double>(r.centered_queries)}};
  return j;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Flags {
    std::string db, beir, collection, run, split = "test", modes;
    EmbedderFlags model;
    SearchFlags ranking;
    CollectionSettings settings;
    size_t k = 100;
    bool json = false, per_query = false, quiet = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "measure search quality on a BEIR folder (nDCG@10, MRR@10, MAP@100, Recall@10/100), mode by mode");
  cmd->add_option("--beir", f->beir, "folder with corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--split", f->split, "qrels file to judge by: qrels/SPLIT.tsv")->capture_default_str();
  cmd->add_option("--collection", f->collection,
                  "collection to build or reuse (default: eval-FOLDERNAME, eval-FOLDERNAME-int8 with --dtype int8)");
  cmd->add_option("--db", f->db, "collection database file (default: $SIMILE_HOME/simile.db or the XDG data dir)");
  f->model.add_to(cmd);  // --model none: a keyword-only collection
  cmd->add_option("--analyzer", f->settings.analyzer, "new collection: keyword analyzer (docs/analyzers.md)");
  cmd->add_option("--mode", f->modes, kModeHelp);
  f->ranking.add_to(cmd, /*with_mode=*/false);
  cmd->add_option("-k,--k", f->k, "results per query")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--run", f->run,
                  "also write the TREC run file here; with several modes (or --rerank) one file per mode, "
                  "its name before the extension: run.trec -> run.bm25.trec, run.bm25+rerank.trec");
  cmd->add_flag("--per-query", f->per_query, "JSON: also every query's metrics");
  cmd->add_flag("--json", f->json, "print JSON");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress bar");
  cmd->callback([f] {
    // Everything the command line can get wrong, before the corpus is indexed.
    SearchOptions base;
    base.k = f->k;
    base.snippets = false;
    f->ranking.apply(base);
    base.mode = SearchMode::kAuto;
    // --center adds a centred row beside each dense or hybrid one.
    const bool centering = base.center;
    base.center = false;
    const bool reranking = !base.rerank.empty();
    if (reranking) {
      const size_t top = base.rerank_top != 0 ? base.rerank_top : std::max<size_t>(base.k, 50);
      if (top < base.k)
        throw UsageError(
            fmt::format("--rerank-top {} is less than -k {}: the results are the re-ranked "
                        "candidates, so re-rank at least k (or lower -k)",
                        top, base.k));
    } else if (base.rerank_top != 0) {
      throw UsageError("--rerank-top needs --rerank MODEL");
    }
    std::vector<std::string> names;
    if (!f->modes.empty()) {
      names = split(f->modes, ',');
      std::set<std::string> seen;
      for (const std::string& n : names) {
        parse_eval_mode(n, base);
        if (!seen.insert(n).second) throw UsageError("--mode: '" + n + "' is listed twice");
      }
    }

    const fs::path dir(f->beir);
    const std::string corpus = (dir / "corpus.jsonl").string();
    if (!fs::is_regular_file(corpus)) throw CliError(f->beir + " has no corpus.jsonl (not a BEIR folder?)");
    const auto queries = take(eval::read_beir_queries((dir / "queries.jsonl").string()));
    const auto qrels = take(eval::read_qrels(take(eval::beir_qrels_path(f->beir, f->split))));

    StopSignals signals;  // before the model starts worker threads
    EmbedderOptions runtime = f->model.to_options();
    f->settings.model = runtime.model;
    auto db = take(Database::open(f->db));
    // int8 vectors are other vectors: by default they get a collection of
    // their own, so fp32 and int8 runs can alternate without re-embedding.
    std::string name = f->collection.empty() ? default_collection(f->beir) : f->collection;
    if (f->collection.empty() && runtime.dtype == InferenceDtype::kInt8) name += "-int8";
    auto collection = take(db->open_collection(name, &f->settings, runtime));
    const bool keyword_only = collection->info().model == "none";

    IngestOptions ingest;
    ingest.format = "jsonl";
    ingest.id_field = "_id";
    ingest.on_error = OnError::kSkip;  // BEIR corpora hold empty documents; they cannot be found anyway
    std::vector<std::string> skipped;
    ingest.on_problem = [&skipped](const Status& st) { skipped.push_back(st.message()); };
    ProgressBar bar("documents", !f->quiet && !f->json);
    ingest.on_progress = [&bar](size_t done, size_t total) { bar.update(done, total); };
    ingest.should_stop = [&signals] { return signals.stop_requested(); };
    const IngestSummary indexed = take(collection->add({corpus}, ingest));
    bar.finish();
    if (indexed.interrupted) throw CliError("interrupted while indexing: run again to continue");

    if (names.empty())
      names = keyword_only ? std::vector<std::string>{"bm25"}
                           : std::vector<std::string>{"dense", "bm25", "hybrid-rrf", "hybrid-weighted"};
    std::vector<EvalRow> rows;
    for (const std::string& n : names) {
      SearchOptions o = parse_eval_mode(n, base);
      if (o.mode == SearchMode::kAuto) o.mode = keyword_only ? SearchMode::kBm25 : SearchMode::kHybrid;
      if (keyword_only && (o.mode == SearchMode::kDense || o.mode == SearchMode::kHybrid))
        throw CliError("--mode " + n + ": collection '" + name +
                       "' is keyword-only (--model none); dense and hybrid modes need vectors");
      SearchOptions plain = o;
      plain.rerank.clear();
      plain.rerank_top = 0;
      rows.push_back({n, plain});
      if (centering && (o.mode == SearchMode::kDense || o.mode == SearchMode::kHybrid)) {
        SearchOptions centred = plain;
        centred.center = true;
        rows.push_back({n + "+center", centred});
      }
      if (reranking) rows.push_back({n + "+rerank", o});
    }

    std::vector<RowResult> results;
    for (const EvalRow& row : rows) {
      RowResult r;
      // One untimed query first: it loads the indexes and models, which every later query reuses.
      if (!queries.empty()) take(collection->search(queries.front().text, row.options));
      eval::Run run;
      r.ms.reserve(queries.size());
      ProgressBar qbar(row.name + " queries", !f->quiet && !f->json);
      for (const eval::BeirQuery& q : queries) {
        if (signals.stop_requested()) throw CliError("interrupted");
        SearchReport report;
        const auto t0 = std::chrono::steady_clock::now();
        auto hits = take(collection->search(q.text, row.options, &report));
        r.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (report.centering && report.centering->compared != 0) {
          ++r.centered_queries;
          r.shared_fraction +=
              static_cast<double>(report.centering->shared) / static_cast<double>(report.centering->compared);
          r.footrule += report.centering->footrule;
        }
        for (const SearchReport::Stage& s : report.stages) {
          auto it = std::find_if(r.stages.begin(), r.stages.end(), [&s](const auto& p) { return p.first == s.name; });
          if (it == r.stages.end())
            r.stages.emplace_back(s.name, s.ms);
          else
            it->second += s.ms;
        }
        // evaluate() orders by score: every mode's final score falls in the returned order.
        auto& ranked = run.queries[q.id];
        for (size_t i = 0; i < hits.size(); ++i)
          ranked.push_back({hits[i].id, as_written(hits[i].score), static_cast<int>(i + 1)});
        qbar.update(r.ms.size(), queries.size());
      }
      qbar.finish();
      for (auto& [stage, ms] : r.stages) ms /= static_cast<double>(std::max<size_t>(queries.size(), 1));
      if (!f->run.empty()) {
        r.run_file = rows.size() == 1 ? f->run : run_path(f->run, row.name);
        check(eval::write_trec_run(r.run_file, run, "simile-" + row.name));
      }
      r.report = eval::evaluate(qrels, run);
      results.push_back(std::move(r));
    }

    const eval::EvalReport& first = results.front().report;
    if (f->json) {
      nlohmann::json j;
      if (rows.size() == 1) j = row_json(rows[0], results[0], f->per_query);  // the one-mode fields, as before
      j["collection"] = name;
      j["model"] = collection->info().model;
      j["k"] = f->k;
      j["documents"] = {{"added", indexed.added},
                        {"updated", indexed.updated},
                        {"unchanged", indexed.unchanged},
                        {"skipped", indexed.failed},
                        {"seconds", indexed.seconds}};
      j["queries"] = queries.size();
      nlohmann::json& modes = j["modes"] = nlohmann::json::array();
      for (size_t i = 0; i < rows.size(); ++i) modes.push_back(row_json(rows[i], results[i], f->per_query));
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << fmt::format("{} ({} documents indexed, {} unchanged, {} skipped in {:.2f}s), model {}, k {}\n", name,
                             indexed.added + indexed.updated, indexed.unchanged, indexed.failed, indexed.seconds,
                             collection->info().model, f->k);
    std::cout << fmt::format("{} queries evaluated ({} without relevant documents skipped, {} judged but not run)\n\n",
                             first.queries_evaluated, first.queries_without_relevant, first.queries_missing_from_run);
    size_t width = 4;
    for (const EvalRow& row : rows) width = std::max(width, row.name.size());
    std::cout << fmt::format("{:<{}}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>9}  {:>9}\n", "mode", width, "nDCG@10",
                             "MRR@10", "MAP@100", "R@10", "R@100", "ms/query", "p99 ms");
    for (size_t i = 0; i < rows.size(); ++i) {
      const eval::Metrics& m = results[i].report.mean;
      const std::vector<double>& ms = results[i].ms;
      double total = 0;
      for (double x : ms) total += x;
      std::cout << fmt::format("{:<{}}  {:>7.4f}  {:>7.4f}  {:>7.4f}  {:>7.4f}  {:>7.4f}  {:>9.3f}  {:>9.3f}\n",
                               rows[i].name, width, m.ndcg10, m.mrr10, m.map100, m.recall10, m.recall100,
                               ms.empty() ? 0 : total / static_cast<double>(ms.size()), percentile(ms, 0.99));
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const RowResult& r = results[i];
      if (r.centered_queries == 0) continue;
      const double n = static_cast<double>(r.centered_queries);
      std::cout << fmt::format("{}: {:.1f}% of each query's uncentred top {} kept, mean rank change {:.2f}\n",
                               rows[i].name, 100 * r.shared_fraction / n, f->k, r.footrule / n);
    }
    if (!f->run.empty()) {
      std::cout << "\nrun" << (rows.size() == 1 ? "" : "s") << " written to";
      for (const RowResult& r : results) std::cout << " " << r.run_file;
      std::cout << "\n";
    }
  });
}

}  // namespace simile::cli
