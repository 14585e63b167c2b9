#include "text/split.h"

#include <algorithm>
#include <string>

#include "text/utf8.h"
#include "util/check.h"

namespace simile::text {

namespace {

struct SplitWorkspace {
  std::string utf8;
  std::vector<uint32_t> byte_to_char;  // byte of utf8 (and its end) -> char index
  std::vector<std::pair<uint32_t, uint32_t>> matches;
};

thread_local SplitWorkspace tls_split;

}  // namespace

Status find_pieces(const Regex& re, std::span<const NormChar> chars, std::vector<SplitPiece>* pieces) {
  SplitWorkspace& ws = tls_split;
  ws.utf8.clear();
  ws.byte_to_char.clear();
  for (uint32_t i = 0; i < chars.size(); ++i) {
    char buf[4];
    const int n = encode_utf8(chars[i].cp, buf);
    ws.utf8.append(buf, static_cast<size_t>(n));
    ws.byte_to_char.insert(ws.byte_to_char.end(), static_cast<size_t>(n), i);
  }
  ws.byte_to_char.push_back(static_cast<uint32_t>(chars.size()));
  ws.matches.clear();
  SIMILE_RETURN_IF_ERROR(re.find_all(ws.utf8, &ws.matches));
  uint32_t prev = 0;
  for (const auto& [b, e] : ws.matches) {
    const uint32_t cb = ws.byte_to_char[b], ce = ws.byte_to_char[e];
    if (prev != cb) pieces->push_back({{prev, cb}, false});
    pieces->push_back({{cb, ce}, true});
    prev = ce;
  }
  if (prev != chars.size()) pieces->push_back({{prev, static_cast<uint32_t>(chars.size())}, false});
  return Status::ok();
}

void split_pieces(std::span<const SplitPiece> pieces, SplitBehavior behavior, bool invert,
                  std::vector<CharRange>* words) {
  const size_t first_new = words->size();
  bool previous_match = false;
  auto push = [&](CharRange r) { words->push_back(r); };
  if (behavior == SplitBehavior::kMergedWithNext) {
    // Folded from the end: a match joins the word after it.
    for (size_t k = pieces.size(); k-- > 0;) {
      const bool is_match = pieces[k].is_match != invert;
      const CharRange r = pieces[k].range;
      if (is_match && !previous_match && words->size() > first_new) {
        words->back().begin = r.begin;
      } else {
        push(r);
      }
      previous_match = is_match;
    }
    std::reverse(words->begin() + static_cast<std::ptrdiff_t>(first_new), words->end());
  } else {
    for (const SplitPiece& p : pieces) {
      const bool is_match = p.is_match != invert;
      switch (behavior) {
        case SplitBehavior::kIsolated:
          push(p.range);
          break;
        case SplitBehavior::kRemoved:
          if (!is_match) push(p.range);
          break;
        case SplitBehavior::kContiguous:
          if (is_match == previous_match && words->size() > first_new) {
            words->back().end = p.range.end;
          } else {
            push(p.range);
          }
          break;
        case SplitBehavior::kMergedWithPrevious:
          if (is_match && !previous_match && words->size() > first_new) {
            words->back().end = p.range.end;
          } else {
            push(p.range);
          }
          break;
        case SplitBehavior::kMergedWithNext:
          break;  // handled above
      }
      previous_match = is_match;
    }
  }
  // Empty words (empty matches, or nothing between two matches) are dropped.
  size_t out = first_new;
  for (size_t k = first_new; k < words->size(); ++k) {
    if ((*words)[k].begin < (*words)[k].end) (*words)[out++] = (*words)[k];
  }
  words->resize(out);
}

Result<std::unique_ptr<SplitPreTokenizer>> SplitPreTokenizer::create(std::string_view pattern, bool is_regex,
                                                                     SplitBehavior behavior, bool invert) {
  std::unique_ptr<SplitPreTokenizer> s(new SplitPreTokenizer());
  SIMILE_ASSIGN_OR_RETURN(s->regex_, Regex::compile(pattern, /*literal=*/!is_regex));
  s->behavior_ = behavior;
  s->invert_ = invert;
  return s;
}

void SplitPreTokenizer::split(std::span<const NormChar>, std::vector<CharRange>*) const {
  SIMILE_CHECK(false && "SplitPreTokenizer runs through pre_tokenize()");
}

Status SplitPreTokenizer::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  thread_local std::vector<SplitPiece> pieces;
  pieces.clear();
  SIMILE_RETURN_IF_ERROR(find_pieces(*regex_, *chars, &pieces));
  split_pieces(pieces, behavior_, invert_, words);
  return Status::ok();
}

void PreTokenizerSequence::split(std::span<const NormChar>, std::vector<CharRange>*) const {
  SIMILE_CHECK(false && "PreTokenizerSequence runs through pre_tokenize()");
}

Status PreTokenizerSequence::pre_tokenize(std::vector<NormChar>* chars, std::vector<CharRange>* words) const {
  std::vector<CharRange> current{{0, static_cast<uint32_t>(chars->size())}};
  if (chars->empty()) current.clear();
  std::vector<NormChar> next_chars, piece;
  std::vector<CharRange> next_words, piece_words;
  for (const auto& step : steps_) {
    next_chars.clear();
    next_words.clear();
    for (const CharRange& w : current) {
      piece.assign(chars->begin() + w.begin, chars->begin() + w.end);
      piece_words.clear();
      if (step->split_only()) {
        step->split(piece, &piece_words);
      } else {
        SIMILE_RETURN_IF_ERROR(step->pre_tokenize(&piece, &piece_words));
      }
      const auto base = static_cast<uint32_t>(next_chars.size());
      next_chars.insert(next_chars.end(), piece.begin(), piece.end());
      for (const CharRange& pw : piece_words) next_words.push_back({base + pw.begin, base + pw.end});
    }
    chars->swap(next_chars);
    current.swap(next_words);
  }
  words->insert(words->end(), current.begin(), current.end());
  return Status::ok();
}

}  // namespace simile::text
