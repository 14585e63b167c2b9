// Float vectors written into JSON text: as an array of shortest round-trip
// decimals, or as OpenAI's encoding_format "base64" (the little-endian
// float32 bytes, base64-encoded).
#pragma once

#include <cstddef>
#include <string>

namespace simile {

// [v0,v1,...] appended to `out`; NaN and infinities (which JSON lacks) as null.
void append_json_array(std::string& out, const float* v, size_t n);
// The base64 text (standard alphabet, padded) of n float32s, little-endian.
std::string base64_floats(const float* v, size_t n);

}  // namespace simile
