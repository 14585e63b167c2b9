// Related documents: every document's top-k most similar documents (by
// document vectors), stored in the `related` table for websites to read, and
// kept current incrementally (docs/formats/store.md, related_stale).
#pragma once

#include "search/collection_index.h"
#include "store/store.h"

namespace simile::search {

// Recomputes every list of the collection (k = row.info.related_k).
Result<RelatedSummary> rebuild_related(store::Store& store, const store::CollectionRow& row, CollectionIndex& index);

// Brings the lists up to date after writes: documents flagged 1 get their
// list recomputed; documents flagged 2 (changed or new) too, and are offered
// to every other list, entering those they now belong to. Deleted documents
// already flagged the lists that held them. Falls back to a rebuild when most
// documents changed.
Result<RelatedSummary> refresh_related(store::Store& store, const store::CollectionRow& row, CollectionIndex& index);

}  // namespace simile::search
