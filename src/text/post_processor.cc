#include "text/post_processor.h"

#include <utility>

#include "text/byte_level.h"

namespace simile::text {

void append_sequence(std::span<const PieceToken> tokens, int32_t type_id, Encoding* out) {
  for (const PieceToken& t : tokens) {
    out->ids.push_back(t.id);
    out->tokens.emplace_back(t.text);
    out->type_ids.push_back(type_id);
    out->attention_mask.push_back(1);
    out->special_tokens_mask.push_back(0);
    out->offsets.emplace_back(t.begin, t.end);
  }
}

void append_special(int32_t id, std::string_view token, int32_t type_id, Encoding* out) {
  out->ids.push_back(id);
  out->tokens.emplace_back(token);
  out->type_ids.push_back(type_id);
  out->attention_mask.push_back(1);
  out->special_tokens_mask.push_back(1);
  out->offsets.emplace_back(0, 0);
}

void default_process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair, Encoding* out) {
  append_sequence(a, 0, out);
  if (pair) append_sequence(b, 1, out);
}

Result<std::unique_ptr<TemplateProcessing>> TemplateProcessing::create(
    std::vector<Piece> single, std::vector<Piece> pair, std::map<std::string, SpecialToken> special_tokens) {
  std::unique_ptr<TemplateProcessing> tp(new TemplateProcessing());
  for (const auto& [name, st] : special_tokens) {
    if (st.ids.size() != st.tokens.size()) {
      return Status::corrupt("TemplateProcessing special token '" + name + "' has " + std::to_string(st.ids.size()) +
                             " ids but " + std::to_string(st.tokens.size()) + " tokens");
    }
  }
  auto count = [&](const std::vector<Piece>& tmpl, const char* which, size_t* added) -> Status {
    *added = 0;
    for (const Piece& p : tmpl) {
      if (p.is_sequence) continue;
      auto it = special_tokens.find(p.special);
      if (it == special_tokens.end()) {
        return Status::corrupt(std::string("TemplateProcessing ") + which + " template uses special token '" +
                               p.special + "', which special_tokens does not define");
      }
      *added += it->second.ids.size();
    }
    return Status::ok();
  };
  SIMILE_RETURN_IF_ERROR(count(single, "single", &tp->added_single_));
  SIMILE_RETURN_IF_ERROR(count(pair, "pair", &tp->added_pair_));
  tp->single_ = std::move(single);
  tp->pair_ = std::move(pair);
  tp->special_ = std::move(special_tokens);
  return tp;
}

void TemplateProcessing::process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair,
                                 bool add_special_tokens, Encoding* out) const {
  for (const Piece& p : pair ? pair_ : single_) {
    if (p.is_sequence) {
      append_sequence(p.sequence == 0 ? a : b, p.type_id, out);
    } else if (add_special_tokens) {
      const SpecialToken& st = special_.at(p.special);
      for (size_t i = 0; i < st.ids.size(); ++i) append_special(st.ids[i], st.tokens[i], p.type_id, out);
    }
  }
}

void BertProcessing::process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair,
                             bool add_special_tokens, Encoding* out) const {
  if (!add_special_tokens) {
    default_process(a, b, pair, out);
    return;
  }
  append_special(cls_id_, cls_, 0, out);
  append_sequence(a, 0, out);
  append_special(sep_id_, sep_, 0, out);
  if (pair) {
    append_sequence(b, 1, out);
    append_special(sep_id_, sep_, 1, out);
  }
}

}  // namespace simile::text

// --- byte-level post-processors ------------------------------------------------

namespace simile::text {

namespace {

// The tokens of one sequence, offsets trimmed when asked.
std::span<const PieceToken> trimmed(std::span<const PieceToken> tokens, bool trim, bool add_prefix_space,
                                    std::vector<PieceToken>* copy) {
  if (!trim) return tokens;
  copy->assign(tokens.begin(), tokens.end());
  trim_byte_level_offsets(*copy, add_prefix_space);
  return *copy;
}

}  // namespace

void RobertaProcessing::process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair,
                                bool add_special_tokens, Encoding* out) const {
  std::vector<PieceToken> copy_a, copy_b;
  a = trimmed(a, options_.trim_offsets, options_.add_prefix_space, &copy_a);
  if (pair) b = trimmed(b, options_.trim_offsets, options_.add_prefix_space, &copy_b);
  if (add_special_tokens) append_special(options_.cls_id, options_.cls, 0, out);
  append_sequence(a, 0, out);
  if (add_special_tokens) append_special(options_.sep_id, options_.sep, 0, out);
  if (!pair) return;
  if (add_special_tokens) append_special(options_.sep_id, options_.sep, 0, out);
  append_sequence(b, 0, out);
  if (add_special_tokens) append_special(options_.sep_id, options_.sep, 0, out);
}

void ByteLevelProcessing::process(std::span<const PieceToken> a, std::span<const PieceToken> b, bool pair,
                                  bool /*add_special_tokens*/, Encoding* out) const {
  std::vector<PieceToken> copy_a, copy_b;
  a = trimmed(a, trim_offsets_, add_prefix_space_, &copy_a);
  if (pair) b = trimmed(b, trim_offsets_, add_prefix_space_, &copy_b);
  default_process(a, b, pair, out);
}

}  // namespace simile::text
