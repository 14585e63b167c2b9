// WordPiece (BERT): greedy longest-match-first over the vocabulary; pieces after
// the first carry the continuing-subword prefix ("##"). A word longer than
// max_input_chars_per_word, or one that cannot be covered completely, becomes
// the single unk token.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/model.h"

namespace simile::text {

class WordPiece final : public Model {
 public:
  struct Options {
    std::string unk_token = "[UNK]";
    std::string continuing_subword_prefix = "##";
    size_t max_input_chars_per_word = 100;
  };

  // `vocab` maps token text to id (as tokenizer.json's "vocab" object).
  static Result<std::unique_ptr<WordPiece>> create(const std::vector<std::pair<std::string, int32_t>>& vocab,
                                                   Options options);

  std::string_view type() const override { return "WordPiece"; }
  Status tokenize(std::string_view word, std::vector<ModelToken>* out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string_view> id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return whole_.size(); }

 private:
  struct Entry {
    int32_t id;
    std::string_view text;  // the full vocabulary entry
  };
  using Map = std::unordered_map<std::string_view, Entry>;

  WordPiece() = default;

  Options options_;
  std::string arena_;  // every vocabulary entry, back to back; the maps view into it
  Map whole_;          // all entries: looked up for a word's first piece
  Map continuation_;   // entries with the prefix, keyed without it: later pieces
  std::vector<std::string_view> by_id_;
  size_t max_whole_bytes_ = 0;         // longest key of whole_
  size_t max_continuation_bytes_ = 0;  // longest key of continuation_
  std::optional<Entry> unk_;
};

}  // namespace simile::text
