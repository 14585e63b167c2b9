#include "cli/search_flags.h"

namespace simile::cli {

void SearchFlags::add_to(CLI::App* cmd, bool with_mode) {
  if (with_mode)
    cmd->add_option("--mode", mode,
                    "hybrid (meaning + keywords, fused), dense (by meaning), bm25, tfidf or bow (keywords); "
                    "auto = hybrid if the collection has a model, else bm25")
        ->check(CLI::IsMember({"auto", "dense", "bm25", "tfidf", "bow", "hybrid"}))
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
  cmd->add_option("--fusion", fusion,
                  "hybrid: rrf (reciprocal rank fusion) or weighted (normalised scores, --weight)")
      ->check(CLI::IsMember({"rrf", "weighted"}))
      ->capture_default_str();
  cmd->add_option("--rrf-k", fusion_params.rrf_k, "hybrid rrf: score = sum of 1 / (rrf-k + rank)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--weight", fusion_params.dense_weight,
                  "hybrid weighted: the dense share, w * dense + (1 - w) * bm25")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--normalize-scores", normalize, "hybrid weighted: scores normalised by minmax or zscore")
      ->check(CLI::IsMember({"minmax", "zscore"}))
      ->capture_default_str();
  cmd->add_option("--candidates", candidates,
                  "candidates each side passes to fusion, re-ranking and MMR (default: max(k, 100))");
  cmd->add_option("--ef", ef, "HNSW beam width for collections searched through a graph (default: the collection's "
                              "ef-search, simile index info)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--rerank", rerank,
                  "re-rank with this cross-encoder (cache name or directory), or llm:URL to ask an "
                  "OpenAI-compatible chat endpoint which candidates plausibly answer the query");
  cmd->add_option("--rerank-top", rerank_top,
                  "candidates the re-ranker scores (default: max(k, 50) for a cross-encoder, 5 for llm:URL)");
  cmd->add_option("--llm-model", llm_model, "the chat model of llm:URL endpoints (default: the service's)");
  cmd->add_option("--llm-api-key-env", llm_api_key_env,
                  "the environment variable holding the chat endpoint's API key (default: OPENAI_API_KEY, sent if "
                  "set)");
  cmd->add_option("--mmr", mmr,
                  "diversify by maximal marginal relevance: 1 = plain ranking, 0 = most diverse (e.g. 0.7)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--center", center,
                "score against vectors minus the collection's mean vector (cosine: Pearson correlation)");
}

void SearchFlags::apply(SearchOptions& options) const {
  options.mode = take(parse_search_mode(mode));
  options.keyword = keyword;
  options.keyword.tf = tf == "log"      ? KeywordRanking::Tf::kLog
                       : tf == "binary" ? KeywordRanking::Tf::kBinary
                                        : KeywordRanking::Tf::kRaw;
  options.keyword.idf = idf == "smooth" ? KeywordRanking::Idf::kSmooth : KeywordRanking::Idf::kPlain;
  options.fusion = fusion_params;
  options.fusion.method = take(parse_fusion_method(fusion));
  options.fusion.normalization = take(parse_normalization(normalize));
  options.candidates = candidates;
  options.ef = ef;
  options.rerank = rerank;
  options.rerank_top = rerank_top;
  options.llm_model = llm_model;
  options.llm_api_key_env = llm_api_key_env;
  options.mmr_lambda = mmr;
  options.center = center;
}

}  // namespace simile::cli
