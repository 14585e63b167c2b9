// The query pipeline of a collection (VISION: query -> embed + analyze ->
// dense / BM25 candidates -> fusion -> rerank -> results), each stage timed
// into a SearchReport.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "search/collection_impl.h"
#include "search/fusion.h"
#include "search/keyword_search.h"
#include "search/llm_judge.h"
#include "search/mmr.h"
#include "text/utf8.h"

namespace simile::search {

namespace {

constexpr size_t kDefaultCandidates = 100;
constexpr size_t kDefaultRerankTop = 50;
// An LLM's verdicts cost a request each.
constexpr size_t kDefaultLlmRerankTop = 5;

// Milliseconds since construction, for the report's stages.
class StageTimer {
 public:
  StageTimer() : start_(std::chrono::steady_clock::now()) {}
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Each query term's part of a document's keyword score, as SearchHit shows it.
std::vector<TermScore> term_scores(const keyword::KeywordIndex& index, int64_t document,
                                   const std::vector<keyword::QueryTerm>& terms, const keyword::RankingParams& params) {
  std::vector<TermScore> out;
  for (keyword::TermContribution& t : index.explain(document, terms, params))
    out.push_back({std::move(t.term), t.query_count, t.document_count, t.df, t.idf, t.score});
  return out;
}

void add_stage(SearchReport& report, const char* name, const StageTimer& timer, size_t items) {
  report.stages.push_back({name, timer.ms(), items});
}

}  // namespace

// A document on its way through the stages.
struct CollectionImpl::Candidate {
  int64_t document = 0;
  int64_t chunk = 0;  // the dense side's best chunk; 0 when not a dense candidate
  float score = 0;    // what the candidates are ordered by at this stage
  std::optional<DenseScore> dense;
  std::optional<KeywordScore> keyword;
  std::optional<float> fused, rerank;
  // The text shown and re-ranked: filled by passage().
  bool has_passage = false;
  std::string passage;
  size_t passage_begin = 0, passage_end = 0;  // in code points
};

Result<std::vector<SearchHit>> CollectionImpl::search(const std::string& query, const SearchOptions& options,
                                                      SearchReport* report) {
  const StageTimer total;
  SearchReport local;
  SearchReport& rep = report != nullptr ? *report : local;
  rep = SearchReport();
  SearchMode mode = options.mode;
  if (mode == SearchMode::kAuto) mode = embedder_ ? SearchMode::kHybrid : SearchMode::kBm25;
  rep.mode = mode;
  const bool dense_side = mode == SearchMode::kDense || mode == SearchMode::kHybrid;
  const bool keyword_side = mode != SearchMode::kDense;
  if (dense_side) SIMILE_RETURN_IF_ERROR(require_vectors(mode == SearchMode::kHybrid
                                                             ? "vectors for hybrid search"
                                                             : "vectors to search by meaning"));
  if (options.mmr_lambda) {
    SIMILE_RETURN_IF_ERROR(require_vectors("vectors to compare results for MMR"));
    if (!(*options.mmr_lambda >= 0 && *options.mmr_lambda <= 1))
      return Status::invalid_argument("MMR lambda must be between 0 (most diverse) and 1 (plain ranking)");
  }
  if (options.center && !dense_side)
    return Status::invalid_argument("centering applies to dense scores: use --mode dense or hybrid");
  if (options.k == 0) return std::vector<SearchHit>();
  if (options.candidates != 0 && options.candidates < options.k)
    return Status::invalid_argument("candidates (" + std::to_string(options.candidates) +
                                    ") must be at least k (" + std::to_string(options.k) + ")");
  const Fusion& fusion = options.fusion;
  if (!(fusion.rrf_k >= 0) || !std::isfinite(fusion.rrf_k))
    return Status::invalid_argument("the RRF constant k must be a non-negative number");
  if (!(fusion.dense_weight >= 0 && fusion.dense_weight <= 1))
    return Status::invalid_argument("the dense weight must be between 0 (BM25 only) and 1 (dense only)");
  const bool reranking = !options.rerank.empty();
  const bool llm_judged = options.rerank.starts_with(kLlmRerankPrefix);
  const size_t rerank_top = !reranking              ? 0
                            : options.rerank_top != 0 ? options.rerank_top
                            : llm_judged              ? kDefaultLlmRerankTop
                                                      : std::max(options.k, kDefaultRerankTop);
  // The LLM judges a few and leaves the rest in place; a cross-encoder's
  // scores decide the results, so it must score at least k.
  if (reranking && !llm_judged && rerank_top < options.k)
    return Status::invalid_argument("rerank-top (" + std::to_string(rerank_top) + ") must be at least k (" +
                                    std::to_string(options.k) + "): the results are the re-ranked candidates");
  const bool staged = mode == SearchMode::kHybrid || reranking || options.mmr_lambda;
  const size_t depth =
      staged ? std::max({options.k, options.candidates != 0 ? options.candidates : kDefaultCandidates, rerank_top})
             : options.k;

  std::optional<std::vector<int64_t>> allowed;
  if (!options.filter.empty()) {
    const StageTimer t;
    SIMILE_ASSIGN_OR_RETURN(allowed, allowed_documents(options.filter));
    add_stage(rep, "filter", t, allowed->size());
  }
  const std::vector<int64_t>* allowed_ptr = allowed ? &*allowed : nullptr;

  // The dense side: each document's best chunk.
  std::vector<Hit> dense_hits;
  std::unordered_map<int64_t, int64_t> best_chunk;
  if (dense_side) {
    SIMILE_ASSIGN_OR_RETURN(std::vector<DocumentHit> docs, dense_candidates(query, options, depth, allowed_ptr, rep));
    for (const DocumentHit& d : docs) {
      dense_hits.push_back({d.document, d.score});
      best_chunk[d.document] = d.chunk;
    }
  }

  // The keyword side.
  std::vector<keyword::QueryTerm> terms;
  keyword::RankingParams params;
  keyword::KeywordIndex* kidx = nullptr;
  std::vector<Hit> keyword_hits;
  if (keyword_side) {
    const StageTimer t;
    SIMILE_ASSIGN_OR_RETURN(kidx, keyword_index());
    terms = query_terms(*analyzer_, query);
    params = ranking_params(mode == SearchMode::kHybrid ? SearchMode::kBm25 : mode, options.keyword);
    // Only stop words or punctuation: no keyword candidates (a hybrid search
    // then ranks by meaning alone).
    if (!terms.empty()) keyword_hits = kidx->search(terms, params, depth, allowed_ptr);
    add_stage(rep, "keyword", t, keyword_hits.size());
  }

  std::vector<Candidate> candidates;
  if (mode == SearchMode::kHybrid) {
    const StageTimer t;
    for (const FusedHit& f : fuse(dense_hits, keyword_hits, fusion)) {
      Candidate c;
      c.document = f.id;
      c.score = static_cast<float>(f.score);
      c.fused = c.score;
      if (f.dense_rank != 0) {
        c.chunk = best_chunk[f.id];
        c.dense = dense_score(f.dense_rank, dense_hits[f.dense_rank - 1].score);
      }
      if (f.keyword_rank != 0) c.keyword = KeywordScore{f.keyword_rank, keyword_hits[f.keyword_rank - 1].score};
      candidates.push_back(std::move(c));
    }
    add_stage(rep, "fusion", t, candidates.size());
  } else if (dense_side) {
    for (size_t r = 0; r < dense_hits.size(); ++r) {
      Candidate c;
      c.document = dense_hits[r].id;
      c.chunk = best_chunk[c.document];
      c.score = dense_hits[r].score;
      c.dense = dense_score(r + 1, c.score);
      candidates.push_back(std::move(c));
    }
  } else {
    for (size_t r = 0; r < keyword_hits.size(); ++r) {
      Candidate c;
      c.document = keyword_hits[r].id;
      c.score = keyword_hits[r].score;
      c.keyword = KeywordScore{r + 1, c.score};
      candidates.push_back(std::move(c));
    }
  }
  // Documents deleted by another process since the indexes were loaded are
  // not results; later stages only see stored ones.
  SIMILE_ASSIGN_OR_RETURN(auto reads, sqlite::Transaction::begin_read(db_->store().db()));

  if (llm_judged) {
    const StageTimer t;
    SIMILE_ASSIGN_OR_RETURN(size_t judged, judge_candidates(query, options, rerank_top, terms, params, kidx, candidates));
    add_stage(rep, "rerank", t, judged);
  } else if (reranking) {
    const StageTimer t;
    if (candidates.size() > rerank_top) candidates.resize(rerank_top);
    SIMILE_ASSIGN_OR_RETURN(Reranker * reranker, open_reranker(options.rerank));
    std::vector<std::string> texts;
    std::vector<Candidate> kept;
    for (Candidate& c : candidates) {
      Status st = passage(c, terms, params, kidx);
      if (st.code() == Status::Code::kNotFound) continue;
      SIMILE_RETURN_IF_ERROR(st);
      texts.push_back(c.passage);
      kept.push_back(std::move(c));
    }
    candidates = std::move(kept);
    SIMILE_ASSIGN_OR_RETURN(std::vector<float> scores, reranker->score(query, texts));
    for (size_t i = 0; i < candidates.size(); ++i) {
      candidates[i].rerank = scores[i];
      candidates[i].score = scores[i];
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    add_stage(rep, "rerank", t, candidates.size());
  }

  if (options.mmr_lambda) {
    const StageTimer t;
    SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
    const FlatIndex& docs = idx->documents();
    const size_t dims = docs.dims();
    std::vector<float> relevance(candidates.size()), vectors(candidates.size() * dims, 0.0f);
    for (size_t i = 0; i < candidates.size(); ++i) {
      relevance[i] = candidates[i].score;
      if (auto pos = docs.position(candidates[i].document))
        decode_vectors(docs.type(), docs.code_at(*pos), 1, dims, vectors.data() + i * dims);
    }
    std::vector<Candidate> ordered;
    for (size_t i : mmr_order(relevance, vectors, dims, options.k, *options.mmr_lambda))
      ordered.push_back(std::move(candidates[i]));
    candidates = std::move(ordered);
    add_stage(rep, "mmr", t, candidates.size());
  }

  const StageTimer fetch;
  std::vector<SearchHit> out;
  for (Candidate& c : candidates) {
    if (out.size() == options.k) break;
    auto header = db_->store().document_header(c.document);
    if (!header.is_ok() && header.status().code() == Status::Code::kNotFound) continue;
    SIMILE_RETURN_IF_ERROR(header.status());
    store::StoredDocument& d = *header;
    SearchHit h;
    h.id = std::move(d.doc_id);
    h.title = std::move(d.title);
    h.meta = std::move(d.meta);
    h.score = c.score;
    h.dense = c.dense;
    h.keyword = c.keyword;
    h.fused = c.fused;
    h.rerank = c.rerank;
    if (options.explain && keyword_side) {
      h.explanation = term_scores(*kidx, c.document, terms, params);
      h.document_terms = kidx->document_length(c.document);
    }
    if (options.snippets) {
      SIMILE_RETURN_IF_ERROR(passage(c, terms, params, kidx));
      h.chunk = std::move(c.passage);
      h.chunk_begin = c.passage_begin;
      h.chunk_end = c.passage_end;
    }
    out.push_back(std::move(h));
  }
  add_stage(rep, "fetch", fetch, out.size());
  rep.total_ms = total.ms();
  return out;
}

Result<std::vector<DocumentHit>> CollectionImpl::dense_candidates(const std::string& query,
                                                                  const SearchOptions& options, size_t depth,
                                                                  const std::vector<int64_t>* allowed,
                                                                  SearchReport& report) {
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  if (options.center) SIMILE_RETURN_IF_ERROR(check_centering());
  const StageTimer embed;
  SIMILE_ASSIGN_OR_RETURN(auto vec, embedder_->embed({query}, row_.info.query_prompt));
  add_stage(report, "embed", embed, 1);
  const StageTimer scan;
  std::vector<DocumentHit> docs;
  if (options.center) {
    SIMILE_ASSIGN_OR_RETURN(docs, idx->search_centered(vec.data(), depth, allowed));
  } else {
    SIMILE_ASSIGN_OR_RETURN(docs, idx->search(vec.data(), depth, allowed, db_->store(), nullptr, options.ef));
  }
  // dense_score() places each score in the background of the same vectors.
  dense_background_ = idx->background(options.center);
  add_stage(report, "dense", scan, docs.size());
  if (options.center) {
    // What centering changed: the plain dense top k against the centred one.
    const StageTimer compare;
    SIMILE_ASSIGN_OR_RETURN(auto plain, idx->search(vec.data(), options.k, allowed, db_->store(), nullptr, options.ef));
    std::unordered_map<int64_t, size_t> centred_rank;
    for (size_t r = 0; r < std::min(options.k, docs.size()); ++r) centred_rank[docs[r].document] = r;
    SearchReport::Centering c;
    c.compared = plain.size();
    double moved = 0;
    for (size_t r = 0; r < plain.size(); ++r) {
      auto it = centred_rank.find(plain[r].document);
      if (it == centred_rank.end()) continue;
      ++c.shared;
      moved += std::abs(static_cast<double>(it->second) - static_cast<double>(r));
    }
    c.footrule = c.shared == 0 ? 0 : moved / static_cast<double>(c.shared);
    report.centering = c;
    add_stage(report, "centering", compare, plain.size());
  }
  return docs;
}

DenseScore CollectionImpl::dense_score(size_t rank, float score) const {
  DenseScore d;
  d.rank = rank;
  d.score = score;
  d.percentile = dense_background_ ? dense_background_->percentile_of(score) : std::numeric_limits<float>::quiet_NaN();
  d.z = dense_background_ ? dense_background_->z_of(score) : std::numeric_limits<float>::quiet_NaN();
  return d;
}

Status CollectionImpl::passage(Candidate& c, const std::vector<keyword::QueryTerm>& terms,
                               const keyword::RankingParams& params, keyword::KeywordIndex* kidx) {
  if (c.has_passage) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(store::StoredDocument d, db_->store().document_by_rowid(c.document));
  if (c.chunk != 0) {
    SIMILE_ASSIGN_OR_RETURN(store::StoredChunk chunk, db_->store().chunk(c.chunk));
    if (chunk.byte_end <= d.text.size() && chunk.byte_begin <= chunk.byte_end)
      c.passage = d.text.substr(chunk.byte_begin, chunk.byte_end - chunk.byte_begin);
    c.passage_begin = chunk.char_begin;
    c.passage_end = chunk.char_end;
    c.has_passage = true;
    return Status::ok();
  }
  // A keyword candidate: the chunk holding the most query-term weight.
  const std::vector<TermScore> weights =
      kidx != nullptr ? term_scores(*kidx, c.document, terms, params) : std::vector<TermScore>();
  SIMILE_ASSIGN_OR_RETURN(auto chunks, db_->store().chunks_of(c.document));
  const Passage p = best_passage(*analyzer_, d.text, chunks, weights);
  c.passage = d.text.substr(p.byte_begin, p.byte_end - p.byte_begin);
  c.passage_begin = 0;
  c.passage_end = 0;
  for (const store::StoredChunk& chunk : chunks)
    if (chunk.byte_begin == p.byte_begin && chunk.byte_end == p.byte_end) {
      c.passage_begin = chunk.char_begin;
      c.passage_end = chunk.char_end;
    }
  if (chunks.empty()) {
    c.passage_begin = text::count_code_points(std::string_view(d.text).substr(0, p.byte_begin));
    c.passage_end = c.passage_begin + text::count_code_points(c.passage);
  }
  c.has_passage = true;
  return Status::ok();
}

Result<size_t> CollectionImpl::judge_candidates(const std::string& query, const SearchOptions& options, size_t top,
                                                const std::vector<keyword::QueryTerm>& terms,
                                                const keyword::RankingParams& params, keyword::KeywordIndex* kidx,
                                                std::vector<Candidate>& candidates) {
  remote::ChatEndpoint endpoint;
  SIMILE_ASSIGN_OR_RETURN(endpoint.url, remote::api_url(options.rerank.substr(std::string_view(kLlmRerankPrefix).size()),
                                                        "chat/completions"));
  endpoint.model = options.llm_model;
  endpoint.api_key_required = !options.llm_api_key_env.empty();
  if (endpoint.api_key_required) endpoint.api_key_env = options.llm_api_key_env;
  endpoint.timeout_s = 120;

  std::vector<Candidate> judged, rest;
  std::vector<std::string> passages;
  for (Candidate& c : candidates) {
    if (judged.size() == top) {
      rest.push_back(std::move(c));
      continue;
    }
    Status st = passage(c, terms, params, kidx);
    if (st.code() == Status::Code::kNotFound) continue;  // deleted meanwhile
    SIMILE_RETURN_IF_ERROR(st);
    passages.push_back(c.passage);
    judged.push_back(std::move(c));
  }
  SIMILE_ASSIGN_OR_RETURN(auto verdicts, judge_passages(endpoint, query, passages, default_verdict_cache()));
  std::vector<Candidate> accepted, rejected, unread;
  for (size_t i = 0; i < judged.size(); ++i) {
    Candidate& c = judged[i];
    if (!verdicts[i]) {
      unread.push_back(std::move(c));
      continue;
    }
    c.rerank = c.score = verdicts[i]->score();
    (verdicts[i]->plausible ? accepted : rejected).push_back(std::move(c));
  }
  auto by_score = [](const Candidate& a, const Candidate& b) { return a.score > b.score; };
  std::stable_sort(accepted.begin(), accepted.end(), by_score);
  std::stable_sort(rejected.begin(), rejected.end(), by_score);
  candidates.clear();
  for (auto* group : {&accepted, &unread, &rest, &rejected})
    for (Candidate& c : *group) candidates.push_back(std::move(c));
  return judged.size() - unread.size();
}

Result<Reranker*> CollectionImpl::open_reranker(const std::string& model) {
  if (!reranker_ || reranker_model_ != model) {
    RerankerOptions o;
    o.model = model;
    o.threads = threads_;
    auto opened = Reranker::open(o);
    if (!opened.is_ok()) return opened.status().with_context("re-ranking model");
    reranker_ = std::move(opened).value();
    reranker_model_ = model;
  }
  return reranker_.get();
}

}  // namespace simile::search
