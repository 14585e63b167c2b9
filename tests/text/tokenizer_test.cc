// Tokenizer edge cases. Expected ids were taken from Hugging Face tokenizers
// 0.23.2 with the same tokenizer.json (the golden tests cover thousands more).
#include "simile/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "../test_env.h"

namespace simile {
namespace {

std::string tokenizer_path(const std::string& name) {
  return testing::shared_dir() + "/tokenizers/" + name + "/tokenizer.json";
}

std::unique_ptr<Tokenizer> load(const std::string& name) {
  auto t = Tokenizer::from_file(tokenizer_path(name));
  if (!t.is_ok()) {
    ADD_FAILURE() << t.status().message();
    return nullptr;
  }
  return std::move(t).value();
}

Encoding encode_ok(const Tokenizer& tok, std::string_view text, bool add_special = true) {
  auto e = tok.encode(text, add_special);
  if (!e.is_ok()) {
    ADD_FAILURE() << "encode failed: " << e.status().message();
    return Encoding();
  }
  return std::move(e).value();
}

using Ids = std::vector<int32_t>;

// A minimal WordPiece tokenizer.json around `model`, with optional sections.
std::string tokenizer_json(const std::string& model, const std::string& extra = "") {
  return R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
             "post_processor": null, )" +
         extra + R"("model": )" + model + "}";
}

const char* const kTinyWordPiece =
    R"({"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}})";

TEST(TokenizerBasics, LoadsBertBaseUncasedWithoutModelType) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->model_type(), "WordPiece");
  EXPECT_EQ(tok->vocab_size(), 30522u);
  EXPECT_EQ(tok->token_to_id("[MASK]"), 103);
  EXPECT_EQ(tok->token_to_id("##ing"), 2075);
  EXPECT_EQ(tok->token_to_id("no-such-token"), std::nullopt);
  EXPECT_EQ(tok->id_to_token(101), "[CLS]");
  EXPECT_EQ(tok->id_to_token(30522), std::nullopt);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_FALSE(tok->truncation().has_value());
  EXPECT_FALSE(tok->padding().has_value());
}

TEST(TokenizerBasics, EncodesASentence) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  Encoding e = encode_ok(*tok, "Hello, world! The café's naïve résumé.");
  EXPECT_EQ(e.ids, (Ids{101, 7592, 1010, 2088, 999, 1996, 7668, 1005, 1055, 15743, 13746, 1012, 102}));
  EXPECT_EQ(e.tokens[6], "cafe");
  EXPECT_EQ(encode_ok(*tok, "unaffable").tokens, (std::vector<std::string>{"[CLS]", "una", "##ffa", "##ble", "[SEP]"}));
  // İ lowercases after accent stripping: i; Σ is always σ (no final-sigma rule).
  EXPECT_EQ(encode_ok(*tok, "İstanbul ΣΑΣ").ids, (Ids{101, 9960, 1173, 14608, 29733, 102}));
  EXPECT_EQ(e.size(), e.type_ids.size());
  EXPECT_EQ(e.size(), e.attention_mask.size());
  EXPECT_EQ(e.size(), e.special_tokens_mask.size());
  EXPECT_EQ(e.size(), e.offsets.size());
  EXPECT_EQ(e.special_tokens_mask.front(), 1);
  EXPECT_EQ(e.special_tokens_mask[1], 0);
}

TEST(TokenizerBasics, EmptyAndWhitespaceOnlyInputGiveClsSep) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> texts = {
      "", " ", "\t\n\r ", "\xE2\x80\x8B", "\xE3\x80\x80\xC2\xA0", std::string("\0\x01 \x7F", 4)};
  for (const std::string& text : texts) {
    Encoding e = encode_ok(*tok, text);
    EXPECT_EQ(e.ids, (Ids{101, 102})) << "text: " << text;
    EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "[SEP]"}));
    EXPECT_EQ(e.type_ids, (Ids{0, 0}));
    EXPECT_EQ(e.attention_mask, (std::vector<uint8_t>{1, 1}));
  }
  EXPECT_TRUE(encode_ok(*tok, "", /*add_special=*/false).ids.empty());
}

TEST(TokenizerBasics, SpecialTokensInTextAreMatchedRawAndExactly) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  Encoding e = encode_ok(*tok, "what is [MASK]?");
  EXPECT_EQ(e.ids, (Ids{101, 2054, 2003, 103, 1029, 102}));
  EXPECT_EQ(e.offsets[3], (std::pair<uint32_t, uint32_t>{8, 14}));
  EXPECT_EQ(e.special_tokens_mask[3], 0);  // from the text, not added by the post-processor
  // Special tokens are not normalized: lowercase [mask] is ordinary text.
  EXPECT_EQ(encode_ok(*tok, "[mask]").ids, (Ids{101, 1031, 7308, 1033, 102}));
  EXPECT_EQ(encode_ok(*tok, "x[SEP][CLS]y").ids, (Ids{101, 1060, 102, 101, 1061, 102}));
}

TEST(TokenizerBasics, AddedTokenOptionsOfMpnet) {
  auto tok = load("all-mpnet-base-v2");
  ASSERT_NE(tok, nullptr);
  tok->set_padding(std::nullopt);
  // <mask> has lstrip: it takes the space before it, token text included.
  Encoding e = encode_ok(*tok, "hello <mask> world");
  EXPECT_EQ(e.ids, (Ids{0, 7596, 30526, 2092, 2}));
  EXPECT_EQ(e.tokens[2], " <mask>");
  EXPECT_EQ(e.offsets[2], (std::pair<uint32_t, uint32_t>{5, 12}));
  // <unk> has normalized=true: it matches after lowercasing.
  EXPECT_EQ(encode_ok(*tok, "<UNK> and <unk>").ids, (Ids{0, 3, 2002, 3, 2}));
}

TEST(TokenizerBasics, WordLongerThanMaxInputCharsIsOneUnk) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  Encoding e100 = encode_ok(*tok, std::string(100, 'a'));
  EXPECT_GT(e100.size(), 3u);  // pieces, not [UNK]
  EXPECT_EQ(std::count(e100.ids.begin(), e100.ids.end(), 100), 0);
  Encoding e101 = encode_ok(*tok, std::string(101, 'a'));
  EXPECT_EQ(e101.ids, (Ids{101, 100, 102}));
  EXPECT_EQ(e101.offsets[1], (std::pair<uint32_t, uint32_t>{0, 101}));
  // The limit counts characters of the normalized word, not bytes: 100 x "é"
  // is 200 bytes but 100 characters ("e" after accent stripping).
  std::string e_acute;
  for (int i = 0; i < 100; ++i) e_acute += "\xC3\xA9";
  const Ids e_ids = encode_ok(*tok, e_acute).ids;
  EXPECT_EQ(e_ids.size(), 52u);  // ee ##ee ... (50 pieces)
  EXPECT_EQ(std::count(e_ids.begin(), e_ids.end(), 100), 0);
  EXPECT_EQ(encode_ok(*tok, e_acute + "\xC3\xA9").ids, (Ids{101, 100, 102}));
  // A word with a character that no piece covers is one [UNK] too.
  EXPECT_EQ(encode_ok(*tok, "abc\xF0\x9F\x98\x80").ids, (Ids{101, 100, 102}));
}

TEST(TokenizerTruncation, KeepsExactlyMaxLengthTokens) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  const std::string nine = "a b c d e f g h i";  // 9 content tokens: 1037..1045
  tok->set_truncation(TruncationOptions{11});
  EXPECT_EQ(encode_ok(*tok, nine).ids, (Ids{101, 1037, 1038, 1039, 1040, 1041, 1042, 1043, 1044, 1045, 102}));
  tok->set_truncation(TruncationOptions{10});
  EXPECT_EQ(encode_ok(*tok, nine).ids, (Ids{101, 1037, 1038, 1039, 1040, 1041, 1042, 1043, 1044, 102}));
  EXPECT_EQ(encode_ok(*tok, nine, /*add_special=*/false).size(), 9u);  // no room kept for specials
  tok->set_truncation(TruncationOptions{10, Side::kLeft});
  EXPECT_EQ(encode_ok(*tok, nine).ids, (Ids{101, 1038, 1039, 1040, 1041, 1042, 1043, 1044, 1045, 102}));
  tok->set_truncation(TruncationOptions{2});
  EXPECT_EQ(encode_ok(*tok, nine).ids, (Ids{101, 102}));
  tok->set_truncation(TruncationOptions{1});  // less than the special tokens: content is dropped
  EXPECT_EQ(encode_ok(*tok, nine).ids, (Ids{101, 102}));
  tok->set_truncation(std::nullopt);
  EXPECT_EQ(encode_ok(*tok, nine).size(), 11u);
}

TEST(TokenizerTruncation, PairLongestFirst) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  tok->set_truncation(TruncationOptions{9});  // 6 content tokens for two sequences
  auto e = tok->encode_pair("a b c d e f g", "h i");
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_EQ(e->ids, (Ids{101, 1037, 1038, 1039, 1040, 102, 1044, 1045, 102}));
  EXPECT_EQ(e->type_ids, (Ids{0, 0, 0, 0, 0, 0, 1, 1, 1}));
  tok->set_truncation(TruncationOptions{9, Side::kRight, TruncationOptions::Strategy::kOnlySecond});
  auto too_short = tok->encode_pair("a b c d e f g", "h i");
  EXPECT_FALSE(too_short.is_ok());
  EXPECT_EQ(too_short.status().code(), Status::Code::kInvalidArgument);
}

// Hugging Face tokenizers 0.23 stops tokenizing a text once a word brings it
// to max_length tokens; LongestFirst then sees two long texts as equally long
// and gives the second the odd token. Found by the *-longest-first-* goldens.
TEST(TokenizerTruncation, LongestFirstSeesTextsCutAtMaxLengthFirst) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  auto xs = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += i ? " x" : "x";
    return s;
  };
  tok->set_truncation(TruncationOptions{16});  // 13 tokens for the two texts
  auto both_long = tok->encode_pair(xs(17), xs(16));
  ASSERT_TRUE(both_long.is_ok());
  EXPECT_EQ(std::count(both_long->type_ids.begin(), both_long->type_ids.end(), 0), 2 + 6);
  // When the shorter one is under max_length, the longer gets the odd token.
  auto one_short = tok->encode_pair(xs(17), xs(15));
  ASSERT_TRUE(one_short.is_ok());
  EXPECT_EQ(std::count(one_short->type_ids.begin(), one_short->type_ids.end(), 0), 2 + 7);
}

TEST(TokenizerTruncation, OnlyStrategiesFailWhenTheirTextIsTooShort) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  tok->set_truncation(TruncationOptions{8, Side::kRight, TruncationOptions::Strategy::kOnlyFirst});
  auto first = tok->encode_pair("a b", "c d e f g h");
  ASSERT_FALSE(first.is_ok());
  EXPECT_EQ(first.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(first.status().message().find("first text (2 tokens) is too short"), std::string::npos)
      << first.status().message();
  auto fits = tok->encode_pair("a b c d e f", "g h");
  ASSERT_TRUE(fits.is_ok()) << fits.status().message();
  EXPECT_EQ(fits->ids, (Ids{101, 1037, 1038, 1039, 102, 1043, 1044, 102}));

  tok->set_truncation(TruncationOptions{4, Side::kLeft, TruncationOptions::Strategy::kOnlySecond});
  auto single = tok->encode("a b c");
  ASSERT_FALSE(single.is_ok());
  EXPECT_NE(single.status().message().find("needs a pair"), std::string::npos) << single.status().message();
  auto left = tok->encode_pair("a", "b c d e");
  ASSERT_FALSE(left.is_ok());  // 4 - 3 special tokens leaves no room for any of the second text
  auto left_ok = tok->encode_pair("", "b c d e");
  ASSERT_TRUE(left_ok.is_ok()) << left_ok.status().message();
  EXPECT_EQ(left_ok->ids, (Ids{101, 102, 1041, 102}));
}

TEST(TokenizerPadding, FileSettingsAndOverrides) {
  auto tok = load("all-MiniLM-L6-v2");  // truncation 128, padding Fixed 128 in the file
  ASSERT_NE(tok, nullptr);
  ASSERT_TRUE(tok->padding().has_value());
  EXPECT_EQ(tok->padding()->fixed_length, 128u);
  EXPECT_EQ(tok->truncation()->max_length, 128u);
  Encoding e = encode_ok(*tok, "hello");
  ASSERT_EQ(e.size(), 128u);
  EXPECT_EQ(e.ids[2], 102);
  EXPECT_EQ(e.ids[3], 0);
  EXPECT_EQ(e.tokens[127], "[PAD]");
  EXPECT_EQ(std::count(e.attention_mask.begin(), e.attention_mask.end(), 1), 3);
  EXPECT_EQ(e.special_tokens_mask[127], 1);

  tok->set_padding(std::nullopt);
  EXPECT_EQ(encode_ok(*tok, "hello").size(), 3u);

  tok->set_padding(PaddingOptions{});  // longest in the batch; pad token from the model
  EXPECT_EQ(tok->padding()->pad_id, 0);
  EXPECT_EQ(tok->padding()->pad_token, "[PAD]");
  auto batch = tok->encode_batch({"a", "a b c", "a b"});
  ASSERT_TRUE(batch.is_ok());
  for (const Encoding& b : *batch) EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ((*batch)[0].ids, (Ids{101, 1037, 102, 0, 0}));
  EXPECT_EQ(encode_ok(*tok, "a").size(), 3u);  // a batch of one pads to itself

  PaddingOptions left;
  left.direction = Side::kLeft;
  left.pad_to_multiple_of = 8;
  tok->set_padding(left);
  Encoding l = encode_ok(*tok, "a b c");
  EXPECT_EQ(l.ids, (Ids{0, 0, 0, 101, 1037, 1038, 1039, 102}));
  EXPECT_EQ(l.attention_mask, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1}));
}

TEST(TokenizerPadding, PadIdComesFromTheFile) {
  auto tok = load("all-mpnet-base-v2");  // <pad> = 1
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->pad_id(), 1);
  Encoding e = encode_ok(*tok, "hello");
  ASSERT_EQ(e.size(), 128u);
  EXPECT_EQ(e.ids.back(), 1);
  EXPECT_EQ(e.tokens.back(), "<pad>");
  PaddingOptions fixed;
  fixed.fixed_length = 16;
  tok->set_padding(fixed);
  EXPECT_EQ(tok->padding()->pad_id, 1);
  EXPECT_EQ(encode_ok(*tok, "hello").ids.back(), 1);
  auto klue = load("klue-roberta-base");  // BatchLongest, [PAD] = 1: a single text is not padded
  ASSERT_NE(klue, nullptr);
  EXPECT_EQ(klue->pad_id(), 1);
  EXPECT_EQ(encode_ok(*klue, "안녕").size(), encode_ok(*klue, "안녕").ids.size());
  EXPECT_EQ(encode_ok(*klue, "토크나이저는 텍스트를 토큰 단위로 나눈다.").ids,
            (Ids{0, 9157, 7461, 2190, 2259, 8509, 2138, 1793, 2855, 5385, 2200, 20950, 18, 2}));
}

TEST(TokenizerOffsets, PointIntoTheInput) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  const std::string text = "The QUICK brown-fox jumped over   the lazy dog's back... twice!";
  Encoding e = encode_ok(*tok, text);
  ASSERT_GT(e.size(), 10u);
  EXPECT_EQ(e.offsets.front(), (std::pair<uint32_t, uint32_t>{0, 0}));
  EXPECT_EQ(e.offsets.back(), (std::pair<uint32_t, uint32_t>{0, 0}));
  for (size_t i = 1; i + 1 < e.size(); ++i) {
    std::string piece = text.substr(e.offsets[i].first, e.offsets[i].second - e.offsets[i].first);
    std::transform(piece.begin(), piece.end(), piece.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string token = e.tokens[i];
    if (token.rfind("##", 0) == 0) token = token.substr(2);
    EXPECT_EQ(piece, token) << "token " << i;
  }
  // Multi-byte input: offsets are bytes. "é" is 2 bytes, 北 is 3 and padded with spaces.
  Encoding m = encode_ok(*tok, "caf\xC3\xA9 \xE5\x8C\x97!");
  EXPECT_EQ(m.tokens, (std::vector<std::string>{"[CLS]", "cafe", "\xE5\x8C\x97", "!", "[SEP]"}));
  EXPECT_EQ(m.offsets[1], (std::pair<uint32_t, uint32_t>{0, 5}));
  EXPECT_EQ(m.offsets[2], (std::pair<uint32_t, uint32_t>{6, 9}));
  EXPECT_EQ(m.offsets[3], (std::pair<uint32_t, uint32_t>{9, 10}));
}

TEST(TokenizerUtf8, InvalidInputIsReplacedLikeFromUtf8Lossy) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  // U+FFFD (here from the invalid byte) is dropped by clean_text, as in the
  // reference for "ab\uFFFDcd".
  Encoding e = encode_ok(*tok,
                         "ab\xFF"
                         "cd");
  EXPECT_EQ(e.ids, (Ids{101, 5925, 2094, 102}));
  EXPECT_EQ(e.offsets[1], (std::pair<uint32_t, uint32_t>{0, 4}));  // "ab\xFF" + "c" in input bytes
  EXPECT_EQ(e.offsets[2], (std::pair<uint32_t, uint32_t>{4, 5}));
  // Every byte value, alone and after a lead byte: never fails, never crashes.
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_TRUE(tok->encode(one).is_ok());
    EXPECT_TRUE(tok->encode("x\xE2" + one + "y").is_ok());
  }
}

TEST(TokenizerUtf8, InvalidInputCanBeRejectedWithItsOffset) {
  auto tok = load("bert-base-uncased");
  ASSERT_NE(tok, nullptr);
  tok->set_invalid_utf8(InvalidUtf8::kReject);
  auto r = tok->encode("ok \xC3\x28 no");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("byte offset 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("0xC3"), std::string::npos) << r.status().message();
  EXPECT_TRUE(tok->encode("valid \xC3\xA9").is_ok());
  auto p = tok->encode_pair("fine", "bad \xFF");
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("second text"), std::string::npos) << p.status().message();
}

TEST(TokenizerLoading, UnsupportedComponentsAreNamed) {
  auto t5 = Tokenizer::from_file(tokenizer_path("t5-small"));  // list vocab: Unigram
  ASSERT_TRUE(t5.is_ok()) << t5.status().message();
  EXPECT_EQ((*t5)->model_type(), "Unigram");

  auto norm = Tokenizer::from_json(tokenizer_json(kTinyWordPiece, R"("normalizer": {"type": "Nmt"}, )"));
  ASSERT_FALSE(norm.is_ok());
  EXPECT_EQ(norm.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(norm.status().message().find("normalizer 'Nmt'"), std::string::npos) << norm.status().message();
  auto regex = Tokenizer::from_json(
      tokenizer_json(kTinyWordPiece, R"("normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace",
      "pattern": {"Regex": " *"}, "content": " "}]}, )"));
  ASSERT_FALSE(regex.is_ok());
  EXPECT_EQ(regex.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(regex.status().message().find("'Replace' with a Regex that matches the empty text"), std::string::npos)
      << regex.status().message();
  auto pre = Tokenizer::from_json(tokenizer_json(kTinyWordPiece, R"("pre_tokenizer": {"type": "UnicodeScripts"}, )"));
  ASSERT_FALSE(pre.is_ok());
  EXPECT_NE(pre.status().message().find("pre-tokenizer 'UnicodeScripts'"), std::string::npos) << pre.status().message();
  auto post = Tokenizer::from_json(tokenizer_json(kTinyWordPiece, R"("post_processor": {"type": "Sequence"}, )"));
  ASSERT_FALSE(post.is_ok());
  EXPECT_NE(post.status().message().find("post-processor 'Sequence'"), std::string::npos);
  auto model = Tokenizer::from_json(tokenizer_json(R"({"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"})"));
  ASSERT_FALSE(model.is_ok());
  EXPECT_EQ(model.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(model.status().message().find("model type 'WordLevel'"), std::string::npos) << model.status().message();
  auto dropout = Tokenizer::from_json(
      tokenizer_json(R"({"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": [], "unk_token": "a"})"));
  ASSERT_FALSE(dropout.is_ok());
  EXPECT_NE(dropout.status().message().find("BPE dropout"), std::string::npos) << dropout.status().message();
}

TEST(TokenizerLoading, MissingFileAndBadJsonAreErrors) {
  auto missing = Tokenizer::from_file("/nonexistent/dir/tokenizer.json");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/tokenizer.json"), std::string::npos);

  auto bad = Tokenizer::from_json("{\"version\": \"1.0\", \"model\": ");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(bad.status().message().find("invalid JSON at byte"), std::string::npos) << bad.status().message();

  for (const char* text : {"", "[]", "{}", "42", "{\"model\": null}", "{\"model\": {\"type\": 3}}"}) {
    auto r = Tokenizer::from_json(text);
    EXPECT_FALSE(r.is_ok()) << text;
  }
  auto wrong_type = Tokenizer::from_json(
      tokenizer_json(R"({"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": "one"}})"));
  ASSERT_FALSE(wrong_type.is_ok());
  EXPECT_NE(wrong_type.status().message().find("model.vocab[\"a\"]"), std::string::npos)
      << wrong_type.status().message();
  auto version = Tokenizer::from_json(R"({"version": "2.0", "model": {}})");
  ASSERT_FALSE(version.is_ok());
  EXPECT_NE(version.status().message().find("version '2.0'"), std::string::npos);
  auto bad_template = Tokenizer::from_json(tokenizer_json(kTinyWordPiece, R"("post_processor": {
      "type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}],
      "pair": [], "special_tokens": {}}, )"));
  ASSERT_FALSE(bad_template.is_ok());
  EXPECT_NE(bad_template.status().message().find("'[CLS]'"), std::string::npos);
}

TEST(TokenizerLoading, MinimalWordPieceWithoutOptionalSections) {
  auto r = Tokenizer::from_json(R"({"model": )" + std::string(kTinyWordPiece) + "}");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  Encoding e = encode_ok(**r, "abb ab c");
  // No pre-tokenizer: the whole text is one word, which "a ##b ##b" cannot cover.
  EXPECT_EQ(e.ids, (Ids{0}));
  EXPECT_EQ(encode_ok(**r, "abb").ids, (Ids{1, 2, 2}));
  EXPECT_EQ(encode_ok(**r, "abb").tokens, (std::vector<std::string>{"a", "##b", "##b"}));
  EXPECT_EQ((*r)->vocab_size(), 3u);
  // A missing unk token is an error only when a word needs it.
  auto no_unk = Tokenizer::from_json(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})");
  ASSERT_TRUE(no_unk.is_ok());
  EXPECT_TRUE((*no_unk)->encode("a").is_ok());
  EXPECT_FALSE((*no_unk)->encode("b").is_ok());
}

// Random bytes (mostly invalid UTF-8, with pieces of special tokens and
// multi-byte characters mixed in) through tokenizers that take every code
// path: nothing fails, and every Encoding is consistent.
TEST(TokenizerFuzz, RandomBytesGiveConsistentEncodings) {
  const std::vector<std::string> paths = {tokenizer_path("bert-base-uncased"), tokenizer_path("all-mpnet-base-v2"),
                                          tokenizer_path("bert-base-multilingual-cased"),
                                          testing::golden_dir() + "/tokenizers/synthetic_wordpiece.json"};
  const std::vector<std::string> pieces = {
      "[MASK]",       "<mask>",   " <mask> ",         "<UNK>", "<eos>", "Héllo", "ab", "\xEA\xB0\x80",
      "\xE4\xB8\x80", "\xCC\x81", "\xF0\x9F\x98\x80", " ",     "\t"};
  uint64_t state = 0x9E3779B97F4A7C15ull;  // fixed seed
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (const std::string& path : paths) {
    auto tok_or = Tokenizer::from_file(path);
    ASSERT_TRUE(tok_or.is_ok()) << tok_or.status().message();
    Tokenizer& tok = **tok_or;
    for (int i = 0; i < 500; ++i) {
      std::string text;
      const size_t parts = next() % 12;
      for (size_t k = 0; k < parts; ++k) {
        if (next() % 3 == 0) {
          text += pieces[next() % pieces.size()];
        } else {
          for (size_t n = next() % 6; n > 0; --n) text.push_back(static_cast<char>(next() & 0xFF));
        }
      }
      auto e = i % 2 ? tok.encode(text) : tok.encode_pair(text, text.substr(0, text.size() / 2));
      ASSERT_TRUE(e.is_ok()) << path << ": " << e.status().message();
      const size_t n = e->size();
      ASSERT_EQ(e->tokens.size(), n);
      ASSERT_EQ(e->type_ids.size(), n);
      ASSERT_EQ(e->attention_mask.size(), n);
      ASSERT_EQ(e->special_tokens_mask.size(), n);
      ASSERT_EQ(e->offsets.size(), n);
      for (size_t t = 0; t < n; ++t) {
        EXPECT_LE(e->offsets[t].first, e->offsets[t].second);
        EXPECT_LE(e->offsets[t].second, text.size());
      }
    }
  }
}

TEST(TokenizerConcurrency, ManyThreadsGiveTheSameIds) {
  auto tok = load("bert-base-multilingual-cased");
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> texts = {
      "Hello world", "Zürich ist schön", "東京都に住んでいます", "잠이 안 옵니다", std::string(300, 'x') + " end",
      "[MASK] me"};
  std::vector<Encoding> want;
  for (const std::string& t : texts) want.push_back(encode_ok(*tok, t));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 200; ++round) {
        const size_t i = static_cast<size_t>(round + k) % texts.size();
        auto e = tok->encode(texts[i]);
        if (!e.is_ok() || e->ids != want[i].ids || e->offsets != want[i].offsets) ++mismatches[k];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace simile
