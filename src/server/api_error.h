// Errors of the HTTP API, in OpenAI's shape so that its clients report them:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// with the HTTP status that says whose fault it is (4xx: the request's).
#pragma once

#include <string>

#include "simile/status.h"

namespace simile::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // authentication_error, rate_limit_error, server_error, ...
  std::string param;                           // the request field at fault, if one is
  std::string code;                            // a stable name: model_not_found, queue_full, ...

  static ApiError bad_request(std::string message, std::string param = "");
  static ApiError not_found(std::string message, std::string code = "not_found");
};

// The status a library error maps to: invalid_argument 400, not_found 404,
// unsupported 422, failed_precondition 409; corrupt, I/O and internal
// errors 500 (the server's fault, with the message, which never holds a
// secret: the API key is never part of one).
ApiError error_from_status(const Status& st, std::string param = "");

std::string error_json(const ApiError& e);

}  // namespace simile::server
