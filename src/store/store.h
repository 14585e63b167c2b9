// Store: the SQLite database of collections (docs/formats/store.md). It knows
// rows, not models: vectors arrive encoded and leave as blobs. Every method
// that writes is one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "simile/collection.h"
#include "store/sqlite.h"

namespace simile::store {

struct CollectionRow {
  int64_t id = 0;
  int64_t generation = 0;
  CollectionInfo info;  // documents/chunks counts filled by collection_info()
  // Documents may lack keyword postings (after an upgrade or a rebuild began):
  // catch-up indexes them, then keyword_caught_up() clears it.
  bool keyword_pending = false;
};

struct ChunkWrite {
  size_t byte_begin = 0, byte_end = 0, char_begin = 0, char_end = 0;
  std::string vector;  // encoded as the collection's vector type
  std::string exact;   // float32 original (int8 collections), else empty
};

// A document's analysed terms for the keyword index.
struct KeywordTerms {
  uint32_t length = 0;  // terms in the document, repeats included
  std::vector<std::pair<std::string, uint32_t>> counts;
};

struct DocumentWrite {
  std::string doc_id, title, text, meta, content_hash, origin;
  std::vector<ChunkWrite> chunks;
  KeywordTerms keyword;
};

struct StoredDocument {
  int64_t rowid = 0;
  std::string doc_id, title, text, meta, content_hash, origin;
};

struct StoredChunk {
  int64_t id = 0, document = 0;
  size_t byte_begin = 0, byte_end = 0, char_begin = 0, char_end = 0;
  std::string exact;  // empty unless the collection stores originals
};

class Store {
 public:
  // Opens or creates the database file (and its directory) and its schema.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  const std::string& path() const { return db_.path(); }
  sqlite::Database& db() { return db_; }

  Result<std::vector<CollectionRow>> collections();
  Result<std::optional<CollectionRow>> find_collection(std::string_view name);
  Result<CollectionRow> create_collection(const CollectionInfo& info);
  Status drop_collection(int64_t id);
  Status rename_collection(int64_t id, std::string_view name);
  Status set_related_k(int64_t collection, size_t k);
  // Fills info.documents and info.chunks.
  Status count(CollectionRow& row);

  // The content hash stored for a document id, if the document exists.
  Result<std::optional<std::string>> content_hash(int64_t collection, std::string_view doc_id);
  // Inserts or replaces documents with all their chunks in one transaction.
  // With `mark_related`, flags the documents whose related lists may change.
  Status write_documents(int64_t collection, const std::vector<DocumentWrite>& docs, bool mark_related);
  // Deletes documents by id in one transaction; returns how many existed.
  Result<size_t> delete_documents(int64_t collection, const std::vector<std::string>& doc_ids, bool mark_related);

  Result<std::optional<StoredDocument>> document(int64_t collection, std::string_view doc_id);
  Result<StoredDocument> document_by_rowid(int64_t rowid);
  // Only doc_id, title and meta (what a hit without a snippet shows).
  Result<StoredDocument> document_header(int64_t rowid);
  Result<StoredChunk> chunk(int64_t chunk_id);
  // A document's chunks in order (without the float32 originals).
  Result<std::vector<StoredChunk>> chunks_of(int64_t document);
  // The float32 originals (chunks.exact) of several chunks, one statement for
  // all: fn(chunk_id, blob) for each id that has one.
  Status for_each_exact(const std::vector<int64_t>& chunk_ids,
                        const std::function<Status(int64_t chunk_id, std::string_view exact)>& fn);
  // Every chunk id of a collection with its document, in chunk id order.
  Status for_each_chunk(int64_t collection, const std::function<void(int64_t chunk_id, int64_t document)>& fn);
  // The stored vectors of these chunks (skipping ids that are gone).
  Status for_each_vector_of(const std::vector<int64_t>& chunk_ids,
                            const std::function<Status(int64_t chunk_id, std::string_view vector)>& fn);
  // The vector index settings of a collection (defaults when never set).
  Result<VectorIndexSettings> vector_index_settings(int64_t collection);
  Status set_vector_index_settings(int64_t collection, const VectorIndexSettings& settings);
  // Every document id and stored vector of a collection, in chunk id order.
  Status for_each_vector(int64_t collection,
                         const std::function<void(int64_t chunk_id, int64_t document, std::string_view vector)>& fn);
  // The keyword index (docs/formats/keyword.md). Postings are written with
  // their documents by write_documents; these serve catch-up and rebuilds.
  // Indexes already stored documents (by rowid) in one transaction.
  Status write_keyword_terms(int64_t collection, const std::vector<std::pair<int64_t, KeywordTerms>>& docs);
  // Merges segments while some level holds enough of them (each merge one
  // transaction; dead postings are dropped).
  Status compact_keyword_segments(int64_t collection);
  Status for_each_keyword_segment(int64_t collection, const std::function<Status(std::string_view blob)>& fn);
  // (document rowid, current version) of every indexed document, by rowid.
  Result<std::vector<std::pair<int64_t, int64_t>>> keyword_versions(int64_t collection);
  // Documents of the collection the keyword index does not hold yet, by rowid.
  Result<std::vector<int64_t>> documents_without_keywords(int64_t collection);
  Status keyword_caught_up(int64_t collection);
  // Sets the analyzer, empties the keyword index and marks it pending, in one transaction.
  Status reset_keyword_index(int64_t collection, std::string_view analyzer);
  // Every document of a collection (rowid, id, hash), in rowid order.
  Status for_each_document(int64_t collection,
                           const std::function<Status(const StoredDocument&)>& fn, bool with_text = false);

 private:
  explicit Store(sqlite::Database db) : db_(std::move(db)) {}
  // A prepared statement kept for the life of the store, reset and ready to
  // bind: for point lookups that run per hit, where preparing would dominate.
  // Never for a statement still being stepped by a caller up the stack.
  Result<sqlite::Statement*> cached(const char* sql);
  Status bump_generation(int64_t collection);
  // The highest chunk id ever given out: write_documents numbers new chunks
  // above it, so an id once deleted never comes back (a saved vector index
  // can then be caught up by comparing ids).
  Result<int64_t> chunk_id_high_water();
  Status clear_keyword_index(int64_t collection);
  Result<int64_t> next_version(int64_t collection);
  // Inside a write transaction: keyword_docs rows and one new segment.
  Status add_keyword_segment(int64_t collection, int64_t version,
                             const std::vector<std::pair<int64_t, const KeywordTerms*>>& docs);
  sqlite::Database db_;  // declared first: the statements below finalise before it closes
  std::unordered_map<const char*, std::unique_ptr<sqlite::Statement>> statements_;
};

// A collection name users may type: [A-Za-z0-9_.-]{1,64}, not starting with '.'.
Status check_collection_name(std::string_view name);

}  // namespace simile::store
