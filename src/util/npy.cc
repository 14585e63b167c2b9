#include "util/npy.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace simile {

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
}  // namespace

std::string npy_encode(const float* data, size_t rows, size_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  // The header (with magic, version and length) is padded to a multiple of 64
  // bytes and ends in '\n', as the format requires.
  size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back('\x01');
  out.push_back('\x00');
  uint16_t len = static_cast<uint16_t>(header.size());
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out += header;
  out.append(reinterpret_cast<const char*>(data), rows * cols * sizeof(float));
  return out;
}

Result<NpyMatrix> npy_decode(const std::string& bytes) {
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    return Status::corrupt("not a .npy file (bad magic)");
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Status::corrupt("truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return Status::unsupported(".npy format version " + std::to_string(major));
  }
  if (header_start + header_len > bytes.size()) return Status::corrupt("truncated .npy header");
  std::string header = bytes.substr(header_start, header_len);
  if (header.find("'<f4'") == std::string::npos)
    return Status::unsupported(".npy dtype must be little-endian float32 ('<f4')");
  if (header.find("'fortran_order': False") == std::string::npos)
    return Status::unsupported(".npy must be C-ordered");
  std::smatch m;
  static const std::regex kShape(R"('shape':\s*\((\d+)\s*,?\s*(\d*)\s*,?\s*\))");
  if (!std::regex_search(header, m, kShape)) return Status::corrupt(".npy header has no shape: " + header);
  NpyMatrix out;
  out.rows = std::stoull(m[1].str());
  out.cols = m[2].str().empty() ? 1 : std::stoull(m[2].str());
  if (m[2].str().empty()) std::swap(out.rows, out.cols), out.rows = 1;
  size_t payload = header_start + header_len;
  size_t need = out.rows * out.cols * sizeof(float);
  if (bytes.size() - payload != need)
    return Status::corrupt(".npy payload is " + std::to_string(bytes.size() - payload) +
                           " bytes, shape needs " + std::to_string(need));
  out.data.resize(out.rows * out.cols);
  std::memcpy(out.data.data(), bytes.data() + payload, need);
  return out;
}

Result<NpyMatrix> npy_read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = npy_decode(ss.str());
  if (!r.is_ok()) return r.status().with_context(path);
  return r;
}

}  // namespace simile
