// A client of OpenAI-compatible chat completions (POST /v1/chat/completions):
// OpenAI, llama.cpp's server, Ollama, vLLM... One request, its answer either
// streamed (server-sent events, delta by delta) or whole.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote/http_client.h"
#include "simile/status.h"

namespace simile::remote {

struct ChatEndpoint {
  std::string url;                          // base or full endpoint URL (api_url)
  std::string model;                        // "" = not sent (servers with one model)
  std::string api_key_env = "OPENAI_API_KEY";
  bool api_key_required = false;            // the variable was named by the user: it must be set
  double timeout_s = 300;                   // whole answer (not streamed)
  double idle_timeout_s = 120;              // streamed: longest silence
  std::string ca_file;
  RetryPolicy retry;
};

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::optional<double> temperature;
  std::optional<size_t> max_tokens;
  // Sent as "response_format" when not null, e.g. {"type": "json_schema", ...}.
  nlohmann::json response_format;
};

struct ChatReply {
  std::string content;        // the whole answer (streamed: the deltas joined)
  std::string model;          // as the server names it
  std::string finish_reason;  // "stop", "length", ...
  nlohmann::json usage;       // the server's token counts, if it sent them (else null)
  double first_token_ms = 0;  // from sending to the first content (whole answers: = total_ms)
  double total_ms = 0;
};

// Sends the request. With `on_delta`, asks for a stream ("stream": true) and
// calls it with each piece of content as it arrives; a server that answers
// with one JSON body instead is accepted too. Errors: the endpoint's own
// message for a non-2xx answer (http_error), an error naming what is wrong
// for a malformed answer or stream, Status::unavailable when the service
// cannot be reached after the retries.
Result<ChatReply> chat(const ChatEndpoint& endpoint, const ChatRequest& request,
                       const std::function<void(std::string_view delta)>& on_delta = {});

}  // namespace simile::remote
