// The HTTP server under concurrent clients, in process so ThreadSanitizer
// sees both sides (scripts/test.sh runs it in the TSan build): clients on
// their own threads embed, create collections, upsert, search, delete and
// drop at once, on shared and on their own collections, while others read
// the metrics. Every answer must be the expected status; the data each
// client wrote must be there at the end.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../test_env.h"
#include "server/server.h"

namespace simile::server {
namespace {

using nlohmann::json;

class ServerConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    options.db_path = dir_ + "/server.db";
    // The default model by its cache name (collections take names, not paths).
    setenv("SIMILE_HOME", testing::env_or_fail("SIMILE_HOME").c_str(), 1);
    options.threads = 1;  // the model's own threads are OpenMP's, which TSan cannot see into
    options.http_threads = 8;
    auto s = Server::start(options);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    server_ = std::move(s).value();
    thread_ = std::thread([this] { run_status_ = server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(run_status_.is_ok()) << run_status_.message();
    std::filesystem::remove_all(dir_);
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    return c;
  }

  static std::string make_dir() {
    std::string templ = ::testing::TempDir() + "simile-server-XXXXXX";
    EXPECT_NE(mkdtemp(templ.data()), nullptr);
    return templ;
  }

  std::string dir_ = make_dir();
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status run_status_;
};

// The id client t gives its document of round r: "t<t>r<r>" (r < 0: the
// prefix of them all).
std::string doc_id(int t, int r) {
  std::string id = "t";
  id += std::to_string(t);
  id += 'r';
  if (r >= 0) id += std::to_string(r);
  return id;
}

// Posts JSON; returns the status (-1 without an answer) and parses the body.
int post(httplib::Client& c, const std::string& path, const json& body, json* reply = nullptr) {
  auto res = c.Post(path, body.dump(), "application/json");
  if (!res) return -1;
  if (reply != nullptr) *reply = json::parse(res->body, nullptr, false);
  return res->status;
}

TEST_F(ServerConcurrencyTest, ClientsWritingAndReadingAtOnceGetConsistentAnswers) {
  {
    httplib::Client c = client();
    ASSERT_EQ(post(c, "/collections", {{"name", "shared"}}), 201);
  }
  constexpr int kClients = 6;
  constexpr int kRounds = 4;
  std::atomic<int> failures{0};
  auto expect = [&failures](int got, int want, const std::string& what) {
    if (got == want) return;
    ++failures;
    ADD_FAILURE() << what << ": HTTP " << got << ", want " << want;
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c = client();
      const std::string own = "own" + std::to_string(t);
      expect(post(c, "/collections", {{"name", own}}), 201, own + " create");
      for (int r = 0; r < kRounds; ++r) {
        const std::string id = doc_id(t, r);
        const json doc = {{"documents",
                           {{{"id", id}, {"text", "client " + std::to_string(t) + " wrote round " + std::to_string(r)},
                             {"meta", {{"t", t}}}}}}};
        expect(post(c, "/collections/shared/documents", doc), 200, id + " upsert shared");
        expect(post(c, "/collections/" + own + "/documents", doc), 200, id + " upsert own");
        json reply;
        expect(post(c, "/v1/embeddings", {{"input", {"round " + std::to_string(r), "client"}}}, &reply), 200,
               id + " embeddings");
        expect(post(c, "/collections/shared/search",
                    {{"query", "client wrote"}, {"k", 3}, {"filter", "t = " + std::to_string(t)}}, &reply),
               200, id + " search");
        if (reply.is_object() && reply.contains("results"))
          for (const json& hit : reply["results"])
            if (hit["id"].get<std::string>().rfind(doc_id(t, -1), 0) != 0) {
              ++failures;
              ADD_FAILURE() << "filter t = " << t << " returned " << hit["id"];
            }
        auto metrics = c.Get("/metrics");
        expect(metrics ? metrics->status : -1, 200, "metrics");
        if (r % 2 == 1)
          expect(post(c, "/collections/" + own + "/documents/delete", {{"ids", {id}}}), 200, id + " delete");
      }
      auto dropped = c.Delete("/collections/" + own);
      expect(dropped ? dropped->status : -1, 200, own + " drop");
    });
  }
  for (std::thread& t : clients) t.join();
  ASSERT_EQ(failures.load(), 0);

  httplib::Client c = client();
  for (int t = 0; t < kClients; ++t)
    for (int r = 0; r < kRounds; ++r) {
      const std::string id = doc_id(t, r);
      auto res = c.Get("/collections/shared/documents/" + id);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200) << id;
    }
  auto list = c.Get("/collections");
  ASSERT_TRUE(list);
  const json collections = json::parse(list->body)["collections"];
  ASSERT_EQ(collections.size(), 1u) << list->body;
  EXPECT_EQ(collections[0]["documents"], kClients * kRounds);
}

}  // namespace
}  // namespace simile::server
