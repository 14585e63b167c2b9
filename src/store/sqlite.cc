#include "store/sqlite.h"

#include <sys/statvfs.h>
#include <cerrno>
#include <unistd.h>

#include <utility>

namespace simile::sqlite {

int64_t memory_in_use() { return sqlite3_memory_used(); }


namespace {

constexpr const char* kDiskFull = "the disk is full";

// Why a database that exists cannot be written, or "" when it can: a
// read-only file system (even root cannot write there), or a file or
// directory this user may not write (WAL mode needs the directory too, for
// the -wal and -shm files).
std::string read_only_reason(const std::string& path) {
  struct statvfs fs {};
  if (statvfs(path.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) return "on a read-only file system";
  if (access(path.c_str(), W_OK) != 0) return "the file is not writable";
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (access(dir.c_str(), W_OK) != 0) return "its directory is not writable";
  return "";
}

}  // namespace

Result<Database> Database::open(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) {
    std::string reason = read_only_reason(path);
    if (!reason.empty()) return open_read_only(path, std::move(reason));
  }
  Database db;
  db.path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db.db_ != nullptr ? sqlite3_errmsg(db.db_) : sqlite3_errstr(rc);
    return Status::io_error("cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db.db_, 1);
  sqlite3_busy_timeout(db.db_, 10000);
  // WAL + synchronous=FULL: COMMIT returns only after the log is fsynced,
  // so an acknowledged write survives a crash or power loss.
  auto mode = db.prepare("PRAGMA journal_mode=WAL");
  auto row = mode.is_ok() ? mode->step() : Result<bool>(mode.status());
  // On a full disk even opening writes (the -shm file): it can still be read.
  if (!row.is_ok() && row.status().code() == Status::Code::kResourceExhausted && access(path.c_str(), F_OK) == 0)
    return open_read_only(path, kDiskFull);
  if (!row.is_ok()) return row.status();
  if (*row && mode->column_text(0) != "wal")
    return Status::io_error("database " + path + ": cannot use write-ahead logging (journal mode " +
                            mode->column_text(0) + ")");
  SIMILE_RETURN_IF_ERROR(db.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

Result<Database> Database::open_read_only(const std::string& path, std::string reason) {
  // A WAL database is readable without write access only through its -shm
  // file, or, when that cannot be made, as immutable: safe here because no
  // one can write to it either.
  for (const char* mode : {"mode=ro", "immutable=1"}) {
    Database db;
    db.path_ = path;
    db.read_only_reason_ = reason;
    std::string uri = "file:";
    for (char c : path) {
      // Percent-encode what a URI path cannot hold as is.
      if (c == '%' || c == '?' || c == '#') {
        static const char* hex = "0123456789ABCDEF";
        uri += '%';
        uri += hex[static_cast<unsigned char>(c) >> 4];
        uri += hex[static_cast<unsigned char>(c) & 15];
      } else {
        uri += c;
      }
    }
    uri += std::string("?") + mode;
    int rc = sqlite3_open_v2(uri.c_str(), &db.db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) continue;
    sqlite3_extended_result_codes(db.db_, 1);
    sqlite3_busy_timeout(db.db_, 10000);
    // The first read shows whether this way of opening works.
    if (!db.exec("PRAGMA foreign_keys=ON; SELECT count(*) FROM sqlite_schema;").is_ok()) continue;
    return db;
  }
  return Status::io_error("cannot open database " + path + " (" + reason + "): it cannot be read either");
}

Database::Database(Database&& other) noexcept
    : db_(other.db_), path_(std::move(other.path_)), read_only_reason_(std::move(other.read_only_reason_)) {
  other.db_ = nullptr;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = other.db_;
    path_ = std::move(other.path_);
    read_only_reason_ = std::move(other.read_only_reason_);
    other.db_ = nullptr;
  }
  return *this;
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::error(std::string_view context) const {
  int code = sqlite3_errcode(db_) & 0xff;
  // SQLite says SQLITE_FULL for ENOSPC on some writes and a plain I/O error
  // on others (and for EFBIG, a file size limit, and EDQUOT, a quota).
  const int os_error = sqlite3_system_errno(db_);
  if (code == SQLITE_IOERR && (os_error == ENOSPC || os_error == EFBIG || os_error == EDQUOT)) code = SQLITE_FULL;
  if (code == SQLITE_FULL || (code == SQLITE_READONLY && read_only_reason_ == kDiskFull))
    return Status::resource_exhausted(path_ + ": the disk is full (or a file size limit or quota is reached); the write was rolled back and nothing stored before it was "
                                    "lost: free space and run it again");
  if (code == SQLITE_READONLY) {
    const std::string why = !read_only_reason_.empty() ? read_only_reason_ : read_only_reason(path_);
    return Status::failed_precondition(path_ + ": the database is read-only" + (why.empty() ? "" : " (" + why + ")") +
                                       ": it can be searched, not changed");
  }
  std::string msg = path_ + ": " + sqlite3_errmsg(db_);
  if (!context.empty()) msg += " (" + std::string(context) + ")";
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::corrupt(msg);
  if (code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH || code == SQLITE_TOOBIG)
    return Status::invalid_argument(msg);
  return Status::io_error(msg);
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status st = error(err != nullptr ? err : "");
    sqlite3_free(err);
    return st;
  }
  return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
    return error("preparing: " + std::string(sql.substr(0, 80)));
  return Statement(stmt, this);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    bind_error_ = other.bind_error_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

static void keep_first_error(int& slot, int rc) {
  if (slot == SQLITE_OK) slot = rc;
}

Statement& Statement::bind(int index, int64_t value) {
  keep_first_error(bind_error_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, double value) {
  keep_first_error(bind_error_, sqlite3_bind_double(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  keep_first_error(bind_error_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                                    SQLITE_UTF8));
  return *this;
}
Statement& Statement::bind_blob(int index, const void* data, size_t bytes) {
  keep_first_error(bind_error_, sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::bind_null(int index) {
  keep_first_error(bind_error_, sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::step() {
  if (bind_error_ != SQLITE_OK)
    return Status::internal(db_->path() + ": binding a parameter failed: " + sqlite3_errstr(bind_error_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = db_->error(sqlite3_sql(stmt_) != nullptr ? std::string_view(sqlite3_sql(stmt_)).substr(0, 80) : "");
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row.is_ok()) return row.status();
    if (!*row) return Status::ok();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string Statement::column_text(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  if (p == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

std::string_view Statement::column_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  if (p == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

Result<Transaction> Transaction::begin(Database& db) {
  SIMILE_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Result<Transaction> Transaction::begin_read(Database& db) {
  SIMILE_RETURN_IF_ERROR(db.exec("BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Database* db = db_;
  db_ = nullptr;
  Status st = db->exec("COMMIT");
  if (!st.is_ok()) (void)db->exec("ROLLBACK");  // a failed COMMIT may leave the transaction open
  return st;
}

}  // namespace simile::sqlite
