#include "text/unigram.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace simile::text {

namespace {

// The reference's penalty below the lowest piece score for an unknown character.
constexpr double kUnkPenalty = 10.0;

inline uint32_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// One lattice position: the best path ending here.
struct BestPath {
  double score;
  int32_t start;  // byte where its last piece starts; -1: not reached yet
  int32_t id;     // that piece
};

thread_local std::vector<BestPath> tls_best;

}  // namespace

uint32_t Unigram::Trie::next(uint32_t node, uint8_t b) const {
  if (node == 0) return root_child[b];
  const uint32_t lo = first[node], hi = first[node + 1];
  for (uint32_t i = lo; i < hi; ++i) {
    if (labels[i] == b) return child[i];
    if (labels[i] > b) break;
  }
  return 0;
}

Result<std::unique_ptr<Unigram>> Unigram::create(const std::vector<std::pair<std::string, double>>& vocab,
                                                 std::optional<int32_t> unk_id, bool byte_fallback) {
  if (unk_id) {
    if (vocab.empty()) return Status::corrupt("Unigram vocab is empty but unk_id is set");
    if (*unk_id < 0 || static_cast<size_t>(*unk_id) >= vocab.size()) {
      return Status::corrupt("Unigram unk_id " + std::to_string(*unk_id) + " is not in the vocab (" +
                             std::to_string(vocab.size()) + " pieces)");
    }
  }
  std::unique_ptr<Unigram> u(new Unigram());
  u->unk_id_ = unk_id;
  u->byte_fallback_ = byte_fallback;
  size_t total = 0;
  for (const auto& [piece, score] : vocab) total += piece.size();
  u->arena_.reserve(total);  // no reallocation: the views below stay valid
  u->pieces_.reserve(vocab.size());
  u->scores_.reserve(vocab.size());
  u->ids_.reserve(vocab.size());
  u->min_score_ = vocab.empty() ? 0.0 : vocab[0].second;
  for (const auto& [piece, score] : vocab) {
    const size_t at = u->arena_.size();
    u->arena_.append(piece);
    const std::string_view key(u->arena_.data() + at, piece.size());
    const auto id = static_cast<int32_t>(u->pieces_.size());
    u->pieces_.push_back(key);
    u->scores_.push_back(score);
    u->ids_.insert_or_assign(key, id);
    u->min_score_ = std::min(u->min_score_, score);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = u->ids_.find(name);
    u->byte_ids_[b] = it == u->ids_.end() ? -1 : it->second;
  }
  u->build_trie();
  return u;
}

void Unigram::build_trie() {
  std::vector<std::pair<std::string_view, int32_t>> keys;
  keys.reserve(ids_.size());
  for (const auto& [piece, id] : ids_) {
    if (!piece.empty()) keys.emplace_back(piece, id);
  }
  std::sort(keys.begin(), keys.end());
  // Breadth first, so that each node's children are created together.
  struct Pending {
    uint32_t lo, hi, depth;  // the keys below this node, and its depth
  };
  std::vector<Pending> nodes{{0, static_cast<uint32_t>(keys.size()), 0}};
  Trie& t = trie_;
  t.piece.assign(1, -1);
  for (size_t node = 0; node < nodes.size(); ++node) {
    auto [lo, hi, depth] = nodes[node];
    if (lo < hi && keys[lo].first.size() == depth) t.piece[node] = keys[lo++].second;  // shortest sorts first
    t.first.push_back(static_cast<uint32_t>(t.labels.size()));
    while (lo < hi) {
      const auto b = static_cast<uint8_t>(keys[lo].first[depth]);
      uint32_t end = lo + 1;
      while (end < hi && static_cast<uint8_t>(keys[end].first[depth]) == b) ++end;
      t.labels.push_back(b);
      t.child.push_back(static_cast<uint32_t>(nodes.size()));
      nodes.push_back({lo, end, depth + 1});
      t.piece.push_back(-1);
      lo = end;
    }
  }
  t.first.push_back(static_cast<uint32_t>(t.labels.size()));
  std::fill(std::begin(t.root_child), std::end(t.root_child), 0u);
  for (uint32_t i = t.first[0]; i < t.first[1]; ++i) t.root_child[t.labels[i]] = t.child[i];
}

Status Unigram::tokenize(std::string_view word, std::vector<ModelToken>* out) const {
  const auto n = static_cast<uint32_t>(word.size());
  if (n == 0) return Status::ok();
  const double unk_score = min_score_ - kUnkPenalty;
  std::vector<BestPath>& best = tls_best;
  best.assign(n + 1, BestPath{0.0, -1, 0});
  const auto* p = reinterpret_cast<const unsigned char*>(word.data());

  // Forward: from every character start, relax the nodes of the pieces that
  // start there. Ties keep the earlier start (only a strictly better score
  // replaces), as the reference does.
  for (uint32_t start = 0; start < n;) {
    const double here = best[start].score;
    const uint32_t char_len = std::min(utf8_length(p[start]), n - start);
    bool has_single_char_piece = false;
    uint32_t node = 0;
    for (uint32_t end = start; end < n;) {
      node = trie_.next(node, p[end]);
      if (node == 0) break;
      ++end;
      const int32_t id = trie_.piece[node];
      if (id < 0) continue;
      const double score = here + scores_[static_cast<size_t>(id)];
      BestPath& target = best[end];
      if (target.start < 0 || score > target.score) target = {score, static_cast<int32_t>(start), id};
      if (end - start == char_len) has_single_char_piece = true;
    }
    if (!has_single_char_piece) {
      if (!unk_id_) {
        return Status::corrupt("Unigram model has no unk_id but the text has a character outside its vocabulary");
      }
      const double score = here + unk_score;
      BestPath& target = best[start + char_len];
      if (target.start < 0 || score > target.score) target = {score, static_cast<int32_t>(start), *unk_id_};
    }
    start += char_len;
  }

  // Backward: read the best path, fusing runs of unknown nodes.
  const size_t first_new = out->size();
  uint32_t end = n;
  uint32_t unk_end = 0;  // end of the run of unknown nodes being fused, 0: none
  auto emit_unknown = [&](uint32_t b, uint32_t e) {
    const std::string_view text = word.substr(b, e - b);
    if (auto it = ids_.find(text); it != ids_.end()) {
      out->push_back({it->second, b, e, it->first});
      return;
    }
    if (byte_fallback_) {
      bool all = true;
      for (uint32_t i = b; i < e && all; ++i) all = byte_ids_[p[i]] >= 0;
      if (all) {
        // Pushed in reverse like everything else here.
        for (uint32_t i = e; i > b; --i) {
          const int32_t id = byte_ids_[p[i - 1]];
          out->push_back({id, b, e, pieces_[static_cast<size_t>(id)]});
        }
        return;
      }
    }
    out->push_back({*unk_id_, b, e, text});
  };
  while (end > 0) {
    const BestPath& node = best[end];
    const auto start = static_cast<uint32_t>(node.start);
    if (unk_id_ && node.id == *unk_id_) {
      if (unk_end == 0) unk_end = end;
    } else {
      if (unk_end != 0) {
        emit_unknown(end, unk_end);
        unk_end = 0;
      }
      out->push_back({node.id, start, end, pieces_[static_cast<size_t>(node.id)]});
    }
    end = start;
  }
  if (unk_end != 0) emit_unknown(0, unk_end);
  std::reverse(out->begin() + static_cast<std::ptrdiff_t>(first_new), out->end());
  return Status::ok();
}

std::optional<int32_t> Unigram::token_to_id(std::string_view token) const {
  auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> Unigram::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return std::nullopt;
  return pieces_[static_cast<size_t>(id)];
}

}  // namespace simile::text
