// The ranking flags shared by `simile search` and `simile eval`: --mode and
// the keyword rankings' parameters (--k1, --b, --tf, --idf, --cosine).
#pragma once

#include <string>

#include "cli/cli.h"
#include "simile/collection.h"

namespace simile::cli {

struct SearchFlags {
  std::string mode = "auto", tf = "raw", idf = "plain";
  KeywordRanking keyword;

  void add_to(CLI::App* cmd);
  // Mode and ranking parameters set in `options`; throws CliError on a bad value.
  void apply(SearchOptions& options) const;
};

}  // namespace simile::cli
