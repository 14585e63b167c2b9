// What the route files share (server.cc wires them to the HTTP library):
// the reply a handler returns, the server's state, and helpers to read
// request bodies and parameters.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "server/api_error.h"
#include "server/embedding_batcher.h"
#include "server/metrics.h"
#include "server/server.h"
#include "simile/collection.h"
#include "simile/embedder.h"
#include "simile/reranker.h"

namespace httplib {
struct Request;
}

namespace simile::server {

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Reply json(const nlohmann::json& body, int status = 200);
  static Reply error(const ApiError& e);
};

// An embedding model served under a name, with its batcher.
struct ServedModel {
  std::string name;
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<EmbeddingBatcher> batcher;
};

// A collection opened for requests: its own database connection, used by one
// request at a time.
struct CollectionHandle {
  std::mutex mu;
  std::unique_ptr<Database> db;
  std::unique_ptr<Collection> collection;
  bool dropped = false;  // set under mu when the collection is dropped
};

struct ServerState {
  ServerOptions options;
  Metrics metrics;
  std::vector<ServedModel> models;
  std::vector<std::pair<std::string, std::unique_ptr<Reranker>>> rerankers;
  std::string db_path;

  // The catalog connection: list, info, create, drop.
  std::mutex catalog_mu;
  std::unique_ptr<Database> catalog;
  // Open collections by name.
  std::mutex handles_mu;
  std::map<std::string, std::shared_ptr<CollectionHandle>> handles;

  const ServedModel* find_model(const std::string& name) const;  // "" = the first
  // The cross-encoder named (or the first when `name` is empty); null with
  // *error set when it is not one of the server's.
  const Reranker* find_reranker(const std::string& name, ApiError* error) const;
  // The open collection, opened on first use; a 404 ApiError if missing.
  std::variant<std::shared_ptr<CollectionHandle>, ApiError> collection(const std::string& name);
  void forget(const std::string& name);  // after a drop
  std::chrono::milliseconds timeout() const { return std::chrono::seconds(options.limits.timeout_seconds); }
};

// The request body as a JSON object, or a 400 saying what is wrong with it.
std::variant<nlohmann::json, ApiError> json_body(const httplib::Request& req);

// Typed fields of a JSON object, each checked: a wrong type or a value out
// of range is a 400 naming the field. Absent (or null) fields keep `out`.
std::optional<ApiError> read_string(const nlohmann::json& body, const char* field, std::string& out);
std::optional<ApiError> read_bool(const nlohmann::json& body, const char* field, bool& out);
std::optional<ApiError> read_size(const nlohmann::json& body, const char* field, size_t min, size_t max, size_t& out);
std::optional<ApiError> read_number(const nlohmann::json& body, const char* field, double min, double max,
                                    double& out);
// A 400 when an array field holds more than `max` items.
std::optional<ApiError> check_items(const char* field, size_t count, size_t max);

// A route: method, path pattern (ECMAScript regex; groups in req.matches),
// its name in the metrics, and the handler.
struct Route {
  const char* method;
  std::string pattern;
  std::string name;
  std::function<Reply(const httplib::Request&)> handle;
};

std::vector<Route> collection_routes(ServerState& state);

}  // namespace simile::server
