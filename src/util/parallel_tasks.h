// Independent tasks (requests to a remote service, mostly waiting) run on a
// few threads of their own.
#pragma once

#include <cstddef>
#include <functional>

#include "simile/status.h"

namespace simile {

// Runs task(0) .. task(count - 1) on up to `parallel` threads (the caller's
// among them), each index once, in no set order. After a task fails no new
// one starts; returns the first failure, or ok.
Status run_tasks(size_t count, size_t parallel, const std::function<Status(size_t index)>& task);

}  // namespace simile
