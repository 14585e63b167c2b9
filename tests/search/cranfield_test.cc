// The Cranfield collection (../shared/data/cranfield: 1400 aeronautics
// abstracts, 225 queries with judged relevant documents) ingested with the
// real default model and searched end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../model/model_test_util.h"
#include "search_test_util.h"
#include "simile/collection.h"

namespace simile {
namespace {

using testing::by_meaning;
using testing::top;

struct Query {
  std::string id, text;
};

std::vector<Query> read_queries(const std::string& path) {
  std::vector<Query> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    out.push_back({j["_id"].get<std::string>(), j["text"].get<std::string>()});
  }
  return out;
}

std::map<std::string, std::set<std::string>> read_qrels(const std::string& path) {
  std::map<std::string, std::set<std::string>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string q, d, score;
    row >> q >> d >> score;
    out[q].insert(d);
  }
  return out;
}

TEST(Cranfield, IngestsAllAbstractsAndFindsJudgedDocuments) {
  const std::string data = testing::shared_dir() + "/data/cranfield";
  testing::TempDir dir;
  auto db = Database::open(dir.str() + "/cran.db");
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  CollectionSettings settings;
  auto c = (*db)->open_collection("cranfield", &settings);
  ASSERT_TRUE(c.is_ok()) << c.status().message();

#ifdef SIMILE_SANITIZED
  // Sanitizer builds check the same paths for memory errors on a slice: the
  // first 300 abstracts (with empty document 471 outside it) and 20 queries.
  const size_t kDocuments = 300, kQueries = 20;
#else
  const size_t kDocuments = 1400, kQueries = 225;
#endif
  std::string corpus = data + "/corpus.jsonl";
  if (kDocuments < 1400) {
    std::ifstream in(corpus);
    std::string lines, line;
    for (size_t i = 0; i < kDocuments && std::getline(in, line); ++i) lines += line + "\n";
    corpus = dir.str() + "/corpus.jsonl";
    testing::write_bytes(corpus, lines);
  }

  IngestOptions options;
  options.id_field = "_id";
  options.on_error = OnError::kSkip;
  std::vector<std::string> problems;
  options.on_problem = [&](const Status& st) { problems.push_back(st.message()); };
  auto s = (*c)->add({corpus}, options);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  const auto queries = read_queries(data + "/queries.jsonl");
  const auto qrels = read_qrels(data + "/qrels/test.tsv");
  ASSERT_EQ(queries.size(), 225u);
  if (kDocuments < 1400) {
    EXPECT_EQ(s->added, kDocuments);
    for (size_t i = 0; i < kQueries; ++i) {
      auto hits = (*c)->search(queries[i].text, by_meaning(10));
      ASSERT_TRUE(hits.is_ok()) << hits.status().message();
      EXPECT_EQ(hits->size(), 10u);
    }
    return;
  }
  // Documents 471 and 995 are empty in the source (README.md there).
  EXPECT_EQ(s->added, 1398u);
  EXPECT_EQ(s->failed, 2u);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("corpus.jsonl:471"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("corpus.jsonl:995"), std::string::npos) << problems[1];
  EXPECT_GE(s->chunks, 1398u);
  double mrr = 0;
  size_t hit_at_10 = 0;
  for (const Query& q : queries) {
    auto hits = (*c)->search(q.text, by_meaning(10));
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    ASSERT_EQ(hits->size(), 10u);
    const auto& relevant = qrels.at(q.id);
    for (size_t r = 0; r < hits->size(); ++r) {
      if (relevant.count((*hits)[r].id) != 0) {
        mrr += 1.0 / static_cast<double>(r + 1);
        ++hit_at_10;
        break;
      }
    }
  }
  mrr /= static_cast<double>(queries.size());
  std::printf("cranfield all-MiniLM-L6-v2 dense: MRR@10 = %.4f, queries with a relevant document in the top 10: %zu/225\n",
              mrr, hit_at_10);
  // Measured 0.527 (194/225) with this model; a broken chunker, pooling or
  // index drops it far below.
  EXPECT_GT(mrr, 0.51);
  EXPECT_GT(hit_at_10, 185u);

  // Query 1 (aeroelastic models of heated high speed aircraft): its judged
  // documents include 184 and 29-31; the top results must hold one.
  auto first = (*c)->search(queries[0].text, by_meaning(5));
  ASSERT_TRUE(first.is_ok());
  bool found = false;
  for (const auto& h : *first) found |= qrels.at("1").count(h.id) != 0;
  EXPECT_TRUE(found);

  // simile eval and trec_eval order a run by score, not by the returned
  // order: every mode's final score must fall in that order (RRF ties often).
  std::vector<std::pair<std::string, SearchOptions>> modes;
  SearchOptions top100;
  top100.k = 100;
  top100.snippets = false;
  for (SearchMode m : {SearchMode::kDense, SearchMode::kBm25, SearchMode::kHybrid}) {
    top100.mode = m;
    modes.push_back({search_mode_name(m), top100});
  }
  for (auto n : {Fusion::Normalization::kMinMax, Fusion::Normalization::kZScore}) {
    SearchOptions o = top100;
    o.fusion.method = Fusion::Method::kWeighted;
    o.fusion.normalization = n;
    modes.push_back({std::string("hybrid weighted ") + normalization_name(n), o});
  }
  for (const auto& [name, o] : modes) {
    size_t out_of_order = 0;
    for (const Query& q : queries) {
      auto hits = (*c)->search(q.text, o);
      ASSERT_TRUE(hits.is_ok()) << name << ": " << hits.status().message();
      for (size_t r = 1; r < hits->size(); ++r) out_of_order += (*hits)[r - 1].score < (*hits)[r].score;
    }
    EXPECT_EQ(out_of_order, 0u) << name;
  }

  // Real embeddings through an HNSW graph (M 8, a small beam: a graph this
  // size is otherwise searched exhaustively): recall of the exact top 10
  // documents, and a ranking quality no worse than the exact one's.
  std::vector<std::vector<std::string>> exact;
  for (const Query& q : queries) {
    auto hits = (*c)->search(q.text, by_meaning(10));
    ASSERT_TRUE(hits.is_ok());
    exact.emplace_back();
    for (const auto& h : *hits) exact.back().push_back(h.id);
  }
  VectorIndexSettings graph;
  graph.kind = "hnsw";
  graph.M = 8;
  graph.ef_construction = 64;
  auto built = (*c)->build_vector_index(graph);
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  ASSERT_EQ(built->active, "hnsw");
  for (size_t ef : {size_t{10}, size_t{128}}) {
    SearchOptions o = by_meaning(10);
    o.ef = ef;
    size_t found = 0, wanted = 0;
    double graph_mrr = 0;
    for (size_t i = 0; i < queries.size(); ++i) {
      auto hits = (*c)->search(queries[i].text, o);
      ASSERT_TRUE(hits.is_ok());
      const std::set<std::string> want(exact[i].begin(), exact[i].end());
      wanted += want.size();
      for (const auto& h : *hits) found += want.count(h.id);
      for (size_t r = 0; r < hits->size(); ++r) {
        if (qrels.at(queries[i].id).count((*hits)[r].id) != 0) {
          graph_mrr += 1.0 / static_cast<double>(r + 1);
          break;
        }
      }
    }
    graph_mrr /= static_cast<double>(queries.size());
    const double recall = static_cast<double>(found) / static_cast<double>(wanted);
    std::printf("cranfield HNSW M 8 ef %zu: recall@10 of the exact documents %.4f, MRR@10 %.4f\n", ef, recall,
                graph_mrr);
    EXPECT_GE(recall, ef >= 128 ? 0.99 : 0.9) << "ef " << ef;
    if (ef >= 128) {
      EXPECT_NEAR(graph_mrr, mrr, 0.005);
    }
  }
}

}  // namespace
}  // namespace simile
