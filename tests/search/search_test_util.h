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

}  // namespace simile::testing
