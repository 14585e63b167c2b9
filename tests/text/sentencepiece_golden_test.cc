// Golden tests of SentencePiece model files (Tokenizer::from_file on a
// ".model"): ids equal Debian's spm_encode (fixtures written by
// tests/golden/tokenizers/spm_ids.py, listed under "sentencepiece" in
// manifest.json), and, with special tokens, the Hugging Face tokenizer.json of
// the same model.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../test_env.h"
#include "golden_json.h"
#include "simile/tokenizer.h"

namespace simile {
namespace {

using json = nlohmann::json;
using testing::read_json_file;
using testing::read_json_lines;

std::string golden_dir() { return testing::golden_dir() + "/tokenizers"; }

json manifest_entry(const std::string& name) {
  const json manifest = read_json_file(golden_dir() + "/manifest.json");
  for (const json& e : manifest["sentencepiece"]) {
    if (e["name"] == name) return e;
  }
  ADD_FAILURE() << name << " is not under \"sentencepiece\" in manifest.json";
  return json();
}

std::string show(const std::vector<int32_t>& ids) {
  std::ostringstream os;
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? " " : "") << ids[i];
  return os.str();
}

// "id:token id:token ..." of an encoding.
std::string show_tokens(const Encoding& e) {
  std::ostringstream os;
  for (size_t i = 0; i < e.size(); ++i) os << (i ? " " : "") << e.ids[i] << ":" << e.tokens[i] << "/" << e.type_ids[i];
  return os.str();
}

class SentencePieceGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceGolden, MatchesSpmEncode) {
  const json entry = manifest_entry(GetParam());
  ASSERT_TRUE(entry.is_object());
  const json manifest = read_json_file(golden_dir() + "/manifest.json");
  auto tok = Tokenizer::from_file(testing::shared_dir() + "/" + entry["model"].get<std::string>());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->model_type(), "SentencePiece");

  size_t compared = 0;
  for (const json& set_name : entry["text_sets"]) {
    const json& set = manifest["text_sets"][set_name.get<std::string>()];
    const auto texts = read_json_lines(golden_dir() + "/" + set["file"].get<std::string>());
    const std::string fixture = golden_dir() + "/" + GetParam() + "." + set_name.get<std::string>() + ".jsonl";
    const auto records = read_json_lines(fixture);
    ASSERT_EQ(texts.size(), records.size()) << fixture << " does not match its texts; run regen.sh";
    size_t failures = 0;
    std::string first_failure;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (records[i].contains("skipped")) continue;  // a newline: spm_encode reads lines
      std::vector<int32_t> want;
      for (const json& v : records[i]["ids"]) {
        // Special-token strings are written as their text.
        want.push_back(v.is_string() ? (*tok)->token_to_id(v.get<std::string>()).value_or(-1) : v.get<int32_t>());
      }
      const std::string text = texts[i].get<std::string>();
      Result<Encoding> got = (*tok)->encode(text, /*add_special_tokens=*/false);
      ++compared;
      if (got.is_ok() && got->ids == want) continue;
      if (failures++ == 0) {
        first_failure = "text " + std::to_string(i) + ": " + texts[i].dump() + "\n  want " + show(want) + "\n  got  " +
                        (got.is_ok() ? show(got->ids) : got.status().message());
      }
    }
    EXPECT_EQ(failures, 0u) << GetParam() << ": " << failures << " texts of " << set_name.get<std::string>()
                            << " differ; first: " << first_failure;
  }
  EXPECT_GT(compared, 1700u);  // 398 of the 2,124 texts have a newline
}

const std::string kSpmConfigs[] = {"t5-small-spm", "mistral-7b-spm"};

INSTANTIATE_TEST_SUITE_P(Models, SentencePieceGolden, ::testing::ValuesIn(kSpmConfigs), testing::name_of_config);

TEST(SentencePieceGoldenManifest, EveryEntryIsTested) {
  const json manifest = read_json_file(golden_dir() + "/manifest.json");
  std::set<std::string> listed, tested(std::begin(kSpmConfigs), std::end(kSpmConfigs));
  for (const json& e : manifest["sentencepiece"]) listed.insert(e["name"].get<std::string>());
  EXPECT_EQ(listed, tested);
}

// The inputs of one text set on which the .model file and the tokenizer.json
// of the same model give different ids, type ids or special tokens (with
// special tokens, truncation and padding off).
std::vector<json> differences_from_tokenizer_json(const std::string& dir, const std::string& model_file,
                                                  const std::string& set_name) {
  std::vector<json> out;
  auto spm = Tokenizer::from_file(dir + "/" + model_file);
  auto hf = Tokenizer::from_file(dir + "/tokenizer.json");
  if (!spm.is_ok() || !hf.is_ok()) {
    ADD_FAILURE() << (spm.is_ok() ? hf.status().message() : spm.status().message());
    return out;
  }
  (*hf)->set_truncation(std::nullopt);
  (*hf)->set_padding(std::nullopt);
  const json manifest = read_json_file(golden_dir() + "/manifest.json");
  const json& set = manifest["text_sets"][set_name];
  const bool pair = set["format"] == "pairs";
  for (const json& input : read_json_lines(golden_dir() + "/" + set["file"].get<std::string>())) {
    const std::string a = pair ? input[0].get<std::string>() : input.get<std::string>();
    const std::string b = pair ? input[1].get<std::string>() : std::string();
    Result<Encoding> x = pair ? (*spm)->encode_pair(a, b) : (*spm)->encode(a);
    Result<Encoding> y = pair ? (*hf)->encode_pair(a, b) : (*hf)->encode(a);
    if (!x.is_ok() || !y.is_ok()) {
      ADD_FAILURE() << input.dump() << ": " << (x.is_ok() ? y.status().message() : x.status().message());
      continue;
    }
    if (x->ids != y->ids || x->type_ids != y->type_ids || x->special_tokens_mask != y->special_tokens_mask) {
      out.push_back(input);
      if (out.size() == 1) {
        std::cerr << "first difference in " << set_name << ": " << input.dump() << "\n  " << model_file << ": "
                  << show_tokens(*x) << "\n  tokenizer.json: " << show_tokens(*y) << "\n";
      }
    }
  }
  return out;
}

bool is_ascii(const json& input) {
  const std::string s =
      input.is_array() ? input[0].get<std::string>() + input[1].get<std::string>() : input.get<std::string>();
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// t5-small: on ordinary text the two agree but for one tie between equally
// scored segmentations; on the Unicode fuzz texts Hugging Face's Precompiled
// normalizer and unknown-piece handling differ from libsentencepiece's own
// (format and control characters, combining marks, unassigned code points).
TEST(SentencePieceVsTokenizerJson, T5SmallDiffersOnlyOnTiesAndRareCharacters) {
  const std::string dir = testing::shared_dir() + "/tokenizers/t5-small";
  const auto texts = differences_from_tokenizer_json(dir, "spiece.model", "texts");
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0].get<std::string>(), std::string(101, 'x'));
  for (const char* set : {"fuzz", "pairs"}) {
    const auto fuzz = differences_from_tokenizer_json(dir, "spiece.model", set);
    EXPECT_TRUE(std::none_of(fuzz.begin(), fuzz.end(), is_ascii)) << set;
    EXPECT_LE(fuzz.size(), std::string(set) == "fuzz" ? 380u : 117u) << set;
  }
}

// mistral-7b: they differ only where a text starts with a space. Its
// tokenizer.json (Metaspace, prepend_scheme "first") adds no "▁" before a
// text that starts with one; LlamaTokenizer, and so the .model file here,
// always does: " " is "▁▁" here and "▁" there.
TEST(SentencePieceVsTokenizerJson, Mistral7bDiffersOnlyOnLeadingSpaces) {
  const std::string dir = testing::shared_dir() + "/tokenizers/mistral-7b";
  size_t total = 0;
  for (const char* set : {"texts", "fuzz", "pairs"}) {
    for (const json& input : differences_from_tokenizer_json(dir, "tokenizer.model", set)) {
      const bool leading_space = input.is_array() ? input[0].get<std::string>().starts_with(' ') ||
                                                        input[1].get<std::string>().starts_with(' ')
                                                  : input.get<std::string>().starts_with(' ');
      EXPECT_TRUE(leading_space) << input.dump();
      ++total;
    }
  }
  EXPECT_LE(total, 5u);
}

}  // namespace
}  // namespace simile
