// Timing and memory figures shared by the `simile bench` subcommands.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace simile::cli {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The upper middle of an even count: the passes are few, so no averaging.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Nearest-rank percentile (p in 0-100), the definition the peer scripts use.
inline double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  long k = static_cast<long>((p * static_cast<double>(v.size()) + 99) / 100) - 1;
  k = std::clamp(k, 0L, static_cast<long>(v.size()) - 1);
  return v[static_cast<size_t>(k)];
}

// The process's peak resident set size so far, in bytes.
inline size_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;
}

}  // namespace simile::cli
