// simile ask: retrieval-augmented generation. Finds the passages that answer
// a question, puts them in a prompt as numbered sources within a token
// budget, and prints the prompt (for any LLM command to read) or sends it to
// an OpenAI-compatible chat endpoint and streams the answer, its cited
// sources after it.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/db_flag.h"
#include "cli/search_flags.h"
#include "remote/chat_client.h"
#include "search/rag_prompt.h"
#include "simile/collection.h"
#include "simile/models.h"
#include "util/file_util.h"

namespace simile::cli {

namespace {

struct AskFlags {
  DbFlag db;
  std::string collection, question;
  SearchOptions search;
  SearchFlags ranking;
  size_t budget = 3000;
  std::string template_file;
  std::string llm;
  std::optional<double> temperature;
  size_t answer_tokens = 0;
  bool json = false;
  int threads = 0;
};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// What counts the budget's tokens: the collection model's tokenizer (a
// remote model's counting one), else the default model's. An LLM's own
// tokenizer counts somewhat differently (docs/rag.md).
std::unique_ptr<Tokenizer> token_counter(const Collection& c) {
  std::string path = c.embedder() != nullptr ? c.embedder()->info().tokenizer_path
                                             : take(inspect_model(kDefaultModel)).tokenizer_path;
  auto t = take(Tokenizer::from_file(path));
  t->set_truncation(std::nullopt);
  t->set_padding(std::nullopt);
  return t;
}

nlohmann::json sources_json(const search::RagPrompt& prompt, const std::vector<size_t>& cited) {
  nlohmann::json out = nlohmann::json::array();
  for (const search::PromptSource& s : prompt.sources)
    out.push_back({{"number", s.number},
                   {"id", s.id},
                   {"title", s.title},
                   {"chunk_begin", s.chunk_begin},
                   {"chunk_end", s.chunk_end},
                   {"score", s.score},
                   {"text", s.text},
                   {"truncated", s.truncated},
                   {"cited", std::find(cited.begin(), cited.end(), s.number) != cited.end()}});
  return out;
}

void print_cited(const search::RagPrompt& prompt, const std::vector<size_t>& cited) {
  if (prompt.sources.empty()) return;
  std::cout << (cited.empty() ? "\n\nSources given (none cited):\n" : "\n\nSources:\n");
  for (const search::PromptSource& s : prompt.sources) {
    if (!cited.empty() && std::find(cited.begin(), cited.end(), s.number) == cited.end()) continue;
    std::cout << fmt::format("[{}] {}{} (characters {}-{})\n", s.number, s.title.empty() ? s.id : s.title,
                             s.title.empty() ? "" : " - id " + s.id, s.chunk_begin, s.chunk_end);
  }
}

void run_ask(const AskFlags& f) {
  const auto start = std::chrono::steady_clock::now();
  std::string prompt_template = search::kDefaultRagTemplate;
  if (!f.template_file.empty()) {
    auto read = read_file(f.template_file);
    if (!read.is_ok()) throw CliError("--template: " + read.status().message());
    prompt_template = std::move(read).value();
  }
  auto db = f.db.open();
  EmbedderOptions runtime;
  runtime.threads = f.threads;
  auto collection = take(db->open_collection(f.collection, nullptr, runtime));
  SearchOptions options = f.search;
  f.ranking.apply(options);
  SearchReport report;
  const std::vector<SearchHit> hits = take(collection->search(f.question, options, &report));
  const double retrieve_ms = ms_since(start);

  const auto prompt_start = std::chrono::steady_clock::now();
  const auto counter = token_counter(*collection);
  const search::RagPrompt prompt =
      take(search::build_rag_prompt(f.question, hits, prompt_template, f.budget, *counter));
  const double prompt_ms = ms_since(prompt_start);
  if (prompt.left_out > 0 && !f.json)
    std::cerr << fmt::format("simile: {} of {} passages left out to keep the prompt within {} tokens\n",
                             prompt.left_out, hits.size(), f.budget);

  nlohmann::json out = {{"question", f.question},
                        {"collection", f.collection},
                        {"mode", search_mode_name(report.mode)},
                        {"prompt", prompt.text},
                        {"prompt_tokens", prompt.tokens},
                        {"budget", f.budget},
                        {"left_out", prompt.left_out},
                        {"answer", nullptr}};
  nlohmann::json timings = {{"retrieve_ms", retrieve_ms}, {"prompt_ms", prompt_ms}};
  if (f.llm.empty()) {
    if (!f.json) {
      std::cout << prompt.text << "\n";
      return;
    }
    out["sources"] = sources_json(prompt, {});
    timings["total_ms"] = ms_since(start);
    out["timings"] = timings;
    std::cout << out.dump(2) << "\n";
    return;
  }

  remote::ChatEndpoint endpoint;
  endpoint.url = take(remote::api_url(f.llm, "chat/completions"));
  endpoint.model = f.ranking.llm_model;
  endpoint.api_key_required = !f.ranking.llm_api_key_env.empty();
  if (endpoint.api_key_required) endpoint.api_key_env = f.ranking.llm_api_key_env;
  remote::ChatRequest request;
  request.messages.push_back({"user", prompt.text});
  request.temperature = f.temperature;
  if (f.answer_tokens > 0) request.max_tokens = f.answer_tokens;
  // Streamed for --json too, so that first_token_ms is the real wait.
  std::function<void(std::string_view)> stream = [&f](std::string_view delta) {
    if (!f.json) std::cout << delta << std::flush;
  };
  const remote::ChatReply reply = take(remote::chat(endpoint, request, stream));
  if (!f.json && reply.content.empty()) std::cout << "(the model gave no answer)";
  const std::vector<size_t> cited = search::cited_sources(reply.content, prompt.sources.size());
  if (!f.json) {
    print_cited(prompt, cited);
    if (reply.finish_reason == "length")
      std::cerr << "simile: the answer was cut at the model's token limit (raise it with --answer-tokens)\n";
    return;
  }
  out["answer"] = reply.content;
  out["model"] = reply.model;
  out["finish_reason"] = reply.finish_reason;
  out["usage"] = reply.usage;
  out["sources"] = sources_json(prompt, cited);
  out["cited"] = cited;
  timings["first_token_ms"] = reply.first_token_ms;
  timings["answer_ms"] = reply.total_ms;
  timings["total_ms"] = ms_since(start);
  out["timings"] = timings;
  std::cout << out.dump(2) << "\n";
}

}  // namespace

void add_ask_command(CLI::App& app) {
  auto f = std::make_shared<AskFlags>();
  f->search.k = 5;
  CLI::App* cmd = app.add_subcommand(
      "ask", "answer a question from a collection: print a prompt with the best passages as numbered sources, or "
             "send it to an OpenAI-compatible chat endpoint (--llm) and stream the answer");
  cmd->add_option("collection", f->collection, "collection name")->required();
  cmd->add_option("question", f->question, "the question")->required();
  cmd->add_option("-k,--k", f->search.k, "passages to retrieve")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--filter", f->search.filter, "metadata filter, e.g. 'year >= 2000'");
  f->ranking.add_to(cmd);
  cmd->add_option("--budget", f->budget, "the most tokens the prompt may take (sources are cut to fit)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--template", f->template_file,
                  "prompt template file with {question} and {sources} placeholders (default: answer from the "
                  "sources only, citing them as [n])");
  cmd->add_option("--llm", f->llm,
                  "send the prompt to this OpenAI-compatible chat endpoint (e.g. http://localhost:8080/v1) and "
                  "stream the answer");
  cmd->add_option("--temperature", f->temperature, "--llm: sampling temperature (default: the service's)")
      ->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--answer-tokens", f->answer_tokens, "--llm: the most tokens the answer may take")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", f->threads, "threads to use (default: all cores)");
  cmd->add_flag("--json", f->json, "print JSON: the sources, the prompt, the answer and the time each step took");
  f->db.add_to(cmd);
  cmd->callback([f] { run_ask(*f); });
}

}  // namespace simile::cli
