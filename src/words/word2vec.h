// Training word vectors with word2vec (Mikolov et al. 2013): skip-gram or
// CBOW, with negative sampling and frequent-word subsampling, on many threads
// (lock-free "Hogwild" updates, as word2vec.c and gensim do).
//
// The corpus is a text file with one sentence per line, words separated by
// whitespace (gensim's LineSentence; lines longer than 10000 words are cut
// into sentences of 10000). Windows never cross a line. The conventions
// follow gensim 4 so its results can be compared: vocabulary of words seen
// at least min_count times, most frequent first; subsampling keeps a word of
// count c with probability (sqrt(c / t) + 1) t / c, t = sample x (words
// kept); out-of-vocabulary and subsampled words are removed before windows
// are drawn; the window is shrunk at random per word; negative samples are
// drawn from counts^0.75; the learning rate falls linearly from alpha to
// min_alpha over all epochs. CBOW averages the context vectors.
//
// Randomness comes from `seed` alone, so a run with one thread is
// reproducible; with more, updates interleave as the threads run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "simile/status.h"
#include "words/word_vectors.h"

namespace simile::words {

enum class Word2VecModel { kSkipGram, kCbow };

struct Word2VecOptions {
  Word2VecModel model = Word2VecModel::kSkipGram;
  size_t dims = 100;
  size_t window = 5;
  size_t negative = 5;
  size_t min_count = 5;
  double sample = 1e-3;  // 0 = no subsampling
  size_t epochs = 5;
  float alpha = 0.025f, min_alpha = 0.0001f;
  size_t threads = 0;  // 0 = one per core
  uint64_t seed = 1;
};

// Checks ranges: dims 1..4096, window 1..100, negative 1..100, epochs
// 1..1000, min_count >= 1, sample in [0, 1), 0 < min_alpha <= alpha < 1.
Status validate(const Word2VecOptions& options);

struct Word2VecProgress {
  size_t epoch = 0;        // 1-based, of options.epochs
  double fraction = 0;     // of the whole training, 0..1
  size_t words_done = 0;   // corpus words (in the vocabulary) gone through, all epochs so far
  size_t words_total = 0;  // ... and in the whole training
  float alpha = 0;         // the current learning rate
  double seconds = 0;      // since training (not the corpus scan) began
};

struct Word2VecReport {
  size_t lines = 0;             // lines read
  size_t corpus_words = 0;      // words in the corpus
  size_t distinct_words = 0;    // before min_count
  size_t vocabulary = 0;        // kept
  size_t trained_words = 0;     // vocabulary words x epochs
  size_t effective_words = 0;   // of those, the ones left after subsampling
  double scan_seconds = 0;      // reading the corpus, building the vocabulary
  double train_seconds = 0;
  size_t threads = 0;
  // trained_words / train_seconds: corpus words per second, as the
  // benchmark compares with gensim.
  double words_per_second() const { return train_seconds > 0 ? double(trained_words) / train_seconds : 0; }
};

// Trains on the corpus at `path` and returns the input vectors (the ones
// word2vec.c and gensim save), most frequent word first. `progress` (may be
// empty) is called from the calling thread about five times a second.
Result<WordVectors> train_word2vec(const std::string& path, const Word2VecOptions& options,
                                   const std::function<void(const Word2VecProgress&)>& progress = {},
                                   Word2VecReport* report = nullptr);

}  // namespace simile::words
