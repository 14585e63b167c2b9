// Metadata filters: `year >= 2000 AND (lang = "en" OR lang IN ("ko", "ja"))`.
//
// A filter is parsed once (parse_filter) and then either turned into a SQL
// WHERE clause over a JSON column (filter_to_sql, what the store runs before
// ranking) or evaluated on one metadata object in memory (filter_matches, what
// the server may do). Both give the same answer for every document; the tests
// check that on random metadata against a real SQLite database.
//
// Grammar (keywords are case-insensitive, field names are not):
//
//   expr       := or
//   or         := and (OR and)*
//   and        := not (AND not)*
//   not        := NOT not | '(' expr ')' | condition
//   condition  := field op value
//               | field [NOT] IN '(' value (',' value)* ')'
//               | field [NOT] EXISTS
//               | field IS [NOT] NULL
//   op         := = | == | != | <> | < | <= | > | >=
//   field      := name ('.' name)*         a.b.c looks inside nested objects
//   name       := [A-Za-z_][A-Za-z0-9_]*   (not a keyword when first)
//               | `any text`               backticks, `` for a backtick
//   value      := "string" | 'string'      \" \' \\ \/ \b \f \n \r \t \uXXXX
//               | integer | decimal | exponent number | true | false | null
//
// Semantics (the same in SQL and in memory):
//  - A field is "present" when every name of its path is a key of an object
//    (paths never go through arrays). Metadata that is not an object has no
//    fields.
//  - `f = v` holds when f is present and equal to v, or f is an array with an
//    element equal to v. Values of different kinds are never equal: numbers
//    (integers and decimals compare numerically with each other), strings
//    (byte order, SQLite's BINARY collation), booleans, null. `f IN (...)` is
//    `=` with any of the values.
//  - `f != v` holds when f is present and `f = v` does not: a missing field
//    never matches, `x != 3` matches x = "3", and `tags != "a"` matches arrays
//    without "a". `f NOT IN (...)` is the same for the whole list.
//  - `<`, `<=`, `>`, `>=` take a number or a string and hold when f (or some
//    element of the array f) is of the same kind and in range; booleans and
//    null are rejected at parse time.
//  - `f EXISTS` holds when f is present (even as null); `f IS NULL` when f is
//    missing or null; `f IS NOT NULL` when f is present and not null.
//  - NOT, AND, OR are plain two-valued logic: there is no SQL NULL, so
//    `NOT year >= 2000` matches documents without a year.
//
// Limits: 32 levels of parentheses and NOT, 256 conditions and 10000 values in
// all, so that every filter that parses also fits SQLite, with room for the
// query around it: SQLite's parser has a 100-entry stack (each condition's SQL
// takes about 25, each level of parentheses 1 to 3), expressions may be 1000
// deep, and a statement may have 32766 parameters (each value is bound twice).
//
// Thread safety: a Filter is immutable; copies share the parsed tree and may be
// used from any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "simile/status.h"

struct sqlite3_stmt;

namespace simile {

struct FilterNode;  // the parsed tree; defined in filter.cc

class Filter {
 public:
  explicit Filter(std::shared_ptr<const FilterNode> root) : root_(std::move(root)) {}
  const FilterNode& root() const { return *root_; }

 private:
  std::shared_ptr<const FilterNode> root_;
};

inline constexpr int kMaxFilterDepth = 32;
inline constexpr int kMaxFilterConditions = 256;
inline constexpr int kMaxFilterValues = 10000;

// Parses a filter expression. Errors are invalid_argument with the 1-based
// column (in characters) where the problem is: "filter: expected a value after
// '>=' at column 12".
Result<Filter> parse_filter(std::string_view expression);

// A boolean SQL expression and the values for its '?' placeholders, in order.
// Every value of the filter is a parameter (a string, an int64 or a double);
// field names appear only as quoted JSON paths inside SQL string literals.
struct SqlFilter {
  std::string where;
  std::vector<nlohmann::json> params;
};

// The filter as an SQL expression over `json_column`, a column (or
// "table.column") holding each document's metadata as JSON text written by
// nlohmann::json::dump (SQL NULL counts as no metadata). The expression
// evaluates to 0 or 1, never NULL, so it can be negated or combined freely.
// It may reorder the operands of AND and OR.
// Precondition: json_column is made of [A-Za-z0-9_.] (it is code, not input).
SqlFilter filter_to_sql(const Filter& filter, std::string_view json_column);

// Whether the metadata object `meta` passes the filter: exactly the rows that
// filter_to_sql selects when the column holds meta.dump().
bool filter_matches(const Filter& filter, const nlohmann::json& meta);

// The canonical form: upper-case keywords, `=`/`!=`, double-quoted strings,
// parentheses only where needed. parse_filter(filter_to_string(f)) gives f.
std::string filter_to_string(const Filter& filter);

// Binds sql.params to the placeholders first_index, first_index + 1, ... of
// `stmt` (placeholder indexes are 1-based in SQLite).
Status bind_filter_params(sqlite3_stmt* stmt, int first_index, const SqlFilter& sql);

}  // namespace simile
