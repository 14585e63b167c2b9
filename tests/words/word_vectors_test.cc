// WordVectors: loading each file format (explicitly and auto-detected),
// --limit, repeated words, invalid UTF-8 in words, bit-exact round trips
// through save_word2vec, the messages malformed files are rejected with, and
// WordVectors::from's checks.
#include "words/word_vectors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "words_test_util.h"

namespace simile::words {
namespace {

using testing::mentions;
using testing::TempDir;

// word2vec binary: the header, then per word "word " + little-endian float32s
// (+ "\n" when `newline`).
std::string binary_file(const std::vector<std::string>& words, const std::vector<std::vector<float>>& vectors,
                        bool newline, const std::string& header = "") {
  std::string out =
      header.empty() ? std::to_string(words.size()) + " " + std::to_string(vectors[0].size()) + "\n" : header;
  for (size_t i = 0; i < words.size(); ++i) {
    out += words[i] + " ";
    out.append(reinterpret_cast<const char*>(vectors[i].data()), vectors[i].size() * sizeof(float));
    if (newline) out += '\n';
  }
  return out;
}

const std::vector<std::string> kWords = {"the", "cat", "sat"};
const std::vector<std::vector<float>> kVectors = {{0.5f, -1.25f, 3}, {0.1f, 0.2f, -0.3f}, {1e-3f, 2.5e7f, -7}};
const char* const kText = "3 3\nthe 0.5 -1.25 3\ncat 0.1 0.2 -0.3\nsat 0.001 2.5e7 -7\n";
const char* const kGlove = "the 0.5 -1.25 3\ncat 0.1 0.2 -0.3\nsat 0.001 2.5e7 -7\n";

// Expects `v` to hold kWords and kVectors, in order (the first `n` of them).
void expect_the_cat_sat(const WordVectors& v, size_t n = 3) {
  ASSERT_EQ(v.size(), n);
  ASSERT_EQ(v.dims(), 3u);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(v.word(i), kWords[i]);
    ASSERT_TRUE(v.find(kWords[i]).has_value()) << kWords[i];
    EXPECT_EQ(*v.find(kWords[i]), i);
    for (size_t d = 0; d < 3; ++d) EXPECT_EQ(v.vector(i)[d], kVectors[i][d]) << kWords[i] << " value " << d;
  }
  EXPECT_EQ(v.duplicates(), 0u);
}

// A wink JSON file of kWords/kVectors: "vectors" lists them in another order
// than "words", each followed by its norm and its position.
std::string wink_file(const std::string& position_of_cat = "1") {
  auto entry = [](size_t i, const std::string& position) {
    double norm = 0;
    for (float x : kVectors[i]) norm += double(x) * x;
    std::string s = "\"" + kWords[i] + "\":[";
    for (float x : kVectors[i]) s += std::to_string(x) + ",";
    return s + std::to_string(std::sqrt(norm)) + "," + position + "]";
  };
  return "{\"precision\":8,\"l2NormIndex\":3,\"wordIndex\":4,\"size\":3,\"dimensions\":3,"
         "\"words\":[\"the\",\"cat\",\"sat\"],"
         "\"vectors\":{" +
         entry(2, "2") + "," + entry(0, "0") + "," + entry(1, position_of_cat) + "},\"unkVector\":[0,0,0]}";
}

Result<WordVectors> load(const std::string& path, VectorFileFormat format = VectorFileFormat::kAuto, size_t limit = 0) {
  LoadOptions options;
  options.format = format;
  options.limit = limit;
  return WordVectors::load(path, options);
}

// The message of a load that must fail.
std::string load_error(const std::string& path, VectorFileFormat format = VectorFileFormat::kAuto) {
  auto r = load(path, format);
  EXPECT_FALSE(r.is_ok()) << path << " loaded";
  return r.status().message();
}

// Loads `path` detected and named as `named`: both give the three words of
// kWords as format `loaded`.
void expect_loads_the_cat_sat(const std::string& path, VectorFileFormat named, VectorFileFormat loaded) {
  for (VectorFileFormat f : {VectorFileFormat::kAuto, named}) {
    auto v = load(path, f);
    ASSERT_TRUE(v.is_ok()) << path << " as " << vector_file_format_name(f) << ": " << v.status().message();
    expect_the_cat_sat(*v);
    EXPECT_EQ(v->format(), loaded);
  }
}

TEST(WordVectorsLoad, Word2VecTextWithHeader) {
  TempDir dir;
  expect_loads_the_cat_sat(dir.write("v.txt", kText), VectorFileFormat::kWord2VecText,
                          VectorFileFormat::kWord2VecText);
}

TEST(WordVectorsLoad, Word2VecBinaryWithAndWithoutNewlines) {
  TempDir dir;
  for (bool newline : {true, false}) {
    SCOPED_TRACE(newline ? "with newlines" : "without newlines");
    expect_loads_the_cat_sat(dir.write("v.bin", binary_file(kWords, kVectors, newline)),
                             VectorFileFormat::kWord2VecBinary, VectorFileFormat::kWord2VecBinary);
  }
}

TEST(WordVectorsLoad, GloveHasNoHeader) {
  TempDir dir;
  // Blank lines before the first record and between records are skipped.
  expect_loads_the_cat_sat(dir.write("glove.txt", std::string("\n") + kGlove), VectorFileFormat::kGloveText,
                          VectorFileFormat::kGloveText);
}

TEST(WordVectorsLoad, FastTextVecWithTrailingSpacesAndCrlf) {
  // fastText writes a space after the last value; files from Windows end lines in CRLF.
  TempDir dir;
  const std::string path =
      dir.write("v.vec", "3 3\r\nthe 0.5 -1.25 3 \r\ncat 0.1 0.2 -0.3 \r\nsat 0.001 2.5e7 -7 \r\n");
  auto fasttext = parse_vector_file_format("fasttext");
  ASSERT_TRUE(fasttext.is_ok());
  expect_loads_the_cat_sat(path, *fasttext, VectorFileFormat::kWord2VecText);
}

TEST(WordVectorsLoad, WinkJsonFollowsTheWordsOrder) {
  TempDir dir;
  const std::string json = wink_file();
  // The test means something only if "vectors" is in another order.
  ASSERT_LT(json.find("\"sat\":["), json.find("\"the\":["));
  const std::string path = dir.write("wink.json", json);
  for (VectorFileFormat f : {VectorFileFormat::kAuto, VectorFileFormat::kWinkJson}) {
    auto v = load(path, f);
    ASSERT_TRUE(v.is_ok()) << v.status().message();
    ASSERT_EQ(v->size(), 3u);
    EXPECT_EQ(v->format(), VectorFileFormat::kWinkJson);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(v->word(i), kWords[i]);
      // std::to_string keeps 6 decimals: compare with what the file says.
      for (size_t d = 0; d < 3; ++d)
        EXPECT_EQ(v->vector(i)[d], static_cast<float>(std::stod(std::to_string(kVectors[i][d]))));
    }
  }
}

TEST(WordVectorsLoad, WinkJsonSkipsAListedWordWithoutAVector) {
  TempDir dir;
  const std::string path =
      dir.write("wink.json",
                R"({"dimensions":2,"wordIndex":3,"words":["a","b","c"],"vectors":{"c":[5,6,7.8,2],"a":[1,2,2.2,0]}})");
  auto v = load(path);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ(v->word(0), "a");
  EXPECT_EQ(v->word(1), "c");
  EXPECT_EQ(v->vector(1)[0], 5.0f);
  EXPECT_FALSE(v->find("b").has_value());
}

TEST(WordVectorsLoad, ParsesFormatNames) {
  EXPECT_EQ(*parse_vector_file_format("auto"), VectorFileFormat::kAuto);
  EXPECT_EQ(*parse_vector_file_format("word2vec"), VectorFileFormat::kWord2VecText);
  EXPECT_EQ(*parse_vector_file_format("fasttext"), VectorFileFormat::kWord2VecText);
  EXPECT_EQ(*parse_vector_file_format("word2vec-binary"), VectorFileFormat::kWord2VecBinary);
  EXPECT_EQ(*parse_vector_file_format("glove"), VectorFileFormat::kGloveText);
  EXPECT_EQ(*parse_vector_file_format("wink"), VectorFileFormat::kWinkJson);
  for (auto f : {VectorFileFormat::kAuto, VectorFileFormat::kWord2VecText, VectorFileFormat::kWord2VecBinary,
                 VectorFileFormat::kGloveText, VectorFileFormat::kWinkJson})
    EXPECT_EQ(*parse_vector_file_format(vector_file_format_name(f)), f);
  auto bad = parse_vector_file_format("npy");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_TRUE(mentions(bad.status().message(), "npy"));
}

TEST(WordVectorsLoad, LimitReadsTheFirstWordsOfEveryFormat) {
  TempDir dir;
  // The limit stops reading: a bad record after it is never seen.
  const std::string text = dir.write("v.txt", std::string(kText) + "bad 1 2\n");
  const std::string text_exact = dir.write("exact.txt", kText);
  const std::string glove = dir.write("glove.txt", std::string(kGlove) + "bad x\n");
  const std::string glove_exact = dir.write("glove_exact.txt", kGlove);
  const std::string binary = dir.write("v.bin", binary_file(kWords, kVectors, true));
  const std::string wink = dir.write("wink.json", wink_file());
  for (const std::string& path : {text, glove, binary, wink}) {
    auto v = load(path, VectorFileFormat::kAuto, 2);
    ASSERT_TRUE(v.is_ok()) << path << ": " << v.status().message();
    ASSERT_EQ(v->size(), 2u) << path;
    EXPECT_EQ(v->word(0), "the") << path;
    EXPECT_EQ(v->word(1), "cat") << path;
    EXPECT_FALSE(v->find("sat").has_value()) << path;
  }
  // A limit above the file's words reads them all.
  for (const std::string& path : {text_exact, glove_exact, binary, wink}) {
    auto v = load(path, VectorFileFormat::kAuto, 10);
    ASSERT_TRUE(v.is_ok()) << path << ": " << v.status().message();
    EXPECT_EQ(v->size(), 3u) << path;
  }
}

TEST(WordVectorsLoad, RepeatedWordKeepsItsFirstVector) {
  TempDir dir;
  const std::string text = dir.write("v.txt", "5 2\na 1 2\nb 3 4\na 5 6\nc 7 8\nb 9 10\n");
  const std::string binary =
      dir.write("v.bin", binary_file({"a", "b", "a", "c", "b"}, {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}}, true));
  const std::string glove = dir.write("glove.txt", "a 1 2\nb 3 4\na 5 6\nc 7 8\nb 9 10\n");
  for (const std::string& path : {text, binary, glove}) {
    auto v = load(path);
    ASSERT_TRUE(v.is_ok()) << path << ": " << v.status().message();
    ASSERT_EQ(v->size(), 3u) << path;
    EXPECT_EQ(v->duplicates(), 2u) << path;
    EXPECT_EQ(v->word(0), "a");
    EXPECT_EQ(v->word(1), "b");
    EXPECT_EQ(v->word(2), "c");
    EXPECT_EQ(*v->find("c"), 2u);
    EXPECT_EQ(v->vector(0)[0], 1.0f);
    EXPECT_EQ(v->vector(1)[1], 4.0f);
    EXPECT_EQ(v->vector(2)[0], 7.0f);
    EXPECT_EQ(v->vectors().size(), 6u);
  }
}

TEST(WordVectorsLoad, InvalidUtf8InAWordBecomesReplacementCharacter) {
  TempDir dir;
  const std::string bad = "caf\xE9";  // Latin-1 e-acute
  const std::string replaced = "caf\xEF\xBF\xBD";
  const std::string text = dir.write("v.txt", "2 2\n" + bad + " 1 2\nna\xC3\xAFve 3 4\n");
  const std::string binary = dir.write("v.bin", binary_file({bad, "na\xC3\xAFve"}, {{1, 2}, {3, 4}}, true));
  const std::string glove = dir.write("g.txt", bad + " 1 2\nna\xC3\xAFve 3 4\n");
  for (const std::string& path : {text, binary, glove}) {
    auto v = load(path);
    ASSERT_TRUE(v.is_ok()) << path << ": " << v.status().message();
    ASSERT_EQ(v->size(), 2u);
    EXPECT_EQ(v->word(0), replaced);
    EXPECT_EQ(v->word(1), "na\xC3\xAFve");  // valid UTF-8 stays as it is
    EXPECT_TRUE(v->find(replaced).has_value());
    EXPECT_FALSE(v->find(bad).has_value());
  }
}

TEST(WordVectorsLoad, MessageShowsAWordWithInvalidUtf8Replaced) {
  TempDir dir;
  const std::string path = dir.write("v.txt", "2 2\ncat 1 2\nd\xFFg 1\n");
  EXPECT_TRUE(mentions(load_error(path), "after 'd\xEF\xBF\xBDg', found 1"));
}

// Random finite floats from random bit patterns: every exponent, subnormals,
// negative zero.
std::vector<float> random_finite_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> out;
  out.reserve(n);
  while (out.size() < n) {
    const uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (std::isfinite(f)) out.push_back(f);
  }
  out[0] = -0.0f;
  out[1] = std::numeric_limits<float>::denorm_min();
  out[2] = std::numeric_limits<float>::max();
  out[3] = -std::numeric_limits<float>::min();
  return out;
}

TEST(WordVectorsSave, TextAndBinaryRoundTripBitForBit) {
  TempDir dir;
  const size_t n = 200, dims = 13;
  std::vector<std::string> words;
  for (size_t i = 0; i < n; ++i) words.push_back(testing::numbered(i % 3 == 0 ? "w" : "\xC3\xA9t\xC3\xA9", i));
  const std::vector<float> values = random_finite_floats(n * dims, 7);
  auto original = WordVectors::from(words, values, dims);
  ASSERT_TRUE(original.is_ok()) << original.status().message();
  for (bool binary : {false, true}) {
    const std::string path = dir.file(binary ? "out.bin" : "out.txt");
    // Saving twice replaces the file.
    ASSERT_TRUE(original->save_word2vec(path, binary).is_ok());
    ASSERT_TRUE(original->save_word2vec(path, binary).is_ok());
    auto back = load(path);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(back->format(), binary ? VectorFileFormat::kWord2VecBinary : VectorFileFormat::kWord2VecText);
    ASSERT_EQ(back->dims(), dims);
    ASSERT_EQ(back->words(), words);
    ASSERT_EQ(back->vectors().size(), values.size());
    EXPECT_EQ(std::memcmp(back->vectors().data(), values.data(), values.size() * sizeof(float)), 0)
        << (binary ? "binary" : "text") << " changed a value";
  }
}

TEST(WordVectorsSave, TextUsesShortestRoundTripDecimals) {
  TempDir dir;
  auto v = WordVectors::from({"a", "b"}, {0.1f, -2.5f, 1e-3f, 3e38f}, 2);
  ASSERT_TRUE(v.is_ok());
  const std::string path = dir.file("out.txt");
  ASSERT_TRUE(v->save_word2vec(path, false).is_ok());
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "2 2\na 0.1 -2.5\nb 0.001 3e+38\n");
}

TEST(WordVectorsSave, BinaryIsWhatWord2VecCWrites) {
  TempDir dir;
  auto v = WordVectors::from({"a", "bc"}, {1, 2, 3, 4}, 2);
  ASSERT_TRUE(v.is_ok());
  const std::string path = dir.file("out.bin");
  ASSERT_TRUE(v->save_word2vec(path, true).is_ok());
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, binary_file({"a", "bc"}, {{1, 2}, {3, 4}}, true));
}

// Malformed files: each message names what is wrong and where.

TEST(WordVectorsLoad, RejectsALineWithTooFewNumbers) {
  TempDir dir;
  const std::string path = dir.write("v.txt", "3 3\nthe 0.5 -1.25 3\ncat 0.1 0.2\nsat 0.001 2.5e7 -7\n");
  const std::string message = load_error(path);
  EXPECT_TRUE(mentions(message, "line 3"));
  EXPECT_TRUE(mentions(message, "expected 3 numbers after 'cat', found 2"));
  EXPECT_TRUE(mentions(message, path));
  EXPECT_TRUE(mentions(message, "read as word2vec"));
  // GloVe: the first line sets the dimensions.
  EXPECT_TRUE(mentions(load_error(dir.write("g.txt", "a 1 2 3\nb 1 2 3\nc 1 2 3 4\n")), "line 3"));
}

TEST(WordVectorsLoad, RejectsANonNumber) {
  TempDir dir;
  const std::string message = load_error(dir.write("v.txt", "2 3\nthe 0.5 -1.25 3\ncat 0.1 zero 0.2\n"));
  EXPECT_TRUE(mentions(message, "line 3"));
  EXPECT_TRUE(mentions(message, "'zero' is not a finite number"));
  EXPECT_TRUE(mentions(message, "value 2 of 'cat'"));
}

TEST(WordVectorsLoad, RejectsNanAndInfinity) {
  TempDir dir;
  for (const char* value : {"nan", "NaN", "inf", "-inf", "infinity", "1e39", "1e400", "-1e400"}) {
    const std::string text = std::string("2 2\nthe 0.5 1\ncat 1 ") + value + "\n";
    const std::string message = load_error(dir.write("v.txt", text));
    EXPECT_TRUE(mentions(message, "line 3")) << value;
    EXPECT_TRUE(mentions(message, "is not a finite number")) << value;
    const std::string glove = std::string("the 0.5 1\ncat ") + value + " 1\n";
    EXPECT_TRUE(mentions(load_error(dir.write("g.txt", glove)), "is not a finite number")) << value;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (float bad : {nan, inf, -inf}) {
    const std::string message = load_error(dir.write("v.bin", binary_file({"a", "b"}, {{1, 2}, {3, bad}}, true)));
    EXPECT_TRUE(mentions(message, "value 2 of 'b' is not a finite number"));
    EXPECT_TRUE(mentions(message, "word 2"));
  }
}

TEST(WordVectorsLoad, RejectsAHeaderPromisingMoreWordsThanTheFileHolds) {
  TempDir dir;
  const std::string message = load_error(dir.write("v.txt", "5 2\na 1 2\nb 3 4\n"));
  EXPECT_TRUE(mentions(message, "promises 5 words"));
  EXPECT_TRUE(mentions(message, "after 2"));
  EXPECT_TRUE(mentions(message, "truncated"));
}

TEST(WordVectorsLoad, RejectsLinesBeyondTheHeaderCount) {
  TempDir dir;
  const std::string message = load_error(dir.write("v.txt", "2 2\na 1 2\nb 3 4\nc 5 6\n"));
  EXPECT_TRUE(mentions(message, "line 4"));
  EXPECT_TRUE(mentions(message, "more words than the header's 2"));
  // Blank lines at the end are not words.
  EXPECT_TRUE(load(dir.write("ok.txt", "2 2\na 1 2\nb 3 4\n\n\n")).is_ok());
}

TEST(WordVectorsLoad, RejectsTruncatedBinary) {
  TempDir dir;
  const std::string whole = binary_file(kWords, kVectors, true);
  // Ends inside the last vector.
  const std::string inside = load_error(dir.write("v.bin", whole.substr(0, whole.size() - 7)));
  EXPECT_TRUE(mentions(inside, "word 3 (byte "));
  EXPECT_TRUE(mentions(inside, "ends inside the vector of 'sat'"));
  EXPECT_TRUE(mentions(inside, "truncated"));
  EXPECT_TRUE(mentions(inside, "read as word2vec-binary"));
  // Ends after a whole word: the header promises more.
  const std::string two = binary_file({kWords[0], kWords[1]}, {kVectors[0], kVectors[1]}, true, "3 3\n");
  const std::string before = load_error(dir.write("v2.bin", two));
  EXPECT_TRUE(mentions(before, "word 3"));
  EXPECT_TRUE(mentions(before, "promises 3 words"));
}

TEST(WordVectorsLoad, RejectsBinaryHeaderWithAbsurdSizes) {
  TempDir dir;
  const std::string dims = load_error(dir.write("v.bin", binary_file({"a"}, {{1, 2}}, true, "1 1000000\n")));
  EXPECT_TRUE(mentions(dims, "1000000 dimensions (expected 1 to 65536)"));
  EXPECT_TRUE(mentions(load_error(dir.write("z.bin", binary_file({"a"}, {{1, 2}}, true, "1 0\n"))), "0 dimensions"));
  // Billions of words promised, one present: an error, not a huge allocation.
  const std::string count = load_error(dir.write("c.bin", binary_file({"a"}, {{1, 2}}, true, "4000000000000 2\n")));
  EXPECT_TRUE(mentions(count, "truncated"));
}

TEST(WordVectorsLoad, RejectsAnEmptyFile) {
  TempDir dir;
  const std::string path = dir.write("empty.txt", "");
  for (auto f : {VectorFileFormat::kAuto, VectorFileFormat::kWord2VecText, VectorFileFormat::kWord2VecBinary,
                 VectorFileFormat::kGloveText, VectorFileFormat::kWinkJson}) {
    const std::string message = load_error(path, f);
    EXPECT_TRUE(mentions(message, "empty")) << vector_file_format_name(f);
  }
  // Whitespace only, or a header and nothing else.
  EXPECT_TRUE(mentions(load_error(dir.write("blank.txt", "\n\n  \n")), "no word vector"));
  EXPECT_TRUE(mentions(load_error(dir.write("h.txt", "0 4\n"), VectorFileFormat::kWord2VecText), "no word vectors"));
}

TEST(WordVectorsLoad, RejectsAMissingFile) {
  TempDir dir;
  auto r = load(dir.file("nope.txt"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(WordVectorsLoad, RejectsWinkJsonSyntaxError) {
  TempDir dir;
  std::string json = wink_file();
  json.resize(json.size() / 2);
  const std::string message = load_error(dir.write("wink.json", json));
  EXPECT_TRUE(mentions(message, "byte "));
  EXPECT_TRUE(mentions(message, "read as wink"));
  EXPECT_TRUE(
      mentions(load_error(dir.write("w2.json", R"({"dimensions": 2, "words": ["a"] "vectors": {}})")), "byte "));
}

TEST(WordVectorsLoad, RejectsWinkJsonWithWrongPosition) {
  TempDir dir;
  for (const char* position : {"2", "7", "-1"}) {
    const std::string message = load_error(dir.write("wink.json", wink_file(position)));
    EXPECT_TRUE(mentions(message, "position given for 'cat'")) << position;
  }
}

TEST(WordVectorsLoad, RejectsWinkJsonWithoutDimensionsOrWithShortVectors) {
  TempDir dir;
  EXPECT_TRUE(mentions(load_error(dir.write("a.json", R"({"words":["a"],"vectors":{"a":[1,2]}})")), "dimensions"));
  EXPECT_TRUE(
      mentions(load_error(dir.write("b.json", R"({"dimensions":3,"wordIndex":4,"words":["a"],"vectors":{"a":[1,2]}})")),
               "has 2 values, fewer than the 3 dimensions"));
  EXPECT_TRUE(
      mentions(load_error(dir.write("c.json", R"({"dimensions":2,"words":["a"],"vectors":{}})")), "no \"vectors\""));
  // 1e39 fits a double, not a float.
  EXPECT_TRUE(mentions(
      load_error(dir.write("d.json", R"({"dimensions":2,"wordIndex":3,"words":["a"],"vectors":{"a":[1,1e39,1,0]}})")),
      "not finite"));
}

// A blank line after the header is skipped when the file is read as word2vec
// text; auto-detection must then take the file for text too, not read the
// records' characters as binary floats.
TEST(WordVectorsLoad, TextWithABlankSecondLineIsDetectedAsText) {
  TempDir dir;
  const std::string path = dir.write("v.txt", "2 2\n\ncat 1.5 2.5\ndog 3.5 4.5\n");
  auto explicit_text = load(path, VectorFileFormat::kWord2VecText);
  ASSERT_TRUE(explicit_text.is_ok()) << explicit_text.status().message();
  EXPECT_EQ(explicit_text->vector(1)[1], 4.5f);
  auto v = load(path);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v->format(), VectorFileFormat::kWord2VecText);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ(v->vector(0)[0], 1.5f);
  EXPECT_EQ(v->vector(1)[1], 4.5f);
}

// A value below float's range (|x| < 2^-150) is a finite number that rounds
// to zero: word2vec.c (strtof) and gensim (numpy float32) read it as 0.
TEST(WordVectorsLoad, TextValueThatUnderflowsFloatReadsAsZero) {
  TempDir dir;
  auto v = load(dir.write("v.txt", "2 2\ncat 1 2\ndog 1e-50 -3e-60\n"));
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v->vector(1)[0], 0.0f);
  EXPECT_EQ(v->vector(1)[1], 0.0f);
}

// WordVectors::from checks what every file format needs.

TEST(WordVectorsFrom, BuildsInOrderAndFinds) {
  auto v = WordVectors::from({"b", "a", "\xE6\x97\xA5"}, {1, 2, 3, 4, 5, 6}, 2);
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v->size(), 3u);
  EXPECT_EQ(v->dims(), 2u);
  EXPECT_EQ(*v->find("a"), 1u);
  EXPECT_EQ(*v->find("\xE6\x97\xA5"), 2u);
  EXPECT_FALSE(v->find("c").has_value());
  EXPECT_EQ(v->vector(1)[0], 3.0f);
  // The index survives a move.
  WordVectors moved = std::move(*v);
  EXPECT_EQ(*moved.find("b"), 0u);
  EXPECT_EQ(moved.word(2), "\xE6\x97\xA5");
}

TEST(WordVectorsFrom, RejectsWhitespaceInAWord) {
  for (const char* word : {"a b", "a\tb", "a\nb", "a\r", "\fa", "a\vb"}) {
    auto v = WordVectors::from({"ok", word}, {1, 2}, 1);
    ASSERT_FALSE(v.is_ok()) << word;
    EXPECT_TRUE(mentions(v.status().message(), "whitespace"));
  }
}

TEST(WordVectorsFrom, RejectsAnEmptyWord) {
  auto v = WordVectors::from({"a", ""}, {1, 2}, 1);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "empty word"));
}

TEST(WordVectorsFrom, RejectsARepeatedWord) {
  auto v = WordVectors::from({"a", "b", "a"}, {1, 2, 3}, 1);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "twice"));
}

TEST(WordVectorsFrom, RejectsSizesThatDisagree) {
  auto v = WordVectors::from({"a", "b"}, {1, 2, 3}, 2);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "2 words but 3 values for 2 dimensions"));
  EXPECT_FALSE(WordVectors::from({"a"}, {}, 0).is_ok());
}

TEST(WordVectorsFrom, RejectsNonFiniteValues) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    auto v = WordVectors::from({"a", "b"}, {1, 2, 3, bad}, 2);
    ASSERT_FALSE(v.is_ok());
    EXPECT_TRUE(mentions(v.status().message(), "not finite"));
  }
}

TEST(WordVectorsFrom, RejectsInvalidUtf8) {
  auto v = WordVectors::from({"caf\xE9"}, {1}, 1);
  ASSERT_FALSE(v.is_ok());
  EXPECT_TRUE(mentions(v.status().message(), "UTF-8"));
}

}  // namespace
}  // namespace simile::words
