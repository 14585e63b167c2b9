// Filter expressions from anywhere: parse_filter rejects with a message or
// gives a filter whose canonical form parses back to itself, and whose SQL
// (run by a real SQLite over a fixed set of metadata rows) selects exactly
// the rows filter_matches accepts: the promise of search/filter.h.
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "search/filter.h"

namespace {

using nlohmann::json;

const std::vector<json>& rows() {
  static const std::vector<json> all = {
      json::object(),
      {{"year", 2001}, {"lang", "en"}, {"tags", {"a", "b"}}},
      {{"year", 1999.5}, {"lang", "ko"}, {"draft", true}, {"author", {{"name", "Kim"}, {"age", 41}}}},
      {{"year", "2001"}, {"lang", nullptr}, {"tags", json::array()}},
      {{"x", -3}, {"y", 1e300}, {"a b", "space"}, {"`q`", 1}, {"tags", {1, "1", true, nullptr}}},
      {{"lang", "EN"}, {"title", "caf\u00e9"}, {"n", 9007199254740993LL}},
      {{"nested", {{"deep", {{"er", {1, 2}}}}}}, {"draft", false}},
  };
  return all;
}

sqlite3* database() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    FUZZ_CHECK(sqlite3_open(":memory:", &d) == SQLITE_OK);
    FUZZ_CHECK(sqlite3_exec(d, "CREATE TABLE docs(id INTEGER PRIMARY KEY, meta TEXT)", nullptr, nullptr, nullptr) ==
               SQLITE_OK);
    sqlite3_stmt* insert = nullptr;
    FUZZ_CHECK(sqlite3_prepare_v2(d, "INSERT INTO docs VALUES(?, ?)", -1, &insert, nullptr) == SQLITE_OK);
    for (size_t i = 0; i < rows().size(); ++i) {
      const std::string meta = rows()[i].dump();
      sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(i));
      // Row 0 stores SQL NULL: no metadata at all, which filter_matches sees as {}.
      if (i == 0)
        sqlite3_bind_null(insert, 2);
      else
        sqlite3_bind_text(insert, 2, meta.c_str(), static_cast<int>(meta.size()), SQLITE_TRANSIENT);
      FUZZ_CHECK(sqlite3_step(insert) == SQLITE_DONE, "%s", sqlite3_errmsg(d));
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    return d;
  }();
  return db;
}

std::set<size_t> sql_matches(const simile::Filter& filter) {
  const simile::SqlFilter sql = simile::filter_to_sql(filter, "meta");
  const std::string query = "SELECT id FROM docs WHERE " + sql.where;
  sqlite3_stmt* stmt = nullptr;
  FUZZ_CHECK(sqlite3_prepare_v2(database(), query.c_str(), -1, &stmt, nullptr) == SQLITE_OK, "%s: %s", query.c_str(),
             sqlite3_errmsg(database()));
  FUZZ_CHECK(simile::bind_filter_params(stmt, 1, sql).is_ok());
  std::set<size_t> ids;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) ids.insert(static_cast<size_t>(sqlite3_column_int64(stmt, 0)));
  FUZZ_CHECK(rc == SQLITE_DONE, "%s: %s", query.c_str(), sqlite3_errmsg(database()));
  sqlite3_finalize(stmt);
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto filter = simile::parse_filter(simile::fuzz::as_text(data, size));
  if (!filter.is_ok()) {
    FUZZ_CHECK(!filter.status().message().empty());
    return 0;
  }
  const std::string canonical = simile::filter_to_string(*filter);
  auto again = simile::parse_filter(canonical);
  FUZZ_CHECK(again.is_ok(), "canonical form does not parse: %s: %s", canonical.c_str(),
             again.status().message().c_str());
  FUZZ_CHECK(simile::filter_to_string(*again) == canonical, "%s reparses as %s", canonical.c_str(),
             simile::filter_to_string(*again).c_str());
  std::set<size_t> in_memory;
  for (size_t i = 0; i < rows().size(); ++i) {
    if (simile::filter_matches(*filter, rows()[i])) in_memory.insert(i);
  }
  const std::set<size_t> in_sql = sql_matches(*filter);
  FUZZ_CHECK(in_sql == in_memory, "SQL and filter_matches disagree on %s", canonical.c_str());
  return 0;
}
