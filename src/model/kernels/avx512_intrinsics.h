// <immintrin.h> for the files compiled for AVX-512 (under `#pragma GCC
// target("avx512f,...")`). GCC 12 warns that the "undefined" register inside
// _mm512_max_ps, _mm512_cvtph_ps and others may be used uninitialized (GCC
// bug 105593, fixed in 13): the rest of an including file does without those
// two warnings.
#pragma once

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
