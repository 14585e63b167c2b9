#include "text/sentencepiece_model.h"

#include <sentencepiece_processor.h>

#include <tuple>

namespace simile::text {

namespace {

// ModelProto { normalizer_spec (field 3) { add_dummy_prefix (field 3): false } }.
// Protobuf merges a singular message field that occurs twice, so appending
// this to a serialized model turns off just its dummy prefix, the change
// transformers makes (with MergeFrom) for legacy=false tokenizers.
constexpr std::string_view kNoDummyPrefix("\x1A\x02\x18\x00", 4);

Status load_processor(const std::string& serialized, sentencepiece::SentencePieceProcessor* p) {
  const auto status = p->LoadFromSerializedProto(serialized);
  if (!status.ok()) return Status::corrupt("not a usable SentencePiece model: " + status.ToString());
  return Status::ok();
}

}  // namespace

SentencePieceModel::SentencePieceModel() = default;
SentencePieceModel::~SentencePieceModel() = default;

Result<std::unique_ptr<SentencePieceModel>> SentencePieceModel::load(std::string serialized, Options options) {
  std::unique_ptr<SentencePieceModel> m(new SentencePieceModel());
  m->processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  SIMILE_RETURN_IF_ERROR(load_processor(serialized, m->processor_.get()));
  if (options.dummy_prefix_only_at_text_start) {
    serialized.append(kNoDummyPrefix);
    m->no_prefix_processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    SIMILE_RETURN_IF_ERROR(load_processor(serialized, m->no_prefix_processor_.get()));
  }
  const sentencepiece::SentencePieceProcessor& p = *m->processor_;
  m->piece_count_ = p.GetPieceSize();
  m->unk_id_ = p.unk_id();
  m->layout_ = std::move(options.ids);
  for (const auto& [token, id] : m->layout_.fixed) {
    m->fixed_by_token_.emplace(token, id);
    m->fixed_by_id_.emplace(id, token);
  }
  return m;
}

Status SentencePieceModel::tokenize(std::string_view word, std::vector<ModelToken>* out) const {
  return encode(no_prefix_processor_ ? *no_prefix_processor_ : *processor_, word, out);
}

Status SentencePieceModel::tokenize_text_start(std::string_view word, std::vector<ModelToken>* out) const {
  return encode(*processor_, word, out);
}

Status SentencePieceModel::encode(const sentencepiece::SentencePieceProcessor& processor, std::string_view word,
                                  std::vector<ModelToken>* out) const {
  sentencepiece::ImmutableSentencePieceText text;
  const auto status = processor.Encode(word, text.mutable_proto());
  if (!status.ok()) return Status::internal("SentencePiece could not encode a text: " + status.ToString());
  const size_t first = out->size();
  for (const auto& piece : text.pieces()) {
    if (piece.begin() > piece.end() || piece.end() > word.size()) {
      return Status::internal("SentencePiece reported a piece outside its text");
    }
    const int32_t id = to_token_id(static_cast<int>(piece.id()), piece.piece());
    out->push_back({id, piece.begin(), piece.end(), id_to_token(id).value_or(std::string_view())});
  }
  // Pieces without text of their own take the span of the next piece that
  // has one (else the previous one, else the whole word).
  auto span_of = [&](size_t i) -> std::pair<uint32_t, uint32_t> {
    for (size_t j = i + 1; j < out->size(); ++j) {
      if ((*out)[j].begin < (*out)[j].end) return {(*out)[j].begin, (*out)[j].end};
    }
    for (size_t j = i; j-- > first;) {
      if ((*out)[j].begin < (*out)[j].end) return {(*out)[j].begin, (*out)[j].end};
    }
    return {0, static_cast<uint32_t>(word.size())};
  };
  for (size_t i = first; i < out->size(); ++i) {
    ModelToken& t = (*out)[i];
    if (t.begin == t.end) std::tie(t.begin, t.end) = span_of(i);
  }
  return Status::ok();
}

int32_t SentencePieceModel::to_token_id(int piece_id, std::string_view piece) const {
  if (!fixed_by_token_.empty()) {
    if (auto it = fixed_by_token_.find(std::string(piece)); it != fixed_by_token_.end()) return it->second;
  }
  return piece_id + layout_.offset;
}

std::optional<int32_t> SentencePieceModel::token_to_id(std::string_view token) const {
  if (auto it = fixed_by_token_.find(std::string(token)); it != fixed_by_token_.end()) return it->second;
  const int id = processor_->PieceToId(token);
  // Unknown pieces come back as the unknown piece's id.
  if (id < 0 || (id == unk_id_ && processor_->IdToPiece(id) != token)) return std::nullopt;
  return id + layout_.offset;
}

std::optional<std::string_view> SentencePieceModel::id_to_token(int32_t id) const {
  if (auto it = fixed_by_id_.find(id); it != fixed_by_id_.end()) return std::string_view(it->second);
  if (id < layout_.offset) return std::nullopt;
  return piece_of(id - layout_.offset);
}

std::optional<std::string_view> SentencePieceModel::piece_of(int piece_id) const {
  if (piece_id < 0 || piece_id >= piece_count_) return std::nullopt;
  return std::string_view(processor_->IdToPiece(piece_id));
}

size_t SentencePieceModel::vocab_size() const { return static_cast<size_t>(piece_count_ + layout_.offset); }

}  // namespace simile::text
