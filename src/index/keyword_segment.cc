#include "index/keyword_segment.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace simile::keyword {

namespace {

constexpr char kMagic[4] = {'S', 'K', 'S', '1'};
constexpr size_t kChecksumBytes = 8;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads varints from a bounded buffer; any overrun sets failed() and yields 0.
class Reader {
 public:
  Reader(std::string_view data, size_t pos) : data_(data), pos_(pos) {}
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return fail();
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return fail();
  }
  std::string_view bytes(uint64_t n) {
    if (n > data_.size() - pos_) {
      fail();
      return {};
    }
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool failed() const { return failed_; }
  size_t pos() const { return pos_; }

 private:
  uint64_t fail() {
    failed_ = true;
    pos_ = data_.size();
    return 0;
  }
  std::string_view data_;
  size_t pos_;
  bool failed_ = false;
};

Status damaged(const std::string& what) { return Status::corrupt("keyword segment damaged: " + what); }

}  // namespace

uint32_t SegmentBuilder::add_document(int64_t rowid, int64_t version, uint32_t length) {
  docs_.push_back({rowid, version, length});
  return static_cast<uint32_t>(docs_.size() - 1);
}

void SegmentBuilder::add_term(std::string_view term, uint32_t document, uint32_t count) {
  auto it = terms_.find(term);
  if (it == terms_.end()) it = terms_.emplace(std::string(term), std::vector<Posting>()).first;
  it->second.push_back({document, count});
}

std::string SegmentBuilder::encode() {
  // Documents ascend by rowid so postings can be delta-coded and merged in order.
  std::vector<uint32_t> order(docs_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return docs_[a].rowid < docs_[b].rowid; });
  std::vector<uint32_t> new_index(docs_.size());
  for (uint32_t i = 0; i < order.size(); ++i) new_index[order[i]] = i;

  std::string out(kMagic, sizeof kMagic);
  put_varint(out, docs_.size());
  int64_t previous = 0;
  for (uint32_t i : order) {
    const SegmentDocument& d = docs_[i];
    put_varint(out, static_cast<uint64_t>(d.rowid - previous));
    put_varint(out, static_cast<uint64_t>(d.version));
    put_varint(out, d.length);
    previous = d.rowid;
  }
  std::vector<std::pair<std::string_view, std::vector<Posting>*>> terms;
  terms.reserve(terms_.size());
  for (auto& [term, postings] : terms_) terms.emplace_back(term, &postings);
  std::sort(terms.begin(), terms.end());
  put_varint(out, terms.size());
  for (auto& [term, postings] : terms) {
    for (Posting& p : *postings) p.doc = new_index[p.doc];
    std::sort(postings->begin(), postings->end(), [](const Posting& a, const Posting& b) { return a.doc < b.doc; });
    put_varint(out, term.size());
    out.append(term);
    put_varint(out, postings->size());
    uint32_t prev = 0;
    for (const Posting& p : *postings) {
      put_varint(out, p.doc - prev);
      put_varint(out, p.count);
      prev = p.doc;
    }
  }
  const uint64_t sum = XXH3_64bits(out.data(), out.size());
  char tail[kChecksumBytes];
  std::memcpy(tail, &sum, sizeof tail);
  out.append(tail, sizeof tail);
  docs_.clear();
  terms_.clear();
  return out;
}

Result<Segment> Segment::decode(std::string_view blob) {
  if (blob.size() < sizeof kMagic + kChecksumBytes || std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0)
    return damaged("not a keyword segment (bad magic or too short)");
  const std::string_view body = blob.substr(0, blob.size() - kChecksumBytes);
  uint64_t stored = 0;
  std::memcpy(&stored, blob.data() + body.size(), sizeof stored);
  if (XXH3_64bits(body.data(), body.size()) != stored) return damaged("checksum mismatch");
  Segment s;
  s.blob_ = body;
  Reader r(body, sizeof kMagic);
  const uint64_t n = r.varint();
  if (n > body.size()) return damaged("document count");
  s.docs_.reserve(n);
  int64_t rowid = 0;
  for (uint64_t i = 0; i < n && !r.failed(); ++i) {
    SegmentDocument d;
    rowid += static_cast<int64_t>(r.varint());
    d.rowid = rowid;
    d.version = static_cast<int64_t>(r.varint());
    d.length = static_cast<uint32_t>(r.varint());
    s.docs_.push_back(d);
  }
  s.terms_ = r.varint();
  if (r.failed()) return damaged("document table");
  s.terms_offset_ = r.pos();
  // Walk the postings once so for_each_term can trust every bound.
  Reader check(body, s.terms_offset_);
  for (uint64_t t = 0; t < s.terms_ && !check.failed(); ++t) {
    check.bytes(check.varint());
    const uint64_t count = check.varint();
    if (count > body.size()) return damaged("posting count");
    uint64_t doc = 0;
    for (uint64_t i = 0; i < count && !check.failed(); ++i) {
      doc += check.varint();
      check.varint();
      if (doc >= n) return damaged("posting points past the document table");
    }
  }
  if (check.failed() || check.pos() != body.size()) return damaged("term section");
  return s;
}

void Segment::for_each_term(
    const std::function<void(std::string_view term, const std::vector<Posting>& postings)>& fn) const {
  Reader r(blob_, terms_offset_);
  std::vector<Posting> postings;
  for (size_t t = 0; t < terms_; ++t) {
    const std::string_view term = r.bytes(r.varint());
    const uint64_t count = r.varint();
    postings.resize(count);
    uint32_t doc = 0;
    for (uint64_t i = 0; i < count; ++i) {
      doc += static_cast<uint32_t>(r.varint());
      postings[i] = {doc, static_cast<uint32_t>(r.varint())};
    }
    fn(term, postings);
  }
}

Result<std::string> merge_segments(const std::vector<std::string_view>& inputs,
                                   const std::function<bool(int64_t rowid, int64_t version)>& live) {
  SegmentBuilder builder;
  for (std::string_view blob : inputs) {
    SIMILE_ASSIGN_OR_RETURN(Segment segment, Segment::decode(blob));
    constexpr uint32_t kDead = UINT32_MAX;
    std::vector<uint32_t> handle(segment.documents().size(), kDead);
    for (size_t i = 0; i < handle.size(); ++i) {
      const SegmentDocument& d = segment.documents()[i];
      if (live(d.rowid, d.version)) handle[i] = builder.add_document(d.rowid, d.version, d.length);
    }
    segment.for_each_term([&](std::string_view term, const std::vector<Posting>& postings) {
      for (const Posting& p : postings)
        if (handle[p.doc] != kDead) builder.add_term(term, handle[p.doc], p.count);
    });
  }
  return builder.encode();
}

}  // namespace simile::keyword
