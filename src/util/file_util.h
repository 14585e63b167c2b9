// Small file-system helpers with Status errors and durable writes.
#pragma once

#include <string>

#include "simile/status.h"

namespace simile {

Result<std::string> read_file(const std::string& path);

// Writes `data` to `path` durably: a temporary file beside it is written,
// fsync'ed and renamed over `path`, so readers see the old or the new
// content, never a torn one.
Status write_file_atomic(const std::string& path, const std::string& data);

// fsyncs a file or directory (a directory fsync makes renames in it durable).
Status sync_path(const std::string& path);

}  // namespace simile
