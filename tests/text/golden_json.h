// Readers of the JSON golden files of the tokenizer tests, and the names of
// their parameterized tests. A file that cannot
// be opened is a test failure naming it (and an empty result).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace simile::testing {

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return nlohmann::json();
  }
  return nlohmann::json::parse(in);
}

// One JSON value per non-empty line.
inline std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  if (!in) {
    ADD_FAILURE() << "cannot open " << path << " (run tests/golden/tokenizers/regen.sh)";
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// A test name for a parameter that is a golden config name ("t5-small-spm"
// -> "t5_small_spm").
inline std::string name_of_config(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

}  // namespace simile::testing
