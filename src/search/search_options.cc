// The names of search modes and fusion settings, as the CLI and the HTTP API
// take them.
#include "simile/collection.h"

namespace simile {

namespace {

constexpr SearchMode kModes[] = {SearchMode::kAuto, SearchMode::kDense, SearchMode::kBm25,
                                 SearchMode::kTfIdf, SearchMode::kBow,  SearchMode::kHybrid};

}  // namespace

Result<SearchMode> parse_search_mode(const std::string& name) {
  for (SearchMode m : kModes)
    if (name == search_mode_name(m)) return m;
  return Status::invalid_argument("unknown search mode '" + name + "' (use auto, dense, bm25, tfidf, bow or hybrid)");
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kAuto:
      return "auto";
    case SearchMode::kDense:
      return "dense";
    case SearchMode::kBm25:
      return "bm25";
    case SearchMode::kTfIdf:
      return "tfidf";
    case SearchMode::kBow:
      return "bow";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "?";
}

Result<Fusion::Method> parse_fusion_method(const std::string& name) {
  if (name == "rrf") return Fusion::Method::kRrf;
  if (name == "weighted") return Fusion::Method::kWeighted;
  return Status::invalid_argument("unknown fusion '" + name + "' (use rrf or weighted)");
}

Result<Fusion::Normalization> parse_normalization(const std::string& name) {
  if (name == "minmax") return Fusion::Normalization::kMinMax;
  if (name == "zscore") return Fusion::Normalization::kZScore;
  return Status::invalid_argument("unknown score normalisation '" + name + "' (use minmax or zscore)");
}

const char* fusion_method_name(Fusion::Method method) {
  return method == Fusion::Method::kRrf ? "rrf" : "weighted";
}

const char* normalization_name(Fusion::Normalization normalization) {
  return normalization == Fusion::Normalization::kMinMax ? "minmax" : "zscore";
}

}  // namespace simile
