// simile similarity: the pairwise similarity matrix of texts, like
// sentence-transformers' util.cos_sim.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/embedder_flags.h"
#include "index/similarity.h"

namespace simile::cli {

namespace {

struct SimilarityArgs {
  EmbedderFlags model;
  PromptFlags prompt;
  std::string metric = "cosine";
  bool json = false;
  bool jsonl_input = false;
  std::vector<std::string> texts;
};

std::string label(const std::string& text, size_t width) {
  // Cut on a UTF-8 boundary so the label stays valid text.
  if (text.size() <= width) return text;
  size_t cut = width - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

void run_similarity(const SimilarityArgs& args) {
  Metric metric = take(parse_metric(args.metric));
  std::vector<std::string> texts = read_texts(args.texts, args.jsonl_input);
  if (texts.size() < 2) throw CliError("similarity needs at least two texts");
  auto embedder = take(Embedder::open(args.model.to_options()));
  std::vector<float> vecs = take(embedder->embed(texts, args.prompt.prefix(*embedder)));
  size_t n = texts.size();
  std::vector<float> sim = similarity_matrix(vecs.data(), n, embedder->dims(), metric);

  if (args.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i) rows.push_back(std::vector<float>(sim.begin() + i * n, sim.begin() + (i + 1) * n));
    nlohmann::json j = {{"model", embedder->info().name}, {"metric", to_string(metric)}, {"texts", texts},
                        {"matrix", rows}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("[{}] {}\n", i, label(texts[i], 70));
  out += "\n" + to_string(metric) + std::string(5, ' ');
  for (size_t j = 0; j < n; ++j) out += fmt::format("{:>8}", fmt::format("[{}]", j));
  out += "\n";
  for (size_t i = 0; i < n; ++i) {
    out += fmt::format("{:<11}", fmt::format("[{}]", i));
    for (size_t j = 0; j < n; ++j) out += fmt::format("{:8.4f}", sim[i * n + j]);
    out += "\n";
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
  cmd->add_flag("--json", args->json, "print {model, metric, texts, matrix} as JSON");
  cmd->add_flag("--jsonl", args->jsonl_input, "stdin holds one JSON string (or {\"text\": ...}) per line");
  cmd->add_option("texts", args->texts, "two or more texts; '-' or none reads stdin, one per line");
  cmd->callback([args] { run_similarity(*args); });
}

}  // namespace simile::cli
