#include "search/rag_prompt.h"

#include <algorithm>
#include <set>

#include "text/utf8.h"

namespace simile::search {

const char* const kDefaultRagTemplate =
    "Answer the question using only the numbered sources below. Cite the sources you use by their number in "
    "square brackets, like [1] or [2][3]. If the sources do not contain the answer, say that you do not know.\n"
    "\n"
    "Sources:\n"
    "\n"
    "{sources}\n"
    "\n"
    "Question: {question}\n"
    "Answer:";

namespace {

// A cut source ends with this, so the model (and the reader) sees it is partial.
constexpr const char* kCutMark = " [...]";
// Less room than this is not worth a source.
constexpr size_t kMinSourceTokens = 16;

Result<size_t> count_tokens(const Tokenizer& counter, const std::string& text) {
  SIMILE_ASSIGN_OR_RETURN(Encoding e, counter.encode(text, false));
  return e.size();
}

std::string source_header(const PromptSource& s) {
  std::string h = "[";
  h += std::to_string(s.number);
  h += "] ";
  h += s.title.empty() ? s.id : s.title;
  h += s.title.empty() ? " (" : " (id: " + s.id + ", ";
  h += "characters ";
  h += std::to_string(s.chunk_begin);
  h += "-";
  h += std::to_string(s.chunk_end);
  h += ")";
  return h;
}

std::string format_source(const PromptSource& s) { return source_header(s) + "\n" + s.text; }

// The first `tokens` tokens of `text`, cut at a token boundary.
Result<std::string> first_tokens(const Tokenizer& counter, const std::string& text, size_t tokens) {
  SIMILE_ASSIGN_OR_RETURN(Encoding e, counter.encode(text, false));
  if (tokens >= e.size()) return text;
  if (tokens == 0) return std::string();
  return text.substr(0, e.offsets[tokens - 1].second);
}

// The template with its placeholders replaced (each is there once: check_template).
std::string fill_template(const std::string& tmpl, const std::string& question, const std::string& sources) {
  std::pair<size_t, std::pair<std::string_view, const std::string*>> parts[] = {
      {tmpl.find(kQuestionPlaceholder), {kQuestionPlaceholder, &question}},
      {tmpl.find(kSourcesPlaceholder), {kSourcesPlaceholder, &sources}}};
  if (parts[1].first < parts[0].first) std::swap(parts[0], parts[1]);
  std::string out;
  size_t from = 0;
  for (const auto& [at, what] : parts) {
    out.append(tmpl, from, at - from);
    out += *what.second;
    from = at + what.first.size();
  }
  out.append(tmpl, from);
  return out;
}

Status check_template(const std::string& tmpl) {
  for (const char* p : {kQuestionPlaceholder, kSourcesPlaceholder}) {
    const size_t first = tmpl.find(p);
    if (first == std::string::npos)
      return Status::invalid_argument(std::string("the prompt template has no ") + p + " placeholder");
    if (tmpl.find(p, first + 1) != std::string::npos)
      return Status::invalid_argument(std::string("the prompt template has the ") + p + " placeholder more than once");
  }
  return Status::ok();
}

}  // namespace

Result<RagPrompt> build_rag_prompt(const std::string& question, const std::vector<SearchHit>& hits,
                                   const std::string& prompt_template, size_t budget_tokens,
                                   const Tokenizer& counter) {
  SIMILE_RETURN_IF_ERROR(check_template(prompt_template));
  RagPrompt out;
  SIMILE_ASSIGN_OR_RETURN(size_t used, count_tokens(counter, fill_template(prompt_template, question, "")));
  if (used > budget_tokens)
    return Status::invalid_argument("the question and the prompt template alone take " + std::to_string(used) +
                                    " tokens, more than the budget of " + std::to_string(budget_tokens));
  constexpr const char* kSeparator = "\n\n";
  SIMILE_ASSIGN_OR_RETURN(const size_t separator_tokens, count_tokens(counter, kSeparator));
  std::string sources;
  for (size_t i = 0; i < hits.size(); ++i) {
    const SearchHit& h = hits[i];
    PromptSource s;
    s.number = out.sources.size() + 1;
    s.id = h.id;
    s.title = h.title;
    s.chunk_begin = h.chunk_begin;
    s.chunk_end = h.chunk_end;
    s.score = h.score;
    s.text = h.chunk;
    const size_t joint = out.sources.empty() ? 0 : separator_tokens;
    SIMILE_ASSIGN_OR_RETURN(size_t cost, count_tokens(counter, format_source(s)));
    if (used + joint + cost > budget_tokens) {
      // Cut this one to the room left, if that leaves a useful passage.
      SIMILE_ASSIGN_OR_RETURN(size_t header, count_tokens(counter, source_header(s) + "\n" + kCutMark));
      const size_t room = budget_tokens - used;
      if (room > joint + header + kMinSourceTokens) {
        SIMILE_ASSIGN_OR_RETURN(std::string cut, first_tokens(counter, s.text, room - joint - header));
        s.text = cut + kCutMark;
        s.truncated = true;
        // Token counts of joined text can differ by one or two from the sum
        // of its parts: trim until the whole fits.
        SIMILE_ASSIGN_OR_RETURN(cost, count_tokens(counter, format_source(s)));
        while (used + joint + cost > budget_tokens && !cut.empty()) {
          SIMILE_ASSIGN_OR_RETURN(size_t have, count_tokens(counter, cut));
          SIMILE_ASSIGN_OR_RETURN(cut, first_tokens(counter, cut, have > 0 ? have - 1 : 0));
          s.text = cut + kCutMark;
          SIMILE_ASSIGN_OR_RETURN(cost, count_tokens(counter, format_source(s)));
        }
        if (!cut.empty()) {
          if (!out.sources.empty()) sources += kSeparator;
          sources += format_source(s);
          used += joint + cost;
          out.sources.push_back(std::move(s));
          ++i;
        }
      }
      out.left_out = hits.size() - i;
      break;
    }
    if (!out.sources.empty()) sources += kSeparator;
    sources += format_source(s);
    used += joint + cost;
    out.sources.push_back(std::move(s));
  }
  out.text = fill_template(prompt_template, question, sources);
  SIMILE_ASSIGN_OR_RETURN(out.tokens, count_tokens(counter, out.text));
  return out;
}

std::vector<size_t> cited_sources(const std::string& answer, size_t sources) {
  std::set<size_t> cited;
  for (size_t open = answer.find('['); open != std::string::npos; open = answer.find('[', open + 1)) {
    const size_t close = answer.find(']', open);
    if (close == std::string::npos) break;
    // "[1]", "[1, 3]", "[1,3]": numbers and separators only.
    std::string_view inside(answer.data() + open + 1, close - open - 1);
    if (inside.empty() || inside.size() > 40) continue;
    std::vector<size_t> numbers;
    size_t n = 0;
    bool digits = false, ok = true;
    for (char c : inside) {
      if (c >= '0' && c <= '9') {
        n = n * 10 + static_cast<size_t>(c - '0');
        digits = true;
        if (n > 1000000) ok = false;
      } else if (c == ',' || c == ' ') {
        if (digits) numbers.push_back(n);
        n = 0;
        digits = false;
      } else {
        ok = false;
        break;
      }
    }
    if (digits) numbers.push_back(n);
    if (!ok) continue;
    for (size_t x : numbers)
      if (x >= 1 && x <= sources) cited.insert(x);
  }
  return {cited.begin(), cited.end()};
}

}  // namespace simile::search
