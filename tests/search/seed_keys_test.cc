// Seed 000's example: "What did I do with my keys?" against two answers and
// two look-alike questions. docs/hybrid-search.md shows what each mode
// returns; this test holds the mechanics behind that table, not a wished-for
// answer: dense ranks by the cosine of the model's vectors, BM25 by shared
// words (and "keys" is in no sentence), hybrid by the RRF of those two ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"

namespace simile {
namespace {

const char* const kQuery = "What did I do with my keys?";
const char* const kSentences[] = {"I left them in my pocket", "They are on the table", "What did I put my wallet?",
                                  "What I did to my life?"};

class SeedKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string lines;
    for (const char* s : kSentences) lines += std::string(s) + "\n";
    testing::write_bytes(dir_.str() + "/keys.txt", lines);
    auto db = Database::open(dir_.str() + "/keys.db");
    ASSERT_TRUE(db.is_ok()) << db.status().message();
    db_ = std::move(db).value();
    CollectionSettings settings;
    auto c = db_->open_collection("keys", &settings);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    collection_ = std::move(c).value();
    IngestOptions o;
    o.format = "lines";
    ASSERT_TRUE(collection_->add({dir_.str() + "/keys.txt"}, o).is_ok());
  }

  std::vector<SearchHit> search(SearchMode mode, bool explain = false) {
    SearchOptions o = testing::top(4);
    o.mode = mode;
    o.explain = explain;
    auto hits = collection_->search(kQuery, o);
    EXPECT_TRUE(hits.is_ok()) << hits.status().message();
    return hits.is_ok() ? *hits : std::vector<SearchHit>();
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Collection> collection_;
};

TEST_F(SeedKeysTest, DenseRanksByTheCosineOfTheModelsVectors) {
  EmbedderOptions eo;
  auto embedder = Embedder::open(eo);
  ASSERT_TRUE(embedder.is_ok()) << embedder.status().message();
  std::vector<std::string> texts = {kQuery};
  for (const char* s : kSentences) texts.push_back(s);
  auto v = (*embedder)->embed(texts);
  ASSERT_TRUE(v.is_ok());
  const size_t d = (*embedder)->dims();
  std::map<std::string, float> cosine;  // the sentence's text -> cos(query, sentence); vectors are unit length
  for (size_t i = 0; i < std::size(kSentences); ++i) {
    float dot = 0;
    for (size_t j = 0; j < d; ++j) dot += (*v)[j] * (*v)[(i + 1) * d + j];
    cosine[kSentences[i]] = dot;
  }
  const auto hits = search(SearchMode::kDense);
  ASSERT_EQ(hits.size(), 4u);
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_NEAR(hits[i].score, cosine.at(hits[i].chunk), 1e-5) << hits[i].chunk;
    if (i > 0) {
      EXPECT_GE(hits[i - 1].score, hits[i].score);
    }
  }
}

TEST_F(SeedKeysTest, Bm25SeesOnlySharedWordsAndKeysMatchesNothing) {
  const auto hits = search(SearchMode::kBm25, /*explain=*/true);
  // "They are on the table" shares no word with the query: not a BM25 hit.
  ASSERT_EQ(hits.size(), 3u);
  for (const auto& h : hits) {
    EXPECT_NE(h.chunk, "They are on the table");
    for (const auto& t : h.explanation)
      if (t.term == "key") {
        EXPECT_EQ(t.df, 0u);  // "keys" is analysed to "key", in no sentence
      }
  }
  // Both questions hold what, did, i, my and are equally long: one score.
  EXPECT_FLOAT_EQ(hits[0].score, hits[1].score);
  EXPECT_EQ(hits[2].chunk, "I left them in my pocket");  // only "i" and "my"
}

TEST_F(SeedKeysTest, HybridIsTheReciprocalRankFusionOfBoth) {
  const auto dense = search(SearchMode::kDense);
  const auto bm25 = search(SearchMode::kBm25);
  std::map<std::string, double> want;
  for (size_t r = 0; r < dense.size(); ++r) want[dense[r].id] += 1.0 / (60.0 + static_cast<double>(r + 1));
  for (size_t r = 0; r < bm25.size(); ++r) want[bm25[r].id] += 1.0 / (60.0 + static_cast<double>(r + 1));
  const auto hybrid = search(SearchMode::kHybrid);
  ASSERT_EQ(hybrid.size(), 4u);
  for (const auto& h : hybrid) EXPECT_NEAR(h.score, want.at(h.id), 1e-7) << h.chunk;
  // "They are on the table" has only its dense rank: it is last.
  EXPECT_EQ(hybrid.back().chunk, "They are on the table");
  EXPECT_FALSE(hybrid.back().keyword.has_value());
}

}  // namespace
}  // namespace simile
