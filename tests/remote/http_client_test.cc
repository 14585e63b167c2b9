// The HTTP client (src/remote/http_client.h) against a real server on the
// loopback (tests/remote/test_llm_server.h): URLs, keys, status handling,
// retries and back-off, timeouts, refused connections and TLS verification.
#include "remote/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "../temp_dir.h"
#include "test_llm_server.h"

namespace simile::remote {
namespace {

using nlohmann::json;
using simile::testing::TempDir;
using simile::testing::TestLlmServer;
using simile::testing::TestLlmServerOptions;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A port on the loopback that nothing listens on: bound, then closed.
int refused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// An environment variable name no other test uses.
std::string unique_env_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "SIMILE_TEST_" + stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

HttpRequest embeddings_request(const TestLlmServer& server, const std::string& input = "hello") {
  HttpRequest r;
  r.url = server.url() + "/v1/embeddings";
  r.body = json{{"input", input}, {"model", "m"}}.dump();
  r.headers = {"Content-Type: application/json"};
  return r;
}

RetryPolicy quick_retries(int attempts) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.initial_backoff_s = 0.01;
  p.max_backoff_s = 0.02;
  return p;
}

TEST(HttpApiUrl, AppendsThePathToABaseUrl) {
  EXPECT_EQ(*api_url("http://127.0.0.1:8080", "embeddings"), "http://127.0.0.1:8080/v1/embeddings");
  EXPECT_EQ(*api_url("http://127.0.0.1:8080/", "embeddings"), "http://127.0.0.1:8080/v1/embeddings");
  EXPECT_EQ(*api_url("https://api.openai.com/v1", "chat/completions"), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(*api_url("https://api.openai.com/v1/", "chat/completions"), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(*api_url("http://host:11434/api/openai", "embeddings"), "http://host:11434/api/openai/embeddings");
  EXPECT_EQ(*api_url("  http://host  ", "embeddings"), "http://host/v1/embeddings");
  EXPECT_EQ(*api_url("HTTPS://host", "embeddings"), "HTTPS://host/v1/embeddings");
  // A query stays last.
  EXPECT_EQ(*api_url("https://x.example/openai/deployments/d?api-version=2024-02-01", "embeddings"),
            "https://x.example/openai/deployments/d/embeddings?api-version=2024-02-01");
}

TEST(HttpApiUrl, KeepsAFullEndpointUrl) {
  EXPECT_EQ(*api_url("http://host:8080/v1/embeddings", "embeddings"), "http://host:8080/v1/embeddings");
  EXPECT_EQ(*api_url("http://host:8080/v1/chat/completions/", "chat/completions"),
            "http://host:8080/v1/chat/completions");
  EXPECT_EQ(*api_url("https://x.example/d/chat/completions?api-version=1", "chat/completions"),
            "https://x.example/d/chat/completions?api-version=1");
}

TEST(HttpApiUrl, RefusesWhatIsNotAnHttpUrl) {
  for (const std::string bad : {"", "   ", "ftp://host/v1", "file:///etc/passwd", "localhost:8080", "127.0.0.1",
                                "http://", "https:///v1", "http://host name/v1"}) {
    auto r = api_url(bad, "embeddings");
    ASSERT_FALSE(r.is_ok()) << "'" << bad << "' gave " << *r;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_NE(api_url("ftp://host", "embeddings").status().message().find("http:// or https://"), std::string::npos);
  // No scheme: the message says what to write.
  EXPECT_NE(api_url("localhost:8080", "embeddings").status().message().find("http://localhost:8080"),
            std::string::npos);
  EXPECT_NE(api_url("", "embeddings").status().message().find("empty"), std::string::npos);
}

TEST(HttpBearerAuth, HeaderFromTheVariable) {
  const std::string var = unique_env_name("KEY");
  ::setenv(var.c_str(), "sk-test-123\n", 1);
  auto h = bearer_auth(var, false);
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  EXPECT_EQ(*h, std::vector<std::string>{"Authorization: Bearer sk-test-123"});
  EXPECT_TRUE(bearer_auth(var, true).is_ok());
  ::unsetenv(var.c_str());
}

TEST(HttpBearerAuth, UnsetIsNoHeaderUnlessRequired) {
  const std::string var = unique_env_name("UNSET");
  ::unsetenv(var.c_str());
  auto none = bearer_auth(var, false);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  auto required = bearer_auth(var, true);
  ASSERT_FALSE(required.is_ok());
  EXPECT_EQ(required.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(required.status().message().find(var), std::string::npos) << required.status().message();
  // Set but empty counts as unset.
  ::setenv(var.c_str(), "", 1);
  EXPECT_TRUE(bearer_auth(var, false)->empty());
  EXPECT_FALSE(bearer_auth(var, true).is_ok());
  ::unsetenv(var.c_str());
}

TEST(HttpBearerAuth, RefusesAKeyThatWouldBreakTheHeader) {
  const std::string var = unique_env_name("BADKEY");
  ::setenv(var.c_str(), "sk-a\r\nX-Injected: 1", 1);
  auto r = bearer_auth(var, false);
  EXPECT_FALSE(r.is_ok());
  ::unsetenv(var.c_str());
}

TEST(HttpSend, PostsAndReadsTheAnswer) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  auto r = http_send(embeddings_request(server, "hello"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->content_type.find("application/json"), std::string::npos) << r->content_type;
  EXPECT_FALSE(r->retry_after_s.has_value());
  const json body = json::parse(r->body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["data"][0]["embedding"].size(), 8u);
  ASSERT_EQ(server.requests("/v1/embeddings").size(), 1u);
  EXPECT_EQ(server.requests("/v1/embeddings")[0]["input"], "hello");

  // No body: a GET.
  HttpRequest get;
  get.url = server.url() + "/test/requests";
  auto g = http_send(get);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(json::parse(g->body).size(), 1u);
}

TEST(HttpSend, AnErrorStatusIsAResponse) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  HttpRequest r;
  r.url = server.url() + "/v1/no-such-thing";
  r.body = "{}";
  auto response = http_send(r);
  ASSERT_TRUE(response.is_ok()) << response.status().message();
  EXPECT_EQ(response->status, 404);
  const Status e = http_error(*response, r.url);
  EXPECT_EQ(e.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(e.message(), r.url + ": HTTP 404: Invalid URL (POST /v1/no-such-thing)");
}

TEST(HttpSend, StreamsTheBodyInPieces) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  HttpRequest r;
  r.url = server.url() + "/v1/chat/completions";
  r.body = R"({"stream": true, "messages": [{"role": "user", "content": "[1] a\nsome text to quote here"}]})";
  std::string seen;
  int pieces = 0;
  r.on_body = [&](std::string_view piece) {
    seen.append(piece);
    ++pieces;
    return true;
  };
  auto response = http_send(r);
  ASSERT_TRUE(response.is_ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body_started);
  EXPECT_TRUE(response->body.empty()) << "a streamed body is not kept";
  EXPECT_NE(response->content_type.find("text/event-stream"), std::string::npos);
  EXPECT_GT(pieces, 1);
  EXPECT_NE(seen.find("data: [DONE]"), std::string::npos);

  // Returning false stops the transfer: the response so far, not an error.
  std::string first;
  r.on_body = [&](std::string_view piece) {
    first.assign(piece);
    return false;
  };
  auto stopped = http_send(r);
  ASSERT_TRUE(stopped.is_ok()) << stopped.status().message();
  EXPECT_EQ(stopped->status, 200);
  EXPECT_TRUE(stopped->body_started);
  EXPECT_FALSE(first.empty());
}

TEST(HttpSend, OnlyHttpAndHttps) {
  for (const std::string url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/"}) {
    HttpRequest r;
    r.url = url;
    auto response = http_send(r);
    ASSERT_FALSE(response.is_ok()) << url;
    EXPECT_NE(response.status().message().find(url), std::string::npos) << response.status().message();
  }
}

TEST(HttpSend, RefusedConnectionIsUnavailableNamingTheUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(refused_port()) + "/v1/embeddings";
  HttpRequest r;
  r.url = url;
  r.body = "{}";
  auto response = http_send(r);
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(response.status().message().rfind(url + ": cannot connect: ", 0), 0u) << response.status().message();

  // Retried, as a service that is restarting would be.
  int retries = 0;
  auto retried = http_send_with_retries(r, quick_retries(3), [&](const std::string& reason) {
    ++retries;
    EXPECT_NE(reason.find("cannot connect"), std::string::npos) << reason;
  });
  EXPECT_EQ(retried.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(retries, 2);
}

TEST(HttpSend, OverallTimeout) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.set_delay_ms(5000);
  HttpRequest r = embeddings_request(server);
  r.timeout_s = 0.3;
  const auto start = Clock::now();
  auto response = http_send(r);
  const double elapsed = seconds_since(start);
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(response.status().message().find("timed out"), std::string::npos) << response.status().message();
  EXPECT_NE(response.status().message().find(r.url), std::string::npos) << response.status().message();
  EXPECT_GE(elapsed, 0.25);
  EXPECT_LT(elapsed, 2.0);
}

TEST(HttpSend, IdleTimeoutWhenNothingArrives) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.set_delay_ms(5000);
  HttpRequest r = embeddings_request(server);
  r.timeout_s = 0;
  r.idle_timeout_s = 0.3;
  const auto start = Clock::now();
  auto response = http_send(r);
  const double elapsed = seconds_since(start);
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(response.status().message().find("timed out: nothing arrived for 0.3 s"), std::string::npos)
      << response.status().message();
  EXPECT_GE(elapsed, 0.25);
  EXPECT_LT(elapsed, 2.0);
}

TEST(HttpRetries, RetriesServerErrorsThenSucceeds) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(2, 503);
  std::vector<std::string> reasons;
  auto r = http_send_with_retries(embeddings_request(server), quick_retries(3),
                                  [&](const std::string& reason) { reasons.push_back(reason); });
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.requests().size(), 3u);
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find("HTTP 503"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[0].find("overloaded"), std::string::npos) << "the server's message: " << reasons[0];
  EXPECT_NE(reasons[1].find("attempt 3 of 3"), std::string::npos) << reasons[1];
}

TEST(HttpRetries, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(5, 429);
  const HttpRequest request = embeddings_request(server);
  auto r = http_send_with_retries(request, quick_retries(2));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(server.requests().size(), 2u);
  const Status e = http_error(*r, request.url);
  EXPECT_EQ(e.code(), Status::Code::kUnavailable);
  EXPECT_NE(e.message().find("429"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("Rate limit reached for requests"), std::string::npos) << e.message();
}

TEST(HttpRetries, DoesNotRetryClientErrors) {
  TestLlmServerOptions options;
  options.api_key = "sk-right";
  TestLlmServer server(options);
  ASSERT_TRUE(server.listening());
  int retries = 0;
  auto r = http_send_with_retries(embeddings_request(server), quick_retries(4), [&](const std::string&) { ++retries; });
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(retries, 0);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpRetries, HonoursRetryAfter) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(1, 429, 1);
  const auto start = Clock::now();
  auto r = http_send_with_retries(embeddings_request(server), quick_retries(2));
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(elapsed, 1.0) << "Retry-After: 1 outweighs a 10 ms back-off";
  EXPECT_LT(elapsed, 3.0);
}

TEST(HttpRetries, BacksOffBetweenAttempts) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(2, 500);
  RetryPolicy p;
  p.max_attempts = 3;
  p.initial_backoff_s = 0.1;
  p.max_backoff_s = 1;
  const auto start = Clock::now();
  auto r = http_send_with_retries(embeddings_request(server), p);
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  // Waits of [50%, 100%] of 0.1 s, then of 0.2 s.
  EXPECT_GE(elapsed, 0.15);
  EXPECT_LT(elapsed, 1.5);
}

TEST(HttpError, QuotesTheServersMessage) {
  HttpResponse r;
  r.status = 400;
  r.body = R"({"error": {"message": "This model's maximum context length is 8192 tokens", "type": "x"}})";
  EXPECT_EQ(http_error(r, "http://h/v1/e").message(),
            "http://h/v1/e: HTTP 400: This model's maximum context length is 8192 tokens");
  EXPECT_EQ(http_error(r, "u").code(), Status::Code::kInvalidArgument);
  r.status = 500;
  r.body = R"({"error": "model not loaded"})";  // Ollama, TGI
  EXPECT_EQ(http_error(r, "u").message(), "u: HTTP 500: model not loaded");
  EXPECT_EQ(http_error(r, "u").code(), Status::Code::kUnavailable);
  r.status = 422;
  r.body = R"({"detail": "input is required"})";  // FastAPI
  EXPECT_EQ(http_error(r, "u").message(), "u: HTTP 422: input is required");
  r.status = 502;
  r.body = "<html>\n<body>Bad Gateway</body>\n</html>\n";
  EXPECT_EQ(http_error(r, "u").message(), "u: HTTP 502: <html> <body>Bad Gateway</body> </html>");
  r.body = "";
  EXPECT_EQ(http_error(r, "u").message(), "u: HTTP 502");
  r.status = 429;
  r.body = std::string(1000, 'x');
  const std::string m = http_error(r, "u").message();
  EXPECT_EQ(m, "u: HTTP 429: " + std::string(300, 'x'));
}

// A self-signed certificate for 127.0.0.1 in `dir`: false when the openssl
// command is missing or fails.
bool make_certificate(const TempDir& dir) {
  if (std::system("openssl version >/dev/null 2>&1") != 0) return false;
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
      dir.file("key.pem") + "' -out '" + dir.file("cert.pem") + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(HttpTls, VerifiesTheCertificate) {
  TempDir dir;
  if (!make_certificate(dir)) GTEST_SKIP() << "no openssl command to make a certificate with";
  TestLlmServerOptions options;
  options.cert_file = dir.file("cert.pem");
  options.key_file = dir.file("key.pem");
  TestLlmServer server(options);
  ASSERT_TRUE(server.listening());
  ASSERT_EQ(server.url().rfind("https://", 0), 0u);

  // Not signed by anyone the system trusts: refused, and not retried.
  HttpRequest r = embeddings_request(server);
  int retries = 0;
  auto refused = http_send_with_retries(r, quick_retries(3), [&](const std::string&) { ++retries; });
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
  const std::string& m = refused.status().message();
  EXPECT_TRUE(m.find("certificate") != std::string::npos || m.find("SSL") != std::string::npos) << m;
  EXPECT_NE(m.find(r.url), std::string::npos) << m;
  EXPECT_EQ(retries, 0);
  EXPECT_TRUE(server.requests().empty());

  // Trusted when given as the CA.
  r.ca_file = dir.file("cert.pem");
  auto accepted = http_send(r);
  ASSERT_TRUE(accepted.is_ok()) << accepted.status().message();
  EXPECT_EQ(accepted->status, 200);
  EXPECT_EQ(server.requests().size(), 1u);

  // A CA file that is not there is the caller's mistake, not a fallback to the system's store.
  r.ca_file = dir.file("missing.pem");
  auto missing = http_send(r);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("CA file '" + r.ca_file + "'"), std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace simile::remote
