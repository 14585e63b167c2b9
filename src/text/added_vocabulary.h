// Added tokens (tokenizer.json "added_tokens": [CLS], [MASK], <mask>, ...):
// strings cut out of the text before the model sees it, each becoming one id.
//
// Tokens with normalized=false match the raw input; tokens with normalized=true
// match the normalized text, against their own normalized content. Matching is
// leftmost-longest and non-overlapping, as the Aho-Corasick automaton of the
// reference; single_word, lstrip and rstrip then filter or widen each match.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace simile::text {

class Normalizer;

struct AddedToken {
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of a text: [begin, end) bytes and, when it is an added token, its id.
struct TextSplit {
  uint32_t begin;
  uint32_t end;
  int32_t id;  // -1: ordinary text, to be normalized and tokenized
};

class AddedVocabulary {
 public:
  // Adds tokens in file order. A token whose content the model knows takes the
  // model's id; others get ids after the model's vocabulary, in order (what the
  // reference does, whatever ids the file lists). `model_id(content)` looks the
  // content up in the model; `model_size` is the model's vocabulary size.
  template <typename ModelLookup>
  void add(const std::vector<AddedToken>& tokens, ModelLookup model_id, size_t model_size);

  // Builds the matchers; normalized tokens are matched by their content after
  // `normalizer` (may be null). Call once after add().
  void build(const Normalizer* normalizer);

  bool empty() const { return tokens_.empty(); }
  bool has_normalized_tokens() const { return !normalized_.empty(); }
  size_t size() const { return tokens_.size(); }
  std::optional<int32_t> token_to_id(std::string_view content) const;
  const std::string* id_to_token(int32_t id) const;
  // Number of added tokens whose ids are outside the model's vocabulary.
  size_t count_outside_model() const { return outside_model_; }

  // Splits `text` (the raw input) at added tokens with normalized=false.
  // Appends splits covering all of text, in order; empty text gives none.
  void split_raw(std::string_view text, std::vector<TextSplit>* out) const { split(raw_, text, out); }
  // Same, on normalized text, for tokens with normalized=true.
  void split_normalized(std::string_view text, std::vector<TextSplit>* out) const { split(normalized_, text, out); }

 private:
  // A byte trie over the patterns of one matcher.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, uint32_t>> next;  // sorted by byte
      int32_t token = -1;                                    // index into tokens_ when a pattern ends here
    };
    std::vector<Node> nodes;
    bool first_byte[256] = {};
    bool empty() const { return nodes.size() <= 1; }
    void insert(std::string_view pattern, int32_t token);
    // Longest pattern starting at text[pos]: its end, or 0 with *token = -1.
    size_t longest_at(std::string_view text, size_t pos, int32_t* token) const;
  };

  struct Entry {
    AddedToken token;
    int32_t id;
  };

  void split(const Trie& trie, std::string_view text, std::vector<TextSplit>* out) const;

  std::vector<Entry> tokens_;
  std::unordered_map<std::string, size_t> by_content_;  // -> index in tokens_
  std::unordered_map<int32_t, size_t> by_id_;           // -> index in tokens_
  size_t outside_model_ = 0;
  Trie raw_;
  Trie normalized_;
};

template <typename ModelLookup>
void AddedVocabulary::add(const std::vector<AddedToken>& tokens, ModelLookup model_id, size_t model_size) {
  int64_t next_id = static_cast<int64_t>(model_size);
  for (const Entry& e : tokens_) next_id = std::max<int64_t>(next_id, e.id + 1);
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    if (auto it = by_content_.find(t.content); it != by_content_.end()) {
      // Same content again: the later definition replaces the earlier one
      // and keeps its id.
      tokens_[it->second].token = t;
      continue;
    }
    std::optional<int32_t> id = model_id(t.content);
    if (!id) {
      id = static_cast<int32_t>(next_id++);
      ++outside_model_;
    }
    by_content_.emplace(t.content, tokens_.size());
    by_id_[*id] = tokens_.size();
    tokens_.push_back({t, *id});
  }
}

}  // namespace simile::text
