#include "test_llm_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <utility>

namespace simile::testing {

namespace {

// OpenAI's bodies keep their keys in this order.
using ojson = nlohmann::ordered_json;
using nlohmann::json;

constexpr const char* kDefaultChatModel = "test-llm";
constexpr const char* kDefaultEmbeddingModel = "text-embedding-test";
constexpr size_t kAnswerBytes = 60;  // of source 1's text quoted by the answerer
constexpr size_t kPieceBytes = 6;    // of content per streamed chunk
constexpr auto kPiecePause = std::chrono::milliseconds(10);

ojson error_body(const std::string& message, const std::string& type, const json& param, const json& code) {
  return ojson{{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}};
}

void send_json(httplib::Response& res, int status, const ojson& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// What OpenAI answers for the statuses tests inject.
ojson injected_error(int status) {
  if (status == 429) return error_body("Rate limit reached for requests", "requests", nullptr, "rate_limit_exceeded");
  if (status == 500)
    return error_body("The server had an error while processing your request. Sorry about that!", "server_error",
                      nullptr, nullptr);
  if (status == 503)
    return error_body("The engine is currently overloaded, please try again later", "server_error", nullptr, nullptr);
  return error_body("injected failure (HTTP " + std::to_string(status) + ")",
                    status >= 500 ? "server_error" : "invalid_request_error", nullptr, nullptr);
}

size_t word_count(const std::string& s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    begin = end + 1;
  }
  return lines;
}

// A message's text: a string, or OpenAI's content parts [{"type":"text","text":...}].
std::string message_text(const json& message) {
  auto content = message.find("content");
  if (content == message.end()) return "";
  if (content->is_string()) return content->get<std::string>();
  std::string text;
  if (content->is_array())
    for (const json& part : *content)
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string())
        text += part["text"].get<std::string>();
  return text;
}

// At most `max` bytes of `text`, cut at a space (else at a character boundary).
std::string first_bytes(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = text.rfind(' ', max);
  if (cut == std::string::npos || cut == 0) {
    cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string s = text.substr(0, cut);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The judge: is the passage about the question? (See the header.)
std::string judge(const std::string& message) {
  const std::vector<std::string> lines = lines_of(message);
  std::string question;
  std::string passage;
  bool have_question = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!have_question) {
      if (starts_with(lines[i], "Question: ")) {
        question = lines[i].substr(10);
        have_question = true;
      }
      continue;
    }
    if (starts_with(lines[i], "Passage: ")) {
      passage = lines[i].substr(9);
      for (size_t j = i + 1; j < lines.size(); ++j) passage += "\n" + lines[j];
      break;
    }
  }
  std::vector<std::string> words;
  std::string word;
  const std::string q = ascii_lower(question) + " ";
  for (char c : q) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += c;
      continue;
    }
    if (word.size() >= 4 && std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
    word.clear();
  }
  const std::string p = ascii_lower(passage);
  size_t found = 0;
  for (const std::string& w : words) found += p.find(w) != std::string::npos ? 1 : 0;
  const double f = words.empty() ? 0.0 : static_cast<double>(found) / static_cast<double>(words.size());
  const bool plausible = f >= 0.5;
  const double confidence = std::round((plausible ? f : 1 - f) * 100) / 100;
  return ojson{{"plausible", plausible}, {"confidence", confidence}}.dump();
}

// The answerer: quotes source [1]. (See the header.)
std::string answer(const std::string& message) {
  const std::vector<std::string> lines = lines_of(message);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!starts_with(lines[i], "[1]")) continue;
    const std::string text = i + 1 < lines.size() ? lines[i + 1] : "";
    return "According to [1], " + first_bytes(text, kAnswerBytes) + ".";
  }
  return "I found no sources.";
}

// `text` in pieces of about kPieceBytes, none splitting a UTF-8 sequence.
std::vector<std::string> pieces_of(const std::string& text) {
  std::vector<std::string> pieces;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = std::min(begin + kPieceBytes, text.size());
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return pieces;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A unit vector of `dims` float32 values, the same for the same text.
std::vector<float> embedding_of(const std::string& text, int dims) {
  uint64_t state = fnv1a(text);
  std::vector<double> v(static_cast<size_t>(dims));
  double norm = 0;
  for (double& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0) * 2 - 1;
    norm += x * x;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = norm > 0 ? static_cast<float>(v[i] / norm) : (i == 0 ? 1.f : 0.f);
  return out;
}

std::string base64(const unsigned char* data, size_t n) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b = (static_cast<uint32_t>(data[i]) << 16) |
                       (i + 1 < n ? static_cast<uint32_t>(data[i + 1]) << 8 : 0) |
                       (i + 2 < n ? static_cast<uint32_t>(data[i + 2]) : 0);
    out += kAlphabet[(b >> 18) & 63];
    out += kAlphabet[(b >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[b & 63] : '=';
  }
  return out;
}

std::string sse_event(const ojson& chunk) {
  return "data: " + chunk.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

}  // namespace

struct TestLlmServer::Impl {
  TestLlmServerOptions options;
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
  int port = -1;
  bool tls = false;

  mutable std::mutex mu;
  std::condition_variable stopping_cv;
  bool stopping = false;
  std::vector<std::pair<std::string, json>> requests;  // (path, body)
  int dims = 8;
  int delay_ms = 0;
  int fail_count = 0;
  int fail_status = 0;
  int fail_retry_after = 0;

  // What every /v1/* route does first; true when it answered already.
  bool intercept(const httplib::Request& req, httplib::Response& res);
  // The request's JSON object, or false after answering 400 as OpenAI does.
  static bool parse_body(const httplib::Request& req, httplib::Response& res, json& body);
  void chat(const httplib::Request& req, httplib::Response& res);
  void embeddings(const httplib::Request& req, httplib::Response& res);
  void routes();
};

bool TestLlmServer::Impl::intercept(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) body = req.body;
  int delay = 0;
  int status = 0;
  int retry_after = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    requests.emplace_back(req.path, std::move(body));
    delay = delay_ms;
    if (fail_count > 0) {
      --fail_count;
      status = fail_status;
      retry_after = fail_retry_after;
    }
    if (delay > 0) stopping_cv.wait_for(lock, std::chrono::milliseconds(delay), [this] { return stopping; });
  }
  if (status != 0) {
    if (retry_after > 0) res.set_header("Retry-After", std::to_string(retry_after));
    send_json(res, status, injected_error(status));
    return true;
  }
  if (!options.api_key.empty() && req.get_header_value("Authorization") != "Bearer " + options.api_key) {
    res.set_header("WWW-Authenticate", "Bearer");
    send_json(res, 401, error_body("Incorrect API key provided", "invalid_request_error", nullptr, "invalid_api_key"));
    return true;
  }
  return false;
}

bool TestLlmServer::Impl::parse_body(const httplib::Request& req, httplib::Response& res, json& body) {
  body = json::parse(req.body, nullptr, false);
  if (!body.is_discarded() && body.is_object()) return true;
  send_json(res, 400,
            error_body("We could not parse the JSON body of your request.", "invalid_request_error", nullptr, nullptr));
  return false;
}

void TestLlmServer::Impl::chat(const httplib::Request& req, httplib::Response& res) {
  json body;
  if (intercept(req, res) || !parse_body(req, res, body)) return;
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) {
    send_json(res, 400,
              error_body("Missing required parameter: 'messages'.", "invalid_request_error", "messages",
                         "missing_required_parameter"));
    return;
  }
  std::string last_user;
  size_t prompt_tokens = 0;
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      send_json(res, 400,
                error_body("Invalid value for 'messages': each message needs a 'role'.", "invalid_request_error",
                           "messages", "invalid_value"));
      return;
    }
    const std::string text = message_text(m);
    prompt_tokens += word_count(text);
    if (m["role"] == "user") last_user = text;
  }
  const auto format = body.find("response_format");
  const bool judging = format != body.end() && format->is_object() && format->value("type", "") == "json_schema";
  const std::string content = judging ? judge(last_user) : answer(last_user);
  const std::string model =
      body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : kDefaultChatModel;
  const size_t completion_tokens = word_count(content);
  const ojson usage = {{"prompt_tokens", prompt_tokens},
                       {"completion_tokens", completion_tokens},
                       {"total_tokens", prompt_tokens + completion_tokens}};
  const long long created = static_cast<long long>(std::time(nullptr));

  if (!body.value("stream", false)) {
    send_json(
        res, 200,
        ojson{{"id", "chatcmpl-test"},
              {"object", "chat.completion"},
              {"created", created},
              {"model", model},
              {"choices",
               ojson::array({ojson{{"index", 0},
                                   {"message", {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", "stop"}}})},
              {"usage", usage}});
    return;
  }

  const auto stream_options = body.find("stream_options");
  const bool include_usage =
      stream_options != body.end() && stream_options->is_object() && stream_options->value("include_usage", false);
  const auto chunk = [&](ojson choices) {
    ojson c = {{"id", "chatcmpl-test"},
               {"object", "chat.completion.chunk"},
               {"created", created},
               {"model", model},
               {"choices", std::move(choices)}};
    // With include_usage, OpenAI sends "usage": null in every chunk but the last.
    if (include_usage) c["usage"] = nullptr;
    return c;
  };
  const auto delta_chunk = [&](ojson delta, const json& finish_reason) {
    return chunk(ojson::array(
        {ojson{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}}));
  };
  auto events = std::make_shared<std::vector<std::string>>();
  events->push_back(sse_event(delta_chunk({{"role", "assistant"}, {"content", ""}}, nullptr)));
  for (const std::string& piece : pieces_of(content))
    events->push_back(sse_event(delta_chunk({{"content", piece}}, nullptr)));
  events->push_back(sse_event(delta_chunk(ojson::object(), "stop")));
  if (include_usage) {
    ojson last = chunk(ojson::array());
    last["usage"] = usage;
    events->push_back(sse_event(last));
  }
  events->push_back("data: [DONE]\n\n");
  auto next = std::make_shared<size_t>(0);
  res.set_chunked_content_provider("text/event-stream; charset=utf-8", [events, next](size_t, httplib::DataSink& sink) {
    // The role chunk and the first piece at once, then one piece each pause.
    if (*next >= 2) std::this_thread::sleep_for(kPiecePause);
    const std::string& e = (*events)[*next];
    if (!sink.write(e.data(), e.size())) return false;
    if (++*next == events->size()) sink.done();
    return true;
  });
}

void TestLlmServer::Impl::embeddings(const httplib::Request& req, httplib::Response& res) {
  json body;
  if (intercept(req, res) || !parse_body(req, res, body)) return;
  auto input = body.find("input");
  if (input == body.end()) {
    send_json(res, 400,
              error_body("Missing required parameter: 'input'.", "invalid_request_error", "input",
                         "missing_required_parameter"));
    return;
  }
  std::vector<std::string> texts;
  bool valid = input->is_string() || (input->is_array() && !input->empty());
  if (input->is_string()) texts.push_back(input->get<std::string>());
  if (input->is_array())
    for (const json& t : *input) {
      if (!t.is_string()) {
        valid = false;
        break;
      }
      texts.push_back(t.get<std::string>());
    }
  if (!valid) {
    send_json(res, 400,
              error_body("'$.input' is invalid: this test server takes a string or an array of strings "
                         "(not token ids)",
                         "invalid_request_error", "input", nullptr));
    return;
  }
  int n_dims = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    n_dims = dims;
  }
  if (auto d = body.find("dimensions"); d != body.end()) {
    if (!d->is_number_integer() || d->get<int>() < 1) {
      send_json(res, 400,
                error_body("Invalid 'dimensions': must be a positive integer.", "invalid_request_error", "dimensions",
                           "invalid_value"));
      return;
    }
    n_dims = d->get<int>();
  }
  const bool as_base64 = body.value("encoding_format", "float") == "base64";
  ojson data = ojson::array();
  size_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> v = embedding_of(texts[i], n_dims);
    tokens += word_count(texts[i]);
    ojson e = {{"object", "embedding"}, {"index", i}};
    if (as_base64) {
      // The float32 bytes, little-endian (this machine's order).
      e["embedding"] = base64(reinterpret_cast<const unsigned char*>(v.data()), v.size() * sizeof(float));
    } else {
      ojson values = ojson::array();
      for (float x : v) values.push_back(static_cast<double>(x));
      e["embedding"] = std::move(values);
    }
    data.push_back(std::move(e));
  }
  const std::string model =
      body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : kDefaultEmbeddingModel;
  send_json(res, 200,
            ojson{{"object", "list"},
                  {"data", std::move(data)},
                  {"model", model},
                  {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

void TestLlmServer::Impl::routes() {
  http->Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat(req, res); });
  http->Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
  http->Get("/test/requests", [this](const httplib::Request&, httplib::Response& res) {
    json all = json::array();
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [path, body] : requests) all.push_back(body);
    }
    res.set_content(all.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  });
  http->Delete("/test/requests", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    requests.clear();
    res.status = 204;
  });
  http->Post("/test/fail", [this](const httplib::Request& req, httplib::Response& res) {
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      send_json(
          res, 400,
          error_body("send {\"count\":N,\"status\":S,\"retry_after\":R}", "invalid_request_error", nullptr, nullptr));
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    fail_count = body.value("count", 1);
    fail_status = body.value("status", 503);
    fail_retry_after = body.value("retry_after", 0);
    res.status = 204;
  });
  http->Post("/test/config", [this](const httplib::Request& req, httplib::Response& res) {
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      send_json(res, 400, error_body("send {\"dims\":D,\"delay_ms\":X}", "invalid_request_error", nullptr, nullptr));
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    dims = body.value("dims", dims);
    delay_ms = body.value("delay_ms", delay_ms);
    res.status = 204;
  });
  // Unknown routes get OpenAI's error body, not an empty 404.
  http->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty())
      send_json(
          res, 404,
          error_body("Invalid URL (" + req.method + " " + req.path + ")", "invalid_request_error", nullptr, nullptr));
  });
}

TestLlmServer::TestLlmServer(TestLlmServerOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.options = std::move(options);
  s.dims = s.options.dims;
  s.tls = !s.options.cert_file.empty() && !s.options.key_file.empty();
  if (s.tls)
    s.http = std::make_unique<httplib::SSLServer>(s.options.cert_file.c_str(), s.options.key_file.c_str());
  else
    s.http = std::make_unique<httplib::Server>();
  if (!s.http->is_valid()) return;
  s.http->set_tcp_nodelay(true);  // each streamed chunk leaves at once
  s.http->set_keep_alive_timeout(1);
  s.routes();
  if (s.options.port > 0)
    s.port = s.http->bind_to_port("127.0.0.1", s.options.port) ? s.options.port : -1;
  else
    s.port = s.http->bind_to_any_port("127.0.0.1");
  if (s.port <= 0) return;
  httplib::Server* http = s.http.get();
  s.thread = std::thread([http] { http->listen_after_bind(); });
  // stop() is a no-op until the loop runs: the destructor must not come first.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!http->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TestLlmServer::~TestLlmServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->stopping_cv.notify_all();
  if (impl_->thread.joinable()) {
    impl_->http->stop();
    impl_->thread.join();
  }
}

bool TestLlmServer::listening() const { return impl_->thread.joinable(); }
int TestLlmServer::port() const { return impl_->port; }

std::string TestLlmServer::url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<nlohmann::json> TestLlmServer::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<nlohmann::json> out;
  for (const auto& [path, body] : impl_->requests) out.push_back(body);
  return out;
}

std::vector<nlohmann::json> TestLlmServer::requests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<nlohmann::json> out;
  for (const auto& [p, body] : impl_->requests)
    if (p == path) out.push_back(body);
  return out;
}

void TestLlmServer::clear_requests() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->requests.clear();
}

void TestLlmServer::fail_next(int count, int status, int retry_after_seconds) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fail_count = count;
  impl_->fail_status = status;
  impl_->fail_retry_after = retry_after_seconds;
}

void TestLlmServer::set_dims(int dims) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->dims = dims;
}

void TestLlmServer::set_delay_ms(int delay_ms) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->delay_ms = delay_ms;
}

}  // namespace simile::testing
