// A SentencePiece model file (spiece.model, sentencepiece.bpe.model,
// tokenizer.model) as a tokenizer Model, run by Debian's libsentencepiece.
//
// The file carries its own normalizer (e.g. nmt_nfkc plus whitespace
// collapsing) and its own "▁" handling, so the tokenizer built on it has no
// normalizer or pre-tokenizer of its own: each word it is given is a whole
// piece of text between added tokens, and libsentencepiece does the rest,
// exactly as the library's spm_encode does.
//
// Ids: the file's piece ids, or a fixed layout on top of them. XLM-R's
// tokenizer (fairseq) puts <s> <pad> </s> <unk> at 0..3 and every other piece
// one above its file id; IdLayout says so.
//
// Offsets: libsentencepiece's byte span of each piece in the word. Pieces with
// no text of their own (the dummy "▁" prefix, all but the last byte of a
// byte-fallback character, the 2nd piece of an expanded ligature) take the
// span of the next piece that has text, the previous one at the end: the
// characters they stand for, as Hugging Face reports them.
//
// Thread safety: immutable after load(); tokenize() may run on many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/model.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace simile::text {

class SentencePieceModel final : public Model {
 public:
  struct IdLayout {
    // Tokens with ids of their own, looked up before the file's pieces. The
    // file's unknown piece maps to the one whose content it has.
    std::vector<std::pair<std::string, int32_t>> fixed;
    int32_t offset = 0;  // added to every other piece id
  };
  struct Options {
    IdLayout ids;
    // transformers' legacy=false: the file's dummy "▁" prefix only at the
    // start of the text, not again after each special token.
    bool dummy_prefix_only_at_text_start = false;
  };

  // `serialized` is the .model file's content (a ModelProto).
  static Result<std::unique_ptr<SentencePieceModel>> load(std::string serialized, Options options);
  ~SentencePieceModel() override;

  std::string_view type() const override { return "SentencePiece"; }
  Status tokenize(std::string_view word, std::vector<ModelToken>* out) const override;
  Status tokenize_text_start(std::string_view word, std::vector<ModelToken>* out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string_view> id_to_token(int32_t id) const override;
  size_t vocab_size() const override;  // the file's pieces plus IdLayout::offset

 private:
  SentencePieceModel();
  Status encode(const sentencepiece::SentencePieceProcessor& processor, std::string_view word,
                std::vector<ModelToken>* out) const;
  int32_t to_token_id(int piece_id, std::string_view piece) const;
  std::optional<std::string_view> piece_of(int piece_id) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  // The same model without the dummy prefix (only for legacy=false files
  // whose model adds one); null otherwise.
  std::unique_ptr<sentencepiece::SentencePieceProcessor> no_prefix_processor_;
  IdLayout layout_;
  std::unordered_map<std::string, int32_t> fixed_by_token_;
  std::unordered_map<int32_t, std::string> fixed_by_id_;
  int unk_id_ = -1;
  int piece_count_ = 0;
};

}  // namespace simile::text
