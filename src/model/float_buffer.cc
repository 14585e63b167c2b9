#include "model/float_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace simile {

namespace {
constexpr size_t kHugePage = 2u << 20;
}

void FloatBuffer::Free::operator()(float* p) const { std::free(p); }

void FloatBuffer::reset(size_t n) {
  data_.reset();
  size_ = 0;
  if (n == 0) return;
  const size_t bytes = n * sizeof(float);
  // Huge-page alignment only pays for buffers of several huge pages.
  const size_t align = bytes >= 4 * kHugePage ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (p == nullptr) throw std::bad_alloc();
  if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure is harmless
  data_.reset(static_cast<float*>(p));
  size_ = n;
}

}  // namespace simile
