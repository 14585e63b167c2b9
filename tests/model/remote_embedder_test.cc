// Embedders of remote models ("openai:NAME") against the test LLM server's
// /v1/embeddings: batching and parallel requests keep every vector with its
// text, the size is learnt at open and then held, prompts and normalisation
// apply, and the options that make no sense for a service are refused. (The
// vectors of a real model through a real simile server are held to the
// local model's in tests/cli/remote_model_cli_test.sh.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../remote/test_llm_server.h"
#include "simile/embedder.h"

namespace simile {
namespace {

class RemoteEmbedderTest : public ::testing::Test {
 protected:
  EmbedderOptions options(const std::string& name = "openai:test-embed") const {
    EmbedderOptions o;
    o.model = name;
    o.remote.base_url = server_.url();
    return o;
  }
  std::vector<std::string> texts(size_t n) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back("text number " + std::to_string(i));
    return out;
  }

  testing::TestLlmServer server_;
};

TEST_F(RemoteEmbedderTest, ParallelBatchesKeepEveryVectorWithItsText) {
  auto one = Embedder::open(options());
  ASSERT_TRUE(one.is_ok()) << one.status().message();
  EXPECT_EQ((*one)->dims(), 8u);  // learnt from the probe at open
  EXPECT_TRUE((*one)->is_remote());
  EXPECT_EQ((*one)->info().name, "openai:test-embed");
  EXPECT_EQ((*one)->info().dir, server_.url() + "/v1/embeddings");
  EXPECT_EQ((*one)->info().fingerprint.rfind("remote-", 0), 0u);

  // The reference: each text alone.
  const std::vector<std::string> all = texts(37);
  std::vector<float> alone;
  for (const std::string& t : all) {
    auto v = (*one)->embed({t});
    ASSERT_TRUE(v.is_ok()) << v.status().message();
    alone.insert(alone.end(), v->begin(), v->end());
  }
  server_.clear_requests();
  EmbedderOptions batched = options();
  batched.batch_size = 5;
  auto e = Embedder::open(batched);
  ASSERT_TRUE(e.is_ok());
  server_.clear_requests();  // the probe
  auto together = (*e)->embed(all);
  ASSERT_TRUE(together.is_ok()) << together.status().message();
  EXPECT_EQ(*together, alone);
  const auto sent = server_.requests("/v1/embeddings");
  ASSERT_EQ(sent.size(), 8u);  // ceil(37 / 5)
  for (const auto& body : sent) {
    EXPECT_EQ(body["model"], "test-embed");
    EXPECT_EQ(body["encoding_format"], "float");
    EXPECT_LE(body["input"].size(), 5u);
    EXPECT_FALSE(body.contains("dimensions"));
  }
}

TEST_F(RemoteEmbedderTest, PromptsNormalisationAndDimensions) {
  EmbedderOptions o = options();
  o.normalize = true;
  o.dimensions = 4;
  auto e = Embedder::open(o);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_EQ((*e)->dims(), 4u);
  server_.clear_requests();
  auto v = (*e)->embed({"a", "b"}, "query: ");
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  ASSERT_EQ(v->size(), 8u);
  for (size_t i = 0; i < 2; ++i) {
    double norm = 0;
    for (size_t j = 0; j < 4; ++j) norm += (*v)[i * 4 + j] * (*v)[i * 4 + j];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-6);
  }
  const auto sent = server_.requests("/v1/embeddings");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["input"], nlohmann::json({"query: a", "query: b"}));
  EXPECT_EQ(sent[0]["dimensions"], 4);
}

TEST_F(RemoteEmbedderTest, AKnownSizeIsHeldToAndNotAskedFor) {
  EmbedderOptions o = options();
  o.remote.known_dims = 384;
  auto e = Embedder::open(o);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_TRUE(server_.requests().empty()) << "a known size needs no probe";
  auto v = (*e)->embed({"a"});
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("returned 8-dimensional vectors, not the 384"), std::string::npos)
      << v.status().message();
}

TEST_F(RemoteEmbedderTest, RetriesThenGivesTheServicesMessage) {
  auto e = Embedder::open(options());
  ASSERT_TRUE(e.is_ok());
  server_.fail_next(2, 503);
  EXPECT_TRUE((*e)->embed({"a"}).is_ok());
  server_.fail_next(100, 400);
  auto bad = (*e)->embed({"a"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("HTTP 400"), std::string::npos) << bad.status().message();
}

TEST_F(RemoteEmbedderTest, WhatDoesNotApplyIsRefused) {
  EmbedderOptions pooled = options();
  pooled.pooling = Pooling::kCls;
  EXPECT_FALSE(Embedder::open(pooled).is_ok());
  EmbedderOptions int8 = options();
  int8.dtype = InferenceDtype::kInt8;
  EXPECT_FALSE(Embedder::open(int8).is_ok());
  auto nameless = Embedder::open(options("openai:"));
  ASSERT_FALSE(nameless.is_ok());
  EXPECT_NE(nameless.status().message().find("openai:NAME"), std::string::npos);
  auto e = Embedder::open(options());
  ASSERT_TRUE(e.is_ok());
  auto enc = (*e)->encode("a text");
  ASSERT_TRUE(enc.is_ok());
  auto ids = (*e)->embed_encodings({*enc});
  ASSERT_FALSE(ids.is_ok());
  EXPECT_EQ(ids.status().code(), Status::Code::kUnsupported);
}

}  // namespace
}  // namespace simile
