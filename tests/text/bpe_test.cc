// BPE model, byte-level pre-tokenizer and post-processors, regex splitting.
// Expectations follow Hugging Face tokenizers 0.23.2 (tokenizers/src/models/bpe,
// pre_tokenizers/byte_level.rs, split.rs); the golden tests compare thousands
// of real gpt2 / roberta-base encodings.
#include "text/bpe.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../test_env.h"
#include "simile/tokenizer.h"
#include "text/byte_level.h"
#include "text/regex.h"
#include "text/split.h"
#include "text/utf8.h"

namespace simile::text {
namespace {

using Vocab = std::vector<std::pair<std::string, int32_t>>;
using Merges = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<Bpe> make_bpe(const Vocab& vocab, const Merges& merges, Bpe::Options options = {}) {
  auto bpe = Bpe::create(vocab, merges, std::move(options));
  if (!bpe.is_ok()) {
    ADD_FAILURE() << bpe.status().message();
    return nullptr;
  }
  return std::move(bpe).value();
}

// "text[begin,end)" per token, for compact expectations.
std::vector<std::string> run(const Bpe& bpe, std::string_view word) {
  std::vector<ModelToken> out;
  Status s = bpe.tokenize(word, &out);
  if (!s.is_ok()) return {"error: " + s.message()};
  std::vector<std::string> got;
  for (const ModelToken& t : out) {
    got.push_back(std::string(t.text) + "[" + std::to_string(t.begin) + "," + std::to_string(t.end) + ")");
  }
  return got;
}

using Strings = std::vector<std::string>;

const Vocab kAbc = {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}};

TEST(BpeModel, LowestRankMergesFirst) {
  auto ab_first = make_bpe(kAbc, {{"a", "b"}, {"b", "c"}});
  auto bc_first = make_bpe(kAbc, {{"b", "c"}, {"a", "b"}});
  EXPECT_EQ(run(*ab_first, "abc"), (Strings{"ab[0,2)", "c[2,3)"}));
  EXPECT_EQ(run(*bc_first, "abc"), (Strings{"a[0,1)", "bc[1,3)"}));
  // A merge made possible by an earlier one.
  auto chain = make_bpe(kAbc, {{"b", "c"}, {"a", "bc"}});
  EXPECT_EQ(run(*chain, "abc"), (Strings{"abc[0,3)"}));
  EXPECT_EQ(run(*chain, "abcabc"), (Strings{"abc[0,3)", "abc[3,6)"}));
}

TEST(BpeModel, EqualRanksMergeLeftmostFirst) {
  auto bpe = make_bpe({{"a", 0}, {"aa", 1}}, {{"a", "a"}});
  EXPECT_EQ(run(*bpe, "aaa"), (Strings{"aa[0,2)", "a[2,3)"}));
  EXPECT_EQ(run(*bpe, "aaaaa"), (Strings{"aa[0,2)", "aa[2,4)", "a[4,5)"}));
}

TEST(BpeModel, MergeOfUnknownTokenIsAnError) {
  auto bpe = Bpe::create(kAbc, {{"a", "x"}}, {});
  ASSERT_FALSE(bpe.is_ok());
  EXPECT_NE(bpe.status().message().find("'x'"), std::string::npos) << bpe.status().message();
  auto made = Bpe::create({{"a", 0}, {"b", 1}}, {{"a", "b"}}, {});
  ASSERT_FALSE(made.is_ok());
  EXPECT_NE(made.status().message().find("makes 'ab'"), std::string::npos) << made.status().message();
}

TEST(BpeModel, ByteFallback) {
  Bpe::Options o;
  o.byte_fallback = true;
  o.unk_token = "<unk>";
  auto bpe = make_bpe({{"<unk>", 0}, {"<0xC3>", 1}, {"<0xA9>", 2}, {"a", 3}}, {}, o);
  // "é" is C3 A9: not in the vocabulary, so its two byte tokens.
  EXPECT_EQ(run(*bpe, "a\xC3\xA9"), (Strings{"a[0,1)", "<0xC3>[1,2)", "<0xA9>[2,3)"}));
  // "è" (C3 A8) lacks <0xA8>: the unk token instead.
  EXPECT_EQ(run(*bpe,
                "\xC3\xA8"
                "a"),
            (Strings{"<unk>[0,2)", "a[2,3)"}));
}

TEST(BpeModel, FuseUnk) {
  Bpe::Options o;
  o.unk_token = "<unk>";
  auto plain = make_bpe({{"<unk>", 0}, {"a", 1}}, {}, o);
  o.fuse_unk = true;
  auto fused = make_bpe({{"<unk>", 0}, {"a", 1}}, {}, o);
  EXPECT_EQ(run(*plain, "xya"), (Strings{"<unk>[0,1)", "<unk>[1,2)", "a[2,3)"}));
  EXPECT_EQ(run(*fused, "xya"), (Strings{"<unk>[0,2)", "a[2,3)"}));
  EXPECT_EQ(run(*fused, "axy\xC3\xA9"), (Strings{"a[0,1)", "<unk>[1,5)"}));
}

TEST(BpeModel, UnknownCharactersWithoutUnkTokenAreDropped) {
  auto bpe = make_bpe({{"a", 0}}, {});
  // The reference's offsets add up the lengths of the symbols it kept, so a
  // dropped character shifts those after it: "a" is reported at [0, 1).
  EXPECT_EQ(run(*bpe, "xa\xE2\x82\xACy"), (Strings{"a[0,1)"}));
  EXPECT_EQ(run(*bpe, "xyz"), Strings{});
}

TEST(BpeModel, UnkTokenMissingFromVocabularyIsAnError) {
  Bpe::Options o;
  o.unk_token = "<unk>";
  auto bpe = make_bpe({{"a", 0}}, {}, o);
  EXPECT_EQ(run(*bpe, "a"), (Strings{"a[0,1)"}));  // only when needed
  const Strings got = run(*bpe, "x");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("unk_token '<unk>' is not in the vocabulary"), std::string::npos) << got[0];
}

TEST(BpeModel, EndOfWordSuffix) {
  Bpe::Options o;
  o.end_of_word_suffix = "</w>";
  auto bpe = make_bpe({{"a", 0}, {"b", 1}, {"a</w>", 2}, {"b</w>", 3}, {"ab</w>", 4}}, {{"a", "b</w>"}}, o);
  EXPECT_EQ(run(*bpe, "ab"), (Strings{"ab</w>[0,2)"}));
  EXPECT_EQ(run(*bpe, "ba"), (Strings{"b[0,1)", "a</w>[1,2)"}));
  EXPECT_EQ(run(*bpe, "a"), (Strings{"a</w>[0,1)"}));
}

TEST(BpeModel, ContinuingSubwordPrefix) {
  Bpe::Options o;
  o.continuing_subword_prefix = "##";
  // The merged token drops the right part's prefix: "a" + "##b" -> "ab".
  auto bpe = make_bpe({{"a", 0}, {"b", 1}, {"##a", 2}, {"##b", 3}, {"ab", 4}}, {{"a", "##b"}}, o);
  EXPECT_EQ(run(*bpe, "ab"), (Strings{"ab[0,2)"}));
  EXPECT_EQ(run(*bpe, "ba"), (Strings{"b[0,1)", "##a[1,2)"}));
}

TEST(BpeModel, IgnoreMerges) {
  Bpe::Options o;
  o.ignore_merges = true;
  // "abc" is in the vocabulary but no merge chain builds it.
  auto bpe = make_bpe(kAbc, {{"a", "b"}}, o);
  EXPECT_EQ(run(*bpe, "abc"), (Strings{"abc[0,3)"}));
  EXPECT_EQ(run(*bpe, "abcc"), (Strings{"ab[0,2)", "c[2,3)", "c[3,4)"}));
}

TEST(BpeModel, EmptyWord) {
  auto bpe = make_bpe(kAbc, {{"a", "b"}});
  EXPECT_EQ(run(*bpe, ""), Strings{});
}

TEST(BpeModel, CacheGivesTheSameTokensOnManyThreads) {
  auto bpe = make_bpe(kAbc, {{"b", "c"}, {"a", "bc"}, {"a", "b"}});
  const Strings want = run(*bpe, "abcab");
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (run(*bpe, "abcab") != want) ++bad[static_cast<size_t>(t)];
        (void)run(*bpe, std::string(static_cast<size_t>(i % 300 + 1), 'a'));  // longer than the cache limit too
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

// --- regex and Split ----------------------------------------------------------

std::vector<std::string> split_words(std::string_view text, std::string_view pattern, SplitBehavior behavior,
                                     bool invert = false) {
  auto re = Regex::compile(pattern);
  if (!re.is_ok()) return {"error: " + re.status().message()};
  std::vector<NormChar> chars;
  decode_to_chars(text, 0, &chars);
  std::vector<SplitPiece> pieces;
  Status s = find_pieces(**re, chars, &pieces);
  if (!s.is_ok()) return {"error: " + s.message()};
  std::vector<CharRange> words;
  split_pieces(pieces, behavior, invert, &words);
  std::vector<std::string> out;
  for (const CharRange& w : words)
    out.emplace_back(text.substr(chars[w.begin].begin, chars[w.end - 1].end - chars[w.begin].begin));
  return out;
}

TEST(SplitPreTokenizer, Behaviors) {
  // The reference's own examples (split.rs).
  const std::string t = "the-final--countdown";
  EXPECT_EQ(split_words(t, "-", SplitBehavior::kRemoved), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(split_words(t, "-", SplitBehavior::kIsolated), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_words(t, "-", SplitBehavior::kMergedWithPrevious), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_words(t, "-", SplitBehavior::kMergedWithNext), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_words(t, "-", SplitBehavior::kContiguous), (Strings{"the", "-", "final", "--", "countdown"}));
  // invert: the words are the matches.
  EXPECT_EQ(split_words("Hey friend!", "\\w+|[^\\w\\s]+", SplitBehavior::kRemoved, true),
            (Strings{"Hey", "friend", "!"}));
}

TEST(SplitPreTokenizer, ClassesAreOniguruma) {
  // U+1C89 is a letter since Unicode 16; U+180E is not \s (PCRE2 says it is).
  EXPECT_EQ(split_words("a\u1C89b c", "\\p{L}+", SplitBehavior::kIsolated), (Strings{"a\u1C89b", " ", "c"}));
  EXPECT_EQ(split_words("a\u1C89b c", "[\\pL]+", SplitBehavior::kIsolated), (Strings{"a\u1C89b", " ", "c"}));
  EXPECT_EQ(split_words("a\u180E b", "\\s+", SplitBehavior::kRemoved), (Strings{"a\u180E", "b"}));
  EXPECT_EQ(split_words("a\u180E b", "\\S+", SplitBehavior::kIsolated), (Strings{"a\u180E", " ", "b"}));
}

TEST(SplitPreTokenizer, SequenceRunsEachStepOnEveryWord) {
  // CLIP's shape: Split(invert, Removed) then ByteLevel; add_prefix_space
  // then puts a space before every word, as the reference does per split.
  auto split = SplitPreTokenizer::create("'s|[\\p{L}]+|[^\\s\\p{L}\\p{N}]+", true, SplitBehavior::kRemoved, true);
  ASSERT_TRUE(split.is_ok()) << split.status().message();
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(std::move(*split));
  steps.push_back(std::make_unique<ByteLevelPreTokenizer>(ByteLevelPreTokenizer::Options{true, true}));
  const PreTokenizerSequence seq(std::move(steps));
  std::vector<NormChar> chars;
  decode_to_chars("it's \xC3\xA9!", 0, &chars);
  std::vector<CharRange> words;
  ASSERT_TRUE(seq.pre_tokenize(&chars, &words).is_ok());
  Strings got;
  for (const CharRange& w : words) {
    std::string s;
    for (uint32_t i = w.begin; i < w.end; ++i) append_utf8(chars[i].cp, &s);
    got.push_back(s + "[" + std::to_string(chars[w.begin].begin) + "," + std::to_string(chars[w.end - 1].end) + ")");
  }
  // " 's" splits again (" '" comes before "'s" in the pattern); "é" is two
  // byte characters (Ã ©), each with the range of "é".
  EXPECT_EQ(got, (Strings{"\u0120it[0,2)", "\u0120'[2,3)", "s[3,4)", "\u0120\u00C3\u00A9[5,7)", "\u0120![7,8)"}));
}

TEST(SplitPreTokenizer, EmptyMatchesAdvanceOneCharacter) {
  auto re = Regex::compile("x*");
  ASSERT_TRUE(re.is_ok());
  std::vector<std::pair<uint32_t, uint32_t>> m;
  ASSERT_TRUE((*re)->find_all("\xC3\xA9xx\xC3\xA9", &m).is_ok());
  // Empty at 0, "xx" at 2..4, then no empty match right after it; empty at
  // the end (after a character was skipped).
  const std::vector<std::pair<uint32_t, uint32_t>> want = {{0, 0}, {2, 4}, {6, 6}};
  EXPECT_EQ(m, want);
}

TEST(SplitPreTokenizer, BadRegexIsAClearError) {
  auto re = Regex::compile("(unclosed");
  ASSERT_FALSE(re.is_ok());
  EXPECT_NE(re.status().message().find("(unclosed"), std::string::npos) << re.status().message();
  auto tok = Tokenizer::from_json(R"({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[z-a]"}, "behavior": "Isolated", "invert": false}})");
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("[z-a]"), std::string::npos) << tok.status().message();
}

// The GPT-2 pattern classes every code point as the reference (Oniguruma) does:
// hf_byte_level_classes.txt, probed the same way (see hf_byte_level_classes.mjs).
TEST(ByteLevel, SplitClassesMatchHfForEveryCodePoint) {
  const std::string path = testing::golden_dir() + "/tokenizers/hf_byte_level_classes.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  const ByteLevelPreTokenizer pre({/*add_prefix_space=*/false, /*use_regex=*/true});
  std::vector<NormChar> chars;
  std::vector<CharRange> words;
  auto joined = [&](char32_t first, char32_t c) {
    chars.assign({{first, 0, 1}, {c, 1, 2}});
    words.clear();
    EXPECT_TRUE(pre.pre_tokenize(&chars, &words).is_ok());
    return words.size() == 1;
  };
  auto class_of = [&](char32_t c) {
    if (joined('a', c)) return 'L';
    if (joined('1', c)) return 'N';
    if (joined('!', c)) return 'O';
    return 'S';
  };
  size_t checked = 0, wrong = 0;
  std::string first_wrong;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string first_hex, last_hex;
    char want = 0;
    fields >> first_hex >> last_hex >> want;
    const auto first = static_cast<char32_t>(std::stoul(first_hex, nullptr, 16));
    const auto last = static_cast<char32_t>(std::stoul(last_hex, nullptr, 16));
    for (char32_t c = first; c <= last; ++c) {
      const char got = class_of(c);
      ++checked;
      if (got != want && wrong++ == 0) {
        first_wrong = "U+" + std::to_string(c) + " (decimal): want " + want + " got " + got;
      }
    }
  }
  EXPECT_EQ(checked, 1112064u);
  EXPECT_EQ(wrong, 0u) << first_wrong;
}

TEST(ByteLevel, MapsEveryByteToAPrintableCharacter) {
  EXPECT_EQ(byte_level_char(' '), U'\u0120');
  EXPECT_EQ(byte_level_char('a'), U'a');
  EXPECT_EQ(byte_level_char(0), U'\u0100');
  EXPECT_EQ(byte_level_char('\n'), U'\u010A');
  EXPECT_EQ(byte_level_char(0xAD), U'\u0143');
  EXPECT_EQ(byte_level_char(0xFF), U'\u00FF');
}

}  // namespace
}  // namespace simile::text

namespace simile {
namespace {

std::unique_ptr<Tokenizer> load_shared(const std::string& name) {
  auto t = Tokenizer::from_file(testing::shared_dir() + "/tokenizers/" + name + "/tokenizer.json");
  if (!t.is_ok()) {
    ADD_FAILURE() << t.status().message();
    return nullptr;
  }
  return std::move(t).value();
}

std::string bpe_json(const std::string& model_extra, const std::string& sections = "") {
  return R"({"version": "1.0", )" + sections +
         R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"])" + model_extra + "}}";
}

TEST(BpeTokenizer, LoadsGpt2AndRobertaWithoutModelType) {
  auto gpt2 = load_shared("gpt2");
  auto roberta = load_shared("roberta-base");
  ASSERT_NE(gpt2, nullptr);
  ASSERT_NE(roberta, nullptr);
  EXPECT_EQ(gpt2->model_type(), "BPE");
  EXPECT_EQ(roberta->model_type(), "BPE");
  EXPECT_EQ(gpt2->vocab_size(), 50257u);
  EXPECT_EQ(roberta->vocab_size(), 50265u);
  // Ids from Hugging Face tokenizers 0.23.2.
  auto e = gpt2->encode("Hello world");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->ids, (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"Hello", "\xC4\xA0world"}));
  auto r = roberta->encode("Hello world");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->ids, (std::vector<int32_t>{0, 31414, 232, 2}));
  // Trimmed offsets: " world" starts at 'w'.
  EXPECT_EQ(r->offsets[2], (std::pair<uint32_t, uint32_t>{6, 11}));
}

TEST(BpeTokenizer, EmptyInput) {
  auto gpt2 = load_shared("gpt2");
  auto roberta = load_shared("roberta-base");
  ASSERT_NE(gpt2, nullptr);
  ASSERT_NE(roberta, nullptr);
  auto e = gpt2->encode("");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->size(), 0u);
  auto r = roberta->encode("");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->ids, (std::vector<int32_t>{0, 2}));
}

TEST(BpeTokenizer, InvalidUtf8FollowsThePolicy) {
  auto gpt2 = load_shared("gpt2");
  ASSERT_NE(gpt2, nullptr);
  // Replace (the default): as from_utf8_lossy, one U+FFFD per bad sequence,
  // offsets into the caller's bytes.
  auto bad = gpt2->encode(
      "ab\xFF"
      "cd");
  auto fffd = gpt2->encode(
      "ab\xEF\xBF\xBD"
      "cd");
  ASSERT_TRUE(bad.is_ok());
  ASSERT_TRUE(fffd.is_ok());
  EXPECT_EQ(bad->ids, fffd->ids);
  ASSERT_FALSE(bad->offsets.empty());
  EXPECT_EQ(bad->offsets.back().second, 5u);
  gpt2->set_invalid_utf8(InvalidUtf8::kReject);
  auto rejected = gpt2->encode(
      "ab\xFF"
      "cd");
  ASSERT_FALSE(rejected.is_ok());
  EXPECT_NE(rejected.status().message().find("byte offset 2"), std::string::npos) << rejected.status().message();
}

TEST(BpeTokenizer, MergesAsPairsOrStrings) {
  auto strings = Tokenizer::from_json(bpe_json(""));
  auto pairs = Tokenizer::from_json(
      R"({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}})");
  ASSERT_TRUE(strings.is_ok()) << strings.status().message();
  ASSERT_TRUE(pairs.is_ok()) << pairs.status().message();
  EXPECT_EQ((*strings)->encode("ab")->ids, (std::vector<int32_t>{2}));
  EXPECT_EQ((*pairs)->encode("ab")->ids, (std::vector<int32_t>{2}));
}

TEST(BpeTokenizer, DropoutIsUnsupported) {
  auto zero = Tokenizer::from_json(bpe_json(R"(, "dropout": 0.0)"));
  EXPECT_TRUE(zero.is_ok()) << zero.status().message();
  auto some = Tokenizer::from_json(bpe_json(R"(, "dropout": 0.1)"));
  ASSERT_FALSE(some.is_ok());
  EXPECT_EQ(some.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(some.status().message().find("dropout"), std::string::npos) << some.status().message();
}

TEST(BpeTokenizer, UnsupportedComponentsAreNamed) {
  auto pre = Tokenizer::from_json(bpe_json("", R"("pre_tokenizer": {"type": "UnicodeScripts"}, )"));
  ASSERT_FALSE(pre.is_ok());
  EXPECT_NE(pre.status().message().find("UnicodeScripts"), std::string::npos) << pre.status().message();
  auto nested = Tokenizer::from_json(bpe_json(
      "",
      R"("pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "UnicodeScripts"}]}, )"));
  ASSERT_FALSE(nested.is_ok());
  EXPECT_NE(nested.status().message().find("UnicodeScripts"), std::string::npos) << nested.status().message();
  auto post = Tokenizer::from_json(bpe_json("", R"("post_processor": {"type": "Mystery"}, )"));
  ASSERT_FALSE(post.is_ok());
  EXPECT_NE(post.status().message().find("Mystery"), std::string::npos) << post.status().message();
  // Decoders are not used for encoding and do not stop loading.
  auto dec = Tokenizer::from_json(bpe_json("", R"("decoder": {"type": "ByteLevel"}, )"));
  EXPECT_TRUE(dec.is_ok()) << dec.status().message();
}

TEST(BpeTokenizer, RobertaPairAndOffsets) {
  auto roberta = load_shared("roberta-base");
  ASSERT_NE(roberta, nullptr);
  auto e = roberta->encode_pair("Hi", "there");
  ASSERT_TRUE(e.is_ok());
  // <s> Hi </s></s> there </s>, every type id 0.
  EXPECT_EQ(e->ids, (std::vector<int32_t>{0, 30086, 2, 2, 8585, 2}));
  EXPECT_EQ(e->type_ids, std::vector<int32_t>(6, 0));
  EXPECT_EQ(e->special_tokens_mask, (std::vector<uint8_t>{1, 0, 1, 1, 0, 1}));
}

}  // namespace
}  // namespace simile
