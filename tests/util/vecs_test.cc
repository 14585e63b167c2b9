// .fvecs / .ivecs parsing: well-formed files and every way a file can be broken.
#include "util/vecs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace simile {
namespace {

template <typename T>
std::string row(int32_t d, std::vector<T> values) {
  std::string s(4 + 4 * values.size(), '\0');
  std::memcpy(s.data(), &d, 4);
  // An empty vector's data() may be null, which memcpy must not be given.
  if (!values.empty()) std::memcpy(s.data() + 4, values.data(), 4 * values.size());
  return s;
}

TEST(Vecs, ReadsRowsOfFloatsAndInts) {
  auto f = fvecs_decode(row<float>(3, {1, 2, 3}) + row<float>(3, {-1, 0.5f, 4}), "f");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->rows, 2u);
  EXPECT_EQ(f->cols, 3u);
  EXPECT_EQ(f->data, (std::vector<float>{1, 2, 3, -1, 0.5f, 4}));
  auto i = ivecs_decode(row<int32_t>(2, {7, 9}), "i");
  ASSERT_TRUE(i.is_ok());
  EXPECT_EQ(i->data, (std::vector<int32_t>{7, 9}));
}

TEST(Vecs, MalformedFilesAreCorruptErrorsNamingTheRow) {
  const std::string good = row<float>(3, {1, 2, 3});
  auto expect_error = [](const Result<VecsMatrix<float>>& r, const std::string& words) {
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
  };
  expect_error(fvecs_decode("", "x.fvecs"), "empty");
  expect_error(fvecs_decode(good + "\x03\x00", "x.fvecs"), "row 1");
  expect_error(fvecs_decode(good.substr(0, good.size() - 1), "x.fvecs"), "truncated in row 0");
  expect_error(fvecs_decode(good + row<float>(2, {1, 2}), "x.fvecs"), "row 0 has 3");
  expect_error(fvecs_decode(row<float>(0, {}), "x.fvecs"), "dimension 0");
  expect_error(fvecs_decode(row<float>(-4, {}), "x.fvecs"), "dimension -4");
  expect_error(fvecs_decode(good + row<float>(3, {1, NAN, 3}), "x.fvecs"), "non-finite");
  EXPECT_FALSE(fvecs_read_file("/nonexistent/base.fvecs").is_ok());
}

}  // namespace
}  // namespace simile
