// Golden test: simile's tokenizer against Hugging Face `tokenizers` 0.23.2.
//
// tests/golden/tokenizers/manifest.json lists tokenizer configurations (a
// tokenizer.json from the shared dir, plus truncation/padding overrides) and
// text sets; regen.sh wrote the reference encodings of each pair with
// hf_ids.mjs (format described there). Every text must give exactly the same
// ids, tokens, type ids, attention mask and, where recorded, offsets.
#include <gtest/gtest.h>

#include <map>
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

// token_of(id) of the fixture format: the vocab entry with that id (the
// smallest if several), else the added token with that id. A Unigram vocab is
// a list of [piece, score] indexed by id.
std::map<int32_t, std::string> token_of_table(const std::string& tokenizer_file) {
  const json spec = read_json_file(tokenizer_file);
  std::map<int32_t, std::string> table;
  const json& vocab = spec["model"]["vocab"];
  if (vocab.is_array()) {
    for (size_t id = 0; id < vocab.size(); ++id) table.emplace(static_cast<int32_t>(id), vocab[id][0]);
  } else {
    for (const auto& [token, id] : vocab.items()) {
      auto [it, inserted] = table.emplace(id.get<int32_t>(), token);
      if (!inserted && token < it->second) it->second = token;
    }
  }
  for (const json& t : spec["added_tokens"]) table.emplace(t["id"].get<int32_t>(), t["content"].get<std::string>());
  return table;
}

struct Expected {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
  std::vector<int32_t> type_ids;
  std::vector<uint8_t> attention_mask;
  bool has_offsets = false;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;  // code point offsets
};

template <typename T>
std::vector<T> expand_runs(const json& runs) {
  std::vector<T> out;
  for (const json& r : runs) out.insert(out.end(), r[1].get<size_t>(), static_cast<T>(r[0].get<int64_t>()));
  return out;
}

Expected expand(const json& rec, const std::map<int32_t, std::string>& token_of) {
  Expected e;
  e.ids = rec["ids"].get<std::vector<int32_t>>();
  for (size_t i = 0; i < e.ids.size(); ++i) {
    auto it = token_of.find(e.ids[i]);
    e.tokens.push_back(it == token_of.end() ? "<no token_of>" : it->second);
  }
  if (rec.contains("tokens")) {
    for (const auto& [pos, tok] : rec["tokens"].items()) e.tokens.at(std::stoul(pos)) = tok.get<std::string>();
  }
  // Absent run lists mean all 0 type ids / all 1 attention.
  e.type_ids = rec.contains("type_ids") ? expand_runs<int32_t>(rec["type_ids"]) : std::vector<int32_t>(e.ids.size(), 0);
  e.attention_mask = rec.contains("attention_mask") ? expand_runs<uint8_t>(rec["attention_mask"])
                                                    : std::vector<uint8_t>(e.ids.size(), 1);
  if (rec.contains("offsets")) {
    e.has_offsets = true;
    const auto flat = rec["offsets"].get<std::vector<uint32_t>>();
    for (size_t i = 0; i + 1 < flat.size(); i += 2) e.offsets.emplace_back(flat[i], flat[i + 1]);
  }
  if (rec.contains("pad")) {
    const json& p = rec["pad"];
    const size_t n = p["n"].get<size_t>();
    e.ids.insert(e.ids.end(), n, p["id"].get<int32_t>());
    e.tokens.insert(e.tokens.end(), n, p["token"].get<std::string>());
    e.type_ids.insert(e.type_ids.end(), n, p["type_id"].get<int32_t>());
    e.attention_mask.insert(e.attention_mask.end(), n, 0);
    if (e.has_offsets) e.offsets.insert(e.offsets.end(), n, {0, 0});
  }
  return e;
}

// Byte offsets into `text` -> code point offsets, as the reference reports them.
uint32_t char_offset(std::string_view text, uint32_t byte) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < byte && i < text.size(); ++i) n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  return n;
}

std::string show_ids(const std::vector<int32_t>& v) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? " " : "") << v[i];
  return os.str();
}

std::string show_tokens(const std::vector<std::string>& v) {
  return json(v).dump(-1, ' ', true, json::error_handler_t::replace);
}

// What differs between the expected and actual encoding, or "".
// `leading_special`: the pair template starts with a special token ([CLS], <s>);
// otherwise (T5's A </s> B </s>) a special token at the start closes an empty A.
std::string diff(const Expected& want, const Encoding& got, std::string_view a, std::string_view b, bool pair,
                 bool leading_special) {
  std::ostringstream os;
  if (want.ids != got.ids) {
    os << "ids\n  want " << show_ids(want.ids) << "\n  got  " << show_ids(got.ids) << "\n  want tokens "
       << show_tokens(want.tokens) << "\n  got tokens  " << show_tokens(got.tokens);
    return os.str();
  }
  if (want.tokens != got.tokens) {
    os << "tokens\n  want " << show_tokens(want.tokens) << "\n  got  " << show_tokens(got.tokens);
    return os.str();
  }
  if (want.type_ids != got.type_ids) {
    os << "type_ids\n  want " << show_ids(want.type_ids) << "\n  got  " << show_ids(got.type_ids);
    return os.str();
  }
  if (want.attention_mask != got.attention_mask) return "attention_mask";
  if (got.type_ids.size() != got.size() || got.attention_mask.size() != got.size() ||
      got.special_tokens_mask.size() != got.size() || got.offsets.size() != got.size()) {
    return "Encoding vectors have different lengths";
  }
  if (want.has_offsets) {
    // A pair's second sequence has offsets into the second text. It starts at
    // the first text token after the special token(s) that close the first
    // ([CLS] A [SEP] B [SEP], <s> A </s></s> B </s>), or at type id 1.
    // Left padding comes before all of it.
    size_t start = 0;
    while (start < got.size() && got.attention_mask[start] == 0) ++start;
    bool first_closed = false;
    bool in_second = false;
    for (size_t i = 0; i < got.size(); ++i) {
      if (pair && (i > start || !leading_special) && got.special_tokens_mask[i] == 1) first_closed = true;
      if (pair && first_closed && got.special_tokens_mask[i] == 0) in_second = true;
      // Without special tokens between them (gpt2), B is where type id 1 starts.
      if (pair && got.type_ids[i] == 1 && got.attention_mask[i] == 1) in_second = true;
      const std::string_view text = in_second ? b : a;
      const std::pair<uint32_t, uint32_t> c{char_offset(text, got.offsets[i].first),
                                            char_offset(text, got.offsets[i].second)};
      if (c != want.offsets[i]) {
        os << "offsets of token " << i << " (" << got.tokens[i] << "): want [" << want.offsets[i].first << ", "
           << want.offsets[i].second << ") got chars [" << c.first << ", " << c.second << ") bytes ["
           << got.offsets[i].first << ", " << got.offsets[i].second << ")";
        return os.str();
      }
    }
  }
  return "";
}

// A manifest "truncation": null, a max length, or {max_length, strategy,
// direction} with tokenizer.json's names.
std::optional<TruncationOptions> truncation_of(const json& t) {
  if (t.is_null()) return std::nullopt;
  if (t.is_number()) return TruncationOptions{t.get<size_t>()};
  TruncationOptions o;
  o.max_length = t["max_length"].get<size_t>();
  const std::string strategy = t.value("strategy", "LongestFirst");
  EXPECT_TRUE(strategy == "LongestFirst" || strategy == "OnlyFirst" || strategy == "OnlySecond") << strategy;
  o.strategy = strategy == "OnlyFirst"    ? TruncationOptions::Strategy::kOnlyFirst
               : strategy == "OnlySecond" ? TruncationOptions::Strategy::kOnlySecond
                                          : TruncationOptions::Strategy::kLongestFirst;
  o.direction = t.value("direction", "Right") == "Left" ? Side::kLeft : Side::kRight;
  return o;
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, MatchesHuggingFace) {
  const std::string golden = testing::golden_dir() + "/tokenizers";
  const json manifest = read_json_file(golden + "/manifest.json");
  const json* config = nullptr;
  for (const json& c : manifest["configs"]) {
    if (c["name"] == GetParam()) config = &c;
  }
  ASSERT_NE(config, nullptr) << GetParam() << " is not in manifest.json";

  // "./NAME" is a file beside the manifest; other paths are in the shared dir.
  const std::string rel = (*config)["tokenizer"].get<std::string>();
  const std::string tokenizer_file =
      rel.rfind("./", 0) == 0 ? golden + "/" + rel.substr(2) : testing::shared_dir() + "/" + rel;
  auto tok_or = Tokenizer::from_file(tokenizer_file);
  ASSERT_TRUE(tok_or.is_ok()) << tok_or.status().message();
  Tokenizer& tok = **tok_or;
  if (config->contains("truncation")) tok.set_truncation(truncation_of((*config)["truncation"]));
  if (config->contains("padding")) {
    ASSERT_TRUE((*config)["padding"].is_null()) << "only padding: null is implemented in this test";
    tok.set_padding(std::nullopt);
  }
  const auto token_of = token_of_table(tokenizer_file);
  bool leading_special = true;
  if (auto probe = tok.encode_pair("a", "b"); probe.is_ok()) {
    size_t start = 0;
    while (start < probe->size() && probe->attention_mask[start] == 0) ++start;
    leading_special = start < probe->size() && probe->special_tokens_mask[start] == 1;
  }

  size_t checked = 0;
  for (const json& set_name : (*config)["text_sets"]) {
    const json& set = manifest["text_sets"][set_name.get<std::string>()];
    const bool pair = set["format"] == "pairs";
    const auto inputs = read_json_lines(golden + "/" + set["file"].get<std::string>());
    const std::string fixture = golden + "/" + GetParam() + "." + set_name.get<std::string>() + ".jsonl";
    const auto records = read_json_lines(fixture);
    ASSERT_EQ(inputs.size(), records.size()) << fixture << " does not match its texts; run regen.sh";
    size_t failures = 0;
    std::string first_failure;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string a = pair ? inputs[i][0].get<std::string>() : inputs[i].get<std::string>();
      const std::string b = pair ? inputs[i][1].get<std::string>() : std::string();
      Result<Encoding> got = pair ? tok.encode_pair(a, b) : tok.encode(a);
      std::string d;
      if (records[i].contains("error")) {
        // The reference refused (a strategy that cannot fit max_length): so must we.
        if (got.is_ok()) d = "encoded, but the reference failed: " + records[i]["error"].get<std::string>();
      } else if (!got.is_ok()) {
        d = "encode failed: " + got.status().message();
      } else {
        d = diff(expand(records[i], token_of), *got, a, b, pair, leading_special);
      }
      if (d.empty()) continue;
      if (failures++ == 0) {
        first_failure = "text " + std::to_string(i) + " of " + set_name.get<std::string>() + ": " +
                        inputs[i].dump(-1, ' ', true) + "\n" + d;
      }
    }
    checked += inputs.size();
    EXPECT_EQ(failures, 0u) << GetParam() << ": " << failures << " of " << inputs.size() << " texts of "
                            << set_name.get<std::string>() << " differ; first: " << first_failure;
  }
  EXPECT_GT(checked, 0u);
}

// Every configuration in manifest.json is tested (a new one must be added here).
const std::string kConfigs[] = {"bert-base-uncased",
                                "bert-base-uncased-pair64",
                                "all-MiniLM-L6-v2",
                                "all-MiniLM-L6-v2-st256",
                                "bert-base-multilingual-cased",
                                "klue-roberta-base",
                                "all-mpnet-base-v2",
                                "synthetic",
                                "synthetic-no-padding",
                                "bge-small-en-v1.5",
                                "gpt2",
                                "gpt2-file-truncation",
                                "roberta-base",
                                "t5-small",
                                "clip",
                                "mistral-7b",
                                "phi-3-mini",
                                "bert-base-uncased-only-first-32",
                                "bert-base-uncased-only-second-32",
                                "bert-base-uncased-only-second-left-32",
                                "bert-base-uncased-longest-first-left-16",
                                "bert-base-uncased-longest-first-5",
                                "roberta-base-only-first-64",
                                "roberta-base-only-second-64",
                                "roberta-base-only-second-left-64",
                                "roberta-base-longest-first-left-24",
                                "roberta-base-longest-first-5",
                                "t5-small-only-first-48",
                                "t5-small-only-second-48",
                                "t5-small-only-second-left-48",
                                "t5-small-longest-first-left-20",
                                "t5-small-longest-first-5"};

INSTANTIATE_TEST_SUITE_P(Configs, TokenizerGolden, ::testing::ValuesIn(kConfigs), testing::name_of_config);

TEST(TokenizerGoldenManifest, EveryConfigIsTested) {
  const json manifest = read_json_file(testing::golden_dir() + "/tokenizers/manifest.json");
  std::set<std::string> listed, tested(std::begin(kConfigs), std::end(kConfigs));
  for (const json& c : manifest["configs"]) listed.insert(c["name"].get<std::string>());
  EXPECT_EQ(listed, tested);
}

}  // namespace
}  // namespace simile
