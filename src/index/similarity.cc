#include "index/similarity.h"

#include <cmath>

namespace simile {

Result<Metric> parse_metric(const std::string& name) {
  if (name == "cosine" || name == "cos") return Metric::kCosine;
  if (name == "dot") return Metric::kDot;
  if (name == "l2" || name == "euclidean") return Metric::kL2;
  if (name == "pearson") return Metric::kPearson;
  return Status::invalid_argument("unknown metric '" + name + "' (choose cosine, dot, l2 or pearson)");
}

std::string to_string(Metric m) {
  switch (m) {
    case Metric::kCosine: return "cosine";
    case Metric::kDot: return "dot";
    case Metric::kL2: return "l2";
    case Metric::kPearson: return "pearson";
  }
  return "?";
}

double similarity(const float* x, const float* y, size_t d, Metric metric) {
  double mx = 0, my = 0;
  if (metric == Metric::kPearson && d > 0) {
    for (size_t i = 0; i < d; ++i) mx += x[i], my += y[i];
    mx /= static_cast<double>(d);
    my /= static_cast<double>(d);
  }
  double dot = 0, nx = 0, ny = 0, l2 = 0;
  for (size_t i = 0; i < d; ++i) {
    double a = x[i] - mx, b = y[i] - my;
    dot += a * b;
    nx += a * a;
    ny += b * b;
    l2 += (a - b) * (a - b);
  }
  switch (metric) {
    case Metric::kDot: return dot;
    case Metric::kL2: return std::sqrt(l2);
    case Metric::kCosine:
    case Metric::kPearson: return (nx == 0 || ny == 0) ? 0.0 : dot / std::sqrt(nx * ny);
  }
  return 0;
}

std::vector<float> similarity_matrix(const float* a, size_t n, size_t d, Metric metric) {
  std::vector<float> out(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) {
      float s = static_cast<float>(similarity(a + i * d, a + j * d, d, metric));
      out[i * n + j] = out[j * n + i] = s;
    }
  return out;
}

}  // namespace simile
