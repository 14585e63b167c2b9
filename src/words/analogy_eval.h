// Accuracy of word vectors on analogy questions in the format of the Google
// analogy set (questions-words.txt): ": section" lines, then "a b c d" lines
// meaning "a is to b as c is to d".
//
// The conventions are gensim's KeyedVectors.evaluate_word_analogies (4.2),
// so the figures can be compared with it:
//   - only the first `restrict_to` words (300000) count: a question with a
//     word outside them is skipped (counted in `skipped`), or counted wrong
//     with count_unknown (gensim's dummy4unknown);
//   - case_insensitive (the default) upper-cases questions and vocabulary; a
//     word with several case variants stands for its most frequent one;
//   - the answer is the best of the 5 nearest words to b - a + c (the three
//     question words left out by position) that is not a question word in
//     any case; lines that are not four words are skipped as invalid.
// Upper-casing maps each code point alone (utf8proc's simple mapping), where
// Python's str.upper() also expands a few (German sharp s to "SS"): only
// non-ASCII words can differ.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "simile/status.h"
#include "words/word_search.h"

namespace simile::words {

struct AnalogyEvalOptions {
  size_t restrict_to = 300000;
  bool case_insensitive = true;
  bool count_unknown = false;
  AnalogyMethod method = AnalogyMethod::kAdd;
};

struct AnalogySection {
  std::string name;
  size_t correct = 0, incorrect = 0;
  double accuracy() const { return correct + incorrect == 0 ? 0 : double(correct) / double(correct + incorrect); }
};

struct AnalogyReport {
  std::vector<AnalogySection> sections;  // in file order
  AnalogySection total;                  // "Total accuracy"
  // compute-accuracy's split: sections named gram* are syntactic.
  AnalogySection semantic, syntactic;
  size_t questions = 0;      // well-formed question lines
  size_t skipped = 0;        // with a word outside the restricted vocabulary
  size_t invalid_lines = 0;  // not four words
  size_t searched = 0;       // words the answers were chosen from
  double seconds = 0;
};

// Reads the questions file at `path`. Fails on a missing file or a question
// before any section header (gensim refuses those too), naming the line.
Result<AnalogyReport> evaluate_analogies(const WordVectors& vectors, const std::string& path,
                                         const AnalogyEvalOptions& options = {});

}  // namespace simile::words
