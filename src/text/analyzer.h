// The text analyzer of the keyword (BM25) index: turns text into the index
// terms that documents are stored under and queries are looked up by.
//
// Pipeline, per token (docs/analyzers.md is the user-facing description):
//   1. Tokens are maximal runs of letters (L*), combining marks (M*) and
//      digits (N*). "." and "," stay inside a token between two digits (2.5,
//      1,000), an apostrophe (U+0027 or U+2019, kept as U+0027) between two
//      letters (don't). Everything else separates; so do invalid UTF-8 bytes.
//      Default-ignorable code points (soft hyphen, joiners, variation
//      selectors) are dropped without separating; U+200B separates.
//   2. Folding: NFKC, full Unicode case folding and, with fold_accents, removal
//      of diacritics (the combining diacritical mark blocks, Hebrew points,
//      Arabic harakat) after canonical decomposition. Marks that carry the
//      spelling of a script (Indic vowel signs, the kana voicing marks) stay,
//      and Hangul syllables are never decomposed. A compatibility mapping that
//      would bring in a separator (U+FDFA, ½) is not applied.
//   3. Hangul, Han and kana form CJK runs, split from neighbouring non-CJK
//      letters and digits. A run becomes overlapping character bigrams (or
//      bigrams and unigrams, or the whole run: AnalyzerSettings::cjk).
//   4. Terms longer than kMaxTermCodePoints code points (base64, hashes) are
//      dropped, then stop words, then letter-bearing words are stemmed.
//
// Index terms depend on every setting, so an index must be queried with the
// settings it was built with: they are stored as analyzer_to_json().
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "simile/status.h"

namespace simile::text {

// Longest term kept, in code points after folding.
inline constexpr size_t kMaxTermCodePoints = 64;

struct AnalyzerSettings {
  // A Snowball algorithm name from sb_stemmer_list(), or "none".
  std::string stemmer = "english";
  // Compared with terms after folding, before stemming. Each entry must
  // analyze to a single term; empty means no stop words.
  std::vector<std::string> stop_words;
  // é -> e, ǖ -> u; ß -> ss is case folding and happens either way.
  bool fold_accents = true;
  enum class Cjk { kBigrams, kBigramsAndUnigrams, kRuns } cjk = Cjk::kBigrams;
};

// The built-in English stop words (the "english" preset, stopwords=english).
const std::vector<std::string>& english_stop_words();

// Parses a user spec: a preset optionally followed by comma-separated
// overrides, or the JSON that analyzer_to_json() writes.
//   presets:   default  english stemmer, no stop words, accents folded, CJK bigrams
//              english  default + the built-in English stop words
//              simple   no stemmer, no stop words
//              NAME     any Snowball algorithm (german, french, ...): that stemmer
//   overrides: stemmer=NAME|none  stopwords=none|english|@FILE
//              accents=fold|keep  cjk=bigram|bigram+unigram|run
// A spec that starts with an override starts from "default". @FILE is read
// now (one word per line, '#' starts a comment), so the settings are
// self-contained. Every mistake is an invalid-argument error naming it; a
// file that cannot be opened is not-found, JSON of a newer analyzer version
// is unsupported.
Result<AnalyzerSettings> parse_analyzer_spec(std::string_view spec);

// Canonical JSON with a fixed key order and the stop words inline (sorted,
// without duplicates), so equal settings give equal strings:
// {"accents":"fold","cjk":"bigram","stemmer":"english","stop_words":[],"version":1}
// "version" is the analyzer's behaviour version; parse_analyzer_spec rejects a
// newer one.
std::string analyzer_to_json(const AnalyzerSettings& settings);

// One short line for logs and `--explain`:
// "stemmer=english stopwords=36 accents=fold cjk=bigram".
std::string describe_analyzer(const AnalyzerSettings& settings);

// A non-owning reference to a callable void(std::string_view term, size_t
// byte_begin, size_t byte_end), valid while the callable lives.
class TermSink {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, TermSink>>>
  TermSink(F& f)  // NOLINT: implicit by design, like std::function_ref
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* obj, std::string_view term, size_t begin, size_t end) {
          (*static_cast<F*>(obj))(term, begin, end);
        }) {}
  void operator()(std::string_view term, size_t begin, size_t end) const { call_(obj_, term, begin, end); }

 private:
  void* obj_;
  void (*call_)(void*, std::string_view, size_t, size_t);
};

// Not thread-safe (the stemmer and the caches keep state): use one Analyzer
// per thread. Instances with equal settings give equal terms.
class Analyzer {
 public:
  // Errors: an unknown stemmer (the message lists the known ones), a stop word
  // that does not analyze to exactly one term.
  static Result<std::unique_ptr<Analyzer>> create(const AnalyzerSettings& settings);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  const AnalyzerSettings& settings() const;

  // Calls emit(term, byte_begin, byte_end) for every index term of `text`, in
  // text order; [byte_begin, byte_end) is the span of `text` the term came
  // from (a CJK bigram spans both characters). `term` is valid only during
  // the call, and emit must not analyze with this same Analyzer (that
  // aborts). Any byte sequence is accepted: invalid UTF-8 separates.
  template <class F>
  void analyze(std::string_view text, F&& emit) {
    analyze_to(text, TermSink(emit));
  }
  void analyze_to(std::string_view text, TermSink emit);

  // The terms of `text`, in order (for queries and tests).
  std::vector<std::string> terms(std::string_view text);

 private:
  struct Impl;
  explicit Analyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace simile::text
