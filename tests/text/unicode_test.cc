// Character-level tests: UTF-8 decoding (from_utf8_lossy rules) and, for every
// code point, the classes and mappings of our BertNormalizer/BertPreTokenizer
// against what Hugging Face tokenizers does (hf_unicode_classes.txt).
#include "text/unicode.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../test_env.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"

namespace simile::text {
namespace {

std::vector<char32_t> decode_lossy(std::string_view s) {
  std::vector<uint32_t> map;
  const std::string valid = utf8_lossy(s, &map);
  std::vector<char32_t> out;
  const auto* p = reinterpret_cast<const unsigned char*>(valid.data());
  for (size_t i = 0; i < valid.size();) {
    Utf8Step st = decode_utf8(p + i, valid.size() - i);
    EXPECT_TRUE(st.valid);
    out.push_back(st.cp);
    i += st.len;
  }
  return out;
}

constexpr char32_t R = kReplacementChar;

TEST(Utf8, ReplacesEachMaximalInvalidSubsequenceLikeRust) {
  // Cases from the Unicode "maximal subpart" practice that Rust follows.
  EXPECT_EQ(decode_lossy("a\x80"
                         "b"),
            (std::vector<char32_t>{'a', R, 'b'}));
  EXPECT_EQ(decode_lossy("\xE2\x82"
                         "A"),
            (std::vector<char32_t>{R, 'A'}));                                        // truncated 3-byte
  EXPECT_EQ(decode_lossy("\xF0\x80\x80"), (std::vector<char32_t>{R, R, R}));         // F0 needs 90..BF
  EXPECT_EQ(decode_lossy("\xED\xA0\x80"), (std::vector<char32_t>{R, R, R}));         // surrogate
  EXPECT_EQ(decode_lossy("\xC0\xAF"), (std::vector<char32_t>{R, R}));                // overlong
  EXPECT_EQ(decode_lossy("\xF4\x90\x80\x80"), (std::vector<char32_t>{R, R, R, R}));  // > U+10FFFF
  EXPECT_EQ(decode_lossy("\xF1\x80\x80"), (std::vector<char32_t>{R}));               // truncated at end
  EXPECT_EQ(decode_lossy("\xFF\xFE"), (std::vector<char32_t>{R, R}));
  EXPECT_EQ(decode_lossy("\xE0\xA4\xA8\xE0\xA4"), (std::vector<char32_t>{0x928, R}));
  EXPECT_EQ(decode_lossy("\xF0\x9F\x98\x80"), (std::vector<char32_t>{0x1F600}));
}

TEST(Utf8, LossyOffsetsMapBackToTheInput) {
  std::vector<uint32_t> map;
  const std::string s = utf8_lossy(
      "a\xE2\x82"
      "b",
      &map);  // a, U+FFFD for 2 bytes, b
  ASSERT_EQ(s,
            "a\xEF\xBF\xBD"
            "b");
  ASSERT_EQ(map.size(), s.size() + 1);
  EXPECT_EQ(map[0], 0u);
  EXPECT_EQ(map[1], 1u);  // U+FFFD starts at input byte 1
  EXPECT_EQ(map[4], 3u);  // 'b' is input byte 3
  EXPECT_EQ(map[5], 4u);  // end
}

TEST(Utf8, FindsFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("hello \xC3\xA9"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("ok\xC3"), 2u);
  EXPECT_EQ(find_invalid_utf8(std::string_view("\0\xFF", 2)), 1u);
}

TEST(Utf8, EveryByteSequenceOfLengthTwoDecodesWithoutOverrun) {
  // Exhaustive over two bytes (plus a third for 3-byte leads): lengths add up.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const unsigned char buf[2] = {static_cast<unsigned char>(a), static_cast<unsigned char>(b)};
      size_t i = 0;
      while (i < 2) {
        Utf8Step st = decode_utf8(buf + i, 2 - i);
        ASSERT_GE(st.len, 1u);
        ASSERT_LE(i + st.len, 2u);
        i += st.len;
      }
    }
  }
}

TEST(UnicodeAge, KnowsWhenCodePointsWereAssigned) {
  EXPECT_EQ(unicode_age('A'), 0x101);
  EXPECT_EQ(unicode_age(0x20AC), 0x201);   // EURO SIGN, 2.1
  EXPECT_EQ(unicode_age(0x2E43), 0x900);   // DASH WITH LEFT UPTURN, 9.0
  EXPECT_EQ(unicode_age(0x1FAE8), 0xF00);  // SHAKING FACE, 15.0
  EXPECT_EQ(unicode_age(0x1FAE9), 0);      // 16.0: newer than the table
  EXPECT_EQ(unicode_age(0x0378), 0);       // unassigned
  EXPECT_EQ(unicode_age(0x10FFFF), 0x200);
}

// --- HF's view of every code point -------------------------------------------

std::vector<char32_t> run_normalizer(const Normalizer& n, char32_t cp) {
  std::vector<NormChar> chars{{cp, 0, 1}}, scratch;
  n.normalize(&chars, &scratch);
  std::vector<char32_t> out;
  for (const NormChar& c : chars) out.push_back(c.cp);
  return out;
}

std::string hex(const std::vector<char32_t>& v) {
  std::string s;
  char buf[16];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%X", i ? "," : "", static_cast<unsigned>(v[i]));
    s += buf;
  }
  return s;
}

std::vector<char32_t> parse_hex_list(const std::string& s) {
  std::vector<char32_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(static_cast<char32_t>(std::stoul(item, nullptr, 16)));
  }
  return out;
}

TEST(UnicodeHfTable, EveryCodePointMatchesHuggingFace) {
  const std::string path = testing::golden_dir() + "/tokenizers/hf_unicode_classes.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::vector<std::pair<std::pair<char32_t, char32_t>, std::string>> runs;
  std::map<char32_t, std::vector<char32_t>> lower, strip;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag, a, b, c;
    ls >> tag >> a;
    std::getline(ls >> std::ws, b);
    const char32_t cp = static_cast<char32_t>(std::stoul(a, nullptr, 16));
    if (tag == "R") {
      std::istringstream rest(b);
      rest >> b >> c;
      runs.push_back({{cp, static_cast<char32_t>(std::stoul(b, nullptr, 16))}, c});
    } else if (tag == "L") {
      lower[cp] = parse_hex_list(b);
    } else if (tag == "S") {
      strip[cp] = parse_hex_list(b);
    }
  }
  ASSERT_FALSE(runs.empty());

  BertNormalizer::Options off{false, false, false, false};
  BertNormalizer::Options o = off;
  o.clean_text = true;
  const BertNormalizer clean(o);
  o = off;
  o.handle_chinese_chars = true;
  const BertNormalizer chinese(o);
  o = off;
  o.lowercase = true;
  const BertNormalizer lowercase(o);
  o = off;
  o.strip_accents = true;
  const BertNormalizer strip_accents(o);
  const BertPreTokenizer pre;

  size_t failures = 0;
  auto fail = [&](char32_t cp, const std::string& what) {
    if (++failures <= 20) ADD_FAILURE() << "U+" << hex({cp}) << ": " << what;
  };
  size_t covered = 0;
  for (const auto& [range, cls] : runs) {
    for (char32_t cp = range.first; cp <= range.second; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      ++covered;
      const auto c = run_normalizer(clean, cp);
      const char k0 = c.empty() ? 'd' : (c.size() == 1 && c[0] == ' ') ? 's' : 'k';
      std::vector<NormChar> word{{'a', 0, 1}, {cp, 1, 2}, {'a', 2, 3}};
      std::vector<CharRange> words;
      pre.split(word, &words);
      const char k1 = words.size() == 2 ? 's' : words.size() == 3 ? 'p' : 'k';
      const auto p = run_normalizer(chinese, cp);
      const char k2 = (p.size() == 3 && p[0] == ' ' && p[1] == cp && p[2] == ' ') ? 'c' : '-';
      const std::string ours{k0, k1, k2};
      if (ours != cls) fail(cp, "class " + ours + ", HF " + cls);
      if (k0 == 'k' && (c.size() != 1 || c[0] != cp)) fail(cp, "clean_text changed a kept char");

      auto want_lower = lower.count(cp) ? lower[cp] : std::vector<char32_t>{cp};
      auto got_lower = run_normalizer(lowercase, cp);
      if (got_lower != want_lower) fail(cp, "lowercase " + hex(got_lower) + ", HF " + hex(want_lower));
      auto want_strip = strip.count(cp) ? strip[cp] : std::vector<char32_t>{cp};
      auto got_strip = run_normalizer(strip_accents, cp);
      if (got_strip != want_strip) fail(cp, "strip_accents " + hex(got_strip) + ", HF " + hex(want_strip));
    }
  }
  EXPECT_EQ(covered, 0x110000u - 0x800u);  // every scalar value
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace simile::text
