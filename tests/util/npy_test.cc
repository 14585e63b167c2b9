#include "util/npy.h"

#include <gtest/gtest.h>

namespace simile {
namespace {

TEST(Npy, RoundTripsAMatrix) {
  std::vector<float> m = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
  std::string bytes = npy_encode(m.data(), 2, 3);
  EXPECT_EQ((bytes.size() - m.size() * 4) % 64, 0u);  // header padded to 64 bytes
  auto r = npy_decode(bytes);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->rows, 2u);
  EXPECT_EQ(r->cols, 3u);
  EXPECT_EQ(r->data, m);
}

TEST(Npy, RejectsTruncatedPayloadAndWrongDtype) {
  std::vector<float> m(6, 1.0f);
  std::string bytes = npy_encode(m.data(), 2, 3);
  auto truncated = npy_decode(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_NE(truncated.status().message().find("payload"), std::string::npos);
  std::string f8 = bytes;
  f8.replace(f8.find("<f4"), 3, "<f8");
  EXPECT_FALSE(npy_decode(f8).is_ok());
  EXPECT_FALSE(npy_decode("not numpy").is_ok());
}

}  // namespace
}  // namespace simile
