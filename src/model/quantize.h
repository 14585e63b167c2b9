// int8 weights of dynamically quantised linear layers, and the cache file
// that keeps them between runs (docs/formats/int8-weights.md).
//
// A weight matrix [out, in] becomes int8 per output row, symmetrically:
// scale = max|w| / 127, q = round(w / scale) in [-127, 127] (-128 is never
// used, which keeps the kernels' int16 pair sums exact, kernels/int8_gemm.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

// Row-major int8 values with one scale per row: w[r][c] ~ scale[r] * q[r][c].
struct QuantizedMatrix {
  size_t rows = 0, cols = 0;
  std::vector<int8_t> values;  // rows * cols
  std::vector<float> scales;   // rows

  bool empty() const { return rows == 0; }
};

// Quantises a row-major [rows, cols] fp32 matrix. A row of zeros gets scale 1
// and zeros; non-finite values are a caller error (checked).
QuantizedMatrix quantize_weights(const float* w, size_t rows, size_t cols);

// One quantised tensor of a model, by its name in the weight files.
struct QuantizedTensor {
  std::string name;
  QuantizedMatrix matrix;
};

// Increment when the quantisation rule changes: cache files of another
// scheme are rebuilt, never reused.
inline constexpr uint32_t kInt8Scheme = 1;

// The cache file for a model: $cache/quantized/<model name>-<fingerprint>.int8
// (the cache root of user_dirs.h, beside models/).
std::string int8_cache_path(const std::string& model_name, const std::string& fingerprint);

// Serialises tensors under the fp32 model's fingerprint and writes the file
// atomically (temporary file, fsync, rename), creating the directory, and
// removes older files of the same model name (other fingerprints).
Status write_int8_cache(const std::string& path, const std::string& fingerprint,
                        const std::vector<QuantizedTensor>& tensors);

// Reads a cache file and checks everything before trusting it: magic,
// version, scheme, the XXH3-64 checksum of the whole file, the fingerprint
// and the sizes. Errors: not_found (no file), corrupt (any check failed; the
// message says which).
Result<std::vector<QuantizedTensor>> read_int8_cache(const std::string& path, const std::string& fingerprint);

}  // namespace simile
