#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"

namespace simile::cli {

void check(const Status& st) {
  if (!st.is_ok()) throw CliError(st.message());
}

namespace {

// One text per line of `in` (see read_text_file); `source` names it in errors.
std::vector<std::string> read_lines(std::istream& in, bool jsonl_input, const std::string& source) {
  std::vector<std::string> texts;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
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
      throw CliError(source + " line " + std::to_string(line_no) +
                     " is not a JSON string or an object with a \"text\" string");
    texts.push_back(j.get<std::string>());
  }
  if (in.bad()) throw CliError("cannot read " + source);
  return texts;
}

}  // namespace

std::vector<std::string> read_texts(const std::vector<std::string>& args, bool jsonl_input) {
  bool from_stdin = (args.size() == 1 && args[0] == "-") || (args.empty() && !isatty(STDIN_FILENO));
  if (!from_stdin) {
    if (args.empty()) throw CliError("no texts given (pass them as arguments, or '-' to read lines from stdin)");
    return args;
  }
  return read_lines(std::cin, jsonl_input, "stdin");
}

std::vector<std::string> read_text_file(const std::string& path, bool jsonl_input) {
  if (path == "-") return read_lines(std::cin, jsonl_input, "stdin");
  std::ifstream in(path);
  if (!in) throw CliError("cannot open " + path);
  return read_lines(in, jsonl_input, path);
}

std::string one_line(std::string text, size_t max_bytes) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
  return text.substr(0, cut) + "...";
}

std::string format_float(float x) { return fmt::format("{}", x); }


}  // namespace simile::cli
