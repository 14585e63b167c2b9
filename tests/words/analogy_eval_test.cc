// evaluate_analogies on a hand-made vocabulary whose answers are known:
// countries e_i with capitals e_i + r, nouns e_j with plurals e_j + s, so
// that b - a + c points at the expected word. Sections, counts, unknown and
// invalid lines, case folding (the first variant wins; a variant of a
// question word is not an answer), restrict_to, the semantic / syntactic
// split, and a question before any section.
#include "words/analogy_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "words_test_util.h"

namespace simile::words {
namespace {

using testing::mentions;
using testing::TempDir;

constexpr size_t kDims = 12;
// Directions: countries 0-3, the capital offset 4, nouns 5-7, the plural offset 8.
constexpr size_t kCapital = 4, kPlural = 8;

std::vector<float> axis(std::initializer_list<size_t> dims, float scale = 1) {
  std::vector<float> v(kDims, 0.0f);
  for (size_t d : dims) v[d] += scale;
  return v;
}

struct Entry {
  std::string word;
  std::vector<float> vector;
};

// France..Spain, their capitals, three nouns and their plurals, then `extra`.
WordVectors vocabulary(const std::vector<Entry>& extra = {}) {
  std::vector<Entry> entries = {
      {"France", axis({0})},
      {"Germany", axis({1})},
      {"Italy", axis({2})},
      {"Spain", axis({3})},
      {"Paris", axis({0, kCapital})},
      {"Berlin", axis({1, kCapital})},
      {"Rome", axis({2, kCapital})},
      {"Madrid", axis({3, kCapital})},
      {"dog", axis({5})},
      {"dogs", axis({5, kPlural})},
      {"cat", axis({6})},
      {"cats", axis({6, kPlural})},
      {"car", axis({7})},
      {"cars", axis({7, kPlural})},
  };
  entries.insert(entries.end(), extra.begin(), extra.end());
  std::vector<std::string> words;
  std::vector<float> values;
  for (const Entry& e : entries) {
    words.push_back(e.word);
    values.insert(values.end(), e.vector.begin(), e.vector.end());
  }
  auto v = WordVectors::from(std::move(words), std::move(values), kDims);
  EXPECT_TRUE(v.is_ok()) << v.status().message();
  return std::move(v).value();
}
constexpr size_t kBaseWords = 14;

// unit(Paris) - France + Germany: the 3CosAdd target of "France Paris Germany ?".
std::vector<float> paris_france_germany() {
  std::vector<float> t = axis({0, kCapital}, 1 / std::sqrt(2.0f));
  t[0] -= 1;
  t[1] += 1;
  return t;
}

const char* const kQuestions =
    ": capital-common-countries\n"
    "France Paris Germany Berlin\n"
    "Germany Berlin Italy Rome\n"
    "Italy Rome Spain Madrid\n"
    "France Paris Spain Rome\n"      // wrong: Madrid
    "France Paris Atlantis Xcity\n"  // unknown words
    "France Paris Germany\n"         // not four words
    ":  gram8-plural \n"
    "dog dogs cat cats\n"
    "cat cats car cars\n"
    "dog dogs car cats\n"  // wrong: cars
    ": city-in-country\n"
    "Paris France Berlin Germany\n";

Result<AnalogyReport> evaluate(const WordVectors& v, const std::string& questions, AnalogyEvalOptions options = {}) {
  TempDir dir;
  return evaluate_analogies(v, dir.write("questions.txt", questions), options);
}

void expect_counts(const AnalogySection& s, size_t correct, size_t incorrect, const std::string& what) {
  EXPECT_EQ(s.correct, correct) << what;
  EXPECT_EQ(s.incorrect, incorrect) << what;
}

TEST(AnalogyEval, CountsEachSectionTotalAndSplit) {
  const WordVectors v = vocabulary();
  for (AnalogyMethod method : {AnalogyMethod::kAdd, AnalogyMethod::kMul}) {
    AnalogyEvalOptions options;
    options.method = method;
    auto r = evaluate(v, kQuestions, options);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    SCOPED_TRACE(method == AnalogyMethod::kAdd ? "add" : "mul");
    ASSERT_EQ(r->sections.size(), 3u);
    EXPECT_EQ(r->sections[0].name, "capital-common-countries");
    EXPECT_EQ(r->sections[1].name, "gram8-plural");
    EXPECT_EQ(r->sections[2].name, "city-in-country");
    expect_counts(r->sections[0], 3, 1, "capitals");
    expect_counts(r->sections[1], 2, 1, "plurals");
    expect_counts(r->sections[2], 1, 0, "cities");
    EXPECT_DOUBLE_EQ(r->sections[0].accuracy(), 0.75);
    expect_counts(r->total, 6, 2, "total");
    EXPECT_EQ(r->total.name, "Total accuracy");
    expect_counts(r->semantic, 4, 1, "semantic");
    expect_counts(r->syntactic, 2, 1, "syntactic");
    EXPECT_EQ(r->questions, 9u);
    EXPECT_EQ(r->skipped, 1u);
    EXPECT_EQ(r->invalid_lines, 1u);
    EXPECT_EQ(r->searched, kBaseWords);
  }
}

TEST(AnalogyEval, CountUnknownCountsSkippedQuestionsWrong) {
  const WordVectors v = vocabulary();
  AnalogyEvalOptions options;
  options.count_unknown = true;
  auto r = evaluate(v, kQuestions, options);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  expect_counts(r->sections[0], 3, 2, "capitals");
  expect_counts(r->total, 6, 3, "total");
  expect_counts(r->semantic, 4, 2, "semantic");
  EXPECT_EQ(r->skipped, 1u);
}

TEST(AnalogyEval, EmptyLinesAndShortLinesAreInvalid) {
  const WordVectors v = vocabulary();
  auto r = evaluate(v, ": s\nFrance Paris Germany Berlin\n\nFrance Paris\nFrance Paris Germany Berlin Rome\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->invalid_lines, 3u);
  EXPECT_EQ(r->questions, 1u);
  expect_counts(r->total, 1, 0, "total");
}

TEST(AnalogyEval, CaseInsensitiveUsesTheFirstVariant) {
  // A later "paris" points away from Berlin: if it stood for PARIS, the
  // answer would be Italy.
  std::vector<float> away(kDims, 0.0f);
  away[1] = -1;
  away[kCapital] = -1;
  const WordVectors v = vocabulary({{"paris", away}});
  const std::string questions =
      ": capitals\n"
      "france paris germany berlin\n"
      "FRANCE Paris gErmany BERLIN\n";
  auto r = evaluate(v, questions);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  expect_counts(r->total, 2, 0, "case-insensitive");
  EXPECT_EQ(r->skipped, 0u);

  // Case-sensitive: lower-case "france" is unknown; "paris" is the later word.
  AnalogyEvalOptions exact;
  exact.case_insensitive = false;
  auto s = evaluate(v, questions + "France paris Germany Berlin\nFrance Paris Germany Berlin\n", exact);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->skipped, 2u);
  expect_counts(s->total, 1, 1, "case-sensitive");
}

TEST(AnalogyEval, AVariantOfAQuestionWordIsNotTheAnswer) {
  // "germany" sits exactly on the 3CosAdd target: the nearest word, but a
  // question word in another case.
  const WordVectors v = vocabulary({{"germany", paris_france_germany()}});
  auto r = evaluate(v, ": capitals\nFrance Paris Germany Berlin\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  expect_counts(r->total, 1, 0, "case-insensitive");
  // Case-sensitive, "germany" is another word, and the answer.
  AnalogyEvalOptions exact;
  exact.case_insensitive = false;
  auto s = evaluate(v, ": capitals\nFrance Paris Germany Berlin\n", exact);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  expect_counts(s->total, 0, 1, "case-sensitive");
}

TEST(AnalogyEval, RestrictToLeavesOutLaterWords) {
  // "decoy" sits on the target but comes after the first kBaseWords words.
  const WordVectors v = vocabulary({{"decoy", paris_france_germany()}});
  const std::string questions =
      ": capitals\n"
      "France Paris Germany Berlin\n"
      "France Paris decoy Berlin\n";
  AnalogyEvalOptions all;
  all.restrict_to = 0;
  auto r = evaluate(v, questions, all);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->searched, kBaseWords + 1);
  EXPECT_EQ(r->skipped, 0u);
  // The first question answers "decoy"; the second, with decoy a question word, Berlin.
  expect_counts(r->total, 1, 1, "all words");

  AnalogyEvalOptions restricted;
  restricted.restrict_to = kBaseWords;
  auto s = evaluate(v, questions, restricted);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->searched, kBaseWords);
  EXPECT_EQ(s->skipped, 1u);
  expect_counts(s->total, 1, 0, "restricted");
}

TEST(AnalogyEval, SectionsNamedGramAreSyntactic) {
  const WordVectors v = vocabulary();
  auto r = evaluate(v,
                    ": gram1-adjective-to-adverb\ndog dogs cat cats\n"
                    ": family\ndog dogs cat cats\ndog dogs car cars\n"
                    ": grammar-free\ndog dogs car cats\n"
                    ": program\ndog dogs cat cats\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  // gram1 and grammar-free start with "gram"; family and program do not.
  expect_counts(r->syntactic, 1, 1, "syntactic");
  expect_counts(r->semantic, 3, 0, "semantic");
  expect_counts(r->total, 4, 1, "total");
}

TEST(AnalogyEval, RejectsAQuestionBeforeAnySection) {
  const WordVectors v = vocabulary();
  auto r = evaluate(v, "France Paris Germany Berlin\n: capitals\nFrance Paris Germany Berlin\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(mentions(r.status().message(), "line 1"));
  EXPECT_TRUE(mentions(r.status().message(), "section"));
  auto later = evaluate(v, "\n\nFrance Paris Germany Berlin\n");
  ASSERT_FALSE(later.is_ok());
  EXPECT_TRUE(mentions(later.status().message(), "line 1"));
}

TEST(AnalogyEval, RejectsAMissingFile) {
  const WordVectors v = vocabulary();
  TempDir dir;
  auto r = evaluate_analogies(v, dir.file("none.txt"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(mentions(r.status().message(), "none.txt"));
}

TEST(AnalogyEval, NoQuestionsGivesZeroAccuracy) {
  const WordVectors v = vocabulary();
  auto r = evaluate(v, ": empty\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->sections.size(), 1u);
  expect_counts(r->total, 0, 0, "total");
  EXPECT_EQ(r->total.accuracy(), 0.0);
}

}  // namespace
}  // namespace simile::words
