// train_word2vec on a synthetic corpus whose structure is known: three
// topics of ten words, each line drawn from one topic (plus filler words and
// a few rare ones). Skip-gram and CBOW must put each word near its own
// topic; one-thread runs are reproducible; the report counts what the corpus
// holds; bad corpora and options are rejected with usable messages.
#include "words/word2vec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "words/word_search.h"
#include "words_test_util.h"

namespace simile::words {
namespace {

using testing::mentions;
using testing::numbered;
using testing::TempDir;

constexpr size_t kTopics = 3, kTopicWords = 10, kLines = 3000, kLineWords = 8, kRareWords = 10;
const char* const kFillers[] = {"the", "of", "and"};

std::string topic_word(size_t topic, size_t i) { return numbered(std::string(1, char('a' + topic)), i); }

// The corpus text, and each word's count and first appearance.
struct Corpus {
  std::string text;
  std::map<std::string, size_t> counts;
  std::vector<std::string> first_seen;
  size_t words = 0;
  void add(const std::string& w) {
    if (counts[w]++ == 0) first_seen.push_back(w);
    ++words;
  }
};

Corpus synthetic_corpus(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> topic(0, kTopics - 1), word(0, kTopicWords - 1), filler(0, 2);
  std::bernoulli_distribution is_filler(0.1);
  Corpus c;
  for (size_t line = 0; line < kLines; ++line) {
    const size_t t = topic(rng);
    for (size_t i = 0; i < kLineWords; ++i) {
      const std::string w = is_filler(rng) ? kFillers[filler(rng)] : topic_word(t, word(rng));
      c.text += (i == 0 ? "" : " ") + w;
      c.add(w);
    }
    // Rare words, twice each, under min_count 5.
    if (line % 100 == 7 && line / 100 < 2 * kRareWords) {
      const std::string w = numbered("rare", line / 100 % kRareWords);
      c.text += "\t" + w;
      c.add(w);
    }
    c.text += '\n';
  }
  return c;
}

Word2VecOptions small_options(Word2VecModel model) {
  Word2VecOptions o;
  o.model = model;
  o.dims = 16;
  o.window = 3;
  o.epochs = 5;
  o.min_count = 5;
  o.threads = 1;
  return o;
}

// The topic of a word, or -1 for the others.
int topic_of(const std::string& w) {
  if (w.size() < 2 || w[0] < 'a' || w[0] >= char('a' + kTopics) || !std::isdigit(static_cast<unsigned char>(w[1])))
    return -1;
  return w[0] - 'a';
}

// The fraction of topic words whose 5 nearest words are all of their topic.
double topic_purity(const WordVectors& v) {
  const WordSearch search(v);
  size_t pure = 0, words = 0;
  for (uint32_t w = 0; w < v.size(); ++w) {
    const int topic = topic_of(v.word(w));
    if (topic < 0) continue;
    ++words;
    size_t same = 0;
    for (const WordHit& h : search.nearest(v.vector(w), 5, {w})) same += topic_of(v.word(h.word)) == topic;
    pure += same == 5;
  }
  EXPECT_EQ(words, kTopics * kTopicWords);
  return double(pure) / double(words);
}

class Word2VecTraining : public ::testing::Test {
 protected:
  Word2VecTraining() : corpus_(synthetic_corpus(11)), path_(dir_.write("corpus.txt", corpus_.text)) {}
  TempDir dir_;
  Corpus corpus_;
  std::string path_;
};

TEST_F(Word2VecTraining, SkipGramGroupsTopics) {
  Word2VecReport report;
  auto v = train_word2vec(path_, small_options(Word2VecModel::kSkipGram), {}, &report);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  ASSERT_EQ(v->dims(), 16u);
  const double purity = topic_purity(*v);
  EXPECT_GE(purity, 0.9) << "skip-gram";
}

TEST_F(Word2VecTraining, CbowGroupsTopics) {
  auto v = train_word2vec(path_, small_options(Word2VecModel::kCbow));
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  const double purity = topic_purity(*v);
  EXPECT_GE(purity, 0.9) << "CBOW";
}

TEST_F(Word2VecTraining, ReportCountsTheCorpus) {
  Word2VecReport report;
  std::vector<Word2VecProgress> progress;
  auto options = small_options(Word2VecModel::kSkipGram);
  auto v = train_word2vec(
      path_, options, [&](const Word2VecProgress& p) { progress.push_back(p); }, &report);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  size_t kept_tokens = 0, kept_words = 0;
  for (const auto& [w, n] : corpus_.counts)
    if (n >= options.min_count) {
      kept_tokens += n;
      ++kept_words;
    }
  EXPECT_EQ(report.lines, kLines);
  EXPECT_EQ(report.corpus_words, corpus_.words);
  EXPECT_EQ(report.corpus_words, kLines * kLineWords + 2 * kRareWords);
  EXPECT_EQ(report.distinct_words, corpus_.counts.size());
  EXPECT_EQ(report.distinct_words, kTopics * kTopicWords + 3 + kRareWords);
  EXPECT_EQ(report.vocabulary, kept_words);
  EXPECT_EQ(report.vocabulary, kTopics * kTopicWords + 3);
  EXPECT_EQ(report.trained_words, kept_tokens * options.epochs);
  // Subsampling (1e-3 of 24000 words: every word here is frequent) drops many.
  EXPECT_GT(report.effective_words, 0u);
  EXPECT_LT(report.effective_words, report.trained_words);
  EXPECT_EQ(report.threads, 1u);
  EXPECT_GT(report.words_per_second(), 0);
  for (const Word2VecProgress& p : progress) {
    EXPECT_GE(p.epoch, 1u);
    EXPECT_LE(p.epoch, options.epochs);
    EXPECT_GE(p.fraction, 0.0);
    EXPECT_LE(p.fraction, 1.0);
    EXPECT_EQ(p.words_total, report.trained_words);
    EXPECT_LE(p.words_done, p.words_total);
    EXPECT_LE(p.alpha, options.alpha);
    EXPECT_GE(p.alpha, options.min_alpha);
  }
}

TEST_F(Word2VecTraining, VocabularyIsMostFrequentFirstWithoutRareWords) {
  auto v = train_word2vec(path_, small_options(Word2VecModel::kSkipGram));
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  // Descending count, ties in order of first appearance.
  std::vector<std::string> want;
  for (const std::string& w : corpus_.first_seen)
    if (corpus_.counts[w] >= 5) want.push_back(w);
  std::stable_sort(want.begin(), want.end(),
                   [&](const std::string& a, const std::string& b) { return corpus_.counts[a] > corpus_.counts[b]; });
  EXPECT_EQ(v->words(), want);
  for (size_t i = 0; i < kRareWords; ++i) EXPECT_FALSE(v->find(numbered("rare", i)).has_value());
  for (float x : v->vectors()) ASSERT_TRUE(std::isfinite(x));

  // The rare words occur exactly twice: min_count 2 keeps them, at the end.
  auto options = small_options(Word2VecModel::kSkipGram);
  options.min_count = 2;
  options.epochs = 1;
  auto all = train_word2vec(path_, options);
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  EXPECT_EQ(all->size(), want.size() + kRareWords);
  ASSERT_TRUE(all->find("rare3").has_value());
  EXPECT_GE(*all->find("rare3"), want.size());
}

TEST_F(Word2VecTraining, OneThreadIsReproducible) {
  for (Word2VecModel model : {Word2VecModel::kSkipGram, Word2VecModel::kCbow}) {
    auto options = small_options(model);
    options.epochs = 2;
    auto a = train_word2vec(path_, options);
    auto b = train_word2vec(path_, options);
    options.seed = 2;
    auto c = train_word2vec(path_, options);
    ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
    ASSERT_EQ(a->words(), b->words());
    ASSERT_EQ(a->vectors().size(), b->vectors().size());
    EXPECT_EQ(std::memcmp(a->vectors().data(), b->vectors().data(), a->vectors().size() * sizeof(float)), 0)
        << "same seed, different vectors";
    ASSERT_EQ(a->words(), c->words());
    EXPECT_NE(a->vectors(), c->vectors()) << "another seed, the same vectors";
  }
}

TEST_F(Word2VecTraining, SeveralThreadsTrainToo) {
  auto options = small_options(Word2VecModel::kSkipGram);
  options.threads = 2;
  Word2VecReport report;
  auto v = train_word2vec(path_, options, {}, &report);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(report.threads, 2u);
  EXPECT_EQ(v->size(), kTopics * kTopicWords + 3);
  for (float x : v->vectors()) ASSERT_TRUE(std::isfinite(x));
}

// Lines of one word give no (centre, context) pair: training changes no
// vector, whatever the order of the lines. Were windows to cross lines, the
// order would matter.
TEST(Word2VecCorpus, WindowsDoNotCrossLines) {
  TempDir dir;
  // w0 most frequent, then w1, ...: the vocabulary order does not depend on the shuffle.
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i)
    for (int n = 0; n < 40 - i; ++n) tokens.push_back(numbered("w", i));
  auto corpus = [&](uint32_t seed, size_t per_line) {
    std::mt19937 rng(seed);
    std::vector<std::string> t = tokens;
    std::shuffle(t.begin(), t.end(), rng);
    std::string text;
    for (size_t i = 0; i < t.size(); ++i) text += t[i] + ((i + 1) % per_line == 0 ? "\n" : " ");
    return dir.write(numbered(numbered("c", seed) + "-", per_line) + ".txt", text);
  };
  for (Word2VecModel model : {Word2VecModel::kSkipGram, Word2VecModel::kCbow}) {
    auto options = small_options(model);
    options.sample = 0;
    auto a = train_word2vec(corpus(1, 1), options);
    auto b = train_word2vec(corpus(2, 1), options);
    auto joined = train_word2vec(corpus(1, 5), options);
    ASSERT_TRUE(a.is_ok() && b.is_ok() && joined.is_ok());
    ASSERT_EQ(a->words(), b->words());
    ASSERT_EQ(a->words(), joined->words());
    EXPECT_EQ(a->vectors(), b->vectors()) << "single-word lines trained something";
    // The same words five to a line do train.
    EXPECT_NE(a->vectors(), joined->vectors());
  }
}

TEST(Word2VecCorpus, RejectsAnEmptyCorpus) {
  TempDir dir;
  for (const char* text : {"", "\n\n \t\n"}) {
    auto v = train_word2vec(dir.write("empty.txt", text), small_options(Word2VecModel::kSkipGram));
    ASSERT_FALSE(v.is_ok()) << "'" << text << "'";
    EXPECT_TRUE(mentions(v.status().message(), "holds no words"));
  }
}

TEST(Word2VecCorpus, RejectsMinCountAboveEveryCount) {
  TempDir dir;
  auto options = small_options(Word2VecModel::kSkipGram);
  options.min_count = 100;
  auto v = train_word2vec(dir.write("c.txt", "a b c\na b\na\n"), options);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "--min-count"));
  EXPECT_TRUE(mentions(v.status().message(), "100 times"));
  EXPECT_TRUE(mentions(v.status().message(), "6 words"));
}

TEST(Word2VecCorpus, RejectsInvalidUtf8NamingTheLine) {
  TempDir dir;
  auto options = small_options(Word2VecModel::kSkipGram);
  options.min_count = 1;
  const std::string path = dir.write("c.txt", "a b c\nd e\nf \xFF g\nh\n");
  auto v = train_word2vec(path, options);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "line 3"));
  EXPECT_TRUE(mentions(v.status().message(), "UTF-8"));
  EXPECT_TRUE(mentions(v.status().message(), path));
}

TEST(Word2VecCorpus, RejectsAMissingCorpus) {
  TempDir dir;
  auto v = train_word2vec(dir.file("none.txt"), small_options(Word2VecModel::kSkipGram));
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), Status::Code::kNotFound);
}

TEST(Word2VecOptionsCheck, ValidateRejectsOutOfRangeOptions) {
  EXPECT_TRUE(validate(Word2VecOptions{}).is_ok());
  EXPECT_TRUE(validate(small_options(Word2VecModel::kCbow)).is_ok());
  struct Case {
    const char* what;
    void (*change)(Word2VecOptions&);
  };
  const Case cases[] = {
      {"--dim", [](Word2VecOptions& o) { o.dims = 0; }},
      {"--dim", [](Word2VecOptions& o) { o.dims = 4097; }},
      {"--window", [](Word2VecOptions& o) { o.window = 0; }},
      {"--window", [](Word2VecOptions& o) { o.window = 101; }},
      {"--negative", [](Word2VecOptions& o) { o.negative = 0; }},
      {"--epochs", [](Word2VecOptions& o) { o.epochs = 0; }},
      {"--epochs", [](Word2VecOptions& o) { o.epochs = 1001; }},
      {"--min-count", [](Word2VecOptions& o) { o.min_count = 0; }},
      {"--sample", [](Word2VecOptions& o) { o.sample = 1; }},
      {"--sample", [](Word2VecOptions& o) { o.sample = -0.1; }},
      {"--sample", [](Word2VecOptions& o) { o.sample = std::nan(""); }},
      {"--min-alpha", [](Word2VecOptions& o) { o.min_alpha = 0; }},
      {"--min-alpha", [](Word2VecOptions& o) { o.min_alpha = 0.1f; }},
      {"--alpha", [](Word2VecOptions& o) { o.alpha = 1; }},
      {"--threads", [](Word2VecOptions& o) { o.threads = 5000; }},
  };
  for (const Case& c : cases) {
    Word2VecOptions o;
    c.change(o);
    const Status s = validate(o);
    ASSERT_FALSE(s.is_ok()) << c.what;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_TRUE(mentions(s.message(), c.what));
  }
  // Edges that are allowed.
  Word2VecOptions edge;
  edge.dims = 4096;
  edge.window = 100;
  edge.negative = 100;
  edge.sample = 0;
  edge.min_alpha = edge.alpha;
  EXPECT_TRUE(validate(edge).is_ok());
}

TEST(Word2VecOptionsCheck, TrainingChecksOptionsFirst) {
  Word2VecOptions o;
  o.dims = 0;
  // The file does not exist: the options are what is reported.
  auto v = train_word2vec("/nonexistent/corpus.txt", o);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "--dim"));
}

}  // namespace
}  // namespace simile::words
