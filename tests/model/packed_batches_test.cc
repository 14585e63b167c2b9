#include "model/packed_batches.h"

#include <gtest/gtest.h>

namespace simile {
namespace {

// A lone text gets every thread inside its forward pass, however short: the
// single-query case of search (regression: short texts used to run on one
// thread, at about twice the latency on 2 cores).
TEST(PlanBatches, ALoneShortTextUsesEveryThreadInsideThePass) {
  for (size_t tokens : {3, 13, 250}) {
    const BatchPlan plan = plan_batches({tokens}, 32, 2);
    ASSERT_EQ(plan.units.size(), 1u);
    EXPECT_EQ(plan.team, 1) << tokens;
    EXPECT_EQ(plan.inner, 2) << tokens;
  }
}

TEST(PlanBatches, SeveralTextsRunWholeBatchesOnePerThread) {
  const BatchPlan plan = plan_batches({13, 40, 7, 250}, 32, 2);
  EXPECT_EQ(plan.team, 2);
  EXPECT_EQ(plan.inner, 1);
  size_t covered = 0;
  for (const auto& [first, count] : plan.units) covered += count;
  EXPECT_EQ(covered, 4u);
  EXPECT_EQ(plan.order.front(), 3u);  // longest first
}

}  // namespace
}  // namespace simile
