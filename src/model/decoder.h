// Decoder-only transformers used as embedders (e5-mistral, Qwen3-Embedding,
// gte-Qwen2 ...): Llama, Mistral, Qwen2 and Qwen3, in fp32.
//
// One forward pass serves the four families; their table entries differ in
// which tensors exist and in the sliding-window rule:
//   every layer   x += o_proj(attention(rope(q), rope(k), v)) on RMSNorm(x),
//                 x += down_proj(silu(gate_proj(h)) * up_proj(h)) on RMSNorm(x)
//   attention     causal, grouped-query (query head h reads key/value head
//                 h / (heads / kv_heads), as transformers' repeat_kv), default
//                 rotary embeddings only
//   Qwen2         q, k and v projections with biases
//   Qwen3         per-head RMSNorm of queries and keys (q_norm, k_norm) before
//                 the rotation; head_dim may differ from hidden / heads
//   Llama, Qwen3  attention_bias adds biases to q, k, v and o
//   Mistral       sliding_window applies to every layer; Qwen2/Qwen3 apply it
//                 with use_sliding_window to layers >= max_window_layers (or
//                 as layer_types says), as transformers 4.5x and 5 do
//   the output    RMSNorm of the last layer's output (the model's "norm")
// Checkpoints of *ForCausalLM classes keep the same tensors under "model.";
// their lm_head is never read.
#pragma once

#include "model/architecture.h"

namespace simile {

const Architecture& llama_architecture();
const Architecture& mistral_architecture();
const Architecture& qwen2_architecture();
const Architecture& qwen3_architecture();

// The attention window of one layer: 0 for full (causal) attention, else
// keys with i - j < window.
size_t decoder_layer_window(const Architecture& arch, const EncoderConfig& config, size_t layer);

}  // namespace simile
