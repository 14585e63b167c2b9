// Keyword search through the public API with real SQLite files: keyword-only
// and model collections, updates and deletes, the upgrade from schema 1, a
// damaged segment, analyzers (English and Korean), explanations, filters and
// bad queries.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <set>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"

namespace simile {
namespace {

using testing::TempDir;
using testing::write_bytes;

std::string jsonl(const std::vector<std::array<const char*, 3>>& docs) {
  std::string out;
  for (const auto& [id, title, text] : docs)
    out += nlohmann::json({{"id", id}, {"title", title}, {"text", text}, {"len", std::string(text).size()}}).dump() +
           "\n";
  return out;
}

const std::vector<std::array<const char*, 3>> kDocs = {
    {"wing", "Wings", "An aircraft wing produces lift because air flows faster over its curved upper surface."},
    {"engine", "Jet engines", "A jet engine compresses air, burns fuel and pushes the exhaust backwards."},
    {"bread", "Baking", "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven."},
    {"runner", "Running", "She was running every morning; runners say a run clears the head."},
    {"part", "Part numbers", "Replace filter XJ-2041 every 500 hours; the older XJ-2040 does not fit."},
    {"weather", "장마", "북태평양 기단과 오호츠크해 기단이 만나 장마 전선이 생긴다."},
    {"seoul", "서울", "서울은 한국의 수도이다."},
};

class KeywordCollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.str() + "/kw.db";
    input_ = dir_.str() + "/docs.jsonl";
    write_bytes(input_, jsonl(kDocs));
  }

  std::unique_ptr<Collection> open(const std::string& name) { return open(name, keyword_only("")); }
  std::unique_ptr<Collection> open(const std::string& name, CollectionSettings s) {
    db_.reset();
    auto db = Database::open(db_path_);
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    db_ = std::move(db).value();
    auto c = db_->open_collection(name, &s);
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    return c.is_ok() ? std::move(c).value() : nullptr;
  }

  static CollectionSettings keyword_only(std::string analyzer) {
    CollectionSettings s;
    s.model = "none";
    s.analyzer = std::move(analyzer);
    return s;
  }

  static IngestOptions by_id() {
    IngestOptions o;
    o.id_field = "id";
    return o;
  }

  static SearchOptions mode(SearchMode m, size_t k = 10) {
    SearchOptions o;
    o.k = k;
    o.mode = m;
    return o;
  }

  static std::vector<std::string> ids(const Result<std::vector<SearchHit>>& hits) {
    EXPECT_TRUE(hits.is_ok()) << hits.status().message();
    std::vector<std::string> out;
    if (hits.is_ok())
      for (const auto& h : *hits) out.push_back(h.id);
    return out;
  }

  void sql(const std::string& statement) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }

  TempDir dir_;
  std::string db_path_, input_;
  std::unique_ptr<Database> db_;
};

TEST_F(KeywordCollectionTest, FindsExactTermsStemsAndNumbers) {
  auto c = open("kw");
  ASSERT_TRUE(c);
  auto added = c->add({input_}, by_id());
  ASSERT_TRUE(added.is_ok()) << added.status().message();
  EXPECT_EQ(added->added, kDocs.size());
  EXPECT_EQ(added->chunks, 0u) << "keyword-only collections embed nothing";
  EXPECT_EQ(c->info().model, "none");

  EXPECT_EQ(ids(c->search("XJ-2041", {})), std::vector<std::string>{"part"});  // auto = bm25 without a model
  EXPECT_EQ(ids(c->search("runs", {})), std::vector<std::string>{"runner"}) << "stems: runs ~ run, running";
  const auto air = ids(c->search("air", mode(SearchMode::kBm25)));
  EXPECT_EQ(std::set<std::string>(air.begin(), air.end()), (std::set<std::string>{"wing", "engine"}));
  for (SearchMode m : {SearchMode::kTfIdf, SearchMode::kBow})
    EXPECT_EQ(ids(c->search("dough oven", mode(m)))[0], "bread");

  auto hits = c->search("jet fuel", mode(SearchMode::kBm25));
  ASSERT_TRUE(hits.is_ok());
  ASSERT_FALSE(hits->empty());
  EXPECT_NE((*hits)[0].chunk.find("fuel"), std::string::npos) << "the passage shown holds the match";

  auto dense = c->search("air", mode(SearchMode::kDense));
  ASSERT_FALSE(dense.is_ok());
  EXPECT_NE(dense.status().message().find("keyword-only"), std::string::npos);
}

TEST_F(KeywordCollectionTest, KoreanParticlesDoNotHideWords) {
  auto c = open("kw");
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  EXPECT_EQ(ids(c->search("북태평양 기단", {}))[0], "weather");
  EXPECT_EQ(ids(c->search("한국 수도", {}))[0], "seoul");
  EXPECT_EQ(ids(c->search("장마전선", {}))[0], "weather") << "bigrams match across the space";
}

TEST_F(KeywordCollectionTest, ExplanationAddsUpToTheScore) {
  auto c = open("kw");
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  SearchOptions o = mode(SearchMode::kBm25);
  o.explain = true;
  auto hits = c->search("the hot oven and the hot air", o);
  ASSERT_TRUE(hits.is_ok());
  ASSERT_FALSE(hits->empty());
  for (const SearchHit& h : *hits) {
    float sum = 0;
    for (const TermScore& t : h.explanation) sum += t.score;
    EXPECT_NEAR(sum, h.score, 1e-4);
    EXPECT_GT(h.document_terms, 0u);
  }
  const SearchHit& top = (*hits)[0];
  EXPECT_EQ(top.id, "bread");
  auto hot = std::find_if(top.explanation.begin(), top.explanation.end(), [](const TermScore& t) { return t.term == "hot"; });
  ASSERT_NE(hot, top.explanation.end());
  EXPECT_EQ(hot->query_count, 2u) << "repeated query words are one term counted twice";
  EXPECT_EQ(hot->document_count, 1u);
  EXPECT_EQ(hot->df, 1u);
}

TEST_F(KeywordCollectionTest, UpdatesAndDeletesReachTheIndex) {
  auto c = open("kw");
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  EXPECT_EQ(ids(c->search("dough", {})), std::vector<std::string>{"bread"});
  write_bytes(input_, jsonl({{"bread", "Baking", "Mix flour and water; no kneading needed."}}));
  auto again = c->add({input_}, by_id());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->updated, 1u);
  EXPECT_TRUE(ids(c->search("dough", {})).empty()) << "the old version's postings are dead";
  EXPECT_EQ(ids(c->search("flour", {})), std::vector<std::string>{"bread"});
  ASSERT_TRUE(c->remove({"bread"}).is_ok());
  EXPECT_TRUE(ids(c->search("flour", {})).empty());
  auto info = c->keyword_index_info();
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->documents, kDocs.size() - 1);
  // Reopened from the file: the same answers.
  auto reopened = open("kw");
  EXPECT_TRUE(ids(reopened->search("flour", {})).empty());
  EXPECT_EQ(ids(reopened->search("XJ-2041", {})), std::vector<std::string>{"part"});
}

TEST_F(KeywordCollectionTest, SmallCommitsAreMergedAndStillExact) {
  auto c = open("kw");
  std::vector<std::array<const char*, 3>> many;
  std::vector<std::string> keep;
  for (int i = 0; i < 120; ++i) keep.push_back("doc" + std::to_string(i));
  std::vector<std::string> texts;
  for (int i = 0; i < 120; ++i) texts.push_back("common words here and token" + std::to_string(i));
  for (int i = 0; i < 120; ++i) many.push_back({keep[i].c_str(), "", texts[i].c_str()});
  write_bytes(input_, jsonl(many));
  IngestOptions o = by_id();
  o.commit_chunks = 1;  // one segment per document before merging
  ASSERT_TRUE(c->add({input_}, o).is_ok());
  auto info = c->keyword_index_info();
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->documents, 120u);
  EXPECT_LE(info->segments, 12u) << "tiered merges keep the segment count logarithmic";
  for (int i : {0, 57, 119}) EXPECT_EQ(ids(c->search("token" + std::to_string(i), {}))[0], keep[i]);
  EXPECT_EQ(ids(c->search("common", mode(SearchMode::kBm25, 200))).size(), 120u);
}

TEST_F(KeywordCollectionTest, FiltersApplyToKeywordSearch) {
  auto c = open("kw");
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  SearchOptions o = mode(SearchMode::kBm25);
  o.filter = "len < 80";
  const auto hits = ids(c->search("air", o));
  EXPECT_EQ(hits, std::vector<std::string>{"engine"});
}

TEST_F(KeywordCollectionTest, BadQueriesGiveDefinedAnswers) {
  auto c = open("kw", keyword_only("english"));
  auto empty_collection = c->search("anything", {});
  ASSERT_TRUE(empty_collection.is_ok());
  EXPECT_TRUE(empty_collection->empty());
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  for (const std::string& q :
       std::vector<std::string>{"", "the and of", "?!... ---", std::string("\xff\xfe\xc3", 3), "air\xc3(fuel"}) {
    auto hits = c->search(q, mode(SearchMode::kBm25));
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    if (q.find("air") == std::string::npos) {
      EXPECT_TRUE(hits->empty()) << q;
    }
  }
  std::string huge;
  for (int i = 0; i < 20000; ++i) huge += "air dough word" + std::to_string(i % 500) + " ";
  auto hits = c->search(huge, mode(SearchMode::kBm25, 3));
  ASSERT_TRUE(hits.is_ok());
  EXPECT_EQ(hits->size(), 3u);
}

TEST_F(KeywordCollectionTest, AnalyzerIsASettingChangedOnlyByARebuild) {
  auto c = open("kw", keyword_only("simple"));
  ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  EXPECT_TRUE(ids(c->search("runs", {})).empty()) << "no stemmer";
  EXPECT_NE(c->info().analyzer.find("\"none\""), std::string::npos);
  db_.reset();
  auto db = Database::open(db_path_);
  CollectionSettings other = keyword_only("english");
  auto mismatch = (*db)->open_collection("kw", &other);
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.status().message().find("index rebuild"), std::string::npos);
  auto reopened = open("kw");
  auto info = reopened->rebuild_keyword_index("default");
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->documents, kDocs.size());
  EXPECT_NE(info->analyzer.find("stemmer=english"), std::string::npos);
  EXPECT_EQ(ids(reopened->search("runs", {})), std::vector<std::string>{"runner"});
  EXPECT_FALSE(reopened->rebuild_keyword_index("stemmer=klingon").is_ok());
}

TEST_F(KeywordCollectionTest, ADamagedSegmentIsRebuiltFromTheDocuments) {
  {
    auto c = open("kw");
    ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  }
  db_.reset();
  sql("UPDATE keyword_segments SET data = substr(data, 1, length(data) - 3) || x'000000'");
  auto c = open("kw");
  EXPECT_EQ(ids(c->search("XJ-2041", {})), std::vector<std::string>{"part"});
}

TEST_F(KeywordCollectionTest, ASchemaOneFileIsUpgradedAndIndexed) {
  {
    auto c = open("kw");
    ASSERT_TRUE(c->add({input_}, by_id()).is_ok());
  }
  db_.reset();
  // What simile wrote before the keyword index existed.
  sql("DROP TABLE vector_index; DELETE FROM simile_meta WHERE key = 'chunk_id_high_water'; "
      "DROP TABLE keyword_segments; DROP TABLE keyword_docs; ALTER TABLE collections DROP COLUMN analyzer; "
      "ALTER TABLE collections DROP COLUMN keyword_pending; ALTER TABLE collections DROP COLUMN remote; "
      "UPDATE simile_meta SET value = '1' WHERE key = 'schema_version'");
  auto c = open("kw");
  ASSERT_TRUE(c);
  EXPECT_EQ(ids(c->search("XJ-2041", {})), std::vector<std::string>{"part"});
  EXPECT_FALSE(c->info().analyzer.empty());
}

}  // namespace
}  // namespace simile
