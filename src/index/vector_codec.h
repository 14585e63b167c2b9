// Vector codecs: how one embedding is stored as bytes, and the kernels that
// score a float32 query against those bytes without decoding them first.
//
// A collection stores every chunk's vector in one of three types
// (docs/formats/vectors.md has the byte layouts):
//   f32   dims x IEEE binary32                               4 * dims bytes
//   f16   dims x IEEE binary16, rounded to nearest even      2 * dims bytes
//   int8  a binary32 scale s, then dims signed codes q_i     4 + dims bytes
//         x_i ~ s * q_i with s = max_i |x_i| / 127 (symmetric, one scale per
//         vector) and q_i = x_i / s rounded to nearest even
// All little-endian, no header: the collection records type and dims.
//
// Queries are never quantised (asymmetric distance): the kernels take the
// query in float32 and lose only the precision of the stored side.
//
// Every kernel has a scalar reference (Isa::kScalar) and an AVX2+FMA+F16C
// version, chosen at run time (kernels::best_isa(): the CPU's features, or
// the scalar path when SIMILE_ISA=scalar); tests compare them on random
// inputs for every type and for dimensions that are not multiples of 8.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/kernels/cpu.h"
#include "simile/status.h"

namespace simile {

// The layouts are defined little-endian and read with plain loads.
static_assert(std::endian::native == std::endian::little, "vector codecs assume a little-endian host");

enum class VectorType { kF32, kF16, kI8 };

// "f32", "f16", "int8": the names collections and the CLI use.
std::string_view vector_type_name(VectorType type);
// Accepts those names (and "float32", "float16", "i8").
Result<VectorType> parse_vector_type(std::string_view name);

// Bytes of one encoded vector of `dims` dimensions.
size_t encoded_size(VectorType type, size_t dims);

// Encodes v[dims] into out[encoded_size(type, dims)]. Values should be finite.
// f16 saturates at +-65504 (the largest half) instead of overflowing to
// infinity, so a large component cannot turn every score into inf or NaN;
// int8 of an all-zero vector is scale 0 and zero codes.
void encode_vector(VectorType type, const float* v, size_t dims, uint8_t* out, kernels::Isa isa = kernels::best_isa());

// Whether `bytes` bytes can be a stored `dims`-dimensional vector of `type`:
// a corrupt error naming the sizes otherwise, or for an int8 scale that is
// negative or not finite (no encoder writes one). Run on every blob read from
// disk before FlatIndex::add trusts it.
Status check_encoded(VectorType type, const uint8_t* data, size_t bytes, size_t dims);

// check_encoded, then decodes into out[dims].
Status decode_vector(VectorType type, const uint8_t* data, size_t bytes, size_t dims, float* out);

// Decodes n vectors stored back to back (encoded_size apart) into n x dims
// floats, unchecked: the caller has validated them.
void decode_vectors(VectorType type, const uint8_t* data, size_t n, size_t dims, float* out,
                    kernels::Isa isa = kernels::best_isa());

// ---- IEEE binary16 ---------------------------------------------------------

// binary32 -> binary16 rounded to nearest, ties to even, exactly as the F16C
// instruction VCVTPS2PH with rounding mode 0: overflow gives infinity,
// subnormal halves are produced (not flushed), a NaN stays a NaN with its sign
// and the top 10 bits of its payload, made quiet. (kernels::f16_to_f32 in
// model/kernels/convert.h is the way back.)
uint16_t f32_to_f16(float x);
void f32_to_f16(const float* src, uint16_t* dst, size_t n, kernels::Isa isa = kernels::best_isa());

// ---- distance kernels ------------------------------------------------------

// Scores a float32 query[dims] against one encoded vector (type fixed by the
// kernel). Reads exactly encoded_size bytes of `code` and needs no alignment.
using ScoreKernel = float (*)(const float* query, const uint8_t* code, size_t dims);

// query . decode(code), accumulated in float.
ScoreKernel dot_kernel(VectorType type, kernels::Isa isa = kernels::best_isa());
// |query - decode(code)|^2, accumulated in float.
ScoreKernel l2sq_kernel(VectorType type, kernels::Isa isa = kernels::best_isa());

// Scores a float32 query[dims] against n encoded vectors stored back to back
// (encoded_size apart) into out[n]: the inner loop of a scan. One call per
// block keeps the dispatch and the query's tail out of the per-vector cost.
// Reads exactly n * encoded_size bytes of `codes`; out[i] equals what the
// ScoreKernel of the same type and Isa returns for vector i, bit for bit.
using BlockKernel = void (*)(const float* query, const uint8_t* codes, size_t n, size_t dims, float* out);

BlockKernel dot_block_kernel(VectorType type, kernels::Isa isa = kernels::best_isa());
BlockKernel l2sq_block_kernel(VectorType type, kernels::Isa isa = kernels::best_isa());

}  // namespace simile
