// simile serve: the HTTP server (src/server/server.h, docs/server.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/cli.h"
#include "cli/stop_signals.h"
#include "server/server.h"
#include "simile/collection.h"

namespace simile::cli {

namespace {

struct ServeArgs {
  server::ServerOptions options;
  std::string dtype = "fp32";
  std::string api_key_file;
};

// The key from --api-key, --api-key-file (its first line) or $SIMILE_API_KEY.
std::string api_key(const ServeArgs& args) {
  if (!args.options.api_key.empty()) return args.options.api_key;
  if (!args.api_key_file.empty()) {
    std::ifstream in(args.api_key_file);
    if (!in) throw CliError("cannot read the API key file " + args.api_key_file);
    std::string key;
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (key.empty()) throw CliError("the API key file " + args.api_key_file + " is empty");
    return key;
  }
  const char* env = std::getenv("SIMILE_API_KEY");
  return env != nullptr ? env : "";
}

void run_serve(ServeArgs& args) {
  server::ServerOptions options = args.options;
  options.dtype = take(parse_inference_dtype(args.dtype));
  options.api_key = api_key(args);
  // Before any thread starts (the models' and the server's inherit the mask).
  StopSignals signals;
  auto srv = take(server::Server::start(options));
  // The line scripts wait for (and read the port from, with --port 0).
  std::cerr << fmt::format("simile serve: listening on http://{}:{}{}\n", options.host, srv->port(),
                           options.api_key.empty() ? "" : " (API key required)")
            << std::flush;
  Status result;
  std::thread serving([&] { result = srv->run(); });
  while (!signals.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::cerr << "simile serve: stopping (requests in flight finish)\n" << std::flush;
  srv->stop();
  serving.join();
  srv.reset();
  check(result);
  std::cerr << "simile serve: stopped\n";
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  server::ServerOptions& o = args->options;
  server::ServerLimits& l = o.limits;
  CLI::App* cmd = app.add_subcommand("serve", "HTTP server: OpenAI-compatible embeddings, rerank, collections, search "
                                              "and a search page (docs/server.md)");
  cmd->add_option("--host", o.host, "address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", o.port, "port (default 8080; 0 = any free port, printed on start)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--db", o.db_path, "database file (default: " + Database::default_path() + ")");
  cmd->add_option("-m,--model", o.models, "embedding model to serve (repeatable; default all-MiniLM-L6-v2)");
  cmd->add_option("--rerank-model", o.rerankers, "cross-encoder for /v1/rerank and search re-ranking (repeatable)");
  cmd->add_option("--dtype", args->dtype, "inference precision of the served models: fp32 or int8");
  cmd->add_option("--api-key", o.api_key,
                  "require this key (Authorization: Bearer KEY); visible to other users in the process list, "
                  "prefer --api-key-file or $SIMILE_API_KEY");
  cmd->add_option("--api-key-file", args->api_key_file, "require the key on the first line of this file");
  cmd->add_option("--threads", o.threads, "compute threads per model (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--http-threads", o.http_threads, "threads answering requests, one per open connection (default 64)")->check(CLI::Range(1, 256));
  cmd->add_option("--max-body-bytes", l.max_body_bytes, "largest request body (default 8 MiB; 413 beyond)");
  cmd->add_option("--max-inputs", l.max_inputs, "most inputs per embeddings request (default 2048)");
  cmd->add_option("--max-request-tokens", l.max_request_tokens, "most tokens per embeddings request (default 65536)");
  cmd->add_option("--batch-tokens", l.batch_tokens, "tokens per embedding pass when batching requests (default 8192)");
  cmd->add_option("--max-queue-tokens", l.max_queue_tokens,
                  "tokens that may wait for a pass, per model (default 131072; beyond: 429 Retry-After)");
  cmd->add_option("--timeout", l.timeout_seconds, "seconds for socket reads and writes and for queueing (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->callback([args] { run_serve(*args); });
}

}  // namespace simile::cli
