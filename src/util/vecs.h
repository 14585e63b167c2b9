// The .fvecs / .ivecs files of the ANN benchmarks (TEXMEX, ann-benchmarks):
// per row a little-endian int32 dimension d, then d float32 (fvecs) or int32
// (ivecs) values. Every row of a file has the same d. How `simile bench ann`
// reads base vectors, queries and ground-truth neighbour ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

template <typename T>
struct VecsMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<T> data;  // rows x cols, row-major
};

// Parses file bytes; `name` labels errors. A file that is empty, ends inside a
// row, has a dimension <= 0 or one that changes between rows is corrupt, with
// the row named. fvecs values must be finite.
Result<VecsMatrix<float>> fvecs_decode(const std::string& bytes, const std::string& name);
Result<VecsMatrix<int32_t>> ivecs_decode(const std::string& bytes, const std::string& name);
Result<VecsMatrix<float>> fvecs_read_file(const std::string& path);
Result<VecsMatrix<int32_t>> ivecs_read_file(const std::string& path);

}  // namespace simile
