// Scores that mean something (docs/hybrid-search.md): percentiles and z-scores
// of dense hits against the collection's background, and centred search,
// checked against brute force over the vectors read back from the SQLite file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"

namespace simile {
namespace {

using testing::by_meaning;
using testing::cosine;
using testing::TempDir;
using testing::write_bytes;

const char* const kTexts[] = {
    "An aircraft wing produces lift because air flows faster over its curved upper surface.",
    "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards.",
    "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven.",
    "Mix flour and eggs into a firm dough, roll it thin and cut it into noodles.",
    "Cats sleep most of the day and hunt small animals at dawn and dusk.",
    "Dogs need daily walks, play and training to stay happy and healthy.",
    "Python is a programming language known for readable code and rich libraries.",
    "Relational databases store rows in tables and answer queries written in SQL.",
    "The Moon orbits the Earth every 27 days and causes the ocean tides.",
    "Mars is a cold desert planet with the tallest volcano in the solar system.",
};

std::string jsonl(size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    // Built in steps: GCC 12 warns (-Wrestrict, falsely) about "d" + to_string.
    std::string id = "d";
    id += std::to_string(i);
    out += nlohmann::json({{"id", id}, {"text", kTexts[i]}, {"n", i}}).dump();
    out += "\n";
  }
  return out;
}

struct StoredChunk {
  int64_t document;
  std::vector<float> v;
};

// The stored vectors of a f32 collection, read with SQLite directly.
std::vector<StoredChunk> stored_vectors(const std::string& db, const std::string& collection) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw,
                               "SELECT c.document_id, c.vector FROM chunks c JOIN collections k "
                               "ON k.id = c.collection_id WHERE k.name = ? ORDER BY c.id",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, collection.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<StoredChunk> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    StoredChunk c;
    c.document = sqlite3_column_int64(stmt, 0);
    c.v.resize(static_cast<size_t>(sqlite3_column_bytes(stmt, 1)) / sizeof(float));
    std::memcpy(c.v.data(), sqlite3_column_blob(stmt, 1), c.v.size() * sizeof(float));
    out.push_back(std::move(c));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return out;
}

std::vector<float> minus(std::vector<float> a, const std::vector<double>& m) {
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(a[i] - m[i]);
  return a;
}

std::vector<float> unit(std::vector<float> a) {
  double n = 0;
  for (float x : a) n += double(x) * x;
  for (float& x : a) x = static_cast<float>(x / std::sqrt(n));
  return a;
}

std::vector<double> mean_of(const std::vector<StoredChunk>& chunks) {
  std::vector<double> m(chunks.front().v.size(), 0.0);
  for (const StoredChunk& c : chunks)
    for (size_t i = 0; i < m.size(); ++i) m[i] += c.v[i];
  for (double& x : m) x /= double(chunks.size());
  return m;
}

// Every cross-document pair's cosine (of the vectors centred on `center` when given), sorted.
std::vector<double> cross_pairs(const std::vector<StoredChunk>& chunks, const std::vector<double>* center = nullptr) {
  std::vector<double> out;
  for (size_t a = 0; a < chunks.size(); ++a)
    for (size_t b = a + 1; b < chunks.size(); ++b)
      if (chunks[a].document != chunks[b].document)
        out.push_back(center ? cosine(minus(chunks[a].v, *center), minus(chunks[b].v, *center))
                             : cosine(chunks[a].v, chunks[b].v));
  std::sort(out.begin(), out.end());
  return out;
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / double(x.size());
}

double stddev(const std::vector<double>& x) {
  const double m = mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / double(x.size()));
}

// The rule documented in simile/collection.h, done here by hand.
double percentile(const std::vector<double>& sorted, double score) {
  double below = 0, ties = 0;
  for (double s : sorted) {
    if (std::abs(s - score) < 1e-6) ++ties;
    else if (s < score) ++below;
  }
  return 100 * (below + ties / 2) / double(sorted.size());
}

class CollectionScoresTest : public ::testing::Test {
 protected:
  void SetUp() override { db_path_ = dir_.str() + "/scores.db"; }

  std::unique_ptr<Collection> open(const std::string& name, const CollectionSettings& s = {}) {
    return testing::open_test_collection(db_, db_path_, name, s);
  }

  // The collection's background as another process computes it: from a
  // freshly opened database.
  ScoreBackground background_after_reopening(std::unique_ptr<Collection>& c, const std::string& name) {
    c.reset();
    c = open(name);
    EXPECT_TRUE(c);
    if (!c) return {};
    auto b = c->score_background();
    EXPECT_TRUE(b.is_ok()) << b.status().message();
    return b.is_ok() ? *b : ScoreBackground();
  }

  void add(Collection& c, const std::string& text) {
    const std::string path = dir_.file("in" + std::to_string(inputs_++) + ".jsonl");
    write_bytes(path, text);
    IngestOptions o;
    o.id_field = "id";
    auto s = c.add({path}, o);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
  }

  TempDir dir_;
  std::string db_path_;
  std::unique_ptr<Database> db_;
  int inputs_ = 0;
};

TEST_F(CollectionScoresTest, PercentileAndZAgreeWithBruteForceOverAllPairs) {
  auto c = open("notes");
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 10));
  auto b = c->score_background();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  const std::vector<double> truth = cross_pairs(stored_vectors(db_path_, "notes"));
  ASSERT_EQ(truth.size(), 45u);
  ASSERT_EQ(b->pairs, 45u);  // all of them: fewer than the sample size
  EXPECT_NEAR(b->mean, mean(truth), 1e-5);
  EXPECT_NEAR(b->stddev, stddev(truth), 1e-5);
  EXPECT_FALSE(b->centered);

  auto hits = c->search("how do airplanes stay in the air?", by_meaning(10));
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 10u);
  for (const SearchHit& h : *hits) {
    ASSERT_TRUE(h.dense);
    EXPECT_NEAR(h.dense->percentile, percentile(truth, h.dense->score), 1e-3) << h.id;
    EXPECT_NEAR(h.dense->z, (h.dense->score - mean(truth)) / stddev(truth), 1e-4) << h.id;
  }
  // The answer stands out; the last hit is background.
  EXPECT_EQ((*hits)[0].id, "d0");
  EXPECT_GT((*hits)[0].dense->z, 2);
  EXPECT_LT(hits->back().dense->percentile, 50);

  // Hybrid: the dense side of each hit carries them too.
  auto hybrid = c->search("how do airplanes stay in the air?", testing::top(3));
  ASSERT_TRUE(hybrid.is_ok());
  ASSERT_TRUE((*hybrid)[0].dense);
  EXPECT_TRUE(std::isfinite((*hybrid)[0].dense->percentile));
}

TEST_F(CollectionScoresTest, ChunksOfOneDocumentAreNeverPaired) {
  CollectionSettings s;
  s.chunk_tokens = 8;  // each text in several chunks
  auto c = open("chunked", s);
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 3));
  const auto chunks = stored_vectors(db_path_, "chunked");
  ASSERT_GT(chunks.size(), 6u);
  auto b = c->score_background();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  const std::vector<double> truth = cross_pairs(chunks);
  EXPECT_LT(truth.size(), chunks.size() * (chunks.size() - 1) / 2);
  ASSERT_EQ(b->pairs, truth.size());
  for (size_t i = 0; i < truth.size(); ++i) EXPECT_NEAR(b->sample[i], truth[i], 1e-5);
}

TEST_F(CollectionScoresTest, FollowsWritesAndIsTheSameInEveryProcess) {
  auto c = open("notes");
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 8));
  auto before = c->score_background();
  ASSERT_TRUE(before.is_ok());
  EXPECT_EQ(before->pairs, 28u);
  add(*c, jsonl(8, 10));
  auto after = c->score_background();
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(after->pairs, 45u);
  EXPECT_NEAR(after->mean, mean(cross_pairs(stored_vectors(db_path_, "notes"))), 1e-5);
  // Reopened (as another process would): the same numbers.
  const ScoreBackground reopened = background_after_reopening(c, "notes");
  EXPECT_EQ(reopened.sample, after->sample);
  EXPECT_EQ(reopened.percentiles, after->percentiles);
}

TEST_F(CollectionScoresTest, ManyPairsAreSampledTheSameWayAfterReopening) {
  // 210 one-line documents: 21945 pairs, more than the 20000 sampled.
  std::string lines;
  const char* const subjects[] = {"The river", "My neighbour", "A small robot", "The old library", "Our team",
                                  "This recipe", "The comet"};
  const char* const verbs[] = {"floods", "remembers", "paints", "explains", "ignores", "celebrates"};
  const char* const objects[] = {"the harbour at night", "every birthday", "a forgotten song", "the tax rules",
                                 "winter vegetables"};
  size_t n = 0;
  for (const char* s : subjects)
    for (const char* v : verbs)
      for (const char* o : objects) {
        std::string id = "s";
        id += std::to_string(n++);
        lines += nlohmann::json({{"id", id}, {"text", std::string(s) + " " + v + " " + o + "."}}).dump();
        lines += "\n";
      }
  ASSERT_EQ(n, 210u);
  auto c = open("many");
  ASSERT_TRUE(c);
  add(*c, lines);
  auto b = c->score_background();
  ASSERT_TRUE(b.is_ok());
  ASSERT_EQ(b->pairs, 20000u);
  const std::vector<double> truth = cross_pairs(stored_vectors(db_path_, "many"));
  ASSERT_EQ(truth.size(), 21945u);
  EXPECT_NEAR(b->mean, mean(truth), 0.03 * stddev(truth));
  EXPECT_NEAR(b->stddev, stddev(truth), 0.03 * stddev(truth));
  const ScoreBackground reopened = background_after_reopening(c, "many");
  EXPECT_EQ(reopened.sample, b->sample);
  EXPECT_EQ(reopened.mean, b->mean);
}

TEST_F(CollectionScoresTest, TwoDocumentsAreTooFewForABackground) {
  auto c = open("pair");
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 2));
  auto hits = c->search("wings", by_meaning(2));
  ASSERT_TRUE(hits.is_ok());
  ASSERT_TRUE((*hits)[0].dense);
  EXPECT_TRUE(std::isnan((*hits)[0].dense->percentile));
  EXPECT_TRUE(std::isnan((*hits)[0].dense->z));
  auto b = c->score_background();
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->pairs, 1u);
  EXPECT_TRUE(b->percentiles.empty());
}

TEST_F(CollectionScoresTest, CentredScoresAreCosinesOfVectorsMinusTheMean) {
  auto c = open("notes");
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 10));
  const auto chunks = stored_vectors(db_path_, "notes");
  const std::vector<double> m = mean_of(chunks);
  const std::string query = "which animal sleeps all day?";
  auto qv = c->embedder()->embed({query}, c->info().query_prompt);
  ASSERT_TRUE(qv.is_ok());
  const std::vector<float> q = minus(unit(*qv), m);

  SearchOptions o = by_meaning(10);
  o.center = true;
  SearchReport report;
  auto hits = c->search(query, o, &report);
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 10u);
  const std::vector<double> truth = cross_pairs(chunks, &m);
  std::map<int64_t, size_t> chunk_of_document;  // one chunk per document, in id order
  for (size_t i = 0; i < chunks.size(); ++i) chunk_of_document[chunks[i].document] = i;
  ASSERT_EQ(chunk_of_document.size(), 10u);
  for (const SearchHit& h : *hits) {
    // d0..d9 were added in order, so their rows are in that order too.
    const size_t row = std::next(chunk_of_document.begin(), std::stoi(h.id.substr(1)))->second;
    const double expected = cosine(q, minus(chunks[row].v, m));
    EXPECT_NEAR(h.score, expected, 1e-4) << h.id;
    ASSERT_TRUE(h.dense);
    EXPECT_NEAR(h.dense->percentile, percentile(truth, h.dense->score), 1e-3) << h.id;
    EXPECT_NEAR(h.dense->z, (h.dense->score - mean(truth)) / stddev(truth), 1e-3) << h.id;
  }
  EXPECT_EQ((*hits)[0].id, "d4");
  auto centred = c->score_background(true);
  ASSERT_TRUE(centred.is_ok());
  EXPECT_TRUE(centred->centered);
  ASSERT_EQ(centred->center.size(), m.size());
  for (size_t i = 0; i < m.size(); ++i) ASSERT_NEAR(centred->center[i], m[i], 1e-6);
  EXPECT_NEAR(centred->mean, mean(truth), 1e-5);
  // Centring removes the common direction: centred pairs average below zero
  // while raw ones are positive.
  EXPECT_LT(centred->mean, c->score_background(false)->mean);
}

TEST_F(CollectionScoresTest, CenteringReportComparesWithThePlainTopK) {
  auto c = open("notes");
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 10));
  const std::string query = "food made from dough";
  for (SearchMode mode : {SearchMode::kDense, SearchMode::kHybrid}) {
    SearchOptions o = by_meaning(5);
    o.mode = mode;
    o.center = true;
    SearchReport report;
    auto centred = c->search(query, o, &report);
    ASSERT_TRUE(centred.is_ok()) << centred.status().message();
    ASSERT_TRUE(report.centering);
    // The dense rankings, plain and centred, as two dense searches give them.
    SearchOptions dense_centred = by_meaning(5);
    dense_centred.center = true;
    auto a = c->search(query, dense_centred);
    auto b = c->search(query, by_meaning(5));
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    size_t shared = 0;
    double moved = 0;
    for (size_t r = 0; r < b->size(); ++r)
      for (size_t s = 0; s < a->size(); ++s)
        if ((*b)[r].id == (*a)[s].id) {
          ++shared;
          moved += std::abs(double(r) - double(s));
        }
    EXPECT_EQ(report.centering->compared, 5u);
    EXPECT_EQ(report.centering->shared, shared);
    EXPECT_NEAR(report.centering->footrule, shared ? moved / double(shared) : 0, 1e-9);
    // Filters apply to both rankings.
    SearchOptions filtered = o;
    filtered.filter = "n != 2 AND n != 3";
    SearchReport fr;
    auto f = c->search(query, filtered, &fr);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    for (const SearchHit& h : *f) EXPECT_TRUE(h.id != "d2" && h.id != "d3") << h.id;
    ASSERT_TRUE(fr.centering);
    EXPECT_EQ(fr.centering->compared, 5u);
  }
  SearchReport plain;
  ASSERT_TRUE(c->search(query, by_meaning(5), &plain).is_ok());
  EXPECT_FALSE(plain.centering);
}

TEST_F(CollectionScoresTest, CenteringIsRefusedForL2) {
  CollectionSettings s;
  s.metric = "l2";
  auto c = open("far", s);
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 5));
  SearchOptions o = by_meaning(3);
  o.center = true;
  auto hits = c->search("wings", o);
  ASSERT_FALSE(hits.is_ok());
  EXPECT_EQ(hits.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(hits.status().message().find("l2"), std::string::npos) << hits.status().message();
  EXPECT_FALSE(c->score_background(true).is_ok());
  // Plain l2 scores are negative distances, and so is their background.
  auto plain = c->search("wings", by_meaning(3));
  ASSERT_TRUE(plain.is_ok());
  auto b = c->score_background();
  ASSERT_TRUE(b.is_ok());
  EXPECT_LT(b->mean, 0);
  EXPECT_TRUE(std::isfinite((*plain)[0].dense->z));
}

TEST_F(CollectionScoresTest, KeywordOnlyCollectionsHaveNoBackground) {
  CollectionSettings s;
  s.model = "none";
  auto c = open("words", s);
  ASSERT_TRUE(c);
  add(*c, jsonl(0, 4));
  auto b = c->score_background();
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("keyword-only"), std::string::npos);
  EXPECT_EQ(c->embedder(), nullptr);
}

}  // namespace
}  // namespace simile
