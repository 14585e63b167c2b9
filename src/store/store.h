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
#include <vector>

#include "simile/collection.h"
#include "store/sqlite.h"

namespace simile::store {

struct CollectionRow {
  int64_t id = 0;
  int64_t generation = 0;
  CollectionInfo info;  // documents/chunks counts filled by collection_info()
};

struct ChunkWrite {
  size_t byte_begin = 0, byte_end = 0, char_begin = 0, char_end = 0;
  std::string vector;  // encoded as the collection's vector type
  std::string exact;   // float32 original (int8 collections), else empty
};

struct DocumentWrite {
  std::string doc_id, title, text, meta, content_hash, origin;
  std::vector<ChunkWrite> chunks;
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
  Result<StoredChunk> chunk(int64_t chunk_id);
  // The float32 originals (chunks.exact) of several chunks, one statement for
  // all: fn(chunk_id, blob) for each id that has one.
  Status for_each_exact(const std::vector<int64_t>& chunk_ids,
                        const std::function<Status(int64_t chunk_id, std::string_view exact)>& fn);
  // Every document id and stored vector of a collection, in chunk id order.
  Status for_each_vector(int64_t collection,
                         const std::function<void(int64_t chunk_id, int64_t document, std::string_view vector)>& fn);
  // Every document of a collection (rowid, id, hash), in rowid order.
  Status for_each_document(int64_t collection,
                           const std::function<Status(const StoredDocument&)>& fn, bool with_text = false);

 private:
  explicit Store(sqlite::Database db) : db_(std::move(db)) {}
  Status bump_generation(int64_t collection);
  sqlite::Database db_;
};

// A collection name users may type: [A-Za-z0-9_.-]{1,64}, not starting with '.'.
Status check_collection_name(std::string_view name);

}  // namespace simile::store
