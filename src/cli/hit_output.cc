#include "cli/hit_output.h"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace simile::cli {

namespace {

// JSON has no NaN: a score without a background is null.
nlohmann::json number_or_null(float x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json explanation_json(const SearchHit& h) {
  nlohmann::json terms = nlohmann::json::array();
  for (const TermScore& t : h.explanation)
    terms.push_back({{"term", t.term},
                     {"query_count", t.query_count},
                     {"document_count", t.document_count},
                     {"df", t.df},
                     {"idf", t.idf},
                     {"score", t.score}});
  return {{"document_terms", h.document_terms}, {"terms", terms}};
}

nlohmann::json hit_json(const SearchHit& h, size_t rank) {
  nlohmann::json hit = {{"rank", rank},
                        {"id", h.id},
                        {"title", h.title},
                        {"score", h.score},
                        {"chunk", h.chunk},
                        {"chunk_begin", h.chunk_begin},
                        {"chunk_end", h.chunk_end},
                        {"meta", nlohmann::json::parse(h.meta, nullptr, false)}};
  if (h.dense)
    hit["dense"] = {{"rank", h.dense->rank},
                    {"score", h.dense->score},
                    {"percentile", number_or_null(h.dense->percentile)},
                    {"z", number_or_null(h.dense->z)}};
  if (h.keyword) hit["keyword"] = {{"rank", h.keyword->rank}, {"score", h.keyword->score}};
  if (h.fused) hit["fused"] = *h.fused;
  if (h.rerank) hit["rerank"] = *h.rerank;
  if (!h.explanation.empty()) hit["explain"] = explanation_json(h);
  return hit;
}

void print_explanation(const SearchHit& h) {
  // A hybrid hit outside the BM25 candidates still shows what its terms add up to.
  float keyword_score = h.score;
  if (h.keyword) {
    keyword_score = h.keyword->score;
  } else if (h.dense || h.fused || h.rerank) {
    keyword_score = 0;
    for (const TermScore& t : h.explanation) keyword_score += t.score;
  }
  std::cout << fmt::format("     keyword score {:.4f} = sum over query terms (document: {} terms)\n", keyword_score,
                           h.document_terms);
  for (const TermScore& t : h.explanation) {
    std::cout << fmt::format("       {:<20} query x{}  in document x{:<3} df {:<6} idf {:.3f}  -> {:.4f}\n",
                             one_line(t.term, 20), t.query_count, t.document_count, t.df, t.idf, t.score);
  }
}

// "dense #2 0.6120 (p99.7, z 4.12) | bm25 #5 7.3100 | fused 0.0320 | rerank 0.9100"
std::string stages_line(const SearchHit& h, bool l2_distance) {
  std::string out;
  auto sep = [&out] {
    if (!out.empty()) out += " | ";
  };
  if (h.dense) {
    out += fmt::format("dense #{} {:.4f}", h.dense->rank, l2_distance ? -h.dense->score : h.dense->score);
    if (std::isfinite(h.dense->percentile))
      // Relevant hits crowd the top percent: two decimals there tell them apart.
      out += fmt::format(" (p{:.{}f}, z {:.2f})", h.dense->percentile, h.dense->percentile >= 99 ? 2 : 1, h.dense->z);
  }
  if (h.keyword) {
    sep();
    out += fmt::format("bm25 #{} {:.4f}", h.keyword->rank, h.keyword->score);
  }
  if (h.fused) {
    sep();
    out += fmt::format("fused {:.4f}", *h.fused);
  }
  if (h.rerank) {
    sep();
    out += fmt::format("rerank {:.4f}", *h.rerank);
  }
  return out;
}

void print_lines(const std::vector<SearchHit>& hits, bool l2_distance, bool with_stages) {
  if (hits.empty()) std::cout << "no results\n";
  for (size_t i = 0; i < hits.size(); ++i) {
    const SearchHit& h = hits[i];
    // Only a dense (or similar/related) score is a negated distance.
    const bool distance = l2_distance && !h.fused && !h.rerank && !h.keyword;
    std::cout << fmt::format("{:>3}. {:.4f}  {}", i + 1, distance ? -h.score : h.score, h.id);
    if (!h.title.empty()) std::cout << "  " << one_line(h.title, 80);
    std::cout << "\n";
    if (!h.chunk.empty()) std::cout << "     " << one_line(h.chunk, 200) << "\n";
    if (with_stages) {
      const std::string stages = stages_line(h, l2_distance);
      if (!stages.empty()) std::cout << "     " << stages << "\n";
    }
    if (!h.explanation.empty()) print_explanation(h);
  }
}

}  // namespace

void print_hits(const std::vector<SearchHit>& hits, bool json, bool l2_distance) {
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (size_t i = 0; i < hits.size(); ++i) arr.push_back(hit_json(hits[i], i + 1));
    std::cout << arr.dump(2) << "\n";
    return;
  }
  print_lines(hits, l2_distance, false);
}

void print_search(const std::string& query, const std::vector<SearchHit>& hits, const SearchReport& report,
                  bool json, bool l2_distance) {
  if (json) {
    nlohmann::json results = nlohmann::json::array();
    for (size_t i = 0; i < hits.size(); ++i) results.push_back(hit_json(hits[i], i + 1));
    nlohmann::json stages = nlohmann::json::array();
    for (const SearchReport::Stage& s : report.stages)
      stages.push_back({{"stage", s.name}, {"ms", s.ms}, {"items", s.items}});
    nlohmann::json j = {{"query", query},
                        {"mode", search_mode_name(report.mode)},
                        {"results", results},
                        {"stages", stages},
                        {"total_ms", report.total_ms}};
    if (report.centering)
      j["centering"] = {{"compared", report.centering->compared},
                        {"shared", report.centering->shared},
                        {"footrule", report.centering->footrule}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  // A plain keyword search has nothing to add to its score.
  const bool keyword_only = report.mode != SearchMode::kDense && report.mode != SearchMode::kHybrid;
  print_lines(hits, l2_distance, !keyword_only || (!hits.empty() && hits.front().rerank));
  if (report.centering)
    std::cout << fmt::format("centering: {} of the plain top {} kept, mean rank change {:.2f}\n",
                             report.centering->shared, report.centering->compared, report.centering->footrule);
}

}  // namespace simile::cli
