// Collections: documents stored in a SQLite database, embedded with one model,
// searched by meaning.
//
//   auto db = simile::Database::open("");              // the default file
//   auto c = (*db)->open_collection("notes", &settings); // created if missing
//   auto summary = (*c)->add({"docs/"}, {});
//   auto hits = (*c)->search("how do I rotate logs?", {.k = 5});
//
// The database file is the source of truth (docs/formats/store.md); every
// acknowledged write survives a crash. Thread safety: a Database and the
// Collections opened from it are used by one thread at a time; several
// processes may open the same file (one writer at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simile/embedder.h"
#include "simile/status.h"

namespace simile {

// Chosen when a collection is created; fixed afterwards (reembed() changes
// the model).
struct CollectionSettings {
  std::string model;                // cache name or directory; empty = the default model; "none" = keyword only
  std::string metric = "cosine";    // cosine | dot | l2
  std::string vector_type = "f32";  // f32 | f16 | int8
  size_t chunk_tokens = 0;          // 0 = as many as the model takes
  size_t overlap_tokens = 0;
  // Unset, as sentence-transformers' encode_query / encode_document: the
  // model's prompt named "query", resp. "document" (or "passage", "corpus"),
  // else its default_prompt_name's prompt, else none.
  std::optional<std::string> query_prompt;
  std::optional<std::string> document_prompt;
  std::string analyzer;  // the keyword index's analyzer spec (docs/analyzers.md); empty = "default"
};

struct CollectionInfo {
  std::string name;
  std::string model;
  std::string model_fingerprint;
  size_t dims = 0;  // of the stored vectors: the model's, or fewer (EmbedderOptions::dimensions)
  std::string pooling;
  bool normalize = false;
  std::string query_prompt;
  std::string document_prompt;
  size_t chunk_tokens = 0;
  size_t overlap_tokens = 0;
  std::string metric;
  std::string vector_type;
  size_t related_k = 0;  // 0 = related lists not kept
  std::string analyzer;  // the keyword index's analyzer settings (JSON, docs/analyzers.md)
  // Remote models ("openai:NAME"): where the service is, as JSON
  // {"base_url", "api_key_env", "tokenizer", "dimensions"}; "" for local models.
  // Never the key itself, only the variable's name.
  std::string remote;
  std::string created_at;
  size_t documents = 0;
  size_t chunks = 0;
};

// How a collection finds the chunks nearest a query (docs/vector-index.md):
// exact search over every vector, or an HNSW graph saved beside the store.
struct VectorIndexSettings {
  std::string kind = "auto";  // auto (hnsw from `threshold` chunks on) | flat | hnsw
  size_t threshold = 100000;
  size_t M = 16;                 // HNSW links per node (2M on the bottom level)
  size_t ef_construction = 200;  // HNSW beam width while building
  size_t ef_search = 128;        // HNSW beam width while searching (SearchOptions::ef overrides)
};

struct VectorIndexInfo {
  VectorIndexSettings settings;
  std::string active;  // flat | hnsw: what searches use now
  size_t chunks = 0;
  int64_t store_generation = 0;
  // hnsw only:
  std::string path;     // the graph file beside the store
  std::string load;     // how it was loaded: "opened", "caught up (+A -R)", "built (why)"
  double load_seconds = 0;
  size_t nodes = 0;       // graph nodes, tombstones included
  size_t tombstones = 0;  // deleted or replaced chunks still in the graph
  int max_level = -1;
  size_t memory_bytes = 0;
  size_t file_bytes = 0;
};

enum class OnError { kSkip, kFail };

struct IngestOptions {
  std::string format;  // "" = by file extension; txt md html json jsonl csv lines
  std::string id_field;
  std::string text_field = "text";
  std::string title_field = "title";
  std::vector<std::string> meta_fields;  // empty = every other field
  // Directories: follow symbolic links that lead out of the directory given
  // (by default such a link is a bad item, reported and not read).
  bool follow_symlinks = false;
  OnError on_error = OnError::kFail;
  size_t commit_chunks = 512;  // chunks embedded and committed together
  // Called after each commit with the ids it made durable.
  std::function<void(const std::vector<std::string>& committed_ids)> on_commit;
  // Called for every bad input item (also when skipping it).
  std::function<void(const Status& problem)> on_problem;
  // Called as documents are processed: (done, total or 0 if unknown).
  std::function<void(size_t done, size_t total)> on_progress;
  // Polled between batches; true stops the ingest cleanly after a commit.
  std::function<bool()> should_stop;
};

struct IngestSummary {
  size_t added = 0;
  size_t updated = 0;
  size_t unchanged = 0;
  size_t failed = 0;  // bad items (skipped, or the one that stopped the ingest)
  size_t chunks = 0;  // chunks embedded
  size_t tokens = 0;  // tokens embedded
  double seconds = 0;
  bool interrupted = false;
};

// kAuto: hybrid when the collection has a model (every collection keeps a
// keyword index too), else BM25. kHybrid fuses dense and BM25 candidates.
enum class SearchMode { kAuto, kDense, kBm25, kTfIdf, kBow, kHybrid };
Result<SearchMode> parse_search_mode(const std::string& name);  // auto dense bm25 tfidf bow hybrid
const char* search_mode_name(SearchMode mode);

// Parameters of the keyword rankings (docs/keyword-search.md).
struct KeywordRanking {
  float k1 = 1.2f, b = 0.75f;  // BM25
  enum class Tf { kRaw, kLog, kBinary } tf = Tf::kRaw;  // TF-IDF: tf | 1 + ln tf | 1
  enum class Idf { kPlain, kSmooth } idf = Idf::kPlain;  // ln(N/df) | ln(1 + N/df)
  bool cosine = false;  // divide by the document's TF-IDF vector length
};

// How hybrid search merges its dense and BM25 candidates (docs/hybrid-search.md).
struct Fusion {
  // kRrf: sum over the lists holding the document of 1 / (rrf_k + rank).
  // kWeighted: dense_weight * dense' + (1 - dense_weight) * bm25', where x' is
  // the score normalised over that list's candidates (a list that misses the
  // document gives it its lowest normalised value).
  enum class Method { kRrf, kWeighted } method = Method::kRrf;
  double rrf_k = 60;
  enum class Normalization { kMinMax, kZScore } normalization = Normalization::kMinMax;
  double dense_weight = 0.5;
};
Result<Fusion::Method> parse_fusion_method(const std::string& name);  // rrf | weighted
Result<Fusion::Normalization> parse_normalization(const std::string& name);  // minmax | zscore
const char* fusion_method_name(Fusion::Method method);
const char* normalization_name(Fusion::Normalization normalization);

struct SearchOptions {
  size_t k = 10;
  std::string filter;  // metadata filter expression ("" = none); applied to every candidate list
  SearchMode mode = SearchMode::kAuto;
  KeywordRanking keyword;
  Fusion fusion;
  // Candidates each retriever returns to the later stages (fusion, re-ranking,
  // MMR); 0 = max(k, 100). Searches with none of those stages return k.
  size_t candidates = 0;
  // Re-ranking: a cross-encoder (cache name or directory, simile/reranker.h)
  // scores (query, best chunk) for the top `rerank_top` candidates and orders
  // them by that score; 0 = max(k, 50). Results come from those, so
  // rerank_top >= k.
  //
  // Or an LLM judge: `rerank` = "llm:URL", an OpenAI-compatible chat
  // endpoint asked whether each of the top `rerank_top` candidates (0 = 5)
  // is a plausible answer to the query (docs/rag.md). Those it finds
  // plausible come first, surest first, then the candidates it did not
  // judge in their order, then those it rejected; verdicts are cached.
  std::string rerank;
  size_t rerank_top = 0;
  std::string llm_model;        // the chat model for "llm:URL" ("" = the endpoint's own choice)
  std::string llm_api_key_env;  // the variable holding its key ("" = OPENAI_API_KEY, sent if set)
  // Maximal marginal relevance over the candidates: each next result
  // maximises lambda * relevance - (1 - lambda) * (its highest cosine to the
  // results above), relevance being the last stage's score min-max
  // normalised. 1 = plain ranking; smaller = more diverse. Needs vectors.
  std::optional<double> mmr_lambda;
  // Score against vectors minus the collection's mean chunk vector (for
  // cosine: the cosine of centred vectors, seed 000's Pearson view), the query
  // centred alike; percentiles then come from the centred background.
  // Dense and hybrid modes (the dense side); refused for l2 collections.
  // SearchReport::centering compares the result with the plain dense top k.
  bool center = false;
  // HNSW beam width for this query (collections searched through a graph);
  // 0 = the collection's ef_search. Larger = better recall, slower.
  size_t ef = 0;
  bool explain = false;   // fill SearchHit::explanation (keyword terms) in keyword and hybrid modes
  bool snippets = true;   // fill SearchHit::chunk (false: ids, titles, scores, metadata only)
};

// One query term's part of a keyword score.
struct TermScore {
  std::string term;         // as analysed
  uint32_t query_count = 0;
  uint32_t document_count = 0;  // occurrences in the document
  uint32_t df = 0;              // documents holding the term
  float idf = 0;
  float score = 0;
};

// A document's place on the dense side of a search.
struct DenseScore {
  size_t rank = 0;   // 1-based among the dense candidates
  float score = 0;   // its best chunk's, by the collection's metric (l2: negative distance)
  // Against the collection's background (similarities of random chunk pairs
  // from different documents, ScoreBackground, docs/hybrid-search.md): the
  // percentage of them below `score` (ties count half), and (score - their
  // mean) / their standard deviation. With SearchOptions::center, `score` is
  // the centred one and so is the background. NaN when the collection has
  // fewer than 10 such pairs (e.g. two one-chunk documents).
  float percentile = 0;
  float z = 0;
};

// A document's place on the keyword side of a hybrid search.
struct KeywordScore {
  size_t rank = 0;  // 1-based among the BM25 candidates
  float score = 0;
};

struct SearchHit {
  std::string id;
  std::string title;
  // What the results are ordered by: the cross-encoder's score when
  // re-ranked, else the fused score (hybrid), else the dense metric's (higher
  // is closer; l2: negative distance) or the keyword ranking's.
  float score = 0;
  std::string chunk;         // the best matching chunk's text
  size_t chunk_begin = 0;    // its span in the document, in code points
  size_t chunk_end = 0;
  std::string meta;          // the document's metadata, JSON
  // Each stage's view of the hit, where that stage ran and the document was
  // among its candidates.
  std::optional<DenseScore> dense;
  std::optional<KeywordScore> keyword;
  std::optional<float> fused;
  std::optional<float> rerank;
  // With SearchOptions::explain in a keyword or hybrid mode: every query
  // term's part of the keyword score, and the document's length in terms.
  std::vector<TermScore> explanation;
  uint32_t document_terms = 0;
};

// What one search did, stage by stage.
struct SearchReport {
  SearchMode mode = SearchMode::kAuto;  // the mode that ran (kAuto resolved)
  struct Stage {
    std::string name;  // filter, embed, dense, centering, keyword, fusion, rerank, mmr, fetch
    double ms = 0;
    size_t items = 0;  // candidates it produced (embed: tokens)
  };
  std::vector<Stage> stages;
  double total_ms = 0;
  // With SearchOptions::center: how the centred ranking of the top k differs
  // from the plain one.
  struct Centering {
    size_t compared = 0;     // results compared (the plain top k)
    size_t shared = 0;       // documents in both top k
    double footrule = 0;     // mean |rank change| over shared documents
  };
  std::optional<Centering> centering;
};

struct KeywordIndexInfo {
  std::string analyzer;  // describe_analyzer() of the settings
  size_t documents = 0;
  size_t terms = 0;
  size_t postings = 0;
  size_t segments = 0;
  double average_length = 0;
};

// What a collection's similarity scores look like by chance: the metric's
// score (as search reports it: cosine, dot, or l2's negative distance)
// between chunks of different documents, for up to 20000 random pairs
// sampled with a fixed seed (every pair when fewer exist), so one collection
// gives the same numbers in every process (docs/hybrid-search.md). Computed on
// first use after each write.
struct ScoreBackground {
  size_t pairs = 0;  // pairs sampled; below 10 there is no background and the statistics are NaN
  double mean = 0, stddev = 0;     // of the sampled scores (population standard deviation)
  std::vector<float> percentiles;  // p0, p1, ..., p100 of the sample (linear interpolation); empty when NaN
  bool centered = false;           // of scores between vectors minus `center`
  std::vector<float> center;       // centered: the mean chunk vector (dims values) subtracted first
  std::vector<float> sample;       // the sampled scores, ascending

  // The percentage of sampled scores below `score`, ties counting half; NaN
  // without a background.
  float percentile_of(float score) const;
  // (score - mean) / stddev; NaN without a background (or when stddev is 0).
  float z_of(float score) const;
};

struct RelatedSummary {
  size_t documents = 0;  // lists (re)computed
  double seconds = 0;
};

// A document as stored: its id, title, text and metadata (a JSON object).
struct DocumentInput {
  std::string id;
  std::string title;
  std::string text;
  std::string meta;  // JSON object; empty = {}
};

class Collection {
 public:
  virtual ~Collection() = default;
  virtual const CollectionInfo& info() const = 0;
  // The model the collection's vectors come from, set up as they were
  // (pooling, normalisation, Matryoshka dimensions); null for keyword-only
  // collections. Owned by the collection.
  virtual const Embedder* embedder() const = 0;

  // Reads files, directories or "-" (stdin), chunks, embeds and stores the
  // documents: new ids are added, changed ones replaced, unchanged skipped.
  virtual Result<IngestSummary> add(const std::vector<std::string>& inputs, const IngestOptions& options) = 0;
  // Stores documents given in memory (the HTTP API's upsert) as add() stores
  // those it reads: new ids added, changed ones replaced, unchanged skipped,
  // committed in batches (every acknowledged batch survives a crash). Each
  // needs an id; meta is a JSON object (empty = {}).
  virtual Result<IngestSummary> upsert(const std::vector<DocumentInput>& documents, const IngestOptions& options) = 0;
  // A stored document by id, or nullopt.
  virtual Result<std::optional<DocumentInput>> get(const std::string& id) = 0;
  // Deletes documents by id; returns how many existed.
  virtual Result<size_t> remove(const std::vector<std::string>& ids) = 0;

  // The documents that best answer the query: by meaning, keywords or both,
  // optionally re-ranked and diversified (SearchOptions). `report`, if given,
  // receives what each stage did and cost.
  virtual Result<std::vector<SearchHit>> search(const std::string& query, const SearchOptions& options,
                                                SearchReport* report = nullptr) = 0;
  // Documents most similar to a stored one (whole-document vectors).
  virtual Result<std::vector<SearchHit>> similar(const std::string& id, const SearchOptions& options) = 0;
  // Computes every document's top-k related documents into the `related`
  // table and keeps them current on later writes.
  virtual Result<RelatedSummary> update_related(size_t k) = 0;
  // The stored related list of a document.
  virtual Result<std::vector<SearchHit>> related(const std::string& id) = 0;
  // The keyword index: its statistics (brought up to date first).
  virtual Result<KeywordIndexInfo> keyword_index_info() = 0;
  // Rebuilds the keyword index from the stored documents, with a new
  // analyzer spec if one is given ("" keeps the current one).
  virtual Result<KeywordIndexInfo> rebuild_keyword_index(const std::string& analyzer) = 0;
  // The background distribution that DenseScore::percentile and ::z are
  // measured against; `centered`: of centred vectors (SearchOptions::center;
  // refused for l2, where centering changes no distance).
  virtual Result<ScoreBackground> score_background(bool centered = false) = 0;
  // The stored vector index settings (defaults if never set); reads no vectors.
  virtual Result<VectorIndexSettings> vector_index_settings() = 0;
  // The vector index: which kind searches use and, for HNSW, the graph's
  // state (loaded, and caught up with the store, first).
  virtual Result<VectorIndexInfo> vector_index_info() = 0;
  // Stores new settings (if given) and rebuilds the HNSW graph from the
  // stored vectors when the settings choose HNSW (a flat choice removes the
  // graph file). `threads` 0 = all cores.
  virtual Result<VectorIndexInfo> build_vector_index(const std::optional<VectorIndexSettings>& settings,
                                                     int threads = 0) = 0;
  // Called while an operation (any of them: a search, a write, info) builds
  // or catches up the HNSW graph: (chunks inserted, chunks to insert).
  virtual void set_index_progress(std::function<void(size_t done, size_t total)> progress) = 0;
  // Re-chunks and re-embeds every document with another model.
  virtual Result<IngestSummary> reembed(const EmbedderOptions& model, const IngestOptions& options) = 0;
};

class Database {
 public:
  // "" = default_path(). The file and its directory are created if missing.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  // $SIMILE_HOME/simile.db, else $XDG_DATA_HOME/simile/simile.db, else
  // ~/.local/share/simile/simile.db.
  static std::string default_path();

  virtual ~Database() = default;
  virtual const std::string& path() const = 0;
  virtual Result<std::vector<CollectionInfo>> list() = 0;
  virtual Result<CollectionInfo> info(const std::string& name) = 0;
  virtual Status drop(const std::string& name) = 0;
  // Opens a collection with its model. With `create_with`, a missing
  // collection is created with those settings (an existing one must agree
  // with any model given there). `runtime` sets threads / batch size.
  virtual Result<std::unique_ptr<Collection>> open_collection(const std::string& name,
                                                              const CollectionSettings* create_with,
                                                              const EmbedderOptions& runtime = {}) = 0;
};

}  // namespace simile
