// A large float array that is allocated once and reused: model weights and
// forward-pass workspaces.
//
// Why not std::vector<float>: it zero-fills on resize, and on a VM every
// freshly touched 4 KiB page costs a trap. These buffers are 64-byte aligned,
// left uninitialised (callers write before they read), and asked to use
// transparent huge pages, which cut loading the default model from ~300 ms to
// well under 100 ms here.
#pragma once

#include <cstddef>
#include <memory>

namespace simile {

class FloatBuffer {
 public:
  FloatBuffer() = default;
  explicit FloatBuffer(size_t n) { reset(n); }

  // Replaces the contents with n uninitialised floats.
  void reset(size_t n);
  // Grows to at least n floats (contents are not kept).
  void reserve(size_t n) {
    if (n > size_) reset(n);
  }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> data_;
  size_t size_ = 0;
};

}  // namespace simile
