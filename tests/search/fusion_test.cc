// Fusion and MMR against values worked out by hand from their definitions
// (Cormack et al. 2009 for RRF; Carbonell & Goldstein 1998 for MMR).
#include "search/fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "search/mmr.h"

namespace simile::search {
namespace {

Fusion rrf(double k = 60) {
  Fusion f;
  f.method = Fusion::Method::kRrf;
  f.rrf_k = k;
  return f;
}

Fusion weighted(double w, Fusion::Normalization n) {
  Fusion f;
  f.method = Fusion::Method::kWeighted;
  f.dense_weight = w;
  f.normalization = n;
  return f;
}

TEST(Fusion, RrfSumsReciprocalRanksOverTheListsHoldingADocument) {
  // dense: 1, 2, 3   keyword: 3, 4
  const std::vector<Hit> dense = {{1, 0.9f}, {2, 0.8f}, {3, 0.1f}};
  const std::vector<Hit> keyword = {{3, 12.0f}, {4, 5.0f}};
  const auto fused = fuse(dense, keyword, rrf());
  ASSERT_EQ(fused.size(), 4u);
  // 3: 1/63 + 1/61 = 0.03226;  1: 1/61;  2: 1/62;  4: 1/62 (tie with 2: smaller id first).
  EXPECT_EQ(fused[0].id, 3);
  EXPECT_DOUBLE_EQ(fused[0].score, 1.0 / 63 + 1.0 / 61);
  EXPECT_EQ(fused[0].dense_rank, 3u);
  EXPECT_EQ(fused[0].keyword_rank, 1u);
  EXPECT_EQ(fused[1].id, 1);
  EXPECT_DOUBLE_EQ(fused[1].score, 1.0 / 61);
  EXPECT_EQ(fused[1].keyword_rank, 0u);
  EXPECT_EQ(fused[2].id, 2);
  EXPECT_EQ(fused[3].id, 4);
  EXPECT_DOUBLE_EQ(fused[2].score, fused[3].score);
  EXPECT_EQ(fused[3].dense_rank, 0u);
  EXPECT_EQ(fused[3].keyword_rank, 2u);
}

TEST(Fusion, RrfConstantChangesHowMuchTheTopRanksDominate) {
  // With k = 0 the first rank of one list (1/1) beats ranks 2 + 2 of both (1/2 + 1/2 = 1, a tie broken by id);
  // with k = 60 being second in both lists wins clearly.
  const std::vector<Hit> dense = {{1, 0.9f}, {2, 0.8f}};
  const std::vector<Hit> keyword = {{3, 9.0f}, {2, 8.0f}};
  EXPECT_EQ(fuse(dense, keyword, rrf(60))[0].id, 2);
  const auto sharp = fuse(dense, keyword, rrf(0));
  EXPECT_DOUBLE_EQ(sharp[0].score, 1.0);
  EXPECT_EQ(sharp[0].id, 1);  // 1.0 each for 1, 2 and 3: smallest id first
}

TEST(Fusion, WeightedMinMaxScalesEachListToZeroOneAndGivesMissingDocumentsZero) {
  const std::vector<Hit> dense = {{1, 0.8f}, {2, 0.6f}, {3, 0.4f}};
  const std::vector<Hit> keyword = {{3, 10.0f}, {4, 6.0f}, {5, 2.0f}};
  const auto fused = fuse(dense, keyword, weighted(0.25, Fusion::Normalization::kMinMax));
  // dense' = 1, 0.5, 0 (4, 5: 0); bm25' = 1 (3), 0.5 (4), 0 (5) (1, 2: 0).
  // 1: 0.25;  2: 0.125;  3: 0.75;  4: 0.375;  5: 0.
  std::vector<std::pair<int64_t, double>> want = {{3, 0.75}, {4, 0.375}, {1, 0.25}, {2, 0.125}, {5, 0.0}};
  ASSERT_EQ(fused.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(fused[i].id, want[i].first) << i;
    EXPECT_NEAR(fused[i].score, want[i].second, 1e-6) << i;
  }
  // Weight 1: dense order; the keyword-only documents follow at 0.
  const auto dense_only = fuse(dense, keyword, weighted(1.0, Fusion::Normalization::kMinMax));
  EXPECT_EQ(dense_only[0].id, 1);
  EXPECT_EQ(dense_only[1].id, 2);
}

TEST(Fusion, WeightedZScoreUsesEachListsMeanAndSpreadAndTheListMinimumForMissing) {
  const std::vector<Hit> dense = {{1, 3.0f}, {2, 1.0f}};   // mean 2, sd 1: z = 1, -1
  const std::vector<Hit> keyword = {{2, 9.0f}, {3, 7.0f}, {4, 5.0f}};  // mean 7, sd sqrt(8/3): z = 1.2247, 0, -1.2247
  const auto fused = fuse(dense, keyword, weighted(0.5, Fusion::Normalization::kZScore));
  const double zk = 2.0 / std::sqrt(8.0 / 3.0);
  std::map<int64_t, double> got;
  for (const FusedHit& f : fused) got[f.id] = f.score;
  EXPECT_NEAR(got[1], 0.5 * 1 + 0.5 * -zk, 1e-6);   // missing from keyword: its lowest z
  EXPECT_NEAR(got[2], 0.5 * -1 + 0.5 * zk, 1e-6);
  EXPECT_NEAR(got[3], 0.5 * -1 + 0.5 * 0, 1e-6);    // missing from dense: its lowest z (-1)
  EXPECT_NEAR(got[4], 0.5 * -1 + 0.5 * -zk, 1e-6);
}

TEST(Fusion, NormalisingDegenerateListsNeverDividesByZero) {
  EXPECT_TRUE(normalize_scores({}, Fusion::Normalization::kMinMax).empty());
  const std::vector<Hit> same = {{1, 2.0f}, {2, 2.0f}};
  EXPECT_EQ(normalize_scores(same, Fusion::Normalization::kMinMax), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(normalize_scores(same, Fusion::Normalization::kZScore), (std::vector<double>{0.0, 0.0}));
  // One empty side: the other side's order, scores from that side alone.
  const auto fused = fuse({}, {{7, 3.0f}, {8, 1.0f}}, weighted(0.5, Fusion::Normalization::kMinMax));
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_EQ(fused[0].id, 7);
  EXPECT_NEAR(fused[0].score, 0.5, 1e-9);
}

TEST(Mmr, LambdaOneKeepsTheRelevanceOrder) {
  const std::vector<float> rel = {0.9f, 0.3f, 0.8f, 0.5f};
  const std::vector<float> v = {1, 0, 1, 0, 0, 1, 0.7f, 0.7f};
  EXPECT_EQ(mmr_order(rel, v, 2, 4, 1.0), (std::vector<size_t>{0, 2, 3, 1}));
}

TEST(Mmr, PenalisesNearDuplicatesOfWhatIsAlreadyChosen) {
  // 0 and 1 are the same direction; 2 is orthogonal and a little less relevant.
  const std::vector<float> rel = {1.0f, 0.95f, 0.6f};
  const std::vector<float> v = {1, 0, 2, 0, 0, 1};
  // rel' = 1, 0.875, 0.  Second pick with lambda 0.5: cand 1: 0.5*0.875 - 0.5*1 = -0.0625;
  // cand 2: 0.5*0 - 0.5*0 = 0 -> 2 wins.
  EXPECT_EQ(mmr_order(rel, v, 2, 3, 0.5), (std::vector<size_t>{0, 2, 1}));
  // With lambda 0.9: cand 1: 0.7875 - 0.1 = 0.6875 > cand 2: 0 -> 1 stays second.
  EXPECT_EQ(mmr_order(rel, v, 2, 3, 0.9), (std::vector<size_t>{0, 1, 2}));
  // k bounds the output; k beyond n gives n.
  EXPECT_EQ(mmr_order(rel, v, 2, 1, 0.5).size(), 1u);
  EXPECT_EQ(mmr_order(rel, v, 2, 10, 0.5).size(), 3u);
}

TEST(Mmr, ZeroVectorsCountAsUnrelated) {
  const std::vector<float> rel = {1.0f, 0.9f, 0.1f};
  const std::vector<float> v = {1, 0, 0, 0, 1, 0};
  // 1 has no vector: cosine 0 to everything, so nothing pushes it down.
  EXPECT_EQ(mmr_order(rel, v, 2, 3, 0.5), (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace simile::search
