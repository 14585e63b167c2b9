#include "model/remote_embedder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "util/parallel_tasks.h"

namespace simile {

namespace {

// One request's vectors, checked: one per input, each index once, all of one
// size (the expected one when known).
Status parse_embeddings(const RemoteEndpoint& ep, const std::string& body, size_t count, size_t dims,
                        std::vector<std::vector<float>>* out) {
  const std::string where = "openai:" + ep.model + " at " + ep.url;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
    return Status::invalid_argument(where + ": the answer is not an embeddings list (no \"data\" array)");
  const auto& data = j["data"];
  if (data.size() != count)
    return Status::invalid_argument(where + ": asked for " + std::to_string(count) + " vectors, got " +
                                    std::to_string(data.size()));
  out->assign(count, {});
  for (size_t i = 0; i < count; ++i) {
    const auto& item = data[i];
    // Services answer in input order, but "index" is what says which is which.
    size_t index = i;
    if (item.contains("index")) {
      if (!item["index"].is_number_unsigned() || item["index"].get<size_t>() >= count)
        return Status::invalid_argument(where + ": a vector has a bad index");
      index = item["index"].get<size_t>();
    }
    if (!(*out)[index].empty()) return Status::invalid_argument(where + ": two vectors for input " + std::to_string(index));
    if (!item.contains("embedding") || !item["embedding"].is_array() || item["embedding"].empty())
      return Status::invalid_argument(where + ": vector " + std::to_string(index) +
                                      " is not an array of numbers (base64 answers are not asked for)");
    std::vector<float>& v = (*out)[index];
    v.reserve(item["embedding"].size());
    for (const auto& x : item["embedding"]) {
      if (!x.is_number() || !std::isfinite(x.get<double>()))
        return Status::invalid_argument(where + ": vector " + std::to_string(index) + " holds a value that is not a finite number");
      v.push_back(x.get<float>());
    }
    const size_t want = dims != 0 ? dims : (*out)[0].size();
    if (v.size() != want) {
      if (dims != 0)
        return Status::failed_precondition(
            where + " returned " + std::to_string(v.size()) + "-dimensional vectors, not the " +
            std::to_string(dims) + " this collection holds: the service's model changed (or another one answers " +
            "under that name); vectors of different models never mix: re-embed with `simile reembed COLLECTION " +
            "--model openai:" + ep.model + "`");
      return Status::invalid_argument(where + ": vectors of different sizes in one answer");
    }
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<float>> remote_embed(const RemoteEndpoint& ep, const std::vector<std::string>& texts,
                                        size_t* dims) {
  if (texts.empty()) return std::vector<float>{};
  SIMILE_ASSIGN_OR_RETURN(std::vector<std::string> auth, remote::bearer_auth(ep.api_key_env, ep.api_key_required));
  const size_t per_request = std::max<size_t>(1, ep.batch_size);
  const size_t requests = (texts.size() + per_request - 1) / per_request;

  std::vector<std::vector<float>> vectors(texts.size());
  std::mutex mu;  // guards `expected`, the size every answer must have
  size_t expected = *dims;
  auto request = [&](size_t r) -> Status {
    const size_t begin = r * per_request, end = std::min(texts.size(), begin + per_request);
    nlohmann::json body = {{"model", ep.model}, {"encoding_format", "float"}};
    body["input"] = std::vector<std::string>(texts.begin() + static_cast<ptrdiff_t>(begin),
                                             texts.begin() + static_cast<ptrdiff_t>(end));
    if (ep.dimensions) body["dimensions"] = *ep.dimensions;
    remote::HttpRequest http;
    http.url = ep.url;
    http.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    http.headers = auth;
    http.headers.push_back("Content-Type: application/json");
    http.ca_file = ep.ca_file;
    SIMILE_ASSIGN_OR_RETURN(remote::HttpResponse response, remote::http_send_with_retries(http, ep.retry));
    if (response.status < 200 || response.status >= 300) return remote::http_error(response, ep.url);
    size_t want;
    {
      std::lock_guard<std::mutex> lock(mu);
      want = expected;
    }
    std::vector<std::vector<float>> got;
    SIMILE_RETURN_IF_ERROR(parse_embeddings(ep, response.body, end - begin, want, &got));
    std::lock_guard<std::mutex> lock(mu);
    if (expected == 0) expected = got[0].size();
    // Two first answers racing with different sizes.
    if (got[0].size() != expected)
      return Status::invalid_argument("openai:" + ep.model + " at " + ep.url + ": answers hold vectors of different sizes");
    for (size_t i = begin; i < end; ++i) vectors[i] = std::move(got[i - begin]);
    return Status::ok();
  };
  SIMILE_RETURN_IF_ERROR(run_tasks(requests, ep.parallel_requests, request));

  *dims = expected;
  std::vector<float> out;
  out.reserve(texts.size() * expected);
  for (const auto& v : vectors) out.insert(out.end(), v.begin(), v.end());
  return out;
}

}  // namespace simile
