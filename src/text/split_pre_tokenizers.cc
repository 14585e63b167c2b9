#include "text/split_pre_tokenizers.h"

#include <utf8proc.h>

#include <utility>

#include "text/unicode.h"
#include "util/check.h"

namespace simile::text {

namespace {

// Rust's char::is_numeric: general category Nd, Nl or No.
bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

thread_local std::vector<NormChar> tls_metaspace_chars;

}  // namespace

void WhitespacePreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  const auto n = static_cast<uint32_t>(chars.size());
  uint32_t i = 0;
  while (i < n) {
    const char32_t c = chars[i].cp;
    if (is_white_space(c)) {
      ++i;
      continue;
    }
    const bool word = is_word_char(c);
    uint32_t j = i + 1;
    while (j < n && !is_white_space(chars[j].cp) && is_word_char(chars[j].cp) == word) ++j;
    words->push_back({i, j});
    i = j;
  }
}

void WhitespaceSplitPreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  split_at(chars, 0, static_cast<uint32_t>(chars.size()), is_white_space, SplitBehavior::kRemoved, words);
}

void PunctuationPreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  split_at(chars, 0, static_cast<uint32_t>(chars.size()), is_bert_punctuation, behavior_, words);
}

void DigitsPreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  split_at(chars, 0, static_cast<uint32_t>(chars.size()), is_numeric,
           individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, words);
}

void MetaspacePreTokenizer::split(std::span<const NormChar>, std::vector<CharRange>*) const {
  SIMILE_CHECK(false && "MetaspacePreTokenizer runs through pre_tokenize()");
}

Status MetaspacePreTokenizer::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  if (chars->empty()) return Status::ok();
  std::vector<NormChar>& out = tls_metaspace_chars;
  out.clear();
  out.reserve(chars->size() + 1);
  const char32_t r = replacement_;
  const NormChar first = (*chars)[0];
  const bool starts_with_replacement = first.cp == ' ' || first.cp == r;
  // "First" is the reference's "this piece starts at original offset 0".
  const bool prepend =
      !starts_with_replacement && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first.begin == 0));
  if (prepend) out.push_back({r, first.begin, first.end});
  for (const NormChar& ch : *chars) out.push_back({ch.cp == ' ' ? r : ch.cp, ch.begin, ch.end});
  const auto n = static_cast<uint32_t>(out.size());
  if (split_) {
    split_at(
        out, 0, n, [r](char32_t c) { return c == r; }, SplitBehavior::kMergedWithNext, words);
  } else {
    words->push_back({0, n});
  }
  std::swap(*chars, out);
  return Status::ok();
}

}  // namespace simile::text
