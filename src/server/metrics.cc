#include "server/metrics.h"

#include <fmt/format.h>

namespace simile::server {

namespace {

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10};

std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::string label_value(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, sep, number(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, sep, count_);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, number(sum_), name, braces, count_);
}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  latency_.try_emplace(route, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::record_batch(size_t inputs, size_t tokens, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  batch_inputs_.observe(static_cast<double>(inputs));
  batch_tokens_.observe(static_cast<double>(tokens));
  batch_seconds_.observe(seconds);
}

void Metrics::add_gauge(const std::string& name, const std::string& help, Gauge gauge) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.push_back({name, help, std::move(gauge)});
}

std::string Metrics::render() const {
  std::vector<NamedGauge> gauges;
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out += "# HELP simile_http_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE simile_http_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out += fmt::format("simile_http_requests_total{{route={},status=\"{}\"}} {}\n", label_value(key.first),
                         key.second, n);
    out += "# HELP simile_http_request_seconds Time from the request read to the response ready, by route.\n";
    out += "# TYPE simile_http_request_seconds histogram\n";
    for (const auto& [route, h] : latency_) h.render(out, "simile_http_request_seconds", "route=" + label_value(route));
    out += "# HELP simile_embedding_batch_inputs Inputs per embedding pass (requests batched together).\n";
    out += "# TYPE simile_embedding_batch_inputs histogram\n";
    batch_inputs_.render(out, "simile_embedding_batch_inputs", "");
    out += "# HELP simile_embedding_batch_tokens Tokens per embedding pass.\n";
    out += "# TYPE simile_embedding_batch_tokens histogram\n";
    batch_tokens_.render(out, "simile_embedding_batch_tokens", "");
    out += "# HELP simile_embedding_batch_seconds Time per embedding pass.\n";
    out += "# TYPE simile_embedding_batch_seconds histogram\n";
    batch_seconds_.render(out, "simile_embedding_batch_seconds", "");
    gauges = gauges_;
  }
  // Gauges read outside the lock: they may take their own.
  for (const NamedGauge& g : gauges) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", g.name, g.help, g.name);
    for (const auto& [labels, value] : g.read())
      out += fmt::format("{}{} {}\n", g.name, labels.empty() ? "" : "{" + labels + "}", number(value));
  }
  return out;
}

}  // namespace simile::server
