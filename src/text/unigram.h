// Unigram (SentencePiece's unigram language model, as Hugging Face tokenizers
// runs it): every piece has a log-probability score, and a word is cut into the
// pieces whose scores sum highest (Viterbi over all segmentations). Pieces are
// found with a byte trie, so a word of n bytes costs O(n * longest piece).
//
// Unknown characters (no piece of exactly that one character starts there) get
// a node scoring min_score - 10. Adjacent unknown nodes on the best path fuse
// into one token whose text is the unknown input itself (not "<unk>"); with
// byte_fallback it becomes one <0xXX> piece per byte when all exist.
// Differences from SentencePiece that the reference has and we keep: control
// pieces (<pad>, </s>, <unk>) are matchable like any other; a duplicated piece
// resolves to its last id.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/model.h"

namespace simile::text {

class Unigram final : public Model {
 public:
  // `vocab`: pieces in id order with their scores (tokenizer.json's list of
  // [piece, score]). `unk_id` indexes it; without one, an unknown character is
  // an error at tokenize time, as in the reference.
  static Result<std::unique_ptr<Unigram>> create(const std::vector<std::pair<std::string, double>>& vocab,
                                                 std::optional<int32_t> unk_id, bool byte_fallback);

  std::string_view type() const override { return "Unigram"; }
  // Token texts view the vocabulary, or `word` itself for unknown text.
  Status tokenize(std::string_view word, std::vector<ModelToken>* out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string_view> id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return pieces_.size(); }

  double min_score() const { return min_score_; }

 private:
  // A byte trie, flattened: node i's children are labels_/child_[first_[i],
  // first_[i + 1]), sorted by label; piece_[i] is the id ending there or -1.
  struct Trie {
    std::vector<uint32_t> first;
    std::vector<uint8_t> labels;
    std::vector<uint32_t> child;
    std::vector<int32_t> piece;
    uint32_t root_child[256];  // the root's children by byte (0 = none)
    // The child of `node` by byte `b`, or 0 (the root is never a child).
    uint32_t next(uint32_t node, uint8_t b) const;
  };

  Unigram() = default;
  void build_trie();

  std::string arena_;                     // every piece, back to back
  std::vector<std::string_view> pieces_;  // by id, into arena_
  std::vector<double> scores_;
  std::unordered_map<std::string_view, int32_t> ids_;  // piece -> last id with it
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false;
  int32_t byte_ids_[256];  // <0xXX> piece ids, -1 when absent
  double min_score_ = 0;
  Trie trie_;
};

}  // namespace simile::text
