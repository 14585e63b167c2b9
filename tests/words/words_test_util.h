// Helpers shared by the tests of src/words.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "../temp_dir.h"

namespace simile::words::testing {

using simile::testing::TempDir;

// prefix + n ("w17"). (Not "w" + std::to_string(n): GCC 12 warns about that
// with a false -Wrestrict.)
inline std::string numbered(const std::string& prefix, size_t n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

// Whether `message` holds `piece`, for EXPECT_TRUE with the message shown.
inline ::testing::AssertionResult mentions(const std::string& message, const std::string& piece) {
  if (message.find(piece) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << message << "' does not mention '" << piece << "'";
}

}  // namespace simile::words::testing
