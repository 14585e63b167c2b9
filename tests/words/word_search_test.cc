// WordSearch against a brute-force double-precision reference on random
// vectors: nearest, farthest, similarity, analogies by 3CosAdd and 3CosMul
// (one at a time, and in batches small and large enough for the
// matrix-product path), restrict_to; then close_spellings on a small
// vocabulary.
#include "words/word_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "words_test_util.h"

namespace simile::words {
namespace {

using testing::mentions;

constexpr size_t kWords = 2000, kDims = 24;
// Reference and search agree on scores within this.
constexpr double kScoreTol = 1e-4;

WordVectors random_vectors(size_t n, size_t dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<std::string> words;
  std::vector<float> values(n * dims);
  for (size_t i = 0; i < n; ++i) words.push_back(testing::numbered("w", i));
  for (float& x : values) x = dist(rng);
  auto v = WordVectors::from(std::move(words), std::move(values), dims);
  EXPECT_TRUE(v.is_ok()) << v.status().message();
  return std::move(v).value();
}

struct Scored {
  uint32_t word;
  double score;
};

// The reference in double: unit vectors, scores, rankings.
class Reference {
 public:
  explicit Reference(const WordVectors& v) : dims_(v.dims()), unit_(v.size() * v.dims()) {
    for (size_t i = 0; i < v.size(); ++i) unit_row(v.vector(i), &unit_[i * dims_]);
  }
  void unit_row(const float* x, double* out) const {
    double sq = 0;
    for (size_t d = 0; d < dims_; ++d) sq += double(x[d]) * x[d];
    const double inv = sq > 0 ? 1 / std::sqrt(sq) : 0;
    for (size_t d = 0; d < dims_; ++d) out[d] = x[d] * inv;
  }
  const double* unit(uint32_t w) const { return &unit_[w * dims_]; }
  double cos(const double* a, const double* b) const {
    double ab = 0, aa = 0, bb = 0;
    for (size_t d = 0; d < dims_; ++d) {
      ab += a[d] * b[d];
      aa += a[d] * a[d];
      bb += b[d] * b[d];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
  }
  double cos(uint32_t a, uint32_t b) const { return cos(unit(a), unit(b)); }

  // The `k` best of the first `searched` words by score (higher first, ties
  // to the smaller position), leaving out `exclude`.
  template <typename Score>
  std::vector<Scored> best(size_t searched, size_t k, const std::vector<uint32_t>& exclude, Score score) const {
    std::vector<Scored> all;
    for (uint32_t w = 0; w < searched; ++w)
      if (std::find(exclude.begin(), exclude.end(), w) == exclude.end()) all.push_back({w, score(w)});
    std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) {
      return a.score != b.score ? a.score > b.score : a.word < b.word;
    });
    all.resize(std::min(k, all.size()));
    return all;
  }

  std::vector<Scored> nearest(const float* query, size_t searched, size_t k,
                              const std::vector<uint32_t>& exclude = {}) const {
    std::vector<double> q(dims_);
    unit_row(query, q.data());
    return best(searched, k, exclude, [&](uint32_t w) { return cos(q.data(), unit(w)); });
  }
  std::vector<Scored> farthest(const float* query, size_t searched, size_t k,
                               const std::vector<uint32_t>& exclude = {}) const {
    std::vector<double> q(dims_);
    unit_row(query, q.data());
    auto hits = best(searched, k, exclude, [&](uint32_t w) { return -cos(q.data(), unit(w)); });
    for (Scored& h : hits) h.score = -h.score;
    return hits;
  }
  // a is to b as c is to ?
  std::vector<Scored> analogy(const AnalogyQuestion& q, size_t searched, size_t k, AnalogyMethod method) const {
    const std::vector<uint32_t> exclude(q.begin(), q.end());
    if (method == AnalogyMethod::kAdd) {
      std::vector<double> target(dims_);
      for (size_t d = 0; d < dims_; ++d) target[d] = unit(q[1])[d] - unit(q[0])[d] + unit(q[2])[d];
      return best(searched, k, exclude, [&](uint32_t w) { return cos(target.data(), unit(w)); });
    }
    return best(searched, k, exclude, [&](uint32_t w) {
      const double ca = (1 + cos(w, q[0])) / 2, cb = (1 + cos(w, q[1])) / 2, cc = (1 + cos(w, q[2])) / 2;
      return cb * cc / (ca + 1e-6);
    });
  }

 private:
  size_t dims_;
  std::vector<double> unit_;
};

// The same words in the same order, scores within kScoreTol. Where the
// reference's scores at a rank are closer than float arithmetic can tell
// apart, either word may come first: then the returned word's reference
// score must be that close to the rank's.
template <typename ScoreOf>
::testing::AssertionResult same_ranking(const std::vector<WordHit>& got, const std::vector<Scored>& want,
                                        ScoreOf reference_score) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " hits, expected " << want.size();
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i].score - want[i].score) > kScoreTol * std::max(1.0, std::fabs(want[i].score)))
      return ::testing::AssertionFailure()
             << "rank " << i << ": score " << got[i].score << ", expected " << want[i].score;
    if (got[i].word != want[i].word && std::fabs(reference_score(got[i].word) - want[i].score) > 1e-6)
      return ::testing::AssertionFailure()
             << "rank " << i << ": word " << got[i].word << ", expected " << want[i].word << " (scores "
             << reference_score(got[i].word) << " vs " << want[i].score << ")";
  }
  return ::testing::AssertionSuccess();
}

class WordSearchRandom : public ::testing::Test {
 protected:
  WordSearchRandom() : vectors_(random_vectors(kWords, kDims, 2024)), reference_(vectors_) {}

  std::vector<AnalogyQuestion> random_questions(size_t n, uint32_t seed) const {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<uint32_t> word(0, kWords - 1);
    std::vector<AnalogyQuestion> out;
    while (out.size() < n) {
      AnalogyQuestion q = {word(rng), word(rng), word(rng)};
      if (q[0] != q[1] && q[1] != q[2] && q[0] != q[2]) out.push_back(q);
    }
    return out;
  }

  auto analogy_score(const AnalogyQuestion& q, AnalogyMethod method) const {
    return [this, q, method](uint32_t w) {
      const auto all = reference_.analogy(q, kWords, kWords, method);
      for (const Scored& s : all)
        if (s.word == w) return s.score;
      return -1e9;
    };
  }

  WordVectors vectors_;
  Reference reference_;
};

TEST_F(WordSearchRandom, NearestMatchesBruteForce) {
  const WordSearch search(vectors_);
  EXPECT_EQ(search.searched(), kWords);
  for (uint32_t w : {0u, 1u, 17u, 999u, 1999u}) {
    const float* q = vectors_.vector(w);
    std::vector<double> uq(kDims);
    reference_.unit_row(q, uq.data());
    auto score = [&](uint32_t x) { return reference_.cos(uq.data(), reference_.unit(x)); };
    // The word itself comes first (cosine 1).
    auto hits = search.nearest(q, 10);
    EXPECT_TRUE(same_ranking(hits, reference_.nearest(q, kWords, 10), score)) << w;
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].word, w);
    EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
    // Leaving it and two others out.
    const std::vector<uint32_t> exclude = {w, hits[1].word, 5};
    auto rest = search.nearest(q, 10, exclude);
    EXPECT_TRUE(same_ranking(rest, reference_.nearest(q, kWords, 10, exclude), score)) << w;
    for (const WordHit& h : rest) EXPECT_EQ(std::find(exclude.begin(), exclude.end(), h.word), exclude.end());
  }
  // A query that is not a word: the mean of three.
  std::vector<float> mean(kDims);
  for (size_t d = 0; d < kDims; ++d) mean[d] = vectors_.vector(3)[d] + vectors_.vector(30)[d] + vectors_.vector(300)[d];
  std::vector<double> um(kDims);
  reference_.unit_row(mean.data(), um.data());
  EXPECT_TRUE(same_ranking(search.nearest(mean.data(), 25), reference_.nearest(mean.data(), kWords, 25),
                           [&](uint32_t x) { return reference_.cos(um.data(), reference_.unit(x)); }));
}

TEST_F(WordSearchRandom, FarthestMatchesBruteForce) {
  const WordSearch search(vectors_);
  for (uint32_t w : {0u, 42u, 1500u}) {
    const float* q = vectors_.vector(w);
    std::vector<double> uq(kDims);
    reference_.unit_row(q, uq.data());
    auto score = [&](uint32_t x) { return reference_.cos(uq.data(), reference_.unit(x)); };
    auto hits = search.farthest(q, 10);
    const auto want = reference_.farthest(q, kWords, 10);
    EXPECT_TRUE(same_ranking(hits, want, score)) << w;
    // The least similar first: scores ascend from about -1.
    ASSERT_EQ(hits.size(), 10u);
    for (size_t i = 1; i < hits.size(); ++i) EXPECT_LE(hits[i - 1].score, hits[i].score);
    EXPECT_LT(hits[0].score, -0.5);
    const std::vector<uint32_t> exclude = {hits[0].word, hits[2].word};
    EXPECT_TRUE(same_ranking(search.farthest(q, 10, exclude), reference_.farthest(q, kWords, 10, exclude), score));
  }
}

TEST_F(WordSearchRandom, SimilarityIsCosine) {
  const WordSearch search(vectors_);
  for (auto [a, b] : {std::pair<uint32_t, uint32_t>{0, 1}, {5, 1999}, {77, 77}, {123, 456}}) {
    EXPECT_NEAR(search.similarity(a, b), reference_.cos(a, b), 1e-6) << a << " " << b;
    EXPECT_EQ(search.similarity(a, b), search.similarity(b, a));
  }
  EXPECT_NEAR(search.similarity(77, 77), 1.0, 1e-6);
}

TEST(WordSearch, SimilarityWithAZeroVectorIsZero) {
  auto v = WordVectors::from({"a", "zero", "b"}, {1, 2, 0, 0, -2, 1}, 2);
  ASSERT_TRUE(v.is_ok());
  const WordSearch search(*v);
  EXPECT_EQ(search.similarity(0, 1), 0.0f);
  EXPECT_EQ(search.similarity(1, 1), 0.0f);
  EXPECT_NEAR(search.similarity(0, 2), 0.0, 1e-7);  // orthogonal
  EXPECT_NEAR(search.similarity(0, 0), 1.0, 1e-6);
}

TEST_F(WordSearchRandom, AnalogyMatchesBruteForceForBothMethods) {
  const WordSearch search(vectors_);
  for (AnalogyMethod method : {AnalogyMethod::kAdd, AnalogyMethod::kMul})
    for (const AnalogyQuestion& q : random_questions(12, 3)) {
      const auto hits = search.analogy(q, 10, method);
      EXPECT_TRUE(same_ranking(hits, reference_.analogy(q, kWords, 10, method), analogy_score(q, method)))
          << (method == AnalogyMethod::kAdd ? "add" : "mul") << " " << q[0] << " " << q[1] << " " << q[2];
      for (const WordHit& h : hits) EXPECT_TRUE(h.word != q[0] && h.word != q[1] && h.word != q[2]);
    }
}

// 3CosAdd is b - a + c: a question made so that the answer is exact.
TEST(WordSearch, AnalogyAnswersBMinusAPlusC) {
  // a = (1,0,0), b = (0,1,0), c = (0,0,1): b - a + c = (-1,1,1); d lies on it.
  auto v =
      WordVectors::from({"a", "b", "c", "d", "e", "f"}, {1, 0, 0, 0, 1, 0, 0, 0, 1, -2, 2, 2, 1, 1, 1, 1, -1, -1}, 3);
  ASSERT_TRUE(v.is_ok());
  const WordSearch search(*v);
  for (AnalogyMethod method : {AnalogyMethod::kAdd, AnalogyMethod::kMul}) {
    const auto hits = search.analogy({0, 1, 2}, 3, method);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(hits[0].word, 3u);
    if (method == AnalogyMethod::kAdd) {
      EXPECT_NEAR(hits[0].score, 1.0, 1e-6);
    }
    // The reverse question (b is to a as c is to ?) does not give d.
    EXPECT_NE(search.analogy({1, 0, 2}, 1, method)[0].word, 3u);
  }
}

TEST_F(WordSearchRandom, BatchMatchesOneAtATimeAndBruteForce) {
  const WordSearch search(vectors_);
  // 3 questions: one scan each; 200: the matrix-product path.
  for (size_t n : {3, 200}) {
    const auto questions = random_questions(n, static_cast<uint32_t>(n));
    for (AnalogyMethod method : {AnalogyMethod::kAdd, AnalogyMethod::kMul}) {
      const auto batch = search.analogies(questions, 5, method);
      ASSERT_EQ(batch.size(), n);
      for (size_t i = 0; i < n; ++i) {
        const AnalogyQuestion& q = questions[i];
        const auto one = search.analogy(q, 5, method);
        ASSERT_EQ(batch[i].size(), one.size());
        for (size_t r = 0; r < one.size(); ++r) EXPECT_NEAR(batch[i][r].score, one[r].score, kScoreTol);
        EXPECT_TRUE(same_ranking(batch[i], reference_.analogy(q, kWords, 5, method), analogy_score(q, method)))
            << "batch of " << n << ", question " << i << (method == AnalogyMethod::kAdd ? " add" : " mul");
      }
    }
  }
}

TEST_F(WordSearchRandom, RestrictToSearchesTheFirstWordsOnly) {
  const size_t first = 300;
  const WordSearch search(vectors_, first);
  EXPECT_EQ(search.searched(), first);
  // Queries and question words may come from beyond the restriction.
  for (uint32_t w : {10u, 1000u}) {
    const float* q = vectors_.vector(w);
    std::vector<double> uq(kDims);
    reference_.unit_row(q, uq.data());
    auto score = [&](uint32_t x) { return reference_.cos(uq.data(), reference_.unit(x)); };
    const auto hits = search.nearest(q, 10);
    EXPECT_TRUE(same_ranking(hits, reference_.nearest(q, first, 10), score)) << w;
    for (const WordHit& h : hits) EXPECT_LT(h.word, first);
    EXPECT_TRUE(same_ranking(search.farthest(q, 10), reference_.farthest(q, first, 10), score)) << w;
  }
  const AnalogyQuestion q = {1500, 20, 1900};
  for (AnalogyMethod method : {AnalogyMethod::kAdd, AnalogyMethod::kMul}) {
    auto restricted_score = [&](uint32_t w) {
      for (const Scored& s : reference_.analogy(q, first, first, method))
        if (s.word == w) return s.score;
      return -1e9;
    };
    const auto hits = search.analogy(q, 8, method);
    EXPECT_TRUE(same_ranking(hits, reference_.analogy(q, first, 8, method), restricted_score));
    const auto batch = search.analogies(std::vector<AnalogyQuestion>(20, q), 8, method);
    for (const auto& b : batch) EXPECT_TRUE(same_ranking(b, reference_.analogy(q, first, 8, method), restricted_score));
  }
  // k larger than the searched words returns them all.
  const WordSearch tiny(vectors_, 4);
  EXPECT_EQ(tiny.nearest(vectors_.vector(0), 10).size(), 4u);
  EXPECT_EQ(tiny.analogy({0, 1, 2}, 10, AnalogyMethod::kAdd).size(), 1u);
  EXPECT_EQ(tiny.analogy({0, 1, 2}, 10, AnalogyMethod::kMul).size(), 1u);
}

TEST(WordSearch, TiesGoToTheMoreFrequentWord) {
  // Words 1, 2 and 3 have the same direction.
  auto v = WordVectors::from({"q", "x", "y", "z", "other"}, {1, 0, 2, 1, 4, 2, 1, 0.5f, -1, 3}, 2);
  ASSERT_TRUE(v.is_ok());
  const WordSearch search(*v);
  const float query[] = {2, 1};
  const auto hits = search.nearest(query, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].word, 1u);
  EXPECT_EQ(hits[1].word, 2u);
  EXPECT_EQ(hits[2].word, 3u);
}

TEST(WordSearch, ParsesAnalogyMethods) {
  EXPECT_EQ(*parse_analogy_method("add"), AnalogyMethod::kAdd);
  EXPECT_EQ(*parse_analogy_method("3cosadd"), AnalogyMethod::kAdd);
  EXPECT_EQ(*parse_analogy_method("mul"), AnalogyMethod::kMul);
  EXPECT_EQ(*parse_analogy_method("3cosmul"), AnalogyMethod::kMul);
  auto bad = parse_analogy_method("pairdir");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_TRUE(mentions(bad.status().message(), "pairdir"));
}

// close_spellings on a small vocabulary, most frequent first.
class WordSearchSpelling : public ::testing::Test {
 protected:
  WordSearchSpelling() {
    const std::vector<std::string> words = {"the",         "farce",       "trance",  "France", "franc", "prancer",
                                            "fracne",      "france",      "frances", "rfance", "xyz",   "FRANCE",
                                            "frankfurter", "cart",        "act",     "cast",   "chart", "at",
                                            "dog",         "caf\xC3\xA9", "cafes",   "cat"};
    std::vector<float> values(words.size(), 1.0f);
    vectors_ = std::move(WordVectors::from(words, values, 1)).value();
  }
  WordVectors vectors_;
};

TEST_F(WordSearchSpelling, CaseVariantsThenOneEditThenTwoMostFrequentFirst) {
  const WordSearch search(vectors_);
  // 0 edits (another case), then 1 (trance: substitution; franc: deletion;
  // fracne: adjacent swap; frances: insertion; rfance: swap), then 2 (farce,
  // prancer); never "france" itself.
  const std::vector<std::string> want = {"France",  "FRANCE", "trance", "franc",  "fracne",
                                         "frances", "rfance", "farce",  "prancer"};
  EXPECT_EQ(search.close_spellings("france", 100), want);
  // The default and a small max keep the closest.
  EXPECT_EQ(search.close_spellings("france"), std::vector<std::string>(want.begin(), want.begin() + 5));
  EXPECT_EQ(search.close_spellings("france", 3), std::vector<std::string>(want.begin(), want.begin() + 3));
  EXPECT_TRUE(search.close_spellings("france", 0).empty());
  // From another case of a known word: the known one is a case variant.
  const auto from_upper = search.close_spellings("France", 2);
  EXPECT_EQ(from_upper, (std::vector<std::string>{"france", "FRANCE"}));
}

TEST_F(WordSearchSpelling, ShortWordsAllowOneEdit) {
  const WordSearch search(vectors_);
  // "cat" (3 letters): one edit; "chart" is two away. "act" is a swap.
  EXPECT_EQ(search.close_spellings("cat", 100), (std::vector<std::string>{"cart", "act", "cast", "at"}));
  // An unknown word: the words one edit away.
  EXPECT_EQ(search.close_spellings("cst", 100), (std::vector<std::string>{"cast", "cat"}));
}

TEST_F(WordSearchSpelling, EditsCountCodePointsNotBytes) {
  const WordSearch search(vectors_);
  // "cafe" -> "café" replaces one code point (two bytes): one edit.
  const auto hits = search.close_spellings("cafe", 100);
  EXPECT_NE(std::find(hits.begin(), hits.end(), "caf\xC3\xA9"), hits.end());
  EXPECT_NE(std::find(hits.begin(), hits.end(), "cafes"), hits.end());
  EXPECT_TRUE(search.close_spellings("qqqqqqqq", 100).empty());
}

}  // namespace
}  // namespace simile::words
