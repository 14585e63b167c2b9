#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model_test_util.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using testing::FakeTensor;
using testing::make_safetensors;
using testing::raw_bytes;
using testing::safetensors_bytes;
using testing::TempDir;
using testing::write_bytes;

// 1.0, -2.0, 0.5, 65504 (largest half), 2^-24 (smallest subnormal) in binary16.
const std::vector<uint16_t> kHalf = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0000};
const std::vector<float> kHalfValues = {1.0f, -2.0f, 0.5f, 65504.0f, 0x1p-24f, 0.0f};
// 1.0, -3.0, 0.15625 in bfloat16 (top halves of the floats).
const std::vector<uint16_t> kBf16 = {0x3F80, 0xC040, 0x3E20};
const std::vector<float> kBf16Values = {1.0f, -3.0f, 0.15625f};

std::vector<FakeTensor> sample_tensors() {
  return {
      {"a.f32", "F32", {2, 3}, raw_bytes(std::vector<float>{1, 2, 3, 4, 5, 6.5f})},
      {"b.f16", "F16", {3, 2}, raw_bytes(kHalf)},
      {"c.bf16", "BF16", {3}, raw_bytes(kBf16)},
      {"d.i64", "I64", {1, 4}, raw_bytes(std::vector<int64_t>{0, 1, 2, 3})},
      {"e.empty", "F32", {0, 4}, ""},
  };
}

Status open_status(const std::string& bytes) {
  TempDir dir;
  write_bytes(dir.file("x.safetensors"), bytes);
  return SafetensorsFile::open(dir.file("x.safetensors")).status();
}

void expect_corrupt(const std::string& bytes, const std::string& needle) {
  Status st = open_status(bytes);
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.message();
  EXPECT_NE(st.message().find("x.safetensors"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "'" << needle << "' not in: " << st.message();
}

TEST(Safetensors, ReadsF32F16Bf16AndIntegerTensors) {
  TempDir dir;
  write_bytes(dir.file("m.safetensors"), make_safetensors(sample_tensors(), {{"format", "pt"}}));
  auto file = SafetensorsFile::open(dir.file("m.safetensors"));
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  EXPECT_EQ((*file)->tensors().size(), 5u);
  EXPECT_EQ((*file)->metadata().at("format"), "pt");

  auto weights = WeightFiles::open(dir.file("m.safetensors"));
  ASSERT_TRUE(weights.is_ok()) << weights.status().message();
  const TensorView* a = (*weights)->find("a.f32");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape_string(), "[2, 3]");
  auto av = WeightFiles::to_f32(*a);
  ASSERT_TRUE(av.is_ok());
  EXPECT_EQ(*av, (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));

  auto bv = WeightFiles::to_f32(*(*weights)->find("b.f16"));
  ASSERT_TRUE(bv.is_ok());
  EXPECT_EQ(*bv, kHalfValues);
  auto cv = WeightFiles::to_f32(*(*weights)->find("c.bf16"));
  ASSERT_TRUE(cv.is_ok());
  EXPECT_EQ(*cv, kBf16Values);

  const TensorView* d = (*weights)->find("d.i64");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->dtype, DType::kI64);
  EXPECT_EQ(d->nbytes, 32u);
  int64_t third;
  std::memcpy(&third, d->data + 16, 8);
  EXPECT_EQ(third, 2);
  EXPECT_EQ(WeightFiles::to_f32(*d).status().code(), Status::Code::kUnsupported);

  auto e = WeightFiles::to_f32(*(*weights)->find("e.empty"));
  ASSERT_TRUE(e.is_ok());
  EXPECT_TRUE(e->empty());
  EXPECT_EQ((*weights)->find("missing"), nullptr);
  EXPECT_EQ((*weights)->names().size(), 5u);
}

TEST(Safetensors, ReadsMisalignedHalfData) {
  // A 3-byte header puts the data at offset 11: no 2-byte alignment.
  std::string header = R"({"x":{"dtype":"F16","shape":[6],"data_offsets":[0,12]}})";
  header += std::string((header.size() % 2 == 0) ? 1 : 0, ' ');  // odd length -> odd data offset
  TempDir dir;
  write_bytes(dir.file("m.safetensors"), safetensors_bytes(header, raw_bytes(kHalf)));
  auto weights = WeightFiles::open(dir.file("m.safetensors"));
  ASSERT_TRUE(weights.is_ok()) << weights.status().message();
  auto v = WeightFiles::to_f32(*(*weights)->find("x"));
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, kHalfValues);
}

TEST(Safetensors, OpensShardedWeightsThroughTheIndex) {
  TempDir dir;
  write_bytes(dir.file("model-00001-of-00002.safetensors"),
              make_safetensors({{"layer.0", "F32", {2}, raw_bytes(std::vector<float>{1, 2})}}));
  write_bytes(dir.file("model-00002-of-00002.safetensors"),
              make_safetensors({{"layer.1", "F16", {1}, raw_bytes(std::vector<uint16_t>{0x4000})}}));
  write_bytes(dir.file("model.safetensors.index.json"),
              R"({"metadata": {"total_size": 6}, "weight_map": {"layer.0": "model-00001-of-00002.safetensors",
                  "layer.1": "model-00002-of-00002.safetensors"}})");
  for (const std::string& path : {dir.str(), dir.file("model.safetensors.index.json")}) {
    auto weights = WeightFiles::open(path);
    ASSERT_TRUE(weights.is_ok()) << weights.status().message();
    EXPECT_EQ((*weights)->files().size(), 2u);
    EXPECT_EQ(*WeightFiles::to_f32(*(*weights)->find("layer.0")), (std::vector<float>{1, 2}));
    EXPECT_EQ(*WeightFiles::to_f32(*(*weights)->find("layer.1")), (std::vector<float>{2}));
    EXPECT_EQ((*weights)->total_bytes(), fs::file_size(dir.file("model-00001-of-00002.safetensors")) +
                                             fs::file_size(dir.file("model-00002-of-00002.safetensors")));
  }
}

TEST(Safetensors, ShardIndexErrors) {
  TempDir dir;
  write_bytes(dir.file("a.safetensors"), make_safetensors({{"t", "F32", {1}, raw_bytes(std::vector<float>{1})}}));
  write_bytes(dir.file("b.safetensors"), make_safetensors({{"t", "F32", {1}, raw_bytes(std::vector<float>{2})}}));
  const std::string index = dir.file("model.safetensors.index.json");

  write_bytes(index, R"({"weight_map": {"t": "missing.safetensors"}})");
  Status st = WeightFiles::open(index).status();
  EXPECT_EQ(st.code(), Status::Code::kNotFound) << st.message();
  EXPECT_NE(st.message().find("missing.safetensors"), std::string::npos) << st.message();

  write_bytes(index, R"({"weight_map": {"t": "a.safetensors", "u": "a.safetensors"}})");
  st = WeightFiles::open(index).status();
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.message();
  EXPECT_NE(st.message().find("'u'"), std::string::npos) << st.message();

  write_bytes(index, R"({"weight_map": {"t": "a.safetensors", "x": "b.safetensors"}})");
  st = WeightFiles::open(index).status();
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.message();
  EXPECT_NE(st.message().find("in both"), std::string::npos) << st.message();

  write_bytes(index, R"({"weight_map": {"t": "../a.safetensors"}})");
  EXPECT_EQ(WeightFiles::open(index).status().code(), Status::Code::kCorrupt);
  write_bytes(index, R"({"weight_map": 3})");
  EXPECT_EQ(WeightFiles::open(index).status().code(), Status::Code::kCorrupt);
  write_bytes(index, "not json");
  EXPECT_EQ(WeightFiles::open(index).status().code(), Status::Code::kCorrupt);
}

TEST(Safetensors, DirectoryWithOneFileOfAnyName) {
  TempDir dir;
  write_bytes(dir.file("model.fp16.safetensors"),
              make_safetensors({{"t", "F16", {1}, raw_bytes(std::vector<uint16_t>{0x3C00})}}));
  auto weights = WeightFiles::open(dir.str());
  ASSERT_TRUE(weights.is_ok()) << weights.status().message();
  EXPECT_EQ(*WeightFiles::to_f32(*(*weights)->find("t")), (std::vector<float>{1}));

  write_bytes(dir.file("other.safetensors"), make_safetensors({}));
  Status st = WeightFiles::open(dir.str()).status();
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.message();
  EXPECT_NE(st.message().find("other.safetensors"), std::string::npos) << st.message();

  TempDir empty;
  EXPECT_EQ(WeightFiles::open(empty.str()).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(WeightFiles::open(dir.file("nope.safetensors")).status().code(), Status::Code::kNotFound);
}

std::string header_with(const std::string& entries) { return "{" + entries + "}"; }

TEST(Safetensors, RejectsCorruptFiles) {
  const std::string eight_floats(32, '\0');
  expect_corrupt("", "too short");
  expect_corrupt("abc", "too short");
  // Header length past the end of the file.
  {
    std::string bytes = safetensors_bytes("{}", "");
    bytes[0] = static_cast<char>(200);
    expect_corrupt(bytes, "runs past the end");
  }
  {
    std::string bytes = safetensors_bytes("{}", "");
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(0xff);
    expect_corrupt(bytes, "runs past the end");
  }
  expect_corrupt(safetensors_bytes("{\"a\": ", eight_floats), "not valid JSON");
  expect_corrupt(safetensors_bytes("[1, 2]", eight_floats), "not a JSON object");
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "Q4", "shape": [8], "data_offsets": [0, 4]})"), eight_floats),
      "unknown dtype 'Q4'");
  expect_corrupt(safetensors_bytes(header_with(R"("t": {"shape": [8], "data_offsets": [0, 32]})"), eight_floats),
                 "'t' has no dtype");
  expect_corrupt(safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [8]})"), eight_floats),
                 "'t' has no data_offsets");
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [-8], "data_offsets": [0, 32]})"), eight_floats),
      "'t' has a shape entry");
  // Shape and byte range disagree.
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [7], "data_offsets": [0, 32]})"), eight_floats),
      "'t' has shape [7]");
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F16", "shape": [8], "data_offsets": [0, 32]})"), eight_floats),
      "'t' has shape [8]");
  // A shape whose byte count overflows 64 bits.
  expect_corrupt(safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [4294967296, 4294967296],
                                                      "data_offsets": [0, 32]})"),
                                   eight_floats),
                 "'t'");
  // Range outside the data section.
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [9], "data_offsets": [0, 36]})"), eight_floats),
      "'t' ends at byte 36 of a 32-byte data section");
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [0], "data_offsets": [40, 40]})"), eight_floats),
      "'t' ends at byte 40");
  expect_corrupt(
      safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]})"), eight_floats),
      "begin after end");
  // Overlapping ranges.
  expect_corrupt(safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                                 "u": {"dtype": "F32", "shape": [4], "data_offsets": [12, 28]})"),
                                   eight_floats),
                 "overlap");
  expect_corrupt(safetensors_bytes(header_with(R"("t": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]},
                                                 "u": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]})"),
                                   eight_floats),
                 "overlap");
  expect_corrupt(safetensors_bytes(header_with(R"("__metadata__": {"k": 1})"), ""), "__metadata__");
}

TEST(Safetensors, EveryTruncationIsReportedAsCorrupt) {
  const std::string full = make_safetensors(sample_tensors());
  ASSERT_TRUE(open_status(full).is_ok());
  for (size_t len = 0; len < full.size(); ++len) {
    // Every cut removes bytes the header or a tensor needs.
    Status st = open_status(full.substr(0, len));
    EXPECT_EQ(st.code(), Status::Code::kCorrupt) << "length " << len << ": " << st.message();
  }
}

TEST(Safetensors, FlippedBytesNeverCrash) {
  const std::string full = make_safetensors(sample_tensors());
  std::mt19937 rng(7);
  int failures = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = full;
    const size_t at = rng() % bytes.size();
    bytes[at] = static_cast<char>(rng() & 0xff);
    Status st = open_status(bytes);
    if (!st.is_ok()) {
      ++failures;
      EXPECT_TRUE(st.code() == Status::Code::kCorrupt) << st.message();
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace simile
