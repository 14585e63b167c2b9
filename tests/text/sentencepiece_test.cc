// SentencePiece model files as tokenizers: the special tokens, id layouts and
// legacy rules of the transformers classes (docs/tokenizers.md), offsets and
// errors. Expected ids are spm_encode's for the shared t5-small and mistral-7b
// files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../model/model_test_util.h"
#include "../test_env.h"
#include "simile/tokenizer.h"

namespace simile {
namespace {

using Ids = std::vector<int32_t>;
using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;

std::string t5_model() { return testing::shared_dir() + "/tokenizers/t5-small/spiece.model"; }
std::string mistral_model() { return testing::shared_dir() + "/tokenizers/mistral-7b/tokenizer.model"; }

std::unique_ptr<Tokenizer> load(const std::string& path, std::string_view config) {
  auto tok = Tokenizer::from_sentencepiece(path, config);
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

Encoding encode(const Tokenizer& tok, std::string_view text, bool special = true) {
  auto e = tok.encode(text, special);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? *e : Encoding{};
}

TEST(SentencePieceTokenizer, LlamaAddsBosAndTypeIdOneForTheSecondText) {
  // from_file reads the tokenizer_config.json beside the file: LlamaTokenizer,
  // add_bos_token, legacy=false.
  auto tok = Tokenizer::from_file(mistral_model());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  const Encoding e = encode(**tok, "Hello world");
  EXPECT_EQ(e.ids, (Ids{1, 22557, 1526}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 5}, {5, 11}}));
  EXPECT_EQ((*tok)->vocab_size(), 32000u);

  auto pair = (*tok)->encode_pair("Hello", "world");
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(pair->ids, (Ids{1, 22557, 1, 1526}));
  EXPECT_EQ(pair->type_ids, (Ids{0, 0, 1, 1}));

  auto eos = load(mistral_model(), R"({"tokenizer_class": "LlamaTokenizerFast", "add_eos_token": true})");
  ASSERT_NE(eos, nullptr);
  EXPECT_EQ(encode(*eos, "Hello world").ids, (Ids{1, 22557, 1526, 2}));
}

TEST(SentencePieceTokenizer, LegacyFalsePutsTheDummyPrefixOnlyAtTheStart) {
  auto modern = Tokenizer::from_file(mistral_model());  // legacy: false
  auto legacy = load(mistral_model(), R"({"tokenizer_class": "LlamaTokenizer"})");
  ASSERT_TRUE(modern.is_ok() && legacy != nullptr);
  // "hello" is 21558 with no prefix, "▁hell" "o" with one.
  EXPECT_EQ(encode(**modern, "<s>hello", false).ids, (Ids{1, 21558}));
  EXPECT_EQ(encode(*legacy, "<s>hello", false).ids, (Ids{1, 6312, 28709}));
  EXPECT_EQ(encode(**modern, "hello", false).ids, (Ids{6312, 28709}));
  // The second text of a pair starts a text of its own.
  auto pair = (*modern)->encode_pair("x", "hello", false);
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(Ids(pair->ids.end() - 2, pair->ids.end()), (Ids{6312, 28709}));
}

TEST(SentencePieceTokenizer, PiecesWithoutTextTakeTheSpanOfTheCharacter) {
  auto tok = Tokenizer::from_file(mistral_model());
  ASSERT_TRUE(tok.is_ok());
  // The dummy "▁" and the four byte-fallback pieces of one 4-byte emoji.
  const Encoding e = encode(**tok, "🤌", false);
  EXPECT_EQ(e.ids, (Ids{28705, 243, 162, 167, 143}));
  EXPECT_EQ(e.offsets, (Offsets(5, {0, 4})));
}

TEST(SentencePieceTokenizer, T5AppendsEosAndKnowsItsExtraIds) {
  // No config: the file name says T5Tokenizer.
  auto tok = Tokenizer::from_sentencepiece(t5_model());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->model_type(), "SentencePiece");
  EXPECT_EQ(encode(**tok, "Hello world").ids, (Ids{8774, 296, 1}));
  EXPECT_EQ(encode(**tok, "Héllo", false).offsets, (Offsets{{0, 1}, {1, 3}, {3, 5}, {5, 6}}));
  EXPECT_EQ((*tok)->token_to_id("<extra_id_0>"), 32099);
  EXPECT_EQ((*tok)->token_to_id("<extra_id_99>"), 32000);
  EXPECT_EQ((*tok)->vocab_size(), 32100u);
  EXPECT_EQ(encode(**tok, "<extra_id_0>", false).ids, (Ids{32099}));
  EXPECT_EQ((*tok)->pad_id(), 0);

  auto pair = (*tok)->encode_pair("Hello", "world");
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(pair->ids, (Ids{8774, 1, 296, 1}));
  EXPECT_EQ(pair->type_ids, (Ids{0, 0, 0, 0}));

  // Truncation leaves room for the </s>.
  (*tok)->set_truncation(TruncationOptions{3});
  EXPECT_EQ(encode(**tok, "Hello world again").ids, (Ids{8774, 296, 1}));
}

TEST(SentencePieceTokenizer, XlmRobertaUsesTheFairseqIdLayout) {
  // Any SentencePiece file under XLMRobertaTokenizer's rules: t5's pieces
  // (<pad>=0, </s>=1, <unk>=2, "▁"=3, ...) move one up, under the four
  // fixed tokens, and <mask> follows the last piece.
  auto tok = load(t5_model(), R"({"tokenizer_class": "XLMRobertaTokenizer"})");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->token_to_id("<s>"), 0);
  EXPECT_EQ(tok->token_to_id("<pad>"), 1);
  EXPECT_EQ(tok->token_to_id("</s>"), 2);
  EXPECT_EQ(tok->token_to_id("<unk>"), 3);
  EXPECT_EQ(tok->token_to_id("▁"), 4);
  EXPECT_EQ(tok->token_to_id("<mask>"), 32001);
  EXPECT_EQ(tok->id_to_token(4), "▁");
  EXPECT_EQ(tok->vocab_size(), 32002u);
  EXPECT_EQ(tok->pad_id(), 1);

  EXPECT_EQ(encode(*tok, "Hello world").ids, (Ids{0, 8775, 297, 2}));
  auto pair = tok->encode_pair("Hello", "world");
  ASSERT_TRUE(pair.is_ok());
  EXPECT_EQ(pair->ids, (Ids{0, 8775, 2, 2, 297, 2}));
  EXPECT_EQ(pair->type_ids, Ids(6, 0));
  // An unknown character is <unk>, 3; the mask token takes the space before it.
  EXPECT_EQ(encode(*tok, "🤌", false).ids, (Ids{4, 3}));
  EXPECT_EQ(encode(*tok, "Hello <mask>", false).ids, (Ids{8775, 32001}));
}

TEST(SentencePieceTokenizer, AddedTokensDecoderIdsAreChecked) {
  auto ok = load(t5_model(), R"({"tokenizer_class": "T5Tokenizer",
      "added_tokens_decoder": {"1": {"content": "</s>", "special": true}, "32000": {"content": "<sep>"}}})");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->token_to_id("<sep>"), 32000);
  EXPECT_EQ(encode(*ok, "a<sep>b", false).ids[2], 32000);

  auto bad = Tokenizer::from_sentencepiece(
      t5_model(), R"({"tokenizer_class": "T5Tokenizer", "added_tokens_decoder": {"5": {"content": "</s>"}}})");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(bad.status().message().find("'</s>' id 5"), std::string::npos) << bad.status().message();
}

TEST(SentencePieceTokenizer, ErrorsNameWhatIsWrong) {
  auto albert = Tokenizer::from_sentencepiece(t5_model(), R"({"tokenizer_class": "AlbertTokenizer"})");
  EXPECT_EQ(albert.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(albert.status().message().find("AlbertTokenizer"), std::string::npos) << albert.status().message();

  testing::TempDir dir;
  testing::write_bytes(dir.file("vocab.model"), "not a model");
  auto unnamed = Tokenizer::from_file(dir.file("vocab.model"));
  EXPECT_EQ(unnamed.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(unnamed.status().message().find("tokenizer_class"), std::string::npos) << unnamed.status().message();

  testing::write_bytes(dir.file("spiece.model"), "not a model");
  auto corrupt = Tokenizer::from_file(dir.file("spiece.model"));
  EXPECT_EQ(corrupt.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(corrupt.status().message().find("spiece.model"), std::string::npos) << corrupt.status().message();

  EXPECT_EQ(Tokenizer::from_file(dir.file("missing.model")).status().code(), Status::Code::kNotFound);
  auto bad_json = Tokenizer::from_sentencepiece(t5_model(), "{");
  EXPECT_EQ(bad_json.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(bad_json.status().message().find("tokenizer_config.json"), std::string::npos);
}

}  // namespace
}  // namespace simile
