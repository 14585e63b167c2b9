#include "model/pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "util/check.h"

namespace simile {

std::string to_string(Pooling p) {
  switch (p) {
    case Pooling::kCls:
      return "cls";
    case Pooling::kMean:
      return "mean";
    case Pooling::kMax:
      return "max";
    case Pooling::kMeanSqrtLen:
      return "mean_sqrt_len";
    case Pooling::kLastToken:
      return "lasttoken";
  }
  return "?";
}

Result<Pooling> parse_pooling(const std::string& name) {
  for (Pooling p : {Pooling::kCls, Pooling::kMean, Pooling::kMax, Pooling::kMeanSqrtLen, Pooling::kLastToken})
    if (name == to_string(p)) return p;
  return Status::invalid_argument("unknown pooling '" + name + "' (choose cls, mean, max, mean_sqrt_len, lasttoken)");
}

void pool_tokens(const float* tokens, size_t rows, size_t dim, const uint8_t* mask, Pooling mode, float* out) {
  SIMILE_CHECK(rows > 0);
  auto counted = [&](size_t r) { return mask == nullptr || mask[r] != 0; };
  switch (mode) {
    case Pooling::kCls:
      std::copy(tokens, tokens + dim, out);
      return;
    case Pooling::kLastToken: {
      for (size_t r = rows; r-- > 0;)
        if (counted(r)) {
          std::copy(tokens + r * dim, tokens + (r + 1) * dim, out);
          return;
        }
      // sentence-transformers gathers the last row times its mask of 0.
      std::fill(out, out + dim, 0.0f);
      return;
    }
    case Pooling::kMax: {
      std::fill(out, out + dim, -1e9f);
      for (size_t r = 0; r < rows; ++r)
        if (counted(r))
          for (size_t c = 0; c < dim; ++c) out[c] = std::max(out[c], tokens[r * dim + c]);
      return;
    }
    case Pooling::kMean:
    case Pooling::kMeanSqrtLen: {
      std::vector<double> sum(dim, 0.0);
      double count = 0;
      for (size_t r = 0; r < rows; ++r) {
        if (!counted(r)) continue;
        count += 1;
        for (size_t c = 0; c < dim; ++c) sum[c] += tokens[r * dim + c];
      }
      count = std::max(count, 1e-9);
      const double div = mode == Pooling::kMean ? count : std::sqrt(count);
      for (size_t c = 0; c < dim; ++c) out[c] = static_cast<float>(sum[c] / div);
      return;
    }
  }
}

void l2_normalize(float* v, size_t dim) {
  double sq = 0;
  for (size_t c = 0; c < dim; ++c) sq += static_cast<double>(v[c]) * v[c];
  const double norm = std::max(std::sqrt(sq), 1e-12);
  for (size_t c = 0; c < dim; ++c) v[c] = static_cast<float>(v[c] / norm);
}

}  // namespace simile
