// Content hashes (XXH3-128, hex): fast, stable across versions and machines,
// for telling whether content changed. Not for security.
#pragma once

#include <string>
#include <string_view>

namespace simile {

class ContentHash {
 public:
  ContentHash();
  ~ContentHash();
  ContentHash(const ContentHash&) = delete;
  ContentHash& operator=(const ContentHash&) = delete;

  // Each piece is hashed with its length, so ("ab", "c") != ("a", "bc").
  ContentHash& add(std::string_view bytes);
  std::string hex() const;  // 32 lowercase hex digits

 private:
  void* state_;
};

}  // namespace simile
