#include "store/ingest.h"

#include <chrono>
#include <cmath>
#include <utility>

#include "text/chunker.h"
#include "text/document_reader.h"
#include "util/check.h"
#include "util/hash.h"
#include "index/keyword_segment.h"

namespace simile::store {

using keyword::TermMap;

namespace {

Result<text::InputFormat> parse_format(const std::string& name) {
  if (name.empty() || name == "auto") return text::InputFormat::kAuto;
  if (name == "txt" || name == "text") return text::InputFormat::kText;
  if (name == "md" || name == "markdown") return text::InputFormat::kMarkdown;
  if (name == "html") return text::InputFormat::kHtml;
  if (name == "json") return text::InputFormat::kJson;
  if (name == "jsonl" || name == "ndjson") return text::InputFormat::kJsonl;
  if (name == "csv") return text::InputFormat::kCsv;
  if (name == "lines") return text::InputFormat::kLines;
  return Status::invalid_argument("unknown input format '" + name +
                                  "' (use txt, md, html, json, jsonl, csv or lines)");
}

struct Pending {
  DocumentWrite write;
  std::vector<text::Chunk> chunks;
  bool update = false;
};

}  // namespace

struct Ingester::State {
 public:
  State(const IngestTarget& target, const IngestOptions& options, VectorType type)
      : t_(target), o_(options), type_(type), info_(target.collection->info) {}

  Status take(Result<text::SourceDocument> item);
  Status flush();
  IngestSummary& summary() { return summary_; }
  bool stopped() const { return stopped_; }
  void set_total(size_t total) { total_ = total; }

 private:
  Status problem(const Status& st);
  void progress() {
    if (o_.on_progress) o_.on_progress(done_, total_);
  }

  const IngestTarget& t_;
  const IngestOptions& o_;
  VectorType type_;
  const CollectionInfo& info_;
  std::vector<Pending> pending_;
  size_t pending_chunks_ = 0;
  size_t done_ = 0, total_ = 0;
  bool stopped_ = false;
  IngestSummary summary_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  friend class Ingester;
};

Status Ingester::State::problem(const Status& st) {
  ++summary_.failed;
  if (o_.on_problem) o_.on_problem(st);
  return o_.on_error == OnError::kFail ? st : Status::ok();
}

Status Ingester::State::take(Result<text::SourceDocument> item) {
  if (!item.is_ok()) {
    ++done_;
    return problem(item.status());
  }
  text::SourceDocument& doc = *item;
  const std::string meta = doc.meta.dump();
  const std::string hash = ContentHash().add(doc.title).add(doc.text).add(meta).hex();
  SIMILE_ASSIGN_OR_RETURN(auto stored, t_.store->content_hash(t_.collection->id, doc.id));
  if (stored && *stored == hash) {
    ++summary_.unchanged;
    ++done_;
    progress();
    return Status::ok();
  }
  Pending p;
  if (t_.embedder != nullptr) {
    text::ChunkOptions chunking;
    chunking.max_tokens = info_.chunk_tokens;
    chunking.overlap_tokens = info_.overlap_tokens;
    auto chunks = text::chunk_text(doc.text, *t_.chunk_tokenizer, chunking);
    if (!chunks.is_ok()) {
      ++done_;
      return problem(chunks.status().with_context(doc.origin));
    }
    p.chunks = std::move(chunks).value();
  }
  const bool empty = t_.embedder != nullptr ? p.chunks.empty()
                                            : doc.text.find_first_not_of(" \t\r\n") == std::string::npos;
  if (empty) {
    ++done_;
    return problem(Status::invalid_argument(doc.origin + ": empty document"));
  }
  p.write.keyword = analyze_document(*t_.analyzer, doc.title, doc.text);
  p.update = stored.has_value();
  p.write.doc_id = std::move(doc.id);
  p.write.title = std::move(doc.title);
  p.write.text = std::move(doc.text);
  p.write.meta = meta;
  p.write.content_hash = hash;
  p.write.origin = std::move(doc.origin);
  // Keyword-only documents weigh one chunk each in the commit batch.
  pending_chunks_ += std::max<size_t>(1, p.chunks.size());
  pending_.push_back(std::move(p));
  if (pending_chunks_ >= o_.commit_chunks) {
    SIMILE_RETURN_IF_ERROR(flush());
    if (o_.should_stop && o_.should_stop()) {
      stopped_ = true;
      return Status::internal("ingest stopped");  // unwinds the reader; not reported
    }
  }
  return Status::ok();
}

Status Ingester::State::flush() {
  if (pending_.empty()) return Status::ok();
  // The batch leaves pending_ before anything can fail: a batch whose
  // embedding or write failed is reported and dropped, never written again
  // later from documents half moved into the failed write.
  std::vector<Pending> batch = std::move(pending_);
  pending_.clear();
  const size_t batch_chunks = std::exchange(pending_chunks_, 0);
  std::vector<std::string> texts;
  texts.reserve(batch_chunks);
  for (const Pending& p : batch)
    for (const text::Chunk& c : p.chunks) texts.push_back(p.write.text.substr(c.byte_begin, c.byte_end - c.byte_begin));
  std::vector<float> vectors;
  if (!texts.empty()) {
    auto embedded = t_.embedder->embed(texts, info_.document_prompt);
    if (!embedded.is_ok()) return embedded.status();
    vectors = std::move(embedded).value();
  }
  const size_t dims = info_.dims;
  std::vector<DocumentWrite> writes;
  std::vector<std::string> ids;
  writes.reserve(batch.size());
  size_t row = 0;
  for (Pending& p : batch) {
    for (const text::Chunk& c : p.chunks) {
      ChunkWrite w;
      w.byte_begin = c.byte_begin;
      w.byte_end = c.byte_end;
      w.char_begin = c.char_begin;
      w.char_end = c.char_end;
      encode_for_storage(info_, type_, vectors.data() + row * dims, w.vector, w.exact);
      summary_.tokens += c.tokens;
      ++row;
      p.write.chunks.push_back(std::move(w));
    }
    ids.push_back(p.write.doc_id);
    writes.push_back(std::move(p.write));
  }
  SIMILE_RETURN_IF_ERROR(t_.store->write_documents(t_.collection->id, writes, t_.keep_related));
  SIMILE_RETURN_IF_ERROR(t_.store->compact_keyword_segments(t_.collection->id));
  for (const Pending& p : batch) ++(p.update ? summary_.updated : summary_.added);
  summary_.chunks += texts.size();
  done_ += batch.size();
  if (o_.on_commit) o_.on_commit(ids);
  progress();
  return Status::ok();
}

KeywordTerms analyze_document(text::Analyzer& analyzer, std::string_view title, std::string_view text) {
  TermMap<uint32_t> counts;
  KeywordTerms out;
  auto add = [&](std::string_view term, size_t, size_t) {
    auto it = counts.find(term);
    if (it == counts.end())
      counts.emplace(std::string(term), 1);
    else
      ++it->second;
    ++out.length;
  };
  analyzer.analyze(title, add);
  analyzer.analyze(text, add);
  out.counts.reserve(counts.size());
  for (auto& [term, count] : counts) out.counts.emplace_back(term, count);
  return out;
}

Ingester::Ingester(const IngestTarget& target, const IngestOptions& options) {
  // Keyword-only collections have no vector type.
  auto type = target.embedder != nullptr ? parse_vector_type(target.collection->info.vector_type)
                                         : Result<VectorType>(VectorType::kF32);
  SIMILE_CHECK(type.is_ok());  // checked when the collection was opened
  state_ = std::make_unique<State>(target, options, *type);
}
Ingester::~Ingester() = default;
Status Ingester::take(Result<text::SourceDocument> item) { return state_->take(std::move(item)); }
Status Ingester::finish() { return state_->flush(); }
bool Ingester::stopped() const { return state_->stopped(); }
void Ingester::set_total(size_t total) { state_->set_total(total); }
IngestSummary Ingester::summary() const {
  IngestSummary s = state_->summary_;
  s.interrupted = state_->stopped();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->start_).count();
  return s;
}

void encode_for_storage(const CollectionInfo& info, VectorType type, const float* embedding, std::string& vector,
                        std::string& exact) {
  const size_t dims = info.dims;
  std::vector<float> v(embedding, embedding + dims);
  if (info.metric == "cosine") {
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    if (norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& x : v) x *= inv;
    }
  }
  vector.resize(encoded_size(type, dims));
  encode_vector(type, v.data(), dims, reinterpret_cast<uint8_t*>(vector.data()));
  exact.clear();
  if (type == VectorType::kI8) {
    exact.resize(encoded_size(VectorType::kF32, dims));
    encode_vector(VectorType::kF32, v.data(), dims, reinterpret_cast<uint8_t*>(exact.data()));
  }
}

Result<IngestSummary> ingest(const IngestTarget& target, const std::vector<std::string>& inputs,
                             const IngestOptions& options) {
  text::ReaderOptions reader;
  SIMILE_ASSIGN_OR_RETURN(reader.format, parse_format(options.format));
  reader.id_field = options.id_field;
  reader.text_field = options.text_field;
  reader.title_field = options.title_field;
  reader.meta_fields = options.meta_fields;
  reader.follow_symlinks = options.follow_symlinks;

  Ingester run(target, options);
  if (options.on_progress) {
    auto total = text::count_documents(inputs, reader);
    if (total.is_ok()) run.set_total(*total);
  }
  Status st = text::read_documents(inputs, reader,
                                   [&](Result<text::SourceDocument> item) { return run.take(std::move(item)); });
  if (!run.stopped()) {
    // Documents read before a failure are good ones: store them too, so a
    // bad item never costs the work before it.
    Status flushed = run.finish();
    if (!st.is_ok()) return st;
    if (!flushed.is_ok()) return flushed;
  }
  return run.summary();
}

}  // namespace simile::store
