#include "simile/embedder.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "model/architecture.h"
#include "model/config.h"
#include "model/dense.h"
#include "model/kernels/gemm.h"
#include "model/model_info.h"
#include "model/packed_batches.h"
#include "model/model_tokenizer.h"
#include "model/pooling.h"
#include "model/quantize.h"
#include "model/remote_embedder.h"
#include "model/safetensors.h"
#include "simile/models.h"
#include "util/hash.h"

namespace simile {

namespace {

// Python's str.lower() for sentence_bert_config.json do_lower_case, per code
// point (utf8proc's simple case mapping; Python's full mapping differs only
// for a handful of characters such as U+0130). Invalid UTF-8 passes through
// for the tokenizer to judge.
std::string lowercase_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      out.push_back(static_cast<char>(*p));
      ++p;
      --left;
      continue;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
    p += n;
    left -= n;
  }
  return out;
}

constexpr const char* kInt8FingerprintTag = "-int8s";

// The encoder of `model` at `dtype`, shared by every Embedder of the same
// weights in this process: a server's /v1/embeddings and its collections
// open the model with other pooling or dimensions options, and each would
// otherwise hold its own copy of the weights (92 MB for MiniLM in fp32). The
// key is the weights' fingerprint, so a model whose files changed loads
// afresh. Encoder::forward is const and keeps no state, so sharing is safe.
// `info` (make_model_info's) comes back completed as load_encoder does it.
Result<std::shared_ptr<const Encoder>> shared_encoder(const ModelDescription& model, const WeightFiles& files,
                                                      InferenceDtype dtype, ModelInfo* info) {
  std::string key = model.dir;
  key += '\0';
  key += info->fingerprint;
  key += '\0';
  key += to_string(dtype);
  struct Loaded {
    std::weak_ptr<const Encoder> encoder;
    ModelInfo info;
  };
  static std::mutex mu;
  static std::map<std::string, Loaded> loaded;
  // Held while loading, so that concurrent first opens load the weights once.
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = loaded.find(key); it != loaded.end()) {
    if (auto encoder = it->second.encoder.lock()) {
      *info = it->second.info;
      return encoder;
    }
  }
  std::erase_if(loaded, [](const auto& entry) { return entry.second.encoder.expired(); });
  SIMILE_ASSIGN_OR_RETURN(std::unique_ptr<Encoder> fresh, load_encoder(model, files, dtype, info));
  std::shared_ptr<const Encoder> encoder = std::move(fresh);
  loaded[key] = Loaded{encoder, *info};
  return encoder;
}

}  // namespace

std::string to_string(InferenceDtype d) { return d == InferenceDtype::kInt8 ? "int8" : "fp32"; }

Result<InferenceDtype> parse_inference_dtype(const std::string& name) {
  if (name == "fp32") return InferenceDtype::kFp32;
  if (name == "int8") return InferenceDtype::kInt8;
  return Status::invalid_argument("unknown dtype '" + name + "': choose fp32 or int8");
}

std::string dtype_fingerprint(const std::string& fp32_fingerprint, InferenceDtype dtype) {
  if (dtype == InferenceDtype::kFp32) return fp32_fingerprint;
  return fp32_fingerprint + kInt8FingerprintTag + std::to_string(kInt8Scheme);
}

InferenceDtype fingerprint_dtype(const std::string& fingerprint) {
  return fingerprint.find(kInt8FingerprintTag) != std::string::npos ? InferenceDtype::kInt8 : InferenceDtype::kFp32;
}

// Workspace of one forward pass (per thread) that batches are sized to stay
// under, in floats (1 GiB).
constexpr size_t kWorkspaceBudgetFloats = size_t{1} << 28;

// A remote model's token limit where none is given: counted with a local
// tokenizer, so kept well under every common service's (OpenAI: 8191,
// all-MiniLM behind a simile server: 256 of its own tokens).
constexpr size_t kRemoteMaxTokens = 256;

struct Embedder::Impl {
  ModelDescription model;
  ModelInfo info;
  std::unique_ptr<Tokenizer> tokenizer;
  std::shared_ptr<const Encoder> encoder;
  std::vector<DenseLayer> dense;
  Pooling pooling = Pooling::kMean;
  bool normalize = false;
  int threads = 1;
  size_t batch_size = 32;

  // Buffers of one forward pass, reused across batches and calls.
  struct Worker {
    TokenBatch batch;
    FloatBuffer hidden;
    FloatBuffer workspace;
    std::vector<uint8_t> mask;
    FloatBuffer vectors[2];  // pooled vectors of the batch, and the Dense modules' outputs
  };
  // One embed() computes at a time: the BLAS thread count is process-wide and
  // the workers' buffers are shared.
  std::mutex mu;
  std::vector<Worker> workers;  // one per thread

  // The special tokens the post-processor puts before and after a text (those
  // around a one-word text's word), for encode_ids; found once, at open.
  Encoding special_before, special_after;
  int32_t text_type = 0;

  // A remote model: its endpoint instead of an encoder.
  std::optional<RemoteEndpoint> remote;

  Status run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                   size_t masked_prefix, int threads, float* out_rows) const;
  // The vectors of `count` items, item i encoded by encode(i): count x dims
  // floats in item order.
  Result<std::vector<float>> embed_remote(const std::vector<std::string>& texts, const std::string& prompt) const;
  Result<std::vector<float>> embed_items(size_t count, const char* item_name, size_t masked_prefix,
                                         const std::function<Result<Encoding>(size_t)>& encode);
};

// Packs n encodings (order[0..n)) into one batch, runs the encoder and writes
// each text's sentence vector to out_rows + order[b] * dims: pooled, through
// the Dense modules, truncated to dims (Matryoshka) and normalised.
Status Embedder::Impl::run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                                 size_t masked_prefix, int threads, float* out_rows) const {
  const size_t hidden = model.encoder.hidden_size;
  const size_t dims = info.dims;
  TokenBatch& batch = w.batch;
  pack_batch(encodings, order, n, &batch);
  w.hidden.reserve(batch.tokens() * hidden);
  SIMILE_RETURN_IF_ERROR(encoder->forward(batch, w.hidden.data(), w.workspace, threads));
  w.vectors[0].reserve(n * hidden);
  for (size_t b = 0; b < n; ++b) {
    const size_t len = batch.length(b);
    const uint8_t* m = nullptr;
    if (masked_prefix > 0) {
      w.mask.assign(len, 1);
      std::fill(w.mask.begin(), w.mask.begin() + static_cast<long>(std::min(masked_prefix, len)), 0);
      m = w.mask.data();
    }
    pool_tokens(w.hidden.data() + batch.offsets[b] * hidden, len, hidden, m, pooling, w.vectors[0].data() + b * hidden);
  }
  const float* vectors = w.vectors[0].data();
  size_t width = hidden;
  for (size_t d = 0; d < dense.size(); ++d) {
    FloatBuffer& next = w.vectors[(d + 1) % 2];
    next.reserve(n * dense[d].out_features());
    dense[d].apply(vectors, n, next.data());
    vectors = next.data();
    width = dense[d].out_features();
  }
  for (size_t b = 0; b < n; ++b) {
    float* dst = out_rows + order[b] * dims;
    std::memcpy(dst, vectors + b * width, dims * sizeof(float));
    if (normalize) l2_normalize(dst, dims);
  }
  return Status::ok();
}

Result<std::vector<float>> Embedder::Impl::embed_items(size_t count, const char* item_name, size_t masked_prefix,
                                                       const std::function<Result<Encoding>(size_t)>& encode) {
  const size_t dims = info.dims;
  std::vector<float> out(count * dims);
  if (count == 0) return out;
  const size_t per_token = encoder->workspace_floats_per_token() + model.encoder.hidden_size;
  const size_t max_batch_tokens = std::max<size_t>(kWorkspaceBudgetFloats / per_token, 1);
  SIMILE_RETURN_IF_ERROR(run_packed(
      {count, threads, batch_size, item_name, info.name, max_batch_tokens}, mu, encode,
      [&](const std::vector<Encoding>& encodings, const size_t* order, size_t n, size_t worker, int inner,
          size_t first_item) {
        return run_batch(workers[worker], encodings, order, n, masked_prefix, inner, out.data() + first_item * dims);
      }));
  return out;
}

Embedder::Embedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Embedder::~Embedder() = default;

Result<std::shared_ptr<const Embedder>> Embedder::open_shared(const EmbedderOptions& options) {
  // Every option is part of the key (an unset optional differs from every
  // value); the model as given, so two spellings of one model do not share.
  std::string key = options.model;
  auto add = [&key](bool set, const std::string& value) {
    key += '\0';
    key += set ? value : std::string("(unset)");
  };
  add(options.pooling.has_value(), options.pooling ? to_string(*options.pooling) : "");
  add(options.normalize.has_value(), options.normalize.value_or(false) ? "1" : "0");
  add(options.max_tokens.has_value(), std::to_string(options.max_tokens.value_or(0)));
  add(options.dimensions.has_value(), std::to_string(options.dimensions.value_or(0)));
  add(true, std::to_string(options.threads));
  add(true, std::to_string(options.batch_size));
  add(options.dtype.has_value(), options.dtype ? to_string(*options.dtype) : "");
  for (const std::string* part : {&options.remote.base_url, &options.remote.api_key_env, &options.remote.tokenizer,
                                  &options.remote.ca_file})
    add(true, *part);
  add(true, std::to_string(options.remote.known_dims));
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const Embedder>> open_embedders;
  // Held while opening, so that concurrent first opens load the model once.
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = open_embedders.find(key); it != open_embedders.end()) {
    if (auto shared = it->second.lock()) return shared;
  }
  std::erase_if(open_embedders, [](const auto& entry) { return entry.second.expired(); });
  SIMILE_ASSIGN_OR_RETURN(auto opened, open(options));
  std::shared_ptr<const Embedder> shared = std::move(opened);
  open_embedders[key] = shared;
  return shared;
}

Result<std::unique_ptr<Embedder>> Embedder::open(const EmbedderOptions& options) {
  if (options.threads < 0) return Status::invalid_argument("threads must be 0 (all cores) or more");
  if (options.batch_size == 0) return Status::invalid_argument("batch size must be at least 1");
  if (is_remote_model(options.model)) return open_remote(options);
  auto impl = std::make_unique<Impl>();
  SIMILE_ASSIGN_OR_RETURN(std::string dir, resolve_model_dir(options.model));
  SIMILE_ASSIGN_OR_RETURN(impl->model, describe_model(dir));
  const ModelDescription& model = impl->model;

  if (options.max_tokens) {
    if (*options.max_tokens > max_text_tokens(*model.architecture, model.encoder))
      return Status::invalid_argument("max tokens " + std::to_string(*options.max_tokens) + " is more than model " +
                                      model.dir +
                                      " takes: " + describe_max_text_tokens(*model.architecture, model.encoder));
    impl->model.max_tokens = *options.max_tokens;
  }
  if (options.dimensions && (*options.dimensions < 1 || *options.dimensions > model.output_dims()))
    return Status::invalid_argument("dimensions " + std::to_string(*options.dimensions) + " is out of range: model " +
                                    model.dir + " gives " + std::to_string(model.output_dims()) +
                                    "-dimensional vectors (choose 1 to " + std::to_string(model.output_dims()) + ")");
  impl->pooling = options.pooling.value_or(model.pipeline.pooling);
  impl->normalize = options.normalize.value_or(model.pipeline.normalize);
  impl->threads = options.threads > 0 ? options.threads : kernels::default_thread_count();
  impl->batch_size = options.batch_size;
  impl->workers.resize(static_cast<size_t>(impl->threads));

  SIMILE_ASSIGN_OR_RETURN(impl->tokenizer, load_model_tokenizer(model));
  if (const size_t special = impl->tokenizer->special_tokens_added(); model.max_tokens <= special)
    return Status::invalid_argument("max tokens " + std::to_string(model.max_tokens) +
                                    " leaves no room for text: the tokenizer of model " + model.dir + " adds " +
                                    std::to_string(special) + " special tokens to every text");
  {
    SIMILE_ASSIGN_OR_RETURN(Encoding probe, impl->tokenizer->encode("a"));
    size_t first = 0, last = probe.size();
    while (first < probe.size() && probe.special_tokens_mask[first] != 0) ++first;
    while (last > first && probe.special_tokens_mask[last - 1] != 0) --last;
    auto part = [&](size_t from, size_t to) {
      Encoding e;
      for (size_t i = from; i < to; ++i) {
        e.ids.push_back(probe.ids[i]);
        e.tokens.push_back(probe.tokens[i]);
        e.type_ids.push_back(probe.type_ids[i]);
        e.attention_mask.push_back(1);
        e.special_tokens_mask.push_back(1);
        e.offsets.emplace_back(0, 0);
      }
      return e;
    };
    impl->special_before = part(0, first);
    impl->special_after = part(last, probe.size());
    impl->text_type = first < last ? probe.type_ids[first] : 0;
  }

  {
    auto files = WeightFiles::open(model.encoder_dir, /*populate=*/true);
    if (!files.is_ok()) return files.status().with_context("model " + model.dir);
    impl->info = make_model_info(model, **files);
    SIMILE_ASSIGN_OR_RETURN(impl->encoder, shared_encoder(model, **files,
                                                          options.dtype.value_or(InferenceDtype::kFp32), &impl->info));
  }  // the weights are fp32 copies now; the files are unmapped here
  for (const DenseConfig& d : model.pipeline.dense) {
    auto layer = DenseLayer::load(d);
    if (!layer.is_ok()) return layer.status().with_context("model " + model.dir);
    impl->dense.push_back(std::move(layer).value());
  }
  // Matryoshka truncation: the first N values, renormalised when vectors are.
  if (options.dimensions) impl->info.dims = *options.dimensions;
  impl->info.pooling = impl->pooling;
  impl->info.normalize = impl->normalize;
  impl->info.max_tokens = model.max_tokens;
  return std::unique_ptr<Embedder>(new Embedder(std::move(impl)));
}

bool is_remote_model(const std::string& model) { return model.starts_with(kRemoteModelPrefix); }

Result<std::unique_ptr<Embedder>> Embedder::open_remote(const EmbedderOptions& options) {
  const EmbedderOptions::Remote& r = options.remote;
  const std::string name = options.model.substr(std::string_view(kRemoteModelPrefix).size());
  if (name.empty())
    return Status::invalid_argument("remote model '" + options.model + "' names no model: use openai:NAME");
  if (options.pooling || options.dtype.value_or(InferenceDtype::kFp32) != InferenceDtype::kFp32)
    return Status::invalid_argument("remote model " + options.model +
                                    ": --pooling and --dtype are the service's business, not simile's");
  if (options.dimensions && *options.dimensions == 0) return Status::invalid_argument("dimensions must be at least 1");
  auto impl = std::make_unique<Impl>();
  RemoteEndpoint ep;
  ep.model = name;
  std::string base = r.base_url;
  if (base.empty()) {
    const char* env = std::getenv("OPENAI_BASE_URL");
    base = env != nullptr && *env != '\0' ? env : "https://api.openai.com/v1";
  }
  SIMILE_ASSIGN_OR_RETURN(ep.url, remote::api_url(base, "embeddings"));
  ep.api_key_required = !r.api_key_env.empty();
  ep.api_key_env = ep.api_key_required ? r.api_key_env : "OPENAI_API_KEY";
  ep.ca_file = r.ca_file;
  ep.dimensions = options.dimensions;
  ep.batch_size = options.batch_size;

  // Tokens are counted (for chunking) with a local tokenizer: the service's
  // own is not available, and a close one keeps chunks near the size asked.
  ModelInfo& info = impl->info;
  const std::string counter = r.tokenizer.empty() ? std::string(kDefaultModel) : r.tokenizer;
  std::error_code ec;
  if (counter.ends_with(".json") && std::filesystem::is_regular_file(counter, ec)) {
    info.tokenizer_path = std::filesystem::absolute(counter).string();
  } else {
    auto model = inspect_model(counter);
    if (!model.is_ok()) return model.status().with_context("the tokenizer counting tokens for " + options.model);
    info.tokenizer_path = model->tokenizer_path;
  }
  auto tokenizer = Tokenizer::from_file(info.tokenizer_path);
  if (!tokenizer.is_ok()) return tokenizer.status().with_context("the tokenizer counting tokens for " + options.model);
  impl->tokenizer = std::move(tokenizer).value();
  impl->tokenizer->set_truncation(std::nullopt);
  impl->tokenizer->set_padding(std::nullopt);

  info.name = options.model;
  info.dir = ep.url;
  info.architecture = "OpenAI-compatible embeddings endpoint";
  info.model_type = "remote";
  info.max_tokens = options.max_tokens.value_or(kRemoteMaxTokens);
  info.pooling = Pooling::kMean;  // stored with the collection; the service decides
  info.normalize = impl->normalize = options.normalize.value_or(false);
  ContentHash fingerprint;
  fingerprint.add("openai-embeddings").add(name).add(options.dimensions ? std::to_string(*options.dimensions) : "");
  info.fingerprint = "remote-" + fingerprint.hex();
  info.dims = r.known_dims;
  if (info.dims == 0) {
    // New collections must know the size before the first document: ask.
    auto probe = remote_embed(ep, {"dimension probe"}, &info.dims);
    if (!probe.is_ok()) return probe.status();
  }
  impl->remote = std::move(ep);
  return std::unique_ptr<Embedder>(new Embedder(std::move(impl)));
}

Result<std::vector<float>> Embedder::Impl::embed_remote(const std::vector<std::string>& texts,
                                                        const std::string& prompt) const {
  std::vector<std::string> prompted;
  if (!prompt.empty()) {
    prompted.reserve(texts.size());
    for (const std::string& t : texts) prompted.push_back(prompt + t);
  }
  size_t dims = info.dims;
  SIMILE_ASSIGN_OR_RETURN(std::vector<float> out, remote_embed(*remote, prompt.empty() ? texts : prompted, &dims));
  if (normalize) {
    for (size_t i = 0; i < texts.size(); ++i) l2_normalize(out.data() + i * dims, dims);
  }
  return out;
}

Result<std::vector<float>> Embedder::embed(const std::vector<std::string>& texts, const std::string& prompt) const {
  Impl& im = *impl_;
  if (texts.empty()) return std::vector<float>{};
  if (im.remote) return im.embed_remote(texts, prompt);

  // Prompt tokens left out of pooling (Pooling include_prompt = false):
  // sentence-transformers masks the first len(tokenize(prompt)) - 1 tokens,
  // i.e. [CLS] and the prompt (the prompt alone when the tokenizer only
  // appends a token).
  size_t masked_prefix = 0;
  if (!prompt.empty() && !im.model.pipeline.include_prompt) {
    auto enc = encode(prompt);
    if (!enc.is_ok()) return enc.status().with_context("prompt");
    masked_prefix = enc->size() > 0 ? enc->size() - 1 : 0;
  }

  return im.embed_items(texts.size(), "text", masked_prefix, [&](size_t i) { return encode(prompt + texts[i]); });
}

Result<Encoding> Embedder::encode(const std::string& text) const {
  const Impl& im = *impl_;
  return im.tokenizer->encode(im.model.pipeline.do_lower_case ? lowercase_utf8(text) : text);
}

Result<Encoding> Embedder::encode_ids(const std::vector<int32_t>& ids) const {
  const Impl& im = *impl_;
  const size_t vocab = im.tokenizer->vocab_size();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= vocab)
      return Status::invalid_argument("token id " + std::to_string(ids[i]) + " (position " + std::to_string(i) +
                                      ") is outside the vocabulary of model " + im.info.name + " (0 to " +
                                      std::to_string(vocab - 1) + ")");
  const size_t specials = im.special_before.size() + im.special_after.size();
  const size_t room = im.model.max_tokens > specials ? im.model.max_tokens - specials : 0;
  const size_t kept = std::min(ids.size(), room);
  Encoding e = im.special_before;
  auto append = [&](int32_t id, int32_t type, bool special) {
    e.ids.push_back(id);
    e.tokens.emplace_back();
    e.type_ids.push_back(type);
    e.attention_mask.push_back(1);
    e.special_tokens_mask.push_back(special ? 1 : 0);
    e.offsets.emplace_back(0, 0);
  };
  for (size_t i = 0; i < kept; ++i) append(ids[i], im.text_type, false);
  const Encoding& after = im.special_after;
  for (size_t i = 0; i < after.size(); ++i) append(after.ids[i], after.type_ids[i], true);
  return e;
}

Result<std::vector<float>> Embedder::embed_encodings(const std::vector<Encoding>& encodings) const {
  if (impl_->remote)
    return Status::unsupported("remote model " + impl_->info.name + " embeds texts, not token ids");
  return impl_->embed_items(encodings.size(), "input", 0, [&](size_t i) -> Result<Encoding> { return encodings[i]; });
}

Result<std::string> Embedder::prompt_for(const std::string& prompt_name) const {
  std::string names;
  for (const auto& [name, prefix] : impl_->info.prompts) {
    if (name == prompt_name) return prefix;
    names += (names.empty() ? "" : ", ") + name;
  }
  return Status::not_found("model " + impl_->info.name + " has no prompt '" + prompt_name + "'" +
                           (names.empty() ? std::string(" (it defines no prompts)") : "; its prompts: " + names));
}

size_t Embedder::dims() const { return impl_->info.dims; }
bool Embedder::is_remote() const { return impl_->remote.has_value(); }
const ModelInfo& Embedder::info() const { return impl_->info; }
const Tokenizer& Embedder::tokenizer() const { return *impl_->tokenizer; }

}  // namespace simile
