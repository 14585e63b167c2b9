// Retrieval evaluation: TREC runs scored against relevance judgments (qrels)
// with nDCG@10, MRR@10, MAP@100, R@10 and R@100, as `simile eval` reports them.
//
// The reference is ../shared/peers/ir/ir_eval.py (trec_eval / pytrec_eval
// semantics); for the same qrels and run files every number here equals its
// output (the tests run it on random files and on Cranfield). The semantics:
//
//  - Qrels lines are BEIR tsv "query<TAB>doc<TAB>grade" or TREC
//    "query iteration doc grade". A line holding a tab is split on tabs (and
//    each id stripped of whitespace), any other line on runs of whitespace.
//    Blank lines, and lines whose first field is blank, are ignored. The grade
//    is read as a number and truncated towards zero, so "2.7" is 2 and "0.5"
//    is 0. The first line of the file (only the very first, even if blank
//    lines come before the header) is taken for a header and skipped when its
//    grade is not a number. A (query, doc) judged twice keeps the last grade.
//  - A document is relevant when its grade is >= 1; grades <= 0 count as not
//    relevant everywhere (a negative grade never lowers a DCG). A query with no
//    relevant document is skipped (queries_without_relevant).
//  - Run lines are "query Q0 doc rank score [tag ...]" split on whitespace;
//    the second and sixth-on fields are ignored. A query's documents are
//    ordered by score descending, ties by doc id descending in byte order (the
//    order of trec_eval's strcmp), remaining ties in file order; the rank
//    column is ignored unless EvalOptions::use_rank, which orders by rank
//    ascending (ties in file order) instead.
//  - After ordering, a doc id seen again in the same query is dropped: the
//    copy kept is the best placed one (the highest score), not necessarily
//    the first in the file. Drops are counted only for judged queries.
//  - A judged query absent from the run scores 0 on every metric and is part
//    of the mean; with EvalOptions::skip_missing it is left out instead.
//  - nDCG@10: gain = grade, discount 1/log2(rank + 1); the ideal ranking is
//    made of the query's relevant grades, best first, cut at 10. MRR@10:
//    1/rank of the first relevant document in the top 10. MAP@100: precision
//    at the rank of each relevant document retrieved in the top 100, summed and
//    divided by the number of relevant documents (trec_eval map_cut.100).
//    R@k: relevant documents in the top k / relevant documents.
//  - Means are over the evaluated queries in query-id byte order, summed in
//    that order as Python's sum() does (Python <= 3.11), so they match to the
//    last bit there and to ~1e-16 with the compensated sum of Python 3.12.
//
// Files are UTF-8 (invalid UTF-8 is an error, as it is for Python); lines end
// at "\n", "\r\n" or a lone "\r"; "whitespace" is what Python's str.split()
// splits on, Unicode spaces included. Every malformed line is an
// invalid_argument Status naming "file:line".
//
// Where this is stricter than ir_eval.py (it would accept the input, these
// functions return an error instead): a grade or rank outside the range of
// int, digits outside ASCII in a number ("٣"), and a NaN score (Python's sort
// has no defined order for NaN).
//
// All functions are thread-compatible: they touch no shared state.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile::eval {

// Relevance judgments: query id -> doc id -> grade.
struct Qrels {
  std::map<std::string, std::map<std::string, int>> grades;
};

// Reads BEIR tsv or TREC qrels (see the file comment for the exact rules).
Result<Qrels> read_qrels(const std::string& path);

// One retrieved document of a run. `rank` is the file's rank column, used
// only with EvalOptions::use_rank.
struct Ranked {
  std::string doc;
  double score = 0;
  int rank = 0;
};

// A run: query id -> its retrieved documents in file order.
struct Run {
  std::map<std::string, std::vector<Ranked>> queries;
};

// Reads a TREC run ("query Q0 doc rank score tag"). NaN scores are refused.
Result<Run> read_trec_run(const std::string& path);

// Writes `run` as the peers write theirs (../shared/peers/ir/baselines.py):
// one line "query Q0 doc rank score tag" per document, queries in id order,
// each query's documents in vector order with ranks 1, 2, ... (Ranked::rank is
// not written) and the score printed with %.6f. Ids and the tag must be
// non-empty valid UTF-8 without whitespace and scores must not be NaN, so that
// the file reads back; otherwise invalid_argument and nothing is written.
// The file is replaced atomically.
//
// Scores are rounded to 6 decimals, so evaluating the file read back may
// differ from evaluating `run` itself where the rounding makes new ties; that
// file is what the peers evaluate.
Status write_trec_run(const std::string& path, const Run& run, const std::string& tag);

struct Metrics {
  double ndcg10 = 0, mrr10 = 0, map100 = 0, recall10 = 0, recall100 = 0;
};

struct EvalOptions {
  bool skip_missing = false;  // leave judged queries absent from the run out of the mean
  bool use_rank = false;      // order by the rank column instead of by score
};

// What evaluate() found. The counters are ir_eval.py's "info" (its names in
// the comments where they differ).
struct EvalReport {
  Metrics mean;                              // over per_query; all 0 if it is empty
  std::map<std::string, Metrics> per_query;  // every evaluated query
  size_t queries_evaluated = 0;              // per_query.size()
  size_t queries_without_relevant = 0;       // queries_skipped_no_relevant: in the qrels, no grade >= 1
  size_t queries_missing_from_run = 0;       // judged_queries_missing_from_run (counted even with skip_missing)
  size_t duplicate_docs = 0;                 // duplicate_run_lines_dropped, in judged queries only
  size_t queries_in_qrels = 0;               // every query id of the qrels, judged or not
  size_t queries_in_run = 0;                 // every query id of the run
  size_t run_queries_without_judgments = 0;  // run queries with no grade >= 1 (absent from the qrels or not)
};

// Scores `run` against `qrels`. A query present in run.queries with no
// documents counts as present (it scores 0). NaN scores, which read_trec_run
// refuses, are ordered after every other score.
EvalReport evaluate(const Qrels& qrels, const Run& run, const EvalOptions& options = {});

// {"metrics": {"nDCG@10", "MRR@10", "MAP@100", "R@10", "R@100"},
//  "info": {"queries_in_qrels", "queries_skipped_no_relevant", "queries_in_run",
//           "run_queries_without_judgments", "judged_queries_missing_from_run",
//           "duplicate_run_lines_dropped", "queries_evaluated"}}
// as `ir_eval.py --json` prints it, plus "per_query": {query: {metrics}} when
// `per_query` is true.
nlohmann::json report_to_json(const EvalReport& report, bool per_query);

// A BEIR folder holds corpus.jsonl ({"_id", "title", "text", optional
// "metadata"}), queries.jsonl ({"_id", "text", ...}) and qrels/<split>.tsv.
struct BeirQuery {
  std::string id, text;
};

// Reads queries.jsonl in file order. Blank lines are skipped; "_id" is a
// string or an integer (read as its decimal form), "text" a string; other
// keys are ignored. Bad JSON, a missing or mistyped field and an id seen
// twice are invalid_argument errors naming file:line.
Result<std::vector<BeirQuery>> read_beir_queries(const std::string& path);

// dir/qrels/<split>.tsv, or not_found saying which folder lacks it (and which
// splits it has).
Result<std::string> beir_qrels_path(const std::string& dir, const std::string& split = "test");

}  // namespace simile::eval
