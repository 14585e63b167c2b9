#include "cli/hit_output.h"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "search/hit_json.h"

namespace simile::cli {

namespace {

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
    std::cout << hits_json(hits).dump(2) << "\n";
    return;
  }
  print_lines(hits, l2_distance, false);
}

void print_search(const std::string& query, const std::vector<SearchHit>& hits, const SearchReport& report,
                  bool json, bool l2_distance) {
  if (json) {
    const nlohmann::json j = search_json(query, hits, report);
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
