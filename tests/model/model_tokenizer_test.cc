// The special tokens a model directory's tokenizer_config.json makes
// transformers add, and the tokenizer they give.
#include "model/model_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model_test_util.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_bytes;

// read_bos_eos_template for a directory with these files.
Result<std::optional<BosEosTemplate>> read(const std::vector<std::pair<std::string, std::string>>& files) {
  TempDir dir;
  for (const auto& [name, content] : files) write_bytes(dir.file(name), content);
  return read_bos_eos_template(dir.str());
}

std::string describe(const Result<std::optional<BosEosTemplate>>& t) {
  if (!t.is_ok()) return "error: " + t.status().message();
  if (!*t) return "tokenizer.json's own";
  return "[" + (*t)->bos + "] $A [" + (*t)->eos + "]";
}

TEST(BosEosTemplate, FollowsTransformers) {
  // No tokenizer_config.json, or a class that keeps tokenizer.json's post-processor.
  EXPECT_EQ(describe(read({})), "tokenizer.json's own");
  EXPECT_EQ(describe(read({{"tokenizer_config.json", R"({"tokenizer_class": "BertTokenizer"})"}})),
            "tokenizer.json's own");
  EXPECT_EQ(
      describe(read({{"tokenizer_config.json",
                      R"({"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": false, "eos_token": "<|im_end|>"})"}})),
      "tokenizer.json's own");
  // LlamaTokenizerFast always rebuilds it: add_bos_token defaults to true, add_eos_token to false.
  EXPECT_EQ(describe(read({{"tokenizer_config.json", R"({"tokenizer_class": "LlamaTokenizer"})"}})), "[<s>] $A []");
  // e5-mistral-7b-instruct: add_eos_token.
  EXPECT_EQ(describe(read({{"tokenizer_config.json",
                            R"({"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": true,
                                "bos_token": "<s>", "eos_token": "</s>"})"}})),
            "[<s>] $A [</s>]");
  // special_tokens_map.json names the tokens (AddedToken objects too) over tokenizer_config.json.
  EXPECT_EQ(describe(read({{"tokenizer_config.json",
                            R"({"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": false, "add_eos_token": true,
                                "eos_token": "</s>"})"},
                           {"special_tokens_map.json", R"({"eos_token": {"content": "<|end|>", "lstrip": false}})"}})),
            "[] $A [<|end|>]");
  // Other classes follow an explicit true, as transformers 5 does.
  EXPECT_EQ(describe(read({{"tokenizer_config.json", R"({"tokenizer_class": "Qwen2Tokenizer", "add_eos_token": true,
                                                         "eos_token": "<|endoftext|>"})"}})),
            "[] $A [<|endoftext|>]");
  auto missing = read({{"tokenizer_config.json", R"({"tokenizer_class": "GPT2Tokenizer", "add_eos_token": true})"}});
  EXPECT_EQ(missing.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(missing.status().message().find("eos_token"), std::string::npos) << missing.status().message();
  EXPECT_EQ(read({{"tokenizer_config.json", "[1, 2]"}}).status().code(), Status::Code::kCorrupt);
}

TEST(BosEosTemplate, TheTokenizerAddsThem) {
  auto tok = Tokenizer::from_file(testing::shared_dir() + "/tokenizers/mistral-7b/tokenizer.json");
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  Tokenizer& t = **tok;
  EXPECT_EQ(t.special_tokens_added(), 1u);  // its file: <s> $A
  auto plain = t.encode("hello world");
  ASSERT_TRUE(plain.is_ok());
  ASSERT_TRUE(t.set_bos_eos("<s>", "</s>").is_ok());
  EXPECT_EQ(t.special_tokens_added(), 2u);
  EXPECT_EQ(t.special_tokens_added(/*pair=*/true), 4u);
  auto both = t.encode("hello world");
  ASSERT_TRUE(both.is_ok());
  std::vector<int32_t> want = plain->ids;
  want.push_back(2);
  EXPECT_EQ(both->ids, want);
  EXPECT_EQ(both->special_tokens_mask.back(), 1);
  auto pair = t.encode_pair("a", "b");
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(pair->ids.front(), 1);
  EXPECT_EQ(pair->ids.back(), 2);
  EXPECT_EQ(pair->type_ids.back(), 1);

  ASSERT_TRUE(t.set_bos_eos("", "</s>").is_ok());
  EXPECT_EQ(t.encode("hello world")->ids.front(), plain->ids[1]);
  // Truncation keeps room for the EOS token.
  t.set_truncation(TruncationOptions{3});
  EXPECT_EQ(t.encode("hello world and more words")->ids.back(), 2);
  EXPECT_EQ(t.encode("hello world and more words")->size(), 3u);

  Status bad = t.set_bos_eos("<s>", "<|endoftext|>");
  EXPECT_EQ(bad.code(), Status::Code::kNotFound);
  EXPECT_NE(bad.message().find("<|endoftext|>"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace simile
