// Helpers shared by the tests of src/words: a scratch directory for the files
// a test writes, and writing bytes to one.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace simile::words::testing {

namespace fs = std::filesystem;

// A fresh directory under GoogleTest's temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    std::random_device rd;
    path_ = fs::path(::testing::TempDir()) / ("simile-words-test-" + std::to_string(getpid()) + "-" +
                                              std::to_string(counter++) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

  // Writes `bytes` to `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string path = file(name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    EXPECT_TRUE(out.good()) << "cannot write " << path;
    return path;
  }

 private:
  fs::path path_;
};

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
