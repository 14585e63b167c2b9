// html_to_text: what a reader sees, with its paragraphs, and nothing else.
#include "text/html_text.h"

#include <gtest/gtest.h>

#include <string>

namespace simile::text {
namespace {

TEST(HtmlTextTest, DropsScriptsStylesHeadAndComments) {
  const HtmlText h = html_to_text(R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title> The  Page &amp; More </title>
<style>body { color: red; } p > a { }</style>
<script>var x = "<p>not text</p>"; if (a < b) {}</script>
<link rel="stylesheet" href="x.css">stray head text
</head>
<body>
<!-- a comment <p>hidden</p> -->
<h1>Main heading</h1>
<p>First <b>para</b>graph
   spans lines.</p>
<script type="module">
  document.write("</div>");
</SCRIPT>
<p>Second paragraph.</p>
<?php echo "x"; ?>
</body></html>)");
  EXPECT_EQ(h.title, "The Page & More");
  EXPECT_EQ(h.text, "Main heading\n\nFirst paragraph spans lines.\n\nSecond paragraph.");
}

TEST(HtmlTextTest, DecodesCharacterReferences) {
  EXPECT_EQ(decode_html_entities("a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;"), "a & b <c> \"q\" 's'");
  EXPECT_EQ(decode_html_entities("caf&eacute; na&iuml;ve &copy; &euro;5 &mdash; &hellip;"), "café naïve © €5 — …");
  EXPECT_EQ(decode_html_entities("&#65;&#x42;&#X43; &#128512; &#x1F600;"), "ABC 😀 😀");
  EXPECT_EQ(decode_html_entities("&#150; &#146;"), "– ’");  // Windows-1252 as browsers read it
  EXPECT_EQ(decode_html_entities("&#0; &#xD800; &#x110000;"), "\uFFFD \uFFFD \uFFFD");
  // Not references: kept as written.
  EXPECT_EQ(decode_html_entities("AT&T & &unknown; &amp &#; &#x;"), "AT&T & &unknown; &amp &#; &#x;");
  EXPECT_EQ(decode_html_entities("soft&shy;hyphen"), "softhyphen");
}

TEST(HtmlTextTest, BlockElementsBecomeLineBreaks) {
  const HtmlText h = html_to_text(
      "<div>one</div><div>two</div><ul><li>a</li><li>b<br>c</li></ul><table><tr><td>x</td><td>y</td></tr>"
      "<tr><th>z</th><td>w</td></tr></table><p>end</p>");
  EXPECT_EQ(h.text, "one\ntwo\n\na\nb\nc\n\nx y\nz w\n\nend");
}

TEST(HtmlTextTest, CollapsesWhitespaceButKeepsPre) {
  const HtmlText h =
      html_to_text("<p>  lots   of\t\tspace&nbsp;&nbsp;here </p><pre>\ncode  line 1\n  indented &lt;2&gt;\n</pre>tail");
  EXPECT_EQ(h.text, "lots of space here\n\ncode  line 1\n  indented <2>\n\ntail");
}

TEST(HtmlTextTest, TitleFallsBackToFirstH1) {
  EXPECT_EQ(html_to_text("<h1>  First\n<em>one</em> </h1><h1>Second</h1>").title, "First one");
  EXPECT_EQ(html_to_text("<p>no headings</p>").title, "");
  EXPECT_EQ(html_to_text("<title></title><h1>From h1</h1>").title, "From h1");
}

TEST(HtmlTextTest, MalformedMarkupNeverFails) {
  EXPECT_EQ(html_to_text("a < b and c > d").text, "a < b and c > d");
  EXPECT_EQ(html_to_text("x <3 y").text, "x <3 y");
  EXPECT_EQ(html_to_text("text <p unclosed").text, "text");
  EXPECT_EQ(html_to_text("before <!-- never closed").text, "before");
  EXPECT_EQ(html_to_text("<script>never closed").text, "");
  EXPECT_EQ(html_to_text("<a href=\"x>y\" title='>'>link</a> after").text, "link after");
  EXPECT_EQ(html_to_text("").text, "");
  EXPECT_EQ(html_to_text("<").text, "<");
  EXPECT_EQ(html_to_text("&").text, "&");
  EXPECT_EQ(html_to_text("<P>Upper<BR>Case</P>").text, "Upper\nCase");
}

TEST(HtmlTextTest, InlineElementsDoNotSplitWords) {
  EXPECT_EQ(html_to_text("<p>un<i>believ</i>able <a href='#'>link</a>, <span>span</span>.</p>").text,
            "unbelievable link, span.");
  EXPECT_EQ(html_to_text("<p>caf&eacute; <code>x&lt;y</code></p>").text, "café x<y");
}

}  // namespace
}  // namespace simile::text
