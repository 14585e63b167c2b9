// HTML to readable text, for indexing web pages and exported documentation.
//
// Not a conforming HTML parser: a single forgiving pass over the markup that
// keeps what a reader sees. It drops comments, doctype and processing
// instructions, and the contents of <script>, <style>, <template>, <svg> and
// <head> (keeping <title>); decodes character references (the common named
// ones, and numeric &#N; / &#xH;); turns block elements into line breaks
// (<br>, <li>, <tr>, <div>, ...) or blank lines (<p>, <h1>-<h6>, <section>,
// <article>, <blockquote>, <table>, <pre>, ...); separates table cells with a
// space; collapses runs of whitespace to one space outside <pre>. Malformed
// markup never fails: a '<' that does not start a tag is text, an unclosed
// tag or comment runs to the end.
#pragma once

#include <string>
#include <string_view>

namespace simile::text {

struct HtmlText {
  std::string title;  // <title>, else the first <h1>, whitespace collapsed; may be empty
  std::string text;   // trimmed; paragraphs separated by a blank line
};

HtmlText html_to_text(std::string_view html);

// Decodes the character references in `s` (text outside tags). An unknown
// named reference, or one without its ';', stays as written; a numeric one
// for an invalid code point (0, a surrogate, above U+10FFFF) becomes U+FFFD.
std::string decode_html_entities(std::string_view s);

}  // namespace simile::text
