// Server-sent events (the WHATWG "text/event-stream" format), as streamed
// chat completions arrive: bytes in, in pieces of any size, events out.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace simile::remote {

struct SseEvent {
  std::string event;  // the "event:" field; "" = the default ("message")
  std::string data;   // "data:" lines joined by "\n"
};

class SseParser {
 public:
  using Handler = std::function<void(const SseEvent& event)>;
  explicit SseParser(Handler on_event) : on_event_(std::move(on_event)) {}

  // Lines end in "\n", "\r\n" or "\r", and may be split anywhere between
  // calls; a blank line dispatches the event gathered so far (none when it
  // has no data). Comment lines (":...") and unknown fields ("id", "retry"
  // included) are ignored; one space after the colon is dropped; a byte
  // order mark at the start of the stream is skipped. The handler runs
  // inside feed().
  void feed(std::string_view bytes);
  // The end of the stream: a last line without its newline is taken, but an
  // event not closed by a blank line is dropped, as the standard says. The
  // parser is then ready for another stream.
  void finish();

 private:
  void line(std::string_view text);
  Handler on_event_;
  std::string pending_;  // an incomplete line
  bool after_cr_ = false;
  SseEvent event_;
  bool has_data_ = false;
  bool first_line_ = true;  // where a byte order mark may be
};

}  // namespace simile::remote
