#include "store/store.h"

#include "index/keyword_segment.h"

#include <chrono>
#include <ctime>
#include <filesystem>

namespace simile::store {

namespace {

constexpr int kSchemaVersion = 4;

constexpr const char* kSchema = R"sql(
CREATE TABLE simile_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collections(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  model TEXT NOT NULL,
  model_fingerprint TEXT NOT NULL,
  dims INTEGER NOT NULL,
  pooling TEXT NOT NULL,
  normalize INTEGER NOT NULL,
  query_prompt TEXT NOT NULL,
  document_prompt TEXT NOT NULL,
  chunk_tokens INTEGER NOT NULL,
  overlap_tokens INTEGER NOT NULL,
  metric TEXT NOT NULL,
  vector_type TEXT NOT NULL,
  related_k INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  analyzer TEXT NOT NULL DEFAULT '',
  keyword_pending INTEGER NOT NULL DEFAULT 0,
  remote TEXT NOT NULL DEFAULT ''
);
CREATE TABLE documents(
  id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  doc_id TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  meta TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  origin TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  related_stale INTEGER NOT NULL,
  UNIQUE(collection_id, doc_id)
);
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  byte_begin INTEGER NOT NULL, byte_end INTEGER NOT NULL,
  char_begin INTEGER NOT NULL, char_end INTEGER NOT NULL,
  vector BLOB NOT NULL,
  exact BLOB,
  UNIQUE(document_id, seq)
);
CREATE INDEX chunks_by_collection ON chunks(collection_id);
CREATE TABLE related(
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  rank INTEGER NOT NULL,
  related_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  score REAL NOT NULL,
  PRIMARY KEY(document_id, rank)
) WITHOUT ROWID;
CREATE INDEX related_by_target ON related(related_id);
CREATE VIEW related_documents AS
  SELECT c.name AS collection, d.doc_id AS doc_id, r.rank AS rank,
         o.doc_id AS related_doc_id, o.title AS related_title, r.score AS score
  FROM related r JOIN documents d ON d.id = r.document_id
  JOIN documents o ON o.id = r.related_id JOIN collections c ON c.id = d.collection_id;
)sql";

// Schema 2 added the keyword index; a version-1 file is upgraded in place and
// its collections' documents are indexed on first use (catch-up).
constexpr const char* kKeywordSchema = R"sql(
CREATE TABLE keyword_docs(
  document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
  collection_id INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX keyword_docs_by_collection ON keyword_docs(collection_id);
CREATE TABLE keyword_segments(
  id INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  level INTEGER NOT NULL,
  documents INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX keyword_segments_by_collection ON keyword_segments(collection_id);
)sql";

// Schema 3 added the vector index settings and the chunk id high-water mark
// (chunk ids are never reused, so a saved graph can be caught up by ids).
constexpr const char* kVectorIndexSchema = R"sql(
CREATE TABLE vector_index(
  collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  m INTEGER NOT NULL,
  ef_construction INTEGER NOT NULL,
  ef_search INTEGER NOT NULL
);
INSERT INTO simile_meta(key, value) SELECT 'chunk_id_high_water', coalesce(max(id), 0) FROM chunks;
)sql";

// Segments merge in tiers: this many of one level become one of the next.
constexpr int64_t kMergeFanIn = 4;

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status create_or_check_schema(sqlite::Database& db) {
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
  SIMILE_ASSIGN_OR_RETURN(auto probe,
                          db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='simile_meta'"));
  SIMILE_ASSIGN_OR_RETURN(bool row, probe.step());
  const bool exists = row && probe.column_int(0) > 0;
  if (!exists) {
    SIMILE_ASSIGN_OR_RETURN(auto any, db.prepare("SELECT count(*) FROM sqlite_master"));
    SIMILE_ASSIGN_OR_RETURN(bool r2, any.step());
    if (r2 && any.column_int(0) > 0)
      return Status::invalid_argument(db.path() + " is a SQLite database, but not a simile one");
    SIMILE_RETURN_IF_ERROR(db.exec(kSchema));
    SIMILE_RETURN_IF_ERROR(db.exec(kKeywordSchema));
    SIMILE_RETURN_IF_ERROR(db.exec(kVectorIndexSchema));
    SIMILE_ASSIGN_OR_RETURN(auto put, db.prepare("INSERT INTO simile_meta(key, value) VALUES('schema_version', ?)"));
    SIMILE_RETURN_IF_ERROR(put.bind(1, std::to_string(kSchemaVersion)).run());
    return tx.commit();
  }
  SIMILE_ASSIGN_OR_RETURN(auto get, db.prepare("SELECT value FROM simile_meta WHERE key='schema_version'"));
  SIMILE_ASSIGN_OR_RETURN(bool has, get.step());
  if (!has) return Status::corrupt(db.path() + ": no schema_version in simile_meta");
  std::string version = get.column_text(0);
  if (version == "1") {
    SIMILE_RETURN_IF_ERROR(db.exec("ALTER TABLE collections ADD COLUMN analyzer TEXT NOT NULL DEFAULT ''"));
    SIMILE_RETURN_IF_ERROR(db.exec("ALTER TABLE collections ADD COLUMN keyword_pending INTEGER NOT NULL DEFAULT 0"));
    SIMILE_RETURN_IF_ERROR(db.exec(kKeywordSchema));
    SIMILE_RETURN_IF_ERROR(db.exec("UPDATE simile_meta SET value = '2' WHERE key = 'schema_version'"));
    version = "2";
  }
  if (version == "2") {
    SIMILE_RETURN_IF_ERROR(db.exec(kVectorIndexSchema));
    SIMILE_RETURN_IF_ERROR(db.exec("UPDATE simile_meta SET value = '3' WHERE key = 'schema_version'"));
    version = "3";
  }
  // Schema 4 added where a remote model's endpoint is (CollectionInfo::remote).
  if (version == "3") {
    SIMILE_RETURN_IF_ERROR(db.exec("ALTER TABLE collections ADD COLUMN remote TEXT NOT NULL DEFAULT ''"));
    SIMILE_RETURN_IF_ERROR(db.exec("UPDATE simile_meta SET value = '4' WHERE key = 'schema_version'"));
    return tx.commit();
  }
  if (version != std::to_string(kSchemaVersion))
    return Status::unsupported(db.path() + " has schema version " + version + "; this simile reads version " +
                               std::to_string(kSchemaVersion) + " (a newer simile wrote it?)");
  return tx.commit();
}

constexpr const char* kCollectionColumns =
    "id, generation, name, created_at, model, model_fingerprint, dims, pooling, normalize, query_prompt, "
    "document_prompt, chunk_tokens, overlap_tokens, metric, vector_type, related_k, analyzer, keyword_pending, "
    "remote";

CollectionRow read_collection(const sqlite::Statement& s) {
  CollectionRow row;
  row.id = s.column_int(0);
  row.generation = s.column_int(1);
  CollectionInfo& i = row.info;
  i.name = s.column_text(2);
  i.created_at = s.column_text(3);
  i.model = s.column_text(4);
  i.model_fingerprint = s.column_text(5);
  i.dims = static_cast<size_t>(s.column_int(6));
  i.pooling = s.column_text(7);
  i.normalize = s.column_int(8) != 0;
  i.query_prompt = s.column_text(9);
  i.document_prompt = s.column_text(10);
  i.chunk_tokens = static_cast<size_t>(s.column_int(11));
  i.overlap_tokens = static_cast<size_t>(s.column_int(12));
  i.metric = s.column_text(13);
  i.vector_type = s.column_text(14);
  i.related_k = static_cast<size_t>(s.column_int(15));
  i.analyzer = s.column_text(16);
  row.keyword_pending = s.column_int(17) != 0;
  i.remote = s.column_text(18);
  return row;
}

StoredDocument read_document(const sqlite::Statement& s, bool with_text) {
  StoredDocument d;
  d.rowid = s.column_int(0);
  d.doc_id = s.column_text(1);
  d.content_hash = s.column_text(2);
  if (with_text) {
    d.title = s.column_text(3);
    d.text = s.column_text(4);
    d.meta = s.column_text(5);
    d.origin = s.column_text(6);
  }
  return d;
}

constexpr const char* kDocumentColumns = "id, doc_id, content_hash, title, text, meta, origin";

}  // namespace

Status check_collection_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.');
  if (!ok)
    return Status::invalid_argument("bad collection name '" + std::string(name) +
                                    "': use 1-64 letters, digits, '_', '-' or '.', not starting with '.'");
  return Status::ok();
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::io_error("cannot create directory " + parent.string() + ": " + ec.message());
  SIMILE_ASSIGN_OR_RETURN(auto db, sqlite::Database::open(path));
  Status st = create_or_check_schema(db);
  if (!st.is_ok()) return st;
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Result<sqlite::Statement*> Store::cached(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare(sql));
    it = statements_.emplace(sql, std::make_unique<sqlite::Statement>(std::move(s))).first;
  }
  it->second->reset();
  return it->second.get();
}

Result<std::vector<CollectionRow>> Store::collections() {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kCollectionColumns +
                                              " FROM collections WHERE name NOT LIKE '.%' ORDER BY name"));
  std::vector<CollectionRow> rows;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    rows.push_back(read_collection(s));
  }
  return rows;
}

Result<std::optional<CollectionRow>> Store::find_collection(std::string_view name) {
  static const std::string sql = std::string("SELECT ") + kCollectionColumns + " FROM collections WHERE name = ?";
  SIMILE_ASSIGN_OR_RETURN(sqlite::Statement * s, cached(sql.c_str()));
  s->bind(1, name);
  SIMILE_ASSIGN_OR_RETURN(bool row, s->step());
  std::optional<CollectionRow> out;
  if (row) out = read_collection(*s);
  s->reset();
  return out;
}

Result<CollectionRow> Store::create_collection(const CollectionInfo& i) {
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  SIMILE_ASSIGN_OR_RETURN(
      auto s, db_.prepare("INSERT INTO collections(name, created_at, model, model_fingerprint, dims, pooling, "
                          "normalize, query_prompt, document_prompt, chunk_tokens, overlap_tokens, metric, "
                          "vector_type, related_k, generation, analyzer, remote) "
                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)"));
  const std::string now = utc_now();
  s.bind(1, i.name).bind(2, now).bind(3, i.model).bind(4, i.model_fingerprint);
  s.bind(5, static_cast<int64_t>(i.dims)).bind(6, i.pooling).bind(7, static_cast<int64_t>(i.normalize));
  s.bind(8, i.query_prompt).bind(9, i.document_prompt).bind(10, static_cast<int64_t>(i.chunk_tokens));
  s.bind(11, static_cast<int64_t>(i.overlap_tokens)).bind(12, i.metric).bind(13, i.vector_type);
  s.bind(14, static_cast<int64_t>(i.related_k)).bind(15, i.analyzer).bind(16, i.remote);
  Status st = s.run();
  if (!st.is_ok()) return st.with_context("creating collection " + i.name);
  CollectionRow row;
  row.id = db_.last_insert_rowid();
  row.info = i;
  row.info.created_at = now;
  SIMILE_RETURN_IF_ERROR(tx.commit());
  return row;
}

Status Store::drop_collection(int64_t id) {
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  // Chunks first: they cascade from documents, but deleting them by the
  // collection index is much faster than one cascade per document.
  SIMILE_ASSIGN_OR_RETURN(auto chunks, db_.prepare("DELETE FROM chunks WHERE collection_id = ?"));
  SIMILE_RETURN_IF_ERROR(chunks.bind(1, id).run());
  SIMILE_RETURN_IF_ERROR(clear_keyword_index(id));
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("DELETE FROM collections WHERE id = ?"));
  SIMILE_RETURN_IF_ERROR(s.bind(1, id).run());
  return tx.commit();
}

Status Store::rename_collection(int64_t id, std::string_view name) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE collections SET name = ? WHERE id = ?"));
  return s.bind(1, name).bind(2, id).run();
}

Status Store::set_related_k(int64_t collection, size_t k) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE collections SET related_k = ? WHERE id = ?"));
  return s.bind(1, static_cast<int64_t>(k)).bind(2, collection).run();
}

Status Store::count(CollectionRow& row) {
  SIMILE_ASSIGN_OR_RETURN(auto d, db_.prepare("SELECT count(*) FROM documents WHERE collection_id = ?"));
  d.bind(1, row.id);
  SIMILE_ASSIGN_OR_RETURN(bool r1, d.step());
  row.info.documents = r1 ? static_cast<size_t>(d.column_int(0)) : 0;
  SIMILE_ASSIGN_OR_RETURN(auto c, db_.prepare("SELECT count(*) FROM chunks WHERE collection_id = ?"));
  c.bind(1, row.id);
  SIMILE_ASSIGN_OR_RETURN(bool r2, c.step());
  row.info.chunks = r2 ? static_cast<size_t>(c.column_int(0)) : 0;
  return Status::ok();
}

Result<std::optional<std::string>> Store::content_hash(int64_t collection, std::string_view doc_id) {
  SIMILE_ASSIGN_OR_RETURN(auto s,
                          db_.prepare("SELECT content_hash FROM documents WHERE collection_id = ? AND doc_id = ?"));
  s.bind(1, collection).bind(2, doc_id);
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.column_text(0));
}

Status Store::bump_generation(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE collections SET generation = generation + 1 WHERE id = ?"));
  return s.bind(1, collection).run();
}

namespace {

// Flags the documents whose related lists point at `document` (they may
// change when it changes or goes).
Status mark_referrers_stale(sqlite::Statement& mark, int64_t document) {
  mark.reset();
  return mark.bind(1, document).run();
}

}  // namespace

Status Store::write_documents(int64_t collection, const std::vector<DocumentWrite>& docs, bool mark_related) {
  if (docs.empty()) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  SIMILE_ASSIGN_OR_RETURN(auto find, db_.prepare("SELECT id FROM documents WHERE collection_id = ? AND doc_id = ?"));
  SIMILE_ASSIGN_OR_RETURN(auto drop_chunks, db_.prepare("DELETE FROM chunks WHERE document_id = ?"));
  SIMILE_ASSIGN_OR_RETURN(auto update,
                          db_.prepare("UPDATE documents SET title = ?, text = ?, meta = ?, content_hash = ?, "
                                      "origin = ?, updated_at = ?, related_stale = ? WHERE id = ?"));
  SIMILE_ASSIGN_OR_RETURN(auto insert, db_.prepare("INSERT INTO documents(collection_id, doc_id, title, text, meta, "
                                                   "content_hash, origin, updated_at, related_stale) "
                                                   "VALUES(?,?,?,?,?,?,?,?,?)"));
  SIMILE_ASSIGN_OR_RETURN(auto add_chunk,
                          db_.prepare("INSERT INTO chunks(collection_id, document_id, seq, byte_begin, byte_end, "
                                      "char_begin, char_end, vector, exact, id) VALUES(?,?,?,?,?,?,?,?,?,?)"));
  SIMILE_ASSIGN_OR_RETURN(int64_t chunk_id, chunk_id_high_water());
  SIMILE_ASSIGN_OR_RETURN(
      auto mark, db_.prepare("UPDATE documents SET related_stale = max(related_stale, 1) WHERE id IN "
                             "(SELECT document_id FROM related WHERE related_id = ?)"));
  const std::string now = utc_now();
  SIMILE_ASSIGN_OR_RETURN(const int64_t version, next_version(collection));
  std::vector<std::pair<int64_t, const KeywordTerms*>> keyword;
  keyword.reserve(docs.size());
  // 2: the document itself changed, so besides recomputing its own list it
  // must be offered to every other list (docs/formats/store.md).
  const int64_t stale = mark_related ? 2 : 0;
  for (const DocumentWrite& d : docs) {
    find.reset();
    find.bind(1, collection).bind(2, d.doc_id);
    SIMILE_ASSIGN_OR_RETURN(bool exists, find.step());
    int64_t rowid = 0;
    if (exists) {
      rowid = find.column_int(0);
      drop_chunks.reset();
      SIMILE_RETURN_IF_ERROR(drop_chunks.bind(1, rowid).run());
      update.reset();
      update.bind(1, d.title).bind(2, d.text).bind(3, d.meta).bind(4, d.content_hash).bind(5, d.origin);
      update.bind(6, now).bind(7, stale).bind(8, rowid);
      SIMILE_RETURN_IF_ERROR(update.run());
      if (mark_related) SIMILE_RETURN_IF_ERROR(mark_referrers_stale(mark, rowid));
    } else {
      insert.reset();
      insert.bind(1, collection).bind(2, d.doc_id).bind(3, d.title).bind(4, d.text).bind(5, d.meta);
      insert.bind(6, d.content_hash).bind(7, d.origin).bind(8, now).bind(9, stale);
      SIMILE_RETURN_IF_ERROR(insert.run());
      rowid = db_.last_insert_rowid();
    }
    keyword.emplace_back(rowid, &d.keyword);
    for (size_t i = 0; i < d.chunks.size(); ++i) {
      const ChunkWrite& c = d.chunks[i];
      add_chunk.reset();
      add_chunk.bind(1, collection).bind(2, rowid).bind(3, static_cast<int64_t>(i));
      add_chunk.bind(4, static_cast<int64_t>(c.byte_begin)).bind(5, static_cast<int64_t>(c.byte_end));
      add_chunk.bind(6, static_cast<int64_t>(c.char_begin)).bind(7, static_cast<int64_t>(c.char_end));
      add_chunk.bind_blob(8, c.vector.data(), c.vector.size());
      if (c.exact.empty())
        add_chunk.bind_null(9);
      else
        add_chunk.bind_blob(9, c.exact.data(), c.exact.size());
      add_chunk.bind(10, ++chunk_id);
      SIMILE_RETURN_IF_ERROR(add_chunk.run());
    }
  }
  SIMILE_ASSIGN_OR_RETURN(auto high, db_.prepare("UPDATE simile_meta SET value = ? WHERE key = 'chunk_id_high_water'"));
  SIMILE_RETURN_IF_ERROR(high.bind(1, std::to_string(chunk_id)).run());
  SIMILE_RETURN_IF_ERROR(add_keyword_segment(collection, version, keyword));
  SIMILE_RETURN_IF_ERROR(bump_generation(collection));
  return tx.commit();
}

Result<int64_t> Store::chunk_id_high_water() {
  // max(id) too: a chunk written by a simile before schema 3 raised no mark.
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT max(coalesce((SELECT max(id) FROM chunks), 0), "
                                              "(SELECT CAST(value AS INTEGER) FROM simile_meta "
                                              "WHERE key = 'chunk_id_high_water'))"));
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.column_int(0) : 0;
}

Result<VectorIndexSettings> Store::vector_index_settings(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT kind, threshold, m, ef_construction, ef_search FROM "
                                              "vector_index WHERE collection_id = ?"));
  s.bind(1, collection);
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  VectorIndexSettings v;
  if (!row) return v;
  v.kind = s.column_text(0);
  v.threshold = static_cast<size_t>(s.column_int(1));
  v.M = static_cast<size_t>(s.column_int(2));
  v.ef_construction = static_cast<size_t>(s.column_int(3));
  v.ef_search = static_cast<size_t>(s.column_int(4));
  return v;
}

Status Store::set_vector_index_settings(int64_t collection, const VectorIndexSettings& v) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("INSERT OR REPLACE INTO vector_index(collection_id, kind, threshold, m, "
                                              "ef_construction, ef_search) VALUES(?,?,?,?,?,?)"));
  s.bind(1, collection).bind(2, v.kind).bind(3, static_cast<int64_t>(v.threshold));
  s.bind(4, static_cast<int64_t>(v.M)).bind(5, static_cast<int64_t>(v.ef_construction));
  s.bind(6, static_cast<int64_t>(v.ef_search));
  return s.run();
}

Status Store::for_each_chunk(int64_t collection, const std::function<void(int64_t chunk_id, int64_t document)>& fn) {
  SIMILE_ASSIGN_OR_RETURN(auto s,
                          db_.prepare("SELECT id, document_id FROM chunks WHERE collection_id = ? ORDER BY id"));
  s.bind(1, collection);
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::ok();
    fn(s.column_int(0), s.column_int(1));
  }
}

Status Store::for_each_vector_of(const std::vector<int64_t>& chunk_ids,
                                 const std::function<Status(int64_t chunk_id, std::string_view vector)>& fn) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT vector FROM chunks WHERE id = ?"));
  for (int64_t id : chunk_ids) {
    s.reset();
    s.bind(1, id);
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (row) SIMILE_RETURN_IF_ERROR(fn(id, s.column_blob(0)));
  }
  return Status::ok();
}

Result<int64_t> Store::next_version(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT generation FROM collections WHERE id = ?"));
  s.bind(1, collection);
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Status::not_found("collection " + std::to_string(collection) + " was dropped");
  // Every write transaction bumps the generation once, so generation + 1 is
  // unique to this write: it tells the live postings of a document from the
  // ones an update left behind in older segments.
  return s.column_int(0) + 1;
}

Status Store::add_keyword_segment(int64_t collection, int64_t version,
                                  const std::vector<std::pair<int64_t, const KeywordTerms*>>& docs) {
  if (docs.empty()) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(auto put, db_.prepare("INSERT INTO keyword_docs(document_id, collection_id, version) "
                                                "VALUES(?,?,?) ON CONFLICT(document_id) DO UPDATE SET "
                                                "version = excluded.version"));
  keyword::SegmentBuilder builder;
  for (const auto& [rowid, terms] : docs) {
    put.reset();
    SIMILE_RETURN_IF_ERROR(put.bind(1, rowid).bind(2, collection).bind(3, version).run());
    const uint32_t handle = builder.add_document(rowid, version, terms->length);
    for (const auto& [term, count] : terms->counts) builder.add_term(term, handle, count);
  }
  const std::string blob = builder.encode();
  SIMILE_ASSIGN_OR_RETURN(auto seg, db_.prepare("INSERT INTO keyword_segments(collection_id, level, documents, data) "
                                                "VALUES(?, 0, ?, ?)"));
  seg.bind(1, collection).bind(2, static_cast<int64_t>(docs.size())).bind_blob(3, blob.data(), blob.size());
  return seg.run();
}

Status Store::write_keyword_terms(int64_t collection, const std::vector<std::pair<int64_t, KeywordTerms>>& docs) {
  if (docs.empty()) return Status::ok();
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  SIMILE_ASSIGN_OR_RETURN(const int64_t version, next_version(collection));
  std::vector<std::pair<int64_t, const KeywordTerms*>> refs;
  refs.reserve(docs.size());
  for (const auto& [rowid, terms] : docs) refs.emplace_back(rowid, &terms);
  SIMILE_RETURN_IF_ERROR(add_keyword_segment(collection, version, refs));
  SIMILE_RETURN_IF_ERROR(bump_generation(collection));
  return tx.commit();
}

Status Store::compact_keyword_segments(int64_t collection) {
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
    SIMILE_ASSIGN_OR_RETURN(auto full, db_.prepare("SELECT level FROM keyword_segments WHERE collection_id = ? "
                                                   "GROUP BY level HAVING count(*) >= ? ORDER BY level LIMIT 1"));
    full.bind(1, collection).bind(2, kMergeFanIn);
    SIMILE_ASSIGN_OR_RETURN(bool any, full.step());
    if (!any) return Status::ok();
    const int64_t level = full.column_int(0);
    SIMILE_ASSIGN_OR_RETURN(auto read, db_.prepare("SELECT id, data FROM keyword_segments WHERE collection_id = ? "
                                                   "AND level = ? ORDER BY id"));
    read.bind(1, collection).bind(2, level);
    std::vector<int64_t> ids;
    std::vector<std::string> blobs;
    for (;;) {
      SIMILE_ASSIGN_OR_RETURN(bool row, read.step());
      if (!row) break;
      ids.push_back(read.column_int(0));
      blobs.emplace_back(read.column_blob(1));
    }
    SIMILE_ASSIGN_OR_RETURN(auto version_of, db_.prepare("SELECT version FROM keyword_docs WHERE document_id = ?"));
    Status lookup = Status::ok();
    auto live = [&](int64_t rowid, int64_t version) {
      version_of.reset();
      version_of.bind(1, rowid);
      auto row = version_of.step();
      if (!row.is_ok()) {
        lookup = row.status();
        return false;
      }
      return *row && version_of.column_int(0) == version;
    };
    std::vector<std::string_view> views(blobs.begin(), blobs.end());
    auto merged = keyword::merge_segments(views, live);
    if (!merged.is_ok()) return merged.status().with_context("merging keyword segments");
    SIMILE_RETURN_IF_ERROR(lookup);
    SIMILE_ASSIGN_OR_RETURN(auto drop, db_.prepare("DELETE FROM keyword_segments WHERE id = ?"));
    for (int64_t id : ids) {
      drop.reset();
      SIMILE_RETURN_IF_ERROR(drop.bind(1, id).run());
    }
    SIMILE_ASSIGN_OR_RETURN(keyword::Segment segment, keyword::Segment::decode(*merged));
    if (!segment.documents().empty()) {
      SIMILE_ASSIGN_OR_RETURN(auto put, db_.prepare("INSERT INTO keyword_segments(collection_id, level, documents, "
                                                    "data) VALUES(?, ?, ?, ?)"));
      put.bind(1, collection).bind(2, level + 1).bind(3, static_cast<int64_t>(segment.documents().size()));
      SIMILE_RETURN_IF_ERROR(put.bind_blob(4, merged->data(), merged->size()).run());
    }
    SIMILE_RETURN_IF_ERROR(tx.commit());
  }
}

Status Store::for_each_keyword_segment(int64_t collection, const std::function<Status(std::string_view blob)>& fn) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT data FROM keyword_segments WHERE collection_id = ? ORDER BY id"));
  s.bind(1, collection);
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::ok();
    SIMILE_RETURN_IF_ERROR(fn(s.column_blob(0)));
  }
}

Result<std::vector<std::pair<int64_t, int64_t>>> Store::keyword_versions(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT document_id, version FROM keyword_docs WHERE collection_id = ? "
                                              "ORDER BY document_id"));
  s.bind(1, collection);
  std::vector<std::pair<int64_t, int64_t>> out;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return out;
    out.emplace_back(s.column_int(0), s.column_int(1));
  }
}

Status Store::keyword_caught_up(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE collections SET keyword_pending = 0 WHERE id = ?"));
  return s.bind(1, collection).run();
}

Result<std::vector<int64_t>> Store::documents_without_keywords(int64_t collection) {
  std::vector<int64_t> out;
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT d.id FROM documents d LEFT JOIN keyword_docs k ON "
                                              "k.document_id = d.id WHERE d.collection_id = ? AND k.document_id IS "
                                              "NULL ORDER BY d.id"));
  s.bind(1, collection);
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return out;
    out.push_back(s.column_int(0));
  }
}

Status Store::clear_keyword_index(int64_t collection) {
  SIMILE_ASSIGN_OR_RETURN(auto docs, db_.prepare("DELETE FROM keyword_docs WHERE collection_id = ?"));
  SIMILE_RETURN_IF_ERROR(docs.bind(1, collection).run());
  SIMILE_ASSIGN_OR_RETURN(auto segments, db_.prepare("DELETE FROM keyword_segments WHERE collection_id = ?"));
  return segments.bind(1, collection).run();
}

Status Store::reset_keyword_index(int64_t collection, std::string_view analyzer) {
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  SIMILE_RETURN_IF_ERROR(clear_keyword_index(collection));
  SIMILE_ASSIGN_OR_RETURN(auto s,
                          db_.prepare("UPDATE collections SET analyzer = ?, keyword_pending = 1 WHERE id = ?"));
  SIMILE_RETURN_IF_ERROR(s.bind(1, analyzer).bind(2, collection).run());
  SIMILE_RETURN_IF_ERROR(bump_generation(collection));
  return tx.commit();
}

Result<size_t> Store::delete_documents(int64_t collection, const std::vector<std::string>& doc_ids,
                                       bool mark_related) {
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db_));
  SIMILE_ASSIGN_OR_RETURN(auto find, db_.prepare("SELECT id FROM documents WHERE collection_id = ? AND doc_id = ?"));
  SIMILE_ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM documents WHERE id = ?"));
  SIMILE_ASSIGN_OR_RETURN(
      auto mark, db_.prepare("UPDATE documents SET related_stale = max(related_stale, 1) WHERE id IN "
                             "(SELECT document_id FROM related WHERE related_id = ?)"));
  size_t deleted = 0;
  for (const std::string& id : doc_ids) {
    find.reset();
    find.bind(1, collection).bind(2, id);
    SIMILE_ASSIGN_OR_RETURN(bool exists, find.step());
    if (!exists) continue;
    const int64_t rowid = find.column_int(0);
    if (mark_related) SIMILE_RETURN_IF_ERROR(mark_referrers_stale(mark, rowid));
    del.reset();
    SIMILE_RETURN_IF_ERROR(del.bind(1, rowid).run());
    ++deleted;
  }
  if (deleted > 0) SIMILE_RETURN_IF_ERROR(bump_generation(collection));
  SIMILE_RETURN_IF_ERROR(tx.commit());
  return deleted;
}

Result<std::optional<StoredDocument>> Store::document(int64_t collection, std::string_view doc_id) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kDocumentColumns +
                                              " FROM documents WHERE collection_id = ? AND doc_id = ?"));
  s.bind(1, collection).bind(2, doc_id);
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<StoredDocument>();
  return std::optional<StoredDocument>(read_document(s, true));
}

Result<StoredDocument> Store::document_by_rowid(int64_t rowid) {
  static const std::string sql = std::string("SELECT ") + kDocumentColumns + " FROM documents WHERE id = ?";
  SIMILE_ASSIGN_OR_RETURN(sqlite::Statement * s, cached(sql.c_str()));
  s->bind(1, rowid);
  SIMILE_ASSIGN_OR_RETURN(bool row, s->step());
  if (!row) return Status::not_found("no document with row id " + std::to_string(rowid));
  StoredDocument d = read_document(*s, true);
  s->reset();
  return d;
}

Result<StoredDocument> Store::document_header(int64_t rowid) {
  SIMILE_ASSIGN_OR_RETURN(sqlite::Statement * s, cached("SELECT doc_id, title, meta FROM documents WHERE id = ?"));
  s->bind(1, rowid);
  SIMILE_ASSIGN_OR_RETURN(bool row, s->step());
  if (!row) return Status::not_found("no document with row id " + std::to_string(rowid));
  StoredDocument d;
  d.rowid = rowid;
  d.doc_id = s->column_text(0);
  d.title = s->column_text(1);
  d.meta = s->column_text(2);
  s->reset();
  return d;
}

Result<StoredChunk> Store::chunk(int64_t chunk_id) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT id, document_id, byte_begin, byte_end, char_begin, char_end, "
                                              "exact FROM chunks WHERE id = ?"));
  s.bind(1, chunk_id);
  SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Status::not_found("no chunk with id " + std::to_string(chunk_id));
  StoredChunk c;
  c.id = s.column_int(0);
  c.document = s.column_int(1);
  c.byte_begin = static_cast<size_t>(s.column_int(2));
  c.byte_end = static_cast<size_t>(s.column_int(3));
  c.char_begin = static_cast<size_t>(s.column_int(4));
  c.char_end = static_cast<size_t>(s.column_int(5));
  if (!s.column_is_null(6)) c.exact = std::string(s.column_blob(6));
  return c;
}

Result<std::vector<StoredChunk>> Store::chunks_of(int64_t document) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT id, byte_begin, byte_end, char_begin, char_end FROM chunks "
                                              "WHERE document_id = ? ORDER BY seq"));
  s.bind(1, document);
  std::vector<StoredChunk> out;
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return out;
    StoredChunk c;
    c.id = s.column_int(0);
    c.document = document;
    c.byte_begin = static_cast<size_t>(s.column_int(1));
    c.byte_end = static_cast<size_t>(s.column_int(2));
    c.char_begin = static_cast<size_t>(s.column_int(3));
    c.char_end = static_cast<size_t>(s.column_int(4));
    out.push_back(c);
  }
}

Status Store::for_each_exact(const std::vector<int64_t>& chunk_ids,
                             const std::function<Status(int64_t chunk_id, std::string_view exact)>& fn) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT exact FROM chunks WHERE id = ?"));
  for (int64_t id : chunk_ids) {
    s.reset();
    s.bind(1, id);
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (row && !s.column_is_null(0)) SIMILE_RETURN_IF_ERROR(fn(id, s.column_blob(0)));
  }
  return Status::ok();
}

Status Store::for_each_vector(
    int64_t collection, const std::function<void(int64_t chunk_id, int64_t document, std::string_view vector)>& fn) {
  SIMILE_ASSIGN_OR_RETURN(
      auto s, db_.prepare("SELECT id, document_id, vector FROM chunks WHERE collection_id = ? ORDER BY id"));
  s.bind(1, collection);
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::ok();
    fn(s.column_int(0), s.column_int(1), s.column_blob(2));
  }
}

Status Store::for_each_document(int64_t collection, const std::function<Status(const StoredDocument&)>& fn,
                                bool with_text) {
  SIMILE_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kDocumentColumns +
                                              " FROM documents WHERE collection_id = ? ORDER BY id"));
  s.bind(1, collection);
  for (;;) {
    SIMILE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Status::ok();
    SIMILE_RETURN_IF_ERROR(fn(read_document(s, with_text)));
  }
}

}  // namespace simile::store
