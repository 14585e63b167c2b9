#include "model/bert.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/kernels/attention.h"
#include "model/kernels/elementwise.h"
#include "model/kernels/gemm.h"
#include "model/kernels/work_share.h"
#include "model/linear.h"
#include "model/relative_position.h"
#include "util/check.h"

namespace simile {

namespace {

// Indices into EncoderWeights, in the order of the table below.
enum EmbeddingTensor { kWordEmb, kPositionEmb, kTypeEmb, kEmbNormW, kEmbNormB };
// Query, key and value come in that order, weights then biases, so that in
// the weight arena they form one [3H, H] matrix and one [3H] bias: a single
// GEMM computes all three projections. Every BERT-style family lists its
// layer tensors in this order.
enum LayerTensor {
  kQueryW,
  kKeyW,
  kValueW,
  kQueryB,
  kKeyB,
  kValueB,
  kAttnOutW,
  kAttnOutB,
  kAttnNormW,
  kAttnNormB,
  kFfnInW,
  kFfnInB,
  kFfnOutW,
  kFfnOutB,
  kFfnNormW,
  kFfnNormB,
  kLayerTensors
};

using D = Dim;

std::unique_ptr<Encoder> make_bert(const EncoderConfig& config, EncoderWeights weights);

Architecture make_table_entry() {
  Architecture a = {
      "bert",
      {"bert"},
      {"BertModel", "BertForMaskedLM", "BertForPreTraining", "BertForSequenceClassification"},
      {"", "bert."},
      {"gelu"},
      {
          {"embeddings.word_embeddings.weight", {D::kVocab, D::kHidden}},
          {"embeddings.position_embeddings.weight", {D::kPositions, D::kHidden}},
          {"embeddings.token_type_embeddings.weight", {D::kTokenTypes, D::kHidden}},
          {"embeddings.LayerNorm.weight", {D::kHidden}},
          {"embeddings.LayerNorm.bias", {D::kHidden}},
      },
      {
          {"encoder.layer.{}.attention.self.query.weight", {D::kHidden, D::kHidden}},
          {"encoder.layer.{}.attention.self.key.weight", {D::kHidden, D::kHidden}},
          {"encoder.layer.{}.attention.self.value.weight", {D::kHidden, D::kHidden}},
          {"encoder.layer.{}.attention.self.query.bias", {D::kHidden}},
          {"encoder.layer.{}.attention.self.key.bias", {D::kHidden}},
          {"encoder.layer.{}.attention.self.value.bias", {D::kHidden}},
          {"encoder.layer.{}.attention.output.dense.weight", {D::kHidden, D::kHidden}},
          {"encoder.layer.{}.attention.output.dense.bias", {D::kHidden}},
          {"encoder.layer.{}.attention.output.LayerNorm.weight", {D::kHidden}},
          {"encoder.layer.{}.attention.output.LayerNorm.bias", {D::kHidden}},
          {"encoder.layer.{}.intermediate.dense.weight", {D::kIntermediate, D::kHidden}},
          {"encoder.layer.{}.intermediate.dense.bias", {D::kIntermediate}},
          {"encoder.layer.{}.output.dense.weight", {D::kHidden, D::kIntermediate}},
          {"encoder.layer.{}.output.dense.bias", {D::kHidden}},
          {"encoder.layer.{}.output.LayerNorm.weight", {D::kHidden}},
          {"encoder.layer.{}.output.LayerNorm.bias", {D::kHidden}},
      },
      make_bert,
  };
  a.int8_layer_tensors = {kQueryW, kKeyW, kValueW, kAttnOutW, kFfnInW, kFfnOutW};
  return a;
}

// The position ids of one sequence, token by token (PositionIds).
class PositionCounter {
 public:
  explicit PositionCounter(std::optional<int32_t> padding_index)
      : padding_index_(padding_index), next_(padding_index ? static_cast<size_t>(*padding_index) + 1 : 0) {}

  size_t position_of(int32_t id) { return padding_index_ && id == *padding_index_ ? static_cast<size_t>(id) : next_++; }

 private:
  std::optional<int32_t> padding_index_;
  size_t next_;
};

class BertStyleEncoder final : public Encoder {
 public:
  BertStyleEncoder(const Architecture& arch, const EncoderConfig& config, EncoderWeights weights,
                   const BertStyleEmbeddings& embeddings)
      : config_(config),
        w_(std::move(weights)),
        e_(embeddings),
        padding_index_(padding_index(arch, config)),
        max_tokens_(max_text_tokens(arch, config)),
        max_tokens_text_(describe_max_text_tokens(arch, config)) {
    const size_t hh = config.hidden_size * config.hidden_size, h = config.hidden_size;
    SIMILE_CHECK(e_.word != nullptr && e_.position != nullptr && e_.norm_weight != nullptr && e_.norm_bias != nullptr);
    SIMILE_CHECK(e_.relative_attention_bias == nullptr ||
                 config.relative_attention_num_buckets >= kRelativePositionBuckets);
    for (size_t i = 0; i < w_.layers.size(); ++i) {
      const auto& l = w_.layers[i];
      SIMILE_CHECK(l.size() == kLayerTensors);
      SIMILE_CHECK(l[kKeyB] == l[kQueryB] + h && l[kValueB] == l[kKeyB] + h);
      // Each projection runs in int8 when its weights were quantised, else fp32.
      const bool int8 = !w_.int8_layers.empty();
      auto project = [&](size_t tensor, size_t out, size_t in) {
        if (int8 && !w_.int8_layers[i][tensor].empty()) return Linear::int8({&w_.int8_layers[i][tensor]});
        return Linear::fp32(l[tensor], out, in);
      };
      Linear qkv;
      if (int8 && !w_.int8_layers[i][kQueryW].empty()) {
        const auto& q = w_.int8_layers[i];
        qkv = Linear::int8({&q[kQueryW], &q[kKeyW], &q[kValueW]});
      } else {
        SIMILE_CHECK(l[kKeyW] == l[kQueryW] + hh && l[kValueW] == l[kKeyW] + hh);
        qkv = Linear::fp32(l[kQueryW], 3 * h, h);
      }
      linears_.push_back({qkv, project(kAttnOutW, h, h), project(kFfnInW, config.intermediate_size, h),
                          project(kFfnOutW, h, config.intermediate_size)});
    }
    has_int8_ = !w_.int8_layers.empty();
    w_.int8_layers.clear();  // packed into the Linears now
  }

  const EncoderConfig& config() const override { return config_; }

  Status forward(const TokenBatch& batch, float* out, FloatBuffer& workspace, int threads) const override;

 private:
  EncoderConfig config_;
  EncoderWeights w_;
  BertStyleEmbeddings e_;
  std::optional<int32_t> padding_index_;
  size_t max_tokens_;
  std::string max_tokens_text_;
  // The four projections of each layer, fp32 or int8.
  struct LayerLinears {
    Linear qkv, attn_out, ffn_in, ffn_out;
    size_t steps() const { return qkv.steps() + attn_out.steps() + ffn_in.steps() + ffn_out.steps(); }
  };
  std::vector<LayerLinears> linears_;
  bool has_int8_ = false;
};

Status BertStyleEncoder::forward(const TokenBatch& batch, float* out, FloatBuffer& workspace, int threads) const {
  const size_t T = batch.tokens();
  const size_t S = batch.sequences();
  const size_t H = config_.hidden_size;
  const size_t I = config_.intermediate_size;
  const size_t heads = config_.num_attention_heads;
  const size_t hd = config_.head_dim();
  SIMILE_CHECK(batch.type_ids.size() == T && batch.offsets.back() == T);
  if (T == 0) return Status::ok();
  threads = std::max(threads, 1);

  size_t max_len = 0;
  for (size_t s = 0; s < S; ++s) max_len = std::max(max_len, batch.length(s));
  if (max_len > max_tokens_)
    return Status::invalid_argument("a text of " + std::to_string(max_len) +
                                    " tokens is longer than the model takes: " + max_tokens_text_);
  for (size_t t = 0; t < T; ++t) {
    if (batch.ids[t] < 0 || static_cast<size_t>(batch.ids[t]) >= config_.vocab_size)
      return Status::invalid_argument("token id " + std::to_string(batch.ids[t]) +
                                      " is outside the model's vocabulary of " + std::to_string(config_.vocab_size));
    if (e_.token_type != nullptr &&
        (batch.type_ids[t] < 0 || static_cast<size_t>(batch.type_ids[t]) >= config_.type_vocab_size))
      return Status::invalid_argument("token type id " + std::to_string(batch.type_ids[t]) +
                                      " is outside the model's " + std::to_string(config_.type_vocab_size) +
                                      " token types");
  }

  // Workspace: qkv [T, 3H] | ctx [T, H] | tmp [T, H] | ffn [T, I] | attention
  // scratch per thread | relative position bias [heads, 2 max_len - 1].
  const size_t attn_scratch = kernels::attention_scratch_floats(max_len, hd);
  const size_t band_width = 2 * max_len - 1;
  const size_t band_floats = e_.relative_attention_bias != nullptr ? heads * band_width : 0;
  const size_t need = T * 3 * H + 2 * T * H + T * I + static_cast<size_t>(threads) * attn_scratch + band_floats;
  workspace.reserve(need);
  float* qkv = workspace.data();
  float* ctx = qkv + T * 3 * H;
  float* tmp = ctx + T * H;
  float* ffn = tmp + T * H;
  float* scratch = ffn + T * I;
  float* band = scratch + static_cast<size_t>(threads) * attn_scratch;

  const float eps = config_.layer_norm_eps;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const size_t pairs = S * heads;
  // The relative position bias depends only on key - query, so one band per
  // head, computed once, serves every sequence and every layer.
  if (band_floats > 0) relative_position_bias_band(e_.relative_attention_bias, heads, max_len, band);

  // The running hidden state alternates between `out` and `tmp`: each
  // residual block writes LayerNorm(sublayer + residual) into the other.
  float* last_x = out;
  // The int8 products quantise their input rows here: the calling thread's
  // buffer, reused by its later passes. The team must reach it through this
  // reference; naming the thread_local inside the lambda would give each
  // team thread its own, empty buffer.
  thread_local Int8Activations caller_activations;
  Int8Activations& activations = caller_activations;
  if (has_int8_) activations.reserve(T, std::max(H, I));
  // One parallel region for the whole pass (WorkShare): the products share
  // out blocks of output columns, the row-wise steps blocks of rows,
  // attention its (sequence, head) pairs; each step ends when all of it is
  // done. Steps: embeddings and their LayerNorm, then per layer the four
  // products (two steps each in int8: quantise, multiply), attention and two
  // LayerNorms.
  size_t steps = 2;
  for (const LayerLinears& l : linears_) steps += 3 + l.steps();
  constexpr size_t kRowBlock = 4;
  kernels::run_team(threads, steps, [&](kernels::WorkShare& share) {
    float* x = out;
    float* y = tmp;
    // Embeddings: (word + position) + token type, then LayerNorm. Positions
    // count within a sequence, so blocks are whole sequences.
    share.for_blocks(S, 1, [&](size_t seq0, size_t seq1) {
      for (size_t s = seq0; s < seq1; ++s) {
        PositionCounter positions(padding_index_);
        for (size_t t = batch.offsets[s]; t < batch.offsets[s + 1]; ++t) {
          const float* w = e_.word + static_cast<size_t>(batch.ids[t]) * H;
          const float* p = e_.position + positions.position_of(batch.ids[t]) * H;
          float* row = x + t * H;
          if (e_.token_type != nullptr) {
            const float* ty = e_.token_type + static_cast<size_t>(batch.type_ids[t]) * H;
            for (size_t c = 0; c < H; ++c) row[c] = (w[c] + p[c]) + ty[c];
          } else {
            for (size_t c = 0; c < H; ++c) row[c] = w[c] + p[c];
          }
        }
      }
    });
    share.for_blocks(T, kRowBlock, [&](size_t r0, size_t r1) {
      kernels::bias_residual_layer_norm(x + r0 * H, nullptr, nullptr, e_.norm_weight, e_.norm_bias, r1 - r0, H, eps);
    });

    float* mine = scratch + static_cast<size_t>(share.index()) * attn_scratch;
    for (size_t layer = 0; layer < w_.layers.size(); ++layer) {
      const auto& w = w_.layers[layer];
      const LayerLinears& lin = linears_[layer];
      // Self-attention.
      lin.qkv.apply(share, x, T, qkv, w[kQueryB], kernels::Epilogue::kBias, activations);
      share.for_blocks(pairs, 1, [&](size_t p0, size_t p1) {
        for (size_t p = p0; p < p1; ++p) {
          const size_t s = p / heads, h = p % heads;
          const size_t first = batch.offsets[s];
          const float* q = qkv + first * 3 * H + h * hd;
          kernels::ScoreBias bias;
          if (band_floats > 0) bias = {band + h * band_width + (max_len - 1), -1};
          kernels::attention_head(q, q + H, q + 2 * H, 3 * H, ctx + first * H + h * hd, H, batch.length(s), hd, scale,
                                  bias, mine);
        }
      });
      lin.attn_out.apply(share, ctx, T, y, w[kAttnOutB], kernels::Epilogue::kBias, activations);
      share.for_blocks(T, kRowBlock, [&](size_t r0, size_t r1) {
        kernels::bias_residual_layer_norm(y + r0 * H, x + r0 * H, nullptr, w[kAttnNormW], w[kAttnNormB], r1 - r0, H,
                                          eps);
      });
      std::swap(x, y);

      // Feed-forward.
      lin.ffn_in.apply(share, x, T, ffn, w[kFfnInB], kernels::Epilogue::kBiasGelu, activations);
      lin.ffn_out.apply(share, ffn, T, y, w[kFfnOutB], kernels::Epilogue::kBias, activations);
      share.for_blocks(T, kRowBlock, [&](size_t r0, size_t r1) {
        kernels::bias_residual_layer_norm(y + r0 * H, x + r0 * H, nullptr, w[kFfnNormW], w[kFfnNormB], r1 - r0, H,
                                          eps);
      });
      std::swap(x, y);
    }
    if (share.index() == 0) last_x = x;
  });
  float* x = last_x;
  if (x != out) std::memcpy(out, x, T * H * sizeof(float));
  return Status::ok();
}

std::unique_ptr<Encoder> make_bert(const EncoderConfig& config, EncoderWeights weights) {
  const BertStyleEmbeddings e = bert_embeddings(weights);
  return make_bert_style_encoder(bert_architecture(), config, std::move(weights), e);
}

}  // namespace

BertStyleEmbeddings bert_embeddings(const EncoderWeights& weights) {
  BertStyleEmbeddings e;
  e.word = weights.embeddings[kWordEmb];
  e.position = weights.embeddings[kPositionEmb];
  e.token_type = weights.embeddings[kTypeEmb];
  e.norm_weight = weights.embeddings[kEmbNormW];
  e.norm_bias = weights.embeddings[kEmbNormB];
  return e;
}

std::unique_ptr<Encoder> make_bert_style_encoder(const Architecture& arch, const EncoderConfig& config,
                                                 EncoderWeights weights, const BertStyleEmbeddings& embeddings) {
  return std::make_unique<BertStyleEncoder>(arch, config, std::move(weights), embeddings);
}

const Architecture& bert_architecture() {
  static const Architecture arch = make_table_entry();
  return arch;
}

}  // namespace simile
