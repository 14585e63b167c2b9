#include "model/mpnet.h"

#include <iterator>

#include "model/bert.h"
#include "model/relative_position.h"
#include "util/check.h"

namespace simile {

namespace {

using D = Dim;

// Indices into EncoderWeights::embeddings, in the order of the table below.
enum EmbeddingTensor { kWordEmb, kPositionEmb, kEmbNormW, kEmbNormB, kRelativeBias };

std::unique_ptr<Encoder> make_mpnet(const EncoderConfig& config, EncoderWeights weights) {
  BertStyleEmbeddings e;
  e.word = weights.embeddings[kWordEmb];
  e.position = weights.embeddings[kPositionEmb];
  e.norm_weight = weights.embeddings[kEmbNormW];
  e.norm_bias = weights.embeddings[kEmbNormB];
  e.relative_attention_bias = weights.embeddings[kRelativeBias];
  return make_bert_style_encoder(mpnet_architecture(), config, std::move(weights), e);
}

// transformers buckets distances into 32 whatever the config says
// (compute_position_bias's default), so the table needs at least 32 rows.
Status check_mpnet_config(const EncoderConfig& config) {
  if (config.relative_attention_num_buckets < kRelativePositionBuckets)
    return Status::unsupported("relative_attention_num_buckets " +
                               std::to_string(config.relative_attention_num_buckets) +
                               " is not supported for mpnet (MPNet's attention reads buckets 0-31)");
  return Status::ok();
}

// BERT's layer tensors under MPNet's names: the same roles, shapes and order
// (make_bert_style_encoder reads them by position).
std::vector<TensorSpec> mpnet_layer_tensors() {
  static const char* const kNames[] = {
      "encoder.layer.{}.attention.attn.q.weight",    "encoder.layer.{}.attention.attn.k.weight",
      "encoder.layer.{}.attention.attn.v.weight",    "encoder.layer.{}.attention.attn.q.bias",
      "encoder.layer.{}.attention.attn.k.bias",      "encoder.layer.{}.attention.attn.v.bias",
      "encoder.layer.{}.attention.attn.o.weight",    "encoder.layer.{}.attention.attn.o.bias",
      "encoder.layer.{}.attention.LayerNorm.weight", "encoder.layer.{}.attention.LayerNorm.bias",
      "encoder.layer.{}.intermediate.dense.weight",  "encoder.layer.{}.intermediate.dense.bias",
      "encoder.layer.{}.output.dense.weight",        "encoder.layer.{}.output.dense.bias",
      "encoder.layer.{}.output.LayerNorm.weight",    "encoder.layer.{}.output.LayerNorm.bias",
  };
  std::vector<TensorSpec> tensors = bert_architecture().layer_tensors;
  SIMILE_CHECK(tensors.size() == std::size(kNames));
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].name = kNames[i];
  return tensors;
}

Architecture make_table_entry() {
  Architecture a = {
      "mpnet",
      {"mpnet"},
      {"MPNetModel", "MPNetForMaskedLM", "MPNetForSequenceClassification"},
      {"", "mpnet."},
      {"gelu"},
      {
          {"embeddings.word_embeddings.weight", {D::kVocab, D::kHidden}},
          {"embeddings.position_embeddings.weight", {D::kPositions, D::kHidden}},
          {"embeddings.LayerNorm.weight", {D::kHidden}},
          {"embeddings.LayerNorm.bias", {D::kHidden}},
          {"encoder.relative_attention_bias.weight", {D::kRelativeBuckets, D::kHeads}},
      },
      mpnet_layer_tensors(),
      make_mpnet,
  };
  a.position_ids = PositionIds::kAfterOne;
  a.check_config = check_mpnet_config;
  a.int8_layer_tensors = bert_architecture().int8_layer_tensors;
  return a;
}

}  // namespace

const Architecture& mpnet_architecture() {
  static const Architecture arch = make_table_entry();
  return arch;
}

}  // namespace simile
