#include "model/decoder.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "model/kernels/attention.h"
#include "model/kernels/elementwise.h"
#include "model/kernels/gemm.h"
#include "model/rotary.h"
#include "util/check.h"

namespace simile {

namespace {

// Indices into EncoderWeights, in the order of the tables below.
enum EmbeddingTensor { kTokenEmb, kFinalNorm };
// Query, key and value come in that order, weights then biases, so that in
// the weight arena they form one [q + 2 kv, hidden] matrix and one bias: a
// single GEMM computes all three projections. Gate and up likewise.
enum LayerTensor {
  kInputNorm,
  kQueryW,
  kKeyW,
  kValueW,
  kQueryB,
  kKeyB,
  kValueB,
  kQueryNorm,
  kKeyNorm,
  kOutW,
  kOutB,
  kPostNorm,
  kGateW,
  kUpW,
  kDownW,
};

// Which layers a config's sliding window applies to.
enum class WindowRule {
  kNone,       // Llama: no sliding window
  kAllLayers,  // Mistral: sliding_window, when set, on every layer
  kQwen,       // Qwen2/3: use_sliding_window, on layers >= max_window_layers or as layer_types says
};

struct Family {
  WindowRule window_rule;
  bool (*qkv_bias)(const EncoderConfig&);
  bool (*out_bias)(const EncoderConfig&);
  bool (*qk_norm)(const EncoderConfig&);
};

bool never(const EncoderConfig&) { return false; }
bool always(const EncoderConfig&) { return true; }
bool with_attention_bias(const EncoderConfig& c) { return c.attention_bias; }

constexpr Family kLlama = {WindowRule::kNone, with_attention_bias, with_attention_bias, never};
constexpr Family kMistral = {WindowRule::kAllLayers, never, never, never};
constexpr Family kQwen2 = {WindowRule::kQwen, always, never, never};
constexpr Family kQwen3 = {WindowRule::kQwen, with_attention_bias, with_attention_bias, always};

const Family& family_of(const Architecture& arch) {
  const std::string name = arch.family;
  if (name == "mistral") return kMistral;
  if (name == "qwen2") return kQwen2;
  if (name == "qwen3") return kQwen3;
  return kLlama;
}

size_t layer_window(WindowRule rule, const EncoderConfig& c, size_t layer) {
  switch (rule) {
    case WindowRule::kNone:
      return 0;
    case WindowRule::kAllLayers:
      return c.sliding_window;
    case WindowRule::kQwen:
      if (!c.use_sliding_window) return 0;
      if (!c.layer_types.empty()) return c.layer_types[layer] == "sliding_attention" ? c.sliding_window : 0;
      return layer >= c.max_window_layers ? c.sliding_window : 0;
  }
  return 0;
}

Status check_decoder(const EncoderConfig& c, const Family& family) {
  if (c.rope_type != "default")
    return Status::unsupported("rope_scaling type '" + c.rope_type +
                               "' is not supported: simile implements the default rotary position embedding only");
  if (c.head_dim() % 2 != 0)
    return Status::corrupt("config.json: head_dim " + std::to_string(c.head_dim()) +
                           " is odd; rotary position embeddings need an even head_dim");
  if (family.window_rule == WindowRule::kQwen && !c.layer_types.empty()) {
    if (c.layer_types.size() != c.num_hidden_layers)
      return Status::corrupt("config.json: layer_types lists " + std::to_string(c.layer_types.size()) +
                             " layers, num_hidden_layers is " + std::to_string(c.num_hidden_layers));
    for (const std::string& t : c.layer_types)
      if (t != "full_attention" && t != "sliding_attention")
        return Status::unsupported("layer type '" + t +
                                   "' is not supported (simile runs full_attention and sliding_attention layers)");
  }
  if (!c.is_causal)
    for (size_t l = 0; l < c.num_hidden_layers; ++l)
      if (layer_window(family.window_rule, c, l) != 0)
        return Status::unsupported("bidirectional attention (is_causal false) with a sliding window is not supported");
  return Status::ok();
}

Status check_llama(const EncoderConfig& c) {
  if (c.mlp_bias) return Status::unsupported("mlp_bias true (biases in the MLP projections) is not supported");
  return check_decoder(c, kLlama);
}
Status check_mistral(const EncoderConfig& c) { return check_decoder(c, kMistral); }
Status check_qwen2(const EncoderConfig& c) { return check_decoder(c, kQwen2); }
Status check_qwen3(const EncoderConfig& c) { return check_decoder(c, kQwen3); }

using D = Dim;
using MakeEncoder = std::unique_ptr<Encoder> (*)(const EncoderConfig&, EncoderWeights);

Architecture make_table_entry(const char* family_name, const char* model_type, std::vector<const char*> class_names,
                              const Family& family, MakeEncoder make, Status (*check)(const EncoderConfig&)) {
  return {
      family_name,
      {model_type},
      std::move(class_names),
      {"", "model."},
      {"silu", "swish"},
      {
          {"embed_tokens.weight", {D::kVocab, D::kHidden}},
          {"norm.weight", {D::kHidden}},
      },
      {
          {"layers.{}.input_layernorm.weight", {D::kHidden}},
          {"layers.{}.self_attn.q_proj.weight", {D::kQueryWidth, D::kHidden}},
          {"layers.{}.self_attn.k_proj.weight", {D::kKeyValueWidth, D::kHidden}},
          {"layers.{}.self_attn.v_proj.weight", {D::kKeyValueWidth, D::kHidden}},
          {"layers.{}.self_attn.q_proj.bias", {D::kQueryWidth}, family.qkv_bias},
          {"layers.{}.self_attn.k_proj.bias", {D::kKeyValueWidth}, family.qkv_bias},
          {"layers.{}.self_attn.v_proj.bias", {D::kKeyValueWidth}, family.qkv_bias},
          {"layers.{}.self_attn.q_norm.weight", {D::kHeadDim}, family.qk_norm},
          {"layers.{}.self_attn.k_norm.weight", {D::kHeadDim}, family.qk_norm},
          {"layers.{}.self_attn.o_proj.weight", {D::kHidden, D::kQueryWidth}},
          {"layers.{}.self_attn.o_proj.bias", {D::kHidden}, family.out_bias},
          {"layers.{}.post_attention_layernorm.weight", {D::kHidden}},
          {"layers.{}.mlp.gate_proj.weight", {D::kIntermediate, D::kHidden}},
          {"layers.{}.mlp.up_proj.weight", {D::kIntermediate, D::kHidden}},
          {"layers.{}.mlp.down_proj.weight", {D::kHidden, D::kIntermediate}},
      },
      make,
      PositionIds::kFromZero,  // rotary: positions enter through the rotation, from 0 in each text
      check,
  };
}

class DecoderEncoder final : public Encoder {
 public:
  DecoderEncoder(const EncoderConfig& config, EncoderWeights weights, const Family& family)
      : config_(config), w_(std::move(weights)), rotary_(config.head_dim(), config.rope_theta) {
    const size_t H = config.hidden_size, I = config.intermediate_size;
    const size_t q = config.num_attention_heads * config.head_dim(), kv = config.kv_heads() * config.head_dim();
    for (const auto& l : w_.layers) {
      SIMILE_CHECK(l[kKeyW] == l[kQueryW] + q * H && l[kValueW] == l[kKeyW] + kv * H);
      SIMILE_CHECK(l[kQueryB] == nullptr || (l[kKeyB] == l[kQueryB] + q && l[kValueB] == l[kKeyB] + kv));
      SIMILE_CHECK(l[kUpW] == l[kGateW] + I * H);
    }
    for (size_t l = 0; l < config.num_hidden_layers; ++l)
      windows_.push_back(layer_window(family.window_rule, config, l));
  }

  const EncoderConfig& config() const override { return config_; }

  Status forward(const TokenBatch& batch, float* out, FloatBuffer& workspace, int threads) const override;

  size_t workspace_floats_per_token() const override {
    const size_t q = config_.num_attention_heads * config_.head_dim(), kv = config_.kv_heads() * config_.head_dim();
    return 2 * q + 2 * kv + 2 * config_.hidden_size + 2 * config_.intermediate_size;
  }

 private:
  EncoderConfig config_;
  EncoderWeights w_;
  RotaryEmbedding rotary_;
  std::vector<size_t> windows_;  // per layer, 0 = none
};

// Adds bias[c] to every row of a rows x cols matrix.
void add_bias(float* x, const float* bias, size_t rows, size_t cols, int threads) {
  if (bias == nullptr) return;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (long r = 0; r < static_cast<long>(rows); ++r) {
    float* row = x + static_cast<size_t>(r) * cols;
    for (size_t c = 0; c < cols; ++c) row[c] += bias[c];
  }
}

Status DecoderEncoder::forward(const TokenBatch& batch, float* out, FloatBuffer& workspace, int threads) const {
  const size_t T = batch.tokens();
  const size_t S = batch.sequences();
  const size_t H = config_.hidden_size;
  const size_t I = config_.intermediate_size;
  const size_t heads = config_.num_attention_heads;
  const size_t kv_heads = config_.kv_heads();
  const size_t group = heads / kv_heads;
  const size_t hd = config_.head_dim();
  const size_t Wq = heads * hd, Wkv = kv_heads * hd, Wqkv = Wq + 2 * Wkv;
  const float eps = config_.rms_norm_eps;
  SIMILE_CHECK(batch.offsets.back() == T);
  if (T == 0) return Status::ok();
  threads = std::max(threads, 1);

  size_t max_len = 0;
  for (size_t s = 0; s < S; ++s) max_len = std::max(max_len, batch.length(s));
  for (size_t t = 0; t < T; ++t)
    if (batch.ids[t] < 0 || static_cast<size_t>(batch.ids[t]) >= config_.vocab_size)
      return Status::invalid_argument("token id " + std::to_string(batch.ids[t]) +
                                      " is outside the model's vocabulary of " + std::to_string(config_.vocab_size));

  // Workspace: qkv [T, Wqkv] | ctx [T, Wq] | normed [T, H] | delta [T, H] |
  // ffn [T, 2I] | rotary table | attention scratch per thread.
  const size_t attn_scratch = kernels::attention_scratch_floats(max_len, hd);
  const size_t need = T * Wqkv + T * Wq + 2 * T * H + 2 * T * I + rotary_.table_floats(max_len) +
                      static_cast<size_t>(threads) * attn_scratch;
  workspace.reserve(need);
  float* qkv = workspace.data();
  float* ctx = qkv + T * Wqkv;
  float* normed = ctx + T * Wq;
  float* delta = normed + T * H;
  float* ffn = delta + T * H;
  float* angles = ffn + 2 * T * I;
  float* scratch = angles + rotary_.table_floats(max_len);
  rotary_.table(max_len, angles);

  // The residual stream lives in `out`; each sublayer's output waits in
  // `delta` and is added by the next RMSNorm (or the final one).
  float* x = out;
  const long rows = static_cast<long>(T);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (long t = 0; t < rows; ++t)
    std::memcpy(x + t * H, w_.embeddings[kTokenEmb] + static_cast<size_t>(batch.ids[t]) * H, H * sizeof(float));

  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const long pairs = static_cast<long>(S * heads);
  const float* pending = nullptr;  // a sublayer output not yet added to x
  for (size_t l = 0; l < w_.layers.size(); ++l) {
    const auto& w = w_.layers[l];
    // Self-attention on RMSNorm(x).
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (long t = 0; t < rows; ++t)
      kernels::residual_rms_norm(x + t * H, pending != nullptr ? pending + t * H : nullptr, normed + t * H,
                                 w[kInputNorm], 1, H, eps);
    kernels::gemm_nt(T, Wqkv, H, normed, H, w[kQueryW], H, qkv, Wqkv);
    add_bias(qkv, w[kQueryB], T, Wqkv, threads);
    // Per-head query/key norms (Qwen3), then the rotation by position.
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (long s = 0; s < static_cast<long>(S); ++s) {
      for (size_t t = batch.offsets[s], pos = 0; t < batch.offsets[s + 1]; ++t, ++pos) {
        float* q = qkv + t * Wqkv;
        float* k = q + Wq;
        if (w[kQueryNorm] != nullptr) {
          kernels::residual_rms_norm(q, nullptr, q, w[kQueryNorm], heads, hd, eps);
          kernels::residual_rms_norm(k, nullptr, k, w[kKeyNorm], kv_heads, hd, eps);
        }
        rotary_.rotate(q, heads, angles + pos * hd);
        rotary_.rotate(k, kv_heads, angles + pos * hd);
      }
    }
    const size_t window = windows_[l];
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      float* mine = scratch + static_cast<size_t>(omp_get_thread_num()) * attn_scratch;
#pragma omp for schedule(dynamic, 1)
      for (long p = 0; p < pairs; ++p) {
        const size_t s = static_cast<size_t>(p) / heads, h = static_cast<size_t>(p) % heads;
        const size_t first = batch.offsets[s];
        const float* q = qkv + first * Wqkv + h * hd;
        const float* k = qkv + first * Wqkv + Wq + (h / group) * hd;
        const float* v = k + Wkv;
        float* o = ctx + first * Wq + h * hd;
        if (config_.is_causal)
          kernels::attention_head_causal(q, k, v, Wqkv, o, Wq, batch.length(s), hd, scale, window, mine);
        else
          kernels::attention_head(q, k, v, Wqkv, o, Wq, batch.length(s), hd, scale, mine);
      }
    }
    kernels::gemm_nt(T, H, Wq, ctx, Wq, w[kOutW], Wq, delta, H);
    add_bias(delta, w[kOutB], T, H, threads);

    // SwiGLU MLP on RMSNorm(x + attention).
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (long t = 0; t < rows; ++t)
      kernels::residual_rms_norm(x + t * H, delta + t * H, normed + t * H, w[kPostNorm], 1, H, eps);
    kernels::gemm_nt(T, 2 * I, H, normed, H, w[kGateW], H, ffn, 2 * I);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (long t = 0; t < rows; ++t) kernels::silu_mul(ffn + t * 2 * I, ffn + t * 2 * I + I, 1, I, 2 * I);
    kernels::gemm_nt(T, H, I, ffn, 2 * I, w[kDownW], I, delta, H);
    pending = delta;
  }
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (long t = 0; t < rows; ++t)
    kernels::residual_rms_norm(x + t * H, pending != nullptr ? pending + t * H : nullptr, x + t * H,
                               w_.embeddings[kFinalNorm], 1, H, eps);
  return Status::ok();
}

template <const Family& F>
std::unique_ptr<Encoder> make_decoder(const EncoderConfig& config, EncoderWeights weights) {
  return std::make_unique<DecoderEncoder>(config, std::move(weights), F);
}

}  // namespace

const Architecture& llama_architecture() {
  static const Architecture arch =
      make_table_entry("llama", "llama", {"LlamaModel", "LlamaForCausalLM"}, kLlama, make_decoder<kLlama>, check_llama);
  return arch;
}

const Architecture& mistral_architecture() {
  static const Architecture arch = make_table_entry("mistral", "mistral", {"MistralModel", "MistralForCausalLM"},
                                                    kMistral, make_decoder<kMistral>, check_mistral);
  return arch;
}

const Architecture& qwen2_architecture() {
  static const Architecture arch =
      make_table_entry("qwen2", "qwen2", {"Qwen2Model", "Qwen2ForCausalLM"}, kQwen2, make_decoder<kQwen2>, check_qwen2);
  return arch;
}

const Architecture& qwen3_architecture() {
  static const Architecture arch =
      make_table_entry("qwen3", "qwen3", {"Qwen3Model", "Qwen3ForCausalLM"}, kQwen3, make_decoder<kQwen3>, check_qwen3);
  return arch;
}

size_t decoder_layer_window(const Architecture& arch, const EncoderConfig& config, size_t layer) {
  return layer_window(family_of(arch).window_rule, config, layer);
}

}  // namespace simile
