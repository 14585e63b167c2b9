// Shared pieces of the `simile` subcommands: each add_*_command registers one
// subcommand whose callback runs it; failures are thrown as CliError and
// printed by main() as "simile: error: ..." with exit status 1 (UsageError:
// status 2, like the parser's own usage errors).
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile::cli {

struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A mistake in the command line that the parser cannot see (e.g. nothing to
// work on).
struct UsageError : CliError {
  using CliError::CliError;
};

// Throws CliError with the Status message unless it is ok.
void check(const Status& st);
template <typename T>
T take(Result<T> r) {
  check(r.status());
  return std::move(r).value();
}

// The texts a command works on: its arguments, or stdin when the only
// argument is "-" or there are none and stdin is not a terminal. Stdin holds one
// text per line, or with `jsonl_input` one JSON string (or object with a
// "text" field) per line, so texts may contain newlines.
std::vector<std::string> read_texts(const std::vector<std::string>& args, bool jsonl_input = false);
// The texts of a file ("-" = stdin), one per line or, with `jsonl_input`, one
// JSON string (or object with a "text" field) per line.
std::vector<std::string> read_text_file(const std::string& path, bool jsonl_input = false);

// `text` on one line (newlines and tabs as spaces), cut to at most
// `max_bytes` bytes of whole UTF-8 characters plus "..." when longer.
std::string one_line(std::string text, size_t max_bytes);

// Shortest decimal that reads back as the same float (like Python's repr).
std::string format_float(float x);

void add_embed_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_similarity_command(CLI::App& app);
void add_models_command(CLI::App& app);
void add_collection_commands(CLI::App& app);
void add_eval_command(CLI::App& app);  // add, delete, search, similar, related, reembed, collections
void add_rerank_command(CLI::App& app);
void add_ask_command(CLI::App& app);
void add_bench_command(CLI::App& app);  // bench ann, bench embed
void add_bench_embed_command(CLI::App* bench);
void add_serve_command(CLI::App& app);
void add_words_command(CLI::App& app);  // words nearest, farthest, analogy, eval-analogy, ...

}  // namespace simile::cli
