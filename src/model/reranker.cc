#include "simile/reranker.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "model/architecture.h"
#include "model/config.h"
#include "model/kernels/gemm.h"
#include "model/packed_batches.h"
#include "model/safetensors.h"
#include "model/sequence_classifier.h"
#include "simile/models.h"
#include "simile/tokenizer.h"
#include "util/file_util.h"

namespace simile {

struct Reranker::Impl {
  RerankerInfo info;
  EncoderConfig encoder_config;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<SequenceClassifier> head;
  Activation activation = Activation::kSigmoid;
  // RoBERTa-family tokenizers give pair type ids the model never sees
  // (transformers passes no token_type_ids to a model with one token type).
  bool zero_type_ids = false;
  int threads = 1;
  size_t batch_size = 32;

  struct Worker {
    TokenBatch batch;
    FloatBuffer hidden;
    FloatBuffer workspace;
    std::vector<float> first_tokens, scratch, logits;
  };
  std::mutex mu;  // one score() computes at a time (see Embedder::Impl::mu)
  std::vector<Worker> workers;

  Status run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n, int threads,
                   float* scores) const;
};

// Packs n pairs (order[0..n)) into one batch and writes each pair's score to
// scores[order[b]].
Status Reranker::Impl::run_batch(Worker& w, const std::vector<Encoding>& encodings, const size_t* order, size_t n,
                                 int threads, float* scores) const {
  const size_t h = encoder_config.hidden_size;
  TokenBatch& batch = w.batch;
  pack_batch(encodings, order, n, &batch);
  if (zero_type_ids) std::fill(batch.type_ids.begin(), batch.type_ids.end(), 0);
  w.hidden.reserve(batch.tokens() * h);
  SIMILE_RETURN_IF_ERROR(encoder->forward(batch, w.hidden.data(), w.workspace, threads));
  w.first_tokens.resize(n * h);
  w.scratch.resize(n * h);
  w.logits.resize(n);
  for (size_t b = 0; b < n; ++b)
    std::memcpy(w.first_tokens.data() + b * h, w.hidden.data() + batch.offsets[b] * h, h * sizeof(float));
  head->logits(w.first_tokens.data(), n, w.scratch.data(), w.logits.data());
  apply_activation(activation, w.logits.data(), n);
  for (size_t b = 0; b < n; ++b) scores[order[b]] = w.logits[b];
  return Status::ok();
}

Reranker::Reranker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reranker::~Reranker() = default;

Result<std::unique_ptr<Reranker>> Reranker::open(const RerankerOptions& options) {
  if (options.threads < 0) return Status::invalid_argument("threads must be 0 (all cores) or more");
  if (options.batch_size == 0) return Status::invalid_argument("batch size must be at least 1");
  if (options.model.empty())
    return Status::invalid_argument("no reranker model given: a cross-encoder's cache name or directory");
  auto impl = std::make_unique<Impl>();
  SIMILE_ASSIGN_OR_RETURN(std::string dir, resolve_model_dir(options.model));
  SIMILE_ASSIGN_OR_RETURN(ModelDescription model, describe_model(dir));
  impl->encoder_config = model.encoder;
  SIMILE_ASSIGN_OR_RETURN(std::string config_text, read_file(model.encoder_dir + "/config.json"));
  auto classifier = parse_classifier_config(config_text);
  if (!classifier.is_ok()) return classifier.status().with_context("model " + model.dir);
  RerankerInfo& info = impl->info;
  info.name = std::filesystem::path(model.dir).filename().string();
  info.dir = model.dir;
  info.architecture = model.encoder.architecture;
  impl->activation = default_score_activation(*classifier);
  if (!options.activation.empty()) {
    auto a = parse_activation(options.activation);
    if (!a.is_ok()) return Status::invalid_argument(a.status().message());
    impl->activation = *a;
  }
  info.activation = activation_name(impl->activation);

  // CrossEncoder's max length: the tokenizer's model_max_length, within what
  // the position table holds (514 RoBERTa positions hold 512 tokens);
  // sentence_bert_config.json is a bi-encoder file.
  const size_t limit = max_text_tokens(*model.architecture, model.encoder);
  info.max_tokens = std::min(limit, model.pipeline.tokenizer_max_length.value_or(limit));
  if (options.max_tokens) {
    if (*options.max_tokens > limit)
      return Status::invalid_argument("max tokens " + std::to_string(*options.max_tokens) + " is more than model " +
                                      model.dir + " takes: " + describe_max_text_tokens(*model.architecture, model.encoder));
    info.max_tokens = *options.max_tokens;
  }

  auto tokenizer = Tokenizer::from_file(model.tokenizer_path());
  if (!tokenizer.is_ok()) return tokenizer.status().with_context("model " + model.dir);
  impl->tokenizer = std::move(tokenizer).value();
  impl->tokenizer->set_padding(std::nullopt);
  impl->tokenizer->set_truncation(std::nullopt);
  {
    auto specials = impl->tokenizer->encode_pair("", "");
    if (!specials.is_ok()) return specials.status().with_context("model " + model.dir);
    if (info.max_tokens <= specials->size())
      return Status::invalid_argument("max tokens " + std::to_string(info.max_tokens) + " leaves no room for text: a pair takes " +
                                      std::to_string(specials->size()) + " special tokens in model " + model.dir);
  }
  TruncationOptions truncation;
  truncation.max_length = info.max_tokens;
  truncation.strategy = TruncationOptions::Strategy::kLongestFirst;
  impl->tokenizer->set_truncation(truncation);
  impl->zero_type_ids = model.encoder.type_vocab_size <= 1;

  {
    auto files = WeightFiles::open(model.encoder_dir, /*populate=*/true);
    if (!files.is_ok()) return files.status().with_context("model " + model.dir);
    auto head = SequenceClassifier::load(model.encoder, *classifier, **files);
    if (!head.is_ok()) return head.status().with_context("model " + model.dir);
    impl->head = std::move(head).value();
    if (classifier->num_labels != 1) {  // as CrossEncoder.rank() refuses them
      std::string labels;
      for (const std::string& l : classifier->labels) labels += (labels.empty() ? "" : ", ") + l;
      return Status::invalid_argument("model " + model.dir + " classifies pairs into " +
                                      std::to_string(classifier->num_labels) + " labels" +
                                      (labels.empty() ? "" : " (" + labels + ")") +
                                      "; reranking needs a cross-encoder with one relevance score (num_labels 1)");
    }
    SIMILE_ASSIGN_OR_RETURN(impl->encoder, load_encoder(model, **files));
  }
  impl->threads = options.threads > 0 ? options.threads : kernels::default_thread_count();
  impl->batch_size = options.batch_size;
  impl->workers.resize(static_cast<size_t>(impl->threads));
  return std::unique_ptr<Reranker>(new Reranker(std::move(impl)));
}

Result<std::vector<float>> Reranker::score(const std::string& query, const std::vector<std::string>& documents) const {
  Impl& im = *impl_;
  std::vector<float> scores(documents.size());
  SIMILE_RETURN_IF_ERROR(run_packed(
      {documents.size(), im.threads, im.batch_size, "document", im.info.name}, im.mu,
      [&](size_t i) { return im.tokenizer->encode_pair(query, documents[i]); },
      [&](const std::vector<Encoding>& encodings, const size_t* order, size_t n, size_t worker, int inner,
          size_t first_item) {
        return im.run_batch(im.workers[worker], encodings, order, n, inner, scores.data() + first_item);
      }));
  return scores;
}

Result<std::vector<RankedDocument>> Reranker::rerank(const std::string& query,
                                                     const std::vector<std::string>& documents, size_t top_k) const {
  SIMILE_ASSIGN_OR_RETURN(std::vector<float> scores, score(query, documents));
  std::vector<RankedDocument> ranked(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) ranked[i] = {i, scores[i]};
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const RankedDocument& a, const RankedDocument& b) { return a.score > b.score; });
  if (top_k > 0 && ranked.size() > top_k) ranked.resize(top_k);
  return ranked;
}

const RerankerInfo& Reranker::info() const { return impl_->info; }

}  // namespace simile
