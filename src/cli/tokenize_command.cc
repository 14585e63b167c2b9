// simile tokenize: token ids and tokens, for checking lengths and comparing
// with other tokenizers.
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "simile/models.h"
#include "simile/tokenizer.h"

namespace simile::cli {

namespace {

struct TokenizeArgs {
  std::string model;
  std::string tokenizer_file;
  std::optional<size_t> max_tokens;
  bool json = false;
  bool no_special = false;
  bool jsonl_input = false;
  std::vector<std::string> texts;
};

void run_tokenize(const TokenizeArgs& args) {
  std::unique_ptr<Tokenizer> tok;
  std::optional<size_t> limit = args.max_tokens;
  if (!args.tokenizer_file.empty()) {
    tok = take(Tokenizer::from_file(args.tokenizer_file));
  } else {
    // What the model will see: its special tokens and its truncation.
    tok = take(open_model_tokenizer(args.model.empty() ? kDefaultModel : args.model));
  }
  if (limit) tok->set_truncation(*limit == 0 ? std::nullopt : std::optional(TruncationOptions{*limit}));
  tok->set_padding(std::nullopt);

  std::string out;
  for (const std::string& text : read_texts(args.texts, args.jsonl_input)) {
    Encoding enc = take(tok->encode(text, !args.no_special));
    if (args.json) {
      nlohmann::json j = {{"ids", enc.ids}, {"tokens", enc.tokens}, {"count", enc.size()}};
      out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out.push_back('\n');
    } else {
      std::string toks, ids;
      for (size_t i = 0; i < enc.size(); ++i) {
        toks += (i ? " " : "") + enc.tokens[i];
        ids += (i ? " " : "") + std::to_string(enc.ids[i]);
      }
      out += std::to_string(enc.size()) + " tokens: " + toks + "\n  ids: " + ids + "\n";
    }
  }
  std::cout << out << std::flush;
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "show the token ids and tokens of texts");
  auto* m = cmd->add_option("-m,--model", args->model, "model whose tokenizer to use (default: all-MiniLM-L6-v2)");
  cmd->add_option("--tokenizer", args->tokenizer_file,
                  "a tokenizer.json (its own truncation applies) or SentencePiece .model file")
      ->excludes(m);
  cmd->add_option("--max-tokens", args->max_tokens, "truncate to N tokens including special tokens (0 = never)");
  cmd->add_flag("--json", args->json, "one JSON object per text: {\"ids\", \"tokens\", \"count\"}");
  cmd->add_flag("--no-special", args->no_special, "do not add [CLS]/[SEP] or other special tokens");
  cmd->add_flag("--jsonl", args->jsonl_input, "stdin holds one JSON string (or {\"text\": ...}) per line");
  cmd->add_option("texts", args->texts, "texts; '-' or none reads stdin, one per line");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace simile::cli
