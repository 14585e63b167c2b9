// The search page's files (src/server/page/), compiled into the binary by
// cmake/embed_files.cmake so that `simile serve` needs nothing beside it.
#pragma once

#include <string_view>

namespace simile::server {

struct PageAsset {
  std::string_view path;  // "/", "/app.js", ...
  std::string_view content_type;
  std::string_view content;
};

// The asset served at `path`, or null.
const PageAsset* find_page_asset(std::string_view path);

}  // namespace simile::server
