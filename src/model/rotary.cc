#include "model/rotary.h"

#include <cmath>

#include "util/check.h"

namespace simile {

RotaryEmbedding::RotaryEmbedding(size_t head_dim, double theta) : head_dim_(head_dim), inv_freq_(head_dim / 2) {
  SIMILE_CHECK(head_dim % 2 == 0 && head_dim > 0);
  // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), every
  // step in float32.
  const float base = static_cast<float>(theta);
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq_[i] = 1.0f / static_cast<float>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  }
}

void RotaryEmbedding::table(size_t positions, float* table) const {
  const size_t half = head_dim_ / 2;
  for (size_t p = 0; p < positions; ++p) {
    float* cos_row = table + p * head_dim_;
    float* sin_row = cos_row + half;
    for (size_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq_[i];  // rounded as transformers rounds it
      cos_row[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin_row[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
}

void RotaryEmbedding::rotate(float* x, size_t heads, const float* row) const {
  const size_t half = head_dim_ / 2;
  const float* cos_row = row;
  const float* sin_row = row + half;
  for (size_t h = 0; h < heads; ++h) {
    float* a = x + h * head_dim_;
    float* b = a + half;
    for (size_t i = 0; i < half; ++i) {
      const float lo = a[i], hi = b[i];
      a[i] = lo * cos_row[i] - hi * sin_row[i];
      b[i] = hi * cos_row[i] + lo * sin_row[i];
    }
  }
}

}  // namespace simile
