#include "index/keyword_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace simile::keyword {

namespace {

constexpr uint32_t kBlock = 128;
constexpr uint32_t kEnd = UINT32_MAX;
// A probe (a galloping search) costs about this many postings read in order.
constexpr double kProbeCost = 8;

float tf_weight(TfWeight w, uint32_t count) {
  switch (w) {
    case TfWeight::kRaw:
      return static_cast<float>(count);
    case TfWeight::kLog:
      return 1.0f + std::log(static_cast<float>(count));
    case TfWeight::kBinary:
      return 1.0f;
  }
  return 0;
}

// Upper bounds are computed in float like the scores they bound; a small
// margin keeps rounding from pruning a document that would have entered.
float with_margin(float bound) { return bound * 1.0001f + 1e-7f; }

// Merges repeated query terms (their counts add up), keeping first-seen order.
std::vector<QueryTerm> merged(const std::vector<QueryTerm>& query) {
  std::vector<QueryTerm> out;
  for (const QueryTerm& q : query) {
    auto it = std::find_if(out.begin(), out.end(), [&](const QueryTerm& o) { return o.term == q.term; });
    if (it == out.end())
      out.push_back(q);
    else
      it->count += q.count;
  }
  return out;
}

}  // namespace

// Scores one posting: the per-query constants of a ranking function.
class PostingScorer {
 public:
  PostingScorer(const RankingParams& p, double average_length, const std::vector<uint32_t>& lengths,
                const std::vector<float>* norms)
      : p_(p), lengths_(lengths), norms_(norms) {
    const float avg = average_length > 0 ? static_cast<float>(average_length) : 1.0f;
    k_fixed_ = p.k1 * (1 - p.b);
    k_per_term_ = p.k1 * p.b / avg;
  }
  // `scale` = query count * idf of the term.
  float operator()(float scale, uint32_t count, uint32_t ordinal) const {
    switch (p_.ranking) {
      case Ranking::kBm25: {
        const float c = static_cast<float>(count);
        return scale * c * (p_.k1 + 1) / (c + k_fixed_ + k_per_term_ * static_cast<float>(lengths_[ordinal]));
      }
      case Ranking::kTfIdf: {
        float w = scale * tf_weight(p_.tf, count);
        if (norms_ != nullptr) {
          const float n = (*norms_)[ordinal];
          w = n > 0 ? w / n : 0;
        }
        return w;
      }
      case Ranking::kBow:
        return scale;
    }
    return 0;
  }
  // The largest weight a posting with at most `count` in a document of at
  // least `length` terms can get (BM25 rises with count, falls with length).
  float bm25_bound(float scale, uint32_t count, uint32_t length) const {
    const float c = static_cast<float>(count);
    return scale * c * (p_.k1 + 1) / (c + k_fixed_ + k_per_term_ * static_cast<float>(length));
  }

 private:
  const RankingParams& p_;
  const std::vector<uint32_t>& lengths_;
  const std::vector<float>* norms_;
  float k_fixed_ = 0, k_per_term_ = 0;
};

struct KeywordIndex::Cursor {
  const uint32_t* docs = nullptr;
  const uint32_t* counts = nullptr;
  uint32_t n = 0, pos = 0;
  float scale = 0, bound = 0;

  uint32_t doc() const { return pos < n ? docs[pos] : kEnd; }
  // Moves to the first posting at or after `target` (galloping: cheap for
  // both short and long jumps).
  void seek(uint32_t target) {
    if (pos >= n || docs[pos] >= target) return;
    uint32_t step = 1, lo = pos, hi = pos + 1;
    while (hi < n && docs[hi] < target) {
      lo = hi;
      step *= 2;
      hi = std::min<uint64_t>(n, static_cast<uint64_t>(hi) + step);
    }
    pos = static_cast<uint32_t>(std::lower_bound(docs + lo, docs + hi, target) - docs);
  }
};

Result<std::unique_ptr<KeywordIndex>> KeywordIndex::build(
    const std::vector<std::string_view>& blobs, const std::function<bool(int64_t rowid, int64_t version)>& live) {
  std::vector<Segment> segments;
  segments.reserve(blobs.size());
  for (std::string_view b : blobs) {
    SIMILE_ASSIGN_OR_RETURN(Segment s, Segment::decode(b));
    segments.push_back(std::move(s));
  }
  struct Entry {
    int64_t rowid;
    uint32_t length, segment, local;
  };
  std::vector<Entry> entries;
  for (uint32_t s = 0; s < segments.size(); ++s) {
    const auto& docs = segments[s].documents();
    for (uint32_t i = 0; i < docs.size(); ++i)
      if (live(docs[i].rowid, docs[i].version)) entries.push_back({docs[i].rowid, docs[i].length, s, i});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.rowid < b.rowid; });
  std::unique_ptr<KeywordIndex> index(new KeywordIndex());
  std::vector<std::vector<uint32_t>> ordinal_of(segments.size());
  for (size_t s = 0; s < segments.size(); ++s) ordinal_of[s].assign(segments[s].documents().size(), kEnd);
  double total_length = 0;
  for (const Entry& e : entries) {
    // One live entry per document; a duplicate would be a store bug, and the
    // first one wins rather than counting the document twice.
    if (!index->rowids_.empty() && index->rowids_.back() == e.rowid) continue;
    ordinal_of[e.segment][e.local] = static_cast<uint32_t>(index->rowids_.size());
    index->rowids_.push_back(e.rowid);
    index->lengths_.push_back(e.length);
    total_length += e.length;
  }
  index->average_length_ = index->rowids_.empty() ? 0 : total_length / static_cast<double>(index->rowids_.size());

  TermMap<std::vector<Posting>> lists;
  for (size_t s = 0; s < segments.size(); ++s) {
    const std::vector<uint32_t>& ordinal = ordinal_of[s];
    segments[s].for_each_term([&](std::string_view term, const std::vector<Posting>& postings) {
      std::vector<Posting>* list = nullptr;
      for (const Posting& p : postings) {
        if (ordinal[p.doc] == kEnd) continue;
        if (list == nullptr) {
          auto it = lists.find(term);
          if (it == lists.end()) it = lists.emplace(std::string(term), std::vector<Posting>()).first;
          list = &it->second;
        }
        list->push_back({ordinal[p.doc], p.count});
      }
    });
  }
  size_t total = 0;
  for (const auto& [term, list] : lists) total += list.size();
  index->post_docs_.reserve(total);
  index->post_counts_.reserve(total);
  index->terms_.reserve(lists.size());
  index->term_ids_.reserve(lists.size());
  for (auto& [term, list] : lists) {
    // Segments hold disjoint documents, but an updated document keeps its
    // rowid, so lists from several segments interleave.
    if (!std::is_sorted(list.begin(), list.end(), [](const Posting& a, const Posting& b) { return a.doc < b.doc; }))
      std::sort(list.begin(), list.end(), [](const Posting& a, const Posting& b) { return a.doc < b.doc; });
    Term t;
    t.begin = index->post_docs_.size();
    t.df = static_cast<uint32_t>(list.size());
    t.first_block = index->block_last_.size();
    for (size_t i = 0; i < list.size(); ++i) {
      const Posting& p = list[i];
      index->post_docs_.push_back(p.doc);
      index->post_counts_.push_back(p.count);
      if (i % kBlock == 0) {
        index->block_last_.push_back(p.doc);
        index->block_max_count_.push_back(p.count);
        index->block_min_length_.push_back(index->lengths_[p.doc]);
      } else {
        index->block_last_.back() = p.doc;
        index->block_max_count_.back() = std::max(index->block_max_count_.back(), p.count);
        index->block_min_length_.back() = std::min(index->block_min_length_.back(), index->lengths_[p.doc]);
      }
    }
    index->term_ids_.emplace(term, static_cast<uint32_t>(index->terms_.size()));
    index->terms_.push_back(t);
  }
  return index;
}

std::optional<uint32_t> KeywordIndex::ordinal(int64_t rowid) const {
  auto it = std::lower_bound(rowids_.begin(), rowids_.end(), rowid);
  if (it == rowids_.end() || *it != rowid) return std::nullopt;
  return static_cast<uint32_t>(it - rowids_.begin());
}

bool KeywordIndex::contains(int64_t rowid) const { return ordinal(rowid).has_value(); }

uint32_t KeywordIndex::document_length(int64_t rowid) const {
  auto o = ordinal(rowid);
  return o ? lengths_[*o] : 0;
}

const KeywordIndex::Term* KeywordIndex::find(std::string_view term) const {
  auto it = term_ids_.find(term);
  return it == term_ids_.end() ? nullptr : &terms_[it->second];
}

float KeywordIndex::idf(const Term& t, const RankingParams& p) const {
  const double n = static_cast<double>(rowids_.size());
  const double df = t.df;
  switch (p.ranking) {
    case Ranking::kBm25:
      return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
    case Ranking::kTfIdf:
      return static_cast<float>(p.idf == IdfWeight::kPlain ? std::log(n / df) : std::log(1.0 + n / df));
    case Ranking::kBow:
      return 1.0f;
  }
  return 0;
}

const std::vector<float>& KeywordIndex::cosine_norms(const RankingParams& p) const {
  const int key = static_cast<int>(p.tf) * 2 + static_cast<int>(p.idf);
  std::lock_guard<std::mutex> lock(norms_mutex_);
  for (const auto& [k, norms] : norms_)
    if (k == key) return *norms;
  auto norms = std::make_unique<std::vector<float>>(rowids_.size(), 0.0f);
  std::vector<double> sums(rowids_.size(), 0.0);
  for (const Term& t : terms_) {
    const double idf_t = idf(t, p);
    for (uint64_t i = t.begin; i < t.begin + t.df; ++i) {
      const double w = tf_weight(p.tf, post_counts_[i]) * idf_t;
      sums[post_docs_[i]] += w * w;
    }
  }
  for (size_t d = 0; d < sums.size(); ++d) (*norms)[d] = static_cast<float>(std::sqrt(sums[d]));
  norms_.emplace_back(key, std::move(norms));
  return *norms_.back().second;
}

std::vector<Hit> KeywordIndex::search(const std::vector<QueryTerm>& query, const RankingParams& params, size_t k,
                                      const std::vector<int64_t>* allowed, KeywordStats* stats, bool exhaustive) const {
  KeywordStats local;
  KeywordStats& st = stats != nullptr ? *stats : local;
  if (k == 0 || rowids_.empty()) return {};
  const std::vector<float>* norms =
      params.ranking == Ranking::kTfIdf && params.cosine ? &cosine_norms(params) : nullptr;
  float min_norm = std::numeric_limits<float>::infinity();
  if (norms != nullptr)
    for (float n : *norms)
      if (n > 0) min_norm = std::min(min_norm, n);
  const PostingScorer score(params, average_length_, lengths_, norms);

  std::vector<Cursor> cursors;
  for (const QueryTerm& q : merged(query)) {
    const Term* t = find(q.term);
    if (t == nullptr || q.count == 0) continue;
    Cursor c;
    c.docs = post_docs_.data() + t->begin;
    c.counts = post_counts_.data() + t->begin;
    c.n = t->df;
    const float idf_t = idf(*t, params);
    c.scale = params.ranking == Ranking::kBow ? 1.0f : static_cast<float>(q.count) * idf_t;
    float bound = 0;
    const uint64_t blocks = (t->df + kBlock - 1) / kBlock;
    for (uint64_t b = t->first_block; b < t->first_block + blocks; ++b) {
      switch (params.ranking) {
        case Ranking::kBm25:
          bound = std::max(bound, score.bm25_bound(c.scale, block_max_count_[b], block_min_length_[b]));
          break;
        case Ranking::kTfIdf:
          bound = std::max(bound,
                           c.scale * tf_weight(params.tf, block_max_count_[b]) / (norms != nullptr ? min_norm : 1.0f));
          break;
        case Ranking::kBow:
          bound = 1.0f;
          break;
      }
    }
    c.bound = with_margin(std::max(bound, 0.0f));
    cursors.push_back(c);
  }
  if (cursors.empty()) return {};
  std::sort(cursors.begin(), cursors.end(), [](const Cursor& a, const Cursor& b) { return a.bound < b.bound; });
  const size_t m = cursors.size();
  std::vector<float> prefix(m);
  float sum = 0;
  for (size_t i = 0; i < m; ++i) prefix[i] = sum += cursors[i].bound;

  std::vector<char> permitted;
  if (allowed != nullptr) {
    permitted.assign(rowids_.size(), 0);
    for (int64_t id : *allowed)
      if (auto o = ordinal(id)) permitted[*o] = 1;
  }

  TopK top(k);
  // Windows of documents: the essential terms' postings in a window are added
  // into a small score buffer (term at a time, no per-document merge of the
  // lists), then each document they touched is finished by probing the
  // non-essential terms, best bound first, while it can still enter.
  // Windows start small and double, so the k-th score (and with it the
  // pruning) is established early even in a small collection.
  constexpr uint32_t kWindow = 4096;
  uint32_t window = 128;
  std::vector<float> acc(kWindow, 0.0f);
  std::vector<uint64_t> touched(kWindow / 64, 0);  // which slots the essential terms reached
  size_t first = 0;                                // cursors[first, m) are essential: a document must hold one to enter
  const uint32_t n = static_cast<uint32_t>(rowids_.size());
  for (uint32_t base = 0; base < n && first < m;) {
    uint32_t next = kEnd;
    for (size_t i = first; i < m; ++i) next = std::min(next, cursors[i].doc());
    if (next == kEnd) break;
    base = std::max(base, next);
    const uint32_t end = base + std::min(window, n - base);
    window = std::min(kWindow, window * 2);
    const size_t window_first = first;
    for (size_t i = window_first; i < m; ++i) {
      Cursor& c = cursors[i];
      for (; c.pos < c.n && c.docs[c.pos] < end; ++c.pos) {
        const uint32_t d = c.docs[c.pos];
        const uint32_t slot = d - base;
        acc[slot] += score(c.scale, c.counts[c.pos], d);
        touched[slot >> 6] |= uint64_t{1} << (slot & 63);
        ++st.postings;
      }
    }
    const uint32_t words = (end - base + 63) / 64;
    auto for_each_candidate = [&](auto&& fn) {
      for (uint32_t w = 0; w < words; ++w)
        for (uint64_t bits = touched[w]; bits != 0; bits &= bits - 1)
          fn(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits)));
    };
    auto drop = [&](uint32_t slot) {
      touched[slot >> 6] &= ~(uint64_t{1} << (slot & 63));
      acc[slot] = 0;
    };
    if (!permitted.empty())
      for_each_candidate([&](uint32_t slot) {
        if (!permitted[base + slot]) drop(slot);
      });
    // The non-essential terms, largest bound first: candidates that cannot
    // reach the k-th score even with every remaining bound are dropped; the
    // survivors get the term's counts by probing its list for each of them,
    // or by reading its postings in the window when that is cheaper.
    const float threshold = top.threshold();
    size_t live = 0;
    for (uint32_t w = 0; w < words; ++w) live += static_cast<size_t>(__builtin_popcountll(touched[w]));
    for (size_t i = window_first; i-- > 0 && live > 0;) {
      Cursor& c = cursors[i];
      c.seek(base);
      const double expected = static_cast<double>(c.n - c.pos) * (end - base) / static_cast<double>(n - base);
      const bool probe = static_cast<double>(live) * kProbeCost < expected;
      live = 0;
      for_each_candidate([&](uint32_t slot) {
        if (acc[slot] + prefix[i] < threshold) {
          drop(slot);
          return;
        }
        ++live;
        if (!probe) return;
        c.seek(base + slot);
        ++st.probes;
        if (c.doc() == base + slot) acc[slot] += score(c.scale, c.counts[c.pos], base + slot);
      });
      if (probe || live == 0) continue;
      for (; c.pos < c.n && c.docs[c.pos] < end; ++c.pos) {
        const uint32_t slot = c.docs[c.pos] - base;
        ++st.postings;
        if (touched[slot >> 6] >> (slot & 63) & 1) acc[slot] += score(c.scale, c.counts[c.pos], c.docs[c.pos]);
      }
    }
    // In ascending document order (the bit scan), as ties require.
    for_each_candidate([&](uint32_t slot) {
      ++st.documents;
      top.push(base + slot, acc[slot]);
      acc[slot] = 0;
    });
    std::fill(touched.begin(), touched.begin() + words, 0);
    if (!exhaustive)
      while (first < m && prefix[first] < top.threshold()) ++first;
    base = end;
  }
  std::vector<Hit> hits = top.take_sorted();
  for (Hit& h : hits) h.id = rowids_[static_cast<size_t>(h.id)];
  return hits;
}

std::vector<TermContribution> KeywordIndex::explain(int64_t rowid, const std::vector<QueryTerm>& query,
                                                    const RankingParams& params) const {
  std::vector<TermContribution> out;
  const auto d = ordinal(rowid);
  const std::vector<float>* norms =
      params.ranking == Ranking::kTfIdf && params.cosine ? &cosine_norms(params) : nullptr;
  const PostingScorer score(params, average_length_, lengths_, norms);
  for (const QueryTerm& q : merged(query)) {
    TermContribution c;
    c.term = q.term;
    c.query_count = q.count;
    const Term* t = find(q.term);
    if (t != nullptr && d) {
      c.df = t->df;
      c.idf = idf(*t, params);
      const uint32_t* docs = post_docs_.data() + t->begin;
      const uint32_t* pos = std::lower_bound(docs, docs + t->df, *d);
      if (pos != docs + t->df && *pos == *d) {
        c.document_count = post_counts_[t->begin + static_cast<uint64_t>(pos - docs)];
        const float scale = params.ranking == Ranking::kBow ? 1.0f : static_cast<float>(q.count) * c.idf;
        c.score = score(scale, c.document_count, *d);
      }
    } else if (t != nullptr) {
      c.df = t->df;
      c.idf = idf(*t, params);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace simile::keyword
