// safetensors: the weight files of Hugging Face models, memory-mapped.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional
// "__metadata__" string map), then the data section the offsets point into.
// Nothing in a file is trusted before it is checked: the header length must
// fit the file, the header must be JSON of that shape, every dtype must be a
// safetensors dtype, every byte range must match its shape, lie inside the
// data section and overlap no other. A file that fails is reported as
// Status::corrupt naming the file and the tensor.
//
// A model's weights can be one file or several shards listed by
// model.safetensors.index.json; WeightFiles opens either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simile/status.h"

namespace simile {

enum class DType : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64
};

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // as spelled in the header: "F16", "BF16", ...

// One tensor inside a mapped file. `data` points into the mapping and stays
// valid while the SafetensorsFile (or WeightFiles) that produced it lives; it
// has no particular alignment.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<uint64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
  const std::string* file = nullptr;  // path of the file holding it

  uint64_t numel() const;
  std::string shape_string() const;  // "[384, 1536]"
};

// One safetensors file, mapped read-only. Immutable and thread-safe once open.
class SafetensorsFile {
 public:
  // Maps and validates `path`. Errors: not_found / io_error when the file
  // cannot be read, corrupt when it is not a valid safetensors file.
  // `populate` pre-faults the whole mapping (for callers about to read every
  // tensor; much cheaper than faulting page by page).
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path, bool populate = false);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return size_; }
  // In data-offset order.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  Status parse();

  std::string path_;
  void* map_ = nullptr;
  uint64_t size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A model's tensors across one or more safetensors files.
class WeightFiles {
 public:
  // `path` is a .safetensors file, a model.safetensors.index.json, or a
  // directory holding model.safetensors.index.json, model.safetensors, or
  // exactly one *.safetensors file (e.g. model.fp16.safetensors).
  static Result<std::unique_ptr<WeightFiles>> open(const std::string& path, bool populate = false);

  // Null when absent.
  const TensorView* find(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  uint64_t total_bytes() const;  // sum of the file sizes

  // Reads a floating-point tensor (F32, F16, BF16, F64) as float32 into
  // dst[0, numel). Errors: unsupported for integer and F8 dtypes.
  static Status read_f32(const TensorView& tensor, float* dst);
  static Result<std::vector<float>> to_f32(const TensorView& tensor);
  // to_f32 of tensor `name`, after checking it exists with `shape`. Errors:
  // corrupt, naming the tensor and saying that `implied_by` implies the shape.
  Result<std::vector<float>> read_f32_checked(const std::string& name, const std::vector<uint64_t>& shape,
                                              const std::string& implied_by) const;

 private:
  WeightFiles() = default;
  Status add_file(std::unique_ptr<SafetensorsFile> file);

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*, std::less<>> by_name_;
};

}  // namespace simile
