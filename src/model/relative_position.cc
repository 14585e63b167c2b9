#include "model/relative_position.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace simile {

namespace {

constexpr int64_t kHalf = kRelativePositionBuckets / 2;  // buckets per direction
constexpr int64_t kExact = kHalf / 2;                    // distances below this have a bucket each
constexpr int64_t kMaxDistance = 128;                    // where the log-spaced buckets end

}  // namespace

size_t relative_position_bucket(int64_t relative_position) {
  // transformers counts n = query - key: keys after the query (n < 0) take
  // the upper half.
  const int64_t n = -relative_position;
  const int64_t half = n < 0 ? kHalf : 0;
  const int64_t distance = std::llabs(n);
  if (distance < kExact) return static_cast<size_t>(half + distance);
  // float32 throughout, the reference's dtype: at distances 16, 32 and 64 the
  // quotient is an exact integer there, and must not fall just below it here.
  const float log_ratio = std::log(static_cast<float>(distance) / static_cast<float>(kExact)) /
                          static_cast<float>(std::log(static_cast<double>(kMaxDistance) / kExact));
  const int64_t spaced = kExact + static_cast<int64_t>(log_ratio * static_cast<float>(kHalf - kExact));
  return static_cast<size_t>(half + std::min(spaced, kHalf - 1));
}

void relative_position_bias_band(const float* table, size_t heads, size_t n, float* band) {
  const size_t width = 2 * n - 1;
  for (size_t r = 0; r < width; ++r) {
    const float* row = table + relative_position_bucket(static_cast<int64_t>(r) - static_cast<int64_t>(n - 1)) * heads;
    for (size_t h = 0; h < heads; ++h) band[h * width + r] = row[h];
  }
}

}  // namespace simile
