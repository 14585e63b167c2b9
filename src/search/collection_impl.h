// The Database and Collection implementations (simile/collection.h), shared
// by the files that implement them: collection.cc (opening, writing,
// similar/related documents) and collection_search.cc (the query pipeline).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/keyword_index.h"
#include "search/collection_index.h"
#include "simile/collection.h"
#include "simile/reranker.h"
#include "store/ingest.h"
#include "store/store.h"
#include "text/analyzer.h"

namespace simile::search {

using store::CollectionRow;
using store::Store;

class CollectionImpl;

class DatabaseImpl : public Database {
 public:
  explicit DatabaseImpl(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  const std::string& path() const override { return store_->path(); }
  Result<std::vector<CollectionInfo>> list() override;
  Result<CollectionInfo> info(const std::string& name) override;
  Status drop(const std::string& name) override;
  Result<std::unique_ptr<Collection>> open_collection(const std::string& name, const CollectionSettings* create_with,
                                                      const EmbedderOptions& runtime) override;
  Store& store() { return *store_; }

  // Opens (and with `create_with`, creates) a collection under any name,
  // including the hidden ones reembed builds.
  Result<std::unique_ptr<CollectionImpl>> open_impl(const std::string& name, const CollectionSettings* create_with,
                                                    const EmbedderOptions& runtime);

 private:
  std::unique_ptr<Store> store_;
};

class CollectionImpl : public Collection {
 public:
  CollectionImpl(DatabaseImpl* db, CollectionRow row, std::shared_ptr<const Embedder> embedder,
                 std::unique_ptr<Tokenizer> chunk_tokenizer, std::unique_ptr<text::Analyzer> analyzer)
      : db_(db),
        row_(std::move(row)),
        embedder_(std::move(embedder)),
        chunk_tokenizer_(std::move(chunk_tokenizer)),
        analyzer_(std::move(analyzer)) {}

  const CollectionInfo& info() const override { return row_.info; }
  const Embedder* embedder() const override { return embedder_.get(); }
  Result<IngestSummary> add(const std::vector<std::string>& inputs, const IngestOptions& options) override;
  Result<IngestSummary> upsert(const std::vector<DocumentInput>& documents, const IngestOptions& options) override;
  Result<std::optional<DocumentInput>> get(const std::string& id) override;
  Result<size_t> remove(const std::vector<std::string>& ids) override;
  Result<std::vector<SearchHit>> search(const std::string& query, const SearchOptions& options,
                                        SearchReport* report) override;
  Result<std::vector<SearchHit>> similar(const std::string& id, const SearchOptions& options) override;
  Result<RelatedSummary> update_related(size_t k) override;
  Result<std::vector<SearchHit>> related(const std::string& id) override;
  Result<IngestSummary> reembed(const EmbedderOptions& model, const IngestOptions& options) override;
  Result<KeywordIndexInfo> keyword_index_info() override;
  Result<KeywordIndexInfo> rebuild_keyword_index(const std::string& analyzer) override;
  Result<ScoreBackground> score_background(bool centered) override;
  Result<VectorIndexSettings> vector_index_settings() override { return db_->store().vector_index_settings(row_.id); }
  Result<VectorIndexInfo> vector_index_info() override;
  Result<VectorIndexInfo> build_vector_index(const std::optional<VectorIndexSettings>& settings,
                                             int threads) override;

  void set_threads(int threads) { threads_ = threads; }
  void set_index_progress(std::function<void(size_t done, size_t total)> progress) override {
    index_progress_ = std::move(progress);
  }

  store::IngestTarget target() {
    store::IngestTarget t;
    t.store = &db_->store();
    t.collection = &row_;
    t.embedder = embedder_.get();
    t.chunk_tokenizer = chunk_tokenizer_.get();
    t.analyzer = analyzer_.get();
    t.keep_related = row_.info.related_k > 0;
    return t;
  }

 private:
  Result<CollectionIndex*> index();  // loaded, and reloaded when the store changed
  Status reload_row();
  // After a write: loads the graph (caught up and saved) when the collection
  // searches through one, so the next search opens a fresh file.
  Status catch_up_graph();
  Status refresh_related_lists();
  Result<std::vector<int64_t>> allowed_documents(const std::string& filter);
  Result<SearchHit> hit(int64_t document, int64_t chunk, float score, bool snippet = true);
  Result<keyword::KeywordIndex*> keyword_index();  // caught up, loaded, reloaded when the store changed
  Status require_vectors(const char* what) const;
  Status check_centering() const;  // refused for l2

  // The query pipeline's pieces (collection_search.cc).
  struct Candidate;
  Result<std::vector<DocumentHit>> dense_candidates(const std::string& query, const SearchOptions& options,
                                                    size_t depth, const std::vector<int64_t>* allowed,
                                                    SearchReport& report);
  // Rank and score, placed in the background of the last dense_candidates().
  DenseScore dense_score(size_t rank, float score) const;
  // The text a candidate shows and is re-ranked on: its dense best chunk, else
  // the chunk holding the most query-term weight.
  Status passage(Candidate& c, const std::vector<keyword::QueryTerm>& terms, const keyword::RankingParams& params,
                 keyword::KeywordIndex* kidx);
  Result<Reranker*> open_reranker(const std::string& model);  // opened on first use, kept for later queries
  // The LLM judge's stage (options.rerank "llm:URL"): reorders `candidates`
  // by its verdicts on the first `top`; returns how many it judged.
  Result<size_t> judge_candidates(const std::string& query, const SearchOptions& options, size_t top,
                                  const std::vector<keyword::QueryTerm>& terms, const keyword::RankingParams& params,
                                  keyword::KeywordIndex* kidx, std::vector<Candidate>& candidates);

  DatabaseImpl* db_;
  CollectionRow row_;
  std::shared_ptr<const Embedder> embedder_;    // null for keyword-only collections
  std::unique_ptr<Tokenizer> chunk_tokenizer_;  // null for keyword-only collections
  std::unique_ptr<text::Analyzer> analyzer_;
  std::unique_ptr<CollectionIndex> index_;
  std::shared_ptr<const ScoreBackground> dense_background_;  // of the last dense_candidates()
  std::unique_ptr<keyword::KeywordIndex> keyword_;
  int64_t keyword_generation_ = -1;
  std::unique_ptr<Reranker> reranker_;
  std::string reranker_model_;
  int threads_ = 0;
  std::function<void(size_t done, size_t total)> index_progress_;  // the runtime's (EmbedderOptions::threads), for the re-ranker
};


}  // namespace simile::search
