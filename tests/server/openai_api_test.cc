// The OpenAI embeddings API's request parsing and response building
// (src/server/openai_api.h), without HTTP.
#include "server/openai_api.h"

#include <gtest/gtest.h>

#include <cstring>

#include "text/normalizers.h"

namespace simile::server {
namespace {

using nlohmann::json;

EmbeddingsRequest parsed(const std::string& body, EmbeddingsLimits limits = {}) {
  auto r = parse_embeddings_request(json::parse(body), limits);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << ": " << e->message;
  return std::get_if<EmbeddingsRequest>(&r) ? std::get<EmbeddingsRequest>(r) : EmbeddingsRequest{};
}

ApiError refused(const std::string& body, EmbeddingsLimits limits = {}) {
  auto r = parse_embeddings_request(json::parse(body), limits);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(EmbeddingsRequest, TakesEveryInputShapeOpenAiDefines) {
  EXPECT_EQ(parsed(R"({"input": "one"})").texts, std::vector<std::string>{"one"});
  EXPECT_EQ(parsed(R"({"input": ["a", "", "서울"]})").texts, (std::vector<std::string>{"a", "", "서울"}));
  EXPECT_EQ(parsed(R"({"input": [7592, 2088]})").token_ids, (std::vector<std::vector<int32_t>>{{7592, 2088}}));
  EXPECT_EQ(parsed(R"({"input": [[1, 2], [3]]})").token_ids, (std::vector<std::vector<int32_t>>{{1, 2}, {3}}));
  const EmbeddingsRequest r =
      parsed(R"({"input": "x", "model": "m", "encoding_format": "base64", "dimensions": 64, "user": "u"})");
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.base64);
  EXPECT_EQ(r.dimensions, 64u);
  EXPECT_FALSE(parsed(R"({"input": "x", "encoding_format": "float", "dimensions": null})").base64);
}

TEST(EmbeddingsRequest, RefusesWhatOpenAiRefusesNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "input"},
      {R"({"input": 3})", "input"},
      {R"({"input": null})", "input"},
      {R"({"input": []})", "input"},
      {R"({"input": ["a", 1]})", "input"},
      {R"({"input": [1, "a"]})", "input"},
      {R"({"input": [1, -1]})", "input"},
      {R"({"input": [1.5]})", "input"},
      {R"({"input": [4294967296]})", "input"},
      {R"({"input": [[1], []]})", "input"},
      {R"({"input": [[1], 2]})", "input"},
      {R"({"input": [{"text": "a"}]})", "input"},
      {R"({"input": "x", "model": 3})", "model"},
      {R"({"input": "x", "encoding_format": "xml"})", "encoding_format"},
      {R"({"input": "x", "dimensions": 0})", "dimensions"},
      {R"({"input": "x", "dimensions": -4})", "dimensions"},
      {R"({"input": "x", "dimensions": "64"})", "dimensions"},
      {R"({"input": "x", "dimensions": 2.5})", "dimensions"},
  };
  for (const auto& [body, param] : cases) {
    const ApiError e = refused(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body;
    EXPECT_FALSE(e.message.empty()) << body;
  }
  EXPECT_EQ(refused(R"([1])").status, 400);
  EXPECT_EQ(refused(R"({"input": ["a", "b", "c"]})", {2}).param, "input");
  EXPECT_EQ(parsed(R"({"input": ["a", "b"]})", {2}).inputs(), 2u);
}

TEST(EmbeddingsResponse, Base64IsTheLittleEndianFloatsAndFloatsRoundTrip) {
  const std::vector<float> vectors = {0.25f, -1.5f, 3.0e-8f, 1.0f / 3, 2.0f, 0.0f};  // two rows of 3
  const json plain = json::parse(embeddings_response("m", vectors, 3, 3, false, false, 7));
  EXPECT_EQ(plain["object"], "list");
  EXPECT_EQ(plain["model"], "m");
  EXPECT_EQ(plain["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(plain["usage"]["total_tokens"], 7);
  ASSERT_EQ(plain["data"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(plain["data"][i]["index"], i);
    EXPECT_EQ(plain["data"][i]["object"], "embedding");
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(plain["data"][i]["embedding"][j].get<float>(), vectors[i * 3 + j]);
  }
  const json encoded = json::parse(embeddings_response("m", vectors, 3, 3, false, true, 7));
  for (size_t i = 0; i < 2; ++i) {
    auto bytes = text::decode_base64(encoded["data"][i]["embedding"].get<std::string>());
    ASSERT_TRUE(bytes.has_value());
    ASSERT_EQ(bytes->size(), 12u);
    for (size_t j = 0; j < 3; ++j) {
      const auto* b = reinterpret_cast<const unsigned char*>(bytes->data() + 4 * j);
      const uint32_t bits = b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
      float f;
      std::memcpy(&f, &bits, 4);
      EXPECT_EQ(f, vectors[i * 3 + j]);
    }
  }
}

TEST(EmbeddingsResponse, DimensionsKeepTheFirstValuesRenormalised) {
  const std::vector<float> v = {3, 4, 12};  // |(3, 4)| = 5
  const json cut = json::parse(embeddings_response("m", v, 3, 2, true, false, 1));
  EXPECT_FLOAT_EQ(cut["data"][0]["embedding"][0].get<float>(), 0.6f);
  EXPECT_FLOAT_EQ(cut["data"][0]["embedding"][1].get<float>(), 0.8f);
  const json kept = json::parse(embeddings_response("m", v, 3, 2, false, false, 1));
  EXPECT_EQ(kept["data"][0]["embedding"], json::parse("[3.0, 4.0]"));
}

TEST(ModelsResponse, ListsTheServedModels) {
  const json j = json::parse(models_response({"a", "b"}));
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][1]["id"], "b");
  EXPECT_EQ(j["data"][1]["object"], "model");
}

TEST(ApiErrors, MapLibraryErrorsToStatusesInOpenAiShape) {
  EXPECT_EQ(error_from_status(Status::invalid_argument("x")).status, 400);
  EXPECT_EQ(error_from_status(Status::not_found("x")).status, 404);
  EXPECT_EQ(error_from_status(Status::unsupported("x")).status, 422);
  EXPECT_EQ(error_from_status(Status::failed_precondition("x")).status, 409);
  EXPECT_EQ(error_from_status(Status::io_error("x")).status, 500);
  ApiError e = ApiError::bad_request("bad \"thing\"", "input");
  const json j = json::parse(error_json(e));
  EXPECT_EQ(j["error"]["message"], "bad \"thing\"");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "input");
  EXPECT_TRUE(j["error"]["code"].is_null());
}

}  // namespace
}  // namespace simile::server
