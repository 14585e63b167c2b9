#include "text/wordpiece.h"

#include <algorithm>
#include <string>

namespace simile::text {

namespace {

inline bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Whether `word` has more than `limit` code points (stops counting early).
bool count_code_points_exceeds(std::string_view word, size_t limit) {
  if (word.size() <= limit) return false;  // a code point takes at least one byte
  size_t n = 0;
  for (char c : word) {
    n += !is_continuation_byte(c);
    if (n > limit) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<WordPiece>> WordPiece::create(const std::vector<std::pair<std::string, int32_t>>& vocab,
                                                     Options options) {
  std::unique_ptr<WordPiece> wp(new WordPiece());
  wp->options_ = std::move(options);
  size_t total = 0;
  int32_t max_id = -1;
  for (const auto& [text, id] : vocab) {
    if (id < 0) return Status::corrupt("WordPiece vocab entry '" + text + "' has a negative id");
    total += text.size();
    max_id = std::max(max_id, id);
  }
  // Ids index a table; refuse wildly sparse ones rather than allocate for them.
  if (static_cast<size_t>(max_id) > 4 * vocab.size() + 1024) {
    return Status::corrupt("WordPiece vocab ids are not dense (largest id " + std::to_string(max_id) + " for " +
                           std::to_string(vocab.size()) + " entries)");
  }
  wp->arena_.reserve(total);  // views below stay valid: no reallocation
  wp->whole_.reserve(vocab.size());
  wp->by_id_.assign(static_cast<size_t>(max_id + 1), std::string_view());
  const std::string& prefix = wp->options_.continuing_subword_prefix;
  for (const auto& [text, id] : vocab) {
    const size_t at = wp->arena_.size();
    wp->arena_.append(text);
    const std::string_view key(wp->arena_.data() + at, text.size());
    const Entry entry{id, key};
    wp->whole_.insert_or_assign(key, entry);
    wp->by_id_[static_cast<size_t>(id)] = key;
    wp->max_whole_bytes_ = std::max(wp->max_whole_bytes_, key.size());
    if (!prefix.empty() && key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) {
      const std::string_view rest = key.substr(prefix.size());
      wp->continuation_.insert_or_assign(rest, entry);
      wp->max_continuation_bytes_ = std::max(wp->max_continuation_bytes_, rest.size());
    }
  }
  if (prefix.empty()) {
    wp->continuation_ = wp->whole_;
    wp->max_continuation_bytes_ = wp->max_whole_bytes_;
  }
  if (auto it = wp->whole_.find(wp->options_.unk_token); it != wp->whole_.end()) wp->unk_ = it->second;
  return wp;
}

Status WordPiece::tokenize(std::string_view word, std::vector<ModelToken>* out) const {
  const size_t first_new = out->size();
  const uint32_t len = static_cast<uint32_t>(word.size());
  bool bad = count_code_points_exceeds(word, options_.max_input_chars_per_word);
  uint32_t start = 0;
  while (!bad && start < len) {
    const Map& map = start == 0 ? whole_ : continuation_;
    const size_t max_bytes = start == 0 ? max_whole_bytes_ : max_continuation_bytes_;
    // Candidates longer than the longest key cannot match: start below that
    // length, on a character boundary, and shorten one character at a time.
    uint32_t end = static_cast<uint32_t>(std::min<size_t>(len, start + max_bytes));
    while (end > start && end < len && is_continuation_byte(word[end])) --end;
    bool found = false;
    while (end > start) {
      auto it = map.find(word.substr(start, end - start));
      if (it != map.end()) {
        out->push_back({it->second.id, start, end, it->second.text});
        found = true;
        break;
      }
      --end;
      while (end > start && is_continuation_byte(word[end])) --end;
    }
    if (!found) bad = true;
    start = found ? end : start;
  }
  if (!bad) return Status::ok();
  out->resize(first_new);
  if (!unk_) {
    return Status::corrupt("WordPiece unk_token '" + options_.unk_token + "' is not in the vocabulary");
  }
  out->push_back({unk_->id, 0, len, unk_->text});
  return Status::ok();
}

std::optional<int32_t> WordPiece::token_to_id(std::string_view token) const {
  auto it = whole_.find(token);
  if (it == whole_.end()) return std::nullopt;
  return it->second.id;
}

std::optional<std::string_view> WordPiece::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= by_id_.size() || by_id_[static_cast<size_t>(id)].data() == nullptr) {
    return std::nullopt;
  }
  return by_id_[static_cast<size_t>(id)];
}

}  // namespace simile::text
