#include "model/quantize.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "util/check.h"
#include "util/file_util.h"
#include "util/user_dirs.h"

namespace simile {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'S', 'I', 'M', 'I', 'L', 'E', 'Q', '8'};
constexpr uint32_t kVersion = 1;
// Bounds that keep a corrupt size field from asking for absurd memory
// before the checksum has been checked against the file's actual length.
constexpr uint64_t kMaxNameBytes = 4096;

// Little-endian fields (the format is little-endian; simile runs on x86-64).
template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_string(std::string& out, const std::string& s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads fields in order; any read past the end sets `ok` false.
class Reader {
 public:
  Reader(const char* data, size_t size) : p_(data), end_(data + size) {}
  template <typename T>
  T get() {
    T v{};
    if (static_cast<size_t>(end_ - p_) < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string get_string(uint64_t max) {
    const uint32_t n = get<uint32_t>();
    if (!ok_ || n > max || static_cast<size_t>(end_ - p_) < n) {
      ok_ = false;
      return {};
    }
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  bool bytes(void* dst, size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) return ok_ = false;
    std::memcpy(dst, p_, n);
    p_ += n;
    return true;
  }
  bool ok() const { return ok_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace

QuantizedMatrix quantize_weights(const float* w, size_t rows, size_t cols) {
  QuantizedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.values.resize(rows * cols);
  m.scales.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float amax = 0;
    for (size_t c = 0; c < cols; ++c) {
      SIMILE_CHECK(std::isfinite(row[c]));
      amax = std::max(amax, std::fabs(row[c]));
    }
    const float scale = amax > 0 ? amax / 127.0f : 1.0f;
    m.scales[r] = scale;
    int8_t* q = m.values.data() + r * cols;
    for (size_t c = 0; c < cols; ++c)
      q[c] = static_cast<int8_t>(std::clamp(std::nearbyintf(row[c] / scale), -127.0f, 127.0f));
  }
  return m;
}

std::string int8_cache_path(const std::string& model_name, const std::string& fingerprint) {
  return user_dir(UserDirKind::kCache) + "/quantized/" + model_name + "-" + fingerprint + ".int8";
}

Status write_int8_cache(const std::string& path, const std::string& fingerprint,
                        const std::vector<QuantizedTensor>& tensors) {
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, kInt8Scheme);
  put_string(out, fingerprint);
  put<uint32_t>(out, static_cast<uint32_t>(tensors.size()));
  for (const QuantizedTensor& t : tensors) {
    put_string(out, t.name);
    put<uint64_t>(out, t.matrix.rows);
    put<uint64_t>(out, t.matrix.cols);
  }
  for (const QuantizedTensor& t : tensors) {
    out.append(reinterpret_cast<const char*>(t.matrix.scales.data()), t.matrix.rows * sizeof(float));
    out.append(reinterpret_cast<const char*>(t.matrix.values.data()), t.matrix.values.size());
  }
  put<uint64_t>(out, XXH3_64bits(out.data(), out.size()));

  const fs::path file(path);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return Status::io_error("cannot create " + file.parent_path().string() + ": " + ec.message());
  SIMILE_RETURN_IF_ERROR(write_file_atomic(path, out));
  // Files of the same model under other fingerprints are stale: its weights changed.
  const std::string stem = file.filename().string();
  const std::string prefix = stem.substr(0, stem.size() - fingerprint.size() - std::strlen(".int8"));
  for (const auto& entry : fs::directory_iterator(file.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name != stem && name.size() == stem.size() && name.rfind(prefix, 0) == 0 &&
        name.size() > 5 && name.compare(name.size() - 5, 5, ".int8") == 0)
      fs::remove(entry.path(), ec);
  }
  return Status::ok();
}

Result<std::vector<QuantizedTensor>> read_int8_cache(const std::string& path, const std::string& fingerprint) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::not_found("no int8 cache file " + path);
  SIMILE_ASSIGN_OR_RETURN(std::string data, read_file(path));
  auto bad = [&](const std::string& why) { return Status::corrupt("int8 cache file " + path + ": " + why); };
  if (data.size() < sizeof kMagic + sizeof(uint64_t) || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return bad("not a simile int8 weights file");
  const size_t body = data.size() - sizeof(uint64_t);
  uint64_t stored = 0;
  std::memcpy(&stored, data.data() + body, sizeof stored);
  if (stored != XXH3_64bits(data.data(), body)) return bad("checksum mismatch (damaged or truncated)");

  Reader in(data.data() + sizeof kMagic, body - sizeof kMagic);
  const uint32_t version = in.get<uint32_t>();
  const uint32_t scheme = in.get<uint32_t>();
  if (!in.ok() || version != kVersion) return bad("version " + std::to_string(version) + ", expected " +
                                                  std::to_string(kVersion));
  if (scheme != kInt8Scheme)
    return bad("quantisation scheme " + std::to_string(scheme) + ", expected " + std::to_string(kInt8Scheme));
  if (in.get_string(kMaxNameBytes) != fingerprint) return bad("made from other weights (fingerprint differs)");
  const uint32_t count = in.get<uint32_t>();
  std::vector<QuantizedTensor> tensors;
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    QuantizedTensor t;
    t.name = in.get_string(kMaxNameBytes);
    t.matrix.rows = in.get<uint64_t>();
    t.matrix.cols = in.get<uint64_t>();
    // Each tensor needs rows * (4 + cols) more bytes: bound by what is left.
    if (!in.ok() || t.matrix.rows == 0 || t.matrix.cols == 0 || t.matrix.rows > in.left() ||
        t.matrix.cols > in.left() || t.matrix.rows * (t.matrix.cols + sizeof(float)) > in.left())
      return bad("tensor " + std::to_string(i) + " has an impossible shape");
    tensors.push_back(std::move(t));
  }
  for (QuantizedTensor& t : tensors) {
    t.matrix.scales.resize(t.matrix.rows);
    t.matrix.values.resize(t.matrix.rows * t.matrix.cols);
    in.bytes(t.matrix.scales.data(), t.matrix.rows * sizeof(float));
    in.bytes(t.matrix.values.data(), t.matrix.values.size());
  }
  if (!in.ok() || in.left() != 0) return bad("its sizes do not add up to its length");
  for (const QuantizedTensor& t : tensors) {
    for (float s : t.matrix.scales)
      if (!(s > 0) || !std::isfinite(s)) return bad("tensor " + t.name + " has a scale that is not positive");
    for (int8_t v : t.matrix.values)
      if (v == -128) return bad("tensor " + t.name + " holds -128, outside the scheme's [-127, 127]");
  }
  return tensors;
}

}  // namespace simile
