// Re-ranking by an LLM (`--rerank llm:URL`): an OpenAI-compatible chat
// endpoint is asked, for each candidate passage, whether it is a plausible
// answer to the question, and answers in JSON (a json_schema response
// format): {"plausible": bool, "confidence": 0..1}. The most expensive judge
// there is, so it sees only the top few candidates, several at a time, and
// every verdict is kept in a cache (SQLite, beside the model cache) keyed by
// endpoint, model, question and passage: asking again costs nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "remote/chat_client.h"
#include "simile/status.h"

namespace simile::search {

inline constexpr const char* kLlmRerankPrefix = "llm:";

struct Verdict {
  bool plausible = false;
  double confidence = 0;  // 0..1, the model's own
  bool cached = false;
  // 0.5 + confidence / 2 when plausible, else 0.5 - confidence / 2: one
  // score in [0, 1] that orders plausible ones first, surest first.
  float score() const;
};

// One verdict per passage, in input order; nullopt where the model's answer
// could not be read as a verdict (that candidate keeps its place). An
// endpoint that cannot be reached, or refuses, is an error.
// `cache_path` "" = no cache.
Result<std::vector<std::optional<Verdict>>> judge_passages(const remote::ChatEndpoint& endpoint,
                                                           const std::string& question,
                                                           const std::vector<std::string>& passages,
                                                           const std::string& cache_path);

// The cache's default file: llm-verdicts.db in the user cache directory.
std::string default_verdict_cache();

}  // namespace simile::search
