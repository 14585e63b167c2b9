// simile embed: texts in, vectors out (JSON, JSON lines or .npy).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/embedder_flags.h"
#include "util/json_floats.h"
#include "util/npy.h"

namespace simile::cli {

namespace {

struct EmbedArgs {
  EmbedderFlags model;
  std::string format = "json";
  PromptFlags prompt;
  std::string output;
  bool jsonl_input = false;
  std::vector<std::string> texts;
};

void write_output(const std::string& data, const std::string& path) {
  if (path.empty() || path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    if (std::fflush(stdout) != 0) throw CliError("cannot write to stdout");
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw CliError("cannot write " + path);
}

void run_embed(const EmbedArgs& args) {
  if (args.format == "npy" && (args.output.empty() || args.output == "-") && isatty(STDOUT_FILENO))
    throw CliError("refusing to write binary .npy to a terminal; use -o FILE or redirect stdout");
  std::vector<std::string> texts = read_texts(args.texts, args.jsonl_input);
  auto embedder = take(Embedder::open(args.model.to_options()));
  std::string prefix = args.prompt.prefix(*embedder);
  std::vector<float> vecs = take(embedder->embed(texts, prefix));
  size_t d = embedder->dims();

  std::string out;
  if (args.format == "npy") {
    out = npy_encode(vecs.data(), texts.size(), d);
  } else if (args.format == "jsonl") {
    for (size_t i = 0; i < texts.size(); ++i) {
      append_json_array(out, vecs.data() + i * d, d);
      out.push_back('\n');
    }
  } else {
    out += "{\"model\":" + nlohmann::json(embedder->info().name).dump() + ",\"dims\":" + std::to_string(d) +
           ",\"embeddings\":[";
    for (size_t i = 0; i < texts.size(); ++i) {
      if (i) out += ",\n";
      append_json_array(out, vecs.data() + i * d, d);
    }
    out += "]}\n";
  }
  write_output(out, args.output);
}

}  // namespace

void add_embed_command(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand("embed", "embed texts (arguments, or stdin one per line) into vectors");
  args->model.add_to(cmd);
  cmd->add_option("-f,--format", args->format, "output format: json (default), jsonl (one array per line), npy")
      ->check(CLI::IsMember({"json", "jsonl", "npy"}));
  args->prompt.add_to(cmd);
  cmd->add_option("-o,--output", args->output, "write to this file instead of stdout");
  cmd->add_flag("--jsonl", args->jsonl_input, "stdin holds one JSON string (or {\"text\": ...}) per line");
  cmd->add_option("texts", args->texts, "texts to embed; '-' or none reads stdin");
  cmd->callback([args] { run_embed(*args); });
}

}  // namespace simile::cli
