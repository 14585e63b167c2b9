// simile eval: search quality on a BEIR-format folder. Builds (or brings up
// to date) a collection from its corpus, runs every query, and scores the run
// against the judgments with trec_eval semantics (eval/ir_eval.h).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

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

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Flags {
    std::string db, beir, collection, run, split = "test";
    EmbedderFlags model;
    SearchFlags ranking;
    CollectionSettings settings;
    size_t k = 100;
    bool json = false, per_query = false, quiet = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "measure search quality on a BEIR folder (nDCG@10, MRR@10, MAP@100, Recall@10/100)");
  cmd->add_option("--beir", f->beir, "folder with corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--split", f->split, "qrels file to judge by: qrels/SPLIT.tsv")->capture_default_str();
  cmd->add_option("--collection", f->collection, "collection to build or reuse (default: eval-FOLDERNAME)");
  cmd->add_option("--db", f->db, "collection database file (default: $SIMILE_HOME/simile.db or the XDG data dir)");
  f->model.add_to(cmd);  // --model none: a keyword-only collection
  cmd->add_option("--analyzer", f->settings.analyzer, "new collection: keyword analyzer (docs/analyzers.md)");
  f->ranking.add_to(cmd);
  cmd->add_option("-k,--k", f->k, "results per query")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--run", f->run, "also write the TREC run file here");
  cmd->add_flag("--per-query", f->per_query, "JSON: also every query's metrics");
  cmd->add_flag("--json", f->json, "print JSON");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress bar");
  cmd->callback([f] {
    const fs::path dir(f->beir);
    const std::string corpus = (dir / "corpus.jsonl").string();
    if (!fs::is_regular_file(corpus)) throw CliError(f->beir + " has no corpus.jsonl (not a BEIR folder?)");
    const auto queries = take(eval::read_beir_queries((dir / "queries.jsonl").string()));
    const auto qrels = take(eval::read_qrels(take(eval::beir_qrels_path(f->beir, f->split))));

    StopSignals signals;  // before the model starts worker threads
    EmbedderOptions runtime = f->model.to_options();
    f->settings.model = runtime.model;
    auto db = take(Database::open(f->db));
    const std::string name = f->collection.empty() ? default_collection(f->beir) : f->collection;
    auto collection = take(db->open_collection(name, &f->settings, runtime));

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

    SearchOptions options;
    options.k = f->k;
    options.snippets = false;
    f->ranking.apply(options);
    if (options.mode == SearchMode::kAuto)
      options.mode = collection->info().model == "none" ? SearchMode::kBm25 : SearchMode::kDense;
    // One untimed query first: it loads the index, which every later query reuses.
    if (!queries.empty()) take(collection->search(queries.front().text, options));
    eval::Run run;
    std::vector<double> ms;
    ms.reserve(queries.size());
    for (const eval::BeirQuery& q : queries) {
      if (signals.stop_requested()) throw CliError("interrupted");
      const auto t0 = std::chrono::steady_clock::now();
      auto hits = take(collection->search(q.text, options));
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      auto& ranked = run.queries[q.id];
      for (size_t i = 0; i < hits.size(); ++i) ranked.push_back({hits[i].id, hits[i].score, static_cast<int>(i + 1)});
    }
    const std::string mode = search_mode_name(options.mode);
    if (!f->run.empty()) check(eval::write_trec_run(f->run, run, "simile-" + mode));
    const eval::EvalReport report = eval::evaluate(qrels, run);
    double total_ms = 0;
    for (double x : ms) total_ms += x;
    const double mean_ms = ms.empty() ? 0 : total_ms / static_cast<double>(ms.size());

    if (f->json) {
      nlohmann::json j = eval::report_to_json(report, f->per_query);
      j["collection"] = name;
      j["model"] = collection->info().model;
      j["mode"] = mode;
      j["k"] = f->k;
      j["documents"] = {{"added", indexed.added},
                        {"updated", indexed.updated},
                        {"unchanged", indexed.unchanged},
                        {"skipped", indexed.failed},
                        {"seconds", indexed.seconds}};
      j["queries"] = queries.size();
      j["query_ms"] = {{"mean", mean_ms}, {"p50", percentile(ms, 0.5)}, {"p99", percentile(ms, 0.99)}};
      if (!f->run.empty()) j["run"] = f->run;
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << fmt::format("{} ({} documents indexed, {} unchanged, {} skipped in {:.2f}s), mode {}\n", name,
                             indexed.added + indexed.updated, indexed.unchanged, indexed.failed, indexed.seconds,
                             mode);
    const eval::Metrics& m = report.mean;
    std::cout << fmt::format("  nDCG@10  {:.4f}\n  MRR@10   {:.4f}\n  MAP@100  {:.4f}\n  R@10     {:.4f}\n"
                             "  R@100    {:.4f}\n",
                             m.ndcg10, m.mrr10, m.map100, m.recall10, m.recall100);
    std::cout << fmt::format("  {} queries evaluated ({} without relevant documents skipped, {} judged but not run); "
                             "{:.3f} ms per query (p99 {:.3f})\n",
                             report.queries_evaluated, report.queries_without_relevant,
                             report.queries_missing_from_run, mean_ms, percentile(ms, 0.99));
    if (!f->run.empty()) std::cout << "  run written to " << f->run << "\n";
  });
}

}  // namespace simile::cli
