// tokenizer.json -> Tokenizer::Impl. Each section becomes one pipeline
// component; a component we do not implement is an `unsupported` error that
// names it, never a silently different tokenization.
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/json_fields.h"
#include "text/normalizers.h"
#include "text/split.h"
#include "text/split_pre_tokenizers.h"
#include "text/tokenizer_impl.h"
#include "text/unigram.h"
#include "text/wordpiece.h"

namespace simile::text {

namespace {

using json = nlohmann::json;

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxLength = int64_t{1} << 40;

std::string type_of(const json& section) {
  auto it = section.find("type");
  return (it != section.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// --- model -----------------------------------------------------------------

// Files written by old versions of the library have no "type" in "model".
std::string infer_model_type(const json& model) {
  std::string type = type_of(model);
  if (!type.empty()) return type;
  if (model.contains("merges")) return "BPE";
  auto vocab = model.find("vocab");
  if (vocab != model.end() && vocab->is_array()) return "Unigram";
  if (model.contains("continuing_subword_prefix") || model.contains("max_input_chars_per_word")) return "WordPiece";
  if (vocab != model.end() && vocab->is_object() && model.contains("unk_token")) return "WordLevel";
  return "";
}

// Unigram: "vocab" is a list of [piece, score]; "unk_id" an index or null.
Result<std::unique_ptr<Model>> load_unigram(const json& model) {
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_array()) {
    return Status::corrupt("Unigram \"model.vocab\" must be a list of [piece, score]");
  }
  std::vector<std::pair<std::string, double>> vocab;
  vocab.reserve(vocab_it->size());
  for (const json& entry : *vocab_it) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number()) {
      return Status::corrupt("Unigram model.vocab[" + std::to_string(vocab.size()) + "] must be [piece, score]");
    }
    vocab.emplace_back(entry[0].get<std::string>(), entry[1].get<double>());
  }
  std::optional<int32_t> unk_id;
  if (auto it = model.find("unk_id"); it != model.end() && !it->is_null()) {
    SIMILE_ASSIGN_OR_RETURN(int64_t id, to_int(*it, "model.unk_id", 0, kMaxId));
    unk_id = static_cast<int32_t>(id);
  }
  SIMILE_ASSIGN_OR_RETURN(bool byte_fallback, get_bool(model, "model", "byte_fallback", false));
  SIMILE_ASSIGN_OR_RETURN(auto unigram, Unigram::create(vocab, unk_id, byte_fallback));
  return std::unique_ptr<Model>(std::move(unigram));
}

// A nullable string field: absent or null -> nullopt.
Result<std::optional<std::string>> get_optional_string(const json& obj, const char* where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Status::corrupt(std::string(where) + "." + key + " must be a string or null");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::vector<std::pair<std::string, int32_t>>> load_vocab_object(const json& model, const char* what) {
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object()) {
    return Status::corrupt(std::string(what) + " \"model.vocab\" must be an object of token -> id");
  }
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(vocab_it->size());
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    SIMILE_ASSIGN_OR_RETURN(int64_t id, to_int(it.value(), "model.vocab[\"" + it.key() + "\"]", 0, kMaxId));
    vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }
  return vocab;
}

// BPE: "merges" as "a b" strings (older files; "#version" lines skipped) or
// [a, b] pairs. Only deterministic BPE: dropout null or 0.
Result<std::unique_ptr<Model>> load_bpe(const json& model) {
  if (auto d = model.find("dropout"); d != model.end() && !d->is_null()) {
    if (!d->is_number()) return Status::corrupt("model.dropout must be a number or null");
    if (d->get<double>() != 0.0) {
      return Status::unsupported("BPE dropout " + d->dump() +
                                 " is not supported (only deterministic BPE: dropout null or 0)");
    }
  }
  Bpe::Options o;
  SIMILE_ASSIGN_OR_RETURN(o.unk_token, get_optional_string(model, "model", "unk_token"));
  SIMILE_ASSIGN_OR_RETURN(o.continuing_subword_prefix, get_string(model, "model", "continuing_subword_prefix", ""));
  SIMILE_ASSIGN_OR_RETURN(o.end_of_word_suffix, get_string(model, "model", "end_of_word_suffix", ""));
  SIMILE_ASSIGN_OR_RETURN(o.fuse_unk, get_bool(model, "model", "fuse_unk", false));
  SIMILE_ASSIGN_OR_RETURN(o.byte_fallback, get_bool(model, "model", "byte_fallback", false));
  SIMILE_ASSIGN_OR_RETURN(o.ignore_merges, get_bool(model, "model", "ignore_merges", false));
  SIMILE_ASSIGN_OR_RETURN(auto vocab, load_vocab_object(model, "BPE"));

  std::vector<std::pair<std::string, std::string>> merges;
  auto merges_it = model.find("merges");
  if (merges_it != model.end() && !merges_it->is_null()) {
    if (!merges_it->is_array()) return Status::corrupt("BPE \"model.merges\" must be a list");
    merges.reserve(merges_it->size());
    for (const json& m : *merges_it) {
      const std::string where = "BPE merge " + std::to_string(merges.size() + 1);
      if (m.is_string()) {
        const std::string line = m.get<std::string>();
        if (line.rfind("#version", 0) == 0) continue;
        const size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
          return Status::corrupt(where + " ('" + line + "') is not two tokens separated by one space");
        }
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return Status::corrupt(where + " must be \"a b\" or [\"a\", \"b\"]");
      }
    }
  }
  SIMILE_ASSIGN_OR_RETURN(auto bpe, Bpe::create(vocab, merges, std::move(o)));
  return std::unique_ptr<Model>(std::move(bpe));
}

Result<std::unique_ptr<Model>> load_model(const json& model) {
  if (!model.is_object()) return Status::corrupt("\"model\" must be an object");
  const std::string type = infer_model_type(model);
  if (type.empty()) return Status::unsupported("cannot tell the model type: \"model\" has no \"type\"");
  if (type == "BPE") return load_bpe(model);
  if (type == "Unigram") return load_unigram(model);
  if (type != "WordPiece") {
    return Status::unsupported("model type '" + type + "' is not supported (supported: WordPiece, BPE, Unigram)");
  }
  WordPiece::Options options;
  SIMILE_ASSIGN_OR_RETURN(options.unk_token, get_string(model, "model", "unk_token", options.unk_token));
  SIMILE_ASSIGN_OR_RETURN(options.continuing_subword_prefix,
                          get_string(model, "model", "continuing_subword_prefix", options.continuing_subword_prefix));
  SIMILE_ASSIGN_OR_RETURN(int64_t max_chars, get_int(model, "model", "max_input_chars_per_word", 100, 0, kMaxLength));
  options.max_input_chars_per_word = static_cast<size_t>(max_chars);

  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object()) {
    return Status::corrupt("WordPiece \"model.vocab\" must be an object of token -> id");
  }
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(vocab_it->size());
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    SIMILE_ASSIGN_OR_RETURN(int64_t id, to_int(it.value(), "model.vocab[\"" + it.key() + "\"]", 0, kMaxId));
    vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }
  SIMILE_ASSIGN_OR_RETURN(auto wp, WordPiece::create(vocab, std::move(options)));
  return std::unique_ptr<Model>(std::move(wp));
}

// --- normalizer and pre-tokenizer -------------------------------------------

Result<std::unique_ptr<Normalizer>> load_normalizer(const json& n);

std::u32string to_u32(std::string_view utf8) {
  std::vector<NormChar> chars;
  decode_to_chars(utf8, 0, &chars);
  std::u32string out;
  for (const NormChar& c : chars) out.push_back(c.cp);
  return out;
}

// The normalizers of normalizers.h.
Result<std::unique_ptr<Normalizer>> load_sentencepiece_era_normalizer(const json& n, const std::string& type) {
  using Form = UnicodeNormalizer::Form;
  if (type == "NFC") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(Form::kNfc));
  if (type == "NFD") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(Form::kNfd));
  if (type == "NFKC") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(Form::kNfkc));
  if (type == "NFKD") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(Form::kNfkd));
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new LowercaseNormalizer());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccentsNormalizer());
  if (type == "Strip") {
    SIMILE_ASSIGN_OR_RETURN(bool left, get_bool(n, "normalizer", "strip_left", true));
    SIMILE_ASSIGN_OR_RETURN(bool right, get_bool(n, "normalizer", "strip_right", true));
    return std::unique_ptr<Normalizer>(new StripNormalizer(left, right));
  }
  if (type == "Prepend") {
    SIMILE_ASSIGN_OR_RETURN(std::string prepend, get_string(n, "normalizer", "prepend", ""));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(to_u32(prepend)));
  }
  if (type == "Replace") {
    auto pattern = n.find("pattern");
    if (pattern == n.end() || !pattern->is_object() || pattern->size() != 1) {
      return Status::corrupt("Replace normalizer needs \"pattern\": {\"String\": ...} or {\"Regex\": ...}");
    }
    const std::string kind = pattern->begin().key();
    if ((kind != "String" && kind != "Regex") || !pattern->begin().value().is_string()) {
      return Status::corrupt("Replace normalizer pattern must be {\"String\": text} or {\"Regex\": text}");
    }
    SIMILE_ASSIGN_OR_RETURN(std::string content, get_string(n, "normalizer", "content", ""));
    if (kind == "Regex") {
      SIMILE_ASSIGN_OR_RETURN(
          auto r, ReplaceNormalizer::create_regex(pattern->begin().value().get<std::string>(), to_u32(content)));
      return std::unique_ptr<Normalizer>(std::move(r));
    }
    return std::unique_ptr<Normalizer>(
        new ReplaceNormalizer(to_u32(pattern->begin().value().get<std::string>()), to_u32(content)));
  }
  if (type == "Precompiled") {
    auto map = n.find("precompiled_charsmap");
    if (map == n.end() || map->is_null()) return std::unique_ptr<Normalizer>();  // nothing to apply
    if (!map->is_string()) return Status::corrupt("Precompiled precompiled_charsmap must be a base64 string");
    SIMILE_ASSIGN_OR_RETURN(auto p, PrecompiledNormalizer::from_base64(map->get<std::string>()));
    return std::unique_ptr<Normalizer>(std::move(p));
  }
  if (type == "Sequence") {
    auto list = n.find("normalizers");
    if (list == n.end() || !list->is_array()) return Status::corrupt("Sequence normalizer needs \"normalizers\"");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const json& step : *list) {
      SIMILE_ASSIGN_OR_RETURN(auto s, load_normalizer(step));
      if (s) steps.push_back(std::move(s));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(steps)));
  }
  return Status::unsupported("normalizer '" + (type.empty() ? std::string("(no type)") : type) +
                             "' is not supported (supported: BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, "
                             "StripAccents, Strip, Prepend, Replace, Precompiled, Sequence)");
}

Result<std::unique_ptr<Normalizer>> load_normalizer(const json& n) {
  if (n.is_null()) return std::unique_ptr<Normalizer>();
  if (!n.is_object()) return Status::corrupt("\"normalizer\" must be an object or null");
  const std::string type = type_of(n);
  if (type != "BertNormalizer") return load_sentencepiece_era_normalizer(n, type);
  BertNormalizer::Options o;
  SIMILE_ASSIGN_OR_RETURN(o.clean_text, get_bool(n, "normalizer", "clean_text", true));
  SIMILE_ASSIGN_OR_RETURN(o.handle_chinese_chars, get_bool(n, "normalizer", "handle_chinese_chars", true));
  SIMILE_ASSIGN_OR_RETURN(o.lowercase, get_bool(n, "normalizer", "lowercase", true));
  SIMILE_ASSIGN_OR_RETURN(std::optional<bool> strip, get_optional_bool(n, "normalizer", "strip_accents"));
  o.strip_accents = strip.value_or(o.lowercase);  // null follows lowercase
  return std::unique_ptr<Normalizer>(new BertNormalizer(o));
}

Result<std::unique_ptr<PreTokenizer>> load_pre_tokenizer(const json& p);

Result<SplitBehavior> parse_split_behavior(const json& p, const char* where, const char* fallback) {
  SIMILE_ASSIGN_OR_RETURN(std::string b, get_string(p, where, "behavior", fallback));
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return Status::corrupt(std::string(where) + ".behavior '" + b + "' is not a split behavior");
}

// Every pre-tokenizer but BertPreTokenizer: those of split.h, byte_level.h
// and split_pre_tokenizers.h.
Result<std::unique_ptr<PreTokenizer>> load_splitting_pre_tokenizer(const json& p, const std::string& type) {
  if (type == "ByteLevel") {
    ByteLevelPreTokenizer::Options o;
    SIMILE_ASSIGN_OR_RETURN(o.add_prefix_space, get_bool(p, "pre_tokenizer", "add_prefix_space", true));
    SIMILE_ASSIGN_OR_RETURN(o.use_regex, get_bool(p, "pre_tokenizer", "use_regex", true));
    // trim_offsets matters only to the post-processor of the same name.
    return std::unique_ptr<PreTokenizer>(new ByteLevelPreTokenizer(o));
  }
  if (type == "Split") {
    auto pattern = p.find("pattern");
    if (pattern == p.end() || !pattern->is_object() || pattern->size() != 1 || !pattern->begin().value().is_string() ||
        (pattern->begin().key() != "String" && pattern->begin().key() != "Regex")) {
      return Status::corrupt("Split pre-tokenizer needs \"pattern\": {\"String\": s} or {\"Regex\": r}");
    }
    SIMILE_ASSIGN_OR_RETURN(SplitBehavior b, parse_split_behavior(p, "pre_tokenizer", ""));
    SIMILE_ASSIGN_OR_RETURN(bool invert, get_bool(p, "pre_tokenizer", "invert", false));
    const std::string text = pattern->begin().value().get<std::string>();
    const bool is_regex = pattern->begin().key() == "Regex";
    SIMILE_ASSIGN_OR_RETURN(auto split, SplitPreTokenizer::create(text, is_regex, b, invert));
    return std::unique_ptr<PreTokenizer>(std::move(split));
  }
  if (type == "Whitespace") return std::unique_ptr<PreTokenizer>(new WhitespacePreTokenizer());
  if (type == "WhitespaceSplit") return std::unique_ptr<PreTokenizer>(new WhitespaceSplitPreTokenizer());
  if (type == "Punctuation") {
    SIMILE_ASSIGN_OR_RETURN(SplitBehavior b, parse_split_behavior(p, "pre_tokenizer", "Isolated"));
    return std::unique_ptr<PreTokenizer>(new PunctuationPreTokenizer(b));
  }
  if (type == "Digits") {
    SIMILE_ASSIGN_OR_RETURN(bool individual, get_bool(p, "pre_tokenizer", "individual_digits", false));
    return std::unique_ptr<PreTokenizer>(new DigitsPreTokenizer(individual));
  }
  if (type == "Metaspace") {
    SIMILE_ASSIGN_OR_RETURN(std::string replacement, get_string(p, "pre_tokenizer", "replacement", "\u2581"));
    const std::u32string r = to_u32(replacement);
    if (r.size() != 1) return Status::corrupt("Metaspace replacement must be one character");
    // prepend_scheme (default always) decides; the legacy add_prefix_space
    // false must agree with it (the reference rejects false with a missing
    // scheme too), true is ignored.
    SIMILE_ASSIGN_OR_RETURN(std::optional<bool> add_prefix_space,
                            get_optional_bool(p, "pre_tokenizer", "add_prefix_space"));
    SIMILE_ASSIGN_OR_RETURN(std::string scheme, get_string(p, "pre_tokenizer", "prepend_scheme", "always"));
    MetaspacePreTokenizer::Prepend prepend;
    if (scheme == "always") {
      prepend = MetaspacePreTokenizer::Prepend::kAlways;
    } else if (scheme == "first") {
      prepend = MetaspacePreTokenizer::Prepend::kFirst;
    } else if (scheme == "never") {
      prepend = MetaspacePreTokenizer::Prepend::kNever;
    } else {
      return Status::corrupt("Metaspace prepend_scheme '" + scheme + "' is not always, first or never");
    }
    if (add_prefix_space == false && prepend != MetaspacePreTokenizer::Prepend::kNever) {
      return Status::corrupt("Metaspace add_prefix_space false does not match prepend_scheme '" + scheme + "'");
    }
    SIMILE_ASSIGN_OR_RETURN(bool split, get_bool(p, "pre_tokenizer", "split", true));
    return std::unique_ptr<PreTokenizer>(new MetaspacePreTokenizer(r[0], prepend, split));
  }
  if (type == "Sequence") {
    auto list = p.find("pretokenizers");
    if (list == p.end() || !list->is_array()) {
      return Status::corrupt("Sequence pre-tokenizer needs a \"pretokenizers\" list");
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const json& step : *list) {
      SIMILE_ASSIGN_OR_RETURN(auto s, load_pre_tokenizer(step));
      if (s) steps.push_back(std::move(s));
    }
    return std::unique_ptr<PreTokenizer>(new PreTokenizerSequence(std::move(steps)));
  }
  return Status::unsupported("pre-tokenizer '" + (type.empty() ? std::string("(no type)") : type) +
                             "' is not supported (supported: BertPreTokenizer, ByteLevel, Split, Whitespace, "
                             "WhitespaceSplit, Punctuation, Digits, Metaspace, Sequence)");
}

Result<std::unique_ptr<PreTokenizer>> load_pre_tokenizer(const json& p) {
  if (p.is_null()) return std::unique_ptr<PreTokenizer>();
  if (!p.is_object()) return Status::corrupt("\"pre_tokenizer\" must be an object or null");
  const std::string type = type_of(p);
  if (type != "BertPreTokenizer") return load_splitting_pre_tokenizer(p, type);
  return std::unique_ptr<PreTokenizer>(new BertPreTokenizer());
}

// --- post-processor ----------------------------------------------------------

// One template piece: {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
// {"Sequence": {"id": "A", "type_id": 0}}, or the string forms "$A:0",
// "$B", "[CLS]:0".
Result<TemplateProcessing::Piece> parse_piece(const json& j) {
  TemplateProcessing::Piece p{false, 0, "", 0};
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (auto colon = s.rfind(':'); colon != std::string::npos && colon + 1 < s.size() &&
                                   s.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      p.type_id = std::stoi(s.substr(colon + 1));
      s.resize(colon);
    }
    if (!s.empty() && s[0] == '$') {
      p.is_sequence = true;
      const std::string seq = s.substr(1);
      if (seq.empty() || seq == "A") {
        p.sequence = 0;
      } else if (seq == "B") {
        p.sequence = 1;
      } else {
        return Status::corrupt("TemplateProcessing piece '" + j.get<std::string>() + "' is not $A or $B");
      }
    } else {
      p.special = s;
    }
    return p;
  }
  if (!j.is_object() || j.size() != 1) return Status::corrupt("TemplateProcessing piece must be one object");
  const std::string kind = j.begin().key();
  const json& body = j.begin().value();
  if (!body.is_object()) return Status::corrupt("TemplateProcessing piece '" + kind + "' must be an object");
  SIMILE_ASSIGN_OR_RETURN(std::string id, get_string(body, "post_processor piece", "id", ""));
  SIMILE_ASSIGN_OR_RETURN(int64_t type_id, get_int(body, "post_processor piece", "type_id", 0, 0, kMaxId));
  p.type_id = static_cast<int32_t>(type_id);
  if (kind == "Sequence") {
    p.is_sequence = true;
    if (id == "A") {
      p.sequence = 0;
    } else if (id == "B") {
      p.sequence = 1;
    } else {
      return Status::corrupt("TemplateProcessing sequence id '" + id + "' is not A or B");
    }
  } else if (kind == "SpecialToken") {
    p.special = id;
  } else {
    return Status::corrupt("TemplateProcessing piece kind '" + kind + "' is not Sequence or SpecialToken");
  }
  return p;
}

Result<std::vector<TemplateProcessing::Piece>> parse_template(const json& post, const char* key) {
  std::vector<TemplateProcessing::Piece> pieces;
  auto it = post.find(key);
  if (it == post.end() || it->is_null()) return pieces;
  std::vector<json> items;
  if (it->is_string()) {  // "[CLS]:0 $A:0 [SEP]:0"
    const std::string s = it->get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      const size_t j = s.find(' ', i);
      const std::string word = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (!word.empty()) items.emplace_back(word);
      if (j == std::string::npos) break;
      i = j + 1;
    }
  } else if (it->is_array()) {
    items.assign(it->begin(), it->end());
  } else {
    return Status::corrupt(std::string("post_processor.") + key + " must be a list of pieces");
  }
  for (const json& item : items) {
    SIMILE_ASSIGN_OR_RETURN(auto piece, parse_piece(item));
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

Result<std::pair<std::string, int32_t>> parse_token_pair(const json& post, const char* key) {
  auto it = post.find(key);
  if (it == post.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string()) {
    return Status::corrupt(std::string("post_processor.") + key + " must be [token, id]");
  }
  SIMILE_ASSIGN_OR_RETURN(int64_t id, to_int((*it)[1], std::string("post_processor.") + key + "[1]", 0, kMaxId));
  return std::make_pair((*it)[0].get<std::string>(), static_cast<int32_t>(id));
}

Result<std::unique_ptr<PostProcessor>> load_post_processor(const json& post) {
  if (post.is_null()) return std::unique_ptr<PostProcessor>();
  if (!post.is_object()) return Status::corrupt("\"post_processor\" must be an object or null");
  const std::string type = type_of(post);
  if (type == "TemplateProcessing") {
    SIMILE_ASSIGN_OR_RETURN(auto single, parse_template(post, "single"));
    SIMILE_ASSIGN_OR_RETURN(auto pair, parse_template(post, "pair"));
    std::map<std::string, TemplateProcessing::SpecialToken> specials;
    auto st = post.find("special_tokens");
    if (st != post.end() && !st->is_null()) {
      if (!st->is_object()) return Status::corrupt("post_processor.special_tokens must be an object");
      for (auto it = st->begin(); it != st->end(); ++it) {
        const json& def = it.value();
        auto ids = def.find("ids");
        auto tokens = def.find("tokens");
        if (!def.is_object() || ids == def.end() || !ids->is_array() || tokens == def.end() || !tokens->is_array()) {
          return Status::corrupt("post_processor.special_tokens[\"" + it.key() + "\"] needs \"ids\" and \"tokens\"");
        }
        TemplateProcessing::SpecialToken s;
        for (const json& id : *ids) {
          SIMILE_ASSIGN_OR_RETURN(int64_t v, to_int(id, "special token id", 0, kMaxId));
          s.ids.push_back(static_cast<int32_t>(v));
        }
        for (const json& t : *tokens) {
          if (!t.is_string()) return Status::corrupt("post_processor.special_tokens tokens must be strings");
          s.tokens.push_back(t.get<std::string>());
        }
        specials.emplace(it.key(), std::move(s));
      }
    }
    SIMILE_ASSIGN_OR_RETURN(auto tp,
                            TemplateProcessing::create(std::move(single), std::move(pair), std::move(specials)));
    return std::unique_ptr<PostProcessor>(std::move(tp));
  }
  if (type == "BertProcessing") {
    SIMILE_ASSIGN_OR_RETURN(auto sep, parse_token_pair(post, "sep"));
    SIMILE_ASSIGN_OR_RETURN(auto cls, parse_token_pair(post, "cls"));
    return std::unique_ptr<PostProcessor>(new BertProcessing(cls.first, cls.second, sep.first, sep.second));
  }
  if (type == "RobertaProcessing") {
    RobertaProcessing::Options o;
    SIMILE_ASSIGN_OR_RETURN(auto sep, parse_token_pair(post, "sep"));
    SIMILE_ASSIGN_OR_RETURN(auto cls, parse_token_pair(post, "cls"));
    std::tie(o.sep, o.sep_id) = sep;
    std::tie(o.cls, o.cls_id) = cls;
    SIMILE_ASSIGN_OR_RETURN(o.trim_offsets, get_bool(post, "post_processor", "trim_offsets", true));
    SIMILE_ASSIGN_OR_RETURN(o.add_prefix_space, get_bool(post, "post_processor", "add_prefix_space", true));
    return std::unique_ptr<PostProcessor>(new RobertaProcessing(std::move(o)));
  }
  if (type == "ByteLevel") {
    SIMILE_ASSIGN_OR_RETURN(bool trim, get_bool(post, "post_processor", "trim_offsets", true));
    SIMILE_ASSIGN_OR_RETURN(bool prefix, get_bool(post, "post_processor", "add_prefix_space", true));
    return std::unique_ptr<PostProcessor>(new ByteLevelProcessing(trim, prefix));
  }
  return Status::unsupported(
      "post-processor '" + (type.empty() ? std::string("(no type)") : type) +
      "' is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel)");
}

// --- added tokens, truncation, padding --------------------------------------

Result<std::vector<AddedToken>> load_added_tokens(const json& root) {
  std::vector<AddedToken> tokens;
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  if (!it->is_array()) return Status::corrupt("\"added_tokens\" must be a list");
  for (const json& t : *it) {
    if (!t.is_object()) return Status::corrupt("each of \"added_tokens\" must be an object");
    AddedToken a;
    auto content = t.find("content");
    if (content == t.end() || !content->is_string()) return Status::corrupt("an added token has no \"content\"");
    a.content = content->get<std::string>();
    SIMILE_ASSIGN_OR_RETURN(a.special, get_bool(t, "added_tokens", "special", false));
    SIMILE_ASSIGN_OR_RETURN(a.single_word, get_bool(t, "added_tokens", "single_word", false));
    SIMILE_ASSIGN_OR_RETURN(a.lstrip, get_bool(t, "added_tokens", "lstrip", false));
    SIMILE_ASSIGN_OR_RETURN(a.rstrip, get_bool(t, "added_tokens", "rstrip", false));
    SIMILE_ASSIGN_OR_RETURN(a.normalized, get_bool(t, "added_tokens", "normalized", !a.special));
    tokens.push_back(std::move(a));
  }
  return tokens;
}

Result<Side> parse_side(const json& obj, const char* where) {
  SIMILE_ASSIGN_OR_RETURN(std::string dir, get_string(obj, where, "direction", "Right"));
  if (dir == "Right") return Side::kRight;
  if (dir == "Left") return Side::kLeft;
  return Status::corrupt(std::string(where) + ".direction '" + dir + "' is not Right or Left");
}

Result<std::optional<TruncationOptions>> load_truncation(const json& root) {
  auto it = root.find("truncation");
  if (it == root.end() || it->is_null()) return std::optional<TruncationOptions>();
  if (!it->is_object()) return Status::corrupt("\"truncation\" must be an object or null");
  TruncationOptions t;
  SIMILE_ASSIGN_OR_RETURN(int64_t max_length, get_int(*it, "truncation", "max_length", 512, 0, kMaxLength));
  t.max_length = static_cast<size_t>(max_length);
  SIMILE_ASSIGN_OR_RETURN(t.direction, parse_side(*it, "truncation"));
  SIMILE_ASSIGN_OR_RETURN(std::string strategy, get_string(*it, "truncation", "strategy", "LongestFirst"));
  if (strategy == "LongestFirst") {
    t.strategy = TruncationOptions::Strategy::kLongestFirst;
  } else if (strategy == "OnlyFirst") {
    t.strategy = TruncationOptions::Strategy::kOnlyFirst;
  } else if (strategy == "OnlySecond") {
    t.strategy = TruncationOptions::Strategy::kOnlySecond;
  } else {
    return Status::corrupt("truncation.strategy '" + strategy + "' is not LongestFirst, OnlyFirst or OnlySecond");
  }
  // "stride" only shapes the overflowing windows, which encode() does not return.
  return std::optional<TruncationOptions>(t);
}

Result<std::optional<PaddingOptions>> load_padding(const json& root) {
  auto it = root.find("padding");
  if (it == root.end() || it->is_null()) return std::optional<PaddingOptions>();
  if (!it->is_object()) return Status::corrupt("\"padding\" must be an object or null");
  PaddingOptions p;
  auto strategy = it->find("strategy");
  if (strategy == it->end() || (strategy->is_string() && strategy->get<std::string>() == "BatchLongest")) {
    p.fixed_length.reset();
  } else if (strategy->is_object() && strategy->contains("Fixed")) {
    SIMILE_ASSIGN_OR_RETURN(int64_t n, to_int((*strategy)["Fixed"], "padding.strategy.Fixed", 0, kMaxLength));
    p.fixed_length = static_cast<size_t>(n);
  } else {
    return Status::corrupt("padding.strategy must be \"BatchLongest\" or {\"Fixed\": n}");
  }
  SIMILE_ASSIGN_OR_RETURN(p.direction, parse_side(*it, "padding"));
  SIMILE_ASSIGN_OR_RETURN(int64_t multiple, get_int(*it, "padding", "pad_to_multiple_of", 0, 0, kMaxLength));
  p.pad_to_multiple_of = static_cast<size_t>(multiple);
  SIMILE_ASSIGN_OR_RETURN(int64_t pad_id, get_int(*it, "padding", "pad_id", 0, 0, kMaxId));
  SIMILE_ASSIGN_OR_RETURN(int64_t pad_type_id, get_int(*it, "padding", "pad_type_id", 0, 0, kMaxId));
  SIMILE_ASSIGN_OR_RETURN(std::string pad_token, get_string(*it, "padding", "pad_token", "[PAD]"));
  p.pad_id = static_cast<int32_t>(pad_id);
  p.pad_type_id = static_cast<int32_t>(pad_type_id);
  p.pad_token = std::move(pad_token);
  return std::optional<PaddingOptions>(std::move(p));
}

Result<std::unique_ptr<Tokenizer::Impl>> load(const json& root) {
  if (!root.is_object()) return Status::corrupt("the top level must be a JSON object");
  SIMILE_ASSIGN_OR_RETURN(std::string version, get_string(root, "tokenizer", "version", "1.0"));
  if (version != "1.0") return Status::unsupported("unknown tokenizer.json version '" + version + "'");
  auto model = root.find("model");
  if (model == root.end()) return Status::corrupt("no \"model\" section");

  auto impl = std::make_unique<Tokenizer::Impl>();
  SIMILE_ASSIGN_OR_RETURN(impl->model, load_model(*model));
  auto section = [&](const char* key) -> const json& {
    static const json kNull;
    auto it = root.find(key);
    return it == root.end() ? kNull : *it;
  };
  SIMILE_ASSIGN_OR_RETURN(impl->normalizer, load_normalizer(section("normalizer")));
  SIMILE_ASSIGN_OR_RETURN(impl->pre_tokenizer, load_pre_tokenizer(section("pre_tokenizer")));
  SIMILE_ASSIGN_OR_RETURN(impl->post_processor, load_post_processor(section("post_processor")));
  SIMILE_ASSIGN_OR_RETURN(auto added, load_added_tokens(root));
  const Model* m = impl->model.get();
  impl->added.add(
      added, [m](const std::string& content) { return m->token_to_id(content); }, m->vocab_size());
  impl->added.build(impl->normalizer.get());
  SIMILE_ASSIGN_OR_RETURN(impl->truncation, load_truncation(root));
  SIMILE_ASSIGN_OR_RETURN(impl->file_padding, load_padding(root));
  impl->padding = impl->file_padding;
  return impl;
}

}  // namespace

Result<std::unique_ptr<Tokenizer::Impl>> load_tokenizer_json(std::string_view json_text) {
  try {
    const json root = json::parse(json_text.begin(), json_text.end());
    return load(root);
  } catch (const json::parse_error& e) {
    return Status::corrupt("invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    return Status::corrupt(std::string("unexpected JSON content: ") + e.what());
  }
}

}  // namespace simile::text
