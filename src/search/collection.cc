// The public Database / Collection API: the store, the model, the in-memory
// index and the related lists composed.
#include "simile/collection.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "search/collection_impl.h"
#include "search/collection_graph.h"
#include "search/filter.h"
#include "search/keyword_search.h"
#include "search/related.h"
#include "text/utf8.h"
#include "util/user_dirs.h"

namespace simile::search {

namespace {

// The prompt sentence-transformers' encode_query / encode_document use when
// given none: the first of `names` the model defines, else its
// default_prompt_name's, else none.
std::string model_prompt(const Embedder& e, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto p = e.prompt_for(name);
    if (p.is_ok()) return *p;
  }
  if (e.info().default_prompt_name.empty()) return "";
  auto p = e.prompt_for(e.info().default_prompt_name);
  return p.is_ok() ? *p : "";
}

constexpr const char* kKeywordOnly = "none";

Result<std::unique_ptr<text::Analyzer>> open_analyzer(const std::string& spec) {
  SIMILE_ASSIGN_OR_RETURN(text::AnalyzerSettings settings, text::parse_analyzer_spec(spec.empty() ? "default" : spec));
  return text::Analyzer::create(settings);
}

// What a collection of a remote model keeps of its endpoint (never the key,
// only the variable holding it): the endpoint as resolved when it was
// created, so that it does not move when $OPENAI_BASE_URL does.
std::string remote_settings_json(const ModelInfo& model, const EmbedderOptions& options) {
  nlohmann::json j = {{"base_url", model.dir},
                      {"api_key_env", options.remote.api_key_env},
                      {"tokenizer", options.remote.tokenizer}};
  if (!options.remote.ca_file.empty()) j["ca_file"] = options.remote.ca_file;
  // Only a size the user asked for is sent again; the service's own is checked.
  if (options.dimensions) j["dimensions"] = *options.dimensions;
  return j.dump();
}

// The endpoint of an existing remote collection: as stored, each part
// replaced by one given for this run (a moved service, another key).
Status remote_settings(const CollectionRow& row, const EmbedderOptions& runtime, EmbedderOptions* options) {
  nlohmann::json stored = nlohmann::json::object();
  if (!row.info.remote.empty()) {
    stored = nlohmann::json::parse(row.info.remote, nullptr, false);
    if (!stored.is_object())
      return Status::corrupt("collection '" + row.info.name + "': its remote model settings are not JSON");
  }
  auto pick = [&stored](const std::string& given, const char* key) {
    return !given.empty() ? given : stored.value(key, std::string());
  };
  options->remote.base_url = pick(runtime.remote.base_url, "base_url");
  options->remote.api_key_env = pick(runtime.remote.api_key_env, "api_key_env");
  options->remote.tokenizer = pick(runtime.remote.tokenizer, "tokenizer");
  options->remote.ca_file = pick(runtime.remote.ca_file, "ca_file");
  options->remote.known_dims = row.info.dims;
  if (stored.contains("dimensions") && stored["dimensions"].is_number_unsigned())
    options->dimensions = stored["dimensions"].get<size_t>();
  else
    options->dimensions.reset();
  return Status::ok();
}

}  // namespace

Result<std::vector<CollectionInfo>> DatabaseImpl::list() {
  SIMILE_ASSIGN_OR_RETURN(auto rows, store_->collections());
  std::vector<CollectionInfo> out;
  for (CollectionRow& row : rows) {
    SIMILE_RETURN_IF_ERROR(store_->count(row));
    out.push_back(row.info);
  }
  return out;
}

Result<CollectionInfo> DatabaseImpl::info(const std::string& name) {
  SIMILE_ASSIGN_OR_RETURN(auto row, store_->find_collection(name));
  if (!row) return Status::not_found("no collection '" + name + "' in " + path() + " (see: simile collections list)");
  SIMILE_RETURN_IF_ERROR(store_->count(*row));
  return row->info;
}

Status DatabaseImpl::drop(const std::string& name) {
  SIMILE_ASSIGN_OR_RETURN(auto row, store_->find_collection(name));
  if (!row) return Status::not_found("no collection '" + name + "' in " + path());
  SIMILE_ASSIGN_OR_RETURN(auto shadow, store_->find_collection(".reembed." + name));
  if (shadow) SIMILE_RETURN_IF_ERROR(store_->drop_collection(shadow->id));
  SIMILE_RETURN_IF_ERROR(store_->drop_collection(row->id));
  remove_graph_file(path(), row->id);
  return Status::ok();
}

Result<std::unique_ptr<Collection>> DatabaseImpl::open_collection(const std::string& name,
                                                                  const CollectionSettings* create_with,
                                                                  const EmbedderOptions& runtime) {
  SIMILE_RETURN_IF_ERROR(store::check_collection_name(name));
  SIMILE_ASSIGN_OR_RETURN(auto impl, open_impl(name, create_with, runtime));
  return std::unique_ptr<Collection>(std::move(impl));
}

Result<std::unique_ptr<CollectionImpl>> DatabaseImpl::open_impl(const std::string& name,
                                                                const CollectionSettings* create_with,
                                                                const EmbedderOptions& runtime) {
  SIMILE_ASSIGN_OR_RETURN(auto existing, store_->find_collection(name));
  if (!existing && create_with == nullptr)
    return Status::not_found("no collection '" + name + "' in " + path() +
                             " (create it with: simile add " + name + " FILES...)");
  const std::string asked = create_with != nullptr ? create_with->model : "";
  const bool keyword_only = existing ? existing->info.model == kKeywordOnly : asked == kKeywordOnly;
  if (existing && keyword_only && !asked.empty() && asked != kKeywordOnly)
    return Status::invalid_argument("collection '" + name + "' is keyword-only (created with --model none); add " +
                                    "vectors with: simile reembed " + name + " --model " + asked);
  if (existing && !keyword_only && asked == kKeywordOnly)
    return Status::invalid_argument("collection '" + name + "' holds vectors of model " + existing->info.model +
                                    "; to drop them use: simile reembed " + name + " --model none");
  // The analyzer: a collection setting, fixed until a rebuild changes it.
  std::string analyzer_json;
  if (create_with != nullptr && !create_with->analyzer.empty()) {
    SIMILE_ASSIGN_OR_RETURN(auto wanted, text::parse_analyzer_spec(create_with->analyzer));
    analyzer_json = text::analyzer_to_json(wanted);
    if (existing && !existing->info.analyzer.empty() && existing->info.analyzer != analyzer_json)
      return Status::invalid_argument("collection '" + name + "' was indexed with another analyzer (" +
                                      existing->info.analyzer + "); change it with: simile index rebuild " + name +
                                      " --analyzer SPEC");
  } else if (existing && !existing->info.analyzer.empty()) {
    analyzer_json = existing->info.analyzer;
  } else {
    SIMILE_ASSIGN_OR_RETURN(auto defaults, text::parse_analyzer_spec("default"));
    analyzer_json = text::analyzer_to_json(defaults);
  }
  auto analyzer = open_analyzer(analyzer_json);
  if (!analyzer.is_ok()) return analyzer.status().with_context("collection " + name + ": analyzer");
  if (existing && existing->info.analyzer.empty()) {
    // Written by schema 1: no keyword index yet; it is built on first use.
    SIMILE_RETURN_IF_ERROR(store_->reset_keyword_index(existing->id, analyzer_json));
    SIMILE_ASSIGN_OR_RETURN(existing, store_->find_collection(name));
  }
  if (keyword_only) {
    CollectionRow row;
    if (existing) {
      row = *existing;
    } else {
      CollectionInfo& c = row.info;
      c.name = name;
      c.model = kKeywordOnly;
      c.analyzer = analyzer_json;
      SIMILE_ASSIGN_OR_RETURN(row, store_->create_collection(c));
    }
    auto impl = std::make_unique<CollectionImpl>(this, std::move(row), nullptr, nullptr, std::move(analyzer).value());
    impl->set_threads(runtime.threads);
    return impl;
  }
  EmbedderOptions options = runtime;
  if (existing) {
    const CollectionInfo& c = existing->info;
    options.model = asked.empty() ? c.model : asked;
    SIMILE_ASSIGN_OR_RETURN(options.pooling, parse_pooling(c.pooling));
    options.normalize = c.normalize;
    // Queries are cut to the dimensions the stored vectors have (Matryoshka).
    if (runtime.dimensions && *runtime.dimensions != c.dims)
      return Status::invalid_argument("collection '" + name + "' holds " + std::to_string(c.dims) +
                                      "-dimensional vectors, not " + std::to_string(*runtime.dimensions) +
                                      "; to change that use: simile reembed " + name + " --dimensions N");
    options.dimensions = c.dims;
    if (is_remote_model(options.model)) SIMILE_RETURN_IF_ERROR(remote_settings(*existing, runtime, &options));
    // The precision is part of the vectors: the collection's unless asked,
    // and asking for the other one is an error rather than a silent mix.
    const InferenceDtype built_with = fingerprint_dtype(c.model_fingerprint);
    if (runtime.dtype && *runtime.dtype != built_with)
      return Status::invalid_argument("collection '" + name + "' holds vectors computed in " + to_string(built_with) +
                                      ", not " + to_string(*runtime.dtype) + " (omit --dtype to use " +
                                      to_string(built_with) + "); to change that use: simile reembed " + name +
                                      " --dtype " + to_string(*runtime.dtype));
    options.dtype = built_with;
    if (is_remote_model(options.model)) options.pooling.reset();  // the service's business
  } else {
    options.model = create_with->model;
  }
  auto embedder = Embedder::open_shared(options);
  if (!embedder.is_ok()) return embedder.status().with_context("collection " + name);
  const ModelInfo& model = (*embedder)->info();

  CollectionRow row;
  if (existing) {
    row = *existing;
    if (model.fingerprint != row.info.model_fingerprint) {
      const bool other_model = options.model != row.info.model;
      return Status::invalid_argument(
          "collection '" + name + "' holds vectors of model " + row.info.model + " (fingerprint " +
          row.info.model_fingerprint + "), but " + (other_model ? "model " + options.model : "that model's files") +
          (other_model ? " is another model" : " changed since (fingerprint " + model.fingerprint + ")") +
          "; vectors of different models never mix: use `simile reembed " + name + " --model M` to switch");
    }
  } else {
    const CollectionSettings& s = *create_with;
    CollectionInfo& c = row.info;
    c.name = name;
    // A cache name is kept as given; a directory as its absolute path, so the
    // collection still finds it from another working directory.
    c.model = options.model.empty() || options.model == model.name ? model.name : model.dir;
    c.model_fingerprint = model.fingerprint;
    c.dims = model.dims;
    c.pooling = to_string(model.pooling);
    c.normalize = model.normalize;
    SIMILE_RETURN_IF_ERROR(parse_collection_metric(s.metric).status());
    c.metric = s.metric;
    SIMILE_ASSIGN_OR_RETURN(VectorType type, parse_vector_type(s.vector_type));
    c.vector_type = std::string(vector_type_name(type));
    c.query_prompt = s.query_prompt.value_or(model_prompt(**embedder, {"query"}));
    c.document_prompt = s.document_prompt.value_or(model_prompt(**embedder, {"document", "passage", "corpus"}));
    // The window holds the tokenizer's special tokens ([CLS] and [SEP], or
    // one <|endoftext|>, ...), the prompt and the chunk.
    const size_t special = (*embedder)->tokenizer().special_tokens_added();
    size_t prompt_tokens = 0;
    if (!c.document_prompt.empty()) {
      SIMILE_ASSIGN_OR_RETURN(auto enc, (*embedder)->tokenizer().encode(c.document_prompt, false));
      prompt_tokens = enc.size();
    }
    if (model.max_tokens < special + prompt_tokens + 1)
      return Status::invalid_argument("the document prompt leaves no room for text in model " + model.name + "'s " +
                                      std::to_string(model.max_tokens) + " tokens");
    const size_t room = model.max_tokens - special - prompt_tokens;
    c.chunk_tokens = s.chunk_tokens == 0 ? room : s.chunk_tokens;
    if (c.chunk_tokens > room)
      return Status::invalid_argument("--chunk-tokens " + std::to_string(s.chunk_tokens) + " exceeds the " +
                                      std::to_string(room) + " text tokens model " + model.name + " takes");
    c.overlap_tokens = s.overlap_tokens;
    if (c.overlap_tokens >= c.chunk_tokens)
      return Status::invalid_argument("--overlap must be smaller than the chunk size (" +
                                      std::to_string(c.chunk_tokens) + " tokens)");
    c.analyzer = analyzer_json;
    if ((*embedder)->is_remote()) c.remote = remote_settings_json(model, options);
    SIMILE_ASSIGN_OR_RETURN(row, store_->create_collection(c));
  }
  auto tokenizer = Tokenizer::from_file(model.tokenizer_path);
  if (!tokenizer.is_ok()) return tokenizer.status().with_context("model " + model.name);
  (*tokenizer)->set_truncation(std::nullopt);
  (*tokenizer)->set_padding(std::nullopt);
  auto impl = std::make_unique<CollectionImpl>(this, std::move(row), std::move(embedder).value(),
                                               std::move(tokenizer).value(), std::move(analyzer).value());
  impl->set_threads(runtime.threads);
  return impl;
}

Status CollectionImpl::reload_row() {
  SIMILE_ASSIGN_OR_RETURN(auto row, db_->store().find_collection(row_.info.name));
  if (!row) return Status::not_found("collection '" + row_.info.name + "' was dropped");
  row_ = *row;
  return Status::ok();
}

Result<CollectionIndex*> CollectionImpl::index() {
  SIMILE_RETURN_IF_ERROR(reload_row());
  if (!index_ || index_->generation() != row_.generation) {
    SIMILE_ASSIGN_OR_RETURN(VectorIndexSettings settings, db_->store().vector_index_settings(row_.id));
    GraphBuild how;
    how.threads = threads_;
    how.progress = index_progress_;
    SIMILE_ASSIGN_OR_RETURN(index_, CollectionIndex::load(db_->store(), row_, settings, how));
  }
  return index_.get();
}

Status CollectionImpl::catch_up_graph() {
  if (!embedder_) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(VectorIndexSettings settings, db_->store().vector_index_settings(row_.id));
  SIMILE_RETURN_IF_ERROR(reload_row());
  store::CollectionRow counted = row_;
  SIMILE_RETURN_IF_ERROR(db_->store().count(counted));
  if (!uses_graph(settings, counted.info.chunks)) {
    // Below the threshold again (or set to flat): a graph file would only go stale.
    remove_graph_file(db_->store().path(), row_.id);
    return Status::ok();
  }
  return index().status();
}

Result<VectorIndexInfo> CollectionImpl::vector_index_info() {
  SIMILE_RETURN_IF_ERROR(require_vectors("a vector index"));
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  SIMILE_ASSIGN_OR_RETURN(VectorIndexSettings settings, db_->store().vector_index_settings(row_.id));
  VectorIndexInfo info;
  info.settings = settings;
  info.chunks = idx->chunks();
  info.store_generation = row_.generation;
  const HnswIndex* graph = idx->graph();
  info.active = graph ? "hnsw" : "flat";
  if (graph) {
    info.path = graph_path(db_->store().path(), row_.id);
    info.load = idx->graph_load();
    info.load_seconds = idx->graph_seconds();
    info.nodes = graph->nodes();
    info.tombstones = graph->nodes() - graph->size();
    info.max_level = graph->max_level();
    info.memory_bytes = graph->memory_bytes();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(info.path, ec);
    info.file_bytes = ec ? 0 : static_cast<size_t>(bytes);
  }
  return info;
}

Result<VectorIndexInfo> CollectionImpl::build_vector_index(const std::optional<VectorIndexSettings>& settings,
                                                           int threads) {
  SIMILE_RETURN_IF_ERROR(require_vectors("a vector index"));
  SIMILE_RETURN_IF_ERROR(reload_row());
  if (settings) {
    SIMILE_RETURN_IF_ERROR(check_vector_index_settings(*settings));
    SIMILE_RETURN_IF_ERROR(db_->store().set_vector_index_settings(row_.id, *settings));
  }
  SIMILE_ASSIGN_OR_RETURN(VectorIndexSettings current, db_->store().vector_index_settings(row_.id));
  store::CollectionRow counted = row_;
  SIMILE_RETURN_IF_ERROR(db_->store().count(counted));
  index_.reset();
  if (!uses_graph(current, counted.info.chunks)) {
    remove_graph_file(db_->store().path(), row_.id);
  } else {
    GraphBuild how;
    how.rebuild = true;
    how.threads = threads;
    how.progress = index_progress_;
    SIMILE_ASSIGN_OR_RETURN(index_, CollectionIndex::load(db_->store(), row_, current, how));
  }
  return vector_index_info();
}

Status CollectionImpl::refresh_related_lists() {
  if (row_.info.related_k == 0) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  return refresh_related(db_->store(), row_, *idx).status();
}

Result<IngestSummary> CollectionImpl::add(const std::vector<std::string>& inputs, const IngestOptions& options) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  auto summary = store::ingest(target(), inputs, options);
  // Lists and the graph are brought up to date even after a failed ingest:
  // its committed documents count.
  Status related = refresh_related_lists();
  Status graph = catch_up_graph();
  if (!summary.is_ok()) return summary;
  if (!related.is_ok()) return related.with_context("updating related documents");
  if (!graph.is_ok()) return graph.with_context("updating the vector index");
  return summary;
}

Result<IngestSummary> CollectionImpl::upsert(const std::vector<DocumentInput>& documents,
                                             const IngestOptions& options) {
  // Every document is checked before any is stored: a bad one in the middle
  // would otherwise leave the batch half written.
  std::vector<text::SourceDocument> sources;
  sources.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    const DocumentInput& d = documents[i];
    const std::string where = "document " + std::to_string(i) + (d.id.empty() ? "" : " ('" + d.id + "')");
    if (d.id.empty()) return Status::invalid_argument(where + ": the id is empty");
    text::SourceDocument s{d.id, d.title, d.text, nlohmann::json::object(), where};
    if (!d.meta.empty()) {
      s.meta = nlohmann::json::parse(d.meta, nullptr, false);
      if (s.meta.is_discarded() || !s.meta.is_object())
        return Status::invalid_argument(where + ": meta must be a JSON object");
    }
    sources.push_back(std::move(s));
  }
  SIMILE_RETURN_IF_ERROR(reload_row());
  const store::IngestTarget into = target();  // the Ingester keeps a reference
  store::Ingester run(into, options);
  run.set_total(sources.size());
  Status st;
  for (text::SourceDocument& s : sources) {
    st = run.take(std::move(s));
    if (!st.is_ok()) break;
  }
  if (!run.stopped()) {
    Status flushed = run.finish();
    if (st.is_ok()) st = flushed;
  }
  Status related = refresh_related_lists();
  Status graph = catch_up_graph();
  if (!st.is_ok()) return st;
  if (!related.is_ok()) return related.with_context("updating related documents");
  if (!graph.is_ok()) return graph.with_context("updating the vector index");
  return run.summary();
}

Result<std::optional<DocumentInput>> CollectionImpl::get(const std::string& id) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  SIMILE_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, db_->store().document(row_.id, id));
  if (!d) return std::optional<DocumentInput>();
  return std::optional<DocumentInput>(DocumentInput{d->doc_id, d->title, d->text, d->meta});
}

Result<size_t> CollectionImpl::remove(const std::vector<std::string>& ids) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  SIMILE_ASSIGN_OR_RETURN(size_t n, db_->store().delete_documents(row_.id, ids, row_.info.related_k > 0));
  SIMILE_RETURN_IF_ERROR(refresh_related_lists());
  SIMILE_RETURN_IF_ERROR(catch_up_graph().with_context("updating the vector index"));
  return n;
}

Result<std::vector<int64_t>> CollectionImpl::allowed_documents(const std::string& filter) {
  SIMILE_ASSIGN_OR_RETURN(auto parsed, parse_filter(filter));
  const SqlFilter sql = filter_to_sql(parsed, "meta");
  SIMILE_ASSIGN_OR_RETURN(auto q, db_->store().db().prepare("SELECT id FROM documents WHERE collection_id = ? AND (" +
                                                            sql.where + ") ORDER BY id"));
  q.bind(1, row_.id);
  SIMILE_RETURN_IF_ERROR(bind_filter_params(q.handle(), 2, sql));
  std::vector<int64_t> ids;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool has, q.step());
    if (!has) return ids;
    ids.push_back(q.column_int(0));
  }
}

Result<SearchHit> CollectionImpl::hit(int64_t document, int64_t chunk, float score, bool snippet) {
  const bool text = chunk != 0 && snippet;
  SIMILE_ASSIGN_OR_RETURN(store::StoredDocument d, text ? db_->store().document_by_rowid(document)
                                                        : db_->store().document_header(document));
  SearchHit h;
  h.id = std::move(d.doc_id);
  h.title = std::move(d.title);
  h.score = score;
  h.meta = std::move(d.meta);
  if (chunk != 0 && snippet) {
    SIMILE_ASSIGN_OR_RETURN(store::StoredChunk c, db_->store().chunk(chunk));
    if (c.byte_end <= d.text.size() && c.byte_begin <= c.byte_end)
      h.chunk = d.text.substr(c.byte_begin, c.byte_end - c.byte_begin);
    h.chunk_begin = c.char_begin;
    h.chunk_end = c.char_end;
  }
  return h;
}

Status CollectionImpl::require_vectors(const char* what) const {
  if (embedder_) return Status::ok();
  return Status::invalid_argument("collection " + row_.info.name + " is keyword-only (no model), so it has no " +
                                  what + "; use a keyword mode (--mode bm25|tfidf|bow) or add vectors with: simile "
                                  "reembed " + row_.info.name + " --model M");
}

Status CollectionImpl::check_centering() const {
  if (row_.info.metric != "l2") return Status::ok();
  return Status::invalid_argument("collection " + row_.info.name +
                                  " uses the l2 metric, where centering changes nothing (subtracting one vector "
                                  "from both sides leaves every distance as it was); center cosine or dot collections");
}

Result<ScoreBackground> CollectionImpl::score_background(bool centered) {
  SIMILE_RETURN_IF_ERROR(require_vectors("vector scores to compare"));
  if (centered) SIMILE_RETURN_IF_ERROR(check_centering());
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  return *idx->background(centered);
}

Result<keyword::KeywordIndex*> CollectionImpl::keyword_index() {
  SIMILE_RETURN_IF_ERROR(reload_row());
  if (row_.keyword_pending) {
    SIMILE_RETURN_IF_ERROR(catch_up_keywords(db_->store(), row_, *analyzer_));
    SIMILE_RETURN_IF_ERROR(reload_row());
  }
  if (keyword_ && keyword_generation_ == row_.generation) return keyword_.get();
  auto loaded = load_keyword_index(db_->store(), row_.id);
  if (!loaded.is_ok() && loaded.status().code() == Status::Code::kCorrupt) {
    // The index is derived data: rebuild it from the documents rather than
    // trust or refuse a damaged segment.
    SIMILE_RETURN_IF_ERROR(db_->store().reset_keyword_index(row_.id, row_.info.analyzer));
    SIMILE_RETURN_IF_ERROR(reload_row());
    SIMILE_RETURN_IF_ERROR(catch_up_keywords(db_->store(), row_, *analyzer_));
    SIMILE_RETURN_IF_ERROR(reload_row());
    loaded = load_keyword_index(db_->store(), row_.id);
  }
  if (!loaded.is_ok()) return loaded.status().with_context("loading the keyword index of " + row_.info.name);
  keyword_ = std::move(loaded).value();
  keyword_generation_ = row_.generation;
  return keyword_.get();
}

Result<std::vector<SearchHit>> CollectionImpl::similar(const std::string& id, const SearchOptions& options) {
  SIMILE_RETURN_IF_ERROR(require_vectors("document vectors to compare"));
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  SIMILE_ASSIGN_OR_RETURN(auto doc, db_->store().document(row_.id, id));
  if (!doc) return Status::not_found("no document '" + id + "' in collection " + row_.info.name);
  const FlatIndex& documents = idx->documents();
  auto pos = documents.position(doc->rowid);
  if (!pos) return Status::internal("document '" + id + "' has no vectors");
  std::vector<float> v(documents.dims());
  decode_vectors(VectorType::kF32, documents.code_at(*pos), 1, documents.dims(), v.data());
  std::optional<IdFilter> filter;
  if (!options.filter.empty()) {
    SIMILE_ASSIGN_OR_RETURN(auto allowed, allowed_documents(options.filter));
    filter = IdFilter::ids(std::move(allowed));
  }
  std::vector<SearchHit> out;
  for (const Hit& h : documents.search(v.data(), options.k + 1, filter ? &*filter : nullptr)) {
    if (h.id == doc->rowid || out.size() == options.k) continue;
    SIMILE_ASSIGN_OR_RETURN(SearchHit s, hit(h.id, 0, h.score));
    out.push_back(std::move(s));
  }
  return out;
}

Result<RelatedSummary> CollectionImpl::update_related(size_t k) {
  SIMILE_RETURN_IF_ERROR(require_vectors("document vectors to relate"));
  SIMILE_RETURN_IF_ERROR(reload_row());
  SIMILE_RETURN_IF_ERROR(db_->store().set_related_k(row_.id, k));
  row_.info.related_k = k;
  SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
  return rebuild_related(db_->store(), row_, *idx);
}

Result<std::vector<SearchHit>> CollectionImpl::related(const std::string& id) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  if (row_.info.related_k == 0)
    return Status::invalid_argument("collection " + row_.info.name +
                                    " keeps no related lists (compute them with: simile related " + row_.info.name +
                                    ")");
  SIMILE_ASSIGN_OR_RETURN(auto doc, db_->store().document(row_.id, id));
  if (!doc) return Status::not_found("no document '" + id + "' in collection " + row_.info.name);
  SIMILE_RETURN_IF_ERROR(refresh_related_lists());
  SIMILE_ASSIGN_OR_RETURN(auto q, db_->store().db().prepare(
                                      "SELECT related_id, score FROM related WHERE document_id = ? ORDER BY rank"));
  q.bind(1, doc->rowid);
  std::vector<std::pair<int64_t, float>> rows;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool has, q.step());
    if (!has) break;
    rows.emplace_back(q.column_int(0), static_cast<float>(q.column_double(1)));
  }
  std::vector<SearchHit> out;
  for (const auto& [other, score] : rows) {
    SIMILE_ASSIGN_OR_RETURN(SearchHit h, hit(other, 0, score));
    out.push_back(std::move(h));
  }
  return out;
}

Result<IngestSummary> CollectionImpl::reembed(const EmbedderOptions& model, const IngestOptions& options) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  Store& st = db_->store();
  const std::string shadow_name = ".reembed." + row_.info.name;
  CollectionSettings settings;
  settings.model = model.model;
  // A keyword-only collection has no vector settings yet: the defaults.
  if (embedder_) {
    settings.metric = row_.info.metric;
    settings.vector_type = row_.info.vector_type;
    settings.overlap_tokens = row_.info.overlap_tokens;
  }
  settings.analyzer = row_.info.analyzer;
  EmbedderOptions runtime = model;
  // Unless asked, the new vectors keep the precision of the old ones.
  if (!runtime.dtype && embedder_) runtime.dtype = embedder_->info().inference_dtype;
  auto opened = db_->open_impl(shadow_name, &settings, runtime);
  if (!opened.is_ok() && opened.status().code() == Status::Code::kInvalidArgument) {
    // A build left by an interrupted reembed to another model: start over.
    SIMILE_ASSIGN_OR_RETURN(auto stale, st.find_collection(shadow_name));
    if (stale) SIMILE_RETURN_IF_ERROR(st.drop_collection(stale->id));
    opened = db_->open_impl(shadow_name, &settings, runtime);
  }
  if (!opened.is_ok()) return opened.status();
  std::unique_ptr<CollectionImpl> shadow = std::move(opened).value();
  store::IngestTarget t = shadow->target();
  t.keep_related = false;
  store::Ingester ingester(t, options);
  // The hidden collection is made equal to this one, then swapped in, in a
  // transaction that first checks this one has not changed since: writes by
  // others meanwhile (or before, while an interrupted run's build waited)
  // are caught up by another round, never lost or undone.
  for (int round = 1;; ++round) {
    SIMILE_RETURN_IF_ERROR(reload_row());
    const int64_t generation = row_.generation;
    // Every document goes through the normal ingest into the hidden
    // collection; unchanged ones (from an earlier round or an interrupted
    // run) are skipped by hash.
    std::vector<int64_t> rowids;
    std::unordered_set<std::string> ids;
    SIMILE_RETURN_IF_ERROR(st.for_each_document(row_.id, [&](const store::StoredDocument& d) {
      rowids.push_back(d.rowid);
      ids.insert(d.doc_id);
      return Status::ok();
    }));
    ingester.set_total(rowids.size());
    for (int64_t rowid : rowids) {
      SIMILE_ASSIGN_OR_RETURN(store::StoredDocument d, st.document_by_rowid(rowid));
      text::SourceDocument doc;
      doc.id = std::move(d.doc_id);
      doc.title = std::move(d.title);
      doc.text = std::move(d.text);
      doc.meta = nlohmann::json::parse(d.meta, nullptr, false);
      if (doc.meta.is_discarded()) doc.meta = nlohmann::json::object();
      doc.origin = std::move(d.origin);
      Status taken = ingester.take(std::move(doc));
      if (ingester.stopped()) return ingester.summary();
      if (!taken.is_ok()) return taken;
    }
    SIMILE_RETURN_IF_ERROR(ingester.finish());
    // Documents deleted here since they were built there.
    std::vector<std::string> gone;
    SIMILE_RETURN_IF_ERROR(st.for_each_document(shadow->row_.id, [&](const store::StoredDocument& d) {
      if (!ids.contains(d.doc_id)) gone.push_back(d.doc_id);
      return Status::ok();
    }));
    if (!gone.empty()) SIMILE_RETURN_IF_ERROR(st.delete_documents(shadow->row_.id, gone, false).status());
    // The swap: one transaction drops the old collection and renames the new.
    SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(st.db()));
    SIMILE_ASSIGN_OR_RETURN(auto now, st.db().prepare("SELECT generation FROM collections WHERE id = ?"));
    now.bind(1, row_.id);
    SIMILE_ASSIGN_OR_RETURN(bool found, now.step());
    if (!found) return Status::not_found("collection '" + row_.info.name + "' was dropped during the reembed");
    if (now.column_int(0) != generation) {
      if (round == 10)
        return Status::failed_precondition("collection '" + row_.info.name +
                                           "' kept changing during the reembed; run it again when writes pause");
      continue;  // the transaction rolls back; another round catches up
    }
    SIMILE_ASSIGN_OR_RETURN(auto drop_chunks, st.db().prepare("DELETE FROM chunks WHERE collection_id = ?"));
    SIMILE_RETURN_IF_ERROR(drop_chunks.bind(1, row_.id).run());
    SIMILE_ASSIGN_OR_RETURN(auto drop, st.db().prepare("DELETE FROM collections WHERE id = ?"));
    SIMILE_RETURN_IF_ERROR(drop.bind(1, row_.id).run());
    SIMILE_ASSIGN_OR_RETURN(auto rename,
                            st.db().prepare("UPDATE collections SET name = ?, related_k = ? WHERE name = ?"));
    SIMILE_RETURN_IF_ERROR(rename.bind(1, row_.info.name)
                               .bind(2, static_cast<int64_t>(row_.info.related_k))
                               .bind(3, shadow_name)
                               .run());
    SIMILE_RETURN_IF_ERROR(tx.commit());
    break;
  }
  remove_graph_file(st.path(), row_.id);
  const IngestSummary summary = ingester.summary();
  embedder_ = std::move(shadow->embedder_);
  chunk_tokenizer_ = std::move(shadow->chunk_tokenizer_);
  index_.reset();
  keyword_.reset();
  SIMILE_RETURN_IF_ERROR(reload_row());
  if (row_.info.related_k > 0) {
    SIMILE_ASSIGN_OR_RETURN(CollectionIndex * idx, index());
    SIMILE_RETURN_IF_ERROR(rebuild_related(st, row_, *idx).status());
  }
  return summary;
}

Result<KeywordIndexInfo> CollectionImpl::keyword_index_info() {
  SIMILE_ASSIGN_OR_RETURN(keyword::KeywordIndex * idx, keyword_index());
  KeywordIndexInfo info;
  SIMILE_ASSIGN_OR_RETURN(auto settings, text::parse_analyzer_spec(row_.info.analyzer));
  info.analyzer = text::describe_analyzer(settings);
  info.documents = idx->documents();
  info.terms = idx->terms();
  info.postings = idx->postings();
  info.average_length = idx->average_length();
  SIMILE_RETURN_IF_ERROR(db_->store().for_each_keyword_segment(row_.id, [&](std::string_view) {
    ++info.segments;
    return Status::ok();
  }));
  return info;
}

Result<KeywordIndexInfo> CollectionImpl::rebuild_keyword_index(const std::string& analyzer) {
  SIMILE_RETURN_IF_ERROR(reload_row());
  std::string json = row_.info.analyzer;
  if (!analyzer.empty()) {
    SIMILE_ASSIGN_OR_RETURN(auto settings, text::parse_analyzer_spec(analyzer));
    json = text::analyzer_to_json(settings);
  }
  SIMILE_ASSIGN_OR_RETURN(auto fresh, open_analyzer(json));
  SIMILE_RETURN_IF_ERROR(db_->store().reset_keyword_index(row_.id, json));
  analyzer_ = std::move(fresh);
  keyword_.reset();
  return keyword_index_info();
}

}  // namespace simile::search

namespace simile {

std::string Database::default_path() { return user_dir(UserDirKind::kData) + "/simile.db"; }

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
  SIMILE_ASSIGN_OR_RETURN(auto store, store::Store::open(path.empty() ? default_path() : path));
  return std::unique_ptr<Database>(new search::DatabaseImpl(std::move(store)));
}

}  // namespace simile
