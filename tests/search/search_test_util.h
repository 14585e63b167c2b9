// Helpers shared by the collection tests.
#pragma once

#include <string>

#include "simile/collection.h"

namespace simile::testing {

// SearchOptions for the top k (and a filter), without designated initialisers
// (GCC warns about the fields they leave out).
inline SearchOptions top(size_t k, std::string filter = "") {
  SearchOptions o;
  o.k = k;
  o.filter = std::move(filter);
  return o;
}

// The same, ranked by meaning only (the default for a collection with a model
// is hybrid).
inline SearchOptions by_meaning(size_t k, std::string filter = "") {
  SearchOptions o = top(k, std::move(filter));
  o.mode = SearchMode::kDense;
  return o;
}

}  // namespace simile::testing
