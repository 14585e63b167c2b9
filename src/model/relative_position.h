// Bucketed relative positions, as MPNet biases attention with them (the T5
// scheme with MPNet's constants): the distance from a query to a key falls
// into one of 32 buckets, 16 for keys after the query and 16 for keys before;
// within each half, distances 0-7 have a bucket each and the rest share 8
// log-spaced buckets up to distance 128, beyond which all share the last.
// Each bucket has a learned bias per head, added to the attention scores.
#pragma once

#include <cstddef>
#include <cstdint>

namespace simile {

constexpr size_t kRelativePositionBuckets = 32;

// The bucket of key_position - query_position, computed as transformers'
// MPNetEncoder.relative_position_bucket does, in float32, so that every
// distance lands where it lands there.
size_t relative_position_bucket(int64_t relative_position);

// The bias of every distance that n tokens span, per head, from the learned
// table [buckets, heads]: band[h * (2n - 1) + (n - 1) + r] is the bias of head
// h for key - query = r, |r| < n. Row i of head h's n x n bias is then the n
// values from band + h * (2n - 1) + (n - 1) - i, one row after another at
// stride -1 (kernels::ScoreBias).
void relative_position_bias_band(const float* table, size_t heads, size_t n, float* band);

}  // namespace simile
