#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace simile::server {

ApiError ApiError::bad_request(std::string message, std::string param) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

ApiError ApiError::not_found(std::string message, std::string code) {
  ApiError e;
  e.status = 404;
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

ApiError error_from_status(const Status& st, std::string param) {
  ApiError e;
  e.message = st.message();
  e.param = std::move(param);
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
      e.status = 400;
      break;
    case Status::Code::kNotFound:
      e.status = 404;
      e.code = "not_found";
      break;
    case Status::Code::kUnsupported:
      e.status = 422;
      e.code = "unsupported";
      break;
    case Status::Code::kFailedPrecondition:
      e.status = 409;
      e.code = "conflict";
      break;
    case Status::Code::kResourceExhausted:
      e.status = 507;  // Insufficient Storage: the server cannot store it now
      e.type = "server_error";
      e.code = "insufficient_storage";
      break;
    case Status::Code::kUnavailable:
      e.status = 502;  // Bad Gateway: a remote model or LLM this needs failed
      e.type = "server_error";
      e.code = "upstream_unavailable";
      break;
    default:
      e.status = 500;
      e.type = "server_error";
      break;
  }
  return e;
}

std::string error_json(const ApiError& e) {
  nlohmann::json body = {{"error",
                          {{"message", e.message},
                           {"type", e.type},
                           {"param", e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param)},
                           {"code", e.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.code)}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace simile::server
