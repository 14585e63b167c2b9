// Ctrl-C and SIGTERM for long commands: the first asks the work to stop at
// its next safe point (stop_requested()), the second ends the process at once
// (committed work is safe either way).
//
// While a StopSignals lives, both signals are blocked in every thread and
// taken by one watcher thread with sigwait(), so no signal handler ever runs on
// a worker thread: a handler interrupting oneDNN's JIT-compiled sgemm corrupted
// the heap (tests/cli/collection_cli_test.sh, "Ctrl-C").
#pragma once

#include <signal.h>

#include <atomic>
#include <thread>

namespace simile::cli {

class StopSignals {
 public:
  // Create before any worker threads start: threads inherit the signal mask.
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool stop_requested() const { return stop_.load(); }

 private:
  sigset_t signals_{};
  sigset_t previous_{};
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace simile::cli
