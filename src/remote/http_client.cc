#include "remote/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>
#include <thread>

namespace simile::remote {

namespace {

// The longest a server's Retry-After may make us wait.
constexpr double kMaxRetryAfterS = 60;
// How much of a non-JSON error body an error message quotes, and of an
// endpoint's own message.
constexpr size_t kMaxQuotedBody = 300;
constexpr size_t kMaxQuotedMessage = 1000;

Status init_curl() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) return Status::internal(std::string("cannot initialise libcurl: ") + curl_easy_strerror(code));
  return Status::ok();
}

bool ascii_iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// At most `max` bytes of `s`, not ending inside a UTF-8 sequence, control
// characters (newlines) as spaces: a quote that keeps an error on one line.
std::string one_line_excerpt(std::string_view s, size_t max) {
  if (s.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut);
  }
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  return out;
}

struct CurlCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using Clock = std::chrono::steady_clock;

// What the callbacks of one transfer share.
struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  Clock::time_point last_byte;        // the start, then when a byte last moved
  bool aborted = false;               // on_body asked to stop
  std::exception_ptr callback_error;  // thrown by on_body, rethrown after the transfer
};

// An easy handle added to a multi handle of its own, removed on the way out.
class MultiTransfer {
 public:
  explicit MultiTransfer(CURL* curl) : curl_(curl), multi_(curl_multi_init()) {
    if (multi_ != nullptr && curl_multi_add_handle(multi_, curl_) != CURLM_OK) {
      curl_multi_cleanup(multi_);
      multi_ = nullptr;
    }
  }
  ~MultiTransfer() {
    if (multi_ == nullptr) return;
    curl_multi_remove_handle(multi_, curl_);
    curl_multi_cleanup(multi_);
  }
  MultiTransfer(const MultiTransfer&) = delete;
  MultiTransfer& operator=(const MultiTransfer&) = delete;
  CURLM* get() const { return multi_; }

 private:
  CURL* curl_;
  CURLM* multi_;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  const std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after "100 Continue", say): forget the last one's headers.
    t->response.content_type.clear();
    t->response.retry_after_s.reset();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const std::string_view name = trim(line.substr(0, colon));
  const std::string_view value = trim(line.substr(colon + 1));
  if (ascii_iequal(name, "Content-Type")) {
    t->response.content_type.assign(value);
  } else if (ascii_iequal(name, "Retry-After")) {
    // Seconds; the HTTP-date form is left to the policy's back-off.
    const std::string text(value);
    char* end = nullptr;
    const double s = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(s) && s >= 0) t->response.retry_after_s = s;
  }
  return n;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (!t->request->on_body || status < 200 || status > 299) {
    t->response.body.append(data, n);
    return n;
  }
  t->response.body_started = true;
  try {
    if (!t->request->on_body(std::string_view(data, n))) {
      t->aborted = true;
      return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
    }
  } catch (...) {
    t->callback_error = std::current_exception();
    return 0;
  }
  return n;
}

bool is_tls_error(CURLcode code) {
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

// Failures that may pass if tried again: the service is down, restarting,
// overloaded or the network dropped. TLS failures and bad URLs will not.
bool is_transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::string what_failed(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return "cannot connect";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve the host";
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "cannot resolve the proxy";
    case CURLE_OPERATION_TIMEDOUT:
      return "timed out";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return "the connection broke";
    default:
      return is_tls_error(code) ? "TLS (SSL) verification failed" : "the request failed";
  }
}

long to_ms(double seconds) { return static_cast<long>(std::ceil(seconds * 1000)); }

// One exchange; `*transient` says whether a failure may pass when retried.
Result<HttpResponse> send_once(const HttpRequest& request, bool* transient) {
  *transient = false;
  SIMILE_RETURN_IF_ERROR(init_curl());
  // Declared before the handle that points to them, so they outlive it.
  char error[CURL_ERROR_SIZE] = {0};
  std::unique_ptr<curl_slist, SlistCleanup> headers;
  Transfer t;
  for (const std::string& h : request.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) return Status::internal("out of memory for the request headers");
    headers.release();
    headers.reset(next);
  }
  // No "Expect: 100-continue" round trip before large bodies.
  if (curl_slist* next = curl_slist_append(headers.get(), "Expect:"); next != nullptr) {
    headers.release();
    headers.reset(next);
  }

  std::unique_ptr<CURL, CurlCleanup> curl(curl_easy_init());
  if (!curl) return Status::internal("cannot create a libcurl handle");
  CURL* c = curl.get();
  t.request = &request;
  t.curl = c;

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a 3xx is a response: http_error reports it
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "simile");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  if (request.connect_timeout_s > 0) curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, to_ms(request.connect_timeout_s));
  if (request.timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to_ms(request.timeout_s));
  if (!request.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);

  // The multi interface, to watch for silence: curl's own low-speed limit
  // averages over a window of seconds, and so gives up seconds late.
  MultiTransfer multi(c);
  if (multi.get() == nullptr) return Status::internal("cannot create a libcurl multi handle");
  const auto idle = std::chrono::duration<double>(request.idle_timeout_s);
  bool idle_expired = false;
  CURLcode code = CURLE_OK;
  t.last_byte = Clock::now();
  curl_off_t uploaded = 0;
  for (;;) {
    int running = 0;
    if (const CURLMcode m = curl_multi_perform(multi.get(), &running); m != CURLM_OK)
      return Status::internal(request.url + ": libcurl failed: " + curl_multi_strerror(m));
    if (running == 0) break;
    int wait_ms = 1000;
    if (request.idle_timeout_s > 0) {
      // A large request body still going out is not silence either.
      curl_off_t up = 0;
      if (curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up != uploaded) {
        uploaded = up;
        t.last_byte = Clock::now();
      }
      const auto silent = Clock::now() - t.last_byte;
      if (silent >= idle) {
        idle_expired = true;
        break;
      }
      const double left_ms = std::chrono::duration<double, std::milli>(idle - silent).count();
      wait_ms = static_cast<int>(std::clamp(std::ceil(left_ms), 1.0, 1000.0));
    }
    // Wakes when the socket is ready or a timer of curl's (the overall timeout) is due.
    if (const CURLMcode m = curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr); m != CURLM_OK)
      return Status::internal(request.url + ": libcurl failed: " + curl_multi_strerror(m));
  }
  if (t.callback_error) std::rethrow_exception(t.callback_error);
  if (!idle_expired) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left))
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) code = msg->data.result;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (!idle_expired && (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.aborted))) return std::move(t.response);

  if (idle_expired) {
    code = CURLE_OPERATION_TIMEDOUT;
    std::snprintf(error, sizeof error, "nothing arrived for %g s", request.idle_timeout_s);
  }
  const std::string reason = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
  if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL)
    return Status::invalid_argument(request.url + ": not a usable http(s) URL: " + reason);
  if (code == CURLE_SSL_CACERT_BADFILE)  // a local mistake, not the service's
    return Status::invalid_argument(request.url + ": cannot use the CA file '" + request.ca_file + "': " + reason);
  *transient = is_transient(code) && !t.response.body_started;
  std::string message = request.url + ": " + what_failed(code) + ": " + reason;
  if (t.response.body_started) message += " (after part of the answer had arrived)";
  return Status::unavailable(std::move(message));
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g s", s);
  return buf;
}

}  // namespace

Result<HttpResponse> http_send(const HttpRequest& request) {
  bool transient = false;
  return send_once(request, &transient);
}

Result<HttpResponse> http_send_with_retries(const HttpRequest& request, const RetryPolicy& policy,
                                            const std::function<void(const std::string& reason)>& on_retry) {
  const int attempts = std::max(1, policy.max_attempts);
  // A source of its own per call: callers on several threads share nothing.
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  double backoff = std::max(0.0, policy.initial_backoff_s);
  for (int attempt = 1;; ++attempt) {
    bool transient = false;
    Result<HttpResponse> r = send_once(request, &transient);
    std::string reason;
    double wait = backoff * jitter(rng);
    if (r.is_ok()) {
      const long status = r->status;
      if (status != 429 && status < 500) return r;
      if (r->body_started || attempt >= attempts) return r;
      reason = http_error(*r, request.url).message();
      if (r->retry_after_s) wait = std::max(wait, std::min(*r->retry_after_s, kMaxRetryAfterS));
    } else {
      if (!transient || attempt >= attempts) return r;
      reason = r.status().message();
    }
    if (on_retry)
      on_retry(reason + "; retrying in " + seconds_text(wait) + " (attempt " + std::to_string(attempt + 1) + " of " +
               std::to_string(attempts) + ")");
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    backoff = std::min(backoff * 2, std::max(policy.initial_backoff_s, policy.max_backoff_s));
  }
}

Status http_error(const HttpResponse& response, const std::string& url) {
  std::string message;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    // OpenAI {"error": {"message": ...}}; others {"error": "..."}, {"message": ...}
    // (vLLM) or {"detail": ...} (FastAPI).
    const auto text_of = [](const nlohmann::json& j, const char* key) -> std::string {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (auto e = body.find("error"); e != body.end() && e->is_object()) message = text_of(*e, "message");
    if (message.empty()) message = text_of(body, "error");
    if (message.empty()) message = text_of(body, "message");
    if (message.empty()) message = text_of(body, "detail");
  }
  message = message.empty() ? one_line_excerpt(trim(response.body), kMaxQuotedBody)
                            : one_line_excerpt(message, kMaxQuotedMessage);
  std::string line = url + ": HTTP " + std::to_string(response.status);
  if (!message.empty()) line += ": " + message;
  if (response.status == 429 || response.status >= 500) return Status::unavailable(std::move(line));
  return Status::invalid_argument(std::move(line));
}

Result<std::string> api_url(const std::string& given, const std::string& path) {
  const std::string url(trim(given));
  if (url.empty()) return Status::invalid_argument("the endpoint URL is empty: give one like http://127.0.0.1:8080");
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
      return Status::invalid_argument("the endpoint URL '" + url + "' contains spaces or control characters");
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return Status::invalid_argument("the endpoint URL '" + url + "' has no scheme: give http://" + url +
                                    " or https://" + url);
  const std::string scheme = url.substr(0, scheme_end);
  if (!ascii_iequal(scheme, "http") && !ascii_iequal(scheme, "https"))
    return Status::invalid_argument("the endpoint URL '" + url + "' is not an http:// or https:// URL");
  const size_t host_begin = scheme_end + 3;
  const size_t host_end = std::min(url.find_first_of("/?#", host_begin), url.size());
  if (host_end == host_begin) return Status::invalid_argument("the endpoint URL '" + url + "' has no host");
  const size_t path_end = std::min(url.find_first_of("?#", host_end), url.size());
  std::string own_path = url.substr(host_end, path_end - host_end);
  while (!own_path.empty() && own_path.back() == '/') own_path.pop_back();
  const std::string tail = url.substr(path_end);  // a query (Azure's ?api-version=...) stays last
  const std::string head = url.substr(0, host_end);
  const std::string suffix = "/" + path;
  if (own_path.size() >= suffix.size() && own_path.compare(own_path.size() - suffix.size(), suffix.size(), suffix) == 0)
    return head + own_path + tail;
  if (own_path.empty()) return head + "/v1" + suffix + tail;
  return head + own_path + suffix + tail;
}

Result<std::vector<std::string>> bearer_auth(const std::string& env_var, bool required) {
  const char* value = env_var.empty() ? nullptr : std::getenv(env_var.c_str());
  const std::string key(trim(value != nullptr ? value : ""));
  if (key.empty()) {
    if (!required) return std::vector<std::string>{};
    if (env_var.empty()) return Status::invalid_argument("an API key is required but no environment variable names it");
    return Status::invalid_argument("the environment variable " + env_var +
                                    " holding the API key is not set (or empty)");
  }
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      return Status::invalid_argument("the API key in " + env_var + " contains control characters");
  return std::vector<std::string>{"Authorization: Bearer " + key};
}

}  // namespace simile::remote
