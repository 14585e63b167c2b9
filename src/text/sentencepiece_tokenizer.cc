// A SentencePiece model file + tokenizer_config.json -> Tokenizer::Impl, as
// the transformers "slow" tokenizer class that wraps such a file would use it
// (docs/tokenizers.md, "SentencePiece model files"):
//   XLMRobertaTokenizer  <s> A </s> / <s> A </s></s> B </s>; fairseq ids
//                        (<s> <pad> </s> <unk> = 0..3, pieces one up); <mask>
//   T5Tokenizer          A </s> / A </s> B </s>; <extra_id_N> = vocab - 1 - N
//   LlamaTokenizer       [<s>] A [</s>], as add_bos_token/add_eos_token say;
//                        the pair repeats them around B, with type id 1
// Special tokens are cut out of the text before SentencePiece sees it, as the
// slow tokenizers do; with legacy=false (T5, Llama) the pieces after one get
// no dummy "▁" prefix.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "text/json_fields.h"
#include "text/sentencepiece_model.h"
#include "text/tokenizer_impl.h"

namespace simile::text {

namespace {

using json = nlohmann::json;

enum class Family { kXlmRoberta, kT5, kLlama };

struct FamilyName {
  std::string_view tokenizer_class;  // tokenizer_config.json's, without "Fast"
  std::string_view file_name;        // the file the class loads by default
  Family family;
};

constexpr FamilyName kFamilies[] = {
    {"XLMRobertaTokenizer", "sentencepiece.bpe.model", Family::kXlmRoberta},
    {"T5Tokenizer", "spiece.model", Family::kT5},
    {"LlamaTokenizer", "tokenizer.model", Family::kLlama},
};

std::string supported_classes() {
  std::string s;
  for (const FamilyName& f : kFamilies) s += (s.empty() ? "" : ", ") + std::string(f.tokenizer_class);
  return s;
}

Result<Family> find_family(const json& config, std::string_view file_name) {
  SIMILE_ASSIGN_OR_RETURN(std::string cls, get_string(config, "tokenizer_config", "tokenizer_class", ""));
  if (cls.size() > 4 && cls.ends_with("Fast")) cls.resize(cls.size() - 4);
  for (const FamilyName& f : kFamilies) {
    if (cls.empty() ? f.file_name == file_name : f.tokenizer_class == cls) return f.family;
  }
  if (!cls.empty()) {
    return Status::unsupported("tokenizer class '" + cls + "' over a SentencePiece file is not supported (supported: " +
                               supported_classes() + "; or ship a tokenizer.json)");
  }
  return Status::unsupported(
      "cannot tell how to use SentencePiece file '" + std::string(file_name) +
      "': no tokenizer_config.json names its tokenizer_class (supported: " + supported_classes() + ")");
}

// A token field of tokenizer_config.json: "<s>", {"content": "<s>", ...} or
// null (none). Absent: `fallback`.
Result<std::string> get_token(const json& config, const char* key, std::string fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return get_string(*it, key, "content", "");
  return Status::corrupt(std::string("tokenizer_config.") + key + " must be a string, an object or null");
}

Result<AddedToken> parse_added_token(const json& t, const char* where) {
  AddedToken a;
  if (t.is_string()) {
    a.content = t.get<std::string>();
    a.special = true;
    return a;
  }
  if (!t.is_object()) return Status::corrupt(std::string(where) + " entries must be strings or objects");
  SIMILE_ASSIGN_OR_RETURN(a.content, get_string(t, where, "content", ""));
  SIMILE_ASSIGN_OR_RETURN(a.special, get_bool(t, where, "special", true));
  SIMILE_ASSIGN_OR_RETURN(a.single_word, get_bool(t, where, "single_word", false));
  SIMILE_ASSIGN_OR_RETURN(a.lstrip, get_bool(t, where, "lstrip", false));
  SIMILE_ASSIGN_OR_RETURN(a.rstrip, get_bool(t, where, "rstrip", false));
  // The file's text goes to SentencePiece unnormalized: there is no
  // normalized form to match against.
  a.normalized = false;
  return a;
}

// The special tokens a family names: the config's, else the class's defaults.
struct SpecialTokens {
  std::string bos, eos, unk, pad, cls, sep, mask;
};

Result<SpecialTokens> special_tokens(const json& config, Family family) {
  const bool xlmr = family == Family::kXlmRoberta;
  const bool t5 = family == Family::kT5;
  SpecialTokens s;
  SIMILE_ASSIGN_OR_RETURN(s.bos, get_token(config, "bos_token", t5 ? "" : "<s>"));
  SIMILE_ASSIGN_OR_RETURN(s.eos, get_token(config, "eos_token", "</s>"));
  SIMILE_ASSIGN_OR_RETURN(s.unk, get_token(config, "unk_token", "<unk>"));
  SIMILE_ASSIGN_OR_RETURN(s.pad, get_token(config, "pad_token", family == Family::kLlama ? "" : "<pad>"));
  SIMILE_ASSIGN_OR_RETURN(s.cls, get_token(config, "cls_token", xlmr ? "<s>" : ""));
  SIMILE_ASSIGN_OR_RETURN(s.sep, get_token(config, "sep_token", xlmr ? "</s>" : ""));
  SIMILE_ASSIGN_OR_RETURN(s.mask, get_token(config, "mask_token", xlmr ? "<mask>" : ""));
  return s;
}

// The added tokens, in the order that gives each its id: the config's
// added_tokens_decoder when it has one (*listed_ids: the ids it gives, for
// its first tokens), else T5's extra ids; then the named special tokens and
// additional_special_tokens not among them.
Result<std::vector<AddedToken>> added_tokens(const json& config, Family family, const SpecialTokens& special,
                                             std::vector<int32_t>* listed_ids) {
  std::vector<AddedToken> tokens;
  auto has = [&](const std::string& content) {
    return std::any_of(tokens.begin(), tokens.end(), [&](const AddedToken& t) { return t.content == content; });
  };
  if (auto it = config.find("added_tokens_decoder"); it != config.end() && !it->is_null()) {
    if (!it->is_object()) return Status::corrupt("tokenizer_config.added_tokens_decoder must be an object");
    std::vector<std::pair<int64_t, AddedToken>> by_id;
    for (const auto& [key, value] : it->items()) {
      int64_t id = -1;
      try {
        id = std::stoll(key);
      } catch (const std::exception&) {
      }
      if (id < 0 || id > std::numeric_limits<int32_t>::max())
        return Status::corrupt("tokenizer_config.added_tokens_decoder key '" + key + "'");
      SIMILE_ASSIGN_OR_RETURN(AddedToken a, parse_added_token(value, "tokenizer_config.added_tokens_decoder"));
      by_id.emplace_back(id, std::move(a));
    }
    std::sort(by_id.begin(), by_id.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& [id, a] : by_id) {
      listed_ids->push_back(static_cast<int32_t>(id));
      tokens.push_back(std::move(a));
    }
  } else if (family == Family::kT5) {
    // <extra_id_N> has id vocab_size - 1 - N: they follow the model's pieces
    // from the highest N down.
    SIMILE_ASSIGN_OR_RETURN(int64_t extra_ids, get_int(config, "tokenizer_config", "extra_ids", 100, 0, 1 << 20));
    for (int64_t n = extra_ids - 1; n >= 0; --n) tokens.push_back({"<extra_id_" + std::to_string(n) + ">", true});
  }
  // The named special tokens the decoder (if any) leaves out.
  for (const std::string* t : {&special.unk, &special.bos, &special.eos, &special.pad, &special.cls, &special.sep}) {
    if (!t->empty() && !has(*t)) tokens.push_back({*t, true});
  }
  // XLM-R's mask token takes the space before it (lstrip).
  if (!special.mask.empty() && !has(special.mask)) tokens.push_back({special.mask, true, false, true});
  if (auto it = config.find("additional_special_tokens"); it != config.end() && !it->is_null()) {
    if (!it->is_array()) return Status::corrupt("tokenizer_config.additional_special_tokens must be a list");
    for (const json& t : *it) {
      SIMILE_ASSIGN_OR_RETURN(AddedToken a, parse_added_token(t, "tokenizer_config.additional_special_tokens"));
      if (!has(a.content)) tokens.push_back(std::move(a));
    }
  }
  return tokens;
}

// The post-processor of the family, as a template over the special tokens.
Result<std::unique_ptr<PostProcessor>> post_processor(const json& config, Family family, const SpecialTokens& special,
                                                      const Tokenizer::Impl& impl) {
  using Piece = TemplateProcessing::Piece;
  std::map<std::string, TemplateProcessing::SpecialToken> defined;
  Status missing = Status::ok();
  auto token = [&](const std::string& content, int32_t type_id) {
    const std::optional<int32_t> id = impl.added.token_to_id(content);
    if (!id && missing.is_ok()) {
      missing = Status::corrupt("special token '" + content + "' is not in the SentencePiece model or config");
    }
    defined[content] = {{id.value_or(0)}, {content}};
    return Piece{false, 0, content, type_id};
  };
  auto sequence = [](int which, int32_t type_id) { return Piece{true, which, "", type_id}; };
  std::vector<Piece> single, pair;
  switch (family) {
    case Family::kXlmRoberta:
      single = {token(special.cls, 0), sequence(0, 0), token(special.sep, 0)};
      pair = {token(special.cls, 0), sequence(0, 0), token(special.sep, 0),
              token(special.sep, 0), sequence(1, 0), token(special.sep, 0)};
      break;
    case Family::kT5:
      single = {sequence(0, 0), token(special.eos, 0)};
      pair = {sequence(0, 0), token(special.eos, 0), sequence(1, 0), token(special.eos, 0)};
      break;
    case Family::kLlama: {
      SIMILE_ASSIGN_OR_RETURN(bool add_bos, get_bool(config, "tokenizer_config", "add_bos_token", true));
      SIMILE_ASSIGN_OR_RETURN(bool add_eos, get_bool(config, "tokenizer_config", "add_eos_token", false));
      for (int which : {0, 1}) {
        std::vector<Piece>& out = which == 0 ? single : pair;
        for (int s = 0; s <= which; ++s) {
          if (add_bos) out.push_back(token(special.bos, s));
          out.push_back(sequence(s, s));
          if (add_eos) out.push_back(token(special.eos, s));
        }
      }
      break;
    }
  }
  SIMILE_RETURN_IF_ERROR(missing);
  SIMILE_ASSIGN_OR_RETURN(auto tp, TemplateProcessing::create(std::move(single), std::move(pair), std::move(defined)));
  return std::unique_ptr<PostProcessor>(std::move(tp));
}

Result<std::unique_ptr<Tokenizer::Impl>> load(std::string serialized, const json& config, std::string_view file_name) {
  if (!config.is_object()) return Status::corrupt("tokenizer_config.json must be a JSON object");
  SIMILE_ASSIGN_OR_RETURN(Family family, find_family(config, file_name));

  SentencePieceModel::Options options;
  if (family == Family::kXlmRoberta) {
    options.ids.fixed = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
    options.ids.offset = 1;
  } else {
    SIMILE_ASSIGN_OR_RETURN(bool legacy, get_bool(config, "tokenizer_config", "legacy", true));
    options.dummy_prefix_only_at_text_start = !legacy;
  }
  SIMILE_ASSIGN_OR_RETURN(auto model, SentencePieceModel::load(std::move(serialized), std::move(options)));
  SIMILE_ASSIGN_OR_RETURN(SpecialTokens special, special_tokens(config, family));

  auto impl = std::make_unique<Tokenizer::Impl>();
  std::vector<int32_t> listed_ids;
  SIMILE_ASSIGN_OR_RETURN(auto tokens, added_tokens(config, family, special, &listed_ids));
  const Model* m = model.get();
  impl->added.add(
      tokens, [m](const std::string& content) { return m->token_to_id(content); }, m->vocab_size());
  impl->added.build(nullptr);
  for (size_t i = 0; i < listed_ids.size(); ++i) {
    const std::optional<int32_t> id = impl->added.token_to_id(tokens[i].content);
    if (id != listed_ids[i]) {
      return Status::corrupt("tokenizer_config.added_tokens_decoder gives '" + tokens[i].content + "' id " +
                             std::to_string(listed_ids[i]) + ", but the SentencePiece model gives it " +
                             (id ? std::to_string(*id) : std::string("none")));
    }
  }
  impl->model = std::move(model);
  SIMILE_ASSIGN_OR_RETURN(impl->post_processor, post_processor(config, family, special, *impl));
  return impl;
}

}  // namespace

Result<std::unique_ptr<Tokenizer::Impl>> load_sentencepiece(std::string serialized,
                                                            std::string_view tokenizer_config_json,
                                                            std::string_view file_name) {
  try {
    const json config = tokenizer_config_json.empty()
                            ? json::object()
                            : json::parse(tokenizer_config_json.begin(), tokenizer_config_json.end());
    Result<std::unique_ptr<Tokenizer::Impl>> impl = load(std::move(serialized), config, file_name);
    return impl;
  } catch (const json::parse_error& e) {
    return Status::corrupt("tokenizer_config.json: invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    return Status::corrupt(std::string("tokenizer_config.json: unexpected content: ") + e.what());
  }
}

}  // namespace simile::text
