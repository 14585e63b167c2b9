#include "search/filter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace simile {
namespace {

using json = nlohmann::json;

std::string canonical(std::string_view expression) {
  Result<Filter> f = parse_filter(expression);
  if (!f.is_ok()) {
    ADD_FAILURE() << expression << ": " << f.status().message();
    return "";
  }
  return filter_to_string(*f);
}

std::string parse_error(std::string_view expression) {
  Result<Filter> f = parse_filter(expression);
  if (f.is_ok()) {
    ADD_FAILURE() << expression << " parsed as " << filter_to_string(*f);
    return "";
  }
  EXPECT_EQ(f.status().code(), Status::Code::kInvalidArgument);
  return f.status().message();
}

// A real SQLite table of documents whose `meta` column holds JSON text, as the
// store keeps it.
class Docs {
 public:
  Docs() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    exec("CREATE TABLE docs (id INTEGER PRIMARY KEY, meta TEXT)");
  }
  ~Docs() { sqlite3_close(db_); }
  Docs(const Docs&) = delete;
  Docs& operator=(const Docs&) = delete;

  sqlite3* db() { return db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err ? err : "?");
      sqlite3_free(err);
    }
  }

  // Adds a document; nullopt stores SQL NULL. Returns its id.
  int64_t add(const std::optional<std::string>& meta_text) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO docs (meta) VALUES (?)", -1, &stmt, nullptr), SQLITE_OK);
    if (meta_text) {
      sqlite3_bind_text(stmt, 1, meta_text->data(), static_cast<int>(meta_text->size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(stmt, 1);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    return sqlite3_last_insert_rowid(db_);
  }
  int64_t add(const json& meta) { return add(std::optional<std::string>(meta.dump())); }

  // SELECT id ... WHERE <filter>, with a parameter of our own before the
  // filter's so that bind_filter_params' first_index is exercised.
  std::vector<int64_t> select(const Filter& filter) {
    SqlFilter sql = filter_to_sql(filter, "docs.meta");
    std::string query = "SELECT id FROM docs WHERE id >= ? AND (" + sql.where + ") ORDER BY id";
    std::vector<int64_t> ids;
    sqlite3_stmt* stmt = prepare(query);
    if (stmt == nullptr) return ids;
    EXPECT_EQ(sqlite3_bind_int64(stmt, 1, 0), SQLITE_OK);
    Status st = bind_filter_params(stmt, 2, sql);
    EXPECT_TRUE(st.is_ok()) << st.message();
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(stmt, 0));
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return ids;
  }

  // The value of the filter's SQL expression for every document, which must
  // be the integer 0 or 1 (never NULL), by id.
  std::vector<std::pair<int64_t, bool>> evaluate(const Filter& filter) {
    SqlFilter sql = filter_to_sql(filter, "meta");
    std::vector<std::pair<int64_t, bool>> out;
    sqlite3_stmt* stmt = prepare("SELECT id, (" + sql.where + ") FROM docs ORDER BY id");
    if (stmt == nullptr) return out;
    Status st = bind_filter_params(stmt, 1, sql);
    EXPECT_TRUE(st.is_ok()) << st.message();
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      int64_t id = sqlite3_column_int64(stmt, 0);
      EXPECT_EQ(sqlite3_column_type(stmt, 1), SQLITE_INTEGER) << filter_to_string(filter) << " on doc " << id;
      int64_t v = sqlite3_column_int64(stmt, 1);
      EXPECT_TRUE(v == 0 || v == 1) << v;
      out.emplace_back(id, v == 1);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_) << "\n" << sql.where;
    sqlite3_finalize(stmt);
    return out;
  }

  sqlite3_stmt* prepare(const std::string& query) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, query.c_str(), static_cast<int>(query.size()), &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << "\n" << query.substr(0, 2000);
      return nullptr;
    }
    return stmt;
  }

 private:
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// Parsing

TEST(FilterParse, CanonicalForm) {
  const std::pair<const char*, const char*> cases[] = {
      {R"(year >= 2000 AND (lang = "en" OR lang IN ("ko","ja")) AND NOT draft = true)",
       R"(year >= 2000 AND (lang = "en" OR lang IN ("ko", "ja")) AND NOT draft = true)"},
      {"a == 1 or b <> 'x'", R"(a = 1 OR b != "x")"},
      {"A = 1 aNd B = 2 Or not C = 3", "A = 1 AND B = 2 OR NOT C = 3"},
      {"a IN (1)", "a = 1"},
      {"a not in (1, 2.5, 's', TRUE, Null, false)", R"(a NOT IN (1, 2.5, "s", true, null, false))"},
      {"a NOT IN (7)", "a != 7"},
      {"x.y.z exists", "x.y.z EXISTS"},
      {"x not exists", "NOT x EXISTS"},
      {"x is null AND y IS not NULL", "x IS NULL AND y IS NOT NULL"},
      {"`odd key`.`a``b` = 1", "`odd key`.`a``b` = 1"},
      {"`and` = 1 AND a.and = 2 AND `plain` = 3 AND `9a` = 4 AND `` = 5",
       "`and` = 1 AND a.and = 2 AND plain = 3 AND `9a` = 4 AND `` = 5"},
      {"a . b = 1", "a.b = 1"},
      {"a = -0", "a = 0"},
      {"a = 1e3", "a = 1000.0"},
      {"a = 2.50", "a = 2.5"},
      {"a = -1.5E-7", "a = -1.5e-07"},
      {"a = 99999999999999999999", "a = 1e+20"},
      {"a = -9223372036854775808", "a = -9223372036854775808"},
      {R"(a = 'it\'s "q" \u00e9 \ud83d\ude00 \/ \\ \n\t\u0001')", R"(a = "it's \"q\" é 😀 / \\ \n\t\u0001")"},
      {"a='x'AND(b=1)", R"(a = "x" AND b = 1)"},
      {"NOT (a = 1 AND b = 2) OR c = 3", "NOT (a = 1 AND b = 2) OR c = 3"},
      {"(a = 1 OR b = 2) AND c = 3", "(a = 1 OR b = 2) AND c = 3"},
      {"a = 1 OR (b = 2 OR c = 3)", "a = 1 OR b = 2 OR c = 3"},
      {"(a = 1 AND b = 2) AND (c = 3)", "a = 1 AND b = 2 AND c = 3"},
      {"((a = 1))", "a = 1"},
      {"NOT NOT a = 1", "NOT NOT a = 1"},
      {"NOT (NOT (a = 1 OR b = 2))", "NOT NOT (a = 1 OR b = 2)"},
      {"\t a\n<\r\n3 ", "a < 3"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(canonical(input), expected) << input;
    EXPECT_EQ(canonical(expected), expected) << "canonical form must be stable: " << expected;
  }
}

TEST(FilterParse, ErrorsSayWhatAndWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "filter: empty expression"},
      {"  \n ", "filter: empty expression"},
      {"year >= ", "filter: expected a value after '>=' at column 9, found the end"},
      {"year >= 2000 AND x >= )", "filter: expected a value after '>=' at column 23, found ')'"},
      {"lang = en", "filter: expected a value after '=' at column 8, found 'en' (strings need quotes: \"en\")"},
      {"a => 1", "filter: unknown operator '=>' (use =, !=, <, <=, >, >=) at column 3"},
      {"a ! 1", "filter: unknown operator '!' (use =, !=, <, <=, >, >=) at column 3"},
      {"a ~ 1", "filter: unexpected character '~' at column 3"},
      {"a = \"abc", "filter: unterminated string starting at column 5"},
      {"a = 'abc\\'", "filter: unterminated string starting at column 5"},
      {"a = 1 b = 2", "filter: expected AND, OR or the end at column 7, found 'b'"},
      {"a = 1)", "filter: unmatched ')' at column 6"},
      {"(a = 1", "filter: expected ')' at column 7 to close the '(' at column 1, found the end"},
      {"(a = 1 c", "filter: expected ')' at column 8 to close the '(' at column 1, found 'c'"},
      {"a IN ()", "filter: IN needs at least one value at column 7"},
      {"a NOT IN (1,)", "filter: expected a value in the NOT IN list at column 13, found ')'"},
      {"a IN (1 2)", "filter: expected ',' or ')' in the IN list at column 9, found '2'"},
      {"a IN 1", "filter: expected '(' after IN at column 6, found '1'"},
      {"a < true", "filter: '<' needs a number or a string at column 5, found 'true'"},
      {"a >= null", "filter: '>=' needs a number or a string at column 6, found 'null'"},
      {"a = 'x\\q'", "filter: invalid escape '\\q' at column 7"},
      {"a = '\\u12'", "filter: \\u needs four hex digits at column 6"},
      {"a = '\\ud800'", "filter: unpaired surrogate in \\u escape at column 6"},
      {"a = '\\udc00'", "filter: unpaired surrogate in \\u escape at column 6"},
      {"a = '\\u0000'", "filter: NUL characters are not allowed in strings at column 6"},
      {"AND = 1",
       "filter: expected a field name at column 1, found the keyword 'AND' (write `AND` for a field of that name)"},
      {"a. = 1", "filter: expected a field name after '.' at column 4, found '='"},
      {"a = 1 AND", "filter: expected a field name at column 10, found the end"},
      {"a = 1 AND ()", "filter: expected a field name at column 12, found ')'"},
      {"a LIKE 'x'",
       "filter: expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, EXISTS, IS NULL) after the field at column 3, "
       "found 'LIKE'"},
      {"a",
       "filter: expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, EXISTS, IS NULL) after the field at column 2, "
       "found the end"},
      {"a IS 3", "filter: expected NULL or NOT NULL after IS at column 6, found '3'"},
      {"a IS NOT true", "filter: expected NULL after IS NOT at column 10, found 'true'"},
      {"a NOT 3", "filter: expected IN or EXISTS after NOT at column 7, found '3'"},
      {"a = 12abc", "filter: invalid number '12abc' at column 5"},
      {"a = 1.", "filter: invalid number '1.' at column 5"},
      {"a = 1.2.3", "filter: invalid number '1.2.3' at column 5"},
      {"a = 1e", "filter: invalid number '1e' at column 5"},
      {"a = 1e999", "filter: number '1e999' is out of range at column 5"},
      {"`a\"b` = 1", "filter: a field name cannot contain '\"', '\\' or control characters at column 1"},
      {"`a\\b` = 1", "filter: a field name cannot contain '\"', '\\' or control characters at column 1"},
      {"`abc = 1", "filter: unterminated `name` starting at column 1"},
      {"é = 1", "filter: unexpected character 'é' at column 1"},
      {"x = 'é' AND é", "filter: unexpected character 'é' at column 13"},
      {"x = 'é' AND y = \"a", "filter: unterminated string starting at column 17"},
      {"a = '\xff'", "filter: invalid UTF-8 at byte 6"},
      {"a = 1 OR b = 2\n AND c = ", "filter: expected a value after '=' at column 25, found the end"},
      {"a = \"a very long string that goes on and on and on\" \"and on\"",
       "filter: expected AND, OR or the end at column 53, found \"and on\""},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(parse_error(input), expected) << input;
  EXPECT_EQ(parse_error(std::string_view("a = 1 \0", 7)), "filter: unexpected character NUL at column 7");
  EXPECT_EQ(parse_error(std::string_view("a = '\0'", 7)),
            "filter: NUL characters are not allowed in strings at column 6");
}

TEST(FilterParse, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string deep_parens(100000, '(');
  EXPECT_EQ(parse_error(deep_parens), "filter: nesting deeper than 32 levels at column 33");
  EXPECT_EQ(parse_error(deep_parens + "a = 1" + std::string(100000, ')')),
            "filter: nesting deeper than 32 levels at column 33");
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "NOT ";
  EXPECT_EQ(parse_error(nots + "a = 1"), "filter: nesting deeper than 32 levels at column 129");
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += "NOT (a = 1 OR ";
  EXPECT_EQ(parse_error(mixed), "filter: nesting deeper than 32 levels at column 225");

  std::string ok = std::string(kMaxFilterDepth, '(') + "a = 1" + std::string(kMaxFilterDepth, ')');
  EXPECT_EQ(canonical(ok), "a = 1");
  EXPECT_EQ(parse_error("(" + ok + ")"), "filter: nesting deeper than 32 levels at column 33");
  EXPECT_EQ(parse_error("NOT " + ok), "filter: nesting deeper than 32 levels at column 36");
}

TEST(FilterParse, LimitsOnConditionsAndValues) {
  std::string conditions = "a = 0";
  for (int i = 1; i < kMaxFilterConditions; ++i) conditions += fmt::format(" OR a = {}", i);
  EXPECT_TRUE(parse_filter(conditions).is_ok());
  conditions += " OR b = 1";
  EXPECT_NE(parse_error(conditions).find("more than 256 conditions (write IN (...) for many values of one field)"),
            std::string::npos);

  std::string values = "a IN (0";
  for (int i = 1; i < kMaxFilterValues; ++i) values += fmt::format(", {}", i);
  EXPECT_TRUE(parse_filter(values + ")").is_ok());
  EXPECT_NE(parse_error(values + ", 1)").find("more than 10000 values in one filter"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Semantics, checked in memory and in SQLite at once

// Whether `filter` accepts `meta`, after checking that the SQL and the
// in-memory evaluation agree on it.
bool accepts(const json& meta, std::string_view filter) {
  Result<Filter> f = parse_filter(filter);
  if (!f.is_ok()) {
    ADD_FAILURE() << f.status().message();
    return false;
  }
  Docs docs;
  docs.add(meta);
  bool in_memory = filter_matches(*f, meta);
  auto sql = docs.evaluate(*f);
  EXPECT_EQ(sql.size(), 1u);
  if (sql.size() == 1) {
    EXPECT_EQ(sql[0].second, in_memory) << filter << " on " << meta.dump();
  }
  return in_memory;
}

json example_meta() {
  return json::parse(R"({
    "year": 2005, "lang": "en", "draft": false, "tags": ["x", "y", 3, null, [7], {"k": "x"}],
    "score": 2.5, "n": {"a": {"b": 1}}, "nil": null, "big": 18446744073709551615, "s": "3",
    "empty": [], "obj": {"k": "x"}, "uni": "é", "odd key": {"it's": "yes"}, "a.b": 1, "": "blank"
  })");
}

TEST(FilterSemantics, ComparisonsAndKinds) {
  json m = example_meta();
  EXPECT_TRUE(accepts(m, "year >= 2000"));
  EXPECT_FALSE(accepts(m, "year > 2005"));
  EXPECT_TRUE(accepts(m, "year = 2005.0"));
  EXPECT_TRUE(accepts(m, "year < 2005.5"));
  EXPECT_TRUE(accepts(m, "score > 2"));
  EXPECT_FALSE(accepts(m, "score < 2.5"));
  EXPECT_TRUE(accepts(m, "score <= 2.5"));
  // Values of different kinds are never equal and never in range.
  EXPECT_FALSE(accepts(m, "s = 3"));
  EXPECT_TRUE(accepts(m, "s = '3'"));
  EXPECT_FALSE(accepts(m, "year = '2005'"));
  EXPECT_FALSE(accepts(m, "year < 'a'"));
  EXPECT_FALSE(accepts(m, "lang > 5"));
  EXPECT_FALSE(accepts(m, "draft = 0"));
  EXPECT_TRUE(accepts(m, "draft = false"));
  EXPECT_FALSE(accepts(m, "draft = true"));
  EXPECT_FALSE(accepts(m, "nil = false"));
  // Strings compare by bytes: 'E' < 'e' < 'z' < 'é'.
  EXPECT_TRUE(accepts(m, "lang < 'eo'"));
  EXPECT_FALSE(accepts(m, "lang < 'En'"));
  EXPECT_TRUE(accepts(m, "uni > 'z'"));
  EXPECT_TRUE(accepts(m, "lang >= 'en' AND lang <= 'en'"));
  // Integers beyond int64 are compared as doubles, exactly against integers.
  EXPECT_TRUE(accepts(m, "big > 9223372036854775807"));
  EXPECT_TRUE(accepts(m, "big = 18446744073709551615"));
  EXPECT_TRUE(accepts(json{{"i", 9007199254740993}}, "i > 9007199254740992.0"));
  EXPECT_FALSE(accepts(json{{"i", 9007199254740993}}, "i = 9007199254740992.0"));
  EXPECT_TRUE(accepts(json{{"i", std::numeric_limits<int64_t>::max()}}, "i < 9223372036854775808.0"));
  EXPECT_TRUE(accepts(json{{"z", -0.0}}, "z = 0 AND z >= 0.0"));
  // A NaN or infinity in a json value is written as null, so it is null here too.
  EXPECT_TRUE(accepts(json{{"x", std::nan("")}}, "x IS NULL AND x = null AND NOT x < 0 AND NOT x >= 0"));
  EXPECT_TRUE(accepts(json{{"x", {HUGE_VAL}}}, "x = null"));
}

TEST(FilterSemantics, MissingFieldsNeverMatchButNotNegates) {
  json m = example_meta();
  EXPECT_FALSE(accepts(m, "missing = 1"));
  EXPECT_FALSE(accepts(m, "missing != 1"));
  EXPECT_FALSE(accepts(m, "missing NOT IN (1, 2)"));
  EXPECT_FALSE(accepts(m, "missing < 1 OR missing >= 1"));
  EXPECT_TRUE(accepts(m, "NOT missing = 1"));
  EXPECT_TRUE(accepts(m, "NOT (missing = 1 OR missing < 0)"));
  EXPECT_TRUE(accepts(m, "NOT missing > 1 AND NOT missing <= 1"));
  EXPECT_TRUE(accepts(m, "NOT NOT year = 2005"));
  EXPECT_TRUE(accepts(m, "missing IS NULL"));
  EXPECT_FALSE(accepts(m, "missing IS NOT NULL"));
  EXPECT_FALSE(accepts(m, "missing EXISTS"));
  EXPECT_TRUE(accepts(m, "missing NOT EXISTS"));
  // Present null: exists, is null, equals null.
  EXPECT_TRUE(accepts(m, "nil EXISTS"));
  EXPECT_TRUE(accepts(m, "nil IS NULL"));
  EXPECT_FALSE(accepts(m, "nil IS NOT NULL"));
  EXPECT_TRUE(accepts(m, "nil = null"));
  EXPECT_FALSE(accepts(m, "nil != null"));
  EXPECT_TRUE(accepts(m, "year != null AND year IS NOT NULL"));
  EXPECT_FALSE(accepts(m, "missing = null"));
  // != is "present and not equal", whatever the kind.
  EXPECT_TRUE(accepts(m, "s != 3"));
  EXPECT_TRUE(accepts(m, "draft != true"));
  EXPECT_TRUE(accepts(m, "obj != 'x'"));
  EXPECT_FALSE(accepts(m, "year != 2005.0"));
  // Metadata that is not an object, or SQL NULL, has no fields.
  for (const json& not_object : {json(), json::array({1}), json(3), json("s")}) {
    EXPECT_TRUE(accepts(not_object, "a IS NULL"));
    EXPECT_FALSE(accepts(not_object, "a != 1"));
    EXPECT_FALSE(accepts(not_object, "a EXISTS"));
  }
}

TEST(FilterSemantics, ArraysMatchWhenAnElementDoes) {
  json m = example_meta();
  EXPECT_TRUE(accepts(m, "tags = 'x'"));
  EXPECT_TRUE(accepts(m, "tags = 3"));
  EXPECT_TRUE(accepts(m, "tags = 3.0"));
  EXPECT_TRUE(accepts(m, "tags = null"));
  EXPECT_FALSE(accepts(m, "tags = 7"));    // elements are not searched recursively
  EXPECT_FALSE(accepts(m, "tags = 'k'"));  // nor objects inside them
  EXPECT_FALSE(accepts(m, "tags IS NULL"));
  EXPECT_FALSE(accepts(m, "tags != 'x'"));
  EXPECT_TRUE(accepts(m, "tags != 'z'"));
  EXPECT_TRUE(accepts(m, "tags IN ('z', 'y')"));
  EXPECT_FALSE(accepts(m, "tags NOT IN ('z', 'y')"));
  EXPECT_TRUE(accepts(m, "tags NOT IN ('z')"));
  EXPECT_TRUE(accepts(m, "tags > 'x'"));
  EXPECT_FALSE(accepts(m, "tags > 'y'"));
  EXPECT_FALSE(accepts(m, "tags > 3"));
  EXPECT_TRUE(accepts(m, "tags >= 3"));
  EXPECT_FALSE(accepts(m, "tags = true"));
  EXPECT_FALSE(accepts(m, "empty = 1"));
  EXPECT_TRUE(accepts(m, "empty != 1"));
  EXPECT_TRUE(accepts(m, "empty EXISTS AND empty IS NOT NULL"));
  EXPECT_FALSE(accepts(m, "obj = 'x'"));  // an object is not a list of its values
  EXPECT_TRUE(accepts(json::parse(R"({"b": [true, false]})"), "b = true AND b = false AND b != null"));
}

TEST(FilterSemantics, NestedAndOddFieldNames) {
  json m = example_meta();
  EXPECT_TRUE(accepts(m, "n.a.b = 1"));
  EXPECT_FALSE(accepts(m, "n.a = 1"));
  EXPECT_TRUE(accepts(m, "n.a EXISTS"));
  EXPECT_FALSE(accepts(m, "n.a.b.c EXISTS"));
  EXPECT_TRUE(accepts(m, "n.a.b.c IS NULL"));
  EXPECT_FALSE(accepts(m, "tags.x EXISTS"));  // paths do not go through arrays
  EXPECT_FALSE(accepts(m, "year.x EXISTS"));
  EXPECT_TRUE(accepts(m, "`odd key`.`it's` = 'yes'"));
  EXPECT_TRUE(accepts(m, "`a.b` = 1"));
  EXPECT_FALSE(accepts(m, "a.b = 1"));
  EXPECT_TRUE(accepts(m, "`` = 'blank'"));
}

TEST(FilterSql, HostileNamesAndValuesStayData) {
  const std::string keys[] = {"a'); DROP TABLE docs; --",
                              "'",
                              "''",
                              "$",
                              "a.b",
                              "[0]",
                              "x[0]",
                              " sp ace ",
                              "*",
                              "'||'",
                              "`",
                              "é",
                              "$.a",
                              "%",
                              "?",
                              "?1",
                              ":a",
                              "@a"};
  const std::string values[] = {"'); DROP TABLE docs; --", "\"", "'", "' OR 1=1 --", "?", "\\", "%", "_", "?1"};
  Docs docs;
  std::vector<std::pair<json, int64_t>> stored;
  for (const std::string& k : keys) {
    for (const std::string& v : values) {
      json meta = {{k, v}, {"other", 1}};
      stored.emplace_back(meta, docs.add(meta));
    }
  }
  for (const std::string& k : keys) {
    std::string field = "`";
    for (char c : k) field += c == '`' ? std::string("``") : std::string(1, c);
    field += "`";
    for (const std::string& v : values) {
      std::string literal = json(v).dump();  // a JSON string is a valid filter string
      std::string expression = field + " = " + literal + " OR " + field + " IN ('zz', " + literal + ")";
      Result<Filter> f = parse_filter(expression);
      ASSERT_TRUE(f.is_ok()) << expression << ": " << f.status().message();
      SqlFilter sql = filter_to_sql(*f, "meta");
      EXPECT_EQ(sql.where.find("DROP TABLE docs; --') "), std::string::npos);
      for (const json& p : sql.params) EXPECT_TRUE(p.is_string()) << p.dump();
      std::vector<int64_t> expected;
      for (const auto& [meta, id] : stored)
        if (meta.contains(k) && meta[k] == v) expected.push_back(id);
      ASSERT_EQ(expected.size(), 1u);
      EXPECT_EQ(docs.select(*f), expected) << expression;
    }
  }
  // Values never appear in the SQL text; every one is a parameter.
  Result<Filter> f = parse_filter("a = 'VALUE_MARKER' OR a < 'VALUE_MARKER' OR a IN ('VALUE_MARKER', 1.5, 7)");
  ASSERT_TRUE(f.is_ok());
  SqlFilter sql = filter_to_sql(*f, "meta");
  EXPECT_EQ(sql.where.find("VALUE_MARKER"), std::string::npos);
  EXPECT_EQ(sql.where.find("1.5"), std::string::npos);
  EXPECT_GE(sql.params.size(), 6u);
  EXPECT_EQ(docs.select(*f).size(), 0u);
  sqlite3_stmt* stmt = docs.prepare("SELECT count(*) FROM docs");
  ASSERT_NE(stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), static_cast<int64_t>(stored.size()));
  sqlite3_finalize(stmt);
}

TEST(FilterSql, BooleansAndNullAreTypeChecksNotParams) {
  Result<Filter> f = parse_filter("draft = true AND x != null AND y IN (false, true) AND z IS NULL");
  ASSERT_TRUE(f.is_ok());
  SqlFilter sql = filter_to_sql(*f, "meta");
  EXPECT_TRUE(sql.params.empty());
  EXPECT_NE(sql.where.find("json_type(meta, '$.\"draft\"')"), std::string::npos) << sql.where;
  EXPECT_NE(sql.where.find("'true'"), std::string::npos);

  Result<Filter> g = parse_filter("year >= 2000");
  ASSERT_TRUE(g.is_ok());
  SqlFilter gs = filter_to_sql(*g, "meta");
  ASSERT_EQ(gs.params.size(), 2u);  // the scalar and the array branch
  EXPECT_EQ(gs.params[0], json(2000));
  EXPECT_TRUE(gs.params[0].is_number_integer());
  Result<Filter> h = parse_filter("score < 2.0");
  ASSERT_TRUE(h.is_ok());
  EXPECT_TRUE(filter_to_sql(*h, "meta").params[0].is_number_float());
}

TEST(FilterSql, BindReportsBadIndexesAndParams) {
  Docs docs;
  Result<Filter> f = parse_filter("a = 'x'");
  ASSERT_TRUE(f.is_ok());
  SqlFilter sql = filter_to_sql(*f, "meta");
  sqlite3_stmt* stmt = docs.prepare("SELECT id FROM docs WHERE " + sql.where);
  ASSERT_NE(stmt, nullptr);
  EXPECT_TRUE(bind_filter_params(stmt, 1, sql).is_ok());
  Status out_of_range = bind_filter_params(stmt, 2, sql);
  EXPECT_FALSE(out_of_range.is_ok());
  EXPECT_NE(out_of_range.message().find("placeholder 3"), std::string::npos) << out_of_range.message();
  SqlFilter bad = sql;
  bad.params[0] = true;
  Status not_scalar = bind_filter_params(stmt, 1, bad);
  EXPECT_EQ(not_scalar.code(), Status::Code::kInvalidArgument);
  sqlite3_finalize(stmt);
}

// Every filter inside the limits must also be accepted by SQLite, whose parser
// stack (100 entries) and expression depth (1000) are small, even inside the
// subqueries a store may wrap around it.
class FilterLimits : public ::testing::Test {
 protected:
  void SetUp() override { docs_.add(meta_); }

  void check(const std::string& expression) {
    Result<Filter> f = parse_filter(expression);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    SqlFilter sql = filter_to_sql(*f, "meta");
    std::string query =
        "SELECT id FROM docs WHERE id IN (SELECT id FROM docs WHERE id >= ? AND (id IN (SELECT id FROM docs "
        "WHERE " +
        sql.where + ")))";
    sqlite3_stmt* stmt = docs_.prepare(query);
    ASSERT_NE(stmt, nullptr) << expression.substr(0, 300);
    ASSERT_EQ(sqlite3_bind_int64(stmt, 1, 0), SQLITE_OK);
    Status st = bind_filter_params(stmt, 2, sql);
    EXPECT_TRUE(st.is_ok()) << st.message();
    int rc = sqlite3_step(stmt);
    EXPECT_EQ(rc == SQLITE_ROW, filter_matches(*f, meta_)) << expression.substr(0, 300);
    sqlite3_finalize(stmt);
  }

  // The condition with the most SQL.
  static constexpr const char* kLeaf = "b NOT IN (1, 'x', true, null)";
  json meta_ = {{"a", 1}, {"b", {1, 2}}, {"c", "x"}};
  Docs docs_;
};

TEST_F(FilterLimits, DeepChains) {
  std::string chain = kLeaf, chain_last = kLeaf, nots = kLeaf, not_and = kLeaf;
  for (int i = 0; i < kMaxFilterDepth; ++i) {
    const char* op = i % 2 ? " AND " : " OR ";
    chain = "(" + chain + op + kLeaf + ")";
    chain_last = "(" + std::string(kLeaf) + op + kLeaf + op + chain_last + ")";
    nots = "NOT " + nots;
    if (i % 2) not_and = "NOT (" + std::string(kLeaf) + op + not_and + ")";
  }
  check(chain);
  check(chain_last);
  check(nots);
  check(not_and);
}

TEST_F(FilterLimits, BushyTrees) {
  // A balanced tree of 128 conditions, with two deep operands at every level,
  // at the bottom of a chain: the worst shape for SQLite's parser stack.
  std::string tree = kLeaf;
  for (int level = 0; level < 7; ++level) tree = "(" + tree + (level % 2 ? " AND " : " OR ") + tree + ")";
  std::string chain = tree;
  for (int i = 0; i < kMaxFilterDepth - 7; ++i)
    chain = "(" + std::string(kLeaf) + (i % 2 ? " AND " : " OR ") + chain + ")";
  check(chain);

  // Random shapes within the limits.
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    int budget = kMaxFilterConditions;
    std::function<std::string(int)> gen = [&](int depth) -> std::string {
      if (depth == 0 || budget <= 3 || rng() % 8 == 0) {
        --budget;
        return rng() % 2 ? kLeaf : "c < 'z'";
      }
      const char* op = rng() % 2 ? " AND " : " OR ";
      bool negated = depth >= 2 && rng() % 4 == 0;  // NOT and '(' are a level each
      int inner = depth - (negated ? 2 : 1);
      std::string e = (negated ? "NOT (" : "(") + gen(inner);
      for (int n = 1 + rng() % 2; n > 0 && budget > 0; --n)
        e += op + gen(std::max(0, inner - static_cast<int>(rng() % 3)));
      return e + ")";
    };
    check(gen(kMaxFilterDepth / 2 + rng() % (kMaxFilterDepth / 2)));
  }
}

TEST_F(FilterLimits, ManyConditionsAndValues) {
  std::string flat = "a > 0";
  for (int i = 1; i < kMaxFilterConditions; ++i) flat += fmt::format(" {} {} > {}", i % 2 ? "OR" : "AND", "a", i);
  check(flat);
  std::string lists = kLeaf;
  for (int i = 0; i < kMaxFilterDepth; ++i) {
    lists = fmt::format("(a = {} {} a < 1 {} c = 'x' {} {} {} a >= 2 {} {} {} c EXISTS)", i, i % 2 ? "OR" : "AND",
                        i % 2 ? "OR" : "AND", i % 2 ? "OR" : "AND", lists, i % 2 ? "OR" : "AND", i % 2 ? "OR" : "AND",
                        kLeaf, i % 2 ? "OR" : "AND");
  }
  check(lists);
  // 10000 values: each is bound twice.
  std::string in = "b IN (0";
  for (int i = 1; i < kMaxFilterValues / 2; ++i) in += fmt::format(", {}", i);
  in += ") AND c NOT IN ('s0'";
  for (int i = 1; i < kMaxFilterValues / 2; ++i) in += fmt::format(", 's{}'", i);
  check(in + ")");
}

// ---------------------------------------------------------------------------
// Random metadata, random filters: SQLite and memory must agree on every row.

class RandomCorpus {
 public:
  explicit RandomCorpus(uint64_t seed) : rng_(seed) {}

  json scalar() {
    switch (pick(8)) {
      case 0:
        return nullptr;
      case 1:
        return pick(2) == 0;
      case 2:
        return pick_of<int64_t>({-2, -1, 0, 1, 2, 3, 2005, kI64Max, kI64Min, 9007199254740993});
      case 3:
        return pick_of<double>({-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, 1e300, -1e-300, 0.1, 2005.5});
      case 4:
        return std::uniform_real_distribution<double>(-3, 3)(rng_);  // full-precision doubles
      case 5:
        return uint64_t{18446744073709551615u};
      default:
        return pick_of<std::string>({"", "a", "b", "ab", "B", "é", "x'y", "q\"", "2", "a b", "\\", "zz", "ä"});
    }
  }

  json value(int depth) {
    switch (pick(depth > 0 ? 5 : 4)) {
      case 0: {
        json a = json::array();
        for (size_t n = pick(4); n > 0; --n) a.push_back(pick(6) == 0 ? json::array({scalar()}) : scalar());
        if (pick(5) == 0) a.push_back(json{{"x", scalar()}});
        return a;
      }
      case 4:
        return object(depth - 1, /*nested=*/true);
      default:
        return scalar();
    }
  }

  // Top-level objects have most keys, nested ones a few.
  json object(int depth, bool nested = false) {
    json o = json::object();
    for (const char* key : kKeys)
      if (nested ? pick(4) == 0 : pick(3) != 0) o[key] = value(depth);
    return o;
  }

  std::string filter_value(bool range) {
    if (range) {
      switch (pick(4)) {
        case 0:
          return literal(json(pick_of<int64_t>({-1, 0, 1, 2, 3, 2005, kI64Max, kI64Min})));
        case 1:
          return literal(json(pick_of<double>({-1.5, 0.0, 0.5, 1.0, 2.5, 9223372036854775808.0, 0.1})));
        case 2:
          return literal(json(std::uniform_real_distribution<double>(-3, 3)(rng_)));
        default:
          return literal(json(pick_of<std::string>({"", "a", "ab", "b", "B", "é", "zz", "x'y", "2"})));
      }
    }
    json v = scalar();
    if (v.is_number_unsigned()) return "18446744073709551615";
    return literal(v);
  }

  std::string condition() {
    static const char* kFields[] = {"a",      "b",     "c",  "tags",    "n.x", "n.y.z", "n",          "`odd key`",
                                    "`it's`", "`a.b`", "``", "missing", "`é`", "`[0]`", "n.`odd key`"};
    std::string field = kFields[pick(std::size(kFields))];
    switch (pick(12)) {
      case 0:
        return field + " " + pick_of<std::string>({"=", "=="}) + " " + filter_value(false);
      case 1:
        return field + " " + pick_of<std::string>({"!=", "<>"}) + " " + filter_value(false);
      case 2:
      case 3:
        return field + " " + pick_of<std::string>({"<", "<=", ">", ">="}) + " " + filter_value(true);
      case 4:
      case 5:
      case 6: {
        std::string list = filter_value(false);
        for (size_t n = pick(4); n > 0; --n) list += ", " + filter_value(false);
        return field + (pick(2) ? " NOT IN (" : " in (") + list + ")";
      }
      case 7:
        return field + (pick(2) ? " EXISTS" : " not exists");
      case 8:
        return field + (pick(2) ? " IS NULL" : " is not null");
      default:
        return field + " = " + filter_value(false);
    }
  }

  std::string expression(int depth) {
    if (depth == 0 || pick(3) == 0) return condition();
    switch (pick(3)) {
      case 0:
        return "NOT " + expression(depth - 1);
      default: {
        const char* op = pick(2) ? " AND " : " OR ";
        std::string e = "(" + expression(depth - 1);
        for (size_t n = 1 + pick(2); n > 0; --n) e += op + expression(depth - 1);
        return e + ")";
      }
    }
  }

 private:
  static constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
  static constexpr const char* kKeys[] = {"a", "b",       "c",    "tags", "n", "x", "y",
                                          "z", "odd key", "it's", "a.b",  "",  "é", "[0]"};

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  template <typename T>
  T pick_of(std::initializer_list<T> options) {
    return *(options.begin() + pick(options.size()));
  }
  // A filter literal for a JSON scalar: JSON's own text is valid filter syntax.
  static std::string literal(const json& v) {
    std::string s = v.dump();
    if (v.is_number_float() && s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(FilterSql, RandomFiltersSelectExactlyWhatMemoryAccepts) {
  RandomCorpus corpus(20240611);
  Docs docs;
  std::vector<json> metas;
  for (int i = 0; i < 300; ++i) {
    metas.push_back(corpus.object(2));
    EXPECT_EQ(docs.add(metas.back()), i + 1);
  }
  // Metadata that is not an object, or missing altogether.
  for (const char* text : {"null", "[1, 2]", "3", "\"s\"", "{}"}) {
    metas.push_back(json::parse(text));
    docs.add(std::optional<std::string>(text));
  }
  metas.push_back(json());
  docs.add(std::optional<std::string>());

  int matched_some = 0;
  for (int round = 0; round < 800; ++round) {
    std::string expression = corpus.expression(4);
    Result<Filter> f = parse_filter(expression);
    ASSERT_TRUE(f.is_ok()) << expression << ": " << f.status().message();
    std::string text = filter_to_string(*f);
    Result<Filter> again = parse_filter(text);
    ASSERT_TRUE(again.is_ok()) << text << ": " << again.status().message();
    ASSERT_EQ(filter_to_string(*again), text);

    auto rows = docs.evaluate(*f);
    ASSERT_EQ(rows.size(), metas.size());
    std::vector<int64_t> accepted;
    for (size_t i = 0; i < metas.size(); ++i) {
      bool expected = filter_matches(*f, metas[i]);
      ASSERT_EQ(rows[i].second, expected) << expression << "\ncanonical: " << text << "\nmeta: " << metas[i].dump()
                                          << "\nsql: " << filter_to_sql(*f, "meta").where;
      ASSERT_EQ(filter_matches(*again, metas[i]), expected) << text;
      if (expected) accepted.push_back(rows[i].first);
    }
    if (round % 4 == 0) {  // the same through a WHERE clause with a parameter before the filter's
      ASSERT_EQ(docs.select(*f), accepted) << expression;
    }
    matched_some += !accepted.empty() && accepted.size() < metas.size();
  }
  // The corpus and filters are varied enough to tell documents apart.
  EXPECT_GT(matched_some, 300);
}

}  // namespace
}  // namespace simile
