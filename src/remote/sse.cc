#include "remote/sse.h"

namespace simile::remote {

void SseParser::feed(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (after_cr_) {
      after_cr_ = false;
      // "\r\n" is one line end: the "\r" already ended the line.
      if (bytes[i] == '\n') {
        ++i;
        continue;
      }
    }
    const size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      pending_.append(bytes.substr(i));
      return;
    }
    // The common case, a whole line inside one piece, skips the copy.
    if (pending_.empty()) {
      line(bytes.substr(i, end - i));
    } else {
      pending_.append(bytes.substr(i, end - i));
      line(pending_);
      pending_.clear();
    }
    after_cr_ = bytes[end] == '\r';
    i = end + 1;
  }
}

void SseParser::finish() {
  if (!pending_.empty()) {
    std::string last;
    last.swap(pending_);
    line(last);
  }
  // Whatever the last line added, no blank line closed the event.
  event_ = SseEvent();
  has_data_ = false;
  after_cr_ = false;
  first_line_ = true;
}

void SseParser::line(std::string_view text) {
  if (first_line_) {
    first_line_ = false;
    // The standard ignores one byte order mark at the start of the stream.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  }
  if (text.empty()) {
    if (has_data_) on_event_(event_);
    event_ = SseEvent();
    has_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // a comment (servers send them to keep the connection alive)
  std::string_view field = text;
  std::string_view value;
  if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    field = text.substr(0, colon);
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.event.assign(value);
  }
  // "id", "retry" and unknown fields do not concern a client that does not reconnect.
}

}  // namespace simile::remote
