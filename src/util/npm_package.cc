#include "util/npm_package.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "util/subprocess.h"

namespace simile {

Status fetch_npm_package(const std::string& spec, const std::string& integrity, const std::string& work_dir) {
  SIMILE_ASSIGN_OR_RETURN(
      auto packed, run_process({"npm", "pack", spec, "--json", "--silent", "--pack-destination", work_dir}, work_dir));
  if (packed.exit_code != 0)
    return Status::io_error("npm pack " + spec + " failed (exit " + std::to_string(packed.exit_code) +
                            "): " + packed.err);
  auto info = nlohmann::json::parse(packed.out, nullptr, /*allow_exceptions=*/false);
  if (!info.is_array() || info.empty() || !info[0].contains("filename") || !info[0].contains("integrity"))
    return Status::io_error("unexpected output from npm pack: " + packed.out.substr(0, 200));
  const std::string got = info[0]["integrity"].get<std::string>();
  if (got != integrity) return Status::corrupt("package " + spec + " has integrity " + got + ", expected " + integrity);
  const std::string tarball =
      (std::filesystem::path(work_dir) / std::filesystem::path(info[0]["filename"].get<std::string>()).filename())
          .string();
  SIMILE_ASSIGN_OR_RETURN(auto untar, run_process({"tar", "-xzf", tarball, "-C", work_dir}));
  if (untar.exit_code != 0) return Status::io_error("cannot unpack " + tarball + ": " + untar.err);
  std::error_code ec;
  std::filesystem::remove(tarball, ec);  // the unpacked files are what is kept
  return Status::ok();
}

}  // namespace simile
