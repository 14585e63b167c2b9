// Unigram model, the SentencePiece-era normalizers and pre-tokenizers.
//
// Hand-checked cases, plus t5-variants.jsonl: t5-small's vocab under every
// other normalizer and pre-tokenizer, encoded by Hugging Face tokenizers
// 0.23.2 (tests/golden/tokenizers/unigram_variants.mjs).
#include "text/unigram.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../test_env.h"
#include "simile/tokenizer.h"
#include "text/normalizers.h"
#include "text/utf8.h"

namespace simile {
namespace {

using json = nlohmann::json;
using text::ModelToken;
using text::NormChar;

std::unique_ptr<text::Unigram> make_unigram(const std::vector<std::pair<std::string, double>>& vocab,
                                            std::optional<int32_t> unk_id = 0, bool byte_fallback = false) {
  auto u = text::Unigram::create(vocab, unk_id, byte_fallback);
  EXPECT_TRUE(u.is_ok()) << u.status().message();
  return u.is_ok() ? std::move(u).value() : nullptr;
}

std::vector<ModelToken> tokenize(const text::Model& m, std::string_view word) {
  std::vector<ModelToken> out;
  Status s = m.tokenize(word, &out);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return out;
}

std::vector<std::string> texts_of(const std::vector<ModelToken>& tokens) {
  std::vector<std::string> out;
  for (const ModelToken& t : tokens) out.emplace_back(t.text);
  return out;
}

TEST(Unigram, ViterbiPicksTheBestScoringSegmentation) {
  // The reference's own example: abcd (10) beats abc + d and ab + cd; "xx"
  // has no piece, so its two unknown characters fuse into one <unk> token
  // that keeps the text.
  auto u = make_unigram({{"<unk>", 0.0},
                         {"a", 0.0},
                         {"b", 0.0},
                         {"c", 0.0},
                         {"d", 0.0},
                         {"cd", 1.0},
                         {"ab", 2.0},
                         {"abc", 5.0},
                         {"abcd", 10.0}});
  const auto t = tokenize(*u, "abcdacdxx");
  EXPECT_EQ(texts_of(t), (std::vector<std::string>{"abcd", "a", "cd", "xx"}));
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[3].id, 0);
  EXPECT_EQ(t[3].begin, 7u);
  EXPECT_EQ(t[3].end, 9u);
}

TEST(Unigram, TiesKeepTheEarlierStartAndScoresAreLogProbabilities) {
  // a + bc and ab + c both score -2: the path whose last piece starts first
  // (bc at 1, not c at 2) was found first and only a better score replaces it.
  auto u = make_unigram({{"<unk>", 0.0}, {"a", -1.0}, {"b", -5.0}, {"c", -1.0}, {"ab", -1.0}, {"bc", -1.0}});
  EXPECT_EQ(texts_of(tokenize(*u, "abc")), (std::vector<std::string>{"a", "bc"}));
  // Fewer, likelier pieces win over many: -1 - 1 > -5 - 5 - 5.
  auto v = make_unigram({{"<unk>", 0.0}, {"x", -5.0}, {"xx", -1.0}, {"xxx", -20.0}});
  EXPECT_EQ(texts_of(tokenize(*v, "xxxx")), (std::vector<std::string>{"xx", "xx"}));
}

TEST(Unigram, UnknownCharactersScoreBelowEveryPieceAndFuse) {
  // "é" has no single-character piece: an unknown node scoring min_score - 10
  // = -40 (the minimum is over all pieces). The piece "éé" (-30) beats two
  // unknown nodes (-80).
  auto u = make_unigram({{"<unk>", 0.0}, {"a", -1.0}, {"éé", -30.0}});
  EXPECT_DOUBLE_EQ(u->min_score(), -30.0);
  auto t = tokenize(*u, "aéé");
  EXPECT_EQ(texts_of(t), (std::vector<std::string>{"a", "éé"}));
  EXPECT_EQ(t[1].id, 2);
  // Unknown runs separated by a known piece stay apart.
  t = tokenize(*u, "ßaß");
  EXPECT_EQ(texts_of(t), (std::vector<std::string>{"ß", "a", "ß"}));
  EXPECT_EQ(t[0].id, 0);
  EXPECT_EQ(t[2].id, 0);
  // A fused unknown text that happens to be a piece takes that piece's id.
  auto w = make_unigram({{"<unk>", 0.0}, {"a", 0.0}, {"xy", -1000.0}});
  t = tokenize(*w, "xy");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, 2);
}

TEST(Unigram, ByteFallbackSplitsUnknownTextIntoBytePieces) {
  auto u = make_unigram({{"<unk>", 0.0}, {"<0xC3>", 0.0}, {"<0xA9>", 0.0}, {"a", -1.0}}, 0, true);
  auto t = tokenize(*u, "aé");
  EXPECT_EQ(texts_of(t), (std::vector<std::string>{"a", "<0xC3>", "<0xA9>"}));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].id, 1);
  EXPECT_EQ(t[2].id, 2);
  EXPECT_EQ(t[1].begin, 1u);  // each byte token spans the whole unknown text
  EXPECT_EQ(t[2].end, 3u);
  // A byte without a piece: the whole unknown text is <unk>.
  t = tokenize(*u, "aß");
  EXPECT_EQ(texts_of(t), (std::vector<std::string>{"a", "ß"}));
  EXPECT_EQ(t[1].id, 0);
}

TEST(Unigram, WithoutUnkIdAnUnknownCharacterIsAnError) {
  auto u = make_unigram({{"a", 0.0}}, std::nullopt);
  std::vector<ModelToken> out;
  EXPECT_TRUE(u->tokenize("aa", &out).is_ok());
  EXPECT_FALSE(u->tokenize("ab", &out).is_ok());
  EXPECT_FALSE(text::Unigram::create({{"a", 0.0}}, 3, false).is_ok());
}

TEST(Unigram, LongWordsStayLinear) {
  // 200,000 bytes through the trie: the lattice is per byte, the trie walk
  // bounded by the longest piece.
  auto u = make_unigram({{"<unk>", 0.0}, {"a", -2.0}, {"aa", -3.0}, {"aaaa", -5.0}});
  const auto t = tokenize(*u, std::string(200000, 'a'));
  ASSERT_EQ(t.size(), 50000u);
  EXPECT_EQ(t.front().text, "aaaa");
}

// --- normalizers -------------------------------------------------------------------

std::vector<NormChar> run(const text::Normalizer& n, std::string_view s) {
  std::vector<NormChar> chars, scratch;
  text::decode_to_chars(s, 0, &chars);
  n.normalize(&chars, &scratch);
  return chars;
}

std::string utf8_of(const std::vector<NormChar>& chars) {
  std::string out;
  for (const NormChar& c : chars) text::append_utf8(c.cp, &out);
  return out;
}

std::string shared_t5_json() {
  std::ifstream in(testing::shared_dir() + "/tokenizers/t5-small/tokenizer.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<text::PrecompiledNormalizer> t5_charsmap() {
  const json spec = json::parse(shared_t5_json());
  auto p = text::PrecompiledNormalizer::from_base64(spec["normalizer"]["precompiled_charsmap"].get<std::string>());
  EXPECT_TRUE(p.is_ok()) << p.status().message();
  return p.is_ok() ? std::move(p).value() : nullptr;
}

TEST(PrecompiledNormalizer, T5CharsmapOnTrickyInputs) {
  auto p = t5_charsmap();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->transform("Ａ"), "A");   // full width
  EXPECT_EQ(p->transform("ﬁ"), "fi");   // ligature
  EXPECT_EQ(p->transform("\x01"), "");  // control characters go
  EXPECT_FALSE(p->transform("a").has_value());
  EXPECT_EQ(utf8_of(run(*p, "ＡＢＣ　ｄｅｆ")), "ABC def");
  EXPECT_EQ(utf8_of(run(*p, "e\xCC\x81")), "é");  // e + combining acute composes
  // The reference's quirk: a short grapheme takes its shortest prefix's
  // replacement whole, so the mark after a full-width letter is lost...
  EXPECT_EQ(utf8_of(run(*p, "Ａ\xCC\x81")), "A");
  // ...where SentencePiece keeps it.
  EXPECT_EQ(p->normalize_longest_match("Ａ\xCC\x81"), "Á");
}

TEST(PrecompiledNormalizer, OffsetsFollowTheReferenceAlignment) {
  auto p = t5_charsmap();
  ASSERT_NE(p, nullptr);
  // "aﬁx": f replaces the ligature, i is inserted after it: both point at it.
  auto c = run(*p, "a\xEF\xAC\x81x");
  ASSERT_EQ(utf8_of(c), "afix");
  EXPECT_EQ(c[1].begin, 1u);
  EXPECT_EQ(c[1].end, 4u);
  EXPECT_EQ(c[2].begin, 1u);
  EXPECT_EQ(c[3].begin, 4u);
  // A removed control character is folded into the character before it.
  c = run(*p,
          "a\x01"
          "b");
  ASSERT_EQ(utf8_of(c), "ab");
  EXPECT_EQ(c[0].begin, 0u);
  EXPECT_EQ(c[1].begin, 2u);
  // At the very start there is none: the next character takes its range.
  c = run(*p,
          "\x01"
          "ab");
  ASSERT_EQ(utf8_of(c), "ab");
  EXPECT_EQ(c[0].begin, 0u);
  EXPECT_EQ(c[1].begin, 1u);
}

TEST(PrecompiledNormalizer, RejectsBrokenCharsmaps) {
  EXPECT_FALSE(text::PrecompiledNormalizer::from_base64("not base64!").is_ok());
  EXPECT_FALSE(text::PrecompiledNormalizer::create(std::string("\x08\x00\x00\x00", 4)).is_ok());
  EXPECT_EQ(text::decode_base64("aGk="), "hi");
}

TEST(UnicodeNormalizer, OffsetsOfComposedAndDecomposedCharacters) {
  using Form = text::UnicodeNormalizer::Form;
  // NFC: e + U+0301 (two input chars) compose into é, which points at the e
  // and swallows the mark (change -1), as in the reference.
  auto c = run(text::UnicodeNormalizer(Form::kNfc), "e\xCC\x81x");
  ASSERT_EQ(utf8_of(c), "\xC3\xA9x");
  EXPECT_EQ(c[0].begin, 0u);
  EXPECT_EQ(c[0].end, 1u);
  EXPECT_EQ(c[1].begin, 3u);
  // NFKD: the ligature's two letters both point at it.
  c = run(text::UnicodeNormalizer(Form::kNfkd), "\xEF\xAC\x81");
  ASSERT_EQ(utf8_of(c), "fi");
  EXPECT_EQ(c[1].begin, 0u);
  EXPECT_EQ(c[1].end, 3u);
  // NFD: Hangul syllable to jamo; NFC back.
  c = run(text::UnicodeNormalizer(Form::kNfd), "\xED\x95\x9C");
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(utf8_of(run(text::UnicodeNormalizer(Form::kNfc), utf8_of(c))), "\xED\x95\x9C");
  // Code points newer than Unicode 9.0 do not decompose.
  EXPECT_EQ(utf8_of(run(text::UnicodeNormalizer(Form::kNfkd), "\xF0\x9F\x84\xAF")), "\xF0\x9F\x84\xAF");
}

// --- against the reference: t5's vocab under other pipelines --------------------------

TEST(ReplaceNormalizer, RegexReplacesEveryMatchPointingAtItsLastCharacter) {
  // CLIP's Replace: runs of whitespace become one space.
  auto r = text::ReplaceNormalizer::create_regex(R"(\s+)", U" ");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const std::vector<NormChar> out = run(**r, "a \t\n b\u00e9  ");
  EXPECT_EQ(utf8_of(out), "a b\u00e9 ");
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[1].begin, 4u);  // the last space of " \t\n "
  EXPECT_EQ(out[1].end, 5u);
  EXPECT_EQ(out[4].begin, 9u);  // the second space of the trailing "  "
  EXPECT_EQ(out[4].end, 10u);
  EXPECT_FALSE(text::ReplaceNormalizer::create_regex("x*", U"-").is_ok()) << "matches the empty text";
  EXPECT_FALSE(text::ReplaceNormalizer::create_regex("(", U"-").is_ok()) << "does not compile";
}

TEST(UnigramVariants, MatchHuggingFace) {
  const json base = json::parse(shared_t5_json());
  std::ifstream in(testing::golden_dir() + "/tokenizers/t5-variants.jsonl");
  ASSERT_TRUE(in) << "run tests/golden/tokenizers/unigram_variants.mjs";
  std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::string line;
  size_t checked = 0, failures = 0;
  while (std::getline(in, line)) {
    const json rec = json::parse(line);
    json spec = base;
    if (rec["normalizer"] != "T5") spec["normalizer"] = rec["normalizer"];
    if (rec["pre_tokenizer"] != "T5") spec["pre_tokenizer"] = rec["pre_tokenizer"];
    const std::string key = rec["normalizer"].dump() + rec["pre_tokenizer"].dump();
    auto& tok = cache[key];
    if (!tok) {
      auto t = Tokenizer::from_json(spec.dump());
      ASSERT_TRUE(t.is_ok()) << key << ": " << t.status().message();
      tok = std::move(t).value();
    }
    const std::string text = rec["text"];
    auto e = tok->encode(text, false);
    ASSERT_TRUE(e.is_ok()) << e.status().message();
    std::vector<uint32_t> offsets;
    for (const auto& [b, end] : e->offsets) {
      offsets.push_back(static_cast<uint32_t>(text::count_code_points(std::string_view(text).substr(0, b))));
      offsets.push_back(static_cast<uint32_t>(text::count_code_points(std::string_view(text).substr(0, end))));
    }
    ++checked;
    const bool same = e->ids == rec["ids"].get<std::vector<int32_t>>() &&
                      e->tokens == rec["tokens"].get<std::vector<std::string>>() &&
                      offsets == rec["offsets"].get<std::vector<uint32_t>>();
    if (!same && failures++ < 5) {
      ADD_FAILURE() << key << "\n  text " << json(text).dump() << "\n  want " << rec["tokens"].dump() << " "
                    << rec["offsets"].dump() << "\n  got  " << json(e->tokens).dump() << " " << json(offsets).dump();
    }
  }
  EXPECT_EQ(failures, 0u) << "of " << checked;
  EXPECT_GT(checked, 600u);
}

}  // namespace
}  // namespace simile
