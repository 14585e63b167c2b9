// Server-sent events (src/remote/sse.h): the WHATWG rules, whatever pieces
// the bytes arrive in.
#include "remote/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace simile::remote {
namespace {

struct Seen {
  std::string event;
  std::string data;
  bool operator==(const Seen& o) const { return event == o.event && data == o.data; }
};

void PrintTo(const Seen& s, std::ostream* os) { *os << "{event: \"" << s.event << "\", data: \"" << s.data << "\"}"; }

// The events of `stream` fed in pieces of `piece` bytes (0 = whole), then finished.
std::vector<Seen> parse(const std::string& stream, size_t piece = 0) {
  std::vector<Seen> seen;
  SseParser parser([&](const SseEvent& e) { seen.push_back({e.event, e.data}); });
  if (piece == 0) {
    parser.feed(stream);
  } else {
    for (size_t i = 0; i < stream.size(); i += piece) parser.feed(std::string_view(stream).substr(i, piece));
  }
  parser.finish();
  return seen;
}

TEST(Sse, ParsesOpenAiChunksWhateverThePieces) {
  const std::string stream =
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
      "data: [DONE]\n\n";
  const std::vector<Seen> want = {{"", "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}"},
                                  {"", "{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}"},
                                  {"", "[DONE]"}};
  EXPECT_EQ(parse(stream), want);
  // Split at every byte, and in pieces of every size up to the whole.
  for (size_t piece = 1; piece <= stream.size(); ++piece)
    EXPECT_EQ(parse(stream, piece), want) << "pieces of " << piece;
}

TEST(Sse, TakesEveryLineEnd) {
  const std::vector<Seen> want = {{"", "a"}, {"", "b"}};
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    const std::string stream = "data: a" + eol + eol + "data: b" + eol + eol;
    for (size_t piece = 0; piece <= 3; ++piece)
      EXPECT_EQ(parse(stream, piece), want) << "line end of " << eol.size() << " bytes, pieces of " << piece;
  }
  // Mixed, with "\r" then "\n" arriving in different calls: one line end, not two.
  std::vector<Seen> seen;
  SseParser parser([&](const SseEvent& e) { seen.push_back({e.event, e.data}); });
  parser.feed("data: x\r");
  parser.feed("\ndata: y\n");
  EXPECT_TRUE(seen.empty()) << "no blank line yet";
  parser.feed("\r");
  parser.feed("\n");
  EXPECT_EQ(seen, (std::vector<Seen>{{"", "x\ny"}}));
  parser.feed("\n");  // the "\r\n" was one line end: this is a blank line with nothing gathered
  EXPECT_EQ(seen.size(), 1u);
}

TEST(Sse, JoinsDataLinesAndReadsTheEventField) {
  EXPECT_EQ(parse("data: first\ndata: second\ndata:\ndata:third\n\n"),
            (std::vector<Seen>{{"", "first\nsecond\n\nthird"}}));
  EXPECT_EQ(parse("event: error\ndata: {\"error\":{}}\n\ndata: plain\n\n"),
            (std::vector<Seen>{{"error", "{\"error\":{}}"}, {"", "plain"}}));
  // Only one space after the colon is dropped.
  EXPECT_EQ(parse("data:  two spaces\n\n"), (std::vector<Seen>{{"", " two spaces"}}));
  // A field with no colon is its whole line, with an empty value.
  EXPECT_EQ(parse("data\n\n"), (std::vector<Seen>{{"", ""}}));
}

TEST(Sse, IgnoresCommentsUnknownFieldsAndEventsWithoutData) {
  EXPECT_EQ(parse(": keep-alive\n\n"
                  ":another\n"
                  "id: 7\nretry: 1000\nfoo: bar\ndata: kept\n\n"
                  "event: ping\n\n"
                  "data: last\n\n"),
            (std::vector<Seen>{{"", "kept"}, {"", "last"}}));
  // An event type set by an event with no data does not leak into the next.
  EXPECT_EQ(parse("event: ping\n\ndata: x\n\n"), (std::vector<Seen>{{"", "x"}}));
}

TEST(Sse, DropsAnEventTheStreamDidNotClose) {
  EXPECT_EQ(parse("data: whole\n\ndata: cut"), (std::vector<Seen>{{"", "whole"}}));
  EXPECT_EQ(parse("data: whole\n\ndata: cut\n"), (std::vector<Seen>{{"", "whole"}}));
  EXPECT_EQ(parse("data: whole\r\n\r\ndata: cut\r\n"), (std::vector<Seen>{{"", "whole"}}));
}

TEST(Sse, SkipsAByteOrderMarkAtTheStart) {
  const std::string bom = "\xEF\xBB\xBF";
  EXPECT_EQ(parse(bom + "data: a\n\n"), (std::vector<Seen>{{"", "a"}}));
  EXPECT_EQ(parse(bom + "data: a\n\n", 1), (std::vector<Seen>{{"", "a"}}));
  // Only at the start: later it is part of a field name.
  EXPECT_EQ(parse("data: a\n\n" + bom + "data: b\n\n"), (std::vector<Seen>{{"", "a"}}));
}

TEST(Sse, KeepsUtf8SplitAcrossPieces) {
  const std::string stream = "data: 서울 café\n\n";
  for (size_t piece = 1; piece <= 4; ++piece)
    EXPECT_EQ(parse(stream, piece), (std::vector<Seen>{{"", "서울 café"}})) << "pieces of " << piece;
}

TEST(Sse, IsReadyForAnotherStreamAfterFinish) {
  std::vector<Seen> seen;
  SseParser parser([&](const SseEvent& e) { seen.push_back({e.event, e.data}); });
  parser.feed("event: e\ndata: cut");
  parser.finish();
  parser.feed("data: next\n\n");
  EXPECT_EQ(seen, (std::vector<Seen>{{"", "next"}}));
}

}  // namespace
}  // namespace simile::remote
