// The prompt of `simile ask`: numbered sources, templates, the token budget
// (counted with the default model's real tokenizer), and reading citations.
#include "search/rag_prompt.h"

#include <gtest/gtest.h>

#include "../test_env.h"

namespace simile::search {
namespace {

class RagPromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = Tokenizer::from_file(simile::testing::default_model_dir() + "/tokenizer.json");
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    counter_ = std::move(t).value();
    counter_->set_truncation(std::nullopt);
    counter_->set_padding(std::nullopt);
    const char* texts[] = {
        "An aircraft wing produces lift because air flows faster over its curved upper surface.",
        "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards.",
        "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven.",
        "Cats sleep most of the day and hunt small animals at dawn and dusk.",
        "The Moon orbits the Earth every 27 days and causes the ocean tides.",
    };
    size_t n = 0;
    for (const char* t : texts) {
      SearchHit h;
      h.id = "doc" + std::to_string(++n);
      h.title = n == 2 ? "" : "Title " + std::to_string(n);
      // Three times over: long enough that a cut one still fits a few tokens.
      h.chunk = std::string(t) + " " + t + " " + t;
      h.chunk_begin = 10 * n;
      h.chunk_end = 10 * n + h.chunk.size();
      h.score = 1.0f / static_cast<float>(n);
      hits_.push_back(h);
    }
  }

  size_t tokens(const std::string& text) const { return counter_->encode(text, false)->size(); }

  std::unique_ptr<Tokenizer> counter_;
  std::vector<SearchHit> hits_;
};

TEST_F(RagPromptTest, SourcesAreNumberedBestFirstWithTheirSpans) {
  auto p = build_rag_prompt("How do planes fly?", hits_, kDefaultRagTemplate, 3000, *counter_);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  ASSERT_EQ(p->sources.size(), 5u);
  EXPECT_EQ(p->left_out, 0u);
  EXPECT_NE(p->text.find("[1] Title 1 (id: doc1, characters 10-"), std::string::npos) << p->text;
  // A document without a title shows its id.
  EXPECT_NE(p->text.find("[2] doc2 (characters 20-"), std::string::npos) << p->text;
  EXPECT_LT(p->text.find("[1] "), p->text.find("[5] "));
  EXPECT_NE(p->text.find("\nAn aircraft wing produces lift"), std::string::npos);
  EXPECT_NE(p->text.find("Question: How do planes fly?\nAnswer:"), std::string::npos);
  EXPECT_EQ(p->tokens, tokens(p->text));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(p->sources[i].number, i + 1);
    EXPECT_EQ(p->sources[i].text, hits_[i].chunk);
    EXPECT_FALSE(p->sources[i].truncated);
  }
}

TEST_F(RagPromptTest, EveryBudgetIsKept) {
  size_t last_sources = 0;
  bool saw_cut = false;
  for (size_t budget = 70; budget <= 500; budget += 3) {
    auto p = build_rag_prompt("How do planes fly?", hits_, kDefaultRagTemplate, budget, *counter_);
    ASSERT_TRUE(p.is_ok()) << budget << ": " << p.status().message();
    EXPECT_LE(p->tokens, budget) << p->text;
    EXPECT_EQ(p->sources.size() + p->left_out, hits_.size());
    EXPECT_GE(p->sources.size(), last_sources) << "a larger budget gave fewer sources";
    last_sources = p->sources.size();
    for (size_t i = 0; i < p->sources.size(); ++i) {
      const PromptSource& s = p->sources[i];
      if (s.truncated) {
        saw_cut = true;
        EXPECT_EQ(i + 1, p->sources.size()) << "only the last source is cut";
        EXPECT_TRUE(s.text.ends_with(" [...]")) << s.text;
        EXPECT_TRUE(hits_[i].chunk.starts_with(s.text.substr(0, s.text.size() - 6))) << s.text;
      } else {
        EXPECT_EQ(s.text, hits_[i].chunk);
      }
    }
  }
  EXPECT_EQ(last_sources, hits_.size());
  EXPECT_TRUE(saw_cut);
}

TEST_F(RagPromptTest, TemplatesOfOnesOwn) {
  auto p = build_rag_prompt("Why {sources}?", hits_, "S:\n{sources}\nQ: {question}", 3000, *counter_);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  EXPECT_TRUE(p->text.starts_with("S:\n[1] Title 1")) << p->text;
  // The question is put in as typed, even when it looks like a placeholder.
  EXPECT_TRUE(p->text.ends_with("\nQ: Why {sources}?")) << p->text;
  auto reversed = build_rag_prompt("q?", hits_, "{question} -- {sources}", 3000, *counter_);
  ASSERT_TRUE(reversed.is_ok());
  EXPECT_TRUE(reversed->text.starts_with("q? -- [1] ")) << reversed->text;

  for (const char* bad : {"no placeholders", "{question} only", "{sources} only", "{question}{sources}{question}"}) {
    auto r = build_rag_prompt("q", hits_, bad, 3000, *counter_);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("placeholder"), std::string::npos) << r.status().message();
  }
}

TEST_F(RagPromptTest, ABudgetBelowTheQuestionIsAnError) {
  auto r = build_rag_prompt("How do planes fly?", hits_, kDefaultRagTemplate, 20, *counter_);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("more than the budget of 20"), std::string::npos) << r.status().message();
}

TEST_F(RagPromptTest, NoHitsGiveAPromptWithoutSources) {
  auto p = build_rag_prompt("q?", {}, kDefaultRagTemplate, 3000, *counter_);
  ASSERT_TRUE(p.is_ok());
  EXPECT_TRUE(p->sources.empty());
  EXPECT_EQ(p->left_out, 0u);
}

TEST(CitedSources, ReadsTheCommonShapes) {
  EXPECT_EQ(cited_sources("Lift [1]; thrust [2][3].", 5), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(cited_sources("See [3, 1] and [1,2].", 5), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(cited_sources("[0] [6] [12] [a] [1a] [] [", 5), (std::vector<size_t>{}));
  EXPECT_EQ(cited_sources("x[2]", 2), (std::vector<size_t>{2}));
  EXPECT_EQ(cited_sources("[99999999999999999999]", 5), (std::vector<size_t>{}));
}

}  // namespace
}  // namespace simile::search
