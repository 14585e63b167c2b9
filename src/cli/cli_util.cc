#include <unistd.h>

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace simile::cli {

void check(const Status& st) {
  if (!st.is_ok()) throw CliError(st.message());
}

std::vector<std::string> read_texts(const std::vector<std::string>& args, bool jsonl_input) {
  bool from_stdin = (args.size() == 1 && args[0] == "-") || (args.empty() && !isatty(STDIN_FILENO));
  if (!from_stdin) {
    if (args.empty()) throw CliError("no texts given (pass them as arguments, or '-' to read lines from stdin)");
    return args;
  }
  std::vector<std::string> texts;
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!jsonl_input) {
      texts.push_back(std::move(line));
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("text")) j = j["text"];
    if (!j.is_string())
      throw CliError("stdin line " + std::to_string(line_no) +
                     " is not a JSON string or an object with a \"text\" string");
    texts.push_back(j.get<std::string>());
  }
  return texts;
}

std::string format_float(float x) { return fmt::format("{}", x); }

void append_json_array(std::string& out, const float* v, size_t n) {
  out.push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    if (!std::isfinite(v[i])) {
      out += "null";  // JSON has no NaN/Inf
      continue;
    }
    fmt::format_to(std::back_inserter(out), "{}", v[i]);
  }
  out.push_back(']');
}

}  // namespace simile::cli
