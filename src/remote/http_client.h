// Requests to other services over HTTP(S), through libcurl: OpenAI-compatible
// embeddings and chat endpoints (remote embedders, `simile ask --llm`, LLM
// re-ranking). Connect and transfer timeouts, TLS verification always on
// (the system's CA store, or one given), and retries with back-off on 429,
// 5xx and failed connections.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simile/status.h"

namespace simile::remote {

struct HttpRequest {
  std::string url;
  std::string body;                  // sent as POST when non-empty, else GET
  std::vector<std::string> headers;  // "Name: value"
  double connect_timeout_s = 10;
  double timeout_s = 120;            // the whole exchange; 0 = no limit (streams rely on idle_timeout_s)
  // Give up when no byte arrives for this long (waiting for the answer to
  // start included); 0 = no limit.
  double idle_timeout_s = 60;
  std::string ca_file;               // a CA bundle to trust instead of the system's ("" = system's)
  // Streaming: called with each piece of a 2xx response's body as it
  // arrives, and the body is not kept (HttpResponse::body stays empty);
  // return false to abort the transfer: http_send then returns the response
  // as far as it came, not an error. Non-2xx bodies are always kept. An
  // exception it throws ends the transfer and is rethrown by http_send.
  std::function<bool(std::string_view piece)> on_body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  std::optional<double> retry_after_s;  // the Retry-After header, in seconds
  bool body_started = false;            // streaming: on_body was called at least once
};

// One exchange. A status of any kind (200, 404, 503...) is a response; a
// connection that failed, timed out or did not pass TLS verification is
// Status::unavailable naming the URL and curl's reason ("URL: cannot
// connect: ..."); a URL curl cannot use, or a ca_file it cannot read, is
// invalid_argument. Only http:// and https:// are spoken; redirects are not
// followed (a 3xx is a response). Proxies are taken from the environment
// (https_proxy, no_proxy...) as curl does. Safe to call from several threads
// at once: each call has its own connection.
Result<HttpResponse> http_send(const HttpRequest& request);

struct RetryPolicy {
  int max_attempts = 5;
  double initial_backoff_s = 0.5;  // doubled after each failure, with jitter
  double max_backoff_s = 8;
};

// http_send, repeated while the answer is 429 or 5xx or the connection
// failed or timed out, up to max_attempts, after a back-off: the policy's
// (doubling, each wait drawn from [50%, 100%] of it) or the server's
// Retry-After if longer (capped at 60 s). Never once a streamed body has
// started to arrive, nor after a TLS failure or a bad URL (trying again
// would not help). `on_retry` (optional) hears each retry's reason, for
// logging. Returns the last response (the caller judges its status) or the
// last connection error.
Result<HttpResponse> http_send_with_retries(const HttpRequest& request, const RetryPolicy& policy,
                                            const std::function<void(const std::string& reason)>& on_retry = {});

// A non-2xx response as one error line, "URL: HTTP 429: message": the
// OpenAI-style {"error": {"message": ...}} message (also {"error": "..."},
// {"message": ...}, {"detail": ...}), else the body's first 300 bytes.
// 429 and 5xx give Status::unavailable, others invalid_argument.
Status http_error(const HttpResponse& response, const std::string& url);

// The URL of an OpenAI-compatible endpoint (`path` = "embeddings",
// "chat/completions") from what a user gives: a full endpoint URL is kept;
// a base URL gets "/path" appended, and "/v1/path" when it has no path of
// its own ("http://host:8080" -> "http://host:8080/v1/embeddings"). Errors
// for anything but an http:// or https:// URL.
Result<std::string> api_url(const std::string& given, const std::string& path);

// The Authorization header from an environment variable holding an API key:
// none when the variable is unset or empty and `required` is false; an error
// naming the variable when it is required.
Result<std::vector<std::string>> bearer_auth(const std::string& env_var, bool required);

}  // namespace simile::remote
