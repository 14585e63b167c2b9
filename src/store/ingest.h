// Ingest: documents from files or stdin -> chunks -> vectors -> the store.
//
// Documents are embedded and committed in batches of about
// IngestOptions::commit_chunks chunks; a batch is acknowledged (on_commit)
// only after its transaction committed. Unchanged documents (same content
// hash) are skipped before any embedding, which is what makes an interrupted
// ingest resumable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "index/vector_codec.h"
#include "simile/collection.h"
#include "simile/embedder.h"
#include "simile/tokenizer.h"
#include "store/store.h"
#include "text/analyzer.h"
#include "text/document_reader.h"

namespace simile::store {

struct IngestTarget {
  Store* store = nullptr;
  const CollectionRow* collection = nullptr;
  const Embedder* embedder = nullptr;          // null: a keyword-only collection (no chunks, no vectors)
  const Tokenizer* chunk_tokenizer = nullptr;  // no truncation
  text::Analyzer* analyzer = nullptr;          // the keyword index's
  bool keep_related = false;                    // flag changed documents for the related lists
};

Result<IngestSummary> ingest(const IngestTarget& target, const std::vector<std::string>& inputs,
                             const IngestOptions& options);

// The same pipeline fed document by document (reembed uses it).
class Ingester {
 public:
  Ingester(const IngestTarget& target, const IngestOptions& options);
  ~Ingester();
  // A document or a bad item. Returns an error to stop: the item's own error
  // under OnError::kFail, a store or model failure, or a stop request
  // (stopped() is then true).
  Status take(Result<text::SourceDocument> item);
  Status finish();  // embeds and commits what is pending
  bool stopped() const;
  void set_total(size_t total);
  IngestSummary summary() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// A document's keyword-index terms: its title and text, analysed.
KeywordTerms analyze_document(text::Analyzer& analyzer, std::string_view title, std::string_view text);

// The vector a collection stores for an embedding: normalised for cosine,
// then encoded; `exact` gets the float32 original for int8 collections.
void encode_for_storage(const CollectionInfo& info, VectorType type, const float* embedding, std::string& vector,
                        std::string& exact);

}  // namespace simile::store
