// tokenizer.json from anywhere: Tokenizer::from_json must reject what it
// cannot use with an error, never crash or hang, and a tokenizer it accepts
// must encode text within its own invariants.
#include <string>

#include "fuzz_util.h"
#include "simile/tokenizer.h"

namespace {

using simile::fuzz::as_text;

void check_encoding(const simile::Encoding& e, size_t text_size, size_t vocab) {
  const size_t n = e.ids.size();
  FUZZ_CHECK(e.tokens.size() == n && e.type_ids.size() == n && e.attention_mask.size() == n &&
             e.special_tokens_mask.size() == n && e.offsets.size() == n);
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(e.offsets[i].first <= e.offsets[i].second && e.offsets[i].second <= text_size,
               "token %zu offsets [%u, %u) outside a text of %zu bytes", i, e.offsets[i].first,
               e.offsets[i].second, text_size);
    (void)vocab;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tokenizer = simile::Tokenizer::from_json(as_text(data, size));
  if (!tokenizer.is_ok()) {
    // For checking that the seeds load (a seed the loader rejects explores little).
    if (std::getenv("SIMILE_FUZZ_VERBOSE") != nullptr)
      std::fprintf(stderr, "rejected: %s\n", tokenizer.status().message().c_str());
    return 0;
  }
  simile::Tokenizer& t = **tokenizer;
  t.set_invalid_utf8(simile::InvalidUtf8::kReplace);
  const std::string samples[] = {"Hello, world! It's 2026.", "  naïve café ÉCOLE  ", "안녕하세요 세계 東京",
                                 "a\tb\nc\r\n\xF0\x9F\x98\x80", std::string("\xff\xfe x\x80", 6), ""};
  for (const std::string& s : samples) {
    auto e = t.encode(s);
    if (e.is_ok()) check_encoding(*e, s.size(), t.vocab_size());
  }
  auto pair = t.encode_pair(samples[0], samples[2]);
  if (pair.is_ok()) {
    for (int32_t id : pair->ids) (void)t.id_to_token(id);
  }
  return 0;
}
