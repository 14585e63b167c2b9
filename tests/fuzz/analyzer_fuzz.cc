// Text through the BM25 analyzer under several settings: any bytes are
// accepted, every term lies inside the text, is valid UTF-8 of at most
// kMaxTermCodePoints code points, and terms come in text order. Analyzer
// specs (the --analyzer flag and the JSON stored with an index) are parsed
// from the same bytes.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "text/analyzer.h"
#include "text/utf8.h"

namespace {

using simile::text::Analyzer;
using simile::text::AnalyzerSettings;

std::vector<std::unique_ptr<Analyzer>>& analyzers() {
  static std::vector<std::unique_ptr<Analyzer>> all = [] {
    std::vector<std::unique_ptr<Analyzer>> v;
    for (const char* spec : {"default", "english", "simple,accents=keep,cjk=run", "german,cjk=bigram+unigram"}) {
      auto settings = simile::text::parse_analyzer_spec(spec);
      FUZZ_CHECK(settings.is_ok(), "%s", spec);
      auto a = Analyzer::create(*settings);
      FUZZ_CHECK(a.is_ok(), "%s", spec);
      v.push_back(std::move(a).value());
    }
    return v;
  }();
  return all;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = simile::fuzz::as_text(data, size);
  for (auto& a : analyzers()) {
    size_t last_begin = 0;
    a->analyze(text, [&](std::string_view term, size_t begin, size_t end) {
      FUZZ_CHECK(!term.empty());
      FUZZ_CHECK(begin < end && end <= text.size(), "span [%zu, %zu) of %zu bytes", begin, end, text.size());
      FUZZ_CHECK(begin >= last_begin, "terms out of order");
      last_begin = begin;
      FUZZ_CHECK(simile::text::find_invalid_utf8(term) == std::string_view::npos, "a term of invalid UTF-8");
      FUZZ_CHECK(code_points(term) <= simile::text::kMaxTermCodePoints, "a term of %zu code points",
                 code_points(term));
    });
  }
  // @FILE reads a file: not from fuzz input.
  if (text.find('@') == std::string_view::npos) {
    auto settings = simile::text::parse_analyzer_spec(text);
    if (settings.is_ok()) {
      auto again = simile::text::parse_analyzer_spec(simile::text::analyzer_to_json(*settings));
      FUZZ_CHECK(again.is_ok(), "analyzer_to_json output does not parse");
      FUZZ_CHECK(simile::text::analyzer_to_json(*again) == simile::text::analyzer_to_json(*settings));
      (void)Analyzer::create(*settings);
    }
  }
  return 0;
}
