// Collections end to end through the public API, with the real default model
// and real SQLite files: ingest, search, filters, similar, related, reembed.
#include "simile/collection.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "../model/model_test_util.h"
#include "search_test_util.h"

namespace simile {
namespace {

using testing::by_meaning;
using testing::top;

using testing::TempDir;
using testing::write_bytes;

struct Doc {
  const char* id;
  const char* title;
  const char* text;
  int year;
  const char* lang;
};

const Doc kDocs[] = {
    {"wing", "Wings and lift", "An aircraft wing produces lift because air flows faster over its curved upper surface.",
     1995, "en"},
    {"jet", "Jet engines", "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards.", 2005,
     "en"},
    {"bread", "Baking bread", "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven.", 2010,
     "en"},
    {"pasta", "Fresh pasta", "Mix flour and eggs into a firm dough, roll it thin and cut it into noodles.", 2001,
     "it"},
    {"cat", "House cats", "Cats sleep most of the day and hunt small animals at dawn and dusk.", 1999, "en"},
    {"dog", "Dogs as pets", "Dogs need daily walks, play and training to stay happy and healthy.", 2015, "en"},
    {"python", "Python programming", "Python is a programming language known for readable code and rich libraries.",
     2020, "en"},
    {"sql", "SQL databases", "Relational databases store rows in tables and answer queries written in SQL.", 2012,
     "en"},
    {"moon", "The Moon", "The Moon orbits the Earth every 27 days and causes the ocean tides.", 1990, "en"},
    {"mars", "Mars", "Mars is a cold desert planet with the tallest volcano in the solar system.", 2018, "en"},
};

std::string docs_jsonl(const std::vector<Doc>& docs) {
  std::string out;
  for (const Doc& d : docs)
    out += nlohmann::json({{"id", d.id}, {"title", d.title}, {"text", d.text}, {"year", d.year}, {"lang", d.lang}})
               .dump() +
           "\n";
  return out;
}

class CollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.str() + "/test.db";
    input_ = dir_.str() + "/docs.jsonl";
    write_bytes(input_, docs_jsonl(std::vector<Doc>(std::begin(kDocs), std::end(kDocs))));
  }

  std::unique_ptr<Collection> open(const std::string& name, const CollectionSettings& s = {}) {
    auto db = Database::open(db_path_);
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    db_ = std::move(db).value();
    auto c = db_->open_collection(name, &s);
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    return c.is_ok() ? std::move(c).value() : nullptr;
  }

  static IngestOptions jsonl() {
    IngestOptions o;
    o.id_field = "id";
    return o;
  }

  static std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.id);
    return out;
  }

  TempDir dir_;
  std::string db_path_, input_;
  std::unique_ptr<Database> db_;
};

TEST_F(CollectionTest, AddsAndFindsDocumentsByMeaning) {
  auto c = open("notes");
  ASSERT_TRUE(c);
  auto s = c->add({input_}, jsonl());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->added, 10u);
  EXPECT_EQ(s->chunks, 10u);
  EXPECT_EQ(c->info().model, "all-MiniLM-L6-v2");
  EXPECT_EQ(c->info().dims, 384u);

  auto hits = c->search("how do airplanes stay in the air?", by_meaning(3));
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].id, "wing");
  EXPECT_EQ((*hits)[0].title, "Wings and lift");
  EXPECT_EQ((*hits)[0].chunk, kDocs[0].text);
  EXPECT_GE((*hits)[0].score, (*hits)[1].score);
  EXPECT_EQ(nlohmann::json::parse((*hits)[0].meta)["year"], 1995);

  auto pets = c->search("which animal sleeps all day?", by_meaning(1));
  ASSERT_TRUE(pets.is_ok());
  EXPECT_EQ((*pets)[0].id, "cat");
}

// A runnable copy of tests/golden/models/tiny-mistral (a decoder-only model)
// whose tokenizer_config.json is `tokenizer_config`.
std::string tiny_mistral_dir(const TempDir& dir, const std::string& tokenizer_config) {
  namespace fs = std::filesystem;
  const fs::path src = fs::path(testing::source_dir()) / "tests/golden/models/tiny-mistral";
  const fs::path dest = dir.path() / "tiny-mistral";
  fs::create_directories(dest / "1_Pooling");
  for (const char* f :
       {"config.json", "model.safetensors", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"})
    fs::create_symlink(src / f, dest / f);
  fs::create_symlink(fs::path(testing::shared_dir()) / "tokenizers/mistral-7b/tokenizer.json", dest / "tokenizer.json");
  write_bytes((dest / "tokenizer_config.json").string(), tokenizer_config);
  return dest.string();
}

// A server opens one collection per client's choice: they share one copy of
// the model rather than loading one each (a request must not cost 90 MB).
TEST_F(CollectionTest, CollectionsOfOneModelShareItsWeights) {
  auto a = open("first");
  ASSERT_TRUE(a);
  auto db = Database::open(db_path_);
  ASSERT_TRUE(db.is_ok());
  CollectionSettings settings;
  auto b = (*db)->open_collection("second", &settings);
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  ASSERT_NE(a->embedder(), nullptr);
  EXPECT_EQ(a->embedder(), (*b)->embedder());
  EmbedderOptions int8;
  int8.dtype = InferenceDtype::kInt8;
  auto c = (*db)->open_collection("third", &settings, int8);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_NE(a->embedder(), (*c)->embedder()) << "another precision is another model";
  auto s = (*b)->add({input_}, jsonl());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  SearchOptions one;
  one.k = 1;
  auto hits = (*b)->search("baking bread", one);
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 1u);
}

TEST_F(CollectionTest, ChunksLeaveRoomForTheModelsOwnSpecialTokens) {
  // max_seq_length 128: <s> text </s> leaves 126 tokens, text </s> 127, and a
  // document prompt takes its own tokens too.
  struct Case {
    const char* tokenizer_config;
    std::optional<std::string> prompt;
    size_t chunk_tokens;
  };
  const Case cases[] = {
      {R"({"tokenizer_class": "LlamaTokenizer", "add_eos_token": true})", std::nullopt, 126},
      {R"({"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "add_eos_token": true})", std::nullopt, 127},
      {R"({"tokenizer_class": "LlamaTokenizer", "add_eos_token": true})", std::string("passage: "), 126 - 3},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    TempDir models;
    CollectionSettings s;
    s.model = tiny_mistral_dir(models, cases[i].tokenizer_config);
    s.document_prompt = cases[i].prompt;
    auto c = open("tiny" + std::to_string(i), s);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->info().chunk_tokens, cases[i].chunk_tokens) << cases[i].tokenizer_config;
    EXPECT_EQ(c->info().pooling, "lasttoken");
    auto added = c->add({input_}, jsonl());
    ASSERT_TRUE(added.is_ok()) << added.status().message();
    EXPECT_EQ(added->chunks, 10u);
    auto hits = c->search("wings", top(3));
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    EXPECT_EQ(hits->size(), 3u);
    db_.reset();
  }
  // The default model's [CLS] ... [SEP] leave 256 - 2.
  EXPECT_EQ(open("mini")->info().chunk_tokens, 254u);
}

TEST_F(CollectionTest, UnchangedDocumentsAreSkippedAndChangedOnesReplaced) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  auto again = c->add({input_}, jsonl());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->unchanged, 10u);
  EXPECT_EQ(again->chunks, 0u);

  std::vector<Doc> docs(std::begin(kDocs), std::end(kDocs));
  docs[2].text = "Bread needs flour, water, salt and yeast; bake it until the crust is brown.";
  write_bytes(input_, docs_jsonl(docs));
  auto changed = c->add({input_}, jsonl());
  ASSERT_TRUE(changed.is_ok());
  EXPECT_EQ(changed->updated, 1u);
  EXPECT_EQ(changed->unchanged, 9u);
  auto info = db_->info("notes");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->documents, 10u);
  EXPECT_EQ(info->chunks, 10u);
  auto hits = c->search("yeast and salt", top(1));
  EXPECT_EQ((*hits)[0].chunk, docs[2].text);
}

TEST_F(CollectionTest, UpsertStoresDocumentsGivenInMemoryAndGetReadsThemBack) {
  auto c = open("notes");
  std::vector<DocumentInput> docs;
  for (const Doc& d : kDocs)
    docs.push_back({d.id, d.title, d.text, nlohmann::json({{"year", d.year}, {"lang", d.lang}}).dump()});
  auto added = c->upsert(docs, {});
  ASSERT_TRUE(added.is_ok()) << added.status().message();
  EXPECT_EQ(added->added, 10u);
  auto again = c->upsert(docs, {});
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->unchanged, 10u);
  // The same documents as add() reads from a file: same content, no change.
  auto from_file = c->add({input_}, jsonl());
  ASSERT_TRUE(from_file.is_ok());
  EXPECT_EQ(from_file->unchanged, 10u);

  auto pasta = c->get("pasta");
  ASSERT_TRUE(pasta.is_ok() && pasta->has_value());
  EXPECT_EQ((*pasta)->title, "Fresh pasta");
  EXPECT_EQ(nlohmann::json::parse((*pasta)->meta)["year"], 2001);
  auto none = c->get("nope");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(c->search("flour eggs noodles", top(1))->front().id, "pasta");

  // A bad document anywhere in the batch stores none of it.
  for (const std::vector<DocumentInput>& bad :
       {std::vector<DocumentInput>{{"new", "", "fine", ""}, {"", "", "no id", ""}},
        std::vector<DocumentInput>{{"new", "", "fine", ""}, {"x", "", "meta not an object", "[1]"}},
        std::vector<DocumentInput>{{"new", "", "fine", ""}, {"y", "", "meta not JSON", "{"}}}) {
    EXPECT_EQ(c->upsert(bad, {}).status().code(), Status::Code::kInvalidArgument);
    EXPECT_FALSE(c->get("new")->has_value());
  }
  EXPECT_EQ(db_->info("notes")->documents, 10u);
}

TEST_F(CollectionTest, FiltersApplyBeforeRanking) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  // Without the filter the aviation documents win; with it they are not even candidates.
  auto hits = c->search("aircraft", top(10, "year >= 2010 AND lang = \"en\""));
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  std::set<std::string> expected;
  for (const Doc& d : kDocs)
    if (d.year >= 2010 && std::string(d.lang) == "en") expected.insert(d.id);
  auto got = ids(*hits);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);

  auto none = c->search("aircraft", top(5, "year > 3000"));
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());

  auto bad = c->search("aircraft", top(5, "year >= "));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("filter"), std::string::npos) << bad.status().message();
}

TEST_F(CollectionTest, LongDocumentsAreChunkedAndTheBestChunkIsShown) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The committee discussed the annual budget and the parking rules at length. ";
  text += "\n\nA rare orchid blooms only once every seven years in the rainforest.";
  for (int i = 0; i < 40; ++i) text += " Minutes were approved and the meeting was adjourned.";
  write_bytes(input_, nlohmann::json({{"id", "minutes"}, {"text", text}}).dump() + "\n" + docs_jsonl({kDocs[0]}));
  auto c = open("long");
  auto s = c->add({input_}, jsonl());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_GT(s->chunks, 3u);
  auto hits = c->search("a flower that blooms rarely", by_meaning(2));
  ASSERT_TRUE(hits.is_ok());
  ASSERT_EQ(hits->size(), 2u);  // documents, not chunks: each once
  EXPECT_EQ((*hits)[0].id, "minutes");
  EXPECT_NE((*hits)[0].chunk.find("orchid"), std::string::npos) << (*hits)[0].chunk;
  EXPECT_LT((*hits)[0].chunk_end - (*hits)[0].chunk_begin, text.size());
}

TEST_F(CollectionTest, VectorTypesAgreeOnTheRanking) {
  std::map<std::string, std::vector<std::string>> results;
  for (const char* type : {"f32", "f16", "int8"}) {
    CollectionSettings s;
    s.vector_type = type;
    auto c = open(std::string("v_") + type, s);
    ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
    EXPECT_EQ(c->info().vector_type, type);
    for (const char* q : {"space and planets", "cooking dinner", "software"}) {
      auto hits = c->search(q, by_meaning(3));
      ASSERT_TRUE(hits.is_ok()) << hits.status().message();
      for (const auto& h : *hits) results[type].push_back(h.id);
    }
  }
  EXPECT_EQ(results["f16"], results["f32"]);
  EXPECT_EQ(results["int8"], results["f32"]);
}

TEST_F(CollectionTest, SimilarDocumentsExcludeTheDocumentItself) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  auto hits = c->similar("moon", top(3));
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 3u);
  // Every document is one chunk here, so the ranking must be the plain
  // cosine ranking of the texts' embeddings.
  auto embedder = Embedder::open({});
  ASSERT_TRUE(embedder.is_ok());
  std::vector<std::string> texts;
  for (const Doc& d : kDocs) texts.push_back(d.text);
  auto vecs = (*embedder)->embed(texts);
  ASSERT_TRUE(vecs.is_ok());
  std::vector<std::pair<float, std::string>> expected;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (std::string(kDocs[i].id) == "moon") continue;
    float dot = 0;
    for (size_t j = 0; j < 384; ++j) dot += (*vecs)[i * 384 + j] * (*vecs)[8 * 384 + j];
    expected.emplace_back(-dot, kDocs[i].id);
  }
  std::sort(expected.begin(), expected.end());
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ((*hits)[r].id, expected[r].second) << r;
    EXPECT_NEAR((*hits)[r].score, -expected[r].first, 1e-4) << r;
  }
  auto missing = c->similar("nope", top(2));
  EXPECT_FALSE(missing.is_ok());
}

TEST_F(CollectionTest, RelatedListsStayEqualToARebuildAfterChanges) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  ASSERT_TRUE(c->update_related(3).is_ok());
  auto first = c->related("wing");
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].id, "jet");

  // Changes: a new document, a changed one, a deleted one.
  std::vector<Doc> docs(std::begin(kDocs), std::end(kDocs));
  docs.push_back({"glider", "Gliders", "A glider is an aircraft with long wings that flies without an engine.", 2003,
                  "en"});
  docs[4].text = "Rockets carry astronauts beyond the atmosphere into orbit around the planet.";
  write_bytes(input_, docs_jsonl(docs));
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  ASSERT_TRUE(c->remove({"sql"}).is_ok());

  std::map<std::string, std::vector<std::string>> incremental;
  for (const Doc& d : docs)
    if (std::string(d.id) != "sql") incremental[d.id] = ids(*c->related(d.id));
  ASSERT_TRUE(c->update_related(3).is_ok());
  for (const auto& [id, list] : incremental) EXPECT_EQ(ids(*c->related(id)), list) << id;
  const auto& wing = incremental["wing"];
  EXPECT_NE(std::find(wing.begin(), wing.end(), "glider"), wing.end());

  // The table a website reads.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw,
                               "SELECT related_doc_id FROM related_documents WHERE collection = 'notes' AND "
                               "doc_id = 'wing' ORDER BY rank",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  std::vector<std::string> from_sql;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    from_sql.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  EXPECT_EQ(from_sql, incremental["wing"]);
}

TEST_F(CollectionTest, VectorsOfAnotherModelNeverMixAndReembedSwitches) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  // Another model: the default one with a different config.json.
  auto config = nlohmann::json::parse(testing::read_bytes(testing::default_model_dir() + "/config.json"));
  config["simile_test_variant"] = 1;
  const std::string other = dir_.str() + "/other-model";
  testing::derive_model_dir(other, {}, {{"config.json", config.dump()}});

  auto db = Database::open(db_path_);
  ASSERT_TRUE(db.is_ok());
  CollectionSettings with_other;
  with_other.model = other;
  auto mixed = (*db)->open_collection("notes", &with_other);
  ASSERT_FALSE(mixed.is_ok());
  EXPECT_NE(mixed.status().message().find("reembed"), std::string::npos) << mixed.status().message();

  EmbedderOptions target;
  target.model = other;
  auto s = c->reembed(target, {});
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto info = (*db)->info("notes");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->documents, 10u);
  EXPECT_EQ(info->model, other);
  auto reopened = (*db)->open_collection("notes", &with_other);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().message();
  auto hits = (*reopened)->search("how do airplanes stay in the air?", by_meaning(1));
  ASSERT_TRUE(hits.is_ok());
  EXPECT_EQ((*hits)[0].id, "wing");
  auto listed = (*db)->list();
  ASSERT_EQ(listed->size(), 1u);  // the hidden build collection is gone
}

// An interrupted reembed leaves its build behind; writes made before the
// next reembed resumes it must survive the swap: a deleted document stays
// deleted (found by the kill harness: it came back), a changed one changed.
TEST_F(CollectionTest, AResumedReembedKeepsWritesMadeSinceItWasInterrupted) {
  auto c = open("notes");
  ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  EmbedderOptions int8;
  int8.dtype = InferenceDtype::kInt8;
  IngestOptions stop_at_once;
  stop_at_once.commit_chunks = 2;
  stop_at_once.should_stop = [] { return true; };
  auto interrupted = c->reembed(int8, stop_at_once);
  ASSERT_TRUE(interrupted.is_ok()) << interrupted.status().message();
  ASSERT_TRUE(interrupted->interrupted);

  auto removed = c->remove({"wing", "jet"});
  ASSERT_TRUE(removed.is_ok());
  ASSERT_EQ(*removed, 2u);
  DocumentInput changed;
  changed.id = "bread";
  changed.text = "Sourdough needs a starter fed with flour and water for days.";
  ASSERT_TRUE(c->upsert({changed}, {}).is_ok());

  auto done = c->reembed(int8, {});
  ASSERT_TRUE(done.is_ok()) << done.status().message();
  EXPECT_FALSE(done->interrupted);
  for (const char* id : {"wing", "jet"}) {
    auto d = c->get(id);
    ASSERT_TRUE(d.is_ok());
    EXPECT_FALSE(d->has_value()) << id << " came back";
  }
  auto bread = c->get("bread");
  ASSERT_TRUE(bread.is_ok() && bread->has_value());
  EXPECT_EQ((*bread)->text, changed.text);
  auto db = Database::open(db_path_);
  ASSERT_TRUE(db.is_ok());
  auto info = (*db)->info("notes");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->documents, 8u);
  auto hits = c->search("sourdough starter", by_meaning(1));
  ASSERT_TRUE(hits.is_ok());
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].id, "bread");
}

TEST_F(CollectionTest, BadInputIsReportedAndSkippedOrStops) {
  write_bytes(input_, docs_jsonl({kDocs[0]}) + "{not json\n" + R"({"id": "empty", "text": "   "})" "\n" +
                          docs_jsonl({kDocs[1]}));
  auto c = open("bad");
  std::vector<std::string> problems;
  IngestOptions skip = jsonl();
  skip.on_error = OnError::kSkip;
  skip.on_problem = [&](const Status& st) { problems.push_back(st.message()); };
  auto s = c->add({input_}, skip);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->added, 2u);
  EXPECT_EQ(s->failed, 2u);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("docs.jsonl:2"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("docs.jsonl:3"), std::string::npos) << problems[1];

  auto c2 = open("strict");
  auto failed = c2->add({input_}, jsonl());
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.status().message().find("docs.jsonl:2"), std::string::npos) << failed.status().message();
  auto info = db_->info("strict");
  EXPECT_EQ(info->documents, 1u);  // the document before the bad line is kept
}

// Schema 3 files (before remote models) open as version 4: their
// collections get an empty `remote` and keep working.
TEST_F(CollectionTest, Schema3FilesAreUpgraded) {
  {
    auto c = open("notes");
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->add({input_}, jsonl()).is_ok());
  }
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "ALTER TABLE collections DROP COLUMN remote; "
                         "UPDATE simile_meta SET value = '3' WHERE key = 'schema_version'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto reopened = Database::open(db_path_);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().message();
  db_ = std::move(reopened).value();
  auto info = db_->info("notes");
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->remote, "");
  auto c = open("notes");
  ASSERT_TRUE(c);
  auto hits = c->search("rotate logs", by_meaning(1));
  ASSERT_TRUE(hits.is_ok()) << hits.status().message();
  EXPECT_EQ(hits->size(), 1u);
  db_.reset();
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT value FROM simile_meta WHERE key = 'schema_version'", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "4");
  sqlite3_finalize(s);
  sqlite3_close(raw);
}

TEST_F(CollectionTest, DatabasesOfOtherProgramsAndNewerVersionsAreRefused) {
  {
    auto c = open("notes");
    ASSERT_TRUE(c);
  }
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE simile_meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto newer = Database::open(db_path_);
  ASSERT_FALSE(newer.is_ok());
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos) << newer.status().message();

  const std::string other = dir_.str() + "/other.db";
  ASSERT_EQ(sqlite3_open(other.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto foreign = Database::open(other);
  ASSERT_FALSE(foreign.is_ok());
  EXPECT_NE(foreign.status().message().find("not a simile"), std::string::npos);

  write_bytes(dir_.str() + "/garbage.db", std::string(4096, 'x'));
  auto garbage = Database::open(dir_.str() + "/garbage.db");
  EXPECT_FALSE(garbage.is_ok());
}

TEST_F(CollectionTest, CollectionNamesAndSettingsAreChecked) {
  auto db = Database::open(db_path_);
  ASSERT_TRUE(db.is_ok());
  CollectionSettings s;
  EXPECT_FALSE((*db)->open_collection("../x", &s).is_ok());
  EXPECT_FALSE((*db)->open_collection("missing", nullptr).is_ok());
  s.metric = "manhattan";
  EXPECT_FALSE((*db)->open_collection("m", &s).is_ok());
  s = {};
  s.chunk_tokens = 100000;
  EXPECT_FALSE((*db)->open_collection("m", &s).is_ok());
  s = {};
  s.chunk_tokens = 64;
  s.overlap_tokens = 64;
  EXPECT_FALSE((*db)->open_collection("m", &s).is_ok());
  EXPECT_TRUE((*db)->list()->empty());  // nothing half-created
  EXPECT_FALSE((*db)->drop("missing").is_ok());
}

}  // namespace
}  // namespace simile
