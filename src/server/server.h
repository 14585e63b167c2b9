// `simile serve`: an HTTP server for embeddings (OpenAI's API), re-ranking,
// collections and search, and the search page (docs/server.md).
//
//   auto s = simile::server::Server::start(options);   // loads models, binds
//   (*s)->run();                                       // until stop()
//
// Requests are answered by a pool of HTTP threads; embedding requests meet
// in a dynamic batcher per model (embedding_batcher.h); each collection is
// used by one request at a time (its own database connection and lock).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "simile/embedder.h"
#include "simile/status.h"

namespace simile::server {

struct ServerLimits {
  size_t max_body_bytes = 8u << 20;      // 413 beyond
  size_t max_inputs = 2048;              // texts per /v1/embeddings request
  size_t max_request_tokens = 65536;     // tokens per /v1/embeddings request, after truncation
  size_t max_documents = 1000;           // per upsert or rerank request
  size_t max_k = 1000;                   // search / similar results
  size_t batch_tokens = 8192;            // tokens per embedding pass (dynamic batching)
  size_t max_queue_tokens = 131072;      // tokens waiting per model; beyond: 429
  int timeout_seconds = 30;              // socket reads and writes; waiting in the queue (then 503)
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0: any free port (port() tells)
  std::string db_path;                 // "" = Database::default_path()
  std::vector<std::string> models;     // embedding models served; empty = the default model
  std::vector<std::string> rerankers;  // cross-encoders for /v1/rerank and search re-ranking
  InferenceDtype dtype = InferenceDtype::kFp32;
  std::string api_key;                 // "" = no authentication
  int threads = 0;                     // compute threads per model (0 = all cores)
  // Each open connection holds a thread while it is kept alive (cpp-httplib),
  // so this bounds the clients served at once; others wait for a thread.
  int http_threads = 64;
  ServerLimits limits;
};

class Server {
 public:
  // Opens the models and the database and binds the socket; requests are
  // served once run() is called.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Serves until stop(); then requests in flight finish and the store is
  // closed before it returns.
  Status run();
  // Stops accepting connections (callable from any thread, e.g. on SIGTERM).
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile::server
