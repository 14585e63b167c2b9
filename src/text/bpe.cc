#include "text/bpe.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace simile::text {

namespace {

inline bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A symbol of the word being merged: a doubly linked list over an array, as
// merges only ever join a symbol with its right neighbour (which is emptied).
struct Symbol {
  int32_t id;
  int32_t prev;  // -1: none
  int32_t next;  // -1: none
  uint32_t len;  // bytes of the word; 0 once merged into its left neighbour
};

struct Candidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
};

// priority_queue keeps its largest element on top: "larger" here is the lower
// rank, then the leftmost position.
struct LaterMerge {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

struct MergeWorkspace {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::string scratch;
};

thread_local MergeWorkspace tls_merge;

void add_symbol(std::vector<Symbol>* symbols, int32_t id, uint32_t len) {
  const auto n = static_cast<int32_t>(symbols->size());
  if (n > 0) symbols->back().next = n;
  symbols->push_back({id, n - 1, -1, len});
}

constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

Result<std::unique_ptr<Bpe>> Bpe::create(const std::vector<std::pair<std::string, int32_t>>& vocab,
                                         const std::vector<std::pair<std::string, std::string>>& merges,
                                         Options options) {
  std::unique_ptr<Bpe> bpe(new Bpe());
  bpe->options_ = std::move(options);
  size_t total = 0;
  int32_t max_id = -1;
  for (const auto& [text, id] : vocab) {
    if (id < 0) return Status::corrupt("BPE vocab entry '" + text + "' has a negative id");
    total += text.size();
    max_id = std::max(max_id, id);
  }
  // Ids index a table; refuse wildly sparse ones rather than allocate for them.
  if (static_cast<size_t>(max_id) > 4 * vocab.size() + 1024) {
    return Status::corrupt("BPE vocab ids are not dense (largest id " + std::to_string(max_id) + " for " +
                           std::to_string(vocab.size()) + " entries)");
  }
  bpe->arena_.reserve(total);  // views below stay valid: no reallocation
  bpe->vocab_.reserve(vocab.size());
  bpe->by_id_.assign(static_cast<size_t>(max_id + 1), std::string_view());
  for (const auto& [text, id] : vocab) {
    const size_t at = bpe->arena_.size();
    bpe->arena_.append(text);
    const std::string_view key(bpe->arena_.data() + at, text.size());
    bpe->vocab_.insert_or_assign(key, id);
    bpe->by_id_[static_cast<size_t>(id)] = key;
  }

  const size_t prefix_len = bpe->options_.continuing_subword_prefix.size();
  bpe->merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto a_id = bpe->token_to_id(a);
    auto b_id = bpe->token_to_id(b);
    if (!a_id || !b_id) {
      return Status::corrupt("BPE merge " + std::to_string(rank + 1) + " ('" + a + " " + b + "') uses '" +
                             (a_id ? b : a) + "', which is not in the vocabulary");
    }
    // The right part loses its continuing-subword prefix in the merged token
    // (the reference cuts that many bytes whatever they are).
    if (b.size() < prefix_len) {
      return Status::corrupt("BPE merge " + std::to_string(rank + 1) + " ('" + a + " " + b +
                             "'): the right part is shorter than continuing_subword_prefix");
    }
    const std::string merged = a + b.substr(prefix_len);
    auto new_id = bpe->token_to_id(merged);
    if (!new_id) {
      return Status::corrupt("BPE merge " + std::to_string(rank + 1) + " ('" + a + " " + b + "') makes '" + merged +
                             "', which is not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as the reference's hash map does.
    bpe->merges_.insert_or_assign(pair_key(*a_id, *b_id), Merge{static_cast<uint32_t>(rank), *new_id});
  }

  for (int b = 0; b < 256; ++b) {
    const char name[] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    auto id = bpe->token_to_id(std::string_view(name, sizeof(name)));
    bpe->byte_ids_[static_cast<size_t>(b)] = id.value_or(-1);
  }
  return bpe;
}

std::optional<int32_t> Bpe::char_id(std::string_view word, size_t begin, size_t end, std::string* scratch) const {
  const bool first = begin == 0, last = end == word.size();
  const bool with_prefix = !first && !options_.continuing_subword_prefix.empty();
  const bool with_suffix = last && !options_.end_of_word_suffix.empty();
  if (!with_prefix && !with_suffix) return token_to_id(word.substr(begin, end - begin));
  scratch->clear();
  if (with_prefix) scratch->append(options_.continuing_subword_prefix);
  scratch->append(word.substr(begin, end - begin));
  if (with_suffix) scratch->append(options_.end_of_word_suffix);
  return token_to_id(*scratch);
}

Status Bpe::merge_word(std::string_view word, std::vector<Piece>* pieces) const {
  MergeWorkspace& ws = tls_merge;
  std::vector<Symbol>& symbols = ws.symbols;
  symbols.clear();
  const size_t n = word.size();

  // 1. One symbol per character (or its byte tokens, or unk).
  std::optional<Symbol> unk;  // the pending unk: id and length
  for (size_t i = 0; i < n;) {
    size_t end = i + 1;
    while (end < n && is_continuation_byte(word[end])) ++end;
    const auto byte_len = static_cast<uint32_t>(end - i);
    if (auto id = char_id(word, i, end, &ws.scratch)) {
      if (unk) add_symbol(&symbols, unk->id, unk->len);
      unk.reset();
      add_symbol(&symbols, *id, byte_len);
      i = end;
      continue;
    }
    if (options_.byte_fallback) {
      // The bytes of the looked-up string, prefix and suffix included, each
      // one token of length 1 (the reference's accounting). A pending unk
      // stays pending, so it comes after them.
      std::string s;
      if (i > 0) s += options_.continuing_subword_prefix;
      s.append(word.substr(i, end - i));
      if (end == n) s += options_.end_of_word_suffix;
      const bool all =
          std::all_of(s.begin(), s.end(), [&](char c) { return byte_ids_[static_cast<unsigned char>(c)] >= 0; });
      if (all) {
        for (char c : s) add_symbol(&symbols, byte_ids_[static_cast<unsigned char>(c)], 1);
        i = end;
        continue;
      }
    }
    if (options_.unk_token) {
      if (unk && options_.fuse_unk) {
        unk->len += byte_len;
      } else {
        if (unk) add_symbol(&symbols, unk->id, unk->len);
        auto unk_id = token_to_id(*options_.unk_token);
        if (!unk_id) {
          return Status::corrupt("BPE unk_token '" + *options_.unk_token + "' is not in the vocabulary");
        }
        unk = Symbol{*unk_id, -1, -1, byte_len};
      }
    }
    // No unk_token: the character is dropped.
    i = end;
  }
  if (unk) add_symbol(&symbols, unk->id, unk->len);

  // 2. Merges, lowest rank first; entries made stale by an earlier merge are
  // recognised and skipped when popped.
  std::vector<Candidate>& heap = ws.heap;
  heap.clear();
  auto lookup = [&](int32_t a, int32_t b) -> const Merge* {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (size_t p = 0; p + 1 < symbols.size(); ++p) {
    if (const Merge* m = lookup(symbols[p].id, symbols[p + 1].id)) {
      heap.push_back({m->rank, static_cast<uint32_t>(p), m->new_id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), LaterMerge());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LaterMerge());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& cur = symbols[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    const Symbol right = symbols[static_cast<size_t>(cur.next)];
    const Merge* still = lookup(cur.id, right.id);
    if (still == nullptr || still->new_id != top.new_id) continue;
    symbols[static_cast<size_t>(cur.next)].len = 0;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(top.pos);
    if (cur.prev >= 0) {
      if (const Merge* m = lookup(symbols[static_cast<size_t>(cur.prev)].id, cur.id)) {
        heap.push_back({m->rank, static_cast<uint32_t>(cur.prev), m->new_id});
        std::push_heap(heap.begin(), heap.end(), LaterMerge());
      }
    }
    if (cur.next >= 0) {
      if (const Merge* m = lookup(cur.id, symbols[static_cast<size_t>(cur.next)].id)) {
        heap.push_back({m->rank, top.pos, m->new_id});
        std::push_heap(heap.begin(), heap.end(), LaterMerge());
      }
    }
  }

  pieces->clear();
  for (const Symbol& s : symbols) {
    if (s.len != 0) pieces->push_back({s.id, s.len});
  }
  return Status::ok();
}

Status Bpe::tokenize(std::string_view word, std::vector<ModelToken>* out) const {
  if (word.empty()) return Status::ok();
  const auto n = static_cast<uint32_t>(word.size());
  if (options_.ignore_merges) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out->push_back({it->second, 0, n, it->first});
      return Status::ok();
    }
  }
  auto emit = [&](const std::vector<Piece>& pieces) {
    uint32_t at = 0;
    for (const Piece& p : pieces) {
      // Byte-fallback pieces of a prefixed/suffixed character can count more
      // bytes than the word has; keep offsets inside it.
      const uint32_t begin = std::min(at, n), end = std::min(at + p.len, n);
      out->push_back({p.id, begin, end, by_id_[static_cast<size_t>(p.id)]});
      at += p.len;
    }
  };

  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  CacheShard& shard = cache_[std::hash<std::string_view>()(word) % kCacheShards];
  if (cacheable) {
    std::unique_lock<std::mutex> lock(shard.mu, std::try_to_lock);
    if (lock.owns_lock()) {
      if (auto it = shard.words.find(word); it != shard.words.end()) {
        emit(it->second);
        return Status::ok();
      }
    }
  }
  thread_local std::vector<Piece> pieces;
  SIMILE_RETURN_IF_ERROR(merge_word(word, &pieces));
  emit(pieces);
  if (cacheable) {
    std::unique_lock<std::mutex> lock(shard.mu, std::try_to_lock);
    if (lock.owns_lock() && shard.words.size() < kCacheCapacity / kCacheShards) {
      shard.words.emplace(std::string(word), pieces);
    }
  }
  return Status::ok();
}

std::optional<int32_t> Bpe::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> Bpe::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= by_id_.size() || by_id_[static_cast<size_t>(id)].data() == nullptr) {
    return std::nullopt;
  }
  return by_id_[static_cast<size_t>(id)];
}

}  // namespace simile::text
