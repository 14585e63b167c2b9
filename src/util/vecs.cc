#include "util/vecs.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "util/file_util.h"

namespace simile {

namespace {

template <typename T>
Result<VecsMatrix<T>> decode(const std::string& bytes, const std::string& name) {
  static_assert(sizeof(T) == 4);
  VecsMatrix<T> m;
  if (bytes.empty()) return Status::corrupt(name + ": empty file, no vectors");
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t row = m.rows;
    if (bytes.size() - at < 4)
      return Status::corrupt(name + ": truncated at row " + std::to_string(row) + " (partial dimension field)");
    int32_t d = 0;
    std::memcpy(&d, bytes.data() + at, 4);
    at += 4;
    if (d <= 0)
      return Status::corrupt(name + ": row " + std::to_string(row) + " has dimension " + std::to_string(d) +
                             " (not an fvecs/ivecs file?)");
    if (row == 0) m.cols = static_cast<size_t>(d);
    if (static_cast<size_t>(d) != m.cols)
      return Status::corrupt(name + ": row " + std::to_string(row) + " has dimension " + std::to_string(d) +
                             ", row 0 has " + std::to_string(m.cols));
    if ((bytes.size() - at) / 4 < m.cols)
      return Status::corrupt(name + ": truncated in row " + std::to_string(row) + " (" +
                             std::to_string(bytes.size() - at) + " bytes left, " + std::to_string(4 * m.cols) +
                             " needed)");
    const size_t old = m.data.size();
    m.data.resize(old + m.cols);
    std::memcpy(m.data.data() + old, bytes.data() + at, 4 * m.cols);
    if constexpr (std::is_same_v<T, float>) {
      for (size_t j = 0; j < m.cols; ++j)
        if (!std::isfinite(m.data[old + j]))
          return Status::corrupt(name + ": row " + std::to_string(row) + " has a non-finite value at column " +
                                 std::to_string(j));
    }
    at += 4 * m.cols;
    ++m.rows;
  }
  return m;
}

template <typename T>
Result<VecsMatrix<T>> read(const std::string& path) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.is_ok()) return bytes.status();
  return decode<T>(bytes.value(), path);
}

}  // namespace

Result<VecsMatrix<float>> fvecs_decode(const std::string& bytes, const std::string& name) {
  return decode<float>(bytes, name);
}
Result<VecsMatrix<int32_t>> ivecs_decode(const std::string& bytes, const std::string& name) {
  return decode<int32_t>(bytes, name);
}
Result<VecsMatrix<float>> fvecs_read_file(const std::string& path) { return read<float>(path); }
Result<VecsMatrix<int32_t>> ivecs_read_file(const std::string& path) { return read<int32_t>(path); }

}  // namespace simile
