#include "text/split_pre_tokenizers.h"

#include <utf8proc.h>

#include <utility>

#include "text/unicode.h"

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
thread_local std::vector<CharRange> tls_metaspace_words;

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

void MetaspacePreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  const char32_t r = replacement_;
  if (!split_) {
    if (!chars.empty()) words->push_back({0, static_cast<uint32_t>(chars.size())});
    return;
  }
  split_at(
      chars, 0, static_cast<uint32_t>(chars.size()), [r](char32_t c) { return c == ' ' || c == r; },
      SplitBehavior::kMergedWithNext, words);
}

void MetaspacePreTokenizer::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  std::vector<NormChar>& out = tls_metaspace_chars;
  std::vector<CharRange>& out_words = tls_metaspace_words;
  out.clear();
  out_words.clear();
  out.reserve(chars->size() + words->size());
  const char32_t r = replacement_;
  for (const CharRange& w : *words) {
    if (w.begin == w.end) continue;
    const auto start = static_cast<uint32_t>(out.size());
    const NormChar& first = (*chars)[w.begin];
    const bool starts_with_replacement = first.cp == ' ' || first.cp == r;
    // "First" is the reference's "this piece starts at original offset 0".
    const bool prepend =
        !starts_with_replacement && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first.begin == 0));
    if (prepend) out.push_back({r, first.begin, first.end});
    for (uint32_t i = w.begin; i < w.end; ++i) {
      const NormChar& ch = (*chars)[i];
      out.push_back({ch.cp == ' ' ? r : ch.cp, ch.begin, ch.end});
    }
    const auto end = static_cast<uint32_t>(out.size());
    if (split_) {
      split_at(
          out, start, end, [r](char32_t c) { return c == r; }, SplitBehavior::kMergedWithNext, &out_words);
    } else {
      out_words.push_back({start, end});
    }
  }
  std::swap(*chars, out);
  std::swap(*words, out_words);
}

SequencePreTokenizer::SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
    : steps_(std::move(steps)) {
  for (const auto& s : steps_) rewrites_ = rewrites_ || s->rewrites();
}

void SequencePreTokenizer::split(std::span<const NormChar> chars, std::vector<CharRange>* words) const {
  // Only used when no step rewrites: every step splits the words of the last.
  std::vector<CharRange> current;
  if (!chars.empty()) current.push_back({0, static_cast<uint32_t>(chars.size())});
  std::vector<CharRange> next;
  for (const auto& step : steps_) {
    next.clear();
    for (const CharRange& w : current) {
      const size_t first = next.size();
      step->split(chars.subspan(w.begin, w.end - w.begin), &next);
      for (size_t i = first; i < next.size(); ++i) {
        next[i].begin += w.begin;
        next[i].end += w.begin;
      }
    }
    std::swap(current, next);
  }
  words->insert(words->end(), current.begin(), current.end());
}

void SequencePreTokenizer::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  for (const auto& step : steps_) step->pre_tokenize(chars, words);
}

}  // namespace simile::text
