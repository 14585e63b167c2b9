// A one-line progress bar with rate and ETA, drawn on stderr only when it is
// a terminal (scripts and logs get no control characters).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace simile::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string unit, bool enabled = true);
  ~ProgressBar();
  void update(size_t done, size_t total);  // total 0 = unknown; redraws at most 10 times a second
  void finish();                            // clears the line

 private:
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace simile::cli
