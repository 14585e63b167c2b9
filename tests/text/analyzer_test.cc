// The keyword-index analyzer: golden terms (English stems from Xapian, the
// rest checked by hand: tests/golden/analyzer/regen.py), spans, folding against
// utf8proc's NFKC_Casefold for every code point, CJK bigrams, invalid UTF-8,
// and the spec / JSON settings.
#include "text/analyzer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../test_env.h"
#include "text/utf8.h"

namespace simile::text {
namespace {

namespace fs = std::filesystem;

struct Term {
  std::string text;
  size_t begin;
  size_t end;
};

std::unique_ptr<Analyzer> make(std::string_view spec) {
  Result<AnalyzerSettings> settings = parse_analyzer_spec(spec);
  EXPECT_TRUE(settings.is_ok()) << spec << ": " << settings.status().message();
  if (!settings.is_ok()) return nullptr;
  Result<std::unique_ptr<Analyzer>> a = Analyzer::create(*settings);
  EXPECT_TRUE(a.is_ok()) << spec << ": " << a.status().message();
  return a.is_ok() ? std::move(a).value() : nullptr;
}

std::vector<Term> analyze(Analyzer& a, std::string_view text) {
  std::vector<Term> out;
  a.analyze(text, [&out](std::string_view t, size_t b, size_t e) { out.push_back({std::string(t), b, e}); });
  return out;
}

std::string joined(const std::vector<std::string>& terms) {
  std::string out;
  for (const std::string& t : terms) out += (out.empty() ? "" : " ") + t;
  return out;
}

// The fixture's text escapes: \xHH, \uHHHH, \UHHHHHHHH, \t, \n, \\.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i++];
      continue;
    }
    const char kind = s[i + 1];
    auto hex = [&](size_t digits) { return std::stoul(std::string(s.substr(i + 2, digits)), nullptr, 16); };
    if (kind == 'x') {
      out += static_cast<char>(hex(2));
      i += 4;
    } else if (kind == 'u' || kind == 'U') {
      const size_t digits = kind == 'u' ? 4 : 8;
      append_utf8(static_cast<char32_t>(hex(digits)), &out);
      i += 2 + digits;
    } else {
      out += kind == 't' ? '\t' : kind == 'n' ? '\n' : kind;
      i += 2;
    }
  }
  return out;
}

TEST(AnalyzerGolden, TermsMatchTheFixture) {
  const std::string path = testing::source_dir() + "/tests/golden/analyzer/golden.tsv";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::map<std::string, std::unique_ptr<Analyzer>> analyzers;
  std::string spec = "default";
  std::string line;
  int rows = 0;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.rfind("# @spec ", 0) == 0) spec = line.substr(8);
      continue;
    }
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << path << ":" << line_no << " has no tab";
    std::unique_ptr<Analyzer>& a = analyzers[spec];
    if (a == nullptr) a = make(spec);
    ASSERT_NE(a, nullptr);
    const std::string text = unescape(line.substr(0, tab));
    EXPECT_EQ(joined(a->terms(text)), line.substr(tab + 1)) << path << ":" << line_no << " (spec " << spec << ")";
    ++rows;
  }
  EXPECT_GE(rows, 40);
}

TEST(Analyzer, EmptyAndSeparatorOnlyTextHaveNoTerms) {
  auto a = make("default");
  EXPECT_TRUE(a->terms("").empty());
  EXPECT_TRUE(a->terms(" \t\n.,;'-_ ...  ''  ,,").empty());
  EXPECT_TRUE(a->terms("\u0301\u0308").empty());  // marks alone are no word
  EXPECT_TRUE(a->terms("\xF0\x9F\x98\x80 \xE2\x9D\xA4").empty());
}

TEST(Analyzer, SpansPointAtTheSourceBytes) {
  auto a = make("default");
  const std::string text = "Don\u2019t ＡＢ 2.5, 東京タ x";
  const std::vector<Term> t = analyze(*a, text);
  ASSERT_EQ(t.size(), 6u);
  auto span = [&](const Term& term) { return text.substr(term.begin, term.end - term.begin); };
  EXPECT_EQ(t[0].text, "don't");
  EXPECT_EQ(span(t[0]), "Don\u2019t");
  EXPECT_EQ(t[1].text, "ab");
  EXPECT_EQ(span(t[1]), "ＡＢ");
  EXPECT_EQ(t[2].text, "2.5");
  EXPECT_EQ(span(t[2]), "2.5");  // the comma after it is not part of it
  EXPECT_EQ(t[3].text, "東京");
  EXPECT_EQ(span(t[3]), "東京");
  EXPECT_EQ(t[4].text, "京タ");
  EXPECT_EQ(span(t[4]), "京タ");
  EXPECT_EQ(span(t[5]), "x");
}

TEST(Analyzer, TermsComeInTextOrder) {
  auto a = make("default,cjk=bigram+unigram");
  const std::vector<Term> t = analyze(*a, "abc 北京天 def");
  std::vector<std::string> texts;
  for (const Term& term : t) texts.push_back(term.text);
  EXPECT_EQ(joined(texts), "abc 北 北京 京 京天 天 def");
  for (size_t i = 1; i < t.size(); ++i) EXPECT_LE(t[i - 1].begin, t[i].begin);
}

TEST(Analyzer, KoreanQueryTermsAreAmongTheDocumentTerms) {
  for (const char* spec : {"default", "default,cjk=bigram+unigram"}) {
    auto a = make(spec);
    const std::vector<std::string> doc = a->terms("북태평양 기단과 오호츠크해 기단이");
    const std::set<std::string> doc_terms(doc.begin(), doc.end());
    const std::vector<std::string> query = a->terms("북태평양 기단");
    ASSERT_FALSE(query.empty());
    for (const std::string& q : query) EXPECT_TRUE(doc_terms.count(q)) << spec << ": " << q;
  }
}

TEST(Analyzer, SingleSyllableQueryWordNeedsUnigrams) {
  // The documented limit of bigrams: "비" alone is a unigram, the document
  // has only the bigram "비가".
  auto bigrams = make("default");
  auto both = make("default,cjk=bigram+unigram");
  const std::vector<std::string> doc = bigrams->terms("비가 온다");
  EXPECT_EQ(std::count(doc.begin(), doc.end(), "비"), 0);
  const std::vector<std::string> doc2 = both->terms("비가 온다");
  EXPECT_EQ(std::count(doc2.begin(), doc2.end(), "비"), 1);
  EXPECT_EQ(both->terms("비"), std::vector<std::string>{"비"});
}

TEST(Analyzer, KeepsHangulSyllablesAndKanaVoicingWhenFoldingAccents) {
  auto a = make("default");
  EXPECT_EQ(a->terms("が"), std::vector<std::string>{"が"});
  EXPECT_EQ(a->terms("か\u3099"), std::vector<std::string>{"が"});  // composed, not stripped
  EXPECT_EQ(a->terms("ｶﾞ"), std::vector<std::string>{"ガ"});        // half-width folds to full-width
  EXPECT_EQ(a->terms("가"), std::vector<std::string>{"가"});
  EXPECT_EQ(a->terms("\u1100\u1161"), std::vector<std::string>{"가"});  // conjoining jamo compose
  EXPECT_EQ(a->terms("パン"), std::vector<std::string>{"パン"});
}

TEST(Analyzer, DecomposedAndPrecomposedTextGiveEqualTerms) {
  for (const char* spec : {"simple", "simple,accents=keep"}) {
    auto a = make(spec);
    EXPECT_EQ(a->terms("caf\u00E9 \u1EC7 \uAC01 \u304C"),
              a->terms("cafe\u0301 e\u0323\u0302 \u1100\u1161\u11A8 \u304B\u3099"))
        << spec;
  }
  auto keep = make("simple,accents=keep");
  EXPECT_EQ(keep->terms("Caf\u00C9"), std::vector<std::string>{"caf\u00E9"});
  EXPECT_EQ(keep->terms("e\u0302\u0323"), std::vector<std::string>{"\u1EC7"});  // canonical order, then composed
}

TEST(Analyzer, DropsTermsLongerThan64CodePoints) {
  auto a = make("simple");
  const std::string ok(64, 'x');
  EXPECT_EQ(a->terms(ok + " " + std::string(65, 'y') + " z"), (std::vector<std::string>{ok, "z"}));
  std::string e64, e65;
  for (int i = 0; i < 64; ++i) e64 += "\u00E9";
  e65 = e64 + "\u00E9";
  EXPECT_EQ(a->terms(e64).size(), 1u);
  EXPECT_TRUE(a->terms(e65).empty());
  // Decomposed: 128 code points that fold to 64.
  std::string d64;
  for (int i = 0; i < 64; ++i) d64 += "e\u0301";
  EXPECT_EQ(make("simple,accents=keep")->terms(d64), std::vector<std::string>{e64});
  EXPECT_TRUE(a->terms(std::string(100000, 'q')).empty());
  std::string run;
  for (int i = 0; i < 65; ++i) run += "\u4E00";
  EXPECT_TRUE(make("default,cjk=run")->terms(run).empty());
  EXPECT_EQ(make("default")->terms(run).size(), 64u);  // bigrams are short
}

TEST(Analyzer, JoinersOnlyBetweenTheRightClasses) {
  auto a = make("simple");
  EXPECT_EQ(joined(a->terms("1.5 a.b 1'2 a'b 1,a a,1 x.5 5'x ''a a'' -1.5- 1.5.")),
            "1.5 a b 1 2 a'b 1 a a 1 x 5 5 x a a 1.5 1.5");
  EXPECT_EQ(joined(a->terms("don\u2019t don\uFF07t 1\uFF0E5")), "don't don't 1.5");  // NFKC forms join too
  EXPECT_EQ(joined(a->terms("don\u2018t")), "don t");                                // U+2018 does not
}

TEST(Analyzer, InvalidUtf8SeparatesAndNeverEscapesTheText) {
  auto a = make("default,cjk=bigram+unigram");
  std::mt19937 rng(20240601);
  // clang-format off
  const std::string alphabet[] = {
      "a", "Z", "1", ".", ",", "'", " ",                                           // ASCII
      "\xC3\xA9", "\xE3\x81\x8C", "\xEA\xB0\x80", "\xEF\xBC\xA1",                  // é が 가 Ａ
      "\xCC\x81", "\xE3\x82\x99", "\xE2\x80\x99", "\xE1\x84\x80", "\xE1\x85\xA1",  // marks, ’, jamo
      "\xC3", "\xE2\x82", "\xF0\x9F", "\x80", "\xFF", "\xED\xA0\x80",              // invalid
  };
  // clang-format on
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const int pieces = static_cast<int>(rng() % 40);
    for (int i = 0; i < pieces; ++i) {
      if (rng() % 4 == 0) {
        text += static_cast<char>(rng() & 0xFF);
      } else {
        text += alphabet[rng() % std::size(alphabet)];
      }
    }
    size_t last_begin = 0;
    for (const Term& t : analyze(*a, text)) {
      ASSERT_FALSE(t.text.empty());
      ASSERT_EQ(find_invalid_utf8(t.text), std::string_view::npos);
      ASSERT_LE(count_code_points(t.text), kMaxTermCodePoints);
      ASSERT_LT(t.begin, t.end);
      ASSERT_LE(t.end, text.size());
      ASSERT_LE(last_begin, t.begin);
      last_begin = t.begin;
    }
  }
  // Every two-byte sequence.
  for (int b0 = 0; b0 < 256; ++b0) {
    for (int b1 = 0; b1 < 256; ++b1) {
      const char s[2] = {static_cast<char>(b0), static_cast<char>(b1)};
      for (const Term& t : analyze(*a, std::string_view(s, 2))) ASSERT_LE(t.end, 2u);
    }
  }
}

// The scalar reference for the per-code-point cache and the ASCII fast path:
// a letter or digit alone is utf8proc's NFKC_Casefold of it (case folding
// alone where NFKC would bring in a separator).
TEST(Analyzer, EveryLetterAndDigitFoldsLikeUtf8proc) {
  auto a = make("simple,accents=keep,cjk=run");
  int checked = 0;
  for (int32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const utf8proc_property_t* p = utf8proc_get_property(c);
    const bool letter_or_digit = (p->category >= UTF8PROC_CATEGORY_LU && p->category <= UTF8PROC_CATEGORY_LO) ||
                                 (p->category >= UTF8PROC_CATEGORY_ND && p->category <= UTF8PROC_CATEGORY_NO);
    if (!letter_or_digit || p->ignorable) continue;
    std::string text;
    append_utf8(static_cast<char32_t>(c), &text);
    auto fold = [&](int options) {
      utf8proc_uint8_t* out = nullptr;
      const utf8proc_ssize_t n =
          utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                       static_cast<utf8proc_ssize_t>(text.size()), &out, static_cast<utf8proc_option_t>(options));
      std::string r = n >= 0 ? std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n)) : "";
      std::free(out);
      return r;
    };
    auto all_word = [](const std::string& s) {
      const auto* q = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
      for (utf8proc_ssize_t i = 0; i < static_cast<utf8proc_ssize_t>(s.size());) {
        utf8proc_int32_t cp;
        i += utf8proc_iterate(q + i, static_cast<utf8proc_ssize_t>(s.size()) - i, &cp);
        const int cat = utf8proc_category(cp);
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_NO) return false;
      }
      return true;
    };
    std::string expected = fold(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
    if (!all_word(expected)) expected = fold(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (!all_word(expected)) expected = text;
    utf8proc_int32_t first;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(expected.data()),
                     static_cast<utf8proc_ssize_t>(expected.size()), &first);
    const int first_cat = utf8proc_category(first);
    if (first_cat >= UTF8PROC_CATEGORY_MN && first_cat <= UTF8PROC_CATEGORY_ME) continue;  // ﾞ: a voicing mark
    const std::vector<std::string> terms = a->terms(text);
    ASSERT_EQ(terms.size(), 1u) << "U+" << std::hex << c;
    ASSERT_EQ(terms[0], expected) << "U+" << std::hex << c;
    ++checked;
  }
  EXPECT_GT(checked, 100000);
}

TEST(Analyzer, CacheEvictionDoesNotChangeTerms) {
  // Thousands of distinct code points through the direct-mapped cache: as one
  // text, and one at a time in reverse order on another analyzer, whose cache
  // then holds different code points at every step.
  auto whole = make("simple");
  auto one_by_one = make("simple");
  std::vector<std::string> chars;
  for (char32_t c = 0x80; c < 0x3400; ++c) {
    std::string s = "x";
    append_utf8(c, &s);
    chars.push_back(s);
  }
  std::string text;
  for (const std::string& s : chars) text += s + " ";
  std::vector<std::vector<std::string>> pieces(chars.size());
  for (size_t i = chars.size(); i-- > 0;) pieces[i] = one_by_one->terms(chars[i]);
  std::vector<std::string> expected;
  for (const auto& p : pieces) expected.insert(expected.end(), p.begin(), p.end());
  EXPECT_EQ(whole->terms(text), expected);
  EXPECT_EQ(whole->terms(text), expected);  // again, on a warm cache
}

TEST(Analyzer, StopWordsAreFoldedAndRemovedBeforeStemming) {
  AnalyzerSettings s;
  s.stop_words = {"THE", "Über", "running", "的"};
  auto a = std::move(Analyzer::create(s)).value();
  // "running" is a stop word; "runs" still stems to "run".
  EXPECT_EQ(joined(a->terms("The über runner running runs uber 的 我的")), "runner run 我的");
  EXPECT_EQ(joined(make("english")->terms("The cat is on the mat, not in it")), "cat mat not");
}

TEST(Analyzer, StopWordThatIsNotOneTermIsAnError) {
  AnalyzerSettings s;
  s.stop_words = {"e.g."};
  Result<std::unique_ptr<Analyzer>> a = Analyzer::create(s);
  ASSERT_FALSE(a.is_ok());
  EXPECT_NE(a.status().message().find("e.g."), std::string::npos) << a.status().message();
  s.stop_words = {"---"};
  EXPECT_FALSE(Analyzer::create(s).is_ok());
}

TEST(Analyzer, OtherSnowballStemmers) {
  EXPECT_EQ(joined(make("german")->terms("Häuser Katzen")),
            joined(make("simple,stemmer=german")->terms("Häuser Katzen")));
  EXPECT_NE(joined(make("german")->terms("Katzen")), joined(make("default")->terms("Katzen")));
  EXPECT_EQ(joined(make("simple")->terms("Running Dogs")), "running dogs");
  EXPECT_EQ(joined(make("french")->terms("continuellement")), "continuel");
}

// ---------------------------------------------------------------------------
// Specs.

Status spec_error(std::string_view spec) {
  Result<AnalyzerSettings> r = parse_analyzer_spec(spec);
  return r.is_ok() ? Status::ok() : r.status();
}

TEST(AnalyzerSpec, Presets) {
  AnalyzerSettings d = *parse_analyzer_spec("default");
  EXPECT_EQ(d.stemmer, "english");
  EXPECT_TRUE(d.stop_words.empty());
  EXPECT_TRUE(d.fold_accents);
  EXPECT_EQ(d.cjk, AnalyzerSettings::Cjk::kBigrams);
  EXPECT_EQ(analyzer_to_json(d), analyzer_to_json(AnalyzerSettings()));

  AnalyzerSettings e = *parse_analyzer_spec(" English ");
  EXPECT_EQ(e.stemmer, "english");
  EXPECT_EQ(e.stop_words, english_stop_words());
  EXPECT_GE(e.stop_words.size(), 30u);
  EXPECT_LE(e.stop_words.size(), 40u);

  AnalyzerSettings s = *parse_analyzer_spec("simple");
  EXPECT_EQ(s.stemmer, "none");
  EXPECT_TRUE(s.stop_words.empty());

  EXPECT_EQ(parse_analyzer_spec("german")->stemmer, "german");
  EXPECT_EQ(parse_analyzer_spec("porter")->stemmer, "porter");
}

TEST(AnalyzerSpec, Overrides) {
  AnalyzerSettings s = *parse_analyzer_spec("english,stemmer=none");
  EXPECT_EQ(s.stemmer, "none");
  EXPECT_EQ(s.stop_words, english_stop_words());

  s = *parse_analyzer_spec("stemmer=german, accents=keep ,cjk=bigram+unigram");
  EXPECT_EQ(s.stemmer, "german");
  EXPECT_FALSE(s.fold_accents);
  EXPECT_EQ(s.cjk, AnalyzerSettings::Cjk::kBigramsAndUnigrams);
  EXPECT_TRUE(s.stop_words.empty());

  s = *parse_analyzer_spec("english,stopwords=none,cjk=run,accents=fold");
  EXPECT_TRUE(s.stop_words.empty());
  EXPECT_EQ(s.cjk, AnalyzerSettings::Cjk::kRuns);
  EXPECT_EQ(parse_analyzer_spec("simple,stopwords=english")->stop_words, english_stop_words());
}

TEST(AnalyzerSpec, ErrorsNameTheMistake) {
  auto expect_error = [](std::string_view spec, std::string_view needle) {
    const Status st = spec_error(spec);
    EXPECT_FALSE(st.is_ok()) << spec;
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << spec;
    EXPECT_NE(st.message().find(needle), std::string::npos) << spec << " -> " << st.message();
  };
  expect_error("", "empty");
  expect_error("  ", "empty");
  expect_error("klingon", "unknown analyzer preset \"klingon\"");
  expect_error("klingon", "german");  // lists what is known
  expect_error("default,stemmer=klingon", "unknown stemmer \"klingon\"");
  expect_error("default,stemmer=", "unknown stemmer \"\"");
  expect_error("default,colour=red", "unknown setting \"colour\"");
  expect_error("default,accents=strip", "use fold or keep");
  expect_error("default,cjk=trigram", "use bigram, bigram+unigram or run");
  expect_error("default,stopwords=french", "use none, english or @FILE");
  expect_error("default,stopwords=@", "use none, english or @FILE");
  expect_error("default,,cjk=run", "empty item");
  expect_error("default,", "empty item");
  expect_error("stemmer=none,english", "a preset can only come first");
  expect_error("default,cjk=run,cjk=bigram", "sets cjk twice");
  const Status missing = spec_error("default,stopwords=@/nonexistent/simile-stop.txt");
  EXPECT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("/nonexistent/simile-stop.txt"), std::string::npos) << missing.message();
}

class StopWordFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "simile-analyzer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST_F(StopWordFile, OneWordPerLineWithComments) {
  const std::string path =
      write("de.txt", "\xEF\xBB\xBF# German stop words\nder\r\n  die  \n\ndas # article\n#und\nÜber\n");
  Result<AnalyzerSettings> s = parse_analyzer_spec("stemmer=german,stopwords=@" + path);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->stemmer, "german");
  EXPECT_EQ(s->stop_words, (std::vector<std::string>{"der", "die", "das", "Über"}));
  auto a = std::move(Analyzer::create(*s)).value();
  EXPECT_EQ(joined(a->terms("Der Hund und die Katze über das Haus")), "hund und katz haus");
  // The JSON carries the words, not the file name.
  const std::string json = analyzer_to_json(*s);
  EXPECT_EQ(json.find(path), std::string::npos);
  EXPECT_NE(json.find("\"der\""), std::string::npos);
}

TEST_F(StopWordFile, BadLinesAreErrorsWithTheLineNumber) {
  const std::string spaced = write("spaced.txt", "a\nthe end\n");
  Status st = spec_error("default,stopwords=@" + spaced);
  EXPECT_NE(st.message().find(spaced + ":2"), std::string::npos) << st.message();
  const std::string invalid = write("invalid.txt", "ok\n\xFF\n");
  st = spec_error("default,stopwords=@" + invalid);
  EXPECT_NE(st.message().find("invalid UTF-8"), std::string::npos) << st.message();
}

TEST(AnalyzerJson, RoundTripsAndIsCanonical) {
  std::vector<AnalyzerSettings> cases;
  cases.push_back(AnalyzerSettings());
  cases.push_back(*parse_analyzer_spec("english"));
  cases.push_back(*parse_analyzer_spec("simple,accents=keep,cjk=run"));
  AnalyzerSettings odd;
  odd.stemmer = "russian";
  odd.stop_words = {"и", "в", "\"quoted\"", "в", "back\\slash"};
  odd.cjk = AnalyzerSettings::Cjk::kBigramsAndUnigrams;
  cases.push_back(odd);
  for (const AnalyzerSettings& s : cases) {
    const std::string json = analyzer_to_json(s);
    Result<AnalyzerSettings> back = parse_analyzer_spec(json);
    ASSERT_TRUE(back.is_ok()) << json << ": " << back.status().message();
    EXPECT_EQ(back->stemmer, s.stemmer);
    EXPECT_EQ(back->fold_accents, s.fold_accents);
    EXPECT_EQ(back->cjk, s.cjk);
    EXPECT_EQ(analyzer_to_json(*back), json);
    EXPECT_EQ(describe_analyzer(*back), describe_analyzer(s));
  }
  EXPECT_EQ(analyzer_to_json(AnalyzerSettings()),
            R"({"accents":"fold","cjk":"bigram","stemmer":"english","stop_words":[],"version":1})");
  // Stop words are sorted and deduplicated: the order they came in does not matter.
  AnalyzerSettings a, b;
  a.stop_words = {"b", "a", "b"};
  b.stop_words = {"a", "b"};
  EXPECT_EQ(analyzer_to_json(a), analyzer_to_json(b));
  EXPECT_NE(analyzer_to_json(odd).find("\"\\\"quoted\\\"\""), std::string::npos);
}

TEST(AnalyzerJson, Errors) {
  EXPECT_EQ(spec_error("{").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"stemmer\":\"english\",\"colour\":1}").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"stemmer\":3}").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"stemmer\":\"klingon\"}").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"stop_words\":[1]}").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"cjk\":\"none\"}").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(spec_error("{\"version\":0}").code(), Status::Code::kInvalidArgument);
  const Status newer = spec_error("{\"version\":2}");
  EXPECT_EQ(newer.code(), Status::Code::kUnsupported);
  EXPECT_NE(newer.message().find("newer"), std::string::npos);
  // Missing keys take the default analyzer's values.
  Result<AnalyzerSettings> partial = parse_analyzer_spec("{\"cjk\":\"run\"}");
  ASSERT_TRUE(partial.is_ok());
  EXPECT_EQ(partial->stemmer, "english");
  EXPECT_EQ(partial->cjk, AnalyzerSettings::Cjk::kRuns);
}

TEST(AnalyzerDescribe, OneShortLine) {
  EXPECT_EQ(describe_analyzer(AnalyzerSettings()), "stemmer=english stopwords=none accents=fold cjk=bigram");
  EXPECT_EQ(
      describe_analyzer(*parse_analyzer_spec("english,accents=keep,cjk=bigram+unigram")),
      "stemmer=english stopwords=" + std::to_string(english_stop_words().size()) + " accents=keep cjk=bigram+unigram");
  EXPECT_EQ(describe_analyzer(*parse_analyzer_spec("simple,cjk=run")),
            "stemmer=none stopwords=none accents=fold cjk=run");
}

TEST(Analyzer, CreateRejectsAnUnknownStemmer) {
  AnalyzerSettings s;
  s.stemmer = "klingon";
  Result<std::unique_ptr<Analyzer>> a = Analyzer::create(s);
  ASSERT_FALSE(a.is_ok());
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("english"), std::string::npos);
}

}  // namespace
}  // namespace simile::text
