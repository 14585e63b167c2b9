#include "words/word2vec.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "text/utf8.h"
#include "util/mapped_file.h"
#include "words/word2vec_kernels.h"

namespace simile::words {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxSentence = 10000;  // gensim's LineSentence cut
constexpr size_t kJobWords = 10000;     // words a thread takes at a time

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// xorshift64*: fast, and good enough for windows and samples.
struct Random {
  explicit Random(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (state == 0) state = 1;
  }
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  uint32_t next32() { return static_cast<uint32_t>(next() >> 32); }
  // Uniform in [0, n).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((uint64_t{next32()} * n) >> 32); }
  uint64_t state;
};

// The corpus as vocabulary ids, with the sentences' ends.
struct Corpus {
  std::vector<std::string> words;  // most frequent first
  std::vector<uint64_t> counts;
  std::vector<uint32_t> tokens;        // in-vocabulary words only
  std::vector<size_t> sentence_ends;   // into tokens; no empty sentences
  size_t lines = 0, corpus_words = 0, distinct = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; }

Result<Corpus> read_corpus(const std::string& path, size_t min_count) {
  SIMILE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path, "corpus"));
  file.advise_sequential();
  const std::string_view data = file.view();
  Corpus c;
  // First ids in order of first appearance, remapped once counts are known.
  std::unordered_map<std::string_view, uint32_t> first_ids;
  first_ids.reserve(1 << 20);
  std::vector<std::string_view> names;
  std::vector<uint64_t> counts;
  std::vector<uint32_t>& tokens = c.tokens;
  tokens.reserve(data.size() / 6);
  std::vector<size_t> ends;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    const std::string_view line = data.substr(pos, end - pos);
    ++c.lines;
    if (text::find_invalid_utf8(line) != std::string_view::npos)
      return Status::invalid_argument(path + ": line " + std::to_string(c.lines) + " is not valid UTF-8");
    size_t in_sentence = 0, i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_space(line[j])) ++j;
      if (j == i) break;
      const std::string_view word = line.substr(i, j - i);
      i = j;
      auto [it, added] = first_ids.try_emplace(word, static_cast<uint32_t>(names.size()));
      if (added) {
        names.push_back(word);
        counts.push_back(0);
      }
      ++counts[it->second];
      tokens.push_back(it->second);
      if (++in_sentence == kMaxSentence) {
        ends.push_back(tokens.size());
        in_sentence = 0;
      }
    }
    if (in_sentence > 0) ends.push_back(tokens.size());
    pos = end + 1;
  }
  c.corpus_words = tokens.size();
  c.distinct = names.size();
  if (c.corpus_words == 0) return Status::invalid_argument(path + ": the corpus holds no words");

  std::vector<uint32_t> order;
  for (uint32_t id = 0; id < names.size(); ++id)
    if (counts[id] >= min_count) order.push_back(id);
  if (order.empty())
    return Status::invalid_argument(path + ": no word occurs " + std::to_string(min_count) + " times (" +
                                    std::to_string(c.corpus_words) + " words in all); lower --min-count");
  if (order.size() > UINT32_MAX / 2) return Status::invalid_argument(path + ": the vocabulary is too large");
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return counts[a] > counts[b]; });
  std::vector<uint32_t> new_id(names.size(), UINT32_MAX);
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    new_id[order[rank]] = rank;
    c.words.emplace_back(names[order[rank]]);
    c.counts.push_back(counts[order[rank]]);
  }
  // Rewrite in place (the write position never passes the read position),
  // dropping words under min_count and the sentences left empty.
  size_t out = 0, start = 0;
  for (size_t end : ends) {
    const size_t sentence_start = out;
    for (size_t t = start; t < end; ++t)
      if (new_id[tokens[t]] != UINT32_MAX) tokens[out++] = new_id[tokens[t]];
    if (out > sentence_start) c.sentence_ends.push_back(out);
    start = end;
  }
  tokens.resize(out);
  tokens.shrink_to_fit();
  return c;
}

// Vose's alias method: draws word i with probability weight[i] / sum in
// constant time.
class AliasTable {
 public:
  explicit AliasTable(const std::vector<double>& weights) : threshold_(weights.size()), alias_(weights.size()) {
    const size_t n = weights.size();
    const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * static_cast<double>(n) / sum;
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      set(s, scaled[s], l);
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (uint32_t i : large) set(i, 1.0, i);
    for (uint32_t i : small) set(i, 1.0, i);  // rounding leftovers
  }
  uint32_t draw(Random& rng) const {
    const uint64_t r = rng.next();
    const auto i = static_cast<uint32_t>(((r >> 32) * threshold_.size()) >> 32);
    return static_cast<uint32_t>(r) < threshold_[i] ? i : alias_[i];
  }

 private:
  void set(uint32_t i, double p, uint32_t alias) {
    threshold_[i] = p >= 1.0 ? UINT32_MAX : static_cast<uint32_t>(p * 4294967296.0);
    alias_[i] = alias;
  }
  std::vector<uint32_t> threshold_, alias_;
};

class Trainer {
 public:
  Trainer(const Corpus& corpus, const Word2VecOptions& options)
      : c_(corpus), o_(options), dims_(options.dims), step_(negative_step()), add_(add_into()),
        negatives_(negative_weights(corpus)) {
    const size_t n = corpus.words.size();
    syn0_.resize(n * dims_);
    syn1neg_.assign(n * dims_, 0.0f);
    // Input rows uniform in [-1/d, 1/d) as gensim 4 starts them (word2vec.c
    // uses half that range), output rows at zero.
    for (size_t w = 0; w < n; ++w) {
      Random rng(options.seed * 1000003 + w);
      for (size_t d = 0; d < dims_; ++d)
        syn0_[w * dims_ + d] = (static_cast<float>(rng.next32()) / 2147483648.0f - 1.0f) / static_cast<float>(dims_);
    }
    keep_.resize(n);
    uint64_t total = 0;
    for (uint64_t count : corpus.counts) total += count;
    const double threshold = options.sample * static_cast<double>(total);
    for (size_t w = 0; w < n; ++w) {
      double p = 1.0;
      if (options.sample > 0) {
        const double v = static_cast<double>(corpus.counts[w]);
        p = std::min(1.0, (std::sqrt(v / threshold) + 1) * (threshold / v));
      }
      keep_[w] = static_cast<uint64_t>(std::llround(p * 4294967296.0));
    }
    // Jobs of about kJobWords words, whole sentences.
    size_t start = 0, words = 0;
    for (size_t s = 0; s < corpus.sentence_ends.size(); ++s) {
      words = corpus.sentence_ends[s] - (s == 0 ? 0 : corpus.sentence_ends[s - 1]) + words;
      if (words >= kJobWords || s + 1 == corpus.sentence_ends.size()) {
        jobs_.push_back({start, s + 1});
        start = s + 1;
        words = 0;
      }
    }
  }

  void run(size_t threads, const std::function<void(const Word2VecProgress&)>& progress, Word2VecReport* report) {
    const auto start = Clock::now();
    const size_t total = c_.tokens.size() * o_.epochs;
    for (size_t epoch = 0; epoch < o_.epochs; ++epoch) {
      next_job_ = 0;
      std::vector<std::thread> workers;
      std::atomic<size_t> running{threads};
      std::mutex mu;
      std::condition_variable done;
      for (size_t t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
          work(epoch, t);
          if (--running == 0) {
            std::lock_guard<std::mutex> lock(mu);
            done.notify_all();
          }
        });
      std::unique_lock<std::mutex> lock(mu);
      while (running > 0) {
        done.wait_for(lock, std::chrono::milliseconds(200));
        if (progress) {
          Word2VecProgress p;
          p.epoch = epoch + 1;
          p.words_done = words_done_;
          p.words_total = total;
          p.fraction = total ? std::min(1.0, double(p.words_done) / double(total)) : 1.0;
          p.alpha = alpha_at(p.words_done);
          p.seconds = seconds_since(start);
          progress(p);
        }
      }
      lock.unlock();
      for (auto& w : workers) w.join();
    }
    report->train_seconds = seconds_since(start);
    report->trained_words = c_.tokens.size() * o_.epochs;
    report->effective_words = effective_words_;
  }

  std::vector<float> take_vectors() { return std::move(syn0_); }

 private:
  static AliasTable negative_weights(const Corpus& c) {
    std::vector<double> w(c.counts.size());
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::pow(static_cast<double>(c.counts[i]), 0.75);
    return AliasTable(w);
  }

  float alpha_at(size_t words_done) const {
    const double total = static_cast<double>(c_.tokens.size() * o_.epochs);
    const double progress = total > 0 ? std::min(1.0, words_done / total) : 1.0;
    return std::max(o_.min_alpha, static_cast<float>(o_.alpha - (o_.alpha - o_.min_alpha) * progress));
  }

  void work(size_t epoch, size_t thread) {
    Random rng(o_.seed ^ ((epoch + 1) * 0x100000001B3ull) ^ (thread * 0xD6E8FEB86659FD93ull));
    std::vector<uint32_t> kept, targets(o_.negative + 1);
    std::vector<float> grad(dims_), neu1(dims_);
    size_t effective = 0;
    for (;;) {
      const size_t job = next_job_++;
      if (job >= jobs_.size()) break;
      const auto [first, last] = jobs_[job];
      const size_t begin = first == 0 ? 0 : c_.sentence_ends[first - 1], end = c_.sentence_ends[last - 1];
      const float alpha = alpha_at(words_done_);
      for (size_t s = first; s < last; ++s) {
        kept.clear();
        for (size_t t = s == 0 ? 0 : c_.sentence_ends[s - 1]; t < c_.sentence_ends[s]; ++t) {
          const uint32_t w = c_.tokens[t];
          if (keep_[w] > rng.next32()) kept.push_back(w);
        }
        effective += kept.size();
        train_sentence(kept, alpha, rng, targets, grad, neu1);
      }
      words_done_ += end - begin;
    }
    effective_words_ += effective;
  }

  // Appends targets[0] = word, then the negatives that are not the word, and
  // starts loading their output rows; returns how many.
  size_t draw_targets(uint32_t word, Random& rng, uint32_t* targets) const {
    size_t n = 0;
    targets[n++] = word;
    for (size_t k = 0; k < o_.negative; ++k) {
      const uint32_t t = negatives_.draw(rng);
      if (t != word) targets[n++] = t;
    }
    for (size_t t = 0; t < n; ++t) prefetch_row(syn1neg_.data() + size_t{targets[t]} * dims_);
    return n;
  }

  // The rows are scattered over matrices far larger than the caches: asking
  // for them before they are needed overlaps the misses.
  void prefetch_row(const float* row) const {
    const char* p = reinterpret_cast<const char*>(row);
    for (size_t off = 0; off < dims_ * sizeof(float); off += 64) __builtin_prefetch(p + off, 1, 3);
  }

  void train_sentence(const std::vector<uint32_t>& s, float alpha, Random& rng, std::vector<uint32_t>& targets,
                      std::vector<float>& grad, std::vector<float>& neu1) {
    const size_t n = s.size(), window = o_.window, per_pair = o_.negative + 1;
    targets.resize(2 * window * per_pair);
    size_t counts[200];  // targets per context position (2 x window <= 200)
    for (size_t i = 0; i < n; ++i) {
      const size_t b = rng.below(static_cast<uint32_t>(window));
      const size_t lo = i + b >= window ? i + b - window : 0;
      const size_t hi = std::min(n, i + window - b + 1);
      if (o_.model == Word2VecModel::kSkipGram) {
        // Every pair's targets first, so their rows load while earlier
        // pairs train.
        size_t pairs = 0;
        for (size_t j = lo; j < hi; ++j) {
          if (j == i) continue;
          prefetch_row(syn0_.data() + size_t{s[j]} * dims_);
          counts[pairs] = draw_targets(s[i], rng, targets.data() + pairs * per_pair);
          ++pairs;
        }
        size_t pair = 0;
        for (size_t j = lo; j < hi; ++j) {
          if (j == i) continue;
          float* in = syn0_.data() + size_t{s[j]} * dims_;
          std::fill(grad.begin(), grad.end(), 0.0f);
          step_(in, grad.data(), syn1neg_.data(), targets.data() + pair * per_pair, counts[pair], dims_, alpha);
          add_(in, grad.data(), dims_);
          ++pair;
        }
      } else {
        const size_t nt = draw_targets(s[i], rng, targets.data());
        std::fill(neu1.begin(), neu1.end(), 0.0f);
        size_t context = 0;
        for (size_t j = lo; j < hi; ++j) {
          if (j == i) continue;
          add_(neu1.data(), syn0_.data() + size_t{s[j]} * dims_, dims_);
          ++context;
        }
        if (context == 0) continue;
        const float inv = 1.0f / static_cast<float>(context);
        for (float& x : neu1) x *= inv;
        std::fill(grad.begin(), grad.end(), 0.0f);
        step_(neu1.data(), grad.data(), syn1neg_.data(), targets.data(), nt, dims_, alpha);
        for (size_t j = lo; j < hi; ++j)
          if (j != i) add_(syn0_.data() + size_t{s[j]} * dims_, grad.data(), dims_);
      }
    }
  }

  const Corpus& c_;
  const Word2VecOptions& o_;
  const size_t dims_;
  const NegativeStep step_;
  const AddInto add_;
  const AliasTable negatives_;
  std::vector<float> syn0_, syn1neg_;
  std::vector<uint64_t> keep_;  // keep a word when keep_ > a random 32-bit number
  std::vector<std::pair<size_t, size_t>> jobs_;  // [first, last) sentences
  std::atomic<size_t> next_job_{0}, words_done_{0}, effective_words_{0};
};

}  // namespace

Status validate(const Word2VecOptions& o) {
  auto bad = [](const std::string& what) { return Status::invalid_argument(what); };
  if (o.dims < 1 || o.dims > 4096) return bad("--dim must be 1 to 4096");
  if (o.window < 1 || o.window > 100) return bad("--window must be 1 to 100");
  if (o.negative < 1 || o.negative > 100) return bad("--negative must be 1 to 100");
  if (o.epochs < 1 || o.epochs > 1000) return bad("--epochs must be 1 to 1000");
  if (o.min_count < 1) return bad("--min-count must be at least 1");
  if (!(o.sample >= 0 && o.sample < 1)) return bad("--sample must be in [0, 1)");
  if (!(o.min_alpha > 0 && o.min_alpha <= o.alpha && o.alpha < 1))
    return bad("the learning rates need 0 < --min-alpha <= --alpha < 1");
  if (o.threads > 1024) return bad("--threads must be at most 1024");
  return Status::ok();
}

Result<WordVectors> train_word2vec(const std::string& path, const Word2VecOptions& options,
                                   const std::function<void(const Word2VecProgress&)>& progress,
                                   Word2VecReport* report) {
  SIMILE_RETURN_IF_ERROR(validate(options));
  Word2VecReport local;
  if (report == nullptr) report = &local;
  const auto scan_start = Clock::now();
  SIMILE_ASSIGN_OR_RETURN(Corpus corpus, read_corpus(path, options.min_count));
  report->lines = corpus.lines;
  report->corpus_words = corpus.corpus_words;
  report->distinct_words = corpus.distinct;
  report->vocabulary = corpus.words.size();
  report->threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  Trainer trainer(corpus, options);
  report->scan_seconds = seconds_since(scan_start);
  trainer.run(report->threads, progress, report);
  return WordVectors::from(std::move(corpus.words), trainer.take_vectors(), options.dims);
}

}  // namespace simile::words
