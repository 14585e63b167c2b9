// The OpenAI-compatible embeddings API: POST /v1/embeddings and
// GET /v1/models (https://platform.openai.com/docs/api-reference/embeddings),
// as request parsing and response building, apart from the HTTP layer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "server/api_error.h"

namespace simile::server {

struct EmbeddingsLimits {
  size_t max_inputs = 2048;  // per request, as OpenAI's
};

struct EmbeddingsRequest {
  std::string model;  // "" = the server's first model
  // `input`: texts, or token id arrays (already tokenised by the client
  // with the model's tokenizer), never both.
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> token_ids;
  bool base64 = false;                // encoding_format
  std::optional<size_t> dimensions;   // Matryoshka: keep this many, renormalised
  size_t inputs() const { return texts.empty() ? token_ids.size() : texts.size(); }
};

// The body's fields, checked: input is a string, an array of strings, an
// array of token ids or an array of such arrays (not empty, at most
// max_inputs); encoding_format float or base64; dimensions a positive
// integer. Unknown fields (user, ...) are ignored, as OpenAI does.
std::variant<EmbeddingsRequest, ApiError> parse_embeddings_request(const nlohmann::json& body,
                                                                   const EmbeddingsLimits& limits);

// The response body: one embedding per input (rows of `dims` floats, each
// cut to `keep` values and renormalised when `renormalize`), `usage` with
// the tokens embedded.
std::string embeddings_response(const std::string& model, const std::vector<float>& vectors, size_t dims,
                                size_t keep, bool renormalize, bool base64, size_t tokens);

// GET /v1/models: {"object": "list", "data": [{"id", "object": "model",
// "created", "owned_by": "simile"}, ...]}.
std::string models_response(const std::vector<std::string>& models);

}  // namespace simile::server
