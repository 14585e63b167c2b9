// Dynamic batching (src/server/embedding_batcher.h) on the real default
// model: concurrent requests come back equal to embedding each alone,
// requests that arrive during a pass share the next one, a full queue
// refuses at once, a request that waits too long is dropped.
#include "server/embedding_batcher.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "../test_env.h"

namespace simile::server {
namespace {

using std::chrono::milliseconds;

// Long enough for the batcher's thread to take a job queued just before;
// the long jobs (600 texts, ~25000 tokens) take far longer to run.
constexpr milliseconds kTaken{150};

class EmbeddingBatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EmbedderOptions o;
    o.model = testing::default_model_dir();
    // One compute thread: this test also runs under ThreadSanitizer, which
    // cannot see the synchronisation inside OpenMP's (uninstrumented) runtime.
    o.threads = 1;
    auto e = Embedder::open(o);
    ASSERT_TRUE(e.is_ok()) << e.status().message();
    embedder_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() { delete embedder_; }

  static std::vector<Encoding> encode(const std::vector<std::string>& texts) {
    std::vector<Encoding> out;
    for (const std::string& t : texts) out.push_back(*embedder_->encode(t));
    return out;
  }
  // Work for the batcher's thread that takes a while: `n` texts of ~40 tokens.
  static std::vector<Encoding> long_job(size_t n) {
    std::vector<std::string> texts;
    for (size_t i = 0; i < n; ++i)
      texts.push_back("sentence number " + std::to_string(i) + " about rivers, mountains, cities and the sea " +
                      "that people have sailed for thousands of years, again and again");
    return encode(texts);
  }
  // How many passes the batcher has run, from its metrics.
  static int passes(const Metrics& m) {
    std::smatch match;
    const std::string text = m.render();
    if (!std::regex_search(text, match, std::regex("simile_embedding_batch_inputs_count (\\d+)"))) return -1;
    return std::stoi(match[1]);
  }

  static Embedder* embedder_;
};
Embedder* EmbeddingBatcherTest::embedder_ = nullptr;

TEST_F(EmbeddingBatcherTest, ConcurrentRequestsGetTheirOwnVectorsAndShareAPass) {
  Metrics metrics;
  EmbeddingBatcher batcher(*embedder_, 100000, 1000000, &metrics);
  const std::vector<std::string> texts = {"hello world", "서울은 대한민국의 수도이다.", "dogs like walks",
                                          "the moon causes tides", "", "SQL databases", "a", "bread and butter"};
  auto alone = embedder_->embed(texts);
  ASSERT_TRUE(alone.is_ok());
  const size_t dims = embedder_->dims();
  // A long first pass, during which the eight small requests queue up.
  std::vector<Encoding> work = long_job(600);  // tokenised first: the thread only queues it
  std::thread first([&] { EXPECT_EQ(batcher.embed(std::move(work), milliseconds(60000)).outcome,
                                    EmbeddingBatcher::Outcome::kDone); });
  std::this_thread::sleep_for(kTaken);
  std::vector<std::thread> clients;
  std::vector<std::vector<float>> got(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    clients.emplace_back([&, i] {
      auto a = batcher.embed(encode({texts[i]}), milliseconds(60000));
      EXPECT_EQ(a.outcome, EmbeddingBatcher::Outcome::kDone);
      got[i] = a.vectors;
    });
  for (auto& c : clients) c.join();
  first.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(got[i].size(), dims);
    for (size_t j = 0; j < dims; ++j) ASSERT_NEAR(got[i][j], (*alone)[i * dims + j], 1e-6) << texts[i];
  }
  // The long pass, then the eight requests in one or two passes (the first
  // may have started before the rest arrived), not eight.
  EXPECT_LE(passes(metrics), 3);
  EXPECT_EQ(batcher.queued_tokens(), 0u);
}

TEST_F(EmbeddingBatcherTest, AFullQueueRefusesAtOnceAndALateRequestIsDropped) {
  Metrics metrics;
  const std::vector<Encoding> one = encode({"hello world"});  // 4 tokens
  EmbeddingBatcher batcher(*embedder_, 100000, 10, &metrics);
  std::vector<Encoding> work = long_job(600);
  std::thread first([&] { batcher.embed(std::move(work), milliseconds(60000)); });
  std::this_thread::sleep_for(kTaken);
  // The pass is running; 8 of the 10 queue tokens taken by two requests...
  std::thread second([&] { EXPECT_EQ(batcher.embed(one, milliseconds(60000)).outcome,
                                     EmbeddingBatcher::Outcome::kDone); });
  std::thread third([&] { EXPECT_EQ(batcher.embed(one, milliseconds(60000)).outcome,
                                    EmbeddingBatcher::Outcome::kDone); });
  while (batcher.queued_requests() < 2) std::this_thread::yield();
  // ...so a third does not fit, and is refused without waiting.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(batcher.embed(one, milliseconds(60000)).outcome, EmbeddingBatcher::Outcome::kQueueFull);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(50));
  second.join();
  third.join();
  first.join();

  // A request that cannot start within its timeout is taken out of the queue.
  std::vector<Encoding> more_work = long_job(600);
  std::thread busy([&] { batcher.embed(std::move(more_work), milliseconds(60000)); });
  std::this_thread::sleep_for(kTaken);
  EXPECT_EQ(batcher.embed(one, milliseconds(1)).outcome, EmbeddingBatcher::Outcome::kTimedOut);
  EXPECT_EQ(batcher.queued_tokens(), 0u);
  busy.join();
}

TEST(EmbedderEncodeIds, WrapsTokenIdsLikeTheTokenizerAndChecksThem) {
  EmbedderOptions o;
  o.model = testing::default_model_dir();
  auto e = Embedder::open(o);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  const Embedder& embedder = **e;
  auto text = embedder.encode("hello world");
  auto ids = embedder.encode_ids({7592, 2088});
  ASSERT_TRUE(text.is_ok() && ids.is_ok());
  EXPECT_EQ(ids->ids, text->ids);  // [CLS] hello world [SEP]
  EXPECT_EQ(ids->special_tokens_mask, text->special_tokens_mask);
  EXPECT_EQ(ids->type_ids, text->type_ids);
  auto a = embedder.embed_encodings({*ids});
  auto b = embedder.embed({"hello world"});
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(*a, *b);
  // Cut to the model's 256 tokens, the special ones kept.
  auto many = embedder.encode_ids(std::vector<int32_t>(1000, 2088));
  ASSERT_TRUE(many.is_ok());
  EXPECT_EQ(many->size(), embedder.info().max_tokens);
  EXPECT_EQ(many->ids.back(), text->ids.back());
  EXPECT_EQ(embedder.encode_ids({7592, 30522}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(embedder.encode_ids({-1}).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace simile::server
