#include "text/truncation.h"

#include <algorithm>
#include <string>

namespace simile::text {

namespace {

// Keeps `n` tokens, dropping from the end (kRight) or the start (kLeft).
void truncate_to(std::vector<PieceToken>* v, size_t n, Side side) {
  if (v->size() <= n) return;
  if (side == Side::kRight) {
    v->resize(n);
  } else {
    v->erase(v->begin(), v->end() - static_cast<std::ptrdiff_t>(n));
  }
}

}  // namespace

Status truncate(std::vector<PieceToken>* a, std::vector<PieceToken>* b, bool pair, size_t max_length,
                const TruncationOptions& t) {
  if (max_length == 0) {
    a->clear();
    b->clear();
    return Status::ok();
  }
  const size_t total = a->size() + (pair ? b->size() : 0);
  if (total <= max_length) return Status::ok();
  const size_t to_remove = total - max_length;
  using Strategy = TruncationOptions::Strategy;
  if (t.strategy == Strategy::kLongestFirst) {
    if (!pair) {
      truncate_to(a, max_length, t.direction);
      return Status::ok();
    }
    // The shorter sequence stays whole if it fits in half of max_length and
    // the longer one gets the rest; otherwise each gets half.
    size_t n1 = a->size(), n2 = b->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
    if (n1 + n2 > max_length) {
      n1 = max_length / 2;
      n2 = n1 + max_length % 2;
    }
    if (swap) std::swap(n1, n2);
    truncate_to(a, n1, t.direction);
    truncate_to(b, n2, t.direction);
    return Status::ok();
  }
  std::vector<PieceToken>* target = t.strategy == Strategy::kOnlyFirst ? a : (pair ? b : nullptr);
  if (target == nullptr) return Status::invalid_argument("truncation strategy OnlySecond needs a pair of texts");
  if (target->size() <= to_remove) {
    const char* which = target == a ? "first" : "second";
    return Status::invalid_argument(
        std::string("truncation: the ") + which + " text (" + std::to_string(target->size()) +
        " tokens) is too short to remove the " + std::to_string(to_remove) + " tokens that max_length " +
        std::to_string(t.max_length) + " needs (strategy Only" + (target == a ? "First" : "Second") + ")");
  }
  truncate_to(target, target->size() - to_remove, t.direction);
  return Status::ok();
}

void stop_at_max_length(std::vector<PieceToken>* tokens, std::span<const SplitEnd> splits, const TruncationOptions& t) {
  const size_t limit = t.max_length;
  if (t.direction == Side::kRight) {
    for (const SplitEnd& s : splits) {
      if (s.from_model && s.end >= limit) {
        tokens->resize(std::min<size_t>(tokens->size(), s.end));
        return;
      }
    }
    return;
  }
  const size_t n = tokens->size();
  for (size_t i = splits.size(); i-- > 0;) {
    const size_t begin = i == 0 ? 0 : splits[i - 1].end;
    if (splits[i].from_model && n - begin >= limit) {
      tokens->erase(tokens->begin(), tokens->begin() + static_cast<std::ptrdiff_t>(begin));
      return;
    }
  }
}

}  // namespace simile::text
