// simile rerank: documents ordered by a cross-encoder's relevance to a query.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "simile/reranker.h"

namespace simile::cli {

namespace {

struct RerankArgs {
  RerankerOptions model;
  size_t max_tokens = 0;
  std::string query;
  std::vector<std::string> documents;
  std::string file;
  bool jsonl_input = false;
  bool json = false;
  size_t top = 0;
};

// The arguments, then the lines of --file; stdin when neither gives any and
// it is not a terminal (or when the only argument is "-").
std::vector<std::string> gather_documents(const RerankArgs& args) {
  std::vector<std::string> docs = args.documents;
  if (docs.size() == 1 && docs[0] == "-") return read_text_file("-", args.jsonl_input);
  if (!args.file.empty()) {
    std::vector<std::string> more = read_text_file(args.file, args.jsonl_input);
    docs.insert(docs.end(), more.begin(), more.end());
  }
  if (docs.empty() && args.file.empty() && !isatty(STDIN_FILENO)) docs = read_text_file("-", args.jsonl_input);
  if (docs.empty())
    throw UsageError("no documents to rerank: give them after the query, with --file FILE, or on stdin");
  return docs;
}

void run_rerank(const RerankArgs& args) {
  std::vector<std::string> docs = gather_documents(args);
  RerankerOptions options = args.model;
  if (args.max_tokens > 0) options.max_tokens = args.max_tokens;
  auto reranker = take(Reranker::open(options));
  std::vector<RankedDocument> ranked = take(reranker->rerank(args.query, docs, args.top));

  if (args.json) {
    nlohmann::json results = nlohmann::json::array();
    for (size_t i = 0; i < ranked.size(); ++i)
      results.push_back({{"rank", i + 1},
                         {"index", ranked[i].index},
                         {"score", ranked[i].score},
                         {"document", docs[ranked[i].index]}});
    nlohmann::json j = {{"model", reranker->info().name},
                        {"activation", reranker->info().activation},
                        {"query", args.query},
                        {"results", results}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::string out;
  for (size_t i = 0; i < ranked.size(); ++i)
    out += fmt::format("{:>3}. {:.4f}  [{}] {}\n", i + 1, ranked[i].score, ranked[i].index,
                       one_line(docs[ranked[i].index], 200));
  std::cout << out << std::flush;
}

}  // namespace

void add_rerank_command(CLI::App& app) {
  auto args = std::make_shared<RerankArgs>();
  CLI::App* cmd = app.add_subcommand(
      "rerank", "order documents by their relevance to a query, with a cross-encoder (query and document read together)");
  cmd->add_option("-m,--model", args->model.model, "cross-encoder: cache name or directory")->required();
  cmd->add_option("query", args->query, "the query")->required();
  cmd->add_option("documents", args->documents, "documents to rank; '-' or none (and no --file) reads stdin, one per line");
  cmd->add_option("-f,--file", args->file, "read documents from this file, one per line ('-' = stdin)");
  cmd->add_flag("--jsonl", args->jsonl_input, "--file / stdin hold one JSON string (or {\"text\": ...}) per line");
  cmd->add_option("-k,--top", args->top, "print only the best N")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "print {model, activation, query, results: [{rank, index, score, document}]}");
  cmd->add_option("--activation", args->model.activation,
                  "score = activation(logit): sigmoid, identity (raw logits), tanh (default: the model's)")
      ->check(CLI::IsMember({"sigmoid", "identity", "tanh", "relu", "gelu"}));
  cmd->add_option("--max-tokens", args->max_tokens, "cut each (query, document) pair to this many tokens")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->model.threads, "threads to use (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", args->model.batch_size, "pairs per forward pass")->check(CLI::PositiveNumber);
  cmd->callback([args] { run_rerank(*args); });
}

}  // namespace simile::cli
