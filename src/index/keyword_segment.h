// A keyword segment: the postings of a batch of documents, one blob in the
// store's keyword_segments table (docs/formats/keyword.md). Segments are
// immutable; a document's postings are live only in the segment tagged with
// its current version, so an update or delete never rewrites old segments —
// merges drop what is dead.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "simile/status.h"

namespace simile::keyword {

// Lets maps keyed by std::string be searched with a string_view, without a copy.
struct TermHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <class V>
using TermMap = std::unordered_map<std::string, V, TermHash, std::equal_to<>>;

struct SegmentDocument {
  int64_t rowid = 0;    // documents.id
  int64_t version = 0;  // keyword_docs.version when these postings were written
  uint32_t length = 0;  // terms in the analysed document (BM25's document length)
};

struct Posting {
  uint32_t doc = 0;  // index into the segment's documents (ascending rowid)
  uint32_t count = 0;
};

class SegmentBuilder {
 public:
  // Returns the handle to pass to add_term.
  uint32_t add_document(int64_t rowid, int64_t version, uint32_t length);
  void add_term(std::string_view term, uint32_t document, uint32_t count);
  size_t documents() const { return docs_.size(); }
  // The encoded segment. The builder is left empty.
  std::string encode();

 private:
  std::vector<SegmentDocument> docs_;
  TermMap<std::vector<Posting>> terms_;
};

// A decoded view over an encoded segment (which must outlive it).
class Segment {
 public:
  // Checks the format and checksum: a damaged blob is an error, never a crash.
  static Result<Segment> decode(std::string_view blob);

  const std::vector<SegmentDocument>& documents() const { return docs_; }
  size_t terms() const { return terms_; }
  // fn(term, postings) for every term in byte order; postings ascend by doc.
  void for_each_term(const std::function<void(std::string_view term, const std::vector<Posting>& postings)>& fn) const;

 private:
  std::string_view blob_;
  size_t terms_offset_ = 0;  // where the term section starts
  size_t terms_ = 0;
  std::vector<SegmentDocument> docs_;
};

// One segment holding the live documents of `inputs`: live(rowid, version)
// decides which entries survive.
Result<std::string> merge_segments(const std::vector<std::string_view>& inputs,
                                   const std::function<bool(int64_t rowid, int64_t version)>& live);

}  // namespace simile::keyword
