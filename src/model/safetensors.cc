#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "model/kernels/convert.h"
#include "util/file_util.h"

namespace simile {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1},      {DType::kU8, "U8", 1},   {DType::kI8, "I8", 1},   {DType::kF8E5M2, "F8_E5M2", 1},
    {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2}, {DType::kU16, "U16", 2}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2},      {DType::kI32, "I32", 4}, {DType::kU32, "U32", 4}, {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8}, {DType::kU64, "U64", 8},
};

// The reference implementation refuses headers above 100 MB; so do we, before
// handing them to a JSON parser.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

const DTypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

std::string known_dtypes() {
  std::string out;
  for (const auto& d : kDTypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

Status corrupt(const std::string& path, const std::string& msg) {
  return Status::corrupt("corrupt safetensors file " + path + ": " + msg);
}

// a * b, or false on overflow.
bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

size_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

const char* dtype_name(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

uint64_t TensorView::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::string TensorView::shape_string() const {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// ---------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) munmap(map_, size_);
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path, bool populate) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::not_found("no such file: " + path);
    return Status::io_error("cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::io_error(path + " is not a regular file");
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ < 8) {
    ::close(fd);
    return corrupt(path, "the file is " + std::to_string(file->size_) +
                             " bytes, too short for the 8-byte header length (truncated?)");
  }
  void* map = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
  int err = errno;
  ::close(fd);
  if (map == MAP_FAILED) return Status::io_error("cannot map " + path + ": " + std::strerror(err));
  file->map_ = map;
  SIMILE_RETURN_IF_ERROR(file->parse());
  return file;
}

Status SafetensorsFile::parse() {
  const auto* base = static_cast<const uint8_t*>(map_);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];  // little-endian
  if (header_len > size_ - 8)
    return corrupt(path_, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                              std::to_string(size_) + " bytes): truncated, or not a safetensors file");
  if (header_len > kMaxHeaderBytes)
    return corrupt(path_, "header length " + std::to_string(header_len) + " is over the 100 MB limit");
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size_ - 8 - header_len;

  json header = json::parse(base + 8, base + 8 + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return corrupt(path_, "the header is not valid JSON");
  if (!header.is_object()) return corrupt(path_, "the header is not a JSON object");

  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string& name = it.key();
      const json& entry = it.value();
      if (name == "__metadata__") {
        if (!entry.is_object()) return corrupt(path_, "__metadata__ is not an object");
        for (auto m = entry.begin(); m != entry.end(); ++m) {
          if (!m.value().is_string()) return corrupt(path_, "__metadata__ value '" + m.key() + "' is not a string");
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string where = "tensor '" + name + "'";
      if (!entry.is_object()) return corrupt(path_, where + " is not described by an object");
      auto dt = entry.find("dtype");
      if (dt == entry.end() || !dt->is_string()) return corrupt(path_, where + " has no dtype");
      const DTypeInfo* info = find_dtype(dt->get<std::string>());
      if (info == nullptr)
        return corrupt(path_, where + " has unknown dtype '" + dt->get<std::string>() +
                                  "' (safetensors dtypes: " + known_dtypes() + ")");
      TensorView t;
      t.name = name;
      t.dtype = info->dtype;
      t.file = &path_;
      auto shape = entry.find("shape");
      if (shape == entry.end() || !shape->is_array()) return corrupt(path_, where + " has no shape array");
      uint64_t numel = 1;
      for (const json& d : *shape) {
        if (!d.is_number_unsigned()) return corrupt(path_, where + " has a shape entry that is not a count");
        t.shape.push_back(d.get<uint64_t>());
        if (mul_overflows(numel, t.shape.back(), &numel)) return corrupt(path_, where + " has an absurd shape");
      }
      auto offsets = entry.find("data_offsets");
      if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
          !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
        return corrupt(path_, where + " has no data_offsets [begin, end]");
      const uint64_t begin = (*offsets)[0].get<uint64_t>();
      const uint64_t end = (*offsets)[1].get<uint64_t>();
      if (begin > end) return corrupt(path_, where + " has data_offsets with begin after end");
      uint64_t expected = 0;
      if (mul_overflows(numel, info->size, &expected) || expected != end - begin)
        return corrupt(path_, where + " has shape " + t.shape_string() + " of " + info->name + " (" +
                                  std::to_string(numel) + " x " + std::to_string(info->size) +
                                  " bytes) but a byte range of " + std::to_string(end - begin));
      if (end > data_size)
        return corrupt(path_, where + " ends at byte " + std::to_string(end) + " of a " + std::to_string(data_size) +
                                  "-byte data section (truncated?)");
      t.data = data + begin;
      t.nbytes = end - begin;
      tensors_.push_back(std::move(t));
    }
  } catch (const json::exception& e) {
    return corrupt(path_, std::string("malformed header: ") + e.what());
  }

  std::sort(tensors_.begin(), tensors_.end(), [](const TensorView& a, const TensorView& b) {
    return a.data != b.data ? a.data < b.data : a.nbytes < b.nbytes;
  });
  for (size_t i = 1; i < tensors_.size(); ++i) {
    const TensorView& prev = tensors_[i - 1];
    if (tensors_[i].data < prev.data + prev.nbytes)
      return corrupt(path_, "the byte ranges of tensors '" + prev.name + "' and '" + tensors_[i].name + "' overlap");
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// WeightFiles

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Status WeightFiles::add_file(std::unique_ptr<SafetensorsFile> file) {
  for (const TensorView& t : file->tensors()) {
    auto [it, inserted] = by_name_.emplace(t.name, &t);
    if (!inserted)
      return Status::corrupt("tensor '" + t.name + "' is in both " + *it->second->file + " and " + file->path());
  }
  files_.push_back(std::move(file));
  return Status::ok();
}

Result<std::unique_ptr<WeightFiles>> WeightFiles::open(const std::string& path, bool populate) {
  std::error_code ec;
  std::string target = path;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    if (fs::exists(dir / kIndexName, ec)) {
      target = (dir / kIndexName).string();
    } else if (fs::exists(dir / "model.safetensors", ec)) {
      target = (dir / "model.safetensors").string();
    } else {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file(ec) && ends_with(entry.path().filename().string(), ".safetensors"))
          found.push_back(entry.path().filename().string());
      std::sort(found.begin(), found.end());
      if (found.empty()) return Status::not_found("model directory " + path + " has no *.safetensors weights");
      if (found.size() > 1) {
        std::string list;
        for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
        return Status::invalid_argument("model directory " + path + " holds several safetensors files (" + list +
                                        ") and no " + kIndexName + " saying how they fit together");
      }
      target = (dir / found[0]).string();
    }
  }

  std::unique_ptr<WeightFiles> weights(new WeightFiles());
  if (!ends_with(target, ".json")) {
    SIMILE_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(target, populate));
    SIMILE_RETURN_IF_ERROR(weights->add_file(std::move(file)));
    return weights;
  }

  // Sharded: {"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}.
  SIMILE_ASSIGN_OR_RETURN(std::string text, read_file(target));
  json index = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object())
    return Status::corrupt("shard index " + target + " is not a JSON object");
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) return Status::corrupt("shard index " + target + " has no weight_map");
  std::set<std::string> shards;
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (!it.value().is_string())
      return Status::corrupt("shard index " + target + ": the shard of '" + it.key() + "' is not a file name");
    std::string shard = it.value().get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      return Status::corrupt("shard index " + target + " names shard '" + shard + "' outside its directory");
    shards.insert(shard);
  }
  if (shards.empty()) return Status::corrupt("shard index " + target + " lists no tensors");
  fs::path dir = fs::path(target).parent_path();
  for (const auto& shard : shards) {
    auto file = SafetensorsFile::open((dir / shard).string(), populate);
    if (!file.is_ok()) return file.status().with_context("shard index " + target);
    SIMILE_RETURN_IF_ERROR(weights->add_file(std::move(file).value()));
  }
  for (auto it = map->begin(); it != map->end(); ++it) {
    const TensorView* t = weights->find(it.key());
    std::string shard = it.value().get<std::string>();
    if (t == nullptr || fs::path(*t->file).filename() != shard)
      return Status::corrupt("shard index " + target + " puts tensor '" + it.key() + "' in " + shard +
                             ", which does not hold it");
  }
  return weights;
}

const TensorView* WeightFiles::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : by_name_) out.push_back(name);
  return out;
}

uint64_t WeightFiles::total_bytes() const {
  uint64_t total = 0;
  for (const auto& f : files_) total += f->file_size();
  return total;
}

Status WeightFiles::read_f32(const TensorView& t, float* out) {
  const size_t n = static_cast<size_t>(t.numel());
  switch (t.dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(out, t.data, n * sizeof(float));
      return Status::ok();
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + i * sizeof d, sizeof d);
        out[i] = static_cast<float>(d);
      }
      return Status::ok();
    case DType::kF16:
    case DType::kBF16: {
      // Offsets need not be even; copy rather than read misaligned uint16s.
      std::vector<uint16_t> aligned;
      const uint16_t* src = reinterpret_cast<const uint16_t*>(t.data);
      if (reinterpret_cast<uintptr_t>(t.data) % alignof(uint16_t) != 0) {
        aligned.resize(n);
        if (n > 0) std::memcpy(aligned.data(), t.data, n * sizeof(uint16_t));
        src = aligned.data();
      }
      if (t.dtype == DType::kF16)
        kernels::f16_to_f32(src, out, n);
      else
        kernels::bf16_to_f32(src, out, n);
      return Status::ok();
    }
    default:
      return Status::unsupported("tensor '" + t.name + "' in " + (t.file ? *t.file : std::string("?")) + " has dtype " +
                                 dtype_name(t.dtype) + "; weights must be F32, F16, BF16 or F64");
  }
}

Result<std::vector<float>> WeightFiles::to_f32(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  SIMILE_RETURN_IF_ERROR(read_f32(t, out.data()));
  return out;
}

Result<std::vector<float>> WeightFiles::read_f32_checked(const std::string& name, const std::vector<uint64_t>& shape,
                                                         const std::string& implied_by) const {
  const TensorView* t = find(name);
  if (t == nullptr) return Status::corrupt("the weights have no tensor '" + name + "' (" + implied_by + ")");
  if (t->shape != shape) {
    TensorView want;
    want.shape = shape;
    return Status::corrupt("tensor '" + name + "' in " + *t->file + " has shape " + t->shape_string() + ", but " +
                           implied_by + " implies " + want.shape_string());
  }
  return to_f32(*t);
}

}  // namespace simile
