// Helpers for the model tests: temporary directories, safetensors files built
// byte by byte, and model directories derived from the default model.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../temp_dir.h"
#include "../test_env.h"

namespace simile::testing {

namespace fs = std::filesystem;

// Cosine of two d-dimensional vectors, in double.
inline double cosine(const float* a, const float* b, size_t d) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < d; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// An 8-byte little-endian length, then the header, then the data.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

struct FakeTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::string bytes;  // raw little-endian data
};

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
  return s;
}

// A valid file holding `tensors` back to back, in order.
inline std::string make_safetensors(const std::vector<FakeTensor>& tensors, const nlohmann::json& metadata = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : tensors) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  return safetensors_bytes(header.dump(), data);
}

// A model directory beside the default model: every file of it symlinked
// except those in `skip`, and `replace` written instead (path -> content).
inline void derive_model_dir(const fs::path& dest, const std::vector<std::string>& skip,
                             const std::vector<std::pair<std::string, std::string>>& replace) {
  const fs::path src = default_model_dir();
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path(), src);
    bool skipped = false;
    for (const auto& s : skip) skipped |= rel == s;
    for (const auto& r : replace) skipped |= rel == r.first;
    if (skipped) continue;
    fs::create_directories((dest / rel).parent_path());
    fs::create_symlink(entry.path(), dest / rel);
  }
  fs::create_directories(dest / "2_Normalize");
  for (const auto& [rel, content] : replace) write_bytes((dest / rel).string(), content);
}

}  // namespace simile::testing
