// Shared by the fuzz targets (tests/fuzz/*_fuzz.cc): invariant checks that
// fail loudly (a fuzzer only notices crashes) and scratch files for the
// parsers that read paths.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace simile::fuzz {

// An invariant the code under test promises: abort with the message, so
// libFuzzer (or the replay driver) reports the input as a crash.
#define FUZZ_CHECK(cond, ...)                                                               \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
      ::simile::fuzz::explain(__VA_ARGS__);                                                 \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

inline void explain() {}
template <class... Args>
void explain(const char* format, Args... args) {
  if constexpr (sizeof...(Args) == 0) {
    std::fprintf(stderr, "%s\n", format);
  } else {
    std::fprintf(stderr, format, args...);
    std::fprintf(stderr, "\n");
  }
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A directory of its own for this process's scratch files, made once.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/simile-fuzz-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return templ;
  }();
  return dir;
}

// Writes `bytes` to scratch_dir()/name (replacing it) and returns its path.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

// Where the default model and the shared tokenizers are: the environment
// (as ctest and scripts/fuzz.sh set it), else the paths CMake compiled in.
inline std::string env_path(const char* name, const char* compiled) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return v;
  if (*compiled != '\0') return compiled;
  std::fprintf(stderr, "fuzz: %s is not set\n", name);
  std::abort();
}

#ifndef SIMILE_DEFAULT_HOME
#define SIMILE_DEFAULT_HOME ""
#define SIMILE_DEFAULT_SHARED_DIR ""
#endif

inline std::string default_model_dir() {
  return env_path("SIMILE_HOME", SIMILE_DEFAULT_HOME) + "/models/all-MiniLM-L6-v2";
}
inline std::string shared_dir() { return env_path("SIMILE_SHARED_DIR", SIMILE_DEFAULT_SHARED_DIR); }

}  // namespace simile::fuzz
