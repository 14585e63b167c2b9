#include "search/hit_json.h"

#include <cmath>

namespace simile {

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

}  // namespace

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

nlohmann::json hits_json(const std::vector<SearchHit>& hits) {
  nlohmann::json arr = nlohmann::json::array();
  for (size_t i = 0; i < hits.size(); ++i) arr.push_back(hit_json(hits[i], i + 1));
  return arr;
}

nlohmann::json search_json(const std::string& query, const std::vector<SearchHit>& hits, const SearchReport& report) {
  nlohmann::json stages = nlohmann::json::array();
  for (const SearchReport::Stage& s : report.stages)
    stages.push_back({{"stage", s.name}, {"ms", s.ms}, {"items", s.items}});
  nlohmann::json j = {{"query", query},
                      {"mode", search_mode_name(report.mode)},
                      {"results", hits_json(hits)},
                      {"stages", stages},
                      {"total_ms", report.total_ms}};
  if (report.centering)
    j["centering"] = {{"compared", report.centering->compared},
                      {"shared", report.centering->shared},
                      {"footrule", report.centering->footrule}};
  return j;
}

}  // namespace simile
