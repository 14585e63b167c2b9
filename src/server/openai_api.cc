#include "server/openai_api.h"

#include <limits>

#include "model/pooling.h"
#include "util/json_floats.h"

namespace simile::server {

namespace {

using nlohmann::json;

bool is_token_id(const json& v) {
  return v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= std::numeric_limits<int32_t>::max();
}

std::vector<int32_t> token_array(const json& a) {
  std::vector<int32_t> ids;
  ids.reserve(a.size());
  for (const json& v : a) ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  return ids;
}

std::optional<ApiError> parse_input(const json& input, EmbeddingsRequest& r) {
  const char* kShape =
      "input must be a string, an array of strings, an array of token ids or an array of token id arrays";
  if (input.is_string()) {
    r.texts.push_back(input.get<std::string>());
    return std::nullopt;
  }
  if (!input.is_array()) return ApiError::bad_request(kShape, "input");
  if (input.empty()) return ApiError::bad_request("input is an empty array: give at least one text", "input");
  if (input[0].is_string()) {
    for (size_t i = 0; i < input.size(); ++i) {
      if (!input[i].is_string())
        return ApiError::bad_request("input[" + std::to_string(i) + "] is not a string (the others are)", "input");
      r.texts.push_back(input[i].get<std::string>());
    }
    return std::nullopt;
  }
  if (input[0].is_number()) {  // one tokenised input
    for (size_t i = 0; i < input.size(); ++i)
      if (!is_token_id(input[i]))
        return ApiError::bad_request("input[" + std::to_string(i) + "] is not a token id (a non-negative integer)",
                                     "input");
    r.token_ids.push_back(token_array(input));
    return std::nullopt;
  }
  if (input[0].is_array()) {
    for (size_t i = 0; i < input.size(); ++i) {
      const json& a = input[i];
      if (!a.is_array() || a.empty())
        return ApiError::bad_request("input[" + std::to_string(i) + "] is not a non-empty array of token ids",
                                     "input");
      for (size_t j = 0; j < a.size(); ++j)
        if (!is_token_id(a[j]))
          return ApiError::bad_request("input[" + std::to_string(i) + "][" + std::to_string(j) +
                                           "] is not a token id (a non-negative integer)",
                                       "input");
      r.token_ids.push_back(token_array(a));
    }
    return std::nullopt;
  }
  return ApiError::bad_request(kShape, "input");
}

}  // namespace

std::variant<EmbeddingsRequest, ApiError> parse_embeddings_request(const json& body, const EmbeddingsLimits& limits) {
  if (!body.is_object()) return ApiError::bad_request("the request body must be a JSON object");
  EmbeddingsRequest r;
  if (!body.contains("input")) return ApiError::bad_request("input is missing", "input");
  if (auto e = parse_input(body["input"], r)) return *e;
  if (r.inputs() > limits.max_inputs)
    return ApiError::bad_request("input holds " + std::to_string(r.inputs()) + " items; the most one request takes is " +
                                     std::to_string(limits.max_inputs),
                                 "input");
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) return ApiError::bad_request("model must be a string", "model");
    r.model = body["model"].get<std::string>();
  }
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    const json& f = body["encoding_format"];
    if (!f.is_string() || (f != "float" && f != "base64"))
      return ApiError::bad_request("encoding_format must be \"float\" or \"base64\"", "encoding_format");
    r.base64 = f == "base64";
  }
  if (body.contains("dimensions") && !body["dimensions"].is_null()) {
    const json& d = body["dimensions"];
    if (!d.is_number_integer() || d.get<int64_t>() < 1)
      return ApiError::bad_request("dimensions must be a positive integer", "dimensions");
    r.dimensions = static_cast<size_t>(std::min<int64_t>(d.get<int64_t>(), std::numeric_limits<int32_t>::max()));
  }
  return r;
}

std::string embeddings_response(const std::string& model, const std::vector<float>& vectors, size_t dims,
                                size_t keep, bool renormalize, bool base64, size_t tokens) {
  const size_t n = dims == 0 ? 0 : vectors.size() / dims;
  std::string out = R"({"object":"list","data":[)";
  std::vector<float> row(keep);
  for (size_t i = 0; i < n; ++i) {
    std::copy(vectors.begin() + static_cast<std::ptrdiff_t>(i * dims),
              vectors.begin() + static_cast<std::ptrdiff_t>(i * dims + keep), row.begin());
    if (renormalize) l2_normalize(row.data(), keep);  // as the Embedder does for EmbedderOptions::dimensions
    if (i) out += ',';
    out += R"({"object":"embedding","index":)" + std::to_string(i) + R"(,"embedding":)";
    if (base64)
      out += '"' + base64_floats(row.data(), keep) + '"';
    else
      append_json_array(out, row.data(), keep);
    out += '}';
  }
  out += R"(],"model":)" + json(model).dump() + R"(,"usage":{"prompt_tokens":)" + std::to_string(tokens) +
         R"(,"total_tokens":)" + std::to_string(tokens) + "}}";
  return out;
}

std::string models_response(const std::vector<std::string>& models) {
  json data = json::array();
  for (const std::string& m : models) data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "simile"}});
  return json{{"object", "list"}, {"data", data}}.dump();
}

}  // namespace simile::server
