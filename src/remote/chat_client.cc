#include "remote/chat_client.h"

#include <chrono>
#include <utility>

#include "remote/sse.h"

namespace simile::remote {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How much of a malformed answer an error message quotes.
constexpr size_t kMaxQuoted = 200;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string excerpt(std::string_view s) {
  if (s.size() <= kMaxQuoted) return std::string(s);
  size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The message of an {"error": ...} object some servers send with a 200
// (whole, or as an event of a stream), "" when `j` is not one.
std::string error_message(const json& j) {
  auto it = j.find("error");
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    std::string m = string_field(*it, "message");
    return m.empty() ? it->dump() : m;
  }
  return it->dump();
}

json request_body(const ChatEndpoint& endpoint, const ChatRequest& request, bool stream) {
  json body = json::object();
  if (!endpoint.model.empty()) body["model"] = endpoint.model;
  json messages = json::array();
  for (const ChatMessage& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(messages);
  if (request.temperature) body["temperature"] = *request.temperature;
  if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
  if (!request.response_format.is_null()) body["response_format"] = request.response_format;
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

// A whole answer: {"choices": [{"message": {"content": ...}, "finish_reason": ...}], ...}.
Status read_whole_answer(const std::string& text, const std::string& url, ChatReply& reply) {
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return Status::invalid_argument(url + ": the answer is not a JSON object: " + excerpt(text));
  if (std::string e = error_message(body); !e.empty()) return Status::invalid_argument(url + ": " + e);
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
    return Status::invalid_argument(url + ": the answer has no choices: " + excerpt(text));
  const json& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    return Status::invalid_argument(url + ": the answer's first choice has no message: " + excerpt(text));
  auto content = message->find("content");
  if (content != message->end() && content->is_string()) {
    reply.content = content->get<std::string>();
  } else if (std::string refusal = string_field(*message, "refusal"); !refusal.empty()) {
    return Status::invalid_argument(url + ": the model refused: " + refusal);
  } else if (content == message->end() || !content->is_null()) {
    return Status::invalid_argument(url + ": the answer's message has no text content: " + excerpt(text));
  }
  reply.model = string_field(body, "model");
  reply.finish_reason = string_field(choice, "finish_reason");
  if (auto usage = body.find("usage"); usage != body.end() && usage->is_object()) reply.usage = *usage;
  return Status::ok();
}

// Reads a streamed answer: "data: {chunk}" events, then "data: [DONE]".
class StreamReader {
 public:
  StreamReader(const std::string& url, ChatReply& reply, Clock::time_point start,
               const std::function<void(std::string_view)>& on_delta)
      : url_(url), reply_(reply), start_(start), on_delta_(on_delta), parser_([this](const SseEvent& e) {
          on_event(e);
        }) {}

  // on_body: false once the stream is over ([DONE]) or broken.
  bool feed(std::string_view piece) {
    if (mode_ == Mode::kUnknown) {
      // A server that does not stream answers with one JSON object.
      const size_t first = piece.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) {
        whole_.append(piece);
        return true;
      }
      mode_ = piece[first] == '{' ? Mode::kWhole : Mode::kEvents;
      if (mode_ == Mode::kEvents) {
        std::string before;
        before.swap(whole_);
        parser_.feed(before);
      }
    }
    if (mode_ == Mode::kWhole) {
      whole_.append(piece);
      return true;
    }
    parser_.feed(piece);
    return error_.is_ok() && !done_;
  }

  // After the transfer: the reply complete, or why not.
  Status finish() {
    if (mode_ == Mode::kWhole) {
      SIMILE_RETURN_IF_ERROR(read_whole_answer(whole_, url_, reply_));
      if (on_delta_ && !reply_.content.empty()) on_delta_(reply_.content);
      reply_.total_ms = ms_since(start_);
      reply_.first_token_ms = reply_.total_ms;
      return Status::ok();
    }
    if (!error_.is_ok()) return error_;
    if (!done_) {
      parser_.finish();
      if (!error_.is_ok()) return error_;
      // Some servers close the stream without [DONE]: a finish reason says the answer is whole.
      if (reply_.finish_reason.empty()) {
        if (mode_ == Mode::kUnknown) return Status::invalid_argument(url_ + ": the answer is empty");
        return Status::unavailable(url_ + ": the stream ended before the answer was complete");
      }
    }
    reply_.total_ms = ms_since(start_);
    if (!saw_content_) reply_.first_token_ms = reply_.total_ms;
    return Status::ok();
  }

 private:
  enum class Mode { kUnknown, kWhole, kEvents };

  void on_event(const SseEvent& e) {
    if (!error_.is_ok() || done_) return;
    if (e.data == "[DONE]") {
      done_ = true;
      return;
    }
    const json chunk = json::parse(e.data, nullptr, false);
    if (e.event == "error") {
      const std::string m = chunk.is_object() ? error_message(chunk) : "";
      error_ = Status::unavailable(url_ + ": the stream reported an error: " + (m.empty() ? excerpt(e.data) : m));
      return;
    }
    if (chunk.is_discarded() || !chunk.is_object()) {
      error_ = Status::invalid_argument(url_ + ": a stream event is not a JSON object: " + excerpt(e.data));
      return;
    }
    if (std::string m = error_message(chunk); !m.empty()) {
      // The service failed while answering (overloaded, restarted...): later may work.
      error_ = Status::unavailable(url_ + ": the stream reported an error: " + m);
      return;
    }
    if (reply_.model.empty()) reply_.model = string_field(chunk, "model");
    if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) reply_.usage = *usage;
    // The usage chunk has "choices": [] (vLLM: null or none).
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return;
    const json& choice = (*choices)[0];
    if (!choice.is_object()) {
      error_ = Status::invalid_argument(url_ + ": a stream chunk's choice is not an object: " + excerpt(e.data));
      return;
    }
    if (std::string f = string_field(choice, "finish_reason"); !f.empty()) reply_.finish_reason = f;
    auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->is_object()) return;
    const std::string content = string_field(*delta, "content");
    if (content.empty()) return;
    if (!saw_content_) {
      saw_content_ = true;
      reply_.first_token_ms = ms_since(start_);
    }
    reply_.content += content;
    if (on_delta_) on_delta_(content);
  }

  const std::string& url_;
  ChatReply& reply_;
  const Clock::time_point start_;
  const std::function<void(std::string_view)>& on_delta_;
  SseParser parser_;
  Mode mode_ = Mode::kUnknown;
  std::string whole_;
  Status error_;
  bool done_ = false;
  bool saw_content_ = false;
};

}  // namespace

Result<ChatReply> chat(const ChatEndpoint& endpoint, const ChatRequest& request,
                       const std::function<void(std::string_view delta)>& on_delta) {
  if (request.messages.empty()) return Status::invalid_argument("a chat request needs at least one message");
  SIMILE_ASSIGN_OR_RETURN(const std::string url, api_url(endpoint.url, "chat/completions"));
  SIMILE_ASSIGN_OR_RETURN(std::vector<std::string> headers,
                          bearer_auth(endpoint.api_key_env, endpoint.api_key_required));
  const bool stream = static_cast<bool>(on_delta);
  headers.push_back("Content-Type: application/json");
  headers.push_back(stream ? "Accept: text/event-stream" : "Accept: application/json");

  HttpRequest http;
  http.url = url;
  http.headers = std::move(headers);
  http.body = request_body(endpoint, request, stream).dump(-1, ' ', false, json::error_handler_t::replace);
  http.ca_file = endpoint.ca_file;
  if (stream) {
    // A stream may run long; what must not last is silence.
    http.timeout_s = 0;
    http.idle_timeout_s = endpoint.idle_timeout_s;
  } else {
    // Nothing arrives until the whole answer is written: only its time counts.
    http.timeout_s = endpoint.timeout_s;
    http.idle_timeout_s = 0;
  }

  ChatReply reply;
  const Clock::time_point start = Clock::now();
  StreamReader reader(url, reply, start, on_delta);
  if (stream) http.on_body = [&reader](std::string_view piece) { return reader.feed(piece); };

  SIMILE_ASSIGN_OR_RETURN(const HttpResponse response, http_send_with_retries(http, endpoint.retry));
  if (response.status < 200 || response.status > 299) return http_error(response, url);
  if (!stream) {
    SIMILE_RETURN_IF_ERROR(read_whole_answer(response.body, url, reply));
    reply.total_ms = ms_since(start);
    reply.first_token_ms = reply.total_ms;
    return reply;
  }
  SIMILE_RETURN_IF_ERROR(reader.finish());
  return reply;
}

}  // namespace simile::remote
