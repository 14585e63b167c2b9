// Half-precision weights to float32: safetensors F16 and BF16 tensors are
// up-cast once, at load time, and the model then computes in fp32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "model/kernels/cpu.h"

namespace simile::kernels {

// IEEE 754 binary16 -> binary32. Exact for every input: subnormals, infinities
// and signed zeros convert to the same value; a NaN stays a NaN with its sign
// and payload, made quiet (as the F16C instruction does).
float f16_to_f32(uint16_t h);
// bfloat16 -> binary32: the upper 16 bits of a float, so exact and bit-preserving.
float bf16_to_f32(uint16_t h);

// binary32 -> binary16 when the value is exactly a binary16 (zeros,
// infinities, normals and subnormals in its range and precision); else
// nullopt, NaN included. Weights loaded from F16 tensors all are, so they can
// be kept in half the memory without changing a bit.
std::optional<uint16_t> f32_to_f16_exact(float f);

// Converts n values; `src` needs no alignment. Both ISAs give identical bits.
void f16_to_f32(const uint16_t* src, float* dst, size_t n, Isa isa = best_isa());
void bf16_to_f32(const uint16_t* src, float* dst, size_t n, Isa isa = best_isa());

}  // namespace simile::kernels
