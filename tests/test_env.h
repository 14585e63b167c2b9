// Where tests find their inputs. ctest sets these variables (tests/CMakeLists.txt);
// a test that needs one that is missing fails with a message saying which.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace simile::testing {

inline std::string env_or_fail(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << "environment variable " << name << " is not set (run the tests through ctest)";
    return "";
  }
  return v;
}

inline std::string source_dir() { return env_or_fail("SIMILE_SOURCE_DIR"); }
inline std::string shared_dir() { return env_or_fail("SIMILE_SHARED_DIR"); }
inline std::string golden_dir() { return source_dir() + "/tests/golden"; }
// The default model as `simile models pull all-MiniLM-L6-v2` installed it.
inline std::string default_model_dir() { return env_or_fail("SIMILE_HOME") + "/models/all-MiniLM-L6-v2"; }

}  // namespace simile::testing
