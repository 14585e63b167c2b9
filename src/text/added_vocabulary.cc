#include "text/added_vocabulary.h"

#include "text/normalizer.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace simile::text {

namespace {

// The code point that ends text[0, end), for single_word and lstrip checks.
char32_t char_before(std::string_view text, size_t end, size_t* start) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  *start = b;
  return decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + b, end - b).cp;
}

char32_t char_at(std::string_view text, size_t pos, uint32_t* len) {
  const Utf8Step st = decode_utf8(reinterpret_cast<const unsigned char*>(text.data()) + pos, text.size() - pos);
  *len = st.len;
  return st.cp;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, int32_t token) {
  if (pattern.empty()) return;
  if (nodes.empty()) nodes.emplace_back();
  uint32_t node = 0;
  for (unsigned char b : pattern) {
    auto& next = nodes[node].next;
    auto it =
        std::lower_bound(next.begin(), next.end(), b,
                         [](const std::pair<unsigned char, uint32_t>& e, unsigned char v) { return e.first < v; });
    if (it != next.end() && it->first == b) {
      node = it->second;
      continue;
    }
    const uint32_t child = static_cast<uint32_t>(nodes.size());
    next.insert(it, {b, child});
    nodes.emplace_back();  // invalidates `next`, which is not used again
    node = child;
  }
  nodes[node].token = token;
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
}

size_t AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos, int32_t* token) const {
  *token = -1;
  size_t best = 0;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    const auto& next = nodes[node].next;
    auto it =
        std::lower_bound(next.begin(), next.end(), b,
                         [](const std::pair<unsigned char, uint32_t>& e, unsigned char v) { return e.first < v; });
    if (it == next.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      *token = nodes[node].token;
      best = i + 1;
    }
  }
  return best;
}

void AddedVocabulary::build(const Normalizer* normalizer) {
  raw_ = Trie();
  normalized_ = Trie();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i].token;
    if (t.normalized) {
      const std::string pattern = normalize_string(normalizer, t.content);
      if (!pattern.empty()) normalized_.insert(pattern, static_cast<int32_t>(i));
    } else {
      raw_.insert(t.content, static_cast<int32_t>(i));
    }
  }
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

const std::string* AddedVocabulary::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  return &tokens_[it->second].token.content;
}

void AddedVocabulary::split(const Trie& trie, std::string_view text, std::vector<TextSplit>* out) const {
  const uint32_t n = static_cast<uint32_t>(text.size());
  if (n == 0) return;
  if (trie.empty()) {
    out->push_back({0, n, -1});
    return;
  }
  uint32_t done = 0;  // text before this is already in *out
  size_t pos = 0;
  while (pos < n) {
    if (!trie.first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t index;
    const size_t match_end = trie.longest_at(text, pos, &index);
    if (index < 0) {
      ++pos;
      continue;
    }
    uint32_t start = static_cast<uint32_t>(pos);
    uint32_t stop = static_cast<uint32_t>(match_end);
    // The automaton resumes after the match whether or not it is kept.
    pos = match_end;
    const Entry& e = tokens_[static_cast<size_t>(index)];
    if (e.token.single_word) {
      size_t unused;
      const bool word_before = start > 0 && is_word_char(char_before(text, start, &unused));
      uint32_t len;
      const bool word_after = stop < n && is_word_char(char_at(text, stop, &len));
      if (word_before || word_after) continue;
    }
    if (e.token.lstrip) {
      // Take the whitespace before the token, but not what an earlier split owns.
      size_t b = start;
      size_t char_start;
      while (b > 0 && is_white_space(char_before(text, b, &char_start))) b = char_start;
      start = std::max(static_cast<uint32_t>(b), done);
    }
    if (e.token.rstrip) {
      uint32_t len;
      while (stop < n && is_white_space(char_at(text, stop, &len))) stop += len;
    }
    // Only a pattern that starts with whitespace after an rstrip token could
    // begin inside the previous split; keep the splits disjoint.
    start = std::max(start, done);
    if (stop <= start) continue;
    if (done < start) out->push_back({done, start, -1});
    out->push_back({start, stop, e.id});
    done = stop;
  }
  if (done < n) out->push_back({done, n, -1});
}

}  // namespace simile::text
