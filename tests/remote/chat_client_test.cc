// The chat completions client (src/remote/chat_client.h) against the test
// LLM service on the loopback (tests/remote/test_llm_server.h), whole and
// streamed answers, and against canned answers for what a service may send
// wrong.
#include "remote/chat_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "test_llm_server.h"

namespace simile::remote {
namespace {

using nlohmann::json;
using simile::testing::TestLlmServer;
using simile::testing::TestLlmServerOptions;
using Clock = std::chrono::steady_clock;

constexpr const char* kSources =
    "Answer from the sources.\n"
    "[1] Foxes\n"
    "The quick brown fox jumps over the lazy dog and keeps running far away into the woods.\n"
    "[2] Dogs\n"
    "Dogs sleep.\n";
constexpr const char* kAnswer = "According to [1], The quick brown fox jumps over the lazy dog and keeps.";

ChatEndpoint endpoint_of(const std::string& url) {
  ChatEndpoint e;
  e.url = url;
  e.api_key_env = "";  // the tests' environment may hold an OPENAI_API_KEY: not sent
  e.retry.max_attempts = 1;
  e.retry.initial_backoff_s = 0.01;
  e.retry.max_backoff_s = 0.02;
  return e;
}

ChatRequest user_says(const std::string& text) {
  ChatRequest r;
  r.messages = {{"system", "You answer from sources."}, {"user", text}};
  return r;
}

std::string unique_env_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return "SIMILE_TEST_CHAT_" + stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

int refused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A service that answers every chat request with the same bytes: for what a
// real one might send that the test LLM service never does.
class CannedServer {
 public:
  CannedServer(std::string content_type, std::string body, int status = 200) {
    http_.Post("/v1/chat/completions", [=](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, content_type);
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    while (!http_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~CannedServer() {
    http_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server http_;
  int port_ = -1;
  std::thread thread_;
};

std::string sse(const std::vector<std::string>& data) {
  std::string s;
  for (const std::string& d : data) s += "data: " + d + "\n\n";
  return s;
}

TEST(ChatClient, WholeAnswer) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  ChatEndpoint ep = endpoint_of(server.url());
  ep.model = "test-model-1";
  ChatRequest request = user_says(kSources);
  request.temperature = 0.25;
  request.max_tokens = 100;
  auto reply = chat(ep, request);
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, kAnswer);
  EXPECT_EQ(reply->model, "test-model-1");
  EXPECT_EQ(reply->finish_reason, "stop");
  ASSERT_TRUE(reply->usage.is_object());
  EXPECT_EQ(reply->usage["completion_tokens"], 14);
  EXPECT_EQ(reply->usage["total_tokens"].get<int>(),
            reply->usage["prompt_tokens"].get<int>() + reply->usage["completion_tokens"].get<int>());
  EXPECT_GT(reply->total_ms, 0);
  EXPECT_EQ(reply->first_token_ms, reply->total_ms);

  // What was sent: OpenAI's request shape.
  const std::vector<json> sent = server.requests("/v1/chat/completions");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["model"], "test-model-1");
  EXPECT_EQ(sent[0]["messages"], json::parse(R"([{"role": "system", "content": "You answer from sources."},
                                                 {"role": "user", "content": )" +
                                             json(kSources).dump() + "}]"));
  EXPECT_EQ(sent[0]["temperature"], 0.25);
  EXPECT_EQ(sent[0]["max_tokens"], 100);
  EXPECT_FALSE(sent[0].contains("stream"));
  EXPECT_FALSE(sent[0].contains("response_format"));
}

TEST(ChatClient, NoModelNoOptionsSentWhenNotGiven) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  auto reply = chat(endpoint_of(server.url()), user_says("no sources here"));
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, "I found no sources.");
  EXPECT_EQ(reply->model, "test-llm");
  const json sent = server.requests().at(0);
  EXPECT_FALSE(sent.contains("model"));
  EXPECT_FALSE(sent.contains("temperature"));
  EXPECT_FALSE(sent.contains("max_tokens"));
}

TEST(ChatClient, StreamedAnswerArrivesDeltaByDelta) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  ChatEndpoint ep = endpoint_of(server.url() + "/v1/chat/completions");
  ep.idle_timeout_s = 0.3;  // a stream that keeps coming is not idle, however long it lasts
  ep.timeout_s = 0.01;      // (the whole-answer limit does not apply to streams)
  std::vector<std::string> deltas;
  std::vector<Clock::time_point> when;
  auto reply = chat(ep, user_says(kSources), [&](std::string_view d) {
    deltas.emplace_back(d);
    when.push_back(Clock::now());
  });
  const auto end = Clock::now();
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, kAnswer);
  ASSERT_GT(deltas.size(), 1u);
  std::string joined;
  for (const std::string& d : deltas) joined += d;
  EXPECT_EQ(joined, reply->content);
  EXPECT_EQ(reply->finish_reason, "stop");
  EXPECT_EQ(reply->model, "test-llm");
  ASSERT_TRUE(reply->usage.is_object()) << "asked for with stream_options.include_usage";
  EXPECT_EQ(reply->usage["completion_tokens"], 14);
  // The first piece came well before the last (the service pauses 10 ms between pieces).
  EXPECT_GT(reply->first_token_ms, 0);
  EXPECT_LT(reply->first_token_ms + 50, reply->total_ms);
  EXPECT_LT(when.front() + std::chrono::milliseconds(50), end);

  const json sent = server.requests().at(0);
  EXPECT_EQ(sent["stream"], true);
  EXPECT_EQ(sent["stream_options"], json::parse(R"({"include_usage": true})"));
}

TEST(ChatClient, StreamedAndWholeAnswersAgreeOnUtf8) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  const std::string sources =
      "[1] 서울\n서울의 봄은 짧지만 아름답다. 벚꽃이 피고 사람들이 강변을 걷는다. 그리고 여름이 온다.\n";
  auto whole = chat(endpoint_of(server.url()), user_says(sources));
  ASSERT_TRUE(whole.is_ok()) << whole.status().message();
  EXPECT_EQ(whole->content, "According to [1], 서울의 봄은 짧지만 아름답다. 벚꽃이 피고.");
  std::string joined;
  auto streamed = chat(endpoint_of(server.url()), user_says(sources), [&](std::string_view d) {
    joined += d;
    // Each piece is whole characters: JSON (strict) takes only valid UTF-8.
    EXPECT_NO_THROW(json(std::string(d)).dump()) << "a piece splits a character";
  });
  ASSERT_TRUE(streamed.is_ok()) << streamed.status().message();
  EXPECT_EQ(streamed->content, whole->content);
  EXPECT_EQ(joined, whole->content);
}

TEST(ChatClient, JudgeAnswersWithJson) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  ChatRequest request;
  request.response_format = json::parse(R"({"type": "json_schema", "json_schema": {"name": "judgement", "strict": true,
      "schema": {"type": "object", "properties": {"plausible": {"type": "boolean"}, "confidence": {"type": "number"}},
                 "required": ["plausible", "confidence"], "additionalProperties": false}}})");
  request.messages = {{"system", "Judge whether the passage answers the question."},
                      {"user",
                       "Question: How do planes generate LIFT?\n"
                       "Passage: Wings generate lift because\nair moves faster over the top."}};
  auto reply = chat(endpoint_of(server.url()), request);
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  const json verdict = json::parse(reply->content, nullptr, false);
  ASSERT_TRUE(verdict.is_object()) << reply->content;
  // "planes", "generate", "lift": two of three in the passage.
  EXPECT_EQ(verdict["plausible"], true);
  EXPECT_DOUBLE_EQ(verdict["confidence"].get<double>(), 0.67);
  EXPECT_EQ(server.requests().at(0)["response_format"], request.response_format);

  request.messages.back().content = "Question: How do planes generate lift?\nPassage: Bread needs yeast.";
  std::string streamed;
  reply = chat(endpoint_of(server.url()), request, [&](std::string_view d) { streamed += d; });
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(streamed, reply->content);
  EXPECT_EQ(json::parse(reply->content), json::parse(R"({"plausible": false, "confidence": 1.0})"));
}

TEST(ChatClient, RetriesAnOverloadedService) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(2, 503);
  ChatEndpoint ep = endpoint_of(server.url());
  ep.retry.max_attempts = 3;
  std::string streamed;
  auto reply = chat(ep, user_says(kSources), [&](std::string_view d) { streamed += d; });
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, kAnswer);
  EXPECT_EQ(streamed, kAnswer) << "nothing from the failed attempts";
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ChatClient, RateLimitedToTheEndIsTheServersMessage) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.fail_next(5, 429);
  ChatEndpoint ep = endpoint_of(server.url());
  ep.retry.max_attempts = 2;
  auto reply = chat(ep, user_says(kSources));
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(reply.status().message().find("429"), std::string::npos) << reply.status().message();
  EXPECT_NE(reply.status().message().find("Rate limit reached for requests"), std::string::npos)
      << reply.status().message();
  EXPECT_NE(reply.status().message().find(server.url() + "/v1/chat/completions"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ChatClient, ApiKey) {
  TestLlmServerOptions options;
  options.api_key = "sk-right";
  TestLlmServer server(options);
  ASSERT_TRUE(server.listening());
  const std::string var = unique_env_name("KEY");
  ChatEndpoint ep = endpoint_of(server.url());
  ep.api_key_env = var;
  ep.retry.max_attempts = 3;

  // Required but not set: an error naming the variable, nothing sent.
  ep.api_key_required = true;
  ::unsetenv(var.c_str());
  auto unset = chat(ep, user_says(kSources));
  ASSERT_FALSE(unset.is_ok());
  EXPECT_NE(unset.status().message().find(var), std::string::npos) << unset.status().message();
  EXPECT_TRUE(server.requests().empty());

  // Optional and not set: sent without, refused by the service, not retried.
  ep.api_key_required = false;
  auto absent = chat(ep, user_says(kSources));
  ASSERT_FALSE(absent.is_ok());
  EXPECT_EQ(absent.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(absent.status().message().find("HTTP 401"), std::string::npos) << absent.status().message();
  EXPECT_NE(absent.status().message().find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);

  ::setenv(var.c_str(), "sk-wrong", 1);
  auto wrong = chat(ep, user_says(kSources));
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);

  ::setenv(var.c_str(), "sk-right", 1);
  auto right = chat(ep, user_says(kSources), [](std::string_view) {});
  ASSERT_TRUE(right.is_ok()) << right.status().message();
  EXPECT_EQ(right->content, kAnswer);
  ::unsetenv(var.c_str());
}

TEST(ChatClient, UnreachableServiceIsUnavailable) {
  const std::string base = "http://127.0.0.1:" + std::to_string(refused_port());
  ChatEndpoint ep = endpoint_of(base);
  ep.retry.max_attempts = 2;
  auto reply = chat(ep, user_says(kSources));
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(reply.status().message().find(base + "/v1/chat/completions: cannot connect"), std::string::npos)
      << reply.status().message();
}

TEST(ChatClient, SlowServiceTimesOut) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.set_delay_ms(5000);
  ChatEndpoint ep = endpoint_of(server.url());
  ep.timeout_s = 0.3;
  const auto start = Clock::now();
  auto reply = chat(ep, user_says(kSources));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(reply.status().message().find("timed out"), std::string::npos) << reply.status().message();
  EXPECT_LT(elapsed, 2.0);
}

TEST(ChatClient, SilentStreamTimesOut) {
  TestLlmServer server;
  ASSERT_TRUE(server.listening());
  server.set_delay_ms(5000);
  ChatEndpoint ep = endpoint_of(server.url());
  ep.idle_timeout_s = 0.3;
  const auto start = Clock::now();
  auto reply = chat(ep, user_says(kSources), [](std::string_view) {});
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(reply.status().message().find("timed out"), std::string::npos) << reply.status().message();
  EXPECT_LT(elapsed, 2.0);
}

TEST(ChatClient, RefusesBadRequestsBeforeSending) {
  EXPECT_EQ(chat(endpoint_of("http://127.0.0.1:9"), ChatRequest{}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(chat(endpoint_of("ftp://127.0.0.1:9"), user_says("x")).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(chat(endpoint_of(""), user_says("x")).status().code(), Status::Code::kInvalidArgument);
}

TEST(ChatClient, AcceptsAWholeAnswerToAStreamRequest) {
  CannedServer server("application/json", R"({"id": "x", "object": "chat.completion", "model": "local",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "Whole."}, "finish_reason": "length"}],
      "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})");
  std::vector<std::string> deltas;
  auto reply = chat(endpoint_of(server.url()), user_says("x"), [&](std::string_view d) { deltas.emplace_back(d); });
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, "Whole.");
  EXPECT_EQ(deltas, std::vector<std::string>{"Whole."});
  EXPECT_EQ(reply->model, "local");
  EXPECT_EQ(reply->finish_reason, "length");
  EXPECT_EQ(reply->usage["total_tokens"], 4);
  EXPECT_EQ(reply->first_token_ms, reply->total_ms);
}

TEST(ChatClient, StreamsOfOtherServers) {
  // No [DONE], usage with "choices": null (vLLM), comments, CRLF, no space after "data:".
  CannedServer server("text/event-stream",
                      ": ping\r\n\r\n"
                      "data:{\"model\":\"v\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n"
                      "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \"}}]}\r\n\r\n"
                      "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\"x\"}}]}"
                      "\r\n\r\n"
                      "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"there\"},\"finish_reason\":\"stop\"}]}"
                      "\r\n\r\n"
                      "data:{\"choices\":null,\"usage\":{\"total_tokens\":9}}\r\n\r\n");
  std::string streamed;
  auto reply = chat(endpoint_of(server.url()), user_says("x"), [&](std::string_view d) { streamed += d; });
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  EXPECT_EQ(reply->content, "Hi there");
  EXPECT_EQ(streamed, "Hi there");
  EXPECT_EQ(reply->model, "v");
  EXPECT_EQ(reply->finish_reason, "stop");
  EXPECT_EQ(reply->usage["total_tokens"], 9);
}

TEST(ChatClient, BrokenStreamsAreClearErrors) {
  const std::string hello = R"({"choices":[{"index":0,"delta":{"content":"Hello"}}]})";
  struct Case {
    std::string body;
    std::string want;
  };
  const std::vector<Case> cases = {
      {sse({hello, "{not json"}), "not a JSON object: {not json"},
      {sse({hello,
            R"({"error":{"message":"The server had an error while processing your request.","type":"server_error"}})"}),
       "the stream reported an error: The server had an error while processing your request."},
      {"event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n", "the stream reported an error: overloaded"},
      {sse({hello}), "the stream ended before the answer was complete"},
      {sse({hello}) + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"cut\"", "ended before the answer"},
      {"", "the answer is empty"},
  };
  for (const Case& c : cases) {
    CannedServer server("text/event-stream", c.body);
    auto reply = chat(endpoint_of(server.url()), user_says("x"), [](std::string_view) {});
    ASSERT_FALSE(reply.is_ok()) << c.body;
    EXPECT_NE(reply.status().message().find(c.want), std::string::npos) << reply.status().message();
    EXPECT_EQ(reply.status().message().rfind(server.url(), 0), 0u)
        << "names the endpoint: " << reply.status().message();
  }
}

TEST(ChatClient, MalformedWholeAnswersAreClearErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<html>oops</html>", "not a JSON object: <html>oops</html>"},
      {R"({"choices": []})", "no choices"},
      {R"({"choices": [{"index": 0}]})", "no message"},
      {R"({"choices": [{"message": {"role": "assistant", "content": 7}}]})", "no text content"},
      {R"({"error": {"message": "model is loading"}})", "model is loading"},
  };
  for (const auto& [body, want] : cases) {
    CannedServer server("application/json", body);
    auto reply = chat(endpoint_of(server.url()), user_says("x"));
    ASSERT_FALSE(reply.is_ok()) << body;
    EXPECT_NE(reply.status().message().find(want), std::string::npos) << reply.status().message();
  }
}

TEST(ChatClient, ErrorStatusOfAStreamRequestIsTheServersMessage) {
  CannedServer server("application/json",
                      R"({"error": {"message": "This model's maximum context length is 4096 tokens.",
                          "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})",
                      400);
  auto reply = chat(endpoint_of(server.url()), user_says("x"), [](std::string_view) {});
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(reply.status().message(),
            server.url() + "/v1/chat/completions: HTTP 400: This model's maximum context length is 4096 tokens.");
}

}  // namespace
}  // namespace simile::remote
