#include "simile/embedder.h"

#include <omp.h>
#include <utf8proc.h>

#include <algorithm>
#include <mutex>
#include <numeric>

#include "model/architecture.h"
#include "model/config.h"
#include "model/kernels/gemm.h"
#include "model/model_info.h"
#include "model/model_tokenizer.h"
#include "model/pooling.h"
#include "model/safetensors.h"
#include "simile/models.h"

namespace simile {

namespace {

// Texts tokenised at a time: bounds the memory held by encodings (token
// strings and offsets) when embedding large inputs.
constexpr size_t kTokenizeChunk = 4096;

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

}  // namespace

struct Embedder::Impl {
  ModelDescription model;
  ModelInfo info;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Encoder> encoder;
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
  };
  // One embed() computes at a time: the BLAS thread count is process-wide and
  // the workers' buffers are shared.
  std::mutex mu;
  std::vector<Worker> workers;  // one per thread

  Status run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                   size_t masked_prefix, int threads, float* out_rows) const;
};

// Packs n encodings (order[0..n)) into one batch, runs the encoder and writes
// each text's pooled vector to out_rows + order[b] * dims.
Status Embedder::Impl::run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                                 size_t masked_prefix, int threads, float* out_rows) const {
  const size_t dims = info.dims;
  TokenBatch& batch = w.batch;
  batch.clear();
  for (size_t b = 0; b < n; ++b) {
    const Encoding& e = encodings[order[b]];
    batch.ids.insert(batch.ids.end(), e.ids.begin(), e.ids.end());
    batch.type_ids.insert(batch.type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    batch.offsets.push_back(batch.ids.size());
  }
  w.hidden.reserve(batch.tokens() * dims);
  SIMILE_RETURN_IF_ERROR(encoder->forward(batch, w.hidden.data(), w.workspace, threads));
  for (size_t b = 0; b < n; ++b) {
    const size_t len = batch.length(b);
    const uint8_t* m = nullptr;
    if (masked_prefix > 0) {
      w.mask.assign(len, 1);
      std::fill(w.mask.begin(), w.mask.begin() + static_cast<long>(std::min(masked_prefix, len)), 0);
      m = w.mask.data();
    }
    float* dst = out_rows + order[b] * dims;
    pool_tokens(w.hidden.data() + batch.offsets[b] * dims, len, dims, m, pooling, dst);
    if (normalize) l2_normalize(dst, dims);
  }
  return Status::ok();
}

Embedder::Embedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Embedder::~Embedder() = default;

Result<std::unique_ptr<Embedder>> Embedder::open(const EmbedderOptions& options) {
  if (options.threads < 0) return Status::invalid_argument("threads must be 0 (all cores) or more");
  if (options.batch_size == 0) return Status::invalid_argument("batch size must be at least 1");
  auto impl = std::make_unique<Impl>();
  SIMILE_ASSIGN_OR_RETURN(std::string dir, resolve_model_dir(options.model));
  SIMILE_ASSIGN_OR_RETURN(impl->model, describe_model(dir));
  const ModelDescription& model = impl->model;

  if (options.max_tokens) {
    if (*options.max_tokens > model.encoder.max_position_embeddings)
      return Status::invalid_argument("max tokens " + std::to_string(*options.max_tokens) + " exceeds the " +
                                      std::to_string(model.encoder.max_position_embeddings) + " positions of model " +
                                      model.dir);
    impl->model.max_tokens = *options.max_tokens;
  }
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
    auto files = WeightFiles::open(model.encoder_dir, /*populate=*/true);
    if (!files.is_ok()) return files.status().with_context("model " + model.dir);
    impl->info = make_model_info(model, **files);
    SIMILE_ASSIGN_OR_RETURN(impl->encoder, load_encoder(model, **files));
  }  // the weights are fp32 copies now; the files are unmapped here
  impl->info.pooling = impl->pooling;
  impl->info.normalize = impl->normalize;
  impl->info.max_tokens = model.max_tokens;
  return std::unique_ptr<Embedder>(new Embedder(std::move(impl)));
}

// Below this many tokens a single text is not split across threads.
constexpr size_t kIntraOpMinTokens = 128;
// Workspace of one forward pass (per thread) that batches are sized to stay
// under, in floats (1 GiB).
constexpr size_t kWorkspaceBudgetFloats = size_t{1} << 28;

Result<std::vector<float>> Embedder::embed(const std::vector<std::string>& texts, const std::string& prompt) const {
  Impl& im = *impl_;
  const size_t dims = im.info.dims;
  std::vector<float> out(texts.size() * dims);
  if (texts.empty()) return out;

  // Prompt tokens left out of pooling (Pooling include_prompt = false):
  // sentence-transformers masks the first len(tokenize(prompt)) - 1 tokens,
  // i.e. [CLS] and the prompt (the prompt alone when the tokenizer only
  // appends a token).
  size_t masked_prefix = 0;
  if (!prompt.empty() && !im.model.pipeline.include_prompt) {
    auto enc = im.tokenizer->encode(im.model.pipeline.do_lower_case ? lowercase_utf8(prompt) : prompt);
    if (!enc.is_ok()) return enc.status().with_context("prompt");
    masked_prefix = enc->size() > 0 ? enc->size() - 1 : 0;
  }

  std::vector<Encoding> encodings;
  std::vector<Status> errors;
  for (size_t chunk = 0; chunk < texts.size(); chunk += kTokenizeChunk) {
    const size_t count = std::min(kTokenizeChunk, texts.size() - chunk);
    encodings.assign(count, Encoding());
    errors.assign(count, Status::ok());
#pragma omp parallel for num_threads(im.threads) schedule(dynamic, 16) if (count > 16)
    for (long i = 0; i < static_cast<long>(count); ++i) {
      std::string text = prompt + texts[chunk + static_cast<size_t>(i)];
      if (im.model.pipeline.do_lower_case) text = lowercase_utf8(text);
      auto enc = im.tokenizer->encode(text);
      if (enc.is_ok())
        encodings[i] = std::move(enc).value();
      else
        errors[i] = enc.status();
    }
    for (size_t i = 0; i < count; ++i) {
      if (!errors[i].is_ok()) return errors[i].with_context("text " + std::to_string(chunk + i));
      if (encodings[i].size() == 0)
        return Status::invalid_argument("text " + std::to_string(chunk + i) + " gives no tokens");
    }

    // Longest first, as sentence-transformers orders its batches. (Sequences
    // are packed without padding, so the order changes no result and little
    // speed; it keeps each batch's work similar.)
    std::vector<size_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return encodings[a].size() > encodings[b].size(); });

    // Parallelism: each thread runs whole batches on its own, with
    // single-threaded GEMMs: one synchronisation per batch instead of dozens
    // per layer, which matters on a busy machine where a preempted thread
    // stalls every barrier. Too few batches for the threads are split (the
    // sequences are packed, so a batch's split changes no result); only a
    // lone text is parallelised inside the forward pass.
    // A batch also stops at a token budget: a large model's workspace per
    // token (188 KB for a 7B decoder) would otherwise take tens of GB for 32
    // long texts. The budget binds only for such models.
    const size_t per_token = im.encoder->workspace_floats_per_token() + dims;
    const size_t max_batch_tokens = std::max<size_t>(kWorkspaceBudgetFloats / per_token, 1);
    std::vector<std::pair<size_t, size_t>> units;  // (first, count) in `order`
    for (size_t first = 0, tokens = 0, i = 0; i < count; ++i) {
      const size_t len = encodings[order[i]].size();
      if (i > first && (i - first == im.batch_size || tokens + len > max_batch_tokens)) {
        units.emplace_back(first, i - first);
        first = i;
        tokens = 0;
      }
      tokens += len;
      if (i + 1 == count) units.emplace_back(first, count - first);
    }
    while (units.size() < static_cast<size_t>(im.threads)) {
      auto largest = std::max_element(units.begin(), units.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
      if (largest->second < 2) break;
      const size_t half = largest->second / 2;
      const std::pair<size_t, size_t> tail(largest->first + half, largest->second - half);
      largest->second = half;
      units.push_back(tail);
    }
    const int team = static_cast<int>(std::min<size_t>(static_cast<size_t>(im.threads), units.size()));
    // A lone short text runs on one thread: splitting it inside the forward
    // pass costs more in synchronisation than it saves (docs/benchmarks.md,
    // batch 1: 196 against 68 sentences/s on short texts; from about 128
    // tokens on, two threads win).
    int inner = team > 1 ? 1 : im.threads;
    if (team == 1 && units.size() == 1 && units[0].second == 1 && encodings[order[0]].size() < kIntraOpMinTokens)
      inner = 1;
    std::vector<Status> batch_status(units.size(), Status::ok());
    std::lock_guard<std::mutex> lock(im.mu);
    kernels::ComputeThreads threads(inner);
#pragma omp parallel for num_threads(team) schedule(dynamic, 1) if (team > 1)
    for (long u = 0; u < static_cast<long>(units.size()); ++u) {
      const auto [first, n] = units[static_cast<size_t>(u)];
      Impl::Worker& w = im.workers[team > 1 ? static_cast<size_t>(omp_get_thread_num()) : 0];
      batch_status[static_cast<size_t>(u)] =
          im.run_batch(w, encodings, order.data() + first, n, masked_prefix, inner, out.data() + chunk * dims);
    }
    for (const Status& st : batch_status)
      if (!st.is_ok()) return st.with_context("model " + im.info.name);
  }
  return out;
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
const ModelInfo& Embedder::info() const { return impl_->info; }
const Tokenizer& Embedder::tokenizer() const { return *impl_->tokenizer; }

}  // namespace simile
