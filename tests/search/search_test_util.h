// Helpers shared by the collection tests.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

// a.b / (|a| |b|), accumulated in double: the reference the tests compare with.
inline double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// Opens (creating it with `settings`) collection `name` of the database file at
// `path` into `db`; null, with a test failure, when that fails.
inline std::unique_ptr<Collection> open_test_collection(std::unique_ptr<Database>& db, const std::string& path,
                                                        const std::string& name, const CollectionSettings& settings) {
  db.reset();
  auto opened = Database::open(path);
  EXPECT_TRUE(opened.is_ok()) << opened.status().message();
  if (!opened.is_ok()) return nullptr;
  db = std::move(opened).value();
  auto c = db->open_collection(name, &settings);
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  return c.is_ok() ? std::move(c).value() : nullptr;
}

}  // namespace simile::testing
