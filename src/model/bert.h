// BERT-family encoders (BERT, MiniLM, BGE, E5 ...), and the forward pass that
// RoBERTa, XLM-R and MPNet share with them: post-LN transformer layers with
// learned absolute position embeddings and erf GELU, in fp32.
#pragma once

#include <memory>

#include "model/architecture.h"

namespace simile {

// The table entry: model types, tensor names and shapes, and the forward pass.
const Architecture& bert_architecture();

// The embedding-side tensors of a BERT-style encoder, which each family's
// make() picks out of EncoderWeights::embeddings.
struct BertStyleEmbeddings {
  const float* word = nullptr;
  const float* position = nullptr;
  const float* token_type = nullptr;  // null: the family has none (MPNet) and ignores type ids
  const float* norm_weight = nullptr;
  const float* norm_bias = nullptr;
  // [relative_attention_num_buckets, heads]: MPNet's relative position bias
  // (model/relative_position.h), shared by all layers; null: none.
  const float* relative_attention_bias = nullptr;
};

// The embedding tensors of weights loaded by bert_architecture()'s table
// (RoBERTa's is the same).
BertStyleEmbeddings bert_embeddings(const EncoderWeights& weights);

// The shared forward pass. `arch` says how positions are numbered. The
// layers of `weights` must list BERT's tensors in bert_architecture()'s
// order (query, key, value weights, their biases, attention output, ...):
// other names, same roles. `embeddings` point into `weights`.
std::unique_ptr<Encoder> make_bert_style_encoder(const Architecture& arch, const EncoderConfig& config,
                                                 EncoderWeights weights, const BertStyleEmbeddings& embeddings);

}  // namespace simile
