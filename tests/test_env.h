// Where tests find their inputs. ctest sets these variables (tests/CMakeLists.txt);
// a test that needs one that is missing fails with a message saying which.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace simile::testing {

// The environment variable `name`, else the value CMake compiled in.
inline std::string env_or_fail(const char* name, const char* compiled_default) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return v;
  if (compiled_default != nullptr && *compiled_default != '\0') return compiled_default;
  ADD_FAILURE() << "environment variable " << name << " is not set (run the tests through ctest)";
  return "";
}

#ifndef SIMILE_DEFAULT_SOURCE_DIR
#define SIMILE_DEFAULT_SOURCE_DIR ""
#define SIMILE_DEFAULT_SHARED_DIR ""
#define SIMILE_DEFAULT_NODE_DIR ""
#define SIMILE_DEFAULT_HOME ""
#define SIMILE_DEFAULT_BIN ""
#endif

inline std::string env_or_fail(const char* name) {
  std::string n = name;
  if (n == "SIMILE_SOURCE_DIR") return env_or_fail(name, SIMILE_DEFAULT_SOURCE_DIR);
  if (n == "SIMILE_SHARED_DIR") return env_or_fail(name, SIMILE_DEFAULT_SHARED_DIR);
  if (n == "SIMILE_NODE_DIR") return env_or_fail(name, SIMILE_DEFAULT_NODE_DIR);
  if (n == "SIMILE_HOME") return env_or_fail(name, SIMILE_DEFAULT_HOME);
  if (n == "SIMILE_BIN") return env_or_fail(name, SIMILE_DEFAULT_BIN);
  return env_or_fail(name, nullptr);
}

inline std::string source_dir() { return env_or_fail("SIMILE_SOURCE_DIR"); }
inline std::string shared_dir() { return env_or_fail("SIMILE_SHARED_DIR"); }
inline std::string golden_dir() { return source_dir() + "/tests/golden"; }
// The default model as `simile models pull all-MiniLM-L6-v2` installed it.
inline std::string default_model_dir() { return env_or_fail("SIMILE_HOME") + "/models/all-MiniLM-L6-v2"; }

}  // namespace simile::testing
