// Where simile keeps files for the user: $SIMILE_HOME when set, else the XDG
// base directory of the kind asked for, else its default under $HOME.
#pragma once

#include <string>

namespace simile {

enum class UserDirKind {
  kCache,  // $XDG_CACHE_HOME/simile, else ~/.cache/simile (models)
  kData,   // $XDG_DATA_HOME/simile, else ~/.local/share/simile (collections)
};

// $SIMILE_HOME itself when set (both kinds share it), else the XDG directory.
std::string user_dir(UserDirKind kind);

}  // namespace simile
