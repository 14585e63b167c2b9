// Regular expressions for the tokenizer (the pre-tokenizers' split patterns):
// PCRE2 in UTF mode with Unicode properties (UCP), compiled once and shared.
//
// Matching follows the Hugging Face tokenizers library (Oniguruma through the
// Rust `onig` crate): successive non-overlapping leftmost matches, each search
// starting where the previous match ended; an empty match right where the
// previous match ended is skipped by moving one character on.
//
// Thread safety: a Regex is immutable; find_all() may run on many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simile/status.h"

namespace simile::text {

class Regex {
 public:
  // Compiles `pattern` (Perl/Oniguruma syntax as tokenizer.json writes it), or
  // matches `pattern` literally when `literal`. Fails with PCRE2's message and
  // the offset of the error in the pattern.
  static Result<std::unique_ptr<Regex>> compile(std::string_view pattern, bool literal = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the [begin, end) byte ranges of the matches in `text` (valid
  // UTF-8) to *out. Fails only when PCRE2 does (e.g. its match limit).
  Status find_all(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*, kept out of this header
};

}  // namespace simile::text
