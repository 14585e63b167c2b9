#include "cli/search_flags.h"

namespace simile::cli {

void SearchFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--mode", mode,
                  "dense (by meaning), bm25, tfidf or bow (keywords); auto = dense if the collection has a model")
      ->check(CLI::IsMember({"auto", "dense", "bm25", "tfidf", "bow"}))
      ->capture_default_str();
  cmd->add_option("--k1", keyword.k1, "BM25 term-frequency saturation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--b", keyword.b, "BM25 length normalisation")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--tf", tf, "TF-IDF term weight: raw (tf), log (1 + ln tf) or binary")
      ->check(CLI::IsMember({"raw", "log", "binary"}))
      ->capture_default_str();
  cmd->add_option("--idf", idf, "TF-IDF idf: plain ln(N/df) or smooth ln(1 + N/df)")
      ->check(CLI::IsMember({"plain", "smooth"}))
      ->capture_default_str();
  cmd->add_flag("--cosine", keyword.cosine, "TF-IDF: divide by the document vector's length");
}

void SearchFlags::apply(SearchOptions& options) const {
  options.mode = take(parse_search_mode(mode));
  options.keyword = keyword;
  options.keyword.tf = tf == "log"      ? KeywordRanking::Tf::kLog
                       : tf == "binary" ? KeywordRanking::Tf::kBinary
                                        : KeywordRanking::Tf::kRaw;
  options.keyword.idf = idf == "smooth" ? KeywordRanking::Idf::kSmooth : KeywordRanking::Idf::kPlain;
}

}  // namespace simile::cli
