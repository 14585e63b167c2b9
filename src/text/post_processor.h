// Post-processors: put the special tokens around the encoded sequence(s)
// ([CLS] A [SEP], <s> A </s></s> B </s>, ...) and set the type ids. They run
// after truncation, which is why they report how many tokens they add.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simile/tokenizer.h"

namespace simile::text {

// A token of the input on its way to the Encoding. `text` views the model's
// vocabulary or the input and is valid for one encode call.
struct PieceToken {
  int32_t id;
  std::string_view text;
  uint32_t begin;  // byte offsets into the input
  uint32_t end;
};

// Appends tokens of the input / a special token to an Encoding.
void append_sequence(std::span<const PieceToken> tokens, int32_t type_id, Encoding* out);
void append_special(int32_t id, std::string_view token, int32_t type_id, Encoding* out);

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // How many special tokens process() adds (truncation leaves room for them).
  virtual size_t added_tokens(bool pair) const = 0;
  // Appends the final sequence to *out: `a`, and `b` when `pair`, with the
  // special tokens when add_special_tokens.
  virtual void process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, bool add_special_tokens,
                       Encoding* out) const = 0;
};

// No post-processor in the file: the sequences as they are; B has type id 1.
void default_process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, Encoding* out);

// TemplateProcessing: "single" and "pair" templates of sequence ($A, $B) and
// special-token pieces, each with a type id.
class TemplateProcessing final : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;     // $A / $B, else a special token
    int sequence;         // 0 = A, 1 = B
    std::string special;  // key into the special tokens
    int32_t type_id;
  };
  struct SpecialToken {
    std::vector<int32_t> ids;
    std::vector<std::string> tokens;
  };
  // Checks that every special piece is defined and ids match tokens.
  static Result<std::unique_ptr<TemplateProcessing>> create(std::vector<Piece> single, std::vector<Piece> pair,
                                                            std::map<std::string, SpecialToken> special_tokens);
  size_t added_tokens(bool pair) const override { return pair ? added_pair_ : added_single_; }
  void process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, bool add_special_tokens,
               Encoding* out) const override;

 private:
  TemplateProcessing() = default;
  std::vector<Piece> single_;
  std::vector<Piece> pair_;
  std::map<std::string, SpecialToken> special_;
  size_t added_single_ = 0;
  size_t added_pair_ = 0;
};

// BertProcessing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP], B and its [SEP]
// with type id 1.
class BertProcessing final : public PostProcessor {
 public:
  BertProcessing(std::string cls, int32_t cls_id, std::string sep, int32_t sep_id)
      : cls_(std::move(cls)), sep_(std::move(sep)), cls_id_(cls_id), sep_id_(sep_id) {}
  size_t added_tokens(bool pair) const override { return pair ? 3 : 2; }
  void process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, bool add_special_tokens,
               Encoding* out) const override;

 private:
  std::string cls_, sep_;
  int32_t cls_id_, sep_id_;
};

}  // namespace simile::text

namespace simile::text {

// RobertaProcessing: <s> A </s> and <s> A </s></s> B </s>, every type id 0
// (B's too, with or without special tokens). With trim_offsets the
// byte-level spaces at the ends of tokens leave their offsets first.
class RobertaProcessing final : public PostProcessor {
 public:
  struct Options {
    std::string cls = "<s>";
    int32_t cls_id = 0;
    std::string sep = "</s>";
    int32_t sep_id = 2;
    bool trim_offsets = true;
    bool add_prefix_space = true;
  };
  explicit RobertaProcessing(Options options) : options_(std::move(options)) {}
  size_t added_tokens(bool pair) const override { return pair ? 4 : 2; }
  void process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, bool add_special_tokens,
               Encoding* out) const override;

 private:
  Options options_;
};

// ByteLevel as a post-processor: adds no tokens; with trim_offsets it trims
// offsets as RobertaProcessing does. B keeps type id 1.
class ByteLevelProcessing final : public PostProcessor {
 public:
  ByteLevelProcessing(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  void process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, bool add_special_tokens,
               Encoding* out) const override;

 private:
  bool trim_offsets_;
  bool add_prefix_space_;
};

}  // namespace simile::text
