// Status and Result<T>: how simile reports expected failures.
//
// Every operation that can fail for reasons outside the program (a missing
// file, a corrupt model, bad user input) returns a Status or a Result<T>
// carrying a message a user can act on. Broken internal invariants are not
// reported this way: they abort (see src/util/check.h).
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace simile {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kCorrupt, kUnsupported, kIoError, kInternal,
                    kFailedPrecondition, kResourceExhausted, kUnavailable };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid_argument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status not_found(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status corrupt(std::string msg) { return Status(Code::kCorrupt, std::move(msg)); }
  static Status unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status io_error(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  // The input is intact but not usable in the current state (e.g. an index
  // file saved at an older store generation): the caller can recover (rebuild).
  static Status failed_precondition(std::string msg) { return Status(Code::kFailedPrecondition, std::move(msg)); }
  // Out of storage (the disk is full): nothing was changed; retry once
  // there is room.
  static Status resource_exhausted(std::string msg) { return Status(Code::kResourceExhausted, std::move(msg)); }
  // A remote service (an embeddings or chat endpoint) could not be reached or
  // kept failing after retries: nothing local is wrong; retry later.
  static Status unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message", for adding where an
  // error happened (a file name, a tensor name) as it travels up.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).is_ok()) std::abort();  // an ok Status carries no value
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace simile

// Propagates a non-ok Status out of the calling function.
#define SIMILE_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::simile::Status _st = (expr);          \
    if (!_st.is_ok()) return _st;           \
  } while (0)

#define SIMILE_CONCAT_INNER(a, b) a##b
#define SIMILE_CONCAT(a, b) SIMILE_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, or returns its Status from the calling function.
#define SIMILE_ASSIGN_OR_RETURN(lhs, expr) \
  SIMILE_ASSIGN_OR_RETURN_IMPL(SIMILE_CONCAT(_res_, __LINE__), lhs, expr)
#define SIMILE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
