// The evaluation library against its reference, ../shared/peers/ir/ir_eval.py,
// run live on random qrels and runs (written to cover every rule of its
// semantics) and on Cranfield's qrels; then hand-computed cases, the readers'
// rules and errors one by one, and the BEIR helpers.
#include "eval/ir_eval.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../model/model_test_util.h"
#include "../test_env.h"
#include "util/subprocess.h"

namespace simile::eval {
namespace {

using json = nlohmann::json;
using simile::testing::read_bytes;
using simile::testing::TempDir;
using simile::testing::write_bytes;

constexpr double kTolerance = 1e-9;
constexpr const char* kMetricNames[] = {"nDCG@10", "MRR@10", "MAP@100", "R@10", "R@100"};

std::string peers_dir() { return simile::testing::shared_dir() + "/peers/ir"; }
std::string reference_script() { return simile::testing::source_dir() + "/tests/eval/ir_eval_reference.py"; }
std::string cranfield_dir() { return simile::testing::shared_dir() + "/data/cranfield"; }

// SplitMix64: the same numbers on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

template <typename T>
void shuffle(std::vector<T>* v, Rng* rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->below(i)]);
}

// ---------------------------------------------------------------------------
// Running the reference

json run_json(const std::vector<std::string>& argv) {
  auto out = run_process(argv);
  if (!out.is_ok()) {
    ADD_FAILURE() << out.status().message();
    return json();
  }
  if (out->exit_code != 0) {
    ADD_FAILURE() << argv[0] << " " << argv[1] << " exited with " << out->exit_code << ": " << out->err;
    return json();
  }
  return json::parse(out->out);
}

// For each (qrels, run) pair, ir_eval.py's results for the four option sets,
// {"default" | "skip_missing" | "use_rank" | "skip_missing+use_rank":
// {"metrics", "info", "per_query"}}, or {"error": ...} when it cannot read the
// files. One Python process for all pairs.
std::vector<json> reference(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<std::string> argv = {"python3", reference_script(), peers_dir()};
  for (const auto& [qrels, run] : pairs) {
    argv.push_back(qrels);
    argv.push_back(run);
  }
  const json out = run_json(argv);
  if (!out.is_array() || out.size() != pairs.size()) {
    ADD_FAILURE() << "unexpected reference output: " << out.dump();
    return std::vector<json>(pairs.size(), json::object());
  }
  return out.get<std::vector<json>>();
}

const char* option_name(const EvalOptions& o) {
  if (o.skip_missing) return o.use_rank ? "skip_missing+use_rank" : "skip_missing";
  return o.use_rank ? "use_rank" : "default";
}

std::set<std::string> keys(const json& object) {
  std::set<std::string> out;
  for (const auto& [k, v] : object.items()) out.insert(k);
  return out;
}

void expect_metrics_near(const json& ours, const json& ref, double tolerance, const std::string& what) {
  for (const char* name : kMetricNames) {
    ASSERT_TRUE(ref.contains(name)) << what << ": the reference has no " << name;
    EXPECT_NEAR(ours.at(name).get<double>(), ref.at(name).get<double>(), tolerance) << what << " " << name;
  }
}

// Our report equals the reference's {"metrics", "info", "per_query"}: every
// mean and per-query metric to 1e-9, every count exactly.
void expect_same_report(const EvalReport& report, const json& ref, const std::string& what) {
  const json ours = report_to_json(report, /*per_query=*/true);
  expect_metrics_near(ours["metrics"], ref["metrics"], kTolerance, what + " mean");
  EXPECT_EQ(keys(ours["info"]), keys(ref["info"])) << what;
  for (const auto& [name, value] : ref["info"].items())
    EXPECT_EQ(ours["info"].value(name, int64_t{-1}), value.get<int64_t>()) << what << " info " << name;
  ASSERT_EQ(keys(ours["per_query"]), keys(ref["per_query"])) << what;
  for (const auto& [query, m] : ref["per_query"].items())
    expect_metrics_near(ours["per_query"][query], m, kTolerance, what + " query " + query);
}

// Reads the two files with our readers and compares all four option sets to
// `ref`, the reference's results for them. Returns the default report.
EvalReport expect_same_as_reference(const std::string& qrels_path, const std::string& run_path, const json& ref,
                                    const std::string& what) {
  Result<Qrels> qrels = read_qrels(qrels_path);
  Result<Run> run = read_trec_run(run_path);
  EXPECT_TRUE(qrels.is_ok()) << what << ": " << qrels.status().message();
  EXPECT_TRUE(run.is_ok()) << what << ": " << run.status().message();
  if (!qrels.is_ok() || !run.is_ok()) return {};
  EXPECT_FALSE(ref.contains("error")) << what << ": " << ref.dump();
  EvalReport result;
  for (bool skip : {false, true}) {
    for (bool use_rank : {false, true}) {
      EvalOptions options;
      options.skip_missing = skip;
      options.use_rank = use_rank;
      EvalReport report = evaluate(*qrels, *run, options);
      expect_same_report(report, ref[option_name(options)], what + " [" + option_name(options) + "]");
      if (!skip && !use_rank) result = report;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// Random qrels and runs

// How a generated file is written.
struct FileStyle {
  bool beir_tsv = true;  // qrels: "q<TAB>d<TAB>grade" after a header, else "q 0 d grade"
  std::string newline = "\n";
  bool blank_lines = false;     // blank and whitespace-only lines here and there (never first)
  bool odd_whitespace = false;  // Unicode and control whitespace between fields
  bool interleave_run = false;  // run lines of different queries mixed
};

// One random test collection: qrels text and run text covering graded and
// fractional grades, grade <= 0 only queries, judged queries missing from the
// run, run queries never judged, score ties, repeated doc ids, a rank column
// that disagrees with the scores, and result lists from 1 to 180 documents.
struct RandomCase {
  std::string qrels, run;
};

RandomCase make_random_case(uint64_t seed, const FileStyle& style) {
  Rng rng(seed);
  // Ids whose byte order differs from any numeric order, with 2-, 3- and
  // 4-byte UTF-8 and upper and lower case, so the docid tie-break is tested.
  const std::vector<std::string> doc_prefixes = {
      "d", "D", "z", "d\xC3\xA9", "\xC3\xA9", "\xF0\x9F\x98\x80", "doc-", "\xE4\xB8\xAD"};
  const std::vector<std::string> query_prefixes = {"q", "", "Q", "q\xC3\xA9"};
  const size_t num_docs = 150 + rng.below(150);
  std::vector<std::string> docs;
  for (size_t i = 0; i < num_docs; ++i) docs.push_back(rng.pick(doc_prefixes) + std::to_string(rng.below(400)));
  std::sort(docs.begin(), docs.end());
  docs.erase(std::unique(docs.begin(), docs.end()), docs.end());

  // Grades as ir_eval.py reads them: int(float(text)).
  const std::vector<std::string> relevant_grades = {"1",   "1",   "2",   "2",  "3",    "4",
                                                    "1.5", "2.0", "1e0", "+3", "3.99", "1_0"};
  const std::vector<std::string> other_grades = {"0", "0", "-1", "0.5", "-0.5", "0.99", "0.0", "-2"};
  const std::string sep = style.odd_whitespace ? "\xE3\x80\x80 " : " ";  // U+3000 IDEOGRAPHIC SPACE
  const std::string run_sep = style.odd_whitespace ? "\x1c\t\xC2\xA0" : " ";

  std::vector<std::string> qrels_lines, run_lines;
  const size_t num_queries = 25 + rng.below(20);
  std::set<std::string> query_ids;
  for (size_t qi = 0; qi < num_queries; ++qi) {
    std::string q = rng.pick(query_prefixes) + std::to_string(rng.below(300));
    if (!query_ids.insert(q).second) continue;
    // 0: judged, in the run; 1: judged, missing from the run; 2: only grades
    // <= 0, in the run; 3: not judged, in the run.
    const size_t kind = rng.chance(0.6) ? 0 : rng.below(4);

    std::map<std::string, std::string> judged;  // doc -> grade text
    if (kind != 3) {
      const size_t n = 1 + rng.below(rng.chance(0.2) ? 40 : 15);
      for (size_t k = 0; k < n; ++k) {
        const bool relevant = kind != 2 && rng.chance(0.6);
        judged[rng.pick(docs)] = rng.pick(relevant ? relevant_grades : other_grades);
      }
      for (const auto& [d, g] : judged) {
        if (style.beir_tsv) {
          // Spaces around tab-separated fields are stripped by ir_eval.py.
          const std::string pad = rng.chance(0.1) ? " " : "";
          qrels_lines.push_back(q + pad + "\t" + pad + d + "\t" + pad + g + pad);
        } else {
          qrels_lines.push_back(q + sep + "0" + sep + d + sep + g);
        }
      }
      // Judged twice: the later grade wins.
      if (!judged.empty() && rng.chance(0.3)) {
        const std::string d = judged.begin()->first;
        const std::string g = rng.pick(relevant_grades);
        qrels_lines.push_back(style.beir_tsv ? q + "\t" + d + "\t" + g : q + sep + "0" + sep + d + sep + g);
      }
    }

    if (kind == 1) continue;
    size_t length;
    switch (rng.below(4)) {
      case 0:
        length = 1 + rng.below(9);
        break;  // fewer than 10
      case 1:
        length = 10 + rng.below(50);
        break;
      case 2:
        length = 101 + rng.below(80);
        break;  // more than 100
      default:
        length = 90 + rng.below(20);
        break;  // around the cut at 100
    }
    // Few distinct scores in some queries: many ties for the docid tie-break.
    const bool coarse = rng.chance(0.5);
    const int rank_style = static_cast<int>(rng.below(3));  // 0: 1..n, 1: shuffled, 2: reversed
    std::vector<std::string> lines;
    std::vector<int> ranks;
    for (size_t i = 0; i < length; ++i) ranks.push_back(static_cast<int>(i) + 1);
    if (rank_style == 1) shuffle(&ranks, &rng);
    if (rank_style == 2) std::reverse(ranks.begin(), ranks.end());
    std::vector<std::string> judged_docs;
    for (const auto& [d, g] : judged) judged_docs.push_back(d);
    for (size_t i = 0; i < length; ++i) {
      // Judged documents turn up more often than chance, so metrics are not all 0.
      std::string d = !judged_docs.empty() && rng.chance(0.3) ? rng.pick(judged_docs) : rng.pick(docs);
      double score = coarse ? static_cast<double>(rng.below(6)) / 2 : rng.unit() * 20 - 5;
      std::string score_text;
      switch (rng.below(6)) {
        case 0:
          score_text = fmt::format("{:.6f}", score);
          break;
        case 1:
          score_text = fmt::format("{}", score);
          break;  // shortest round trip
        case 2:
          score_text = fmt::format("{:e}", score);
          break;
        case 3:
          score_text = coarse ? fmt::format("{:.1f}", score) : fmt::format("{:.3f}", score);
          break;
        case 4:
          score_text = fmt::format("{:.2f}", score);
          break;
        default:
          score_text = rng.chance(0.05) ? (rng.chance(0.5) ? "inf" : "-Infinity") : fmt::format("{:.4f}", score);
      }
      std::string rank_text = std::to_string(ranks[i]);
      if (rng.chance(0.03)) rank_text = "+" + rank_text;
      lines.push_back(q + run_sep + "Q0" + run_sep + d + run_sep + rank_text + run_sep + score_text + run_sep + "tag");
      // The same document again, with another score (repeated docids).
      if (rng.chance(0.05)) {
        const std::string again = coarse ? fmt::format("{:.1f}", static_cast<double>(rng.below(6)) / 2)
                                         : fmt::format("{:.4f}", rng.unit() * 20 - 5);
        lines.push_back(fmt::format("{} Q0 {} {} {} tag extra fields", q, d, ranks[i], again));
      }
    }
    shuffle(&lines, &rng);  // file order is not rank order
    run_lines.insert(run_lines.end(), lines.begin(), lines.end());
  }
  if (style.interleave_run) shuffle(&run_lines, &rng);

  auto join = [&](const std::vector<std::string>& lines, std::string header) {
    std::string out = std::move(header);
    for (const std::string& line : lines) {
      out += line + style.newline;
      if (style.blank_lines && rng.chance(0.05)) out += (rng.chance(0.5) ? "" : " \t ") + style.newline;
    }
    return out;
  };
  shuffle(&qrels_lines, &rng);  // a doc judged twice: whichever line comes last wins
  RandomCase out;
  out.qrels = join(qrels_lines, style.beir_tsv ? "query-id\tcorpus-id\tscore" + style.newline : "");
  out.run = join(run_lines, "");
  return out;
}

TEST(IrEvalReference, RandomCollectionsMatchIrEvalPy) {
  TempDir dir;
  std::vector<FileStyle> styles(6);
  styles[1].beir_tsv = false;
  styles[2].newline = "\r\n";
  styles[2].blank_lines = true;
  styles[3].beir_tsv = false;
  styles[3].odd_whitespace = true;
  styles[3].newline = "\r";
  styles[4].interleave_run = true;
  styles[4].blank_lines = true;
  styles[5].odd_whitespace = true;
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < styles.size(); ++i) {
    const RandomCase c = make_random_case(1000 + i, styles[i]);
    files.emplace_back(dir.file(fmt::format("qrels{}.tsv", i)), dir.file(fmt::format("run{}.trec", i)));
    write_bytes(files[i].first, c.qrels);
    write_bytes(files[i].second, c.run);
  }
  const std::vector<json> refs = reference(files);
  for (size_t i = 0; i < styles.size(); ++i) {
    const EvalReport report =
        expect_same_as_reference(files[i].first, files[i].second, refs[i], fmt::format("case {}", i));
    // The case covers what it is meant to.
    EXPECT_GT(report.queries_evaluated, 10u) << i;
    EXPECT_GT(report.queries_without_relevant, 0u) << i;
    EXPECT_GT(report.queries_missing_from_run, 0u) << i;
    EXPECT_GT(report.run_queries_without_judgments, 0u) << i;
    EXPECT_GT(report.duplicate_docs, 0u) << i;
    EXPECT_GT(report.mean.ndcg10, 0.0) << i;
    auto run = read_trec_run(files[i].second);
    ASSERT_TRUE(run.is_ok());
    size_t short_lists = 0, long_lists = 0, tied_scores = 0;
    for (const auto& [q, docs] : run->queries) {
      short_lists += docs.size() < 10;
      long_lists += docs.size() > 100;
      std::set<double> scores;
      for (const Ranked& r : docs) scores.insert(r.score);
      tied_scores += scores.size() < docs.size();
    }
    EXPECT_GT(short_lists, 0u) << i;
    EXPECT_GT(long_lists, 0u) << i;
    EXPECT_GT(tied_scores, 5u) << i;
  }
}

// Cranfield's real qrels (graded 1-4) with a synthetic run written by
// write_trec_run, so the reference also reads our writer's output.
TEST(IrEvalReference, CranfieldQrelsWithSyntheticRun) {
  TempDir dir;
  const std::string qrels_path = cranfield_dir() + "/qrels/test.tsv";
  auto qrels = read_qrels(qrels_path);
  ASSERT_TRUE(qrels.is_ok()) << qrels.status().message();
  ASSERT_EQ(qrels->grades.size(), 225u);

  Rng rng(7);
  eval::Run run;
  for (int q = 1; q <= 226; ++q) {
    if (q % 37 == 0) continue;  // judged, missing from the run
    auto& docs = run.queries[q == 226 ? "unjudged" : std::to_string(q)];
    const auto it = qrels->grades.find(std::to_string(q));
    std::vector<std::string> judged;
    if (it != qrels->grades.end())
      for (const auto& [d, g] : it->second) judged.push_back(d);
    const size_t length = q % 5 == 0 ? 1 + rng.below(9) : 100 + rng.below(30);
    for (size_t i = 0; i < length; ++i) {
      Ranked r;
      r.doc = !judged.empty() && rng.chance(0.15) ? rng.pick(judged) : std::to_string(1 + rng.below(1400));
      // Scores that round to the same 6 decimals tie in the file.
      r.score = q % 3 == 0 ? static_cast<double>(rng.below(20)) + 1e-7 * rng.unit() : 30 * rng.unit();
      docs.push_back(r);
    }
  }
  const std::string run_path = dir.file("cranfield.trec");
  ASSERT_TRUE(write_trec_run(run_path, run, "synthetic").is_ok());
  const EvalReport report =
      expect_same_as_reference(qrels_path, run_path, reference({{qrels_path, run_path}})[0], "cranfield");
  EXPECT_EQ(report.queries_in_qrels, 225u);
  EXPECT_EQ(report.queries_missing_from_run, 6u);
  EXPECT_EQ(report.queries_evaluated, 225u);
  EXPECT_EQ(report.run_queries_without_judgments, 1u);
  EXPECT_GT(report.duplicate_docs, 0u);
}

// ir_eval.py's own command line: --json prints {"metrics", "info"} on its last
// line (after the --per-query lines, which have 4 decimals).
TEST(IrEvalReference, CommandLineJsonMatchesReportToJson) {
  TempDir dir;
  const RandomCase c = make_random_case(77, FileStyle());
  const std::string qrels_path = dir.file("qrels.tsv"), run_path = dir.file("run.trec");
  write_bytes(qrels_path, c.qrels);
  write_bytes(run_path, c.run);
  auto qrels = read_qrels(qrels_path);
  auto run = read_trec_run(run_path);
  ASSERT_TRUE(qrels.is_ok() && run.is_ok());
  const std::string script = peers_dir() + "/ir_eval.py";

  const std::vector<std::vector<std::string>> flag_sets = {
      {"--json"}, {"--json", "--per-query"}, {"--json", "--skip-missing"}, {"--json", "--use-rank", "--per-query"}};
  for (const auto& flags : flag_sets) {
    std::vector<std::string> argv = {"python3", script, qrels_path, run_path};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto out = run_process(argv);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    ASSERT_EQ(out->exit_code, 0) << out->err;
    EvalOptions options;
    options.skip_missing = std::count(flags.begin(), flags.end(), "--skip-missing") > 0;
    options.use_rank = std::count(flags.begin(), flags.end(), "--use-rank") > 0;
    const bool per_query = std::count(flags.begin(), flags.end(), "--per-query") > 0;
    const EvalReport report = evaluate(*qrels, *run, options);
    const json ours = report_to_json(report, per_query);
    const std::string what = flags.back();

    std::vector<std::string> lines;
    std::istringstream in(out->out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_FALSE(lines.empty());
    const json ref = json::parse(lines.back());
    EXPECT_EQ(keys(ref), (std::set<std::string>{"metrics", "info"}));
    EXPECT_EQ(keys(ours["metrics"]), keys(ref["metrics"]));
    expect_metrics_near(ours["metrics"], ref["metrics"], kTolerance, what);
    EXPECT_EQ(ours["info"], ref["info"]) << what;

    // "query<TAB>nDCG@10=0.1234<TAB>..." per evaluated query, in id order.
    if (!per_query) {
      EXPECT_EQ(lines.size(), 1u);
      EXPECT_FALSE(ours.contains("per_query"));
      continue;
    }
    ASSERT_EQ(lines.size() - 1, report.per_query.size()) << what;
    auto it = report.per_query.begin();
    for (size_t i = 0; i + 1 < lines.size(); ++i, ++it) {
      std::vector<std::string> fields;
      std::istringstream row(lines[i]);
      for (std::string f; std::getline(row, f, '\t');) fields.push_back(f);
      ASSERT_EQ(fields.size(), 6u) << lines[i];
      EXPECT_EQ(fields[0], it->first);
      const json mine = ours["per_query"][it->first];
      for (size_t k = 0; k < 5; ++k) {
        const std::string prefix = std::string(kMetricNames[k]) + "=";
        ASSERT_EQ(fields[k + 1].rfind(prefix, 0), 0u) << fields[k + 1];
        EXPECT_NEAR(std::stod(fields[k + 1].substr(prefix.size())), mine[kMetricNames[k]].get<double>(), 0.5e-4 + 1e-12)
            << lines[i];
      }
    }
  }
}

// Files ir_eval.py refuses are refused here too (and the other way round for
// the odd forms it accepts).
TEST(IrEvalReference, SameFilesRefused) {
  TempDir dir;
  const std::string good_qrels = dir.file("good.tsv"), good_run = dir.file("good.trec");
  write_bytes(good_qrels, "q1\td1\t1\n");
  write_bytes(good_run, "q1 Q0 d1 1 1.0 t\n");
  struct Case {
    std::string qrels, run;
    bool refused;
  };
  const std::vector<Case> cases = {
      {"\nquery-id\tcorpus-id\tscore\nq1\td1\t1\n", "", true},  // the header is not on the first line
      {"q1\td1\tinf\n", "", true},                              // int(inf): OverflowError, even on line 1
      {"q1\td1\tnan\nq1\td2\t1\n", "", false},                  // int(nan): ValueError, so a header
      {"q1\td1\t1\nq1\td2\tnan\n", "", true},
      {"q1\td1\n", "", true},
      {"q1 0 d1 1 extra\n", "", true},
      {"q1\td1\t 1_0 \n", "", false},
      {"", "q1 Q0 d1 1.0 1.0 t\n", true},  // int("1.0")
      {"", "q1 Q0 d1 1 1,0 t\n", true},
      {"", "q1 Q0 d1 1\n", true},
      {"", "q1 Q0 d1 0_1 1_0.5e-0_1 t\n", false},
      {"", "q1 Q0 d1 -7 -INF\n", false},
  };
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::string qrels = good_qrels, run = good_run;
    if (!c.qrels.empty()) write_bytes(qrels = dir.file(fmt::format("q{}", i)), c.qrels);
    if (!c.run.empty()) write_bytes(run = dir.file(fmt::format("r{}", i)), c.run);
    files.emplace_back(qrels, run);
  }
  const std::vector<json> refs = reference(files);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(refs[i].contains("error"), cases[i].refused) << i << ": " << refs[i].dump();
    const bool ours_refused = !read_qrels(files[i].first).is_ok() || !read_trec_run(files[i].second).is_ok();
    EXPECT_EQ(ours_refused, cases[i].refused) << i;
  }
}

// ---------------------------------------------------------------------------
// Hand-computed cases

eval::Run make_run(const std::map<std::string, std::vector<std::pair<std::string, double>>>& lists) {
  eval::Run run;
  for (const auto& [q, docs] : lists) {
    int rank = 0;
    for (const auto& [d, s] : docs) run.queries[q].push_back(Ranked{d, s, ++rank});
  }
  return run;
}

// ir_eval.py's selftest, computed by hand in its docstring.
TEST(IrEvalHand, ReferenceSelfTestCase) {
  Qrels qrels;
  qrels.grades = {{"q1", {{"d1", 2}, {"d2", 1}, {"d3", 0}, {"d4", 1}}},
                  {"q2", {{"d5", 1}}},
                  {"q3", {{"d6", 0}}},
                  {"q4", {{"d7", 1}}}};
  eval::Run run = make_run({{"q1", {{"d3", 3.0}, {"d1", 2.0}, {"d2", 1.0}, {"d9", 1.0}, {"d1", 0.5}}},
                            {"q2", {{"d8", 5.0}, {"d5", 4.0}}},
                            {"q5", {{"d1", 1.0}}}});
  const double ndcg1 = (2 / std::log2(3.0) + 1 / std::log2(5.0)) / (2 + 1 / std::log2(3.0) + 1 / std::log2(4.0));
  const double ndcg2 = 1 / std::log2(3.0);

  EvalReport r = evaluate(qrels, run);
  ASSERT_EQ(r.per_query.size(), 3u);
  const Metrics& m1 = r.per_query.at("q1");
  EXPECT_NEAR(m1.ndcg10, ndcg1, 1e-12);
  EXPECT_DOUBLE_EQ(m1.mrr10, 0.5);
  EXPECT_NEAR(m1.map100, 1.0 / 3, 1e-12);  // (1/2 + 2/4) / 3
  EXPECT_NEAR(m1.recall10, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m1.recall100, 2.0 / 3, 1e-12);
  const Metrics& m2 = r.per_query.at("q2");
  EXPECT_NEAR(m2.ndcg10, ndcg2, 1e-12);
  EXPECT_DOUBLE_EQ(m2.mrr10, 0.5);
  EXPECT_DOUBLE_EQ(m2.map100, 0.5);
  EXPECT_DOUBLE_EQ(m2.recall100, 1.0);
  const Metrics& m4 = r.per_query.at("q4");
  EXPECT_EQ(m4.ndcg10 + m4.mrr10 + m4.map100 + m4.recall10 + m4.recall100, 0.0);
  EXPECT_NEAR(r.mean.ndcg10, (ndcg1 + ndcg2) / 3, 1e-12);
  EXPECT_NEAR(r.mean.map100, (1.0 / 3 + 0.5) / 3, 1e-12);
  EXPECT_EQ(r.queries_evaluated, 3u);
  EXPECT_EQ(r.queries_without_relevant, 1u);
  EXPECT_EQ(r.queries_missing_from_run, 1u);
  EXPECT_EQ(r.run_queries_without_judgments, 1u);
  EXPECT_EQ(r.duplicate_docs, 1u);
  EXPECT_EQ(r.queries_in_qrels, 4u);
  EXPECT_EQ(r.queries_in_run, 3u);

  EvalOptions skip;
  skip.skip_missing = true;
  EvalReport s = evaluate(qrels, run, skip);
  EXPECT_EQ(s.per_query.size(), 2u);
  EXPECT_NEAR(s.mean.ndcg10, (ndcg1 + ndcg2) / 2, 1e-12);
  EXPECT_EQ(s.queries_missing_from_run, 1u);  // still counted

  // By rank, d2 (rank 3) comes before d9 (rank 4).
  EvalOptions by_rank;
  by_rank.use_rank = true;
  EXPECT_NEAR(evaluate(qrels, run, by_rank).per_query.at("q1").map100, (1.0 / 2 + 2.0 / 3) / 3, 1e-12);
}

TEST(IrEvalHand, GradedRankingReversed) {
  Qrels qrels;
  qrels.grades = {{"q", {{"a", 3}, {"b", 2}, {"c", 1}, {"z", 0}}}};
  const Metrics m = evaluate(qrels, make_run({{"q", {{"c", 3}, {"z", 2.5}, {"b", 2}, {"a", 1}}}})).mean;
  const double dcg = 1.0 + 2 / std::log2(4.0) + 3 / std::log2(5.0);
  const double idcg = 3.0 + 2 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_NEAR(m.ndcg10, dcg / idcg, 1e-12);
  EXPECT_DOUBLE_EQ(m.mrr10, 1.0);
  EXPECT_NEAR(m.map100, (1.0 / 1 + 2.0 / 3 + 3.0 / 4) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(m.recall10, 1.0);
}

TEST(IrEvalHand, IdealIsCutAtTenAndCutsApply) {
  // 12 relevant documents retrieved perfectly: nDCG 1, R@10 10/12.
  Qrels qrels;
  std::vector<std::pair<std::string, double>> docs;
  for (int i = 0; i < 12; ++i) {
    qrels.grades["q"][fmt::format("r{}", i)] = 1;
    docs.push_back({fmt::format("r{}", i), 100.0 - i});
  }
  Metrics m = evaluate(qrels, make_run({{"q", docs}})).mean;
  EXPECT_NEAR(m.ndcg10, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(m.recall10, 10.0 / 12);
  EXPECT_DOUBLE_EQ(m.recall100, 1.0);
  EXPECT_NEAR(m.map100, 1.0, 1e-12);

  // The only relevant document at rank 11, then at rank 101.
  Qrels one;
  one.grades["q"]["hit"] = 2;
  std::vector<std::pair<std::string, double>> deep;
  for (int i = 0; i < 10; ++i) deep.push_back({fmt::format("x{}", i), 1000.0 - i});
  deep.push_back({"hit", 1.0});
  m = evaluate(one, make_run({{"q", deep}})).mean;
  EXPECT_EQ(m.ndcg10, 0.0);
  EXPECT_EQ(m.mrr10, 0.0);
  EXPECT_EQ(m.recall10, 0.0);
  EXPECT_DOUBLE_EQ(m.recall100, 1.0);
  EXPECT_DOUBLE_EQ(m.map100, 1.0 / 11);
  deep.pop_back();
  for (int i = 10; i < 100; ++i) deep.push_back({fmt::format("x{}", i), 1000.0 - i});
  deep.push_back({"hit", 1.0});
  m = evaluate(one, make_run({{"q", deep}})).mean;
  EXPECT_EQ(m.map100, 0.0);
  EXPECT_EQ(m.recall100, 0.0);
}

TEST(IrEvalHand, NegativeGradesAreNotRelevantAndAddNoGain) {
  Qrels qrels;
  qrels.grades = {{"q", {{"bad", -2}, {"good", 1}}}};
  const Metrics m = evaluate(qrels, make_run({{"q", {{"bad", 2}, {"good", 1}}}})).mean;
  EXPECT_NEAR(m.ndcg10, 1 / std::log2(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.mrr10, 0.5);
}

TEST(IrEvalHand, TiesBreakByDocIdDescendingInByteOrder) {
  // All tied: "é1" (C3 A9) > "z1" > "d9" > "d10" > "D1" in byte order.
  Qrels qrels;
  qrels.grades["q"]["d10"] = 1;
  const eval::Run run = make_run({{"q",
                                   {{"D1", 1},
                                    {"d10", 1},
                                    {"z1", 1},
                                    {"\xC3\xA9"
                                     "1",
                                     1},
                                    {"d9", 1}}}});
  EXPECT_DOUBLE_EQ(evaluate(qrels, run).mean.mrr10, 1.0 / 4);
  // The rank column alone decides with use_rank (d10 has rank 2).
  EvalOptions by_rank;
  by_rank.use_rank = true;
  EXPECT_DOUBLE_EQ(evaluate(qrels, run, by_rank).mean.mrr10, 1.0 / 2);
}

TEST(IrEvalHand, RepeatedDocKeepsItsBestPlacedLine) {
  // "a" comes first in the file with a low score and again with a high one:
  // the high one is kept, so "a" ranks first; one line dropped.
  Qrels qrels;
  qrels.grades["q"]["a"] = 1;
  const EvalReport r = evaluate(qrels, make_run({{"q", {{"a", 0.1}, {"b", 0.5}, {"a", 0.9}}}}));
  EXPECT_DOUBLE_EQ(r.mean.mrr10, 1.0);
  EXPECT_EQ(r.duplicate_docs, 1u);
  // Repeats in a query without judgments are not counted.
  const EvalReport u = evaluate(qrels, make_run({{"q", {{"a", 1}}}, {"other", {{"x", 1}, {"x", 2}}}}));
  EXPECT_EQ(u.duplicate_docs, 0u);
}

TEST(IrEvalHand, NothingToEvaluate) {
  Qrels qrels;
  qrels.grades["q"]["d"] = 0;
  EvalReport r = evaluate(qrels, make_run({{"q", {{"d", 1}}}}));
  EXPECT_EQ(r.queries_evaluated, 0u);
  EXPECT_EQ(r.mean.ndcg10, 0.0);
  EXPECT_EQ(r.queries_without_relevant, 1u);
  EXPECT_EQ(r.run_queries_without_judgments, 1u);  // judged, but nothing relevant
  const json j = report_to_json(r, false);
  EXPECT_EQ(j["info"]["queries_evaluated"], 0);
  EXPECT_EQ(j["metrics"]["nDCG@10"], 0.0);
}

// ---------------------------------------------------------------------------
// Readers and writer

std::string write_temp(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  write_bytes(path, bytes);
  return path;
}

TEST(IrEvalReaders, QrelsGradesAndLayout) {
  TempDir dir;
  const std::string path = write_temp(dir, "q.tsv",
                                      "query-id\tcorpus-id\tscore\r\n"
                                      "q1\td1\t2.7\r\n"
                                      "\r\n"
                                      "  q1 \t d2 \t 0.5 \r"  // lone CR ends a line too
                                      "q1\td3\t-0.5\n"
                                      "\t\t\n"
                                      " \tignored\tbecause the first field is blank\n"
                                      "q2 0 d1 1e0\n"
                                      "q2 Q0 d2 +3\n"
                                      "q2\xE3\x80\x80"
                                      "0 d3 1_0\n"     // U+3000 is whitespace to str.split()
                                      "q1\td1\t1\n");  // judged again: the last grade wins
  auto qrels = read_qrels(path);
  ASSERT_TRUE(qrels.is_ok()) << qrels.status().message();
  const std::map<std::string, std::map<std::string, int>> expected = {{"q1", {{"d1", 1}, {"d2", 0}, {"d3", 0}}},
                                                                      {"q2", {{"d1", 1}, {"d2", 3}, {"d3", 10}}}};
  EXPECT_EQ(qrels->grades, expected);

  // A first line whose grade is a number is data, not a header.
  auto no_header = read_qrels(write_temp(dir, "n.tsv", "q\td\t1\n"));
  ASSERT_TRUE(no_header.is_ok());
  EXPECT_EQ(no_header->grades.at("q").at("d"), 1);
  auto empty = read_qrels(write_temp(dir, "e.tsv", ""));
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->grades.empty());
}

void expect_error(const Status& st, Status::Code code, const std::vector<std::string>& parts) {
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), code) << st.message();
  for (const std::string& p : parts) EXPECT_NE(st.message().find(p), std::string::npos) << st.message() << " / " << p;
}

TEST(IrEvalReaders, QrelsErrorsNameFileAndLine) {
  TempDir dir;
  const auto inv = Status::Code::kInvalidArgument;
  std::string p = write_temp(dir, "fields.tsv", "q1\td1\t1\nq1\td2\t1\nq1\td3\n");
  expect_error(read_qrels(p).status(), inv, {p + ":3:", "found 2 fields"});
  p = write_temp(dir, "grade.tsv", "q1\td1\t1\nq1\td2\tabc\n");
  expect_error(read_qrels(p).status(), inv, {p + ":2:", "grade 'abc' is not a number"});
  p = write_temp(dir, "late_header.tsv", "\nquery-id\tcorpus-id\tscore\n");
  expect_error(read_qrels(p).status(), inv, {p + ":2:", "'score'"});
  p = write_temp(dir, "inf.tsv", "q\td\tinf\n");
  expect_error(read_qrels(p).status(), inv, {p + ":1:", "infinite"});
  p = write_temp(dir, "big.tsv", "q\td\t1e10\n");
  expect_error(read_qrels(p).status(), inv, {p + ":1:", "out of range"});
  p = write_temp(dir, "utf8.tsv", "q\td\t1\r\nq\td\xFF\t1\n");
  expect_error(read_qrels(p).status(), inv, {p + ":2:", "invalid UTF-8"});
  expect_error(read_qrels(dir.file("absent.tsv")).status(), Status::Code::kNotFound, {dir.file("absent.tsv")});
  expect_error(read_qrels(dir.str()).status(), inv, {dir.str(), "directory"});
}

TEST(IrEvalReaders, RunKeepsFileOrderAndParsesPythonNumbers) {
  TempDir dir;
  const std::string path = write_temp(dir, "r.trec",
                                      "q2 Q0 b 1 1_0.5 tag\n"
                                      "q1 Q0 a 2 -inf tag\n"
                                      "\n"
                                      "q2\tx\tc\t+3\t.5e1\n"  // the tag is optional, Q0 is not checked
                                      "q2 Q0 b 4 1e400 t extra\n"
                                      "q1 Q0 d -1 1e-400 t\n");
  auto run = read_trec_run(path);
  ASSERT_TRUE(run.is_ok()) << run.status().message();
  ASSERT_EQ(run->queries.size(), 2u);
  const auto& q2 = run->queries.at("q2");
  ASSERT_EQ(q2.size(), 3u);
  EXPECT_EQ(q2[0].doc, "b");
  EXPECT_EQ(q2[0].score, 10.5);
  EXPECT_EQ(q2[1].doc, "c");
  EXPECT_EQ(q2[1].rank, 3);
  EXPECT_EQ(q2[1].score, 5.0);
  EXPECT_TRUE(std::isinf(q2[2].score) && q2[2].score > 0);
  const auto& q1 = run->queries.at("q1");
  ASSERT_EQ(q1.size(), 2u);
  EXPECT_TRUE(std::isinf(q1[0].score) && q1[0].score < 0);
  EXPECT_EQ(q1[1].rank, -1);
  EXPECT_EQ(q1[1].score, 0.0);
}

TEST(IrEvalReaders, RunErrorsNameFileAndLine) {
  TempDir dir;
  const auto inv = Status::Code::kInvalidArgument;
  std::string p = write_temp(dir, "short.trec", "q Q0 d 1 1.0 t\nq Q0 e 2\n");
  expect_error(read_trec_run(p).status(), inv, {p + ":2:", "found 4 fields"});
  p = write_temp(dir, "rank.trec", "q Q0 d 1.0 1.0 t\n");
  expect_error(read_trec_run(p).status(), inv, {p + ":1:", "rank '1.0' is not an integer"});
  p = write_temp(dir, "bigrank.trec", "q Q0 d 99999999999 1.0 t\n");
  expect_error(read_trec_run(p).status(), inv, {p + ":1:", "out of range"});
  p = write_temp(dir, "score.trec", "\n\nq Q0 d 1 1.0.0 t\n");
  expect_error(read_trec_run(p).status(), inv, {p + ":3:", "score '1.0.0' is not a number"});
  p = write_temp(dir, "nan.trec", "q Q0 d 1 NaN t\n");
  expect_error(read_trec_run(p).status(), inv, {p + ":1:", "NaN"});
  expect_error(read_trec_run(dir.file("absent.trec")).status(), Status::Code::kNotFound, {"absent.trec"});
}

TEST(IrEvalReaders, WriteTrecRunAsThePeersDo) {
  TempDir dir;
  eval::Run run;
  run.queries["q2"] = {{"b", 2.0 / 3, 9}, {"a", -0.25, 1}};
  run.queries["q1"] = {{"\xC3\xA9", 1e6, 0}, {"c", -1e-9, 0}, {"d", -std::numeric_limits<double>::infinity(), 0}};
  const std::string path = dir.file("out.trec");
  ASSERT_TRUE(write_trec_run(path, run, "simile").is_ok());
  EXPECT_EQ(read_bytes(path),
            "q1 Q0 \xC3\xA9 1 1000000.000000 simile\n"
            "q1 Q0 c 2 -0.000000 simile\n"
            "q1 Q0 d 3 -inf simile\n"
            "q2 Q0 b 1 0.666667 simile\n"
            "q2 Q0 a 2 -0.250000 simile\n");
  auto back = read_trec_run(path);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->queries.at("q2")[1].rank, 2);

  eval::Run bad;
  bad.queries["q"] = {{"two words", 1, 1}};
  expect_error(write_trec_run(path, bad, "t"), Status::Code::kInvalidArgument, {"'two words'"});
  bad.queries["q"] = {{"d", std::nan(""), 1}};
  expect_error(write_trec_run(path, bad, "t"), Status::Code::kInvalidArgument, {"NaN"});
  bad.queries["q"] = {{"d\xE3\x80\x80", 1, 1}};  // ends with U+3000
  expect_error(write_trec_run(path, bad, "t"), Status::Code::kInvalidArgument, {"whitespace"});
  expect_error(write_trec_run(path, run, ""), Status::Code::kInvalidArgument, {"tag"});
  EXPECT_EQ(read_trec_run(path)->queries.size(), 2u);  // the failed writes left the file alone
}

// ---------------------------------------------------------------------------
// BEIR folders

TEST(IrEvalBeir, CranfieldQueries) {
  auto queries = read_beir_queries(cranfield_dir() + "/queries.jsonl");
  ASSERT_TRUE(queries.is_ok()) << queries.status().message();
  ASSERT_EQ(queries->size(), 225u);
  for (size_t i = 0; i < queries->size(); ++i) {
    EXPECT_EQ((*queries)[i].id, std::to_string(i + 1));
    EXPECT_FALSE((*queries)[i].text.empty());
  }
  EXPECT_EQ((*queries)[0].text,
            "what similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft .");
}

TEST(IrEvalBeir, QueryErrorsNameFileAndLine) {
  TempDir dir;
  const auto inv = Status::Code::kInvalidArgument;
  std::string p = write_temp(
      dir, "ok.jsonl", "{\"_id\": 7, \"text\": \"a\"}\n\n  \n{\"_id\": \"x\", \"text\": \"b\", \"metadata\": {}}");
  auto ok = read_beir_queries(p);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].id, "7");
  EXPECT_EQ((*ok)[1].text, "b");

  p = write_temp(dir, "json.jsonl", "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"2\", \"text\": \n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":2:", "bad JSON"});
  p = write_temp(dir, "id.jsonl", "{\"text\": \"a\"}\n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":1:", "\"_id\""});
  p = write_temp(dir, "text.jsonl", "{\"_id\": \"1\"}\n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":1:", "no \"text\""});
  p = write_temp(dir, "type.jsonl", "{\"_id\": \"1\", \"text\": [\"a\"]}\n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":1:", "must be a string"});
  p = write_temp(dir, "dup.jsonl", "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"1\", \"text\": \"b\"}\n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":2:", "line 1"});
  p = write_temp(dir, "array.jsonl", "[1, 2]\n");
  expect_error(read_beir_queries(p).status(), inv, {p + ":1:", "object"});
  expect_error(read_beir_queries(dir.file("absent.jsonl")).status(), Status::Code::kNotFound, {"absent.jsonl"});
}

TEST(IrEvalBeir, QrelsPath) {
  auto path = beir_qrels_path(cranfield_dir());
  ASSERT_TRUE(path.is_ok()) << path.status().message();
  EXPECT_EQ(*path, cranfield_dir() + "/qrels/test.tsv");
  expect_error(beir_qrels_path(cranfield_dir(), "dev").status(), Status::Code::kNotFound,
               {cranfield_dir(), "qrels/dev.tsv", "it has qrels for: test"});
  TempDir dir;
  expect_error(beir_qrels_path(dir.str()).status(), Status::Code::kNotFound, {dir.str(), "qrels/test.tsv"});
  expect_error(beir_qrels_path(dir.file("nope")).status(), Status::Code::kNotFound, {"does not exist"});
  expect_error(beir_qrels_path(dir.str(), "../x").status(), Status::Code::kInvalidArgument, {"split"});
}

}  // namespace
}  // namespace simile::eval
