// simile add | delete | search | similar | related | reembed | collections:
// documents in a collection database.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/cli.h"
#include "cli/db_flag.h"
#include "cli/embedder_flags.h"
#include "cli/hit_output.h"
#include "cli/progress.h"
#include "cli/search_flags.h"
#include "cli/stop_signals.h"
#include "simile/collection.h"

namespace simile::cli {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

nlohmann::json info_json(const CollectionInfo& c) {
  return {{"name", c.name},
          {"model", c.model},
          {"model_fingerprint", c.model_fingerprint},
          {"dtype", c.model_fingerprint.empty() ? "" : to_string(fingerprint_dtype(c.model_fingerprint))},
          {"dims", c.dims},
          {"pooling", c.pooling},
          {"normalize", c.normalize},
          {"metric", c.metric},
          {"vector_type", c.vector_type},
          {"chunk_tokens", c.chunk_tokens},
          {"overlap_tokens", c.overlap_tokens},
          {"query_prompt", c.query_prompt},
          {"document_prompt", c.document_prompt},
          {"related_k", c.related_k},
          {"analyzer", nlohmann::json::parse(c.analyzer.empty() ? "null" : c.analyzer, nullptr, false)},
          {"remote", nlohmann::json::parse(c.remote.empty() ? "null" : c.remote, nullptr, false)},
          {"created_at", c.created_at},
          {"documents", c.documents},
          {"chunks", c.chunks}};
}

// JSON has no NaN: a statistic without a background is null.
nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json background_json(const ScoreBackground& b) {
  nlohmann::json percentiles = nlohmann::json::array();
  for (float p : b.percentiles) percentiles.push_back(p);
  return {{"pairs", b.pairs},
          {"mean", number_or_null(b.mean)},
          {"stddev", number_or_null(b.stddev)},
          {"centered", b.centered},
          {"percentiles", percentiles}};
}

// "20000 random chunk pairs, mean 0.0830, sd 0.0610, p50 0.0700, p90 0.1600, p99 0.2700"
std::string background_line(const ScoreBackground& b) {
  if (b.percentiles.size() != 101)
    return fmt::format("{} chunk pairs of different documents: too few for a background", b.pairs);
  return fmt::format("{} chunk pairs of different documents, mean {:.4f}, sd {:.4f}, p50 {:.4f}, p90 {:.4f}, "
                     "p99 {:.4f}",
                     b.pairs, b.mean, b.stddev, b.percentiles[50], b.percentiles[90], b.percentiles[99]);
}

nlohmann::json summary_json(const IngestSummary& s) {
  return {{"added", s.added},     {"updated", s.updated}, {"unchanged", s.unchanged},
          {"failed", s.failed},   {"chunks", s.chunks},   {"tokens", s.tokens},
          {"seconds", s.seconds}, {"interrupted", s.interrupted}};
}

// Draws a bar while the command builds or catches up the collection's HNSW
// graph (a search or write may have to: docs/vector-index.md).
std::unique_ptr<ProgressBar> show_index_progress(Collection& collection, bool enabled = true) {
  auto bar = std::make_unique<ProgressBar>("chunks indexed", enabled);
  collection.set_index_progress([b = bar.get()](size_t done, size_t total) { b->update(done, total); });
  return bar;
}

void add_add(CLI::App& app) {
  struct Flags {
    DbFlag db;
    EmbedderFlags model;
    std::string collection;
    std::vector<std::string> inputs;
    CollectionSettings settings;
    std::string query_prompt, document_prompt;
    IngestOptions ingest;
    std::string meta_fields, on_error = "fail";
    bool json = false, quiet = false, events = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("add", "add files, directories or stdin to a collection (created if missing)");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("inputs", f->inputs, "files, directories, or - for stdin (default: stdin)");
  f->db.add_to(cmd);
  f->model.add_to(cmd);  // --model none: a keyword-only collection
  cmd->add_option("--metric", f->settings.metric, "new collection: cosine, dot or l2")->capture_default_str();
  cmd->add_option("--vector-type", f->settings.vector_type, "new collection: f32, f16 or int8")
      ->capture_default_str();
  cmd->add_option("--chunk-tokens", f->settings.chunk_tokens, "new collection: tokens per chunk (default: the model's)");
  cmd->add_option("--overlap", f->settings.overlap_tokens, "new collection: tokens shared by neighbouring chunks");
  cmd->add_option("--query-prompt", f->query_prompt, "new collection: text prepended to queries");
  cmd->add_option("--document-prompt", f->document_prompt, "new collection: text prepended to documents");
  cmd->add_option("--analyzer", f->settings.analyzer,
                  "new collection: keyword analyzer, e.g. default, english, simple, german, "
                  "'english,cjk=bigram+unigram' (docs/analyzers.md)");
  cmd->add_option("--format", f->ingest.format, "input format: txt, md, html, json, jsonl, csv, lines (default: by extension; stdin: lines)");
  cmd->add_option("--id-field", f->ingest.id_field, "json/jsonl/csv: field holding the document id");
  cmd->add_option("--text-field", f->ingest.text_field, "json/jsonl/csv: field holding the text")->capture_default_str();
  cmd->add_option("--title-field", f->ingest.title_field, "json/jsonl/csv: field holding the title")->capture_default_str();
  cmd->add_option("--meta-fields", f->meta_fields, "json/jsonl/csv: comma-separated metadata fields (default: all others)");
  cmd->add_flag("--follow-symlinks", f->ingest.follow_symlinks,
                "directories: follow symbolic links that lead out of the directory (default: report and skip them)");
  cmd->add_option("--on-error", f->on_error, "bad input items: skip (report and go on) or fail (stop)")
      ->check(CLI::IsMember({"skip", "fail"}))
      ->capture_default_str();
  cmd->add_option("--commit-every", f->ingest.commit_chunks, "chunks embedded and committed together")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", f->json, "print a JSON summary");
  cmd->add_flag("--events", f->events, "print a JSON line for each commit and each problem (for scripts)");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress bar or problem lines");
  cmd->callback([f] {
    if (!f->query_prompt.empty()) f->settings.query_prompt = f->query_prompt;
    if (!f->document_prompt.empty()) f->settings.document_prompt = f->document_prompt;
    EmbedderOptions runtime = f->model.to_options();
    f->settings.model = runtime.model;
    StopSignals signals;  // before the model starts worker threads
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, &f->settings, runtime));
    const auto index_bar = show_index_progress(*collection, !f->quiet);
    std::vector<std::string> inputs = f->inputs;
    if (inputs.empty()) {
      if (isatty(STDIN_FILENO) == 1) throw CliError("nothing to add: give files or directories, or - for stdin");
      inputs.push_back("-");
    }
    IngestOptions options = f->ingest;
    options.meta_fields = split_list(f->meta_fields);
    options.on_error = f->on_error == "skip" ? OnError::kSkip : OnError::kFail;
    ProgressBar bar("documents", !f->quiet && !f->events);
    options.on_progress = [&bar](size_t done, size_t total) { bar.update(done, total); };
    options.on_commit = [f](const std::vector<std::string>& ids) {
      if (f->events) std::cout << nlohmann::json({{"event", "commit"}, {"ids", ids}}).dump() << std::endl;
    };
    options.on_problem = [f, &bar](const Status& st) {
      if (f->events) {
        std::cout << nlohmann::json({{"event", "problem"}, {"message", st.message()}}).dump() << std::endl;
      } else if (!f->quiet && f->on_error == "skip") {  // under fail, the error ends the command below
        bar.finish();
        std::cerr << "simile: skipped: " << st.message() << "\n";
      }
    };
    options.should_stop = [&signals] { return signals.stop_requested(); };
    auto summary = collection->add(inputs, options);
    bar.finish();
    if (!summary.is_ok()) {
      const bool bad_item = summary.status().code() == Status::Code::kInvalidArgument;
      throw CliError(summary.status().message() +
                     (bad_item ? "\n(documents read before it are stored; --on-error skip goes on past bad items)" : ""));
    }
    const IngestSummary& s = *summary;
    if (f->json) {
      nlohmann::json j = summary_json(s);
      j["collection"] = f->collection;
      std::cout << j.dump() << "\n";
    } else if (!f->quiet) {
      std::cerr << fmt::format("{}: {} added, {} updated, {} unchanged, {} failed; {} chunks in {:.1f}s{}\n",
                               f->collection, s.added, s.updated, s.unchanged, s.failed, s.chunks, s.seconds,
                               s.interrupted ? " (interrupted: run again to continue)" : "");
    }
    if (s.interrupted) throw CliError("interrupted");
  });
}

void add_delete(CLI::App& app) {
  struct Flags {
    DbFlag db;
    std::string collection;
    std::vector<std::string> ids;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("delete", "delete documents by id");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("ids", f->ids, "document ids")->required();
  f->db.add_to(cmd);
  cmd->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    size_t n = take(collection->remove(f->ids));
    std::cerr << fmt::format("{}: deleted {} of {} documents\n", f->collection, n, f->ids.size());
  });
}

void add_search(CLI::App& app) {
  struct Flags {
    DbFlag db;
    std::string collection, query;
    SearchOptions search;
    SearchFlags ranking;
    bool json = false;
    int threads = 0;
    std::string dtype;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "search", "find the documents that answer a query: by meaning, keywords or both, optionally re-ranked");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("query", f->query, "what to look for")->required();
  cmd->add_option("-k,--k", f->search.k, "results to return")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--filter", f->search.filter, "metadata filter, e.g. 'year >= 2000 AND lang = \"en\"'");
  f->ranking.add_to(cmd);
  cmd->add_flag("--explain", f->search.explain,
                "show each stage's rank and score and each query term's part of the keyword score");
  cmd->add_option("--threads", f->threads, "threads to use (default: all cores)");
  cmd->add_option("--dtype", f->dtype,
                  "inference precision of the query: fp32 or int8 (default and only choice: the collection's)");
  cmd->add_flag("--json", f->json, "print JSON: the results with every stage's scores, and each stage's time");
  f->db.add_to(cmd);
  cmd->callback([f] {
    auto db = f->db.open();
    EmbedderOptions runtime;
    runtime.threads = f->threads;
    if (!f->dtype.empty()) runtime.dtype = take(parse_inference_dtype(f->dtype));
    auto collection = take(db->open_collection(f->collection, nullptr, runtime));
    const auto index_bar = show_index_progress(*collection);
    SearchOptions options = f->search;
    f->ranking.apply(options);
    SearchReport report;
    auto hits = take(collection->search(f->query, options, &report));
    print_search(f->query, hits, report, f->json, collection->info().metric == "l2");
  });
}

void add_similar(CLI::App& app) {
  struct Flags {
    DbFlag db;
    std::string collection, id;
    SearchOptions search;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("similar", "the documents most similar to a stored document");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("id", f->id, "document id")->required();
  cmd->add_option("-k,--k", f->search.k, "results to return")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--filter", f->search.filter, "metadata filter");
  cmd->add_flag("--json", f->json, "print JSON");
  f->db.add_to(cmd);
  cmd->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    print_hits(take(collection->similar(f->id, f->search)), f->json, collection->info().metric == "l2");
  });
}

void add_related(CLI::App& app) {
  struct Flags {
    DbFlag db;
    std::string collection, show;
    size_t k = 10;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "related", "compute and store every document's related documents (kept current on later changes)");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("-k,--k", f->k, "related documents per document (0 = stop keeping them)")->capture_default_str();
  cmd->add_option("--show", f->show, "print the stored list of this document instead");
  cmd->add_flag("--json", f->json, "print JSON");
  f->db.add_to(cmd);
  cmd->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    if (!f->show.empty()) {
      print_hits(take(collection->related(f->show)), f->json, collection->info().metric == "l2");
      return;
    }
    RelatedSummary s = take(collection->update_related(f->k));
    if (f->json)
      std::cout << nlohmann::json({{"collection", f->collection}, {"k", f->k}, {"documents", s.documents},
                                   {"seconds", s.seconds}})
                       .dump()
                << "\n";
    else
      std::cerr << fmt::format("{}: related lists of {} documents computed in {:.2f}s (table related_documents in {})\n",
                               f->collection, s.documents, s.seconds, db->path());
  });
}

void add_reembed(CLI::App& app) {
  struct Flags {
    DbFlag db;
    EmbedderFlags model;
    std::string collection;
    bool json = false, quiet = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("reembed", "re-chunk and re-embed a whole collection with another model");
  cmd->add_option("collection", f->collection, "collection name")->required();
  f->model.add_to(cmd);
  f->db.add_to(cmd);
  cmd->add_flag("--json", f->json, "print a JSON summary");
  cmd->add_flag("-q,--quiet", f->quiet, "no progress bar");
  cmd->callback([f] {
    StopSignals signals;  // before the model starts worker threads
    auto db = f->db.open();
    EmbedderOptions target = f->model.to_options();
    EmbedderOptions current = target;
    current.dtype.reset();  // the collection's own: --dtype is the target's
    auto collection = take(db->open_collection(f->collection, nullptr, current));
    IngestOptions options;
    ProgressBar bar("documents", !f->quiet);
    options.on_progress = [&bar](size_t done, size_t total) { bar.update(done, total); };
    options.should_stop = [&signals] { return signals.stop_requested(); };
    IngestSummary s = take(collection->reembed(target, options));
    bar.finish();
    if (f->json)
      std::cout << summary_json(s).dump() << "\n";
    else if (!f->quiet)
      std::cerr << fmt::format("{}: {} documents re-embedded ({} chunks) in {:.1f}s\n", f->collection,
                               s.added + s.updated + s.unchanged, s.chunks, s.seconds);
    if (s.interrupted) throw CliError("interrupted: run the same command again to continue");
  });
}

void add_collections(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("collections", "list, show or drop collections");
  cmd->require_subcommand(1);
  auto db = std::make_shared<DbFlag>();
  auto json = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "the collections in the database");
  db->add_to(list);
  list->add_flag("--json", *json, "print JSON");
  list->callback([db, json] {
    auto d = db->open();
    auto all = take(d->list());
    if (*json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& c : all) arr.push_back(info_json(c));
      std::cout << arr.dump(2) << "\n";
      return;
    }
    if (all.empty()) {
      std::cout << "no collections in " << d->path() << " (try: simile add NAME FILES...)\n";
      return;
    }
    std::cout << fmt::format("{:<24} {:>9} {:>9} {:<24} {:>5} {:<6} {:<5}\n", "NAME", "DOCUMENTS", "CHUNKS", "MODEL",
                             "DIMS", "METRIC", "TYPE");
    for (const auto& c : all)
      std::cout << fmt::format("{:<24} {:>9} {:>9} {:<24} {:>5} {:<6} {:<5}\n", c.name, c.documents, c.chunks, c.model,
                               c.dims, c.metric, c.vector_type);
  });
  auto name = std::make_shared<std::string>();
  CLI::App* info = cmd->add_subcommand("info", "settings and size of a collection");
  info->add_option("name", *name, "collection name")->required();
  db->add_to(info);
  info->add_flag("--json", *json, "print JSON");
  info->callback([db, name, json] {
    auto d = db->open();
    CollectionInfo c = take(d->info(*name));
    nlohmann::json j = info_json(c);
    // The score backgrounds need the collection's vectors (and so its model):
    // shown when it opens, as null with the reason on stderr when it does not.
    std::optional<ScoreBackground> plain, centered;
    if (c.model != "none") {
      auto opened = d->open_collection(*name, nullptr);
      Result<ScoreBackground> b = opened.is_ok() ? (*opened)->score_background(false)
                                                 : Result<ScoreBackground>(opened.status());
      if (b.is_ok()) {
        plain = std::move(b).value();
        if (c.metric != "l2") centered = take((*opened)->score_background(true));
      } else {
        std::cerr << "simile: no score background: " << b.status().message() << "\n";
      }
      j["background"] = plain ? background_json(*plain) : nlohmann::json(nullptr);
      j["centered_background"] = centered ? background_json(*centered) : nlohmann::json(nullptr);
    }
    if (*json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (const auto& [key, value] : j.items()) {
      if (key == "background" || key == "centered_background") continue;
      std::cout << fmt::format("{:<18} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    std::cout << fmt::format("{:<18} {}\n", "database", d->path());
    if (plain) std::cout << fmt::format("{:<18} {}\n", "background", background_line(*plain));
    if (centered) std::cout << fmt::format("{:<18} {}\n", "centred background", background_line(*centered));
  });
  CLI::App* drop = cmd->add_subcommand("drop", "delete a collection and everything in it");
  drop->add_option("name", *name, "collection name")->required();
  db->add_to(drop);
  drop->callback([db, name] {
    auto d = db->open();
    check(d->drop(*name));
    std::cerr << "dropped collection " << *name << "\n";
  });
}

nlohmann::json keyword_info_json(const std::string& collection, const KeywordIndexInfo& k) {
  return {{"collection", collection},       {"analyzer", k.analyzer}, {"documents", k.documents},
          {"terms", k.terms},               {"postings", k.postings}, {"segments", k.segments},
          {"average_length", k.average_length}};
}

void print_keyword_info(const std::string& collection, const KeywordIndexInfo& k, bool json) {
  if (json) {
    std::cout << keyword_info_json(collection, k).dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("keyword index of {}\n  analyzer        {}\n  documents       {}\n  terms           {}\n"
                           "  postings        {}\n  segments        {}\n  average length  {:.1f} terms\n",
                           collection, k.analyzer, k.documents, k.terms, k.postings, k.segments, k.average_length);
}

nlohmann::json vector_info_json(const VectorIndexInfo& v) {
  nlohmann::json j = {{"active", v.active},
                      {"chunks", v.chunks},
                      {"store_generation", v.store_generation},
                      {"settings",
                       {{"kind", v.settings.kind},
                        {"threshold", v.settings.threshold},
                        {"M", v.settings.M},
                        {"ef_construction", v.settings.ef_construction},
                        {"ef_search", v.settings.ef_search}}}};
  if (v.active == "hnsw") {
    j["path"] = v.path;
    j["load"] = v.load;
    j["load_seconds"] = v.load_seconds;
    j["nodes"] = v.nodes;
    j["tombstones"] = v.tombstones;
    j["max_level"] = v.max_level;
    j["memory_bytes"] = v.memory_bytes;
    j["file_bytes"] = v.file_bytes;
  }
  return j;
}

void print_vector_info(const std::string& collection, const VectorIndexInfo& v) {
  const VectorIndexSettings& s = v.settings;
  const std::string kind = s.kind == "auto" ? fmt::format("auto (hnsw from {} chunks)", s.threshold) : s.kind;
  std::cout << fmt::format("vector index of {}\n  kind            {}\n  active          {} over {} chunks\n", collection,
                           kind, v.active, v.chunks);
  std::cout << fmt::format("  hnsw settings   M {}, ef-construction {}, ef-search {}\n", s.M, s.ef_construction,
                           s.ef_search);
  if (v.active != "hnsw") return;
  std::cout << fmt::format("  file            {} ({:.1f} MB)\n  loaded          {} in {:.2f} s\n", v.path,
                           static_cast<double>(v.file_bytes) / 1e6, v.load, v.load_seconds);
  std::cout << fmt::format("  graph           {} nodes, {} tombstones, top level {}, {:.1f} MB in memory\n", v.nodes,
                           v.tombstones, v.max_level, static_cast<double>(v.memory_bytes) / 1e6);
}

void add_index(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("index", "show, build or rebuild a collection's vector and keyword indexes");
  cmd->require_subcommand(1);
  struct Flags {
    DbFlag db;
    std::string collection, analyzer, kind;
    std::optional<size_t> threshold, m, ef_construction, ef_search;
    int threads = 0;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* info = cmd->add_subcommand("info", "the vector index (exact or HNSW) and the keyword index");
  info->add_option("collection", f->collection, "collection name")->required();
  f->db.add_to(info);
  info->add_flag("--json", f->json, "print JSON");
  info->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    const KeywordIndexInfo keyword = take(collection->keyword_index_info());
    std::optional<VectorIndexInfo> vector;
    if (collection->embedder() != nullptr) vector = take(collection->vector_index_info());
    if (f->json) {
      nlohmann::json j = keyword_info_json(f->collection, keyword);
      if (vector) j["vector"] = vector_info_json(*vector);
      std::cout << j.dump(2) << "\n";
      return;
    }
    if (vector) print_vector_info(f->collection, *vector);
    print_keyword_info(f->collection, keyword, false);
  });
  CLI::App* build = cmd->add_subcommand(
      "build", "choose exact or HNSW search and (re)build the HNSW graph from the stored vectors");
  build->add_option("collection", f->collection, "collection name")->required();
  build->add_option("--kind", f->kind, "auto (HNSW from --threshold chunks on), flat (exact) or hnsw; default: keep")
      ->check(CLI::IsMember({"auto", "flat", "hnsw"}));
  build->add_option("--threshold", f->threshold, "auto: chunks from which HNSW is used (default 100000)");
  build->add_option("--M", f->m, "HNSW links per node (default 16)")->check(CLI::Range(2, 256));
  build->add_option("--ef-construction", f->ef_construction, "HNSW build beam width (default 200)")
      ->check(CLI::Range(1, 100000));
  build->add_option("--ef-search", f->ef_search, "HNSW search beam width (default 128)")->check(CLI::Range(1, 100000));
  build->add_option("--threads", f->threads, "build threads (default: all cores)")->check(CLI::Range(0, 1024));
  f->db.add_to(build);
  build->add_flag("--json", f->json, "print JSON");
  build->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    if (collection->embedder() == nullptr)
      throw CliError("collection " + f->collection + " has no vectors (a keyword-only collection); nothing to build");
    // Only the settings: loading the index here could build a graph that the
    // new settings replace at once.
    VectorIndexSettings s = take(collection->vector_index_settings());
    if (!f->kind.empty()) s.kind = f->kind;
    if (f->threshold) s.threshold = *f->threshold;
    if (f->m) s.M = *f->m;
    if (f->ef_construction) s.ef_construction = *f->ef_construction;
    if (f->ef_search) s.ef_search = *f->ef_search;
    const VectorIndexInfo v = take(collection->build_vector_index(s, f->threads));
    if (f->json) {
      std::cout << vector_info_json(v).dump(2) << "\n";
      return;
    }
    print_vector_info(f->collection, v);
  });
  CLI::App* rebuild = cmd->add_subcommand("rebuild", "rebuild the keyword index from the stored documents");
  rebuild->add_option("collection", f->collection, "collection name")->required();
  rebuild->add_option("--analyzer", f->analyzer, "switch to this analyzer (docs/analyzers.md); default: keep it");
  f->db.add_to(rebuild);
  rebuild->add_flag("--json", f->json, "print JSON");
  rebuild->callback([f] {
    auto db = f->db.open();
    auto collection = take(db->open_collection(f->collection, nullptr));
    const auto index_bar = show_index_progress(*collection);
    print_keyword_info(f->collection, take(collection->rebuild_keyword_index(f->analyzer)), f->json);
  });
}

}  // namespace

void add_collection_commands(CLI::App& app) {
  add_add(app);
  add_delete(app);
  add_search(app);
  add_similar(app);
  add_related(app);
  add_reembed(app);
  add_collections(app);
  add_index(app);
}

}  // namespace simile::cli
