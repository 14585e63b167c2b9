// How a collection embeds its two sides: the query with the query prompt and
// documents with the document prompt (asymmetric search), prompts chosen as
// sentence-transformers' encode_query / encode_document choose them, and
// Matryoshka dimensions fixed at creation and kept for every later query.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"

namespace simile {
namespace {

using testing::derive_model_dir;
using testing::TempDir;
using testing::by_meaning;
using testing::cosine;
using testing::top;
using testing::write_bytes;

const char* kDocument = "An aircraft wing produces lift because air flows faster over its curved upper surface.";
const char* kQuery = "how do airplanes stay in the air?";

class CollectionEmbeddingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = dir_.file("docs.jsonl");
    write_bytes(input_, nlohmann::json({{"id", "wing"}, {"text", kDocument}}).dump() + "\n");
  }

  // A model directory beside the default model with this
  // config_sentence_transformers.json.
  std::string model_with(const nlohmann::json& st_config) {
    models_.push_back(std::make_unique<TempDir>());
    derive_model_dir(models_.back()->path(), {}, {{"config_sentence_transformers.json", st_config.dump()}});
    return models_.back()->str();
  }

  std::unique_ptr<Collection> open(const std::string& name, const CollectionSettings* create,
                                   const EmbedderOptions& runtime = {}) {
    auto db = Database::open(dir_.file("test.db"));
    EXPECT_TRUE(db.is_ok()) << db.status().message();
    if (!db.is_ok()) return nullptr;
    db_ = std::move(db).value();
    auto c = db_->open_collection(name, create, runtime);
    EXPECT_TRUE(c.is_ok()) << c.status().message();
    return c.is_ok() ? std::move(c).value() : nullptr;
  }

  // The one document's score for kQuery.
  float score(Collection& c) {
    IngestOptions ingest;
    ingest.id_field = "id";
    auto added = c.add({input_}, ingest);
    EXPECT_TRUE(added.is_ok()) << added.status().message();
    auto hits = c.search(kQuery, by_meaning(1));
    EXPECT_TRUE(hits.is_ok()) << hits.status().message();
    EXPECT_EQ(hits.is_ok() ? hits->size() : 0, 1u);
    return hits.is_ok() && !hits->empty() ? (*hits)[0].score : 0;
  }

  static std::vector<float> embed(const std::string& model, const std::string& text, const std::string& prompt,
                                  std::optional<size_t> dimensions = std::nullopt) {
    EmbedderOptions o;
    o.model = model;
    o.dimensions = dimensions;
    auto e = Embedder::open(o);
    EXPECT_TRUE(e.is_ok()) << e.status().message();
    if (!e.is_ok()) return {};
    auto v = (*e)->embed({text}, prompt);
    EXPECT_TRUE(v.is_ok()) << v.status().message();
    return v.is_ok() ? *v : std::vector<float>();
  }

  TempDir dir_;
  std::string input_;
  std::vector<std::unique_ptr<TempDir>> models_;
  std::unique_ptr<Database> db_;
};

TEST_F(CollectionEmbeddingTest, QueriesUseTheQueryPromptAndDocumentsTheDocumentPrompt) {
  const std::string qp = "Represent this question for finding passages that answer it: ";
  const std::string dp = "Represent this encyclopedia passage for retrieval: ";
  const std::string model = model_with({{"prompts", {{"query", qp}, {"document", dp}}}});
  CollectionSettings s;
  s.model = model;
  auto c = open("asym", &s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->info().query_prompt, qp);
  EXPECT_EQ(c->info().document_prompt, dp);
  const float got = score(*c);

  const auto q = embed(model, kQuery, qp), d = embed(model, kDocument, dp);
  EXPECT_NEAR(got, cosine(q, d), 1e-5);
  // Any other pairing of prompts scores differently, so the one above is the one used.
  const auto q_plain = embed(model, kQuery, ""), d_plain = embed(model, kDocument, "");
  const auto q_as_doc = embed(model, kQuery, dp), d_as_query = embed(model, kDocument, qp);
  for (double other : {cosine(q_plain, d_plain), cosine(q, d_plain), cosine(q_plain, d), cosine(q_as_doc, d),
                       cosine(q, d_as_query)})
    EXPECT_GT(std::abs(got - other), 1e-3) << got << " vs " << other;

  // Reopened, the stored prompts still apply.
  auto again = open("asym", nullptr);
  ASSERT_TRUE(again);
  auto hits = again->search(kQuery, by_meaning(1));
  ASSERT_TRUE(hits.is_ok() && hits->size() == 1u);
  EXPECT_NEAR((*hits)[0].score, got, 1e-6);
}

TEST_F(CollectionEmbeddingTest, PromptsChosenAsSentenceTransformersChoosesThem) {
  struct Case {
    nlohmann::json config;
    const char* query;
    const char* document;
  };
  const Case cases[] = {
      // encode_document tries document, passage, corpus.
      {{{"prompts", {{"query", "q: "}, {"corpus", "c: "}}}}, "q: ", "c: "},
      {{{"prompts", {{"passage", "p: "}, {"corpus", "c: "}}}}, "", "p: "},
      // Without a named one, encode() falls back to default_prompt_name.
      {{{"prompts", {{"retrieval", "Represent this text\nfor retrieval: "}, {"query", "q: "}}},
        {"default_prompt_name", "retrieval"}},
       "q: ",
       "Represent this text\nfor retrieval: "},
      {{{"prompts", {{"query", "q: "}}}}, "q: ", ""},
  };
  int n = 0;
  for (const Case& k : cases) {
    CollectionSettings s;
    s.model = model_with(k.config);
    auto c = open("c" + std::to_string(n++), &s);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->info().query_prompt, k.query) << k.config.dump();
    EXPECT_EQ(c->info().document_prompt, k.document) << k.config.dump();
  }
  // Settings given at creation win, newlines and all.
  CollectionSettings s;
  s.model = model_with({{"prompts", {{"query", "q: "}, {"document", "d: "}}}});
  s.query_prompt = "Instruct: find the passage that answers\nQuery: ";
  s.document_prompt = "";
  auto c = open("explicit", &s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->info().query_prompt, *s.query_prompt);
  EXPECT_EQ(c->info().document_prompt, "");
  const float got = score(*c);
  EXPECT_NEAR(got, cosine(embed(s.model, kQuery, *s.query_prompt), embed(s.model, kDocument, "")), 1e-5);
}

TEST_F(CollectionEmbeddingTest, DimensionsAreFixedAtCreationAndKeptForQueries) {
  const std::string model = testing::default_model_dir();
  CollectionSettings s;
  s.model = model;
  EmbedderOptions runtime;
  runtime.dimensions = 64;
  auto c = open("small", &s, runtime);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->info().dims, 64u);
  const float got = score(*c);
  EXPECT_NEAR(got, cosine(embed(model, kQuery, "", 64), embed(model, kDocument, "", 64)), 1e-5);
  EXPECT_GT(std::abs(got - cosine(embed(model, kQuery, ""), embed(model, kDocument, ""))), 1e-3);

  // Reopened without saying: still 64.
  auto again = open("small", nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->info().dims, 64u);
  auto hits = again->search(kQuery, by_meaning(1));
  ASSERT_TRUE(hits.is_ok() && hits->size() == 1u) << hits.status().message();
  EXPECT_NEAR((*hits)[0].score, got, 1e-6);

  // Asking for other dimensions is refused with the way to change them.
  auto db = Database::open(dir_.file("test.db"));
  ASSERT_TRUE(db.is_ok());
  runtime.dimensions = 32;
  auto other = (*db)->open_collection("small", &s, runtime);
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(other.status().message().find("64-dimensional"), std::string::npos) << other.status().message();
  EXPECT_NE(other.status().message().find("reembed"), std::string::npos) << other.status().message();

  // reembed with dimensions rebuilds at the new size.
  runtime.model = model;
  auto reembedded = again->reembed(runtime, IngestOptions());
  ASSERT_TRUE(reembedded.is_ok()) << reembedded.status().message();
  EXPECT_EQ(again->info().dims, 32u);
  auto small_hits = again->search(kQuery, by_meaning(1));
  ASSERT_TRUE(small_hits.is_ok() && small_hits->size() == 1u) << small_hits.status().message();
  EXPECT_NEAR((*small_hits)[0].score, cosine(embed(model, kQuery, "", 32), embed(model, kDocument, "", 32)), 1e-5);
}

}  // namespace
}  // namespace simile
