// Requests to `simile serve` from anywhere: a real server on 127.0.0.1 with
// the default model and a collection, and each input sent to it as one HTTP
// request. The first byte picks the route; the rest is the JSON body (or,
// for the last choices, a path and a body split at the first newline). The
// server must answer every one with a status below 500 and a JSON body, and
// keep answering.
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fuzz_util.h"
#include "server/server.h"

namespace {

struct Running {
  std::unique_ptr<simile::server::Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;

  ~Running() {
    if (!thread.joinable()) return;
    server->stop();
    thread.join();
  }
};

Running& running() {
  static Running r;
  static bool started = [] {
    simile::server::ServerOptions options;
    options.port = 0;
    options.db_path = simile::fuzz::scratch_dir() + "/fuzz.db";
    // The default model by its cache name, from the tests' SIMILE_HOME.
    setenv("SIMILE_HOME", simile::fuzz::env_path("SIMILE_HOME", SIMILE_DEFAULT_HOME).c_str(), 1);
    options.threads = 1;
    options.http_threads = 4;
    options.limits.max_body_bytes = 1 << 16;
    options.limits.max_documents = 64;
    options.limits.max_inputs = 64;
    auto s = simile::server::Server::start(options);
    FUZZ_CHECK(s.is_ok(), "server: %s", s.status().message().c_str());
    r.server = std::move(s).value();
    r.thread = std::thread([srv = r.server.get()] { (void)srv->run(); });
    r.client = std::make_unique<httplib::Client>("127.0.0.1", r.server->port());
    r.client->set_read_timeout(60, 0);
    auto created = r.client->Post("/collections", R"({"name": "fz"})", "application/json");
    FUZZ_CHECK(created && created->status == 201, "creating the collection: %d", created ? created->status : -1);
    auto added = r.client->Post("/collections/fz/documents",
                                R"({"documents": [{"id": "a", "text": "cats purr", "meta": {"year": 2001}},
                                                  {"id": "b/../c", "text": "dogs bark", "title": "Dogs"}]})",
                                "application/json");
    FUZZ_CHECK(added && added->status == 200, "seeding the collection");
    return true;
  }();
  (void)started;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Running& r = running();
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string method = "POST", path;
  switch (data[0] % 10) {
    case 0: path = "/v1/embeddings"; break;
    case 1: path = "/v1/rerank"; break;
    case 2: path = "/collections"; break;
    case 3: path = "/collections/fz/documents"; break;
    case 4: path = "/collections/fz/documents/delete"; break;
    case 5: path = "/collections/fz/search"; break;
    case 6: path = "/collections/fz/related"; break;
    default: {
      // A path of the fuzzer's own, percent-encoded as a client would.
      const size_t nl = rest.find('\n');
      std::string raw = rest.substr(0, nl);
      rest = nl == std::string::npos ? "" : rest.substr(nl + 1);
      path = "/";
      for (unsigned char c : raw) {
        if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '?' || c == '=' || c == '&') {
          path += static_cast<char>(c);
        } else {
          char hex[4];
          std::snprintf(hex, sizeof hex, "%%%02X", c);
          path += hex;
        }
      }
      method = data[0] % 10 == 7 ? "GET" : data[0] % 10 == 8 ? "POST" : "DELETE";
      // Dropping the seeded collection would end most of the exploration.
      if (method == "DELETE" && path.rfind("/collections/fz", 0) == 0 && path.find('/', 13) == std::string::npos)
        return 0;
    }
  }
  httplib::Result res = method == "GET"    ? r.client->Get(path)
                        : method == "POST" ? r.client->Post(path, rest, "application/json")
                                           : r.client->Delete(path, rest, "application/json");
  FUZZ_CHECK(res, "%s %s: no answer (%s)", method.c_str(), path.c_str(), httplib::to_string(res.error()).c_str());
  FUZZ_CHECK(res->status < 500, "%s %s: %d %s", method.c_str(), path.c_str(), res->status, res->body.c_str());
  if (res->get_header_value("Content-Type").rfind("application/json", 0) == 0) {
    FUZZ_CHECK(nlohmann::json::accept(res->body), "%s %s: a body that is not JSON: %s", method.c_str(), path.c_str(),
               res->body.c_str());
  }
  return 0;
}
