// KeywordIndex and keyword segments: every ranking function against a
// double-precision reference computed here from the documents' term counts,
// MaxScore against exhaustive evaluation, updates and deletes across
// segments, merges, filters, explanations and damaged segments.
#include "index/keyword_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace simile::keyword {
namespace {

using Counts = std::map<std::string, uint32_t>;

struct Corpus {
  std::vector<std::string> blobs;
  std::map<int64_t, int64_t> version;  // live documents: rowid -> version
  std::map<int64_t, Counts> truth;      // their term counts
  std::map<int64_t, uint32_t> length;
};

std::string term_name(size_t i) {
  std::string name = "t";  // not "t" + to_string(i): GCC 12 warns (-Wrestrict) on that
  return name += std::to_string(i);
}

// Zipf-like vocabulary; three segments; the third re-writes some documents
// of the first two (same rowid, new version) and some documents are deleted.
Corpus make_corpus(uint32_t seed, size_t docs, size_t vocabulary) {
  std::mt19937 rng(seed);
  std::vector<double> weights(vocabulary);
  for (size_t i = 0; i < vocabulary; ++i) weights[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  std::uniform_int_distribution<int> len(0, 60);
  Corpus c;
  auto make_doc = [&](SegmentBuilder& b, int64_t rowid, int64_t version) {
    Counts counts;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) ++counts[term_name(pick(rng))];
    const uint32_t h = b.add_document(rowid, version, static_cast<uint32_t>(n));
    for (const auto& [t, k] : counts) b.add_term(t, h, k);
    c.version[rowid] = version;
    c.truth[rowid] = counts;
    c.length[rowid] = static_cast<uint32_t>(n);
  };
  const size_t per = docs / 2;
  for (int s = 0; s < 2; ++s) {
    SegmentBuilder b;
    // Rowids out of order within a batch, spaced so rowid != ordinal.
    std::vector<int64_t> ids;
    for (size_t i = 0; i < per; ++i) ids.push_back(10 + 3 * static_cast<int64_t>(s * per + i));
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int64_t id : ids) make_doc(b, id, s + 1);
    c.blobs.push_back(b.encode());
  }
  SegmentBuilder b;
  std::uniform_int_distribution<size_t> any(0, 2 * per - 1);
  std::set<int64_t> rewritten;
  while (rewritten.size() < per / 5) rewritten.insert(10 + 3 * static_cast<int64_t>(any(rng)));
  for (int64_t id : rewritten) make_doc(b, id, 3);
  c.blobs.push_back(b.encode());
  for (int i = 0; i < static_cast<int>(per / 10); ++i) {
    const int64_t id = 10 + 3 * static_cast<int64_t>(any(rng));
    c.version.erase(id);
    c.truth.erase(id);
    c.length.erase(id);
  }
  return c;
}

std::function<bool(int64_t, int64_t)> live_in(const Corpus& c) {
  return [&c](int64_t rowid, int64_t version) {
    auto it = c.version.find(rowid);
    return it != c.version.end() && it->second == version;
  };
}

std::unique_ptr<KeywordIndex> build_index(const Corpus& c) {
  std::vector<std::string_view> views(c.blobs.begin(), c.blobs.end());
  auto index = KeywordIndex::build(views, live_in(c));
  EXPECT_TRUE(index.is_ok()) << index.status().message();
  return std::move(index).value();
}

// The reference: every formula written out in double precision.
std::vector<std::pair<int64_t, double>> reference(const Corpus& c, const std::vector<QueryTerm>& query,
                                                  const RankingParams& p, size_t k,
                                                  const std::set<int64_t>* allowed = nullptr) {
  const double n = static_cast<double>(c.truth.size());
  double total = 0;
  for (const auto& [id, l] : c.length) total += l;
  const double avg = total / n;
  std::map<std::string, double> df;
  for (const auto& [id, counts] : c.truth)
    for (const auto& [t, x] : counts) df[t] += 1;
  std::map<std::string, uint32_t> q;
  for (const QueryTerm& t : query) q[t.term] += t.count;
  auto tfw = [&](uint32_t x) {
    return p.tf == TfWeight::kRaw ? x : p.tf == TfWeight::kLog ? 1 + std::log(static_cast<double>(x)) : 1.0;
  };
  auto idf = [&](double d) {
    if (p.ranking == Ranking::kBm25) return std::log(1 + (n - d + 0.5) / (d + 0.5));
    return p.idf == IdfWeight::kPlain ? std::log(n / d) : std::log(1 + n / d);
  };
  std::vector<std::pair<int64_t, double>> scored;
  for (const auto& [id, counts] : c.truth) {
    if (allowed != nullptr && !allowed->count(id)) continue;
    double s = 0, norm = 0;
    bool any = false;
    if (p.ranking == Ranking::kTfIdf && p.cosine)
      for (const auto& [t, x] : counts) norm += std::pow(tfw(x) * idf(df[t]), 2);
    for (const auto& [t, qc] : q) {
      auto it = counts.find(t);
      if (it == counts.end()) continue;
      any = true;
      const double x = it->second;
      switch (p.ranking) {
        case Ranking::kBm25:
          s += qc * idf(df[t]) * x * (p.k1 + 1) / (x + p.k1 * (1 - p.b + p.b * c.length.at(id) / avg));
          break;
        case Ranking::kTfIdf:
          s += qc * tfw(it->second) * idf(df[t]) / (p.cosine ? (norm > 0 ? std::sqrt(norm) : INFINITY) : 1.0);
          break;
        case Ranking::kBow:
          s += 1;
          break;
      }
    }
    if (any) scored.emplace_back(id, s);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (scored.size() > k) scored.resize(k);
  return scored;
}

// Hits equal the reference up to float rounding: same scores rank by rank,
// and the same documents except where scores tie.
void expect_matches(const std::vector<Hit>& hits, const std::vector<std::pair<int64_t, double>>& want,
                    const std::string& what) {
  ASSERT_EQ(hits.size(), want.size()) << what;
  for (size_t i = 0; i < hits.size(); ++i) {
    const double tol = 1e-4 * std::max(1.0, std::fabs(want[i].second));
    EXPECT_NEAR(hits[i].score, want[i].second, tol) << what << " rank " << i;
    if (hits[i].id != want[i].first) {
      // Allowed only for (near-)tied scores.
      auto it = std::find_if(want.begin(), want.end(), [&](const auto& w) { return w.first == hits[i].id; });
      if (it != want.end()) {
        EXPECT_NEAR(it->second, want[i].second, tol) << what << " rank " << i;
      } else {
        EXPECT_NEAR(hits[i].score, want.back().second, tol) << what << " rank " << i << " (tie at the cut)";
      }
    }
  }
}

std::vector<QueryTerm> random_query(std::mt19937& rng, size_t terms, size_t vocabulary) {
  std::uniform_int_distribution<size_t> pick(0, vocabulary + 5);  // a few unknown terms too
  std::vector<QueryTerm> q;
  for (size_t i = 0; i < terms; ++i) q.push_back({term_name(pick(rng)), 1});
  return q;
}

std::vector<RankingParams> all_rankings() {
  std::vector<RankingParams> out;
  for (auto [k1, b] : {std::pair{1.2f, 0.75f}, {1.0f, 0.5f}, {0.9f, 0.4f}, {2.0f, 0.0f}, {0.0f, 1.0f}}) {
    RankingParams p;
    p.k1 = k1;
    p.b = b;
    out.push_back(p);
  }
  for (TfWeight tf : {TfWeight::kRaw, TfWeight::kLog, TfWeight::kBinary})
    for (IdfWeight idf : {IdfWeight::kPlain, IdfWeight::kSmooth})
      for (bool cosine : {false, true}) {
        RankingParams p;
        p.ranking = Ranking::kTfIdf;
        p.tf = tf;
        p.idf = idf;
        p.cosine = cosine;
        out.push_back(p);
      }
  RankingParams bow;
  bow.ranking = Ranking::kBow;
  out.push_back(bow);
  return out;
}

TEST(KeywordIndex, EveryRankingMatchesTheReference) {
  const Corpus c = make_corpus(7, 1200, 400);
  auto index = build_index(c);
  EXPECT_EQ(index->documents(), c.truth.size());
  std::mt19937 rng(11);
  for (const RankingParams& p : all_rankings()) {
    for (size_t terms : {1, 3, 8, 40}) {
      const auto q = random_query(rng, terms, 400);
      for (size_t k : {1, 10, 100, 5000}) {
        const std::string what = "ranking " + std::to_string(static_cast<int>(p.ranking)) + " tf " +
                                 std::to_string(static_cast<int>(p.tf)) + " cos " + std::to_string(p.cosine) +
                                 " terms " + std::to_string(terms) + " k " + std::to_string(k);
        expect_matches(index->search(q, p, k, nullptr), reference(c, q, p, k), what);
        expect_matches(index->search(q, p, k, nullptr, nullptr, true), reference(c, q, p, k), what + " exhaustive");
      }
    }
  }
}

TEST(KeywordIndex, MaxScorePrunesLongQueries) {
  const Corpus c = make_corpus(3, 4000, 2000);
  auto index = build_index(c);
  // A long query of frequent words with a few rare ones: the frequent ones'
  // low bounds make them non-essential once k good documents are found.
  std::vector<QueryTerm> q;
  for (size_t i = 0; i < 50; ++i) q.push_back({term_name(i), 1});
  for (size_t i : {300, 700, 1100, 1500}) q.push_back({term_name(i), 1});
  KeywordStats pruned, full;
  const auto a = index->search(q, {}, 10, nullptr, &pruned);
  const auto b = index->search(q, {}, 10, nullptr, &full, true);
  expect_matches(a, reference(c, q, {}, 10), "maxscore");
  EXPECT_LT(pruned.postings, full.postings * 3 / 4) << "MaxScore should skip postings of frequent terms";
  EXPECT_LT(pruned.documents, full.documents / 2) << "and finish fewer documents";
}

TEST(KeywordIndex, RepeatedQueryTermsCountLinearly) {
  const Corpus c = make_corpus(9, 400, 100);
  auto index = build_index(c);
  const std::vector<QueryTerm> twice = {{"t3", 1}, {"t7", 1}, {"t3", 1}};
  const std::vector<QueryTerm> counted = {{"t3", 2}, {"t7", 1}};
  const auto a = index->search(twice, {}, 20, nullptr);
  const auto b = index->search(counted, {}, 20, nullptr);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].id, b[i].id);
  expect_matches(a, reference(c, twice, {}, 20), "repeated");
}

TEST(KeywordIndex, FiltersAreExact) {
  const Corpus c = make_corpus(13, 1000, 300);
  auto index = build_index(c);
  std::set<int64_t> allowed;
  for (const auto& [id, v] : c.version)
    if (id % 7 == 1) allowed.insert(id);
  allowed.insert(999999);  // unknown ids are ignored
  const std::vector<int64_t> sorted(allowed.begin(), allowed.end());
  std::mt19937 rng(17);
  for (int i = 0; i < 20; ++i) {
    const auto q = random_query(rng, 5, 300);
    const auto hits = index->search(q, {}, 15, &sorted);
    for (const Hit& h : hits) EXPECT_TRUE(allowed.count(h.id));
    expect_matches(hits, reference(c, q, {}, 15, &allowed), "filtered");
  }
  const std::vector<int64_t> none;
  EXPECT_TRUE(index->search(random_query(rng, 5, 300), {}, 10, &none).empty());
}

TEST(KeywordIndex, MergedSegmentGivesTheSameRanking) {
  const Corpus c = make_corpus(21, 800, 200);
  auto index = build_index(c);
  std::vector<std::string_view> views(c.blobs.begin(), c.blobs.end());
  auto merged = merge_segments(views, live_in(c));
  ASSERT_TRUE(merged.is_ok());
  auto segment = Segment::decode(*merged);
  ASSERT_TRUE(segment.is_ok());
  EXPECT_EQ(segment->documents().size(), c.truth.size()) << "dead documents are dropped";
  auto one = KeywordIndex::build({*merged}, live_in(c));
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ((*one)->postings(), index->postings());
  EXPECT_EQ((*one)->terms(), index->terms());
  std::mt19937 rng(23);
  for (int i = 0; i < 20; ++i) {
    const auto q = random_query(rng, 6, 200);
    const auto a = index->search(q, {}, 10, nullptr);
    const auto b = (*one)->search(q, {}, 10, nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].id, b[j].id);
      EXPECT_EQ(a[j].score, b[j].score);
    }
  }
}

TEST(KeywordIndex, ExplanationAddsUpToTheScore) {
  const Corpus c = make_corpus(31, 600, 150);
  auto index = build_index(c);
  const std::vector<QueryTerm> q = {{"t1", 1}, {"t4", 2}, {"t40", 1}, {"nowhere", 1}};
  for (const RankingParams& p : all_rankings()) {
    for (const Hit& h : index->search(q, p, 10, nullptr)) {
      const auto parts = index->explain(h.id, q, p);
      ASSERT_EQ(parts.size(), 4u);
      double sum = 0;
      for (const auto& t : parts) sum += t.score;
      EXPECT_NEAR(sum, h.score, 1e-4 * std::max(1.0f, h.score));
      EXPECT_EQ(parts[3].df, 0u);
      EXPECT_EQ(parts[3].score, 0.0f);
      EXPECT_EQ(parts[1].query_count, 2u);
      EXPECT_EQ(parts[1].document_count, c.truth.at(h.id).count("t4") ? c.truth.at(h.id).at("t4") : 0u);
    }
  }
}

TEST(KeywordIndex, EmptyInputsGiveEmptyResults) {
  auto empty = KeywordIndex::build({}, [](int64_t, int64_t) { return true; });
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE((*empty)->search({{"a", 1}}, {}, 10, nullptr).empty());
  const Corpus c = make_corpus(41, 100, 50);
  auto index = build_index(c);
  EXPECT_TRUE(index->search({}, {}, 10, nullptr).empty());
  EXPECT_TRUE(index->search({{"t1", 1}}, {}, 0, nullptr).empty());
  EXPECT_TRUE(index->search({{"unknown", 1}}, {}, 10, nullptr).empty());
}

TEST(KeywordSegment, DamageIsAnErrorNotACrash) {
  SegmentBuilder b;
  const uint32_t d = b.add_document(5, 1, 3);
  b.add_term("alpha", d, 2);
  b.add_term("beta", d, 1);
  const std::string good = b.encode();
  ASSERT_TRUE(Segment::decode(good).is_ok());
  EXPECT_FALSE(Segment::decode("").is_ok());
  EXPECT_FALSE(Segment::decode(good.substr(0, good.size() - 1)).is_ok());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_FALSE(Segment::decode(bad).is_ok()) << "flipped byte " << i;
  }
}

}  // namespace
}  // namespace simile::keyword
