#include "util/user_dirs.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace simile {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string home_dir() {
  std::string home = env("HOME");
  if (home.empty()) {
    const struct passwd* pw = getpwuid(getuid());
    if (pw != nullptr && pw->pw_dir != nullptr) home = pw->pw_dir;
  }
  return home.empty() ? std::string(".") : home;
}

}  // namespace

std::string user_dir(UserDirKind kind) {
  if (std::string home = env("SIMILE_HOME"); !home.empty()) return home;
  const bool cache = kind == UserDirKind::kCache;
  if (std::string xdg = env(cache ? "XDG_CACHE_HOME" : "XDG_DATA_HOME"); !xdg.empty()) return xdg + "/simile";
  return home_dir() + (cache ? "/.cache/simile" : "/.local/share/simile");
}

}  // namespace simile
