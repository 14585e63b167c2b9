// The ranking flags shared by `simile search` and `simile eval`: --mode, the
// keyword rankings' parameters (--k1, --b, --tf, --idf, --cosine), hybrid
// fusion (--fusion, --rrf-k, --weight, --normalize-scores, --candidates), re-ranking
// (--rerank, --rerank-top; --llm-model, --llm-api-key-env for an LLM judge), --mmr, --center and the HNSW beam width --ef.
#pragma once

#include <optional>
#include <string>

#include "cli/cli.h"
#include "simile/collection.h"

namespace simile::cli {

struct SearchFlags {
  std::string mode = "auto", tf = "raw", idf = "plain", fusion = "rrf", normalize = "minmax";
  KeywordRanking keyword;
  Fusion fusion_params;
  size_t candidates = 0;
  size_t ef = 0;
  std::string rerank;
  size_t rerank_top = 0;
  std::string llm_model, llm_api_key_env;
  std::optional<double> mmr;
  bool center = false;

  // `with_mode`: false for commands that take their own --mode.
  void add_to(CLI::App* cmd, bool with_mode = true);
  // The flags set in `options`; throws CliError on a bad value.
  void apply(SearchOptions& options) const;
};

}  // namespace simile::cli
