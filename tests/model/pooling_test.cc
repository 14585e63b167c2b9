#include "model/pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace simile {
namespace {

// Three real tokens and one padding row (mask 0) that must never leak in.
const std::vector<float> kTokens = {1,   2,     //
                                    3,   4,     //
                                    5,   -6,    //
                                    100, 100};  // padding
const std::vector<uint8_t> kMask = {1, 1, 1, 0};

std::vector<float> pool(Pooling mode, const uint8_t* mask = kMask.data()) {
  std::vector<float> out(2);
  pool_tokens(kTokens.data(), 4, 2, mask, mode, out.data());
  return out;
}

TEST(Pooling, EachModeOnAHandComputedInput) {
  EXPECT_EQ(pool(Pooling::kCls), (std::vector<float>{1, 2}));
  EXPECT_EQ(pool(Pooling::kMean), (std::vector<float>{3, 0}));
  EXPECT_EQ(pool(Pooling::kMax), (std::vector<float>{5, 4}));
  auto sqrt_len = pool(Pooling::kMeanSqrtLen);
  EXPECT_FLOAT_EQ(sqrt_len[0], 9.0f / std::sqrt(3.0f));
  EXPECT_FLOAT_EQ(sqrt_len[1], 0.0f);
  EXPECT_EQ(pool(Pooling::kLastToken), (std::vector<float>{5, -6}));
}

TEST(Pooling, WithoutAMaskEveryRowCounts) {
  EXPECT_EQ(pool(Pooling::kMean, nullptr), (std::vector<float>{27.25f, 25}));
  EXPECT_EQ(pool(Pooling::kMax, nullptr), (std::vector<float>{100, 100}));
  EXPECT_EQ(pool(Pooling::kLastToken, nullptr), (std::vector<float>{100, 100}));
}

TEST(Pooling, MaskedPromptTokensAreLeftOut) {
  // include_prompt = false masks the leading tokens; cls still takes row 0.
  const std::vector<uint8_t> mask = {0, 1, 1, 0};
  EXPECT_EQ(pool(Pooling::kMean, mask.data()), (std::vector<float>{4, -1}));
  EXPECT_EQ(pool(Pooling::kMax, mask.data()), (std::vector<float>{5, 4}));
  EXPECT_EQ(pool(Pooling::kCls, mask.data()), (std::vector<float>{1, 2}));
  const std::vector<uint8_t> none = {0, 0, 0, 0};
  EXPECT_EQ(pool(Pooling::kMean, none.data()), (std::vector<float>{0, 0}));
  EXPECT_EQ(pool(Pooling::kMax, none.data()), (std::vector<float>{-1e9f, -1e9f}));
}

TEST(Pooling, LastTokenOfAFullyMaskedTextIsZero) {
  // sentence-transformers gathers the last row and multiplies it by its mask,
  // so a prompt that covers the whole text (include_prompt = false) pools to 0.
  const std::vector<uint8_t> none = {0, 0, 0, 0};
  EXPECT_EQ(pool(Pooling::kLastToken, none.data()), (std::vector<float>{0, 0}));
  const std::vector<uint8_t> prompt_only_first = {0, 1, 0, 0};
  EXPECT_EQ(pool(Pooling::kLastToken, prompt_only_first.data()), (std::vector<float>{3, 4}));
}

TEST(Pooling, L2Normalize) {
  std::vector<float> v = {3, 4};
  l2_normalize(v.data(), 2);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0};
  l2_normalize(zero.data(), 2);
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
}

TEST(Pooling, NamesRoundTrip) {
  for (Pooling p : {Pooling::kCls, Pooling::kMean, Pooling::kMax, Pooling::kMeanSqrtLen, Pooling::kLastToken}) {
    auto parsed = parse_pooling(to_string(p));
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_EQ(*parsed, p);
  }
  auto bad = parse_pooling("median");
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("mean_sqrt_len"), std::string::npos);
}

}  // namespace
}  // namespace simile
