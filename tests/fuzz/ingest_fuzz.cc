// Files handed to `simile add`: the first byte picks the format (JSONL, CSV,
// JSON, HTML, Markdown, text) and id field, the rest is the file. The
// readers must report bad items as errors and keep going, and every
// document they do produce must be storable: an id, valid UTF-8 text that
// is not empty, metadata that is an object.
#include <string>

#include "fuzz_util.h"
#include "text/document_reader.h"
#include "text/utf8.h"

namespace {

bool valid_utf8(const std::string& s) { return simile::text::find_invalid_utf8(s) == std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kNames[] = {"in.jsonl", "in.csv", "in.json", "in.html", "in.md", "in.txt"};
  const std::string name = kNames[data[0] % 6];
  simile::text::ReaderOptions options;
  if (data[0] & 0x10) options.id_field = "id";
  if (data[0] & 0x20) options.meta_fields = {"year", "tags"};
  options.max_document_bytes = 4096;
  const std::string path = simile::fuzz::write_scratch(name, simile::fuzz::as_text(data + 1, size - 1));
  size_t items = 0;
  simile::Status st = simile::text::read_documents({path}, options, [&](simile::Result<simile::text::SourceDocument> d) {
    ++items;
    if (!d.is_ok()) {
      FUZZ_CHECK(!d.status().message().empty());
      return simile::Status::ok();
    }
    FUZZ_CHECK(!d->id.empty(), "a document without an id from %s", d->origin.c_str());
    FUZZ_CHECK(valid_utf8(d->id) && valid_utf8(d->title) && valid_utf8(d->text), "invalid UTF-8 from %s",
               d->origin.c_str());
    FUZZ_CHECK(!d->text.empty(), "an empty document from %s", d->origin.c_str());
    FUZZ_CHECK(d->meta.is_object(), "metadata that is not an object from %s", d->origin.c_str());
    (void)d->meta.dump();  // throws on invalid UTF-8 inside the metadata
    return simile::Status::ok();
  });
  FUZZ_CHECK(st.is_ok(), "read_documents stopped: %s", st.message().c_str());
  auto counted = simile::text::count_documents({path}, options);
  FUZZ_CHECK(counted.is_ok(), "count_documents: %s", counted.status().message().c_str());
  return 0;
}
