// The polynomial approximations behind the SIMD exp and GELU, shared by
// their AVX2 (elementwise.cc) and AVX-512 (avx512_math.h) versions so that
// both compute the same function.
//
// exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln(2) / 2, with ln 2
// split in two (Cody-Waite) so r is exact, and exp(r) by its Taylor
// polynomial of degree 7 (truncation error < 6e-9 relative).
//
// GELU: Phi(x) = 0.5 * (1 + erf(x / sqrt 2)) from z = |x| / sqrt 2 in two
// ranges, both evaluated and blended:
//   z < 1:  erf(z) = z * P(z^2)                        (minimax fit, degree 5)
//   z >= 1: erfc(z) = exp(-z^2) * Q(t), t = 1/(1+z/2)  (minimax fit, degree 7)
// The erfc form gives Phi for negative x without cancellation. Coefficients
// were fitted in double against mpmath and checked in float32 arithmetic:
// |erf error| < 1.1e-7 for z < 1, |erfc error| < 4.1e-8 for z >= 1.
#pragma once

namespace simile::kernels::poly {

inline constexpr float kExpMin = -87.33654475f;  // below: the result is under FLT_MIN, flushed to 0
inline constexpr float kExpMax = 88.0f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;  // exact in 9 bits: n * kLn2Hi has no rounding
inline constexpr float kLn2Lo = -2.12194440e-4f;
// Horner order, highest degree first: 1/7!, ..., 1/2!, 1, 1.
inline constexpr float kExpTaylor[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};

inline constexpr float kInvSqrt2 = 0.70710678118654752440f;
// erf(z) / z as a polynomial in z^2, highest degree first.
inline constexpr float kErfSmall[] = {-0.0005631425883620977f, 0.004917552229017019f, -0.02671131305396557f,
                                      0.11280180513858795f,    -0.37612324953079224f, 1.1283791065216064f};
// erfc(z) * exp(z^2) as a polynomial in t = 1 / (1 + z / 2), highest first.
inline constexpr float kErfcLarge[] = {0.07655049115419388f, -0.3352355360984802f,    0.38092997670173645f,
                                       0.03019973635673523f, 0.28975021839141846f,    0.27458614110946655f,
                                       0.28281620144844055f, -2.9259528673719615e-05f};
inline constexpr float kErfcMaxZ = 9.5f;  // erfc is 0 in float beyond; keeps exp(-z^2) finite

}  // namespace simile::kernels::poly
