#include "cli/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

namespace simile::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  watcher_ = std::thread([this] {
    for (int received = 0;;) {
      int sig = 0;
      if (sigwait(&signals_, &sig) != 0) continue;
      if (done_.load()) return;
      if (++received == 1) {
        stop_.store(true);
      } else {
        _exit(128 + sig);
      }
    }
  });
}

StopSignals::~StopSignals() {
  done_.store(true);
  pthread_kill(watcher_.native_handle(), SIGTERM);  // wakes sigwait, which sees done_
  watcher_.join();
  // A signal that arrived after the work ended is dropped with the mask:
  // consume anything pending so unblocking does not deliver it.
  timespec zero{0, 0};
  while (sigtimedwait(&signals_, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace simile::cli
