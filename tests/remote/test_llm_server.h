// A stand-in for an LLM service, for tests: an HTTP server on 127.0.0.1 that
// speaks OpenAI's chat completions (whole and streamed) and embeddings
// protocols, with answers computed from the request by fixed rules (no model
// runs), and fault injection (failures, Retry-After, delays) for the
// client's retries and timeouts.
//
// POST /v1/chat/completions
//   "response_format" of type "json_schema" (the judge): the last user
//   message holds a line "Question: ..." and, after it, "Passage: ..." (to
//   the end of the message). f = the fraction of the question's content words
//   (ASCII-lowercased runs of [a-z0-9], 4 bytes or more, each counted once)
//   found in the lowercased passage; the answer is the JSON text
//   {"plausible":f>=0.5,"confidence":plausible?f:1-f} (2 decimals).
//   Otherwise (the answerer): "According to [1], " + the first 60 bytes (cut
//   at a space) of the line after the message's first line starting "[1]",
//   + "."; "I found no sources." without one.
//   "stream": true answers as OpenAI does: text/event-stream chunks (a role
//   chunk, ~6-byte content pieces 10 ms apart, a finish chunk, a usage chunk
//   when stream_options.include_usage, then "data: [DONE]").
// POST /v1/embeddings
//   "input" a string or an array of strings; unit vectors of `dims` values
//   (or the request's "dimensions") drawn from a hash of each string;
//   "encoding_format": "base64" as OpenAI encodes it.
// Test controls:
//   GET /test/requests          the bodies of the /v1/* requests so far (a JSON array)
//   DELETE /test/requests       forgets them
//   POST /test/fail             {"count":N,"status":S,"retry_after":R}: see fail_next
//   POST /test/config           {"dims":D,"delay_ms":X}: see set_dims, set_delay_ms
//
// Thread safety: every method may be called while requests are served.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace simile::testing {

struct TestLlmServerOptions {
  int port = 0;         // 0 = any free port
  std::string api_key;  // "" = none; else /v1/* wants "Authorization: Bearer KEY" (401 otherwise)
  int dims = 8;         // embedding dimensions
  // Both set: serve HTTPS with this certificate and key (PEM files).
  std::string cert_file;
  std::string key_file;
};

class TestLlmServer {
 public:
  // Listens before returning; listening() says whether it could (the port
  // taken, the certificate unreadable).
  explicit TestLlmServer(TestLlmServerOptions options = {});
  // Stops: waits for requests in flight (a pending delay ends at once).
  ~TestLlmServer();
  TestLlmServer(const TestLlmServer&) = delete;
  TestLlmServer& operator=(const TestLlmServer&) = delete;

  bool listening() const;
  int port() const;
  // "http://127.0.0.1:PORT" (https when serving TLS), without a path.
  std::string url() const;

  // The bodies of the /v1/* requests received (every path), oldest first:
  // the parsed JSON, or the raw text as a JSON string when it did not parse.
  std::vector<nlohmann::json> requests() const;
  // Those sent to `path` ("/v1/chat/completions", "/v1/embeddings").
  std::vector<nlohmann::json> requests(const std::string& path) const;
  void clear_requests();

  // The next `count` /v1/* requests answer `status` with an OpenAI error
  // body, and "Retry-After: retry_after_seconds" when that is > 0.
  void fail_next(int count, int status, int retry_after_seconds = 0);
  void set_dims(int dims);
  // /v1/* requests wait this long before answering (0 = no wait).
  void set_delay_ms(int delay_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile::testing
