// A collection's vector index through the public API, with the real default
// model and real files: exact or HNSW by settings and size, the graph file
// beside the store kept in step with writes, and a missing, stale, corrupt or
// foreign file rebuilt or caught up instead of trusted.
#include "simile/collection.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../model/model_test_util.h"
#include "search/collection_graph.h"
#include "search_test_util.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using testing::by_meaning;
using testing::TempDir;
using testing::write_bytes;

const char* const kSubjects[] = {"The pilot", "A baker", "My cat", "The engineer", "A farmer", "The teacher"};
const char* const kActions[] = {"repairs", "paints", "sells", "studies", "carries", "forgets"};
const char* const kObjects[] = {"an old wing", "fresh bread", "a red ball", "the engine", "wet hay", "a map"};

// "d<n>", built without operator+(const char*, string&&), which GCC 12's
// -Wrestrict misreads.
std::string corpus_id(size_t n) {
  std::string id = "d";
  id += std::to_string(n);
  return id;
}

// Documents built from every subject, action and object (216 sentences):
// enough that ranking by graph and by exhaustive scan could differ.
std::string corpus(size_t first, size_t count, const std::string& prefix = "d") {
  std::string out;
  size_t n = 0;
  for (const char* s : kSubjects)
    for (const char* a : kActions)
      for (const char* o : kObjects) {
        if (n >= first && n < first + count)
          out += nlohmann::json({{"id", prefix + std::to_string(n)},
                                 {"text", std::string(s) + " " + a + " " + o + "."},
                                 {"shelf", static_cast<int>(n % 4)}})
                     .dump() +
                 "\n";
        ++n;
      }
  return out;
}

const char* const kQueries[] = {"someone fixing an aircraft", "bread from the bakery", "a pet playing",
                                "farm work in the field", "lost directions"};

class VectorIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collection> open(const std::string& name = "c", const CollectionSettings& s = {}) {
    return testing::open_test_collection(db_, db_path(), name, s);
  }
  // The collection as a new process sees it (the old handle goes first: it
  // must not outlive its database).
  void reopen(std::unique_ptr<Collection>& c, const std::string& name = "c") {
    c.reset();
    c = open(name);
    ASSERT_TRUE(c);
  }
  std::string db_path() const { return dir_.str() + "/v.db"; }

  // Adds corpus documents [first, first + count).
  void add(Collection& c, size_t first, size_t count, const std::string& prefix = "d") {
    const std::string file = dir_.file("in-" + std::to_string(files_++) + ".jsonl");
    write_bytes(file, corpus(first, count, prefix));
    IngestOptions o;
    o.id_field = "id";
    auto s = c.add({file}, o);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
  }

  static VectorIndexSettings settings(const std::string& kind, size_t threshold = 100000) {
    VectorIndexSettings s;
    s.kind = kind;
    s.threshold = threshold;
    return s;
  }

  static std::vector<SearchHit> search(Collection& c, const std::string& q, SearchOptions o = by_meaning(10)) {
    auto r = c.search(q, o);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? r.value() : std::vector<SearchHit>{};
  }

  // Every query's dense top 10 through the graph equals exact search's (a
  // beam as wide as the collection makes the walk exhaustive).
  static void expect_same_as_exact(Collection& c, const std::string& filter = "") {
    auto exact = c.build_vector_index(settings("flat"));
    ASSERT_TRUE(exact.is_ok()) << exact.status().message();
    std::vector<std::vector<SearchHit>> want;
    for (const char* q : kQueries) want.push_back(search(c, q, by_meaning(10, filter)));
    auto graph = c.build_vector_index(settings("hnsw"));
    ASSERT_TRUE(graph.is_ok()) << graph.status().message();
    ASSERT_EQ(graph.value().active, "hnsw");
    for (size_t i = 0; i < std::size(kQueries); ++i) {
      const std::vector<SearchHit> got = search(c, kQueries[i], by_meaning(10, filter));
      ASSERT_EQ(got.size(), want[i].size()) << kQueries[i];
      for (size_t j = 0; j < got.size(); ++j) {
        EXPECT_EQ(got[j].id, want[i][j].id) << kQueries[i] << " #" << j;
        EXPECT_NEAR(got[j].score, want[i][j].score, 1e-6);
        ASSERT_TRUE(got[j].dense && want[i][j].dense);
        EXPECT_NEAR(got[j].dense->percentile, want[i][j].dense->percentile, 1e-4) << "same background";
      }
    }
  }

  VectorIndexInfo info(Collection& c) {
    auto i = c.vector_index_info();
    EXPECT_TRUE(i.is_ok()) << i.status().message();
    return i.is_ok() ? i.value() : VectorIndexInfo{};
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  int files_ = 0;
};

TEST_F(VectorIndexTest, GraphSearchRanksAsExactSearchForEveryVectorType) {
  for (const char* type : {"f32", "f16", "int8"}) {
    CollectionSettings s;
    s.vector_type = type;
    auto c = open(std::string("c-") + type, s);
    ASSERT_TRUE(c);
    add(*c, 0, 216);
    expect_same_as_exact(*c);
    expect_same_as_exact(*c, "shelf = 2");
    const VectorIndexInfo i = info(*c);
    EXPECT_EQ(i.nodes, 216u);
    EXPECT_EQ(i.tombstones, 0u);
    EXPECT_TRUE(fs::exists(i.path));
    EXPECT_GT(i.file_bytes, 0u);
  }
}

TEST_F(VectorIndexTest, AutoSwitchesToTheGraphAtTheThresholdAndBack) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->build_vector_index(settings("auto", 100)).is_ok());
  add(*c, 0, 60);
  EXPECT_EQ(info(*c).active, "flat");
  EXPECT_FALSE(fs::exists(search::graph_path(db_path(), 1)));
  add(*c, 60, 60);  // 120 chunks: the write itself builds and saves the graph
  VectorIndexInfo i = info(*c);
  EXPECT_EQ(i.active, "hnsw");
  EXPECT_EQ(i.nodes, 120u);
  EXPECT_TRUE(fs::exists(i.path));
  std::vector<std::string> gone;
  for (int n = 0; n < 40; ++n) gone.push_back(corpus_id(n));
  ASSERT_TRUE(c->remove(gone).is_ok());
  EXPECT_EQ(info(*c).active, "flat");
  EXPECT_FALSE(fs::exists(i.path)) << "a graph below the threshold would only go stale";
}

TEST_F(VectorIndexTest, WritesKeepTheFileInStepAndDeletedDocumentsNeverComeBack) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  add(*c, 0, 150);
  reopen(c);
  EXPECT_EQ(info(*c).load, "opened") << "the write saved the graph";
  add(*c, 150, 40);
  std::vector<std::string> gone = {"d0", "d1", "d2", "d40", "d41"};
  ASSERT_TRUE(c->remove(gone).is_ok());
  // Replace a document: its old chunk becomes a tombstone, the new one a node.
  const std::string changed = dir_.file("changed.jsonl");
  write_bytes(changed, R"({"id":"d7","text":"A violinist tunes a cello before the concert."})" "\n");
  IngestOptions o;
  o.id_field = "id";
  ASSERT_TRUE(c->add({changed}, o).is_ok());

  // A new process opens the file as saved by the last write.
  reopen(c);
  const VectorIndexInfo i = info(*c);
  EXPECT_EQ(i.load, "opened");
  EXPECT_EQ(i.chunks, 185u);
  EXPECT_EQ(i.nodes - i.tombstones, 185u);
  EXPECT_EQ(i.tombstones, 6u);
  const std::set<std::string> removed(gone.begin(), gone.end());
  for (const char* q : kQueries)
    for (const SearchHit& h : search(*c, q, by_meaning(50))) EXPECT_EQ(removed.count(h.id), 0u) << h.id;
  const std::vector<SearchHit> music = search(*c, "a musician with a string instrument", by_meaning(1));
  ASSERT_EQ(music.size(), 1u);
  EXPECT_EQ(music[0].id, "d7");
  expect_same_as_exact(*c);
}

TEST_F(VectorIndexTest, DeletesAreRepairedAroundAndCompactedAway) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  add(*c, 0, 200);
  std::vector<std::string> gone;
  for (size_t n = 0; n < 20; ++n) gone.push_back(corpus_id(n * 3));
  ASSERT_TRUE(c->remove(gone).is_ok());  // 10%: tombstones, relinked around
  reopen(c);
  VectorIndexInfo i = info(*c);
  EXPECT_EQ(i.tombstones, 20u);
  expect_same_as_exact(*c);
  reopen(c);
  gone.clear();
  for (size_t n = 0; n < 40; ++n) gone.push_back(corpus_id(n * 3 + 1));
  ASSERT_TRUE(c->remove(gone).is_ok());  // 30% dead: a new graph without them
  reopen(c);
  i = info(*c);
  EXPECT_EQ(i.load, "opened");
  EXPECT_EQ(i.tombstones, 0u);
  EXPECT_EQ(i.nodes, 140u);
  expect_same_as_exact(*c);
}

TEST_F(VectorIndexTest, StaleMissingCorruptAndForeignFilesAreNeverTrusted) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  add(*c, 0, 120);
  const std::string path = info(*c).path;
  const std::string saved = path + ".saved";
  fs::copy_file(path, saved);

  // Stale: writes the file never saw (as after a kill -9 between the commit
  // and the save) are caught up by chunk ids.
  add(*c, 120, 30);
  ASSERT_TRUE(c->remove({"d3", "d4"}).is_ok());
  fs::copy_file(saved, path, fs::copy_options::overwrite_existing);
  reopen(c);
  VectorIndexInfo i = info(*c);
  EXPECT_EQ(i.load, "caught up (+30 -2)");
  EXPECT_EQ(i.nodes - i.tombstones, 148u);
  reopen(c);
  EXPECT_EQ(info(*c).load, "opened") << "the caught-up graph was saved";
  expect_same_as_exact(*c);

  // Missing.
  fs::remove(path);
  reopen(c);
  EXPECT_EQ(info(*c).load, "built (no file)");

  // Corrupt: one flipped byte in the middle.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x5a');
  }
  reopen(c);
  i = info(*c);
  EXPECT_NE(i.load.find("built (HNSW index"), std::string::npos) << i.load;
  EXPECT_NE(i.load.find("corrupt"), std::string::npos) << i.load;
  expect_same_as_exact(*c);

  // Foreign: another collection's graph (other ids) is caught up or rebuilt,
  // never used as is.
  reopen(c, "other");
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  add(*c, 0, 120, "o");
  const std::string foreign = dir_.file("foreign.hnsw");
  fs::copy_file(info(*c).path, foreign);
  fs::copy_file(foreign, path, fs::copy_options::overwrite_existing);
  reopen(c);
  i = info(*c);
  EXPECT_EQ(i.load, "built (too much changed to catch up)");
  EXPECT_EQ(i.nodes, 148u);

  // Another store's graph at the same generation: the ids give it away.
  const std::string other_db = dir_.file("other.db");
  const int64_t generation = info(*c).store_generation;
  {
    std::unique_ptr<Database> odb;
    auto o = testing::open_test_collection(odb, other_db, "c", {});
    ASSERT_TRUE(o);
    ASSERT_TRUE(o->build_vector_index(settings("hnsw")).is_ok());
    for (size_t n = 0; info(*o).store_generation < generation; n += 10) add(*o, n, 10, "x");
    const VectorIndexInfo oi = info(*o);
    ASSERT_EQ(oi.store_generation, generation) << "the test needs equal generations";
    fs::copy_file(oi.path, path, fs::copy_options::overwrite_existing);
    o.reset();
  }
  reopen(c);
  EXPECT_EQ(info(*c).load, "built (too much changed to catch up)");

  // Other settings.
  VectorIndexSettings m8 = settings("hnsw");
  m8.M = 8;
  ASSERT_TRUE(c->build_vector_index(m8).is_ok());
  i = info(*c);
  EXPECT_EQ(i.settings.M, 8u);
  fs::copy_file(foreign, path, fs::copy_options::overwrite_existing);
  reopen(c);
  EXPECT_EQ(info(*c).load, "built (the settings changed)");
}

TEST_F(VectorIndexTest, AReadOnlyDirectoryStillSearches) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes to read-only directories";
  auto c = open();
  ASSERT_TRUE(c);
  add(*c, 0, 50);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  fs::remove(info(*c).path);
  chmod(dir_.str().c_str(), 0555);
  reopen(c);
  EXPECT_EQ(search(*c, kQueries[0]).size(), 10u);
  EXPECT_NE(info(*c).load.find("not saved"), std::string::npos);
  chmod(dir_.str().c_str(), 0755);
}

TEST_F(VectorIndexTest, DropRemovesTheGraphFile) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  add(*c, 0, 30);
  const std::string path = info(*c).path;
  ASSERT_TRUE(fs::exists(path));
  c.reset();
  ASSERT_TRUE(db_->drop("c").is_ok());
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(VectorIndexTest, SettingsAreChecked) {
  auto c = open();
  ASSERT_TRUE(c);
  VectorIndexSettings bad = settings("annoy");
  EXPECT_EQ(c->build_vector_index(bad).status().code(), Status::Code::kInvalidArgument);
  bad = settings("hnsw");
  bad.M = 1;
  EXPECT_EQ(c->build_vector_index(bad).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(info(*c).settings.kind, "auto") << "nothing stored";
  CollectionSettings keyword_only;
  keyword_only.model = "none";
  c.reset();
  auto k = open("words", keyword_only);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->vector_index_info().is_ok());
}

TEST_F(VectorIndexTest, ChunkIdsAreNeverReused) {
  // A graph is caught up by chunk ids: an id handed out again after a delete
  // would make a replaced vector look unchanged.
  auto c = open();
  ASSERT_TRUE(c);
  add(*c, 0, 5);
  ASSERT_TRUE(c->remove({"d4"}).is_ok());
  add(*c, 5, 1);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT max(id), count(*) FROM chunks", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 6) << "d5's chunk takes 6, not d4's freed 5";
  EXPECT_EQ(sqlite3_column_int64(s, 1), 5);
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST_F(VectorIndexTest, ASchemaTwoFileIsUpgradedWithoutReusingItsChunkIds) {
  {
    auto c = open();
    ASSERT_TRUE(c);
    add(*c, 0, 5);
  }
  db_.reset();
  // What simile wrote before the vector index settings existed.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE vector_index; DELETE FROM simile_meta WHERE key = 'chunk_id_high_water'; "
                         "ALTER TABLE collections DROP COLUMN remote; "
                         "UPDATE simile_meta SET value = '2' WHERE key = 'schema_version'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_EQ(info(*c).settings.kind, "auto");
  ASSERT_TRUE(c->remove({"d4"}).is_ok());
  add(*c, 5, 1);
  ASSERT_TRUE(c->build_vector_index(settings("hnsw")).is_ok());
  EXPECT_EQ(search(*c, kQueries[0]).size(), 5u);
  c.reset();
  db_.reset();
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT max(id) FROM chunks", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 6);
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

}  // namespace
}  // namespace simile
