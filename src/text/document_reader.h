// Document readers: turn the files (or stdin) given to ingest into documents,
// one at a time, so that inputs of any size stream through bounded memory.
//
// Formats, chosen by file extension (InputFormat::kAuto) or forced:
//   .txt                 one document per file, the text as is; title = file stem
//   .md .markdown        one document per file, the text as is; title = the
//                        first heading (ATX "# T" or setext "T\n==="), else the stem
//   .html .htm           one document per file, stripped to readable text
//                        (html_text.h); title = <title>, else the first <h1>, else the stem
//   .json                an array of objects (streamed element by element) or one object
//   .jsonl .ndjson       one object per line; blank lines are skipped
//   .csv                 RFC 4180 with a header row: one record per row
//   lines (stdin)        one document per non-empty line
// A file given by name whose extension is unknown is read as text.
//
// Directories are walked recursively in sorted (byte-wise) order, skipping
// hidden entries (names starting with '.') and files with unknown extensions;
// symbolic links are followed while they stay inside the directory given
// (each directory visited once); a link leading out of it is a bad item
// ("a symbolic link to ..., outside ...: not followed") unless follow_symlinks.
// A path given by name is read wherever it points.
//
// Ids. Whole-file documents: the path relative to the directory argument it
// was found under, or the path as given for a file argument, with '/'
// separators. Records: the value of ReaderOptions::id_field (a string or an
// integer), else "<path>:<line>" (jsonl, csv and lines; 1-based physical line
// where the record starts) or "<path>#<index>" (json arrays; "<path>" for a
// single object), <path> being the same relative path. Stdin is "stdin".
//
// Records (json, jsonl, csv): text = the text_field (required, a string),
// title = the title_field when present (a string, or null = none), meta = the
// meta_fields that are present, or every other top-level field when
// meta_fields is empty. JSON values keep their types. CSV values are strings,
// except a value that is entirely a number in plain decimal notation (123,
// -4.5, 1e3; not 007, 0x1F, inf or " 1") becomes a JSON number, so numeric
// range filters work on CSV columns.
//
// Errors. A bad item (unreadable file, invalid UTF-8, empty document, a line
// or document over max_document_bytes, malformed JSON, a missing or mistyped
// field) reaches the sink as a Status whose message starts with
// "<path>:<line>: " ("<path>: " when it concerns a whole file), and reading
// continues with the next item. Only a path that does not exist, or a sink
// that returns an error, stops read_documents.
//
// Thread safety: the functions keep no state; the sink is called on the
// calling thread, in input order.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simile/status.h"

namespace simile::text {

struct SourceDocument {
  std::string id;
  std::string title;
  std::string text;
  nlohmann::json meta = nlohmann::json::object();
  std::string origin;  // "path" or "path:line", for messages about this document
};

enum class InputFormat { kAuto, kText, kMarkdown, kHtml, kJson, kJsonl, kCsv, kLines };

struct ReaderOptions {
  InputFormat format = InputFormat::kAuto;  // kAuto: by extension; stdin: kLines
  std::string id_field;                     // records: the field holding the id (empty = path:line)
  std::string text_field = "text";
  std::string title_field = "title";
  std::vector<std::string> meta_fields;  // empty = every top-level field but id, text and title
  // The largest document, JSONL line, CSV record or JSON array element read;
  // a longer one is an error for that item, and at most this much of it is
  // held in memory (except one JSON string value, which the JSON parser
  // holds whole before it can be measured).
  size_t max_document_bytes = size_t{64} << 20;
  // Follow symbolic links inside a directory wherever they lead.
  bool follow_symlinks = false;
};

// Receives each document, or the Status of an item that could not be read.
// Returning a non-ok Status stops reading (read_documents returns it).
using DocumentSink = std::function<Status(Result<SourceDocument>)>;

// Reads every document of `paths` (files, directories, "-" for stdin) in order.
// Every path is checked before any document is read, so a mistyped one stops
// the whole input early.
Status read_documents(const std::vector<std::string>& paths, const ReaderOptions& options, const DocumentSink& sink);

// How many items read_documents would hand the sink (documents plus bad
// items), for a progress bar: files for whole-file formats, non-blank lines
// for jsonl and lines, elements of a json array, rows for csv (counted as
// lines, so a quoted field spanning lines makes it an over-estimate). Costs a
// fast scan of the record files. Stdin cannot be counted: kUnsupported.
Result<size_t> count_documents(const std::vector<std::string>& paths, const ReaderOptions& options);

// The format of a file's name by its extension (case-insensitive), or kAuto
// when the extension is not one of the known ones.
InputFormat format_for_path(const std::string& path);

}  // namespace simile::text
