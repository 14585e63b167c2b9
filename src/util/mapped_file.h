// A whole file mapped read-only into memory, unmapped with the object: for
// large inputs read once (HNSW index files, word vector files) without a copy
// in the heap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "simile/status.h"

namespace simile {

class MappedFile {
 public:
  // Maps `path` (a regular file). `what` names the file in errors ("HNSW
  // index", "word vectors"): a missing file is not_found, anything else an
  // io_error. An empty file maps to an empty view.
  static Result<MappedFile> open(const std::string& path, const std::string& what);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  // Tells the kernel the file will be read front to back (more read-ahead).
  void advise_sequential() const;

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace simile
