// Vectors from an OpenAI-compatible embeddings endpoint (POST .../v1/embeddings):
// what an Embedder of a remote model ("openai:NAME") runs instead of an
// encoder. Texts go in batches, several requests at a time, each retried
// with back-off on 429 and 5xx (remote/http_client.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "remote/http_client.h"
#include "simile/status.h"

namespace simile {

inline constexpr const char* kRemoteModelPrefix = "openai:";

struct RemoteEndpoint {
  std::string model;  // as the service names it (without "openai:")
  std::string url;    // the embeddings endpoint itself
  std::string api_key_env;
  bool api_key_required = false;
  std::string ca_file;
  std::optional<size_t> dimensions;  // sent as "dimensions"
  size_t batch_size = 32;            // texts per request
  size_t parallel_requests = 4;
  remote::RetryPolicy retry;
};

// texts.size() x dims floats, row-major, in input order. `dims` is the size
// every vector must have (a service whose model changed answers with another
// size: an error saying so), or 0 to take the first answer's and set it.
Result<std::vector<float>> remote_embed(const RemoteEndpoint& endpoint, const std::vector<std::string>& texts,
                                        size_t* dims);

}  // namespace simile
