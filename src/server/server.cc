#include "server/server.h"

#include <httplib.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "server/openai_api.h"
#include "server/page_assets.h"
#include "server/routes.h"
#include "simile/models.h"
#include "store/sqlite.h"
#include "util/process_memory.h"

namespace simile::server {

namespace {

using nlohmann::json;

// Equal strings in a time that does not depend on where they differ (nor,
// beyond the key's own length, on how long the guess is).
bool constant_time_equal(const std::string& given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(key[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

// The key a request carries: "Authorization: Bearer KEY" (OpenAI's
// clients), or "api-key: KEY".
std::string presented_key(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (auth.size() > bearer.size() && std::equal(bearer.begin(), bearer.end(), auth.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      }))
    return auth.substr(bearer.size());
  return req.get_header_value("api-key");
}

// Paths anyone may read: the page (which asks for the key itself) and the
// health check.
bool is_public(const std::string& path) { return path == "/health" || find_page_asset(path) != nullptr; }

}  // namespace

Reply Reply::json(const nlohmann::json& body, int status) {
  Reply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Reply Reply::error(const ApiError& e) {
  Reply r;
  r.status = e.status;
  r.body = error_json(e);
  return r;
}

const ServedModel* ServerState::find_model(const std::string& name) const {
  if (name.empty()) return &models.front();
  for (const ServedModel& m : models)
    if (m.name == name || m.embedder->info().name == name) return &m;
  return nullptr;
}

const Reranker* ServerState::find_reranker(const std::string& name, ApiError* error) const {
  if (rerankers.empty()) {
    *error = ApiError::bad_request("this server has no re-ranking model (start it with --rerank-model M)", "model");
    return nullptr;
  }
  if (name.empty()) return rerankers.front().second.get();
  std::string names;
  for (const auto& [served, reranker] : rerankers) {
    if (served == name || reranker->info().name == name) return reranker.get();
    names += (names.empty() ? "" : ", ") + served;
  }
  *error = ApiError::not_found("no re-ranking model '" + name + "' on this server; it has: " + names,
                               "model_not_found");
  error->param = "model";
  return nullptr;
}

std::variant<std::shared_ptr<CollectionHandle>, ApiError> ServerState::collection(const std::string& name) {
  std::lock_guard<std::mutex> lock(handles_mu);
  if (auto it = handles.find(name); it != handles.end()) return it->second;
  {
    // A missing collection is answered from the catalog: opening a
    // connection for it would wait on the other connections' writes.
    std::lock_guard<std::mutex> catalog_lock(catalog_mu);
    if (auto info = catalog->info(name); !info.is_ok()) {
      ApiError e = error_from_status(info.status());
      if (e.status == 404) e.message = "no collection '" + name + "'";
      return e;
    }
  }
  auto handle = std::make_shared<CollectionHandle>();
  auto db = Database::open(db_path);
  if (!db.is_ok()) return error_from_status(db.status());
  EmbedderOptions runtime;
  runtime.threads = options.threads;
  auto c = (*db)->open_collection(name, nullptr, runtime);
  if (!c.is_ok()) {
    ApiError e = error_from_status(c.status());
    if (e.status == 404) e.message = "no collection '" + name + "'";  // the CLI's hint does not apply here
    return e;
  }
  handle->db = std::move(db).value();
  handle->collection = std::move(c).value();
  handles[name] = handle;
  return handle;
}

void ServerState::forget(const std::string& name) {
  std::lock_guard<std::mutex> lock(handles_mu);
  handles.erase(name);
}

std::variant<nlohmann::json, ApiError> json_body(const httplib::Request& req) {
  if (req.body.empty()) return ApiError::bad_request("the request has no body; send a JSON object");
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return ApiError::bad_request("the request body is not valid JSON");
  if (!body.is_object()) return ApiError::bad_request("the request body must be a JSON object");
  return body;
}

std::optional<ApiError> read_string(const json& body, const char* field, std::string& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  if (!body[field].is_string()) return ApiError::bad_request(std::string(field) + " must be a string", field);
  out = body[field].get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> read_bool(const json& body, const char* field, bool& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  if (!body[field].is_boolean()) return ApiError::bad_request(std::string(field) + " must be true or false", field);
  out = body[field].get<bool>();
  return std::nullopt;
}

std::optional<ApiError> read_size(const json& body, const char* field, size_t min, size_t max, size_t& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  const json& v = body[field];
  if (!v.is_number_integer() || v.get<int64_t>() < static_cast<int64_t>(min) ||
      (v.is_number_unsigned() ? v.get<uint64_t>() > max : v.get<int64_t>() > static_cast<int64_t>(max)))
    return ApiError::bad_request(std::string(field) + " must be an integer from " + std::to_string(min) + " to " +
                                     std::to_string(max),
                                 field);
  out = static_cast<size_t>(v.get<int64_t>());
  return std::nullopt;
}

std::optional<ApiError> read_number(const json& body, const char* field, double min, double max, double& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  const json& v = body[field];
  if (!v.is_number() || v.get<double>() < min || v.get<double>() > max)
    return ApiError::bad_request(
        std::string(field) + " must be a number from " + json(min).dump() + " to " + json(max).dump(), field);
  out = v.get<double>();
  return std::nullopt;
}

std::optional<ApiError> check_items(const char* field, size_t count, size_t max) {
  if (count <= max) return std::nullopt;
  return ApiError::bad_request(std::string(field) + " holds " + std::to_string(count) +
                                   " items; the most one request takes is " + std::to_string(max),
                               field);
}

struct Server::Impl {
  ServerState state;
  httplib::Server http;
  int port = 0;

  void add(const Route& route);
  Reply embeddings(const httplib::Request& req);
  Reply rerank(const httplib::Request& req);
  Reply health();
  std::vector<Route> routes();
};

void Server::Impl::add(const Route& route) {
  auto handler = [this, route](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    Reply reply;
    try {
      reply = route.handle(req);
    } catch (const std::exception& e) {
      ApiError err;
      err.status = 500;
      err.type = "server_error";
      err.message = std::string("unexpected error: ") + e.what();
      reply = Reply::error(err);
    }
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(reply.body, reply.content_type);
    state.metrics.record_request(route.name, reply.status,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  const std::string m = route.method;
  if (m == "GET")
    http.Get(route.pattern, handler);
  else if (m == "POST")
    http.Post(route.pattern, handler);
  else if (m == "DELETE")
    http.Delete(route.pattern, handler);
  else if (m == "PUT")
    http.Put(route.pattern, handler);
}

Reply Server::Impl::embeddings(const httplib::Request& req) {
  auto body = json_body(req);
  if (auto* e = std::get_if<ApiError>(&body)) return Reply::error(*e);
  auto parsed = parse_embeddings_request(std::get<json>(body), {state.options.limits.max_inputs});
  if (auto* e = std::get_if<ApiError>(&parsed)) return Reply::error(*e);
  const EmbeddingsRequest& r = std::get<EmbeddingsRequest>(parsed);
  const ServedModel* model = state.find_model(r.model);
  if (model == nullptr) {
    std::string names;
    for (const ServedModel& m : state.models) names += (names.empty() ? "" : ", ") + m.name;
    ApiError e = ApiError::not_found("the model '" + r.model + "' is not served here; models: " + names,
                                     "model_not_found");
    e.param = "model";
    return Reply::error(e);
  }
  const Embedder& embedder = *model->embedder;
  const size_t dims = embedder.dims();
  if (r.dimensions && *r.dimensions > dims)
    return Reply::error(ApiError::bad_request("dimensions " + std::to_string(*r.dimensions) + " is more than model " +
                                                  model->name + " gives (" + std::to_string(dims) + ")",
                                              "dimensions"));
  // Tokenised here, on the request's own thread, so the batcher can budget
  // its passes in tokens.
  std::vector<Encoding> encodings;
  encodings.reserve(r.inputs());
  size_t tokens = 0;
  for (size_t i = 0; i < r.inputs(); ++i) {
    auto e = r.texts.empty() ? embedder.encode_ids(r.token_ids[i]) : embedder.encode(r.texts[i]);
    if (!e.is_ok()) {
      ApiError err = error_from_status(e.status(), "input");
      err.message = "input[" + std::to_string(i) + "]: " + err.message;
      return Reply::error(err);
    }
    tokens += e->size();
    encodings.push_back(std::move(e).value());
  }
  if (tokens > state.options.limits.max_request_tokens)
    return Reply::error(ApiError::bad_request("the inputs hold " + std::to_string(tokens) +
                                                  " tokens; the most one request takes is " +
                                                  std::to_string(state.options.limits.max_request_tokens),
                                              "input"));
  auto answer = model->batcher->embed(std::move(encodings), state.timeout());
  switch (answer.outcome) {
    case EmbeddingBatcher::Outcome::kDone:
      break;
    case EmbeddingBatcher::Outcome::kQueueFull: {
      ApiError e;
      e.status = 429;
      e.type = "rate_limit_error";
      e.code = "queue_full";
      e.message = "the embedding queue is full; retry shortly";
      Reply reply = Reply::error(e);
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    case EmbeddingBatcher::Outcome::kTimedOut: {
      ApiError e;
      e.status = 503;
      e.type = "server_error";
      e.code = "timeout";
      e.message = "the request waited " + std::to_string(state.options.limits.timeout_seconds) +
                  " s in the embedding queue without starting; retry later";
      Reply reply = Reply::error(e);
      reply.headers.emplace_back("Retry-After", "5");
      return reply;
    }
    case EmbeddingBatcher::Outcome::kFailed:
      return Reply::error(error_from_status(answer.status, "input"));
  }
  const size_t keep = r.dimensions.value_or(dims);
  Reply reply;
  reply.body = embeddings_response(model->name, answer.vectors, dims, keep,
                                   keep < dims && embedder.info().normalize, r.base64, tokens);
  return reply;
}

Reply Server::Impl::rerank(const httplib::Request& req) {
  auto body_or = json_body(req);
  if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
  const json& body = std::get<json>(body_or);
  std::string query, model;
  bool return_documents = false;
  size_t top_n = 0;
  if (auto e = read_string(body, "query", query)) return Reply::error(*e);
  if (!body.contains("query")) return Reply::error(ApiError::bad_request("query is missing", "query"));
  if (auto e = read_string(body, "model", model)) return Reply::error(*e);
  if (auto e = read_bool(body, "return_documents", return_documents)) return Reply::error(*e);
  if (!body.contains("documents") || !body["documents"].is_array())
    return Reply::error(ApiError::bad_request("documents must be an array of strings (or of {\"text\": ...})",
                                              "documents"));
  const json& docs = body["documents"];
  if (auto e = check_items("documents", docs.size(), state.options.limits.max_documents)) return Reply::error(*e);
  if (auto e = read_size(body, "top_n", 0, docs.size(), top_n)) return Reply::error(*e);
  std::vector<std::string> texts;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].is_string()) {
      texts.push_back(docs[i].get<std::string>());
    } else if (docs[i].is_object() && docs[i].contains("text") && docs[i]["text"].is_string()) {
      texts.push_back(docs[i]["text"].get<std::string>());
    } else {
      return Reply::error(ApiError::bad_request(
          "documents[" + std::to_string(i) + "] must be a string or an object with a \"text\" string", "documents"));
    }
  }
  ApiError error;
  const Reranker* reranker = state.find_reranker(model, &error);
  if (reranker == nullptr) return Reply::error(error);
  auto ranked = reranker->rerank(query, texts, top_n);
  if (!ranked.is_ok()) return Reply::error(error_from_status(ranked.status()));
  json results = json::array();
  for (const RankedDocument& d : *ranked) {
    json r = {{"index", d.index}, {"relevance_score", d.score}};
    if (return_documents) r["document"] = {{"text", texts[d.index]}};
    results.push_back(std::move(r));
  }
  return Reply::json({{"model", reranker->info().name}, {"results", results}});
}

Reply Server::Impl::health() {
  json models = json::array();
  for (const ServedModel& m : state.models) models.push_back(m.name);
  return Reply::json({{"status", "ok"}, {"models", models}});
}

std::vector<Route> Server::Impl::routes() {
  std::vector<Route> r = {
      {"GET", "/health", "health", [this](const httplib::Request&) { return health(); }},
      {"GET", "/metrics", "metrics",
       [this](const httplib::Request&) {
         Reply reply;
         reply.body = state.metrics.render();
         reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
         return reply;
       }},
      {"GET", "/v1/models", "models",
       [this](const httplib::Request&) {
         std::vector<std::string> names;
         for (const ServedModel& m : state.models) names.push_back(m.name);
         Reply reply;
         reply.body = models_response(names);
         return reply;
       }},
      {"POST", "/v1/embeddings", "embeddings", [this](const httplib::Request& req) { return embeddings(req); }},
      {"POST", "/embeddings", "embeddings", [this](const httplib::Request& req) { return embeddings(req); }},
      {"POST", "/v1/rerank", "rerank", [this](const httplib::Request& req) { return rerank(req); }},
      {"POST", "/rerank", "rerank", [this](const httplib::Request& req) { return rerank(req); }},
  };
  for (Route& c : collection_routes(state)) r.push_back(std::move(c));
  return r;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  ServerState& state = impl->state;
  state.options = options;
  const ServerLimits& limits = options.limits;
  if (limits.max_request_tokens > limits.max_queue_tokens)
    return Status::invalid_argument("the most tokens per request (" + std::to_string(limits.max_request_tokens) +
                                    ") must not exceed the queue's bound (" +
                                    std::to_string(limits.max_queue_tokens) + ")");
  std::vector<std::string> models = options.models;
  if (models.empty()) models.push_back(kDefaultModel);
  for (const std::string& name : models) {
    if (is_remote_model(name))
      return Status::invalid_argument("--model " + name + ": the server computes the vectors it serves; a remote "
                                      "model is for collections (simile add C --model " + name + ")");
    EmbedderOptions eo;
    eo.model = name;
    eo.threads = options.threads;
    eo.dtype = options.dtype;
    auto e = Embedder::open(eo);
    if (!e.is_ok()) return e.status();
    ServedModel m;
    m.name = name;
    m.embedder = std::move(e).value();
    m.batcher = std::make_unique<EmbeddingBatcher>(*m.embedder, limits.batch_tokens, limits.max_queue_tokens,
                                                   &state.metrics);
    state.models.push_back(std::move(m));
  }
  for (const std::string& name : options.rerankers) {
    RerankerOptions ro;
    ro.model = name;
    ro.threads = options.threads;
    auto r = Reranker::open(ro);
    if (!r.is_ok()) return r.status();
    state.rerankers.emplace_back(name, std::move(r).value());
  }
  state.db_path = options.db_path.empty() ? Database::default_path() : options.db_path;
  auto catalog = Database::open(state.db_path);
  if (!catalog.is_ok()) return catalog.status();
  state.catalog = std::move(catalog).value();

  state.metrics.add_gauge("simile_embedding_queue_tokens", "Tokens waiting for an embedding pass, by model.", [&state] {
    std::vector<std::pair<std::string, double>> v;
    for (const ServedModel& m : state.models)
      v.emplace_back("model=" + label_value(m.name), static_cast<double>(m.batcher->queued_tokens()));
    return v;
  });
  state.metrics.add_gauge("simile_embedding_queue_requests", "Requests waiting for an embedding pass, by model.",
                          [&state] {
                            std::vector<std::pair<std::string, double>> v;
                            for (const ServedModel& m : state.models)
                              v.emplace_back("model=" + label_value(m.name),
                                             static_cast<double>(m.batcher->queued_requests()));
                            return v;
                          });
  state.metrics.add_gauge("simile_memory_bytes",
                          "Process memory: resident, heap in use, heap freed but kept, held by SQLite.", [] {
                            const ProcessMemory m = process_memory();
                            return std::vector<std::pair<std::string, double>>{
                                {"kind=\"resident\"", static_cast<double>(m.resident)},
                                {"kind=\"heap_in_use\"", static_cast<double>(m.heap_in_use)},
                                {"kind=\"heap_free\"", static_cast<double>(m.heap_free)},
                                {"kind=\"sqlite\"", static_cast<double>(sqlite::memory_in_use())}};
                          });
  state.metrics.add_gauge("simile_collection_documents", "Documents stored, by collection.", [&state] {
    std::vector<std::pair<std::string, double>> v;
    std::lock_guard<std::mutex> lock(state.catalog_mu);
    auto list = state.catalog->list();
    if (list.is_ok())
      for (const CollectionInfo& c : *list)
        v.emplace_back("collection=" + label_value(c.name), static_cast<double>(c.documents));
    return v;
  });

  httplib::Server& http = impl->http;
  const int http_threads = std::max(1, options.http_threads);
  http.new_task_queue = [http_threads] { return new httplib::ThreadPool(static_cast<size_t>(http_threads)); };
  http.set_payload_max_length(limits.max_body_bytes);
  http.set_read_timeout(limits.timeout_seconds, 0);
  http.set_write_timeout(limits.timeout_seconds, 0);
  http.set_keep_alive_timeout(2);  // an idle kept-alive connection holds a thread this long
  Impl* raw = impl.get();
  http.set_pre_routing_handler([raw](const httplib::Request& req, httplib::Response& res) {
    const std::string& key = raw->state.options.api_key;
    if (key.empty() || is_public(req.path) || constant_time_equal(presented_key(req), key))
      return httplib::Server::HandlerResponse::Unhandled;
    ApiError e;
    e.status = 401;
    e.code = "invalid_api_key";
    e.message = "missing or wrong API key: send it as \"Authorization: Bearer KEY\"";
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(error_json(e), "application/json");
    raw->state.metrics.record_request("unauthorized", 401, 0);
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler([raw](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ApiError e;
    e.status = res.status;
    if (res.status == 404) {
      e.code = "not_found";
      e.message = "no route " + req.method + " " + req.path;
    } else if (res.status == 413) {
      e.code = "body_too_large";
      // The HTTP library caps form-encoded bodies (curl's default type for
      // --data) at 8 KiB, whatever the server's own limit.
      if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0)
        e.message = "a form-encoded request body is limited to 8192 bytes: send the JSON with "
                    "\"Content-Type: application/json\"";
      else
        e.message = "the request body is larger than " +
                    std::to_string(raw->state.options.limits.max_body_bytes) + " bytes";
    } else {
      e.message = "HTTP " + std::to_string(res.status);
    }
    res.set_content(error_json(e), "application/json");
    raw->state.metrics.record_request(res.status == 404 ? "unmatched" : "rejected", res.status, 0);
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = "unexpected error";
    res.status = 500;
    res.set_content(error_json(e), "application/json");
  });
  http.Get("/(|app\\.js|style\\.css|[a-z_-]+\\.(svg|js|css|html))",
           [](const httplib::Request& req, httplib::Response& res) {
             const PageAsset* a = find_page_asset(req.path);
             if (a == nullptr) {
               res.status = 404;
               return;
             }
             res.set_content(a->content.data(), a->content.size(), std::string(a->content_type));
           });
  for (const Route& route : impl->routes()) impl->add(route);

  const int port = options.port == 0 ? http.bind_to_any_port(options.host) : options.port;
  if (options.port != 0 && !http.bind_to_port(options.host, options.port))
    return Status::io_error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                            " (in use, or not an address of this machine)");
  if (port < 0) return Status::io_error("cannot listen on " + options.host + " (no free port)");
  impl->port = port;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

Status Server::run() {
  // Requests free what they allocate, but glibc keeps freed pages of its
  // per-thread arenas (64 HTTP threads and their OpenMP teams) mapped: the
  // resident size crept up under long mixed load while the heap in use
  // stayed flat (docs/reliability.md, soak). Handing them back every few
  // seconds keeps the RSS near what is in use.
  std::mutex trim_mu;
  std::condition_variable trim_cv;
  bool stopping = false;
  std::thread trimmer([&] {
    std::unique_lock<std::mutex> lock(trim_mu);
    while (!trim_cv.wait_for(lock, std::chrono::seconds(5), [&] { return stopping; })) malloc_trim(0);
  });
  // listen_after_bind() returns once stop() closed the socket and every
  // request in flight was answered.
  impl_->http.listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(trim_mu);
    stopping = true;
  }
  trim_cv.notify_all();
  trimmer.join();
  // Collections first (each holds a connection), then the catalog.
  std::lock_guard<std::mutex> lock(impl_->state.handles_mu);
  impl_->state.handles.clear();
  return Status::ok();
}

void Server::stop() { impl_->http.stop(); }

}  // namespace simile::server
