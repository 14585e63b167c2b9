// BPE (GPT-2, RoBERTa, Llama-style byte_fallback models): a word starts as one
// symbol per character and the merge of lowest rank among adjacent symbol
// pairs is applied until none applies; each final symbol is one token.
//
// Semantics are those of the Hugging Face tokenizers library:
//  - a character missing from the vocabulary becomes its <0xNN> byte tokens
//    when byte_fallback is set and they all exist, else the unk token (runs of
//    them fused into one when fuse_unk), else it is dropped (no unk_token);
//  - continuing_subword_prefix is added to every character after the first
//    and end_of_word_suffix to the last, before the vocabulary lookup;
//  - ignore_merges: a word that is itself in the vocabulary is one token;
//  - equal ranks merge leftmost first (a min-heap on (rank, position)).
// Only deterministic BPE is supported: dropout must be absent or 0.
//
// Thread safety: tokenize() may run on many threads; the word cache is
// sharded and never blocks (a busy shard is simply bypassed).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/model.h"

namespace simile::text {

class Bpe final : public Model {
 public:
  struct Options {
    std::optional<std::string> unk_token;
    std::string continuing_subword_prefix;
    std::string end_of_word_suffix;
    bool fuse_unk = false;
    bool byte_fallback = false;
    bool ignore_merges = false;
  };

  // `vocab` maps token text to id; `merges` are (left, right) pairs in rank
  // order. Fails when a merge names a token, or makes one, that is not in the
  // vocabulary (as the reference does).
  static Result<std::unique_ptr<Bpe>> create(const std::vector<std::pair<std::string, int32_t>>& vocab,
                                             const std::vector<std::pair<std::string, std::string>>& merges,
                                             Options options);

  std::string_view type() const override { return "BPE"; }
  Status tokenize(std::string_view word, std::vector<ModelToken>* out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string_view> id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

  // Words of at most this many bytes are cached, up to kCacheCapacity words.
  static constexpr size_t kCacheMaxWordBytes = 256;
  static constexpr size_t kCacheCapacity = 10000;

 private:
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  // A final symbol of a word: token id and length in bytes of the word.
  struct Piece {
    int32_t id;
    uint32_t len;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct CacheShard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<Piece>, StringHash, std::equal_to<>> words;
  };
  static constexpr size_t kCacheShards = 16;

  Bpe() = default;
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  // The vocabulary id of the symbol for word[begin, end): with the prefix
  // unless first, the suffix if last.
  std::optional<int32_t> char_id(std::string_view word, size_t begin, size_t end, std::string* scratch) const;
  // Splits `word` into pieces and applies the merges.
  Status merge_word(std::string_view word, std::vector<Piece>* pieces) const;

  Options options_;
  std::string arena_;  // every vocabulary entry, back to back; the maps view into it
  std::unordered_map<std::string_view, int32_t> vocab_;
  std::vector<std::string_view> by_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> merge
  std::array<int32_t, 256> byte_ids_{};         // id of "<0xNN>", -1 if absent
  mutable std::array<CacheShard, kCacheShards> cache_;
};

}  // namespace simile::text
