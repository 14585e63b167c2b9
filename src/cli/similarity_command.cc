// simile similarity: the pairwise similarity matrix of texts, like
// sentence-transformers' util.cos_sim; with --collection, each score also
// placed in that collection's background distribution (percentile, z).
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "cli/embedder_flags.h"
#include "index/similarity.h"
#include "simile/collection.h"

namespace simile::cli {

namespace {

struct SimilarityArgs {
  EmbedderFlags model;
  PromptFlags prompt;
  std::string metric;  // "" = cosine, or the collection's
  bool json = false;
  bool jsonl_input = false;
  std::vector<std::string> texts;
  std::string collection, db;
  bool center = false;
};

std::string label(const std::string& text, size_t width) {
  // Cut on a UTF-8 boundary so the label stays valid text.
  if (text.size() <= width) return text;
  size_t cut = width - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

// JSON has no NaN: a value without a background is null.
nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json matrix_json(const std::vector<float>& m, size_t n) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (size_t j = 0; j < n; ++j) row.push_back(number_or_null(m[i * n + j]));
    rows.push_back(std::move(row));
  }
  return rows;
}

// A matrix under a heading, each cell formatted by `cell`.
std::string matrix_text(const std::string& heading, size_t n, const std::function<std::string(size_t)>& cell) {
  std::string out = fmt::format("{:<13}", heading);
  for (size_t j = 0; j < n; ++j) out += fmt::format("{:>8}", fmt::format("[{}]", j));
  out += "\n";
  for (size_t i = 0; i < n; ++i) {
    out += fmt::format("{:<13}", fmt::format("[{}]", i));
    for (size_t j = 0; j < n; ++j) out += fmt::format("{:>8}", cell(i * n + j));
    out += "\n";
  }
  return out;
}

// The collection a comparison is read against: its model embeds the texts and
// its background places the scores.
struct Reference {
  std::unique_ptr<Database> db;
  std::unique_ptr<Collection> collection;
  ScoreBackground background;
};

Reference open_reference(const SimilarityArgs& args) {
  Reference ref;
  ref.db = take(Database::open(args.db));
  const CollectionInfo info = take(ref.db->info(args.collection));
  if (info.model == "none")
    throw CliError("collection " + args.collection + " is keyword-only: it has no vectors to compare against");
  // The background describes this model's scores only.
  if (!args.model.model.empty() && args.model.model != info.model)
    throw CliError("collection " + args.collection + " was embedded with model " + info.model + ", not " +
                   args.model.model + ": its background says nothing about another model's scores (drop --model)");
  if (!args.model.pooling.empty() || args.model.normalize.has_value() || args.model.dimensions != 0)
    throw CliError("--collection embeds as the collection did (model " + info.model + ", " + info.pooling +
                   " pooling, " + std::to_string(info.dims) + " dimensions): drop --pooling, --normalize and "
                   "--dimensions");
  if (!args.metric.empty() && args.metric != info.metric)
    throw CliError("collection " + args.collection + " scores by " + info.metric + ", not " + args.metric +
                   (args.metric == "pearson" ? " (for centred scores use --center)" : "") + ": drop --metric");
  EmbedderOptions runtime;
  runtime.threads = args.model.threads;
  runtime.batch_size = args.model.batch;
  if (args.model.max_tokens != 0) runtime.max_tokens = args.model.max_tokens;
  ref.collection = take(ref.db->open_collection(args.collection, nullptr, runtime));
  ref.background = take(ref.collection->score_background(args.center));
  return ref;
}

void run_similarity(const SimilarityArgs& args) {
  if (args.collection.empty() && (args.center || !args.db.empty()))
    throw UsageError("--center and --db compare against a collection: give --collection NAME");
  std::vector<std::string> texts = read_texts(args.texts, args.jsonl_input);
  if (texts.size() < 2) throw CliError("similarity needs at least two texts");
  std::optional<Reference> ref;
  std::unique_ptr<Embedder> own;
  const Embedder* embedder = nullptr;
  Metric metric;
  std::string prompt;
  if (!args.collection.empty()) {
    ref = open_reference(args);
    embedder = ref->collection->embedder();
    metric = take(parse_metric(ref->collection->info().metric));
    // The texts are compared with one another, not as queries against
    // documents: no prompt unless asked for.
    if (!args.prompt.name.empty()) prompt = args.prompt.prefix(*embedder);
  } else {
    metric = take(parse_metric(args.metric.empty() ? "cosine" : args.metric));
    own = take(Embedder::open(args.model.to_options()));
    embedder = own.get();
    prompt = args.prompt.prefix(*embedder);
  }
  std::vector<float> vecs = take(embedder->embed(texts, prompt));
  const size_t n = texts.size();
  const size_t dims = embedder->dims();
  if (ref && args.center) {
    // As the collection's centred vectors: unit length first for cosine (as
    // stored), then minus the mean chunk vector.
    const std::vector<float>& center = ref->background.center;
    for (size_t i = 0; i < n; ++i) {
      float* v = vecs.data() + i * dims;
      if (metric == Metric::kCosine) {
        double norm = 0;
        for (size_t d = 0; d < dims; ++d) norm += static_cast<double>(v[d]) * v[d];
        const float scale = norm > 0 ? static_cast<float>(1 / std::sqrt(norm)) : 0.0f;
        for (size_t d = 0; d < dims; ++d) v[d] *= scale;
      }
      for (size_t d = 0; d < dims && d < center.size(); ++d) v[d] -= center[d];
    }
  }
  std::vector<float> sim = similarity_matrix(vecs.data(), n, dims, metric);
  // l2's matrix holds distances; the background, like search, negated ones.
  std::vector<float> percentile, z;
  if (ref) {
    for (float s : sim) {
      const float score = metric == Metric::kL2 ? -s : s;
      percentile.push_back(ref->background.percentile_of(score));
      z.push_back(ref->background.z_of(score));
    }
  }

  const std::string metric_name = to_string(metric) + (args.center ? " (centred)" : "");
  if (args.json) {
    nlohmann::json j = {{"model", embedder->info().name}, {"metric", to_string(metric)}, {"texts", texts},
                        {"matrix", matrix_json(sim, n)}};
    if (ref) {
      const ScoreBackground& b = ref->background;
      j["collection"] = args.collection;
      j["centered"] = args.center;
      j["percentile"] = matrix_json(percentile, n);
      j["z"] = matrix_json(z, n);
      j["background"] = {{"pairs", b.pairs}, {"mean", number_or_null(b.mean)}, {"stddev", number_or_null(b.stddev)},
                         {"centered", b.centered}};
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("[{}] {}\n", i, label(texts[i], 70));
  out += "\n" + matrix_text(metric_name, n, [&](size_t c) { return fmt::format("{:.4f}", sim[c]); });
  if (ref) {
    const ScoreBackground& b = ref->background;
    if (b.pairs < 10 || !std::isfinite(b.mean)) {
      out += fmt::format("\ncollection {} has too few chunk pairs ({}) for a background\n", args.collection, b.pairs);
    } else {
      out += fmt::format("\nagainst collection {}'s background: {} {}pairs of chunks from different documents, "
                         "mean {:.4f}, sd {:.4f}\n\n",
                         args.collection, b.pairs, b.centered ? "centred " : "", metric == Metric::kL2 ? -b.mean : b.mean,
                         b.stddev);
      out += matrix_text("percentile", n, [&](size_t c) { return fmt::format("p{:.1f}", percentile[c]); });
      out += "\n" + matrix_text("z", n, [&](size_t c) { return fmt::format("{:.2f}", z[c]); });
    }
  }
  std::cout << out << std::flush;
}

}  // namespace

void add_similarity_command(CLI::App& app) {
  auto args = std::make_shared<SimilarityArgs>();
  CLI::App* cmd = app.add_subcommand("similarity", "pairwise similarity matrix of texts");
  args->model.add_to(cmd);
  args->prompt.add_to(cmd);
  cmd->add_option("--metric", args->metric, "cosine (default), dot, l2 (distance) or pearson")
      ->check(CLI::IsMember({"cosine", "dot", "l2", "pearson"}));
  cmd->add_option("--collection", args->collection,
                  "embed with this collection's model and metric, and show each score's percentile and z against "
                  "its background of random chunk pairs (no prompt unless --prompt)");
  cmd->add_option("--db", args->db, "with --collection: the database file (default: $SIMILE_HOME/simile.db)");
  cmd->add_flag("--center", args->center,
                "with --collection: subtract its mean chunk vector first and use the centred background");
  cmd->add_flag("--json", args->json,
                "print {model, metric, texts, matrix} as JSON (--collection adds percentile, z, background)");
  cmd->add_flag("--jsonl", args->jsonl_input, "stdin holds one JSON string (or {\"text\": ...}) per line");
  cmd->add_option("texts", args->texts, "two or more texts; '-' or none reads stdin, one per line");
  cmd->callback([args] { run_similarity(*args); });
}

}  // namespace simile::cli
