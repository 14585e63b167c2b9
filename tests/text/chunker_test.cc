// chunk_text with the real all-MiniLM-L6-v2 tokenizer: where it cuts, and the
// invariants every chunking must keep (each chunk re-encodes within the
// budget, spans trimmed and ordered, all text covered, char offsets right).
#include "text/chunker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "../test_env.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace simile::text {
namespace {

const Tokenizer& minilm() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    auto t = Tokenizer::from_file(testing::shared_dir() + "/tokenizers/all-MiniLM-L6-v2/tokenizer.json");
    if (!t.is_ok()) {
      ADD_FAILURE() << t.status().message();
      std::abort();
    }
    std::unique_ptr<Tokenizer> p = std::move(t).value();
    p->set_truncation(std::nullopt);
    p->set_padding(std::nullopt);
    return p;
  }();
  return *tok;
}

size_t encoded_size(std::string_view s) {
  auto e = minilm().encode(s, false);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? e->size() : 0;
}

std::vector<Chunk> chunk(std::string_view text, size_t max_tokens, size_t overlap = 0) {
  auto r = chunk_text(text, minilm(), {max_tokens, overlap});
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : std::vector<Chunk>();
}

std::string_view span(std::string_view text, const Chunk& c) {
  return text.substr(c.byte_begin, c.byte_end - c.byte_begin);
}

bool is_space_byte_at(std::string_view s, size_t pos) {
  return is_white_space(decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + pos, s.size() - pos).cp);
}

bool is_space_before(std::string_view s, size_t pos) {
  size_t b = pos - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  return is_space_byte_at(s, b);
}

// Every promise of chunker.h, checked on one result.
void expect_invariants(std::string_view text, const std::vector<Chunk>& chunks, size_t max_tokens, size_t overlap) {
  SCOPED_TRACE("max_tokens " + std::to_string(max_tokens) + " overlap " + std::to_string(overlap));
  for (size_t k = 0; k < chunks.size(); ++k) {
    const Chunk& c = chunks[k];
    SCOPED_TRACE("chunk " + std::to_string(k));
    ASSERT_LT(c.byte_begin, c.byte_end);
    ASSERT_LE(c.byte_end, text.size());
    const std::string_view s = span(text, c);
    // Whole characters, no surrounding whitespace.
    EXPECT_NE(static_cast<unsigned char>(s.front()) & 0xC0, 0x80);
    EXPECT_TRUE(c.byte_end == text.size() || (static_cast<unsigned char>(text[c.byte_end]) & 0xC0) != 0x80);
    EXPECT_FALSE(is_space_byte_at(text, c.byte_begin));
    EXPECT_FALSE(is_space_before(text, c.byte_end));
    // The budget, re-encoded alone (a lone character may exceed it).
    const size_t n = encoded_size(s);
    EXPECT_EQ(c.tokens, n);
    if (count_code_points(s) > 1) {
      EXPECT_LE(n, max_tokens) << "chunk: " << s;
    }
    // Char offsets.
    EXPECT_EQ(c.char_begin, count_code_points(text.substr(0, c.byte_begin)));
    EXPECT_EQ(c.char_end - c.char_begin, count_code_points(s));
    if (k > 0) {
      EXPECT_GT(c.byte_begin, chunks[k - 1].byte_begin);
      EXPECT_GT(c.byte_end, chunks[k - 1].byte_end);
      if (overlap == 0) {
        EXPECT_GE(c.byte_begin, chunks[k - 1].byte_end);
      }
    }
  }
  // Coverage: every non-whitespace character lies in some chunk.
  size_t k = 0;
  for (size_t p = 0; p < text.size(); ++p) {
    if ((static_cast<unsigned char>(text[p]) & 0xC0) == 0x80 || is_space_byte_at(text, p)) continue;
    while (k < chunks.size() && chunks[k].byte_end <= p) ++k;
    ASSERT_TRUE(k < chunks.size() && chunks[k].byte_begin <= p) << "byte " << p << " is in no chunk";
  }
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// English sentences of 8-20 words from a small vocabulary.
std::string sentence(std::mt19937& rng) {
  static const char* const kWords[] = {
      "search",    "engine",  "vector",      "meaning",   "document",     "the",
      "a",         "of",      "quickly",     "retrieval", "embedding",    "model",
      "tokenizer", "chunk",   "semantic",    "index",     "query",        "paragraph",
      "with",      "and",     "transformer", "attention", "unbelievable", "internationalization",
      "data",      "results", "ranked",      "by"};
  std::uniform_int_distribution<int> len(8, 20), word(0, std::size(kWords) - 1);
  std::string s;
  const int n = len(rng);
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ' ';
    std::string w = kWords[word(rng)];
    if (i == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
    s += w;
  }
  return s + ".";
}

TEST(ChunkerTest, ShortTextIsOneTrimmedChunk) {
  const std::string text = "  \n Hello, world! This is simile.\t\n ";
  std::vector<Chunk> chunks = chunk(text, 254);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(span(text, chunks[0]), "Hello, world! This is simile.");
  EXPECT_EQ(chunks[0].byte_begin, 4u);
  EXPECT_EQ(chunks[0].char_begin, 4u);
  EXPECT_EQ(chunks[0].tokens, encoded_size("Hello, world! This is simile."));
  expect_invariants(text, chunks, 254, 0);
}

TEST(ChunkerTest, ExactlyFullTextIsOneChunk) {
  const std::string text = "one two three four five";
  ASSERT_EQ(encoded_size(text), 5u);
  EXPECT_EQ(chunk(text, 5).size(), 1u);
  std::vector<Chunk> chunks = chunk(text, 4);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(span(text, chunks[0]), "one two three four");
  EXPECT_EQ(span(text, chunks[1]), "five");
}

TEST(ChunkerTest, EmptyAndWhitespaceGiveNoChunks) {
  EXPECT_TRUE(chunk("", 10).empty());
  EXPECT_TRUE(chunk(" \n\t\r\n  ", 10).empty());
  EXPECT_TRUE(chunk("\xE3\x80\x80\xC2\xA0", 10).empty());  // ideographic space, no-break space
}

TEST(ChunkerTest, TextTheTokenizerDropsIsStillOneChunk) {
  const std::string text = " \x01\x02 ";
  std::vector<Chunk> chunks = chunk(text, 10);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(span(text, chunks[0]), "\x01\x02");
  EXPECT_EQ(chunks[0].tokens, 0u);
}

TEST(ChunkerTest, RejectsBadArguments) {
  auto with_truncation = Tokenizer::from_file(testing::shared_dir() + "/tokenizers/all-MiniLM-L6-v2/tokenizer.json");
  ASSERT_TRUE(with_truncation.is_ok());
  ASSERT_TRUE((*with_truncation)->truncation().has_value());  // the file sets 128
  auto r = chunk_text("some text", **with_truncation, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("truncat"), std::string::npos) << r.status().message();

  r = chunk_text("some text", minilm(), {10, 10});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("overlap"), std::string::npos);
  r = chunk_text("some text", minilm(), {0, 0});
  EXPECT_FALSE(r.is_ok());
  r = chunk_text("good \xC3\x28 bad", minilm(), {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("byte offset 5"), std::string::npos) << r.status().message();
}

TEST(ChunkerTest, PaddingIsNotCounted) {
  auto t = Tokenizer::from_file(testing::shared_dir() + "/tokenizers/all-MiniLM-L6-v2/tokenizer.json");
  ASSERT_TRUE(t.is_ok());
  (*t)->set_truncation(std::nullopt);  // padding stays at the file's fixed 128
  auto r = chunk_text("one two three four five six", **t, {4, 0});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].tokens, 4u);
  EXPECT_EQ((*r)[1].tokens, 2u);
}

TEST(ChunkerTest, MarkdownCutsBeforeHeadings) {
  std::mt19937 rng(7);
  std::string doc = "# Guide\n\n";
  std::vector<size_t> heading_at;
  for (int sec = 0; sec < 12; ++sec) {
    heading_at.push_back(doc.size());
    doc += "## Section " + std::to_string(sec) + "\n\n";
    const int paragraphs = 1 + sec % 2;
    for (int p = 0; p < paragraphs; ++p) doc += sentence(rng) + "\n\n";
  }
  const size_t max = 120;
  std::vector<Chunk> chunks = chunk(doc, max);
  expect_invariants(doc, chunks, max, 0);
  ASSERT_GT(chunks.size(), 3u);
  // Sections are 12..60 tokens: every chunk should start at a heading.
  for (const Chunk& c : chunks) {
    EXPECT_EQ(doc[c.byte_begin], '#') << span(doc, c).substr(0, 40);
  }
}

TEST(ChunkerTest, ParagraphsBeforeSentencesBeforeWords) {
  std::mt19937 rng(11);
  std::vector<std::string> paragraphs;
  std::string doc;
  for (int p = 0; p < 20; ++p) {
    std::string para = sentence(rng);
    while (encoded_size(para) < 33) {
      para += ' ';
      para += sentence(rng);
    }
    if (encoded_size(para) > 50) continue;
    paragraphs.push_back(para);
    doc += para + "\n\n";
  }
  // Each paragraph fills 33..50 of 64 tokens (two never fit): the blank line
  // always wins.
  std::vector<Chunk> chunks = chunk(doc, 64);
  expect_invariants(doc, chunks, 64, 0);
  ASSERT_EQ(chunks.size(), paragraphs.size());
  for (size_t k = 0; k < chunks.size(); ++k) EXPECT_EQ(span(doc, chunks[k]), paragraphs[k]);

  // One long paragraph: cuts fall at sentence ends.
  std::string para;
  for (int i = 0; i < 40; ++i) para += sentence(rng) + " ";
  chunks = chunk(para, 64);
  expect_invariants(para, chunks, 64, 0);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t k = 0; k + 1 < chunks.size(); ++k) {
    EXPECT_EQ(para[chunks[k].byte_end - 1], '.') << span(para, chunks[k]);
    EXPECT_GE(chunks[k].tokens, 64u * 6 / 10);
  }

  // A paragraph break that would leave the chunk a third full loses to a
  // later sentence end.
  const std::string short_para = "Tiny intro here.\n\n";
  std::string text = short_para;
  for (int i = 0; i < 10; ++i) text += sentence(rng) + " ";
  chunks = chunk(text, 64);
  ASSERT_GT(chunks.size(), 1u);
  EXPECT_GT(chunks[0].byte_end, short_para.size());
  EXPECT_EQ(text[chunks[0].byte_end - 1], '.');
}

TEST(ChunkerTest, LineBreaksBeatSentences) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "- item number " + std::to_string(i) + " is here. It has two sentences\n";
  std::vector<Chunk> chunks = chunk(text, 40);
  expect_invariants(text, chunks, 40, 0);
  for (const Chunk& c : chunks) {
    EXPECT_EQ(text[c.byte_begin], '-');
    EXPECT_TRUE(c.byte_end == text.size() || text[c.byte_end] == '\n');
  }
}

TEST(ChunkerTest, WrappedProseIsCutAtSentencesNotAtLineEnds) {
  std::mt19937 rng(23);
  std::string prose;
  for (int i = 0; i < 40; ++i) {
    prose += sentence(rng);
    prose += ' ';
  }
  // Wrap at 60 columns, as hard-wrapped markdown and plain-text email are.
  std::string wrapped;
  size_t column = 0;
  for (size_t p = 0; p < prose.size();) {
    size_t end = prose.find(' ', p);
    if (end == std::string::npos) end = prose.size();
    const std::string word = prose.substr(p, end - p);
    if (column > 0 && column + 1 + word.size() > 60) {
      wrapped += '\n';
      column = 0;
    } else if (column > 0) {
      wrapped += ' ';
      ++column;
    }
    wrapped += word;
    column += word.size();
    p = end + 1;
  }
  std::vector<Chunk> chunks = chunk(wrapped, 64);
  expect_invariants(wrapped, chunks, 64, 0);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t k = 0; k + 1 < chunks.size(); ++k) EXPECT_EQ(wrapped[chunks[k].byte_end - 1], '.') << k;

  // Lines without sentence marks (logs, lists of names) are cut between lines.
  std::string log;
  for (int i = 0; i < 200; ++i)
    log += "2024-06-11 12:00:" + std::to_string(10 + i % 50) + " worker " + std::to_string(i) + " started\n";
  chunks = chunk(log, 64);
  expect_invariants(log, chunks, 64, 0);
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.byte_begin == 0 || log[c.byte_begin - 1] == '\n');
    EXPECT_TRUE(c.byte_end == log.size() - 1 || log[c.byte_end] == '\n');
  }
}

TEST(ChunkerTest, WordsAreNotSplitWhenAvoidable) {
  std::mt19937 rng(5);
  std::string text;
  for (int i = 0; i < 60; ++i) text += "internationalization unbelievable transformers ";
  // No punctuation at all: every cut must fall between words.
  std::vector<Chunk> chunks = chunk(text, 25);
  expect_invariants(text, chunks, 25, 0);
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.byte_end == text.size() || text[c.byte_end] == ' ');
    EXPECT_TRUE(c.byte_begin == 0 || text[c.byte_begin - 1] == ' ');
  }
}

TEST(ChunkerTest, GiantWordIsCutBetweenItsPieces) {
  std::mt19937 rng(3);
  std::string word;
  std::uniform_int_distribution<int> letter(0, 25);
  // WordPiece turns a word over 100 characters into one [UNK]: stay below.
  for (int i = 0; i < 100; ++i) word += static_cast<char>('a' + letter(rng));
  ASSERT_GT(encoded_size(word), 32u);
  const std::string text = "A short intro. " + word + " and a short outro.";
  std::vector<Chunk> chunks = chunk(text, 16);
  expect_invariants(text, chunks, 16, 0);
  ASSERT_GT(chunks.size(), 2u);
  // The intro (4 tokens) is not left as a tiny chunk of its own: the word's
  // first pieces fill the chunk.
  EXPECT_EQ(span(text, chunks[0]).substr(0, 20), text.substr(0, 20));
  for (size_t k = 0; k + 1 < chunks.size(); ++k) EXPECT_GE(chunks[k].tokens, 12u) << k;
  // A word of 1000 letters is a single [UNK] token: it fits whole.
  std::string huge(1000, 'q');
  EXPECT_EQ(chunk("before " + huge + " after", 16).size(), 1u);
  EXPECT_EQ(span(text, chunks.back()).substr(span(text, chunks.back()).size() - 6), "outro.");
}

TEST(ChunkerTest, TinyBudgetsStillHoldTheInvariant) {
  const std::string text = "unaffable supercalifragilisticexpialidocious 😀👨‍👩‍👧 naïve 東京タワー";
  for (size_t max : {1, 2, 3}) {
    std::vector<Chunk> chunks = chunk(text, max);
    expect_invariants(text, chunks, max, 0);
  }
}

TEST(ChunkerTest, ChineseWithoutSpacesCutsAtPunctuation) {
  const std::string sentences[] = {"今天天气很好，我们去公园散步。", "搜索引擎根据意思找到相关的文档！",
                                   "这个句子比较长一些，因为它有更多的汉字和标点符号。", "你好吗？",
                                   "向量检索需要把文本切成小块。"};
  std::string text;
  for (int i = 0; i < 20; ++i) text += sentences[i % 5];
  std::vector<Chunk> chunks = chunk(text, 40);
  expect_invariants(text, chunks, 40, 0);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t k = 0; k + 1 < chunks.size(); ++k) {
    const std::string_view s = span(text, chunks[k]);
    const std::string_view last = s.substr(s.size() - 3);
    EXPECT_TRUE(last == "。" || last == "！" || last == "？" || last == "，") << s;
  }
}

TEST(ChunkerTest, JapaneseAndKoreanHoldTheInvariant) {
  const std::string text = repeat("東京は日本の首都です。ひらがなとカタカナも使います。한국어 문장도 있습니다. ", 30);
  for (size_t max : {8, 16, 50}) {
    std::vector<Chunk> chunks = chunk(text, max);
    expect_invariants(text, chunks, max, 0);
  }
}

TEST(ChunkerTest, EmojiSequencesStayWhole) {
  const std::string family = "👨‍👩‍👧‍👦";
  const std::string text = repeat("Party time " + family + "👍🏽🇯🇵 ok ", 40) + repeat("😀", 200);
  for (size_t max : {5, 8, 20}) {
    std::vector<Chunk> chunks = chunk(text, max);
    expect_invariants(text, chunks, max, 0);
    for (const Chunk& c : chunks) {
      // Never next to a zero-width joiner or a skin-tone modifier.
      const std::string_view s = span(text, c);
      EXPECT_NE(s.substr(0, 3), "\xE2\x80\x8D");
      EXPECT_NE(s.substr(s.size() - 3), "\xE2\x80\x8D");
      EXPECT_NE(s.substr(0, 3), "\xF0\x9F\x8F");
    }
  }
}

TEST(ChunkerTest, OverlapStartsAtAWordBeforeThePreviousEnd) {
  std::mt19937 rng(19);
  std::string text;
  for (int i = 0; i < 50; ++i) text += sentence(rng) + (i % 4 == 3 ? "\n\n" : " ");
  const size_t max = 60, overlap = 15;
  std::vector<Chunk> chunks = chunk(text, max, overlap);
  expect_invariants(text, chunks, max, overlap);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t k = 1; k < chunks.size(); ++k) {
    const Chunk& prev = chunks[k - 1];
    const Chunk& c = chunks[k];
    EXPECT_LT(c.byte_begin, prev.byte_end) << "chunk " << k << " does not overlap";
    EXPECT_TRUE(text[c.byte_begin - 1] == ' ' || text[c.byte_begin - 1] == '\n');
    const size_t shared = encoded_size(text.substr(c.byte_begin, prev.byte_end - c.byte_begin));
    EXPECT_LE(shared, overlap + 2);
    EXPECT_GE(shared, overlap / 2 - 1);
  }
  // Without overlap the same text makes fewer chunks.
  EXPECT_LT(chunk(text, max).size(), chunks.size());
}

TEST(ChunkerTest, OverlapAlwaysMakesProgress) {
  std::string word(2000, 'x');
  const std::string text = "alpha beta gamma " + word + " delta " + repeat("epsilon ", 300);
  for (auto [max, overlap] : {std::pair<size_t, size_t>{2, 1}, {10, 9}, {64, 63}, {16, 4}}) {
    std::vector<Chunk> chunks = chunk(text, max, overlap);
    expect_invariants(text, chunks, max, overlap);
    ASSERT_FALSE(chunks.empty());
    EXPECT_EQ(chunks.back().byte_end, text.size() - 1);
  }
}

// Random texts mixing every kind of boundary and script, many budgets.
TEST(ChunkerTest, InvariantsHoldOnRandomTexts) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> pieces = {"the",
                                           "search",
                                           "Engine",
                                           "retrieval",
                                           "embeddings",
                                           "naïve",
                                           "café",
                                           "Ωmega",
                                           "straße",
                                           "İstanbul",
                                           "东京",
                                           "大学生",
                                           "ひらがな",
                                           "カタカナ",
                                           "한국어",
                                           "😀",
                                           "👨‍👩‍👧",
                                           "👍🏽",
                                           "e\u0301",
                                           "x²",
                                           "3.14",
                                           "U.S.A.",
                                           "e.g.",
                                           "http://example.com/a_b?c=d",
                                           "don't",
                                           "«quoted»",
                                           "“curly”",
                                           "(paren)",
                                           "supercalifragilisticexpialidocious",
                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                           "#",
                                           "##",
                                           "###",
                                           "-",
                                           "*",
                                           "—",
                                           "…",
                                           "\x01",
                                           "[CLS]",
                                           "[MASK]"};
  const std::vector<std::string> seps = {" ",    " ",  " ",  " ",  "  ",   ". ",     "! ",
                                         "? ",   ", ", "; ", "\n", "\n\n", "\n# ",   "\n## ",
                                         "\r\n", "\t", "",   "。", "、",   "\u00A0", "\u3000"};
  std::uniform_int_distribution<size_t> pick_piece(0, pieces.size() - 1), pick_sep(0, seps.size() - 1);
  std::uniform_int_distribution<int> length(0, 400);
  const size_t budgets[] = {1, 2, 3, 5, 8, 16, 33, 64, 254};
  for (int round = 0; round < 120; ++round) {
    std::string text;
    const int n = length(rng);
    for (int i = 0; i < n; ++i) text += pieces[pick_piece(rng)] + seps[pick_sep(rng)];
    const size_t max = budgets[round % std::size(budgets)];
    const size_t overlap = round % 3 == 0 ? max / 3 : 0;
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Chunk> chunks = chunk(text, max, overlap);
    expect_invariants(text, chunks, max, overlap);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST(ChunkerTest, OneMegabyteChunksQuickly) {
  std::mt19937 rng(1);
  std::string text;
  while (text.size() < (1u << 20)) {
    if (rng() % 8 == 0) text += "## Heading\n\n";
    text += sentence(rng);
    text += rng() % 5 == 0 ? "\n\n" : " ";
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<Chunk> chunks = chunk(text, 254);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("chunked %zu bytes into %zu chunks in %.3f s\n", text.size(), chunks.size(), seconds);
  ASSERT_GT(chunks.size(), 500u);
  if (!kSanitized) {
    EXPECT_LT(seconds, 1.0);
  }
  size_t total = 0;
  for (const Chunk& c : chunks) total += c.byte_end - c.byte_begin;
  EXPECT_GT(total, text.size() * 9 / 10);
}

}  // namespace
}  // namespace simile::text
