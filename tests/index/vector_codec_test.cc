// Vector codecs: layouts, rounding, corruption checks, and every fast kernel
// against its scalar reference.
#include "index/vector_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "model/kernels/convert.h"

namespace simile {
namespace {

using kernels::Isa;

constexpr VectorType kTypes[] = {VectorType::kF32, VectorType::kF16, VectorType::kI8};
constexpr size_t kDims[] = {1, 7, 8, 31, 32, 33, 100, 383, 384, 385, 1024};

#define SKIP_WITHOUT_AVX2() \
  if (!kernels::cpu_has_avx2_fma() || !kernels::cpu_has_f16c()) GTEST_SKIP() << "CPU lacks AVX2/FMA/F16C"

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> encode(VectorType type, const std::vector<float>& v, Isa isa = kernels::best_isa()) {
  std::vector<uint8_t> out(encoded_size(type, v.size()));
  encode_vector(type, v.data(), v.size(), out.data(), isa);
  return out;
}

std::vector<float> decode(VectorType type, const std::vector<uint8_t>& code, size_t dims) {
  std::vector<float> out(dims);
  EXPECT_TRUE(decode_vector(type, code.data(), code.size(), dims, out.data()).is_ok());
  return out;
}

TEST(VectorCodec, NamesRoundTrip) {
  for (VectorType t : kTypes) {
    auto parsed = parse_vector_type(vector_type_name(t));
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(vector_type_name(VectorType::kI8), "int8");
  EXPECT_EQ(*parse_vector_type("float16"), VectorType::kF16);
  auto bad = parse_vector_type("int4");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("f32, f16 or int8"), std::string::npos);
}

TEST(VectorCodec, EncodedSizes) {
  EXPECT_EQ(encoded_size(VectorType::kF32, 384), 1536u);
  EXPECT_EQ(encoded_size(VectorType::kF16, 384), 768u);
  EXPECT_EQ(encoded_size(VectorType::kI8, 384), 388u);
}

TEST(VectorCodec, F32IsLittleEndianBinary32) {
  const std::vector<float> v = {1.0f, -2.5f};
  const auto code = encode(VectorType::kF32, v);
  const std::vector<uint8_t> want = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0};
  EXPECT_EQ(code, want);
  EXPECT_EQ(decode(VectorType::kF32, code, 2), v);
}

TEST(VectorCodec, F16KnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7BFF);  // just under the halfway point
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);   // halfway to 2^16: ties to even overflow
  EXPECT_EQ(f32_to_f16(1e10f), 0x7C00);
  EXPECT_EQ(f32_to_f16(-1e10f), 0xFC00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(f32_to_f16(0x1p-14f), 0x0400);             // smallest normal
  EXPECT_EQ(f32_to_f16(0x1p-24f), 0x0001);             // smallest subnormal
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);             // tie between 0 and 2^-24: even
  EXPECT_EQ(f32_to_f16(0x1.8p-24f), 0x0002);           // tie between 1 and 2 units: even
  EXPECT_EQ(f32_to_f16(0x1.4p-24f), 0x0001);           // below the tie
  EXPECT_EQ(f32_to_f16(0x3FF.8p-24f), 0x0400);         // tie rounds up into the smallest normal
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3C00);      // tie, even mantissa stays
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02);  // tie, odd mantissa rounds up
  EXPECT_EQ(f32_to_f16(1e-30f), 0x0000);
  EXPECT_EQ(f32_to_f16(from_bits(0x00000001)), 0x0000);  // float subnormal
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
  EXPECT_EQ(f32_to_f16(from_bits(0xFF800001)), 0xFE00);  // signalling NaN, payload below half precision: quiet
  EXPECT_EQ(f32_to_f16(from_bits(0x7FBFE000)), 0x7FFF);  // payload kept, quiet bit set
}

// Every float that matters for rounding: each half value, the midpoints
// between neighbours and one float ulp either side, across the whole range.
std::vector<float> f16_edge_floats() {
  std::vector<float> out;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float lo = kernels::f16_to_f32(static_cast<uint16_t>(h));
    const float hi = h + 1 < 0x7C00 ? kernels::f16_to_f32(static_cast<uint16_t>(h + 1)) : 65536.0f;
    const float mid = lo + (hi - lo) / 2;  // exact: halves have 11 significant bits
    for (float x : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), std::nextafter(lo, 1e9f)}) {
      out.push_back(x);
      out.push_back(-x);
    }
  }
  const float specials[] = {std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::min(),
                            std::numeric_limits<float>::denorm_min(),
                            from_bits(0x7FC00000),
                            from_bits(0x7F800001),
                            from_bits(0x7FFFFFFF),
                            from_bits(0x7FA00000),
                            1e5f,
                            70000.0f,
                            65536.0f,
                            131008.0f};
  for (float x : specials) {
    out.push_back(x);
    out.push_back(-x);
  }
  return out;
}

TEST(VectorCodec, F16ConversionF16cMatchesScalar) {
  SKIP_WITHOUT_AVX2();
  std::vector<float> in = f16_edge_floats();
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 200000; ++i) in.push_back(from_bits(any_bits(rng)));  // every exponent, NaNs included
  for (int i = 0; i < 100000; ++i)
    in.push_back(std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), i % 40 - 28));
  std::vector<uint16_t> fast(in.size()), ref(in.size());
  f32_to_f16(in.data(), fast.data(), in.size(), Isa::kAvx2);
  f32_to_f16(in.data(), ref.data(), in.size(), Isa::kScalar);
  for (size_t i = 0; i < in.size(); ++i)
    ASSERT_EQ(fast[i], ref[i]) << "float 0x" << std::hex << bits(in[i]) << " (" << in[i] << ")";
}

TEST(VectorCodec, F16RoundsToNearest) {
  // The scalar conversion against a slow definition: the nearest of the two
  // neighbouring halves, ties to the even one.
  std::mt19937 rng(5);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(std::uniform_real_distribution<float>(0.5f, 1)(rng), i % 44 - 27);
    if (x >= 65520.0f) continue;  // overflows to infinity (F16KnownValues)
    const uint16_t h = f32_to_f16(x);
    const double got = kernels::f16_to_f32(h);
    const double below = kernels::f16_to_f32(static_cast<uint16_t>(h - (h > 0 ? 1 : 0)));
    const double above = h < 0x7C00 ? kernels::f16_to_f32(static_cast<uint16_t>(h + 1)) : INFINITY;
    ASSERT_LE(std::fabs(got - x), std::fabs(below - x)) << x;
    ASSERT_LE(std::fabs(got - x), std::fabs(above - x)) << x;
  }
}

TEST(VectorCodec, F16EncodeSaturatesBothPaths) {
  const std::vector<float> v = {1e6f, -1e6f, 65519.0f, 0.1f, -0.0f, 0x1p-20f, 3.0f, 70000.0f, -65600.0f};
  for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
    const auto code = encode(VectorType::kF16, v, isa);
    const auto back = decode(VectorType::kF16, code, v.size());
    EXPECT_EQ(back[0], 65504.0f);
    EXPECT_EQ(back[1], -65504.0f);
    EXPECT_EQ(back[2], 65504.0f);
    EXPECT_EQ(back[3], kernels::f16_to_f32(f32_to_f16(0.1f)));
    EXPECT_EQ(bits(back[4]), 0x80000000u);
    EXPECT_EQ(back[5], 0x1p-20f);  // subnormal half, exact
    EXPECT_EQ(back[7], 65504.0f);
    EXPECT_EQ(back[8], -65504.0f);
  }
}

TEST(VectorCodec, F16RoundTripWithinHalfUlp) {
  std::mt19937 rng(2);
  for (size_t d : kDims) {
    const auto v = random_floats(d, rng);
    const auto back = decode(VectorType::kF16, encode(VectorType::kF16, v), d);
    for (size_t i = 0; i < d; ++i) EXPECT_LE(std::fabs(back[i] - v[i]), std::max(std::fabs(v[i]) * 0x1p-11f, 0x1p-25f));
  }
}

TEST(VectorCodec, Int8LayoutAndRoundingToEven) {
  // max |x| = 127 gives scale 1 exactly, so the codes are the rounded values.
  const std::vector<float> v = {127.0f, -63.5f, 62.5f, 0.4f, -0.5f, -127.0f, 1.5f};
  const auto code = encode(VectorType::kI8, v);
  ASSERT_EQ(code.size(), 4 + v.size());
  const std::vector<uint8_t> scale_bytes(code.begin(), code.begin() + 4);
  EXPECT_EQ(scale_bytes, (std::vector<uint8_t>{0x00, 0x00, 0x80, 0x3f}));  // 1.0f, little-endian
  const std::vector<int8_t> codes(code.begin() + 4, code.end());
  EXPECT_EQ(codes, (std::vector<int8_t>{127, -64, 62, 0, 0, -127, 2}));
}

TEST(VectorCodec, Int8ErrorIsAtMostHalfAStep) {
  std::mt19937 rng(3);
  for (size_t d : kDims) {
    const auto v = random_floats(d, rng, -0.3f, 0.2f);
    const auto code = encode(VectorType::kI8, v);
    float scale;
    std::memcpy(&scale, code.data(), 4);
    float max_abs = 0;
    for (float x : v) max_abs = std::max(max_abs, std::fabs(x));
    EXPECT_FLOAT_EQ(scale, max_abs / 127);
    const auto back = decode(VectorType::kI8, code, d);
    for (size_t i = 0; i < d; ++i) EXPECT_LE(std::fabs(back[i] - v[i]), scale * 0.5f * (1 + 1e-5f));
  }
}

TEST(VectorCodec, Int8ZeroAndNonFiniteInputs) {
  const auto zero = encode(VectorType::kI8, std::vector<float>(5, 0.0f));
  EXPECT_EQ(zero, std::vector<uint8_t>(9, 0));
  EXPECT_EQ(decode(VectorType::kI8, zero, 5), std::vector<float>(5, 0.0f));
  // A NaN component must not reach an integer conversion (UBSan checks this
  // test); the finite ones keep their scale.
  const auto nan = encode(VectorType::kI8, {1.0f, NAN, -0.5f});
  const auto back = decode(VectorType::kI8, nan, 3);
  EXPECT_FLOAT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 0.0f);
  EXPECT_NEAR(back[2], -0.5f, 1.0f / 254);
  const auto inf = encode(VectorType::kI8, {1.0f, INFINITY});
  EXPECT_FALSE(check_encoded(VectorType::kI8, inf.data(), inf.size(), 2).is_ok());
}

TEST(VectorCodec, DecodeRejectsWrongSizeAndBadScale) {
  std::vector<float> out(384);
  std::vector<uint8_t> blob(1535);
  Status st = decode_vector(VectorType::kF32, blob.data(), blob.size(), 384, out.data());
  ASSERT_EQ(st.code(), Status::Code::kCorrupt);
  EXPECT_EQ(st.message(), "stored vector has 1535 bytes; a 384-dimensional f32 vector has 1536");
  EXPECT_EQ(decode_vector(VectorType::kF16, blob.data(), 770, 384, out.data()).code(), Status::Code::kCorrupt);
  EXPECT_EQ(decode_vector(VectorType::kI8, blob.data(), 384, 384, out.data()).code(), Status::Code::kCorrupt);

  auto code = encode(VectorType::kI8, std::vector<float>(384, 0.25f));
  EXPECT_TRUE(check_encoded(VectorType::kI8, code.data(), code.size(), 384).is_ok());
  for (float bad : {-1.0f, NAN, INFINITY}) {
    std::memcpy(code.data(), &bad, 4);
    st = decode_vector(VectorType::kI8, code.data(), code.size(), 384, out.data());
    EXPECT_EQ(st.code(), Status::Code::kCorrupt) << bad;
    EXPECT_NE(st.message().find("scale"), std::string::npos);
  }
}

TEST(VectorCodec, DecodeVectorsSimdMatchesScalar) {
  SKIP_WITHOUT_AVX2();
  std::mt19937 rng(4);
  for (VectorType t : kTypes)
    for (size_t d : kDims) {
      const size_t n = 5;
      std::vector<uint8_t> codes;
      for (size_t r = 0; r < n; ++r) {
        const auto c = encode(t, random_floats(d, rng));
        codes.insert(codes.end(), c.begin(), c.end());
      }
      std::vector<float> fast(n * d), ref(n * d);
      decode_vectors(t, codes.data(), n, d, fast.data(), Isa::kAvx2);
      decode_vectors(t, codes.data(), n, d, ref.data(), Isa::kScalar);
      for (size_t i = 0; i < n * d; ++i) ASSERT_EQ(bits(fast[i]), bits(ref[i])) << vector_type_name(t) << " d=" << d;
    }
}

// The kernels against a double-precision computation on the decoded vector,
// and the AVX2 path against the scalar one. Float accumulation in a different
// order differs by a few ulps of the sum of |terms|.
TEST(VectorCodec, KernelsMatchReferenceOnRandomInputs) {
  const bool have_avx2 = kernels::cpu_has_avx2_fma() && kernels::cpu_has_f16c();
  std::mt19937 rng(7);
  for (VectorType t : kTypes)
    for (size_t d : kDims)
      for (int rep = 0; rep < 5; ++rep) {
        const auto q = random_floats(d, rng);
        const auto v = random_floats(d, rng, -2, 2);
        // Encode at an offset of 1 byte: kernels must not assume alignment.
        auto code = encode(t, v);
        std::vector<uint8_t> shifted(code.size() + 1);
        std::memcpy(shifted.data() + 1, code.data(), code.size());
        const uint8_t* c = shifted.data() + 1;
        const auto dec = decode(t, code, d);
        double dot = 0, l2 = 0, abs_dot = 0;
        for (size_t i = 0; i < d; ++i) {
          dot += static_cast<double>(q[i]) * dec[i];
          abs_dot += std::fabs(static_cast<double>(q[i]) * dec[i]);
          l2 += (static_cast<double>(q[i]) - dec[i]) * (static_cast<double>(q[i]) - dec[i]);
        }
        // The rigorous bound for float sums of d terms: (d + 2) unit roundoffs.
        const double u = 0x1p-24 * static_cast<double>(d + 2);
        const double tol_dot = u * abs_dot + 1e-30, tol_l2 = 2 * u * l2 + 1e-30;
        SCOPED_TRACE(std::string(vector_type_name(t)) + " d=" + std::to_string(d));
        EXPECT_NEAR(dot_kernel(t, Isa::kScalar)(q.data(), c, d), dot, tol_dot);
        EXPECT_NEAR(l2sq_kernel(t, Isa::kScalar)(q.data(), c, d), l2, tol_l2);
        if (have_avx2) {
          EXPECT_NEAR(dot_kernel(t, Isa::kAvx2)(q.data(), c, d), dot, tol_dot);
          EXPECT_NEAR(l2sq_kernel(t, Isa::kAvx2)(q.data(), c, d), l2, tol_l2);
          EXPECT_NEAR(dot_kernel(t, Isa::kAvx2)(q.data(), c, d), dot_kernel(t, Isa::kScalar)(q.data(), c, d), tol_dot);
        }
      }
}

TEST(VectorCodec, KernelsAreExactOnSmallIntegers) {
  // Integer-valued inputs make every partial sum exact: both paths must agree
  // to the bit with the true value, whatever the summation order.
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> small(-8, 8);
  for (VectorType t : kTypes)
    for (size_t d : kDims) {
      std::vector<float> q(d), v(d);
      for (size_t i = 0; i < d; ++i) q[i] = static_cast<float>(small(rng)), v[i] = static_cast<float>(small(rng));
      v[0] = 127;  // int8: scale exactly 1
      const auto code = encode(t, v);
      double dot = 0, l2 = 0;
      for (size_t i = 0; i < d; ++i) dot += q[i] * v[i], l2 += (q[i] - v[i]) * (q[i] - v[i]);
      for (Isa isa : {Isa::kScalar, Isa::kAvx2}) {
        EXPECT_EQ(dot_kernel(t, isa)(q.data(), code.data(), d), dot) << vector_type_name(t) << " d=" << d;
        EXPECT_EQ(l2sq_kernel(t, isa)(q.data(), code.data(), d), l2) << vector_type_name(t) << " d=" << d;
      }
    }
}

// Block kernels score n consecutive codes exactly as the one-vector kernel of
// the same Isa scores each (bit for bit), read nothing past the last code (the
// buffer is exactly n codes long, so ASan sees an over-read), and the AVX2
// blocks agree with the scalar ones up to summation order. Every other row
// starts with a NaN (float types) that an AVX2 tail reading into it must mask.
TEST(VectorCodec, BlockKernelsMatchOneVectorKernels) {
  const bool have_avx2 = kernels::cpu_has_avx2_fma() && kernels::cpu_has_f16c();
  std::mt19937 rng(9);
  for (VectorType t : kTypes)
    for (size_t d : kDims)
      for (size_t n : {1u, 2u, 5u, 9u}) {
        const size_t size = encoded_size(t, d);
        const auto q = random_floats(d, rng);
        std::vector<uint8_t> codes;
        std::vector<double> abs_terms(n);  // sum |q_i v_i| per row, for the tolerance
        for (size_t r = 0; r < n; ++r) {
          const auto v = random_floats(d, rng, -2, 2);
          auto c = encode(t, v);
          const auto dec = decode(t, c, d);
          for (size_t i = 0; i < d; ++i)
            abs_terms[r] += std::fabs(static_cast<double>(q[i]) * dec[i]) + dec[i] * dec[i];
          if (r % 2 == 1 && t == VectorType::kF32) std::memcpy(c.data(), "\x00\x00\xc0\x7f", 4);  // quiet NaN
          if (r % 2 == 1 && t == VectorType::kF16) std::memcpy(c.data(), "\x00\x7e", 2);
          codes.insert(codes.end(), c.begin(), c.end());
        }
        codes.shrink_to_fit();
        SCOPED_TRACE(std::string(vector_type_name(t)) + " d=" + std::to_string(d) + " n=" + std::to_string(n));
        for (bool l2 : {false, true}) {
          std::vector<float> ref(n), fast(n);
          (l2 ? l2sq_block_kernel(t, Isa::kScalar) : dot_block_kernel(t, Isa::kScalar))(q.data(), codes.data(), n, d,
                                                                                        ref.data());
          const ScoreKernel one_scalar = l2 ? l2sq_kernel(t, Isa::kScalar) : dot_kernel(t, Isa::kScalar);
          for (size_t r = 0; r < n; ++r)
            ASSERT_EQ(bits(ref[r]), bits(one_scalar(q.data(), codes.data() + r * size, d)));
          if (!have_avx2) continue;
          (l2 ? l2sq_block_kernel(t, Isa::kAvx2) : dot_block_kernel(t, Isa::kAvx2))(q.data(), codes.data(), n, d,
                                                                                    fast.data());
          const ScoreKernel one_fast = l2 ? l2sq_kernel(t, Isa::kAvx2) : dot_kernel(t, Isa::kAvx2);
          for (size_t r = 0; r < n; ++r) {
            const float one = one_fast(q.data(), codes.data() + r * size, d);
            ASSERT_EQ(bits(fast[r]), bits(one)) << "row " << r << " l2 " << l2;
            if (std::isnan(ref[r])) {
              EXPECT_TRUE(std::isnan(fast[r])) << "row " << r;
            } else {
              const double u = 0x1p-24 * static_cast<double>(d + 2);
              EXPECT_NEAR(fast[r], ref[r], 4 * u * abs_terms[r] + 1e-30) << "row " << r << " l2 " << l2;
            }
          }
        }
      }
}

}  // namespace
}  // namespace simile
