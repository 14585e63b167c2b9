#include "search/llm_judge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "store/sqlite.h"
#include "util/hash.h"
#include "util/parallel_tasks.h"
#include "util/user_dirs.h"

namespace simile::search {

namespace {

// Part of every cache key: a change to the question put to the model makes
// earlier verdicts stale.
constexpr const char* kJudgeVersion = "plausible-answer-v1";
constexpr size_t kParallelRequests = 4;

const nlohmann::json& verdict_format() {
  static const nlohmann::json format = {
      {"type", "json_schema"},
      {"json_schema",
       {{"name", "relevance_verdict"},
        {"strict", true},
        {"schema",
         {{"type", "object"},
          {"properties", {{"plausible", {{"type", "boolean"}}}, {"confidence", {{"type", "number"}}}}},
          {"required", {"plausible", "confidence"}},
          {"additionalProperties", false}}}}}};
  return format;
}

remote::ChatRequest verdict_request(const std::string& question, const std::string& passage) {
  remote::ChatRequest r;
  r.messages.push_back({"system",
                        "You judge search results. Reply with JSON only: {\"plausible\": true or false, "
                        "\"confidence\": a number from 0 to 1}."});
  r.messages.push_back({"user", "Is the passage a plausible answer to the question?\n\nQuestion: " + question +
                                    "\n\nPassage: " + passage});
  r.temperature = 0;
  r.max_tokens = 50;
  r.response_format = verdict_format();
  return r;
}

// The verdict in a model's answer: the JSON object itself, or the first
// {...} in it (models that wrap JSON in prose or a code fence).
std::optional<Verdict> read_verdict(const std::string& content) {
  auto parse = [](std::string_view text) -> std::optional<Verdict> {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("plausible") || !j["plausible"].is_boolean()) return std::nullopt;
    Verdict v;
    v.plausible = j["plausible"].get<bool>();
    v.confidence = j.contains("confidence") && j["confidence"].is_number() ? j["confidence"].get<double>() : 1.0;
    if (!(v.confidence >= 0)) v.confidence = 0;  // also NaN
    v.confidence = std::min(v.confidence, 1.0);
    return v;
  };
  if (auto v = parse(content)) return v;
  const size_t open = content.find('{'), close = content.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  return parse(std::string_view(content).substr(open, close - open + 1));
}

// The verdict cache. Any failure to open or write it only costs the cache.
class VerdictCache {
 public:
  explicit VerdictCache(const std::string& path) {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    auto db = sqlite::Database::open(path);
    if (!db.is_ok()) return;
    if (!db->exec("CREATE TABLE IF NOT EXISTS verdicts(key TEXT PRIMARY KEY, plausible INTEGER NOT NULL, "
                  "confidence REAL NOT NULL) WITHOUT ROWID")
             .is_ok())
      return;
    db_ = std::move(db).value();
    open_ = true;
  }

  std::optional<Verdict> get(const std::string& key) {
    if (!open_) return std::nullopt;
    auto q = db_.prepare("SELECT plausible, confidence FROM verdicts WHERE key = ?");
    if (!q.is_ok()) return std::nullopt;
    q->bind(1, key);
    auto row = q->step();
    if (!row.is_ok() || !*row) return std::nullopt;
    Verdict v;
    v.plausible = q->column_int(0) != 0;
    v.confidence = q->column_double(1);
    v.cached = true;
    return v;
  }

  void put(const std::string& key, const Verdict& v) {
    if (!open_) return;
    auto q = db_.prepare("INSERT OR REPLACE INTO verdicts(key, plausible, confidence) VALUES(?, ?, ?)");
    if (!q.is_ok()) return;
    q->bind(1, key).bind(2, static_cast<int64_t>(v.plausible)).bind(3, v.confidence);
    (void)q->run();
  }

 private:
  sqlite::Database db_;
  bool open_ = false;
};

}  // namespace

float Verdict::score() const {
  const double half = confidence / 2;
  return static_cast<float>(plausible ? 0.5 + half : 0.5 - half);
}

std::string default_verdict_cache() { return user_dir(UserDirKind::kCache) + "/llm-verdicts.db"; }

Result<std::vector<std::optional<Verdict>>> judge_passages(const remote::ChatEndpoint& endpoint,
                                                           const std::string& question,
                                                           const std::vector<std::string>& passages,
                                                           const std::string& cache_path) {
  std::vector<std::optional<Verdict>> out(passages.size());
  VerdictCache cache(cache_path);
  std::vector<std::string> keys(passages.size());
  std::vector<size_t> ask;
  for (size_t i = 0; i < passages.size(); ++i) {
    ContentHash h;
    h.add(kJudgeVersion).add(endpoint.url).add(endpoint.model).add(question).add(passages[i]);
    keys[i] = h.hex();
    out[i] = cache.get(keys[i]);
    if (!out[i]) ask.push_back(i);
  }

  SIMILE_RETURN_IF_ERROR(run_tasks(ask.size(), kParallelRequests, [&](size_t n) -> Status {
    const size_t i = ask[n];
    auto reply = remote::chat(endpoint, verdict_request(question, passages[i]));
    if (!reply.is_ok()) return reply.status().with_context("LLM re-ranking");
    out[i] = read_verdict(reply->content);  // each task writes its own element
    return Status::ok();
  }));
  // Written once every answer is in, from this thread: the cache's
  // connection is not shared.
  for (size_t i : ask)
    if (out[i]) cache.put(keys[i], *out[i]);
  return out;
}

}  // namespace simile::search
