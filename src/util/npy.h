// NumPy .npy files (format version 1.0) of little-endian float32 matrices:
// how simile exchanges vectors with Python tooling and golden fixtures.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

struct NpyMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> data;  // rows x cols, row-major
};

// Serialises a rows x cols float32 matrix as .npy bytes.
std::string npy_encode(const float* data, size_t rows, size_t cols);
// Parses .npy bytes holding a 1-d or 2-d C-order '<f4' array.
Result<NpyMatrix> npy_decode(const std::string& bytes);
Result<NpyMatrix> npy_read_file(const std::string& path);

}  // namespace simile
