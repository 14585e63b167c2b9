// A thin RAII layer over the SQLite C API: connections and prepared
// statements whose failures come back as Status values naming the database
// file and SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simile/status.h"

namespace simile::sqlite {

class Statement;

// Bytes SQLite holds in memory across every connection (page caches,
// statements): sqlite3_memory_used().
int64_t memory_in_use();

// One connection. Not thread-safe: one thread at a time.
class Database {
 public:
  // Opens (creating if needed) with WAL, synchronous=FULL, foreign keys on
  // and a busy timeout (docs/formats/store.md). A database that exists but
  // cannot be written (read-only file system, no write permission) opens
  // read-only: reads work, writes fail with failed_precondition saying why.
  static Result<Database> open(const std::string& path);

  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  ~Database();

  Status exec(std::string_view sql);  // one or more statements, no results
  Result<Statement> prepare(std::string_view sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }
  bool read_only() const { return !read_only_reason_.empty(); }

  // The current error as a Status: "PATH: what (context)".
  Status error(std::string_view context) const;

 private:
  static Result<Database> open_read_only(const std::string& path, std::string reason);

  sqlite3* db_ = nullptr;
  std::string path_;
  std::string read_only_reason_;  // "" = writable
};

// A prepared statement. bind_* take 1-based indexes like SQLite.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind_blob(int index, const void* data, size_t bytes);
  Statement& bind_null(int index);

  // Steps once: true when a row is ready, false when done; errors as Status.
  Result<bool> step();
  // Steps to completion (for statements that return no rows).
  Status run();
  void reset();  // ready to bind and step again (bindings cleared)

  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string column_text(int i) const;
  std::string_view column_blob(int i) const;
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, const Database* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  const Database* db_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  // BEGIN (deferred) for a group of reads: one snapshot and one lock for all
  // of them instead of one per statement. Ends (rolls back) on destruction.
  static Result<Transaction> begin_read(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

}  // namespace simile::sqlite
