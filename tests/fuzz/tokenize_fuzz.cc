// Arbitrary bytes through real tokenizers (WordPiece: the default model's;
// byte-level BPE: GPT-2's; Unigram: T5's, from ../shared/tokenizers): every
// encoding keeps its invariants, invalid UTF-8 is replaced or rejected as
// asked, never crashes.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "simile/tokenizer.h"
#include "text/utf8.h"

namespace {

using simile::fuzz::as_text;

std::vector<std::unique_ptr<simile::Tokenizer>>& tokenizers() {
  static std::vector<std::unique_ptr<simile::Tokenizer>> all = [] {
    std::vector<std::unique_ptr<simile::Tokenizer>> v;
    const std::string files[] = {simile::fuzz::default_model_dir() + "/tokenizer.json",
                                 simile::fuzz::shared_dir() + "/tokenizers/gpt2/tokenizer.json",
                                 simile::fuzz::shared_dir() + "/tokenizers/t5-small/tokenizer.json"};
    for (const std::string& f : files) {
      auto t = simile::Tokenizer::from_file(f);
      if (!t.is_ok()) {
        std::fprintf(stderr, "fuzz: cannot load %s: %s\n", f.c_str(), t.status().message().c_str());
        std::abort();
      }
      v.push_back(std::move(t).value());
    }
    return v;
  }();
  return all;
}

void check(const simile::Tokenizer& t, const simile::Encoding& e, size_t text_size) {
  const size_t n = e.ids.size();
  FUZZ_CHECK(e.tokens.size() == n && e.type_ids.size() == n && e.offsets.size() == n &&
             e.attention_mask.size() == n && e.special_tokens_mask.size() == n);
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(e.ids[i] >= 0 && static_cast<size_t>(e.ids[i]) < t.vocab_size(), "id %d outside the vocabulary",
               e.ids[i]);
    FUZZ_CHECK(e.offsets[i].first <= e.offsets[i].second && e.offsets[i].second <= text_size,
               "token %zu offsets [%u, %u) outside a text of %zu bytes", i, e.offsets[i].first,
               e.offsets[i].second, text_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = as_text(data, size);
  const bool valid = simile::text::find_invalid_utf8(text) == std::string_view::npos;
  for (auto& t : tokenizers()) {
    t->set_invalid_utf8(simile::InvalidUtf8::kReplace);
    auto e = t->encode(text);
    FUZZ_CHECK(e.is_ok(), "encode failed: %s", e.status().message().c_str());
    check(*t, *e, text.size());
    t->set_invalid_utf8(simile::InvalidUtf8::kReject);
    auto strict = t->encode(text);
    FUZZ_CHECK(strict.is_ok() == valid, "kReject %s valid=%d", strict.is_ok() ? "accepted" : "rejected", valid);
    if (valid) FUZZ_CHECK(strict->ids == e->ids, "kReject and kReplace differ on valid UTF-8");
    // A pair, cut where the first 0x00 byte is (cross-encoder inputs).
    const size_t cut = text.find('\0');
    if (cut != std::string_view::npos) {
      t->set_invalid_utf8(simile::InvalidUtf8::kReplace);
      auto p = t->encode_pair(text.substr(0, cut), text.substr(cut + 1));
      FUZZ_CHECK(p.is_ok(), "encode_pair failed: %s", p.status().message().c_str());
    }
  }
  return 0;
}
