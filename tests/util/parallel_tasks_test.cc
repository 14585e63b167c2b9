#include "util/parallel_tasks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace simile {
namespace {

TEST(RunTasks, EveryIndexRunsOnce) {
  for (size_t parallel : {0, 1, 3, 50}) {
    std::vector<std::atomic<int>> runs(37);
    ASSERT_TRUE(run_tasks(runs.size(), parallel, [&](size_t i) {
                  ++runs[i];
                  return Status::ok();
                }).is_ok());
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1) << parallel;
  }
  EXPECT_TRUE(run_tasks(0, 4, [](size_t) { return Status::internal("never run"); }).is_ok());
}

TEST(RunTasks, TheFirstFailureStopsNewTasksAndIsReturned) {
  std::atomic<int> started{0};
  Status st = run_tasks(1000, 1, [&](size_t i) {
    ++started;
    return i == 3 ? Status::unavailable("task 3 failed") : Status::ok();
  });
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  EXPECT_EQ(st.message(), "task 3 failed");
  EXPECT_EQ(started.load(), 4);
}

}  // namespace
}  // namespace simile
