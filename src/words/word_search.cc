#include "words/word_search.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "index/vector_codec.h"
#include "model/pooling.h"
#include "text/utf8.h"

namespace simile::words {

namespace {

// Lower-cases ASCII letters: spelling suggestions compare words this way.
std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::u32string code_points(std::string_view s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const text::Utf8Step step = text::decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
    out.push_back(step.cp);
    i += step.len;
  }
  return out;
}

// Optimal string alignment distance (edits, adjacent swaps), or limit + 1
// once it must exceed `limit`.
size_t edit_distance(const std::u32string& a, const std::u32string& b, size_t limit) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

}  // namespace

Result<AnalogyMethod> parse_analogy_method(std::string_view name) {
  if (name == "add" || name == "3cosadd") return AnalogyMethod::kAdd;
  if (name == "mul" || name == "3cosmul") return AnalogyMethod::kMul;
  return Status::invalid_argument("unknown analogy method '" + std::string(name) + "' (add or mul)");
}

WordSearch::WordSearch(const WordVectors& vectors, size_t restrict_to)
    : vectors_(vectors), index_(vectors.dims(), VectorType::kF32, Metric::kCosine) {
  const size_t n = restrict_to == 0 ? vectors.size() : std::min(restrict_to, vectors.size());
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) index_.add_float(static_cast<int64_t>(i), vectors.vector(i));
}

void WordSearch::use_graph(std::unique_ptr<HnswIndex> graph, size_t ef) {
  graph_ = std::move(graph);
  ef_ = ef;
}

std::vector<Hit> WordSearch::search(const float* query, size_t k) const {
  return graph_ ? graph_->search(query, k, std::max(ef_, k)) : index_.search(query, k);
}

std::vector<float> WordSearch::unit(uint32_t word) const {
  std::vector<float> v(vectors_.vector(word), vectors_.vector(word) + vectors_.dims());
  l2_normalize(v.data(), v.size());
  return v;
}

std::vector<WordHit> WordSearch::best_excluding(const std::vector<Hit>& hits, size_t k, const uint32_t* exclude,
                                                size_t excluded, bool negate) const {
  std::vector<WordHit> out;
  for (const Hit& h : hits) {
    if (out.size() == k) break;
    const auto word = static_cast<uint32_t>(h.id);
    if (std::find(exclude, exclude + excluded, word) != exclude + excluded) continue;
    out.push_back({word, negate ? -h.score : h.score});
  }
  return out;
}

std::vector<WordHit> WordSearch::nearest(const float* query, size_t k, const std::vector<uint32_t>& exclude) const {
  return best_excluding(search(query, k + exclude.size()), k, exclude.data(), exclude.size(), false);
}

std::vector<WordHit> WordSearch::farthest(const float* query, size_t k, const std::vector<uint32_t>& exclude) const {
  std::vector<float> negated(query, query + vectors_.dims());
  for (float& x : negated) x = -x;
  return best_excluding(search(negated.data(), k + exclude.size()), k, exclude.data(), exclude.size(), true);
}

float WordSearch::similarity(uint32_t a, uint32_t b) const {
  const std::vector<float> ua = unit(a), ub = unit(b);
  double dot = 0;
  for (size_t d = 0; d < ua.size(); ++d) dot += static_cast<double>(ua[d]) * ub[d];
  return static_cast<float>(dot);
}

std::vector<float> WordSearch::add_query(const AnalogyQuestion& q) const {
  const std::vector<float> a = unit(q[0]), b = unit(q[1]), c = unit(q[2]);
  std::vector<float> v(a.size());
  for (size_t d = 0; d < v.size(); ++d) v[d] = b[d] - a[d] + c[d];
  return v;
}

std::vector<WordHit> WordSearch::cosmul(const AnalogyQuestion& q, size_t k, std::vector<float>* scratch) const {
  const size_t n = index_.size(), dims = vectors_.dims();
  scratch->resize(3 * n);
  const BlockKernel dot = dot_block_kernel(VectorType::kF32);
  for (size_t i = 0; i < 3; ++i) dot(unit(q[i]).data(), index_.code_at(0), n, dims, scratch->data() + i * n);
  const float *ca = scratch->data(), *cb = ca + n, *cc = cb + n;
  TopK top(k + 3);
  for (size_t x = 0; x < n; ++x) {
    const float score = ((1 + cb[x]) / 2) * ((1 + cc[x]) / 2) / ((1 + ca[x]) / 2 + 1e-6f);
    top.push(static_cast<int64_t>(x), score);
  }
  return best_excluding(top.take_sorted(), k, q.data(), q.size(), false);
}

std::vector<WordHit> WordSearch::analogy(const AnalogyQuestion& q, size_t k, AnalogyMethod method) const {
  if (method == AnalogyMethod::kMul) {
    std::vector<float> scratch;
    return cosmul(q, k, &scratch);
  }
  const std::vector<float> v = add_query(q);
  return best_excluding(search(v.data(), k + 3), k, q.data(), q.size(), false);
}

std::vector<std::vector<WordHit>> WordSearch::analogies(const std::vector<AnalogyQuestion>& questions, size_t k,
                                                        AnalogyMethod method) const {
  std::vector<std::vector<WordHit>> out(questions.size());
  if (method == AnalogyMethod::kMul) {
#pragma omp parallel
    {
      std::vector<float> scratch;
#pragma omp for schedule(dynamic, 8)
      for (size_t i = 0; i < questions.size(); ++i) out[i] = cosmul(questions[i], k, &scratch);
    }
    return out;
  }
  const size_t dims = vectors_.dims();
  std::vector<float> queries(questions.size() * dims);
  for (size_t i = 0; i < questions.size(); ++i) {
    const std::vector<float> v = add_query(questions[i]);
    std::copy(v.begin(), v.end(), queries.begin() + i * dims);
  }
  auto hits = index_.search_batch(queries.data(), questions.size(), k + 3);
  for (size_t i = 0; i < questions.size(); ++i)
    out[i] = best_excluding(hits[i], k, questions[i].data(), questions[i].size(), false);
  return out;
}

std::vector<std::string> WordSearch::close_spellings(std::string_view word, size_t max) const {
  struct Candidate {
    size_t distance, position;
  };
  std::vector<Candidate> found;
  const std::string lower = ascii_lower(word);
  const std::u32string target = code_points(lower);
  const size_t limit = target.size() <= 4 ? 1 : 2;
  for (size_t i = 0; i < vectors_.size(); ++i) {
    const std::string& w = vectors_.word(i);
    if (w == word) continue;
    const std::string wl = ascii_lower(w);
    if (wl == lower) {
      found.push_back({0, i});
      continue;
    }
    // Bytes bound code points from above: a quick skip before the real test.
    if (wl.size() + limit * 4 < lower.size() || lower.size() + limit * 4 < wl.size()) continue;
    const size_t d = edit_distance(target, code_points(wl), limit);
    if (d <= limit) found.push_back({d, i});
  }
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.position < b.position;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < found.size() && out.size() < max; ++i) out.push_back(vectors_.word(found[i].position));
  return out;
}

}  // namespace simile::words
