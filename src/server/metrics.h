// The server's counters for GET /metrics, in Prometheus' text format:
// requests by route and status, request latency and embedding batch size
// histograms, and gauges read when scraped (queue depth, documents per
// collection). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace simile::server {

// Cumulative buckets, as Prometheus histograms count them.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double value);
  // `name`_bucket{labels,le=...}, `name`_sum and `name`_count lines.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // last: above every bound
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // A gauge read at scrape time: (labels, value) pairs, labels as
  // `key="value"` text (escaped by the caller with label_value()).
  using Gauge = std::function<std::vector<std::pair<std::string, double>>()>;

  void record_request(const std::string& route, int status, double seconds);
  void record_batch(size_t inputs, size_t tokens, double seconds);
  void add_gauge(const std::string& name, const std::string& help, Gauge gauge);
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
  Histogram batch_inputs_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  Histogram batch_tokens_{{64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536}};
  Histogram batch_seconds_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  struct NamedGauge {
    std::string name, help;
    Gauge read;
  };
  std::vector<NamedGauge> gauges_;
};

// A label value with \, " and newlines escaped, quoted.
std::string label_value(const std::string& value);

}  // namespace simile::server
