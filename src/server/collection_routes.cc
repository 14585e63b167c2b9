// The collection endpoints (docs/server.md): create, list, info, drop;
// documents upsert, get, delete; search, similar and related documents.
#include <httplib.h>

#include <regex>

#include "search/hit_json.h"
#include "server/routes.h"

namespace simile::server {

namespace {

using nlohmann::json;

// Collection names the API knows: ASCII letters, digits, '_', '-' and '.',
// starting with a letter or digit, at most 64 characters (the store's rule,
// less the hidden names starting with '.' that a reembed works in).
bool valid_collection_name(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  return std::regex_match(name, kName);
}

ApiError no_collection(const std::string& name) { return ApiError::not_found("no collection '" + name + "'"); }

// Model names a request may ask a collection to use: cache names, never
// paths (a request must not make the server read arbitrary directories).
bool valid_model_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
         name.find("..") == std::string::npos;
}

json info_json(const CollectionInfo& c) {
  return {{"name", c.name},
          {"model", c.model},
          {"dims", c.dims},
          {"metric", c.metric},
          {"vector_type", c.vector_type},
          {"chunk_tokens", c.chunk_tokens},
          {"overlap_tokens", c.overlap_tokens},
          {"pooling", c.pooling},
          {"normalize", c.normalize},
          {"query_prompt", c.query_prompt},
          {"document_prompt", c.document_prompt},
          {"related_k", c.related_k},
          {"created_at", c.created_at},
          {"documents", c.documents},
          {"chunks", c.chunks}};
}

json summary_json(const IngestSummary& s) {
  return {{"added", s.added},     {"updated", s.updated}, {"unchanged", s.unchanged},
          {"chunks", s.chunks},   {"tokens", s.tokens},   {"seconds", s.seconds}};
}

// Runs `work` on the collection named by the request's first path group,
// holding its lock.
template <typename Work>
Reply with_collection(ServerState& state, const httplib::Request& req, Work work) {
  if (!valid_collection_name(req.matches[1])) return Reply::error(no_collection(req.matches[1]));
  auto handle = state.collection(req.matches[1]);
  if (auto* e = std::get_if<ApiError>(&handle)) return Reply::error(*e);
  auto& h = std::get<std::shared_ptr<CollectionHandle>>(handle);
  std::lock_guard<std::mutex> lock(h->mu);
  if (h->dropped) return Reply::error(ApiError::not_found("no collection '" + std::string(req.matches[1]) + "'"));
  return work(*h->collection);
}

// k from the query string (?k=N), 10 when absent.
std::variant<size_t, ApiError> query_k(const httplib::Request& req, size_t max_k) {
  if (!req.has_param("k")) return size_t{10};
  const std::string text = req.get_param_value("k");
  char* end = nullptr;
  const unsigned long long k = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || k < 1 || k > max_k)
    return ApiError::bad_request("k must be an integer from 1 to " + std::to_string(max_k), "k");
  return static_cast<size_t>(k);
}

Reply create(ServerState& state, const httplib::Request& req) {
  auto body_or = json_body(req);
  if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
  const json& body = std::get<json>(body_or);
  std::string name;
  CollectionSettings settings;
  if (auto e = read_string(body, "name", name)) return Reply::error(*e);
  if (!valid_collection_name(name))
    return Reply::error(ApiError::bad_request(
        "name must be 1-64 characters of A-Z a-z 0-9 _ - . starting with a letter or digit", "name"));
  if (auto e = read_string(body, "model", settings.model)) return Reply::error(*e);
  if (settings.model.empty()) settings.model = state.models.front().name;
  if (!valid_model_name(settings.model))
    return Reply::error(ApiError::bad_request("model must be a model cache name (or \"none\"), not a path", "model"));
  if (auto e = read_string(body, "metric", settings.metric)) return Reply::error(*e);
  if (auto e = read_string(body, "vector_type", settings.vector_type)) return Reply::error(*e);
  if (auto e = read_string(body, "analyzer", settings.analyzer)) return Reply::error(*e);
  if (auto e = read_size(body, "chunk_tokens", 0, 1u << 20, settings.chunk_tokens)) return Reply::error(*e);
  if (auto e = read_size(body, "overlap_tokens", 0, 1u << 20, settings.overlap_tokens)) return Reply::error(*e);
  {
    std::lock_guard<std::mutex> lock(state.catalog_mu);
    if (state.catalog->info(name).is_ok()) {
      ApiError e;
      e.status = 409;
      e.code = "already_exists";
      e.param = "name";
      e.message = "collection '" + name + "' exists";
      return Reply::error(e);
    }
  }
  auto db = Database::open(state.db_path);
  if (!db.is_ok()) return Reply::error(error_from_status(db.status()));
  EmbedderOptions runtime;
  runtime.threads = state.options.threads;
  auto c = (*db)->open_collection(name, &settings, runtime);
  if (!c.is_ok()) return Reply::error(error_from_status(c.status()));
  const json info = info_json((*c)->info());
  auto handle = std::make_shared<CollectionHandle>();
  handle->db = std::move(db).value();
  handle->collection = std::move(c).value();
  {
    std::lock_guard<std::mutex> lock(state.handles_mu);
    state.handles[name] = handle;
  }
  return Reply::json(info, 201);
}

Reply drop(ServerState& state, const httplib::Request& req) {
  const std::string name = req.matches[1];
  if (!valid_collection_name(name)) return Reply::error(no_collection(name));
  std::shared_ptr<CollectionHandle> handle;
  {
    std::lock_guard<std::mutex> lock(state.handles_mu);
    if (auto it = state.handles.find(name); it != state.handles.end()) {
      handle = it->second;
      state.handles.erase(it);
    }
  }
  if (handle) {  // wait for its request in flight, and close its connection
    std::lock_guard<std::mutex> lock(handle->mu);
    handle->dropped = true;
    handle->collection.reset();
    handle->db.reset();
  }
  std::lock_guard<std::mutex> lock(state.catalog_mu);
  Status st = state.catalog->drop(name);
  if (!st.is_ok()) return Reply::error(error_from_status(st));
  return Reply::json({{"dropped", name}});
}

Reply upsert(ServerState& state, const httplib::Request& req) {
  auto body_or = json_body(req);
  if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
  const json& body = std::get<json>(body_or);
  if (!body.contains("documents") || !body["documents"].is_array() || body["documents"].empty())
    return Reply::error(ApiError::bad_request(
        "documents must be a non-empty array of {\"id\", \"text\", \"title\", \"meta\"}", "documents"));
  const json& docs = body["documents"];
  if (auto e = check_items("documents", docs.size(), state.options.limits.max_documents)) return Reply::error(*e);
  std::vector<DocumentInput> inputs;
  for (size_t i = 0; i < docs.size(); ++i) {
    const json& d = docs[i];
    const std::string where = "documents[" + std::to_string(i) + "]";
    if (!d.is_object()) return Reply::error(ApiError::bad_request(where + " must be an object", "documents"));
    DocumentInput in;
    for (auto [field, out] : {std::pair{"id", &in.id}, {"text", &in.text}, {"title", &in.title}}) {
      if (auto e = read_string(d, field, *out)) {
        e->message = where + "." + e->message;
        e->param = "documents";
        return Reply::error(*e);
      }
    }
    if (in.id.empty()) return Reply::error(ApiError::bad_request(where + ".id is missing or empty", "documents"));
    if (d.contains("meta") && !d["meta"].is_null()) {
      if (!d["meta"].is_object())
        return Reply::error(ApiError::bad_request(where + ".meta must be an object", "documents"));
      in.meta = d["meta"].dump();
    }
    inputs.push_back(std::move(in));
  }
  return with_collection(state, req, [&](Collection& c) {
    auto summary = c.upsert(inputs, {});
    if (!summary.is_ok()) return Reply::error(error_from_status(summary.status(), "documents"));
    return Reply::json(summary_json(*summary));
  });
}

Reply search(ServerState& state, const httplib::Request& req) {
  auto body_or = json_body(req);
  if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
  const json& body = std::get<json>(body_or);
  std::string query, mode = "auto";
  SearchOptions options;
  if (!body.contains("query")) return Reply::error(ApiError::bad_request("query is missing", "query"));
  if (auto e = read_string(body, "query", query)) return Reply::error(*e);
  if (auto e = read_string(body, "mode", mode)) return Reply::error(*e);
  auto parsed_mode = parse_search_mode(mode);
  if (!parsed_mode.is_ok()) return Reply::error(error_from_status(parsed_mode.status(), "mode"));
  options.mode = *parsed_mode;
  if (auto e = read_size(body, "k", 1, state.options.limits.max_k, options.k)) return Reply::error(*e);
  if (auto e = read_string(body, "filter", options.filter)) return Reply::error(*e);
  if (auto e = read_bool(body, "explain", options.explain)) return Reply::error(*e);
  if (auto e = read_bool(body, "center", options.center)) return Reply::error(*e);
  if (auto e = read_size(body, "candidates", 0, 10000, options.candidates)) return Reply::error(*e);
  double mmr = -1;
  if (auto e = read_number(body, "mmr", 0, 1, mmr)) return Reply::error(*e);
  if (mmr >= 0) options.mmr_lambda = mmr;
  if (body.contains("rerank") && !body["rerank"].is_null() && body["rerank"] != false) {
    const json& r = body["rerank"];
    if (!r.is_boolean() && !r.is_string())
      return Reply::error(ApiError::bad_request("rerank must be true or a re-ranking model's name", "rerank"));
    ApiError error;
    const Reranker* reranker = state.find_reranker(r.is_string() ? r.get<std::string>() : "", &error);
    if (reranker == nullptr) {
      error.param = "rerank";
      return Reply::error(error);
    }
    options.rerank = reranker->info().dir;  // the collection opens it once and keeps it
  }
  return with_collection(state, req, [&](Collection& c) {
    SearchReport report;
    auto hits = c.search(query, options, &report);
    if (!hits.is_ok()) return Reply::error(error_from_status(hits.status()));
    return Reply::json(search_json(query, *hits, report));
  });
}

}  // namespace

std::vector<Route> collection_routes(ServerState& state) {
  ServerState* s = &state;
  const std::string name = "/collections/([^/]+)";
  return {
      {"GET", "/collections", "collections.list",
       [s](const httplib::Request&) {
         std::lock_guard<std::mutex> lock(s->catalog_mu);
         auto list = s->catalog->list();
         if (!list.is_ok()) return Reply::error(error_from_status(list.status()));
         json arr = json::array();
         for (const CollectionInfo& c : *list) arr.push_back(info_json(c));
         return Reply::json({{"collections", arr}});
       }},
      {"POST", "/collections", "collections.create", [s](const httplib::Request& req) { return create(*s, req); }},
      {"GET", name, "collections.info",
       [s](const httplib::Request& req) {
         if (!valid_collection_name(req.matches[1])) return Reply::error(no_collection(req.matches[1]));
         std::lock_guard<std::mutex> lock(s->catalog_mu);
         auto info = s->catalog->info(req.matches[1]);
         if (!info.is_ok()) {
           ApiError e = error_from_status(info.status());
           if (e.status == 404) e.message = "no collection '" + std::string(req.matches[1]) + "'";
           return Reply::error(e);
         }
         return Reply::json(info_json(*info));
       }},
      {"DELETE", name, "collections.drop", [s](const httplib::Request& req) { return drop(*s, req); }},
      {"POST", name + "/documents", "documents.upsert", [s](const httplib::Request& req) { return upsert(*s, req); }},
      {"POST", name + "/documents/delete", "documents.delete",
       [s](const httplib::Request& req) {
         auto body_or = json_body(req);
         if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
         const json& body = std::get<json>(body_or);
         if (!body.contains("ids") || !body["ids"].is_array())
           return Reply::error(ApiError::bad_request("ids must be an array of document ids", "ids"));
         std::vector<std::string> ids;
         for (const json& id : body["ids"]) {
           if (!id.is_string()) return Reply::error(ApiError::bad_request("ids must hold strings", "ids"));
           ids.push_back(id.get<std::string>());
         }
         return with_collection(*s, req, [&](Collection& c) {
           auto n = c.remove(ids);
           if (!n.is_ok()) return Reply::error(error_from_status(n.status()));
           return Reply::json({{"deleted", *n}});
         });
       }},
      {"POST", name + "/search", "search", [s](const httplib::Request& req) { return search(*s, req); }},
      {"GET", name + "/documents/(.+)/similar", "documents.similar",
       [s](const httplib::Request& req) {
         auto k = query_k(req, s->options.limits.max_k);
         if (auto* e = std::get_if<ApiError>(&k)) return Reply::error(*e);
         SearchOptions options;
         options.k = std::get<size_t>(k);
         if (req.has_param("filter")) options.filter = req.get_param_value("filter");
         return with_collection(*s, req, [&](Collection& c) {
           auto hits = c.similar(req.matches[2], options);
           if (!hits.is_ok()) return Reply::error(error_from_status(hits.status()));
           return Reply::json({{"id", std::string(req.matches[2])}, {"results", hits_json(*hits)}});
         });
       }},
      {"GET", name + "/documents/(.+)/related", "documents.related",
       [s](const httplib::Request& req) {
         return with_collection(*s, req, [&](Collection& c) {
           auto hits = c.related(req.matches[2]);
           if (!hits.is_ok()) return Reply::error(error_from_status(hits.status()));
           return Reply::json({{"id", std::string(req.matches[2])}, {"results", hits_json(*hits)}});
         });
       }},
      {"POST", name + "/related", "collections.related",
       [s](const httplib::Request& req) {
         auto body_or = json_body(req);
         if (auto* e = std::get_if<ApiError>(&body_or)) return Reply::error(*e);
         size_t k = 10;
         if (auto e = read_size(std::get<json>(body_or), "k", 1, 100, k)) return Reply::error(*e);
         return with_collection(*s, req, [&](Collection& c) {
           auto summary = c.update_related(k);
           if (!summary.is_ok()) return Reply::error(error_from_status(summary.status()));
           return Reply::json({{"documents", summary->documents}, {"seconds", summary->seconds}, {"k", k}});
         });
       }},
      {"GET", name + "/documents/(.+)", "documents.get",
       [s](const httplib::Request& req) {
         return with_collection(*s, req, [&](Collection& c) {
           auto d = c.get(req.matches[2]);
           if (!d.is_ok()) return Reply::error(error_from_status(d.status()));
           if (!*d)
             return Reply::error(ApiError::not_found("no document '" + std::string(req.matches[2]) + "' in " +
                                                     std::string(req.matches[1])));
           json meta = (*d)->meta.empty() ? json::object() : json::parse((*d)->meta, nullptr, false);
           return Reply::json({{"id", (*d)->id}, {"title", (*d)->title}, {"text", (*d)->text}, {"meta", meta}});
         });
       }},
      {"DELETE", name + "/documents/(.+)", "documents.delete",
       [s](const httplib::Request& req) {
         return with_collection(*s, req, [&](Collection& c) {
           auto n = c.remove({req.matches[2]});
           if (!n.is_ok()) return Reply::error(error_from_status(n.status()));
           if (*n == 0)
             return Reply::error(ApiError::not_found("no document '" + std::string(req.matches[2]) + "' in " +
                                                     std::string(req.matches[1])));
           return Reply::json({{"deleted", *n}});
         });
       }},
  };
}

}  // namespace simile::server
