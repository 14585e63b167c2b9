// simile::Tokenizer: the encode pipeline over the components of
// tokenizer_impl.h, in the order of Hugging Face tokenizers:
//   added tokens on the raw text -> normalizer -> added tokens on the
//   normalized text -> pre-tokenizer -> model -> truncation -> post-processor
//   -> padding.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "text/tokenizer_impl.h"
#include "text/truncation.h"
#include "text/utf8.h"
#include "util/file_util.h"

namespace simile {

namespace {

using text::PieceToken;

// Buffers one encode call needs, kept per thread so that the hot path reuses
// their capacity instead of allocating.
struct Workspace {
  std::vector<text::TextSplit> splits;
  std::vector<text::TextSplit> normalized_splits;
  std::vector<text::NormChar> chars;
  std::vector<text::NormChar> scratch;
  std::vector<text::CharRange> words;
  // The characters a rewriting pre-tokenizer (ByteLevel, Metaspace) made.
  std::vector<text::NormChar> rewritten;
  std::string word;                    // one word, UTF-8, for the model
  std::vector<uint32_t> byte_to_char;  // byte of `word` -> index of its char
  std::vector<text::ModelToken> model_tokens;
  std::string normalized;  // a normalized piece, UTF-8 (normalized added tokens only)
  std::vector<uint32_t> normalized_byte_to_char;
  std::vector<PieceToken> first;
  std::vector<PieceToken> second;
  std::vector<text::SplitEnd> split_ends;  // of the text encode_text() is on
  std::deque<std::string> owned;           // token texts that are views of nothing else
};

thread_local Workspace tls_workspace;

// Tokenizes the words of `chars` (normalized; ranges point into the input).
Status tokenize_chars(const Tokenizer::Impl& impl, std::span<const text::NormChar> chars, Workspace& ws,
                      std::vector<PieceToken>* out) {
  if (chars.empty()) return Status::ok();
  ws.words.clear();
  if (impl.pre_tokenizer && !impl.pre_tokenizer->split_only()) {
    // It may rewrite the characters (ByteLevel, Metaspace): work on a copy.
    ws.rewritten.assign(chars.begin(), chars.end());
    SIMILE_RETURN_IF_ERROR(impl.pre_tokenizer->pre_tokenize(&ws.rewritten, &ws.words));
    chars = ws.rewritten;
  } else if (impl.pre_tokenizer) {
    impl.pre_tokenizer->split(chars, &ws.words);
  } else {
    ws.words.push_back({0, static_cast<uint32_t>(chars.size())});
  }
  for (const text::CharRange& w : ws.words) {
    ws.word.clear();
    ws.byte_to_char.clear();
    for (uint32_t i = w.begin; i < w.end; ++i) {
      char buf[4];
      const int n = text::encode_utf8(chars[i].cp, buf);
      ws.word.append(buf, static_cast<size_t>(n));
      ws.byte_to_char.insert(ws.byte_to_char.end(), static_cast<size_t>(n), i);
    }
    ws.model_tokens.clear();
    if (w.begin < w.end && chars[w.begin].begin == 0) {
      SIMILE_RETURN_IF_ERROR(impl.model->tokenize_text_start(ws.word, &ws.model_tokens));
    } else {
      SIMILE_RETURN_IF_ERROR(impl.model->tokenize(ws.word, &ws.model_tokens));
    }
    for (const text::ModelToken& t : ws.model_tokens) {
      // A token covers whole characters: from its first char's start to its
      // last char's end in the input.
      const text::NormChar& first = chars[ws.byte_to_char[t.begin]];
      const text::NormChar& last = chars[ws.byte_to_char[t.end - 1]];
      std::string_view token_text = t.text;
      if (token_text.data() >= ws.word.data() && token_text.data() < ws.word.data() + ws.word.size()) {
        token_text = ws.owned.emplace_back(token_text);  // a view into the word: reused for the next one
      }
      out->push_back({t.id, token_text, first.begin, last.end});
    }
    ws.split_ends.push_back({static_cast<uint32_t>(out->size()), true});
  }
  return Status::ok();
}

// Splits normalized `chars` at the added tokens that match normalized text.
Status split_normalized(const Tokenizer::Impl& impl, std::span<const text::NormChar> chars, Workspace& ws,
                        std::vector<PieceToken>* out) {
  ws.normalized.clear();
  ws.normalized_byte_to_char.clear();
  for (uint32_t i = 0; i < chars.size(); ++i) {
    char buf[4];
    const int n = text::encode_utf8(chars[i].cp, buf);
    ws.normalized.append(buf, static_cast<size_t>(n));
    ws.normalized_byte_to_char.insert(ws.normalized_byte_to_char.end(), static_cast<size_t>(n), i);
  }
  ws.normalized_byte_to_char.push_back(static_cast<uint32_t>(chars.size()));
  ws.normalized_splits.clear();
  impl.added.split_normalized(ws.normalized, &ws.normalized_splits);
  for (const text::TextSplit& s : ws.normalized_splits) {
    const uint32_t cb = ws.normalized_byte_to_char[s.begin];
    const uint32_t ce = ws.normalized_byte_to_char[s.end];
    if (s.id < 0) {
      SIMILE_RETURN_IF_ERROR(tokenize_chars(impl, chars.subspan(cb, ce - cb), ws, out));
    } else {
      // The token's text is the normalized text it matched.
      ws.owned.emplace_back(ws.normalized, s.begin, s.end - s.begin);
      out->push_back({s.id, ws.owned.back(), chars[cb].begin, chars[ce - 1].end});
      ws.split_ends.push_back({static_cast<uint32_t>(out->size()), false});
    }
  }
  return Status::ok();
}

// Valid UTF-8 to tokenize, per the policy: the text itself, or its lossy
// conversion (then *source_offset maps its byte offsets back).
Result<std::string_view> prepare_text(std::string_view text, InvalidUtf8 policy, const char* which,
                                      std::string* converted, std::vector<uint32_t>* source_offset) {
  // Offsets are 32-bit; a lossy conversion can triple the size.
  if (text.size() >= std::numeric_limits<uint32_t>::max() / 3) {
    return Status::invalid_argument(std::string(which) + " is too long to tokenize (" + std::to_string(text.size()) +
                                    " bytes)");
  }
  const size_t bad = text::find_invalid_utf8(text);
  if (bad == std::string_view::npos) return text;
  if (policy == InvalidUtf8::kReject) {
    static const char kHex[] = "0123456789ABCDEF";
    const unsigned char b = static_cast<unsigned char>(text[bad]);
    return Status::invalid_argument(std::string(which) + " is not valid UTF-8: byte 0x" + kHex[b >> 4] + kHex[b & 15] +
                                    " at byte offset " + std::to_string(bad));
  }
  *converted = text::utf8_lossy(text, source_offset);
  return std::string_view(*converted);
}

void remap_offsets(std::vector<PieceToken>* tokens, const std::vector<uint32_t>& source_offset) {
  for (PieceToken& t : *tokens) {
    t.begin = source_offset[t.begin];
    t.end = source_offset[t.end];
  }
}

size_t round_up(size_t n, size_t multiple) {
  if (multiple == 0 || n % multiple == 0) return n;
  return n + (multiple - n % multiple);
}

}  // namespace

// --- Impl ---------------------------------------------------------------------

Status Tokenizer::Impl::encode_text(std::string_view text, std::vector<PieceToken>* out) const {
  Workspace& ws = tls_workspace;
  ws.splits.clear();
  ws.split_ends.clear();
  added.split_raw(text, &ws.splits);
  for (const text::TextSplit& s : ws.splits) {
    if (s.id >= 0) {
      out->push_back({s.id, text.substr(s.begin, s.end - s.begin), s.begin, s.end});
      ws.split_ends.push_back({static_cast<uint32_t>(out->size()), false});
      continue;
    }
    text::decode_to_chars(text.substr(s.begin, s.end - s.begin), s.begin, &ws.chars);
    if (normalizer) normalizer->normalize(&ws.chars, &ws.scratch);
    if (added.has_normalized_tokens()) {
      SIMILE_RETURN_IF_ERROR(split_normalized(*this, ws.chars, ws, out));
    } else {
      SIMILE_RETURN_IF_ERROR(tokenize_chars(*this, ws.chars, ws, out));
    }
  }
  return Status::ok();
}

Result<Encoding> Tokenizer::Impl::encode_unpadded(std::string_view a, const std::string_view* b,
                                                  bool add_special_tokens) const {
  Workspace& ws = tls_workspace;
  ws.owned.clear();
  ws.first.clear();
  ws.second.clear();
  const bool pair = b != nullptr;

  std::string converted_a, converted_b;
  std::vector<uint32_t> map_a, map_b;
  SIMILE_ASSIGN_OR_RETURN(std::string_view text_a,
                          prepare_text(a, invalid_utf8, pair ? "first text" : "text", &converted_a, &map_a));
  // With truncation, the reference stops tokenizing a text at the word that
  // brings it to max_length tokens (text/truncation.h); not the first text
  // when only the second is to be truncated.
  using Strategy = TruncationOptions::Strategy;
  SIMILE_RETURN_IF_ERROR(encode_text(text_a, &ws.first));
  if (truncation && truncation->strategy != Strategy::kOnlySecond) {
    text::stop_at_max_length(&ws.first, ws.split_ends, *truncation);
  }
  if (!map_a.empty()) remap_offsets(&ws.first, map_a);
  if (pair) {
    SIMILE_ASSIGN_OR_RETURN(std::string_view text_b,
                            prepare_text(*b, invalid_utf8, "second text", &converted_b, &map_b));
    SIMILE_RETURN_IF_ERROR(encode_text(text_b, &ws.second));
    if (truncation) text::stop_at_max_length(&ws.second, ws.split_ends, *truncation);
    if (!map_b.empty()) remap_offsets(&ws.second, map_b);
  }

  if (truncation) {
    const size_t n_added = post_processor ? post_processor->added_tokens(pair) : 0;
    size_t max_length = truncation->max_length;
    if (add_special_tokens && n_added > 0) max_length = max_length > n_added ? max_length - n_added : 0;
    SIMILE_RETURN_IF_ERROR(text::truncate(&ws.first, &ws.second, pair, max_length, *truncation));
  }

  Encoding e;
  const size_t n = ws.first.size() + ws.second.size() + 4;
  e.ids.reserve(n);
  e.tokens.reserve(n);
  e.type_ids.reserve(n);
  e.attention_mask.reserve(n);
  e.special_tokens_mask.reserve(n);
  e.offsets.reserve(n);
  if (post_processor) {
    post_processor->process(ws.first, ws.second, pair, add_special_tokens, &e);
  } else {
    text::default_process(ws.first, ws.second, pair, &e);
  }
  return e;
}

void Tokenizer::Impl::pad(Encoding* e, size_t length) const {
  if (!padding || e->size() >= length) return;
  const PaddingOptions& p = *padding;
  const size_t n = length - e->size();
  const int32_t id = p.pad_id.value_or(0);
  const int32_t type_id = p.pad_type_id.value_or(0);
  const std::string token = p.pad_token.value_or("[PAD]");
  if (p.direction == Side::kRight) {
    e->ids.insert(e->ids.end(), n, id);
    e->tokens.insert(e->tokens.end(), n, token);
    e->type_ids.insert(e->type_ids.end(), n, type_id);
    e->attention_mask.insert(e->attention_mask.end(), n, 0);
    e->special_tokens_mask.insert(e->special_tokens_mask.end(), n, 1);
    e->offsets.insert(e->offsets.end(), n, {0, 0});
  } else {
    e->ids.insert(e->ids.begin(), n, id);
    e->tokens.insert(e->tokens.begin(), n, token);
    e->type_ids.insert(e->type_ids.begin(), n, type_id);
    e->attention_mask.insert(e->attention_mask.begin(), n, 0);
    e->special_tokens_mask.insert(e->special_tokens_mask.begin(), n, 1);
    e->offsets.insert(e->offsets.begin(), n, {0, 0});
  }
}

PaddingOptions Tokenizer::Impl::resolve_padding(PaddingOptions p) const {
  const PaddingOptions* f = file_padding ? &*file_padding : nullptr;
  if (!p.pad_id) {
    if (p.pad_token) {
      p.pad_id = added.token_to_id(*p.pad_token);
      if (!p.pad_id) p.pad_id = model->token_to_id(*p.pad_token);
    }
    if (!p.pad_id && f != nullptr) p.pad_id = f->pad_id;
    for (const char* guess : {"[PAD]", "<pad>"}) {
      if (p.pad_id) break;
      p.pad_id = added.token_to_id(guess);
      if (!p.pad_id) p.pad_id = model->token_to_id(guess);
    }
    if (!p.pad_id) p.pad_id = 0;
  }
  if (!p.pad_token) {
    if (const std::string* t = added.id_to_token(*p.pad_id)) {
      p.pad_token = *t;
    } else if (auto mt = model->id_to_token(*p.pad_id)) {
      p.pad_token = std::string(*mt);
    } else {
      p.pad_token = f != nullptr && f->pad_token ? *f->pad_token : "[PAD]";
    }
  }
  if (!p.pad_type_id) p.pad_type_id = f != nullptr && f->pad_type_id ? *f->pad_type_id : 0;
  return p;
}

// --- Tokenizer ------------------------------------------------------------------

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_file(const std::string& path) {
  if (path.ends_with(".model")) {
    const std::filesystem::path config = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    std::error_code ec;
    if (!std::filesystem::exists(config, ec)) return from_sentencepiece(path);
    SIMILE_ASSIGN_OR_RETURN(std::string config_text, read_file(config.string()));
    return from_sentencepiece(path, config_text);
  }
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) return text.status();
  if (text->empty()) return Status::corrupt(path + " is empty (expected a tokenizer.json)");
  Result<std::unique_ptr<Tokenizer>> tok = from_json(*text);
  if (!tok.is_ok()) return tok.status().with_context(path);
  return tok;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece(const std::string& model_path,
                                                                 std::string_view tokenizer_config_json) {
  SIMILE_ASSIGN_OR_RETURN(std::string serialized, read_file(model_path));
  const std::string file_name = std::filesystem::path(model_path).filename().string();
  Result<std::unique_ptr<Impl>> impl =
      text::load_sentencepiece(std::move(serialized), tokenizer_config_json, file_name);
  if (!impl.is_ok()) return impl.status().with_context(model_path);
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl).value()));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json(std::string_view json_text) {
  SIMILE_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, text::load_tokenizer_json(json_text));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Result<Encoding> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  SIMILE_ASSIGN_OR_RETURN(Encoding e, impl_->encode_unpadded(text, nullptr, add_special_tokens));
  if (impl_->padding) {
    const PaddingOptions& p = *impl_->padding;
    impl_->pad(&e, round_up(p.fixed_length.value_or(e.size()), p.pad_to_multiple_of));
  }
  return e;
}

Result<Encoding> Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                        bool add_special_tokens) const {
  SIMILE_ASSIGN_OR_RETURN(Encoding e, impl_->encode_unpadded(first, &second, add_special_tokens));
  if (impl_->padding) {
    const PaddingOptions& p = *impl_->padding;
    impl_->pad(&e, round_up(p.fixed_length.value_or(e.size()), p.pad_to_multiple_of));
  }
  return e;
}

Result<std::vector<Encoding>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                      bool add_special_tokens) const {
  std::vector<Encoding> out;
  out.reserve(texts.size());
  size_t longest = 0;
  for (const std::string& t : texts) {
    SIMILE_ASSIGN_OR_RETURN(Encoding e, impl_->encode_unpadded(t, nullptr, add_special_tokens));
    longest = std::max(longest, e.size());
    out.push_back(std::move(e));
  }
  if (impl_->padding) {
    const PaddingOptions& p = *impl_->padding;
    const size_t length = round_up(p.fixed_length.value_or(longest), p.pad_to_multiple_of);
    for (Encoding& e : out) impl_->pad(&e, length);
  }
  return out;
}

void Tokenizer::set_truncation(std::optional<TruncationOptions> truncation) { impl_->truncation = truncation; }

void Tokenizer::set_padding(std::optional<PaddingOptions> padding) {
  if (padding) padding = impl_->resolve_padding(std::move(*padding));
  impl_->padding = std::move(padding);
}

void Tokenizer::set_invalid_utf8(InvalidUtf8 policy) { impl_->invalid_utf8 = policy; }
const std::optional<TruncationOptions>& Tokenizer::truncation() const { return impl_->truncation; }
const std::optional<PaddingOptions>& Tokenizer::padding() const { return impl_->padding; }

size_t Tokenizer::vocab_size() const { return impl_->model->vocab_size() + impl_->added.count_outside_model(); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added.token_to_id(token)) return id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (const std::string* t = impl_->added.id_to_token(id)) return *t;
  if (auto t = impl_->model->id_to_token(id)) return std::string(*t);
  return std::nullopt;
}

int32_t Tokenizer::pad_id() const {
  if (impl_->padding) return impl_->padding->pad_id.value_or(0);
  return *impl_->resolve_padding(PaddingOptions{}).pad_id;
}

std::string Tokenizer::model_type() const { return std::string(impl_->model->type()); }

size_t Tokenizer::special_tokens_added(bool pair) const {
  return impl_->post_processor != nullptr ? impl_->post_processor->added_tokens(pair) : 0;
}

Status Tokenizer::set_bos_eos(const std::string& bos, const std::string& eos) {
  using text::TemplateProcessing;
  std::map<std::string, TemplateProcessing::SpecialToken> specials;
  for (const std::string* token : {&bos, &eos}) {
    if (token->empty()) continue;
    std::optional<int32_t> id = token_to_id(*token);
    if (!id) return Status::not_found("special token '" + *token + "' is not in the tokenizer's vocabulary");
    specials[*token] = TemplateProcessing::SpecialToken{{*id}, {*token}};
  }
  auto special = [](const std::string& token, int32_t type_id) {
    return TemplateProcessing::Piece{false, 0, token, type_id};
  };
  auto sequence = [](int index, int32_t type_id) { return TemplateProcessing::Piece{true, index, "", type_id}; };
  std::vector<TemplateProcessing::Piece> single;
  if (!bos.empty()) single.push_back(special(bos, 0));
  single.push_back(sequence(0, 0));
  if (!eos.empty()) single.push_back(special(eos, 0));
  std::vector<TemplateProcessing::Piece> pair = single;
  if (!bos.empty()) pair.push_back(special(bos, 1));
  pair.push_back(sequence(1, 1));
  if (!eos.empty()) pair.push_back(special(eos, 1));
  SIMILE_ASSIGN_OR_RETURN(auto processor,
                          TemplateProcessing::create(std::move(single), std::move(pair), std::move(specials)));
  impl_->post_processor = std::move(processor);
  return Status::ok();
}

}  // namespace simile
