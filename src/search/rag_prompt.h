// The prompt of `simile ask`: a question and the passages retrieved for it,
// numbered so that an LLM can cite them, within a token budget.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "simile/collection.h"
#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile::search {

// The template's two placeholders; each must appear exactly once.
inline constexpr const char* kQuestionPlaceholder = "{question}";
inline constexpr const char* kSourcesPlaceholder = "{sources}";

// Asks for an answer from the sources only, cited by number.
extern const char* const kDefaultRagTemplate;

struct PromptSource {
  size_t number = 0;  // 1-based, as cited: [1]
  std::string id, title;
  size_t chunk_begin = 0, chunk_end = 0;  // the passage's span in the document, in code points
  float score = 0;
  std::string text;        // as put in the prompt
  bool truncated = false;  // cut to fit the budget
};

struct RagPrompt {
  std::string text;
  std::vector<PromptSource> sources;
  size_t tokens = 0;       // of `text`, as `counter` counts them
  size_t left_out = 0;     // hits that did not fit the budget
};

// Fills `prompt_template` with the question and the hits' passages (their
// best chunks), best first, each as
//   [n] Title (id: ID, characters B-E)
//   passage text
// taking hits while the whole prompt stays within `budget_tokens`; the first
// that does not fit whole is cut to the room left (when that is at least a
// few tokens) and the rest are left out. Errors: a template without both
// placeholders, or a question and template that alone exceed the budget.
Result<RagPrompt> build_rag_prompt(const std::string& question, const std::vector<SearchHit>& hits,
                                   const std::string& prompt_template, size_t budget_tokens,
                                   const Tokenizer& counter);

// The source numbers an answer cites ("[2]", "[1][3]", "[1, 3]"), ascending,
// each once; numbers outside 1..sources are ignored.
std::vector<size_t> cited_sources(const std::string& answer, size_t sources);

}  // namespace simile::search
