#include "words/analogy_eval.h"

#include <utf8proc.h>

#include <array>
#include <chrono>
#include <unordered_map>

#include "text/utf8.h"
#include "util/file_util.h"

namespace simile::words {

namespace {

std::string upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const text::Utf8Step step = text::decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
    text::append_utf8(static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(step.cp))), &out);
    i += step.len;
  }
  return out;
}

// Python's str.strip() of whitespace, and lstrip(": ").
std::string_view strip(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

struct Question {
  size_t section;
  AnalogyQuestion words;  // a, b, c as positions
  std::array<std::string, 4> keys;  // a, b, c, expected as compared (upper-cased when case-insensitive)
};

void add(AnalogySection* into, const AnalogySection& s) {
  into->correct += s.correct;
  into->incorrect += s.incorrect;
}

}  // namespace

Result<AnalogyReport> evaluate_analogies(const WordVectors& vectors, const std::string& path,
                                         const AnalogyEvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  SIMILE_ASSIGN_OR_RETURN(std::string text, read_file(path));
  const size_t restrict_to = options.restrict_to == 0 ? vectors.size() : std::min(options.restrict_to, vectors.size());
  auto key_of = [&](std::string_view w) { return options.case_insensitive ? upper(w) : std::string(w); };
  // The restricted vocabulary by key; the first (most frequent) variant wins.
  std::unordered_map<std::string, uint32_t> ok_vocab;
  ok_vocab.reserve(restrict_to);
  for (size_t i = 0; i < restrict_to; ++i) ok_vocab.emplace(key_of(vectors.word(i)), static_cast<uint32_t>(i));

  AnalogyReport report;
  std::vector<Question> questions;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.substr(0, 2) == ": ") {
      std::string_view name = line;
      while (!name.empty() && (name.front() == ':' || name.front() == ' ')) name.remove_prefix(1);
      report.sections.push_back({std::string(strip(name)), 0, 0});
      continue;
    }
    if (report.sections.empty())
      return Status::invalid_argument(path + ": line " + std::to_string(line_no) +
                                      ": a question before any \": section\" line");
    const auto words = split_fields(line);
    if (words.size() != 4) {
      ++report.invalid_lines;
      continue;
    }
    ++report.questions;
    Question q{report.sections.size() - 1, {}, {}};
    bool known = true;
    for (size_t i = 0; i < 4; ++i) {
      q.keys[i] = key_of(words[i]);
      auto it = ok_vocab.find(q.keys[i]);
      if (it == ok_vocab.end()) known = false;
      else if (i < 3) q.words[i] = it->second;
    }
    if (!known) {
      ++report.skipped;
      if (options.count_unknown) ++report.sections.back().incorrect;
      continue;
    }
    questions.push_back(std::move(q));
  }

  const WordSearch search(vectors, restrict_to);
  report.searched = search.searched();
  std::vector<AnalogyQuestion> asked;
  asked.reserve(questions.size());
  for (const auto& q : questions) asked.push_back(q.words);
  const auto answers = search.analogies(asked, 5, options.method);
  for (size_t i = 0; i < questions.size(); ++i) {
    const Question& q = questions[i];
    // gensim keeps the last candidate when every one is a question word.
    std::string predicted;
    for (const WordHit& hit : answers[i]) {
      predicted = key_of(vectors.word(hit.word));
      if (predicted != q.keys[0] && predicted != q.keys[1] && predicted != q.keys[2]) break;
    }
    AnalogySection& section = report.sections[q.section];
    if (!answers[i].empty() && predicted == q.keys[3]) ++section.correct;
    else ++section.incorrect;
  }
  report.total.name = "Total accuracy";
  report.semantic.name = "semantic";
  report.syntactic.name = "syntactic";
  for (const auto& s : report.sections) {
    add(&report.total, s);
    add(s.name.rfind("gram", 0) == 0 ? &report.syntactic : &report.semantic, s);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace simile::words
