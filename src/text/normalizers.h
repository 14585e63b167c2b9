// The tokenizer.json normalizers beyond BertNormalizer: the Unicode normal
// forms, Lowercase, StripAccents, Replace, Prepend, Strip, Sequence, and
// SentencePiece's Precompiled charsmap (T5, ALBERT, XLM-R, mBART, ...).
//
// Each one rewrites NormChars exactly as the reference rewrites its
// NormalizedString, including where every new character points back into the
// input: the reference describes an edit as (char, change) pairs, change 0 =
// replaces the next input char, 1 = inserted (takes the previous input char's
// range), -n = replaces the next char and removes the n after it. EditWriter
// applies such pairs the same way, quirks included.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simile/status.h"
#include "text/normalizer.h"
#include "text/regex.h"

namespace simile::text {

// Applies (char, change) edits to `in` (the reference's transform()).
class EditWriter {
 public:
  // `skip`: input chars removed before the first edit (initial_offset).
  EditWriter(std::span<const NormChar> in, std::vector<NormChar>* out, size_t skip = 0)
      : in_(in), out_(out), next_(skip) {}
  void push(char32_t cp, int change);

 private:
  std::span<const NormChar> in_;
  std::vector<NormChar>* out_;
  size_t next_;  // input chars consumed
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// NFD, NFKD, NFC, NFKC with the reference's Unicode 9.0 tables and its
// alignment of reordered and composed characters.
class UnicodeNormalizer final : public Normalizer {
 public:
  enum class Form { kNfd, kNfkd, kNfc, kNfkc };
  explicit UnicodeNormalizer(Form form) : form_(form) {}
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  Form form_;
};

// Rust's char::to_lowercase, every character.
class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;
};

// Drops nonspacing marks (Mn at Unicode 8.0); meant to follow NFD/NFKD.
class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;
};

// Removes leading and/or trailing whitespace (White_Space).
class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  bool left_, right_;
};

// Puts `prefix` before a non-empty text; it points at the first character.
class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::u32string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  std::u32string prefix_;
};

// Replaces every (leftmost, non-overlapping) occurrence of a literal string,
// or every match of a regex (pattern {"Regex": r}, as CLIP's `\s+` -> " ").
// The new characters point at the last character of what they replace.
// Empty regex matches (only possible through lookarounds: create_regex()
// rejects patterns that match the empty text) replace nothing. Should PCRE2
// itself fail on a text (its match limit), the text is left unchanged.
class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::u32string pattern, std::u32string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  static Result<std::unique_ptr<ReplaceNormalizer>> create_regex(std::string_view pattern, std::u32string content);
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

 private:
  void normalize_regex(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const;

  std::u32string pattern_;        // literal; unused with regex_
  std::unique_ptr<Regex> regex_;  // null for a literal pattern
  std::u32string content_;
};

// SentencePiece's precompiled_charsmap: a double-array trie from UTF-8 keys to
// offsets of NUL-terminated replacements. Applied as the reference applies it,
// which is not quite SentencePiece: per extended grapheme cluster, a cluster
// under 6 bytes is replaced whole by the replacement of its *shortest* trie
// prefix (so "Ａ" + U+0301 becomes "A", the mark lost); otherwise each
// character is looked up alone.
class PrecompiledNormalizer final : public Normalizer {
 public:
  // `charsmap`: the decoded blob (u32 trie size in bytes, the trie's u32 units,
  // then the replacement strings).
  static Result<std::unique_ptr<PrecompiledNormalizer>> create(std::string_view charsmap);
  static Result<std::unique_ptr<PrecompiledNormalizer>> from_base64(std::string_view base64);
  void normalize(std::vector<NormChar>* chars, std::vector<NormChar>* scratch) const override;

  // The replacement for the shortest trie key that prefixes `key` (stopping at
  // a NUL byte), or nullopt. Exposed for tests.
  std::optional<std::string_view> transform(std::string_view key) const;
  // SentencePiece's own normalization (longest match at each position, no
  // graphemes); for comparing with spm, not used by the tokenizer.
  std::string normalize_longest_match(std::string_view text) const;

 private:
  PrecompiledNormalizer() = default;
  // Ends of the keys that prefix `key`, shortest first, with their values.
  template <typename Visit>
  void prefixes(std::string_view key, Visit visit) const;
  std::optional<std::string_view> replacement_at(uint32_t offset) const;

  std::vector<uint32_t> units_;
  std::string normalized_;
};

// Standard base64 (with padding) -> bytes, or nullopt when malformed.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace simile::text
