// Hybrid search, re-ranking and MMR end to end through the public API, with
// the real default model, a real cross-encoder (the tiny test one) and real
// SQLite files. Each fused result is checked against the single-mode searches
// it is made of, fused here by the definition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"
#include "simile/reranker.h"

namespace simile {
namespace {

using testing::TempDir;
using testing::write_bytes;

const char* const kDocs[][3] = {
    // id, text, shelf
    {"wing", "An aircraft wing produces lift because air flows faster over its curved upper surface.", "1"},
    {"wing2", "Aircraft wings make lift: air moving faster over the curved top of the wing lowers the pressure.", "1"},
    {"wing3", "The curved upper surface of a wing speeds up the air above it, and the wing is lifted.", "2"},
    {"jet", "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards.", "1"},
    {"part", "Replacement seal XJ-2041 fits the fuel pump of the Jetstream 31.", "2"},
    {"bread", "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven.", "1"},
    {"cat", "Cats sleep most of the day and hunt small animals at dawn and dusk.", "2"},
    {"moon", "The Moon orbits the Earth every 27 days and causes the ocean tides.", "1"},
    {"glider", "Gliders have no engine; they stay up by finding rising air.", "2"},
};

class HybridSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string jsonl;
    for (const auto& d : kDocs)
      jsonl += nlohmann::json({{"id", d[0]}, {"text", d[1]}, {"shelf", std::stoi(d[2])}}).dump() + "\n";
    write_bytes(dir_.str() + "/docs.jsonl", jsonl);
    auto db = Database::open(dir_.str() + "/test.db");
    ASSERT_TRUE(db.is_ok()) << db.status().message();
    db_ = std::move(db).value();
    CollectionSettings settings;
    auto c = db_->open_collection("mixed", &settings);
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    collection_ = std::move(c).value();
    IngestOptions o;
    o.id_field = "id";
    auto added = collection_->add({dir_.str() + "/docs.jsonl"}, o);
    ASSERT_TRUE(added.is_ok()) << added.status().message();
  }

  std::vector<SearchHit> search(const std::string& query, SearchOptions o, SearchReport* report = nullptr) {
    auto hits = collection_->search(query, o, report);
    EXPECT_TRUE(hits.is_ok()) << hits.status().message();
    return hits.is_ok() ? *hits : std::vector<SearchHit>();
  }

  static SearchOptions mode(SearchMode m, size_t k, std::string filter = "") {
    SearchOptions o = testing::top(k, std::move(filter));
    o.mode = m;
    return o;
  }

  static std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.id);
    return out;
  }

  // The tiny test cross-encoder (random weights: its order means nothing,
  // its scores are checked against the PyTorch reference elsewhere), with the
  // tokenizer it was made for from ../shared.
  std::string tiny_cross_encoder() {
    const std::string dest = dir_.str() + "/cross-encoder";
    if (!std::filesystem::exists(dest)) {
      std::filesystem::create_directories(dest);
      const std::string src = testing::golden_dir() + "/models/tiny-bert-cross-encoder/";
      for (const char* f : {"config.json", "tokenizer_config.json", "model.safetensors"})
        std::filesystem::create_symlink(src + f, dest + "/" + f);
      std::filesystem::create_symlink(testing::shared_dir() + "/tokenizers/bert-base-uncased/tokenizer.json",
                                      dest + "/tokenizer.json");
    }
    return dest;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Collection> collection_;
};

// The fused list computed here from two single-mode searches, by definition.
struct Expected {
  std::string id;
  double score = 0;
  size_t dense_rank = 0, keyword_rank = 0;
};

std::vector<Expected> expected_rrf(const std::vector<SearchHit>& dense, const std::vector<SearchHit>& bm25, double k) {
  std::map<std::string, Expected> by_id;
  for (size_t r = 0; r < dense.size(); ++r) {
    Expected& e = by_id[dense[r].id];
    e.id = dense[r].id;
    e.dense_rank = r + 1;
    e.score += 1.0 / (k + static_cast<double>(r + 1));
  }
  for (size_t r = 0; r < bm25.size(); ++r) {
    Expected& e = by_id[bm25[r].id];
    e.id = bm25[r].id;
    e.keyword_rank = r + 1;
    e.score += 1.0 / (k + static_cast<double>(r + 1));
  }
  std::vector<Expected> out;
  for (auto& [id, e] : by_id) out.push_back(e);
  std::stable_sort(out.begin(), out.end(), [](const Expected& a, const Expected& b) { return a.score > b.score; });
  return out;
}

TEST_F(HybridSearchTest, AutoIsHybridAndRrfFusesTheDenseAndBm25Rankings) {
  const std::string q = "how does a wing lift an aircraft on fuel pump XJ-2041";
  const auto dense = search(q, mode(SearchMode::kDense, 100));
  const auto bm25 = search(q, mode(SearchMode::kBm25, 100));
  ASSERT_EQ(dense.size(), std::size(kDocs));
  ASSERT_GE(bm25.size(), 3u);
  SearchReport report;
  const auto hybrid = search(q, testing::top(std::size(kDocs)), &report);
  EXPECT_EQ(report.mode, SearchMode::kHybrid);
  const auto want = expected_rrf(dense, bm25, 60);
  ASSERT_EQ(hybrid.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const SearchHit& h = hybrid[i];
    SCOPED_TRACE(h.id);
    ASSERT_TRUE(h.fused.has_value());
    EXPECT_NEAR(*h.fused, want[i].score, 1e-7);
    EXPECT_EQ(h.score, *h.fused);
    // Equal fused scores may come in either order; the score sequence may not.
    if (h.id != want[i].id) {
      EXPECT_NEAR(want[i].score, h.score, 1e-7);
    }
    const Expected& mine = *std::find_if(want.begin(), want.end(), [&](const Expected& e) { return e.id == h.id; });
    ASSERT_EQ(h.dense.has_value(), mine.dense_rank != 0);
    ASSERT_EQ(h.keyword.has_value(), mine.keyword_rank != 0);
    if (h.dense) {
      EXPECT_EQ(h.dense->rank, mine.dense_rank);
      EXPECT_FLOAT_EQ(h.dense->score, dense[mine.dense_rank - 1].score);
    }
    if (h.keyword) {
      EXPECT_EQ(h.keyword->rank, mine.keyword_rank);
      EXPECT_FLOAT_EQ(h.keyword->score, bm25[mine.keyword_rank - 1].score);
    }
  }
  // The exact part number is BM25's first hit and the wing texts are dense's:
  // both lead the fused list.
  EXPECT_EQ(bm25[0].id, "part");
  const auto top3 = ids(std::vector<SearchHit>(hybrid.begin(), hybrid.begin() + 3));
  EXPECT_TRUE(std::count(top3.begin(), top3.end(), "part") == 1) << nlohmann::json(top3).dump();

  std::vector<std::string> stages;
  for (const auto& s : report.stages) stages.push_back(s.name);
  EXPECT_EQ(stages, (std::vector<std::string>{"embed", "dense", "keyword", "fusion", "fetch"}));
  for (const auto& s : report.stages) EXPECT_GE(s.ms, 0.0);
  EXPECT_GE(report.total_ms, report.stages.back().ms);
}

TEST_F(HybridSearchTest, WeightedFusionNormalisesEachSideOverItsCandidates) {
  const std::string q = "rising air keeps a glider up";
  const auto dense = search(q, mode(SearchMode::kDense, 100));
  const auto bm25 = search(q, mode(SearchMode::kBm25, 100));
  SearchOptions o = mode(SearchMode::kHybrid, std::size(kDocs));
  o.fusion.method = Fusion::Method::kWeighted;
  o.fusion.dense_weight = 0.7;
  const auto hybrid = search(q, o);
  auto minmax = [](const std::vector<SearchHit>& hits) {
    std::map<std::string, double> out;
    double lo = hits.back().score, hi = hits.front().score;
    for (const auto& h : hits) out[h.id] = hi > lo ? (h.score - lo) / (hi - lo) : 1.0;
    return out;
  };
  const auto d = minmax(dense), k = minmax(bm25);
  ASSERT_EQ(hybrid.size(), std::size(kDocs));
  for (const auto& h : hybrid) {
    const double want = 0.7 * (d.count(h.id) ? d.at(h.id) : 0.0) + 0.3 * (k.count(h.id) ? k.at(h.id) : 0.0);
    EXPECT_NEAR(h.score, want, 1e-6) << h.id;
  }
  for (size_t i = 1; i < hybrid.size(); ++i) EXPECT_GE(hybrid[i - 1].score, hybrid[i].score);
}

TEST_F(HybridSearchTest, FiltersApplyToBothSidesBeforeFusion) {
  const std::string q = "wing lift fuel pump";
  const auto hybrid = search(q, mode(SearchMode::kHybrid, 20, "shelf = 2"));
  ASSERT_FALSE(hybrid.empty());
  const std::set<std::string> shelf2 = {"wing3", "part", "cat", "glider"};
  for (const auto& h : hybrid) EXPECT_TRUE(shelf2.count(h.id)) << h.id;
  // The ranks are those of the filtered single-mode searches: the filter came first.
  const auto dense = search(q, mode(SearchMode::kDense, 20, "shelf = 2"));
  const auto bm25 = search(q, mode(SearchMode::kBm25, 20, "shelf = 2"));
  for (const auto& h : hybrid) {
    if (h.dense) {
      EXPECT_EQ(dense[h.dense->rank - 1].id, h.id);
    }
    if (h.keyword) {
      EXPECT_EQ(bm25[h.keyword->rank - 1].id, h.id);
    }
  }
}

TEST_F(HybridSearchTest, ExplainGivesEveryHybridHitItsTermContributions) {
  SearchOptions o = mode(SearchMode::kHybrid, 5);
  o.explain = true;
  const auto hits = search("fuel pump seal", o);
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) {
    SCOPED_TRACE(h.id);
    ASSERT_EQ(h.explanation.size(), 3u);  // fuel, pump, seal
    float sum = 0;
    for (const auto& t : h.explanation) sum += t.score;
    if (h.keyword) {
      EXPECT_NEAR(sum, h.keyword->score, 1e-4);
    } else {
      EXPECT_EQ(sum, 0.0f);  // not a BM25 candidate: none of the terms occurs
    }
    EXPECT_GT(h.document_terms, 0u);
  }
}

TEST_F(HybridSearchTest, CandidateDepthBoundsEachSide) {
  SearchOptions o = mode(SearchMode::kHybrid, 2);
  o.candidates = 2;
  SearchReport report;
  const auto hits = search("aircraft wing lift", o, &report);
  EXPECT_EQ(hits.size(), 2u);
  for (const auto& s : report.stages) {
    if (s.name == "dense" || s.name == "keyword") {
      EXPECT_LE(s.items, 2u) << s.name;
    }
  }
  for (const auto& h : hits) {
    if (h.dense) {
      EXPECT_LE(h.dense->rank, 2u);
    }
    if (h.keyword) {
      EXPECT_LE(h.keyword->rank, 2u);
    }
  }
  o.candidates = 1;  // fewer than k
  auto bad = collection_->search("x", o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("at least k"), std::string::npos) << bad.status().message();
}

TEST_F(HybridSearchTest, RerankOrdersTheTopCandidatesByTheCrossEncodersScoreOfTheirBestChunk) {
  const std::string q = "how do wings lift aircraft";
  SearchOptions o = mode(SearchMode::kHybrid, 4);
  o.rerank = tiny_cross_encoder();
  o.rerank_top = 6;
  SearchReport report;
  const auto hits = search(q, o, &report);
  ASSERT_EQ(hits.size(), 4u);
  // The candidates it saw: the fused top 6.
  const auto fused = search(q, mode(SearchMode::kHybrid, 6));
  std::vector<std::string> texts;
  for (const auto& h : fused) texts.push_back(h.chunk);
  RerankerOptions ro;
  ro.model = tiny_cross_encoder();
  auto reranker = Reranker::open(ro);
  ASSERT_TRUE(reranker.is_ok()) << reranker.status().message();
  auto ranked = (*reranker)->rerank(q, texts, 4);
  ASSERT_TRUE(ranked.is_ok()) << ranked.status().message();
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(hits[i].id, fused[(*ranked)[i].index].id);
    ASSERT_TRUE(hits[i].rerank.has_value());
    EXPECT_NEAR(*hits[i].rerank, (*ranked)[i].score, 1e-5);
    EXPECT_EQ(hits[i].score, *hits[i].rerank);
    ASSERT_TRUE(hits[i].fused.has_value());  // the earlier stages stay visible
  }
  bool reranked = false;
  for (const auto& s : report.stages)
    if (s.name == "rerank") {
      reranked = true;
      EXPECT_EQ(s.items, 6u);
    }
  EXPECT_TRUE(reranked);
}

TEST_F(HybridSearchTest, RerankIsBoundedAndRefusesWhatItCannotDo) {
  SearchOptions o = mode(SearchMode::kDense, 5);
  o.rerank = tiny_cross_encoder();
  o.rerank_top = 3;
  auto small = collection_->search("wings", o);
  ASSERT_FALSE(small.is_ok());
  EXPECT_NE(small.status().message().find("rerank-top"), std::string::npos) << small.status().message();
  o.rerank = dir_.str() + "/no-such-model";
  o.rerank_top = 0;
  auto missing = collection_->search("wings", o);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("re-ranking model"), std::string::npos) << missing.status().message();
  // A dense search re-ranked: default depth max(k, 50) covers the whole collection here.
  o.rerank = tiny_cross_encoder();
  SearchReport report;
  auto hits = collection_->search("wings", o, &report);
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  EXPECT_EQ(hits->size(), 5u);
  for (size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
}

TEST_F(HybridSearchTest, MmrSpreadsNearDuplicatesApart) {
  const std::string q = "how does a wing produce lift";
  const auto plain = search(q, mode(SearchMode::kDense, 3));
  // The three wing texts say the same thing: plain ranking returns all three.
  const std::vector<std::string> plain_ids = ids(plain);
  EXPECT_EQ(std::set<std::string>(plain_ids.begin(), plain_ids.end()),
            (std::set<std::string>{"wing", "wing2", "wing3"}));
  SearchOptions o = mode(SearchMode::kDense, 3);
  o.mmr_lambda = 1.0;
  EXPECT_EQ(ids(search(q, o)), plain_ids);
  o.mmr_lambda = 0.3;
  SearchReport report;
  const auto diverse = search(q, o, &report);
  ASSERT_EQ(diverse.size(), 3u);
  EXPECT_EQ(diverse[0].id, plain[0].id);  // the first pick is the most relevant
  size_t wings = 0;
  for (const auto& h : diverse) wings += h.id.rfind("wing", 0) == 0;
  EXPECT_LT(wings, 3u) << nlohmann::json(ids(diverse)).dump();
  EXPECT_EQ(report.stages[report.stages.size() - 2].name, "mmr");
  o.mmr_lambda = 1.5;
  EXPECT_FALSE(collection_->search(q, o).is_ok());
}

TEST_F(HybridSearchTest, KeywordOnlyCollectionsSearchBm25AndCanBeReranked) {
  CollectionSettings settings;
  settings.model = "none";
  auto c = db_->open_collection("words", &settings);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  IngestOptions o;
  o.id_field = "id";
  ASSERT_TRUE((*c)->add({dir_.str() + "/docs.jsonl"}, o).is_ok());
  SearchReport report;
  auto hits = (*c)->search("fuel pump", testing::top(3), &report);
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  EXPECT_EQ(report.mode, SearchMode::kBm25);
  SearchOptions hybrid = mode(SearchMode::kHybrid, 3);
  auto refused = (*c)->search("fuel pump", hybrid);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("keyword-only"), std::string::npos);
  SearchOptions mmr = testing::top(3);
  mmr.mmr_lambda = 0.5;
  EXPECT_FALSE((*c)->search("fuel pump", mmr).is_ok());
  SearchOptions rr = testing::top(2);
  rr.rerank = tiny_cross_encoder();
  auto reranked = (*c)->search("fuel pump", rr);
  ASSERT_TRUE(reranked.is_ok()) << reranked.status().message();
  ASSERT_FALSE(reranked->empty());
  for (const auto& h : *reranked) {
    EXPECT_TRUE(h.rerank.has_value());
    EXPECT_FALSE(h.chunk.empty());  // the passage it was re-ranked on
  }
}

}  // namespace
}  // namespace simile
