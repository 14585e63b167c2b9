// Rotary position embeddings (RoPE) of decoder-only models, in the "rotate
// half" layout of Hugging Face checkpoints: dimension i of a head turns with
// dimension i + head_dim / 2, by the angle position * theta^(-2i / head_dim).
//
// The angles are computed the way transformers computes them (the inverse
// frequencies and each position * frequency product rounded to float32, then
// cos and sin), because at long positions those roundings are larger than
// the tolerance outputs are compared to.
#pragma once

#include <cstddef>
#include <vector>

namespace simile {

class RotaryEmbedding {
 public:
  // head_dim must be even.
  RotaryEmbedding(size_t head_dim, double theta);

  size_t head_dim() const { return head_dim_; }

  // Floats table() needs for positions [0, positions).
  size_t table_floats(size_t positions) const { return positions * head_dim_; }
  // Writes cos and sin of every angle for positions [0, positions) into
  // `table`: position p's head_dim / 2 cosines, then its head_dim / 2 sines.
  void table(size_t positions, float* table) const;

  // Rotates `heads` consecutive heads of one token (head_dim floats each) in
  // place, by the angles of the position whose table row is `row`:
  //   x[i] * cos - x[i + half] * sin,   x[i + half] * cos + x[i] * sin.
  void rotate(float* x, size_t heads, const float* row) const;

 private:
  size_t head_dim_;
  std::vector<float> inv_freq_;  // head_dim / 2
};

}  // namespace simile
