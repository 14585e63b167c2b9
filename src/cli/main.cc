// The `simile` command: thin subcommands over the public library API.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // The server shares the cores between its compute threads and dozens of
  // request threads: OpenMP's default of spinning while it waits for work
  // then starves the one and stalls the other (16 clients, 2 cores: p99
  // 1 s, against 83 ms passive; docs/benchmarks.md). libgomp reads the
  // policy once, before main, so `serve` runs itself again with it set
  // (unless the user set one).
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0 && std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then serve as is
  }
  CLI::App app{"simile: embed, store and search text, by meaning and by keywords"};
  app.set_version_flag("--version", "simile 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  simile::cli::add_embed_command(app);
  simile::cli::add_tokenize_command(app);
  simile::cli::add_similarity_command(app);
  simile::cli::add_models_command(app);
  simile::cli::add_collection_commands(app);
  simile::cli::add_eval_command(app);
  simile::cli::add_ask_command(app);
  simile::cli::add_rerank_command(app);
  simile::cli::add_bench_command(app);
  simile::cli::add_serve_command(app);
  simile::cli::add_words_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2, like other Unix tools (CLI11's own codes reach 100+).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const simile::cli::UsageError& e) {
    std::cerr << "simile: error: " << e.what() << "\n";
    return 2;
  } catch (const simile::cli::CliError& e) {
    std::cerr << "simile: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "simile: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
