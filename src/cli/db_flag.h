// --db: the collection database a command works on.
#pragma once

#include <memory>
#include <string>

#include "cli/cli.h"
#include "simile/collection.h"

namespace simile::cli {

struct DbFlag {
  std::string path;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--db", path, "collection database file (default: $SIMILE_HOME/simile.db or the XDG data dir)");
  }
  std::unique_ptr<Database> open() const { return take(Database::open(path)); }
};

}  // namespace simile::cli
