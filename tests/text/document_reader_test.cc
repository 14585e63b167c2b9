// read_documents over files the tests write: every format, directory walks,
// and every kind of bad item, reported with its file and line.
#include "text/document_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../temp_dir.h"

namespace simile::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using simile::testing::TempDir;

struct Collected {
  std::vector<SourceDocument> docs;
  std::vector<std::string> errors;
  std::vector<std::string> order;  // doc ids and "ERR <message>" in sink order
  Status status;
};

Collected read(const std::vector<std::string>& paths, const ReaderOptions& options = {}) {
  Collected c;
  c.status = read_documents(paths, options, [&](Result<SourceDocument> item) {
    if (item.is_ok()) {
      c.order.push_back(item->id);
      c.docs.push_back(std::move(item).value());
    } else {
      c.order.push_back("ERR " + item.status().message());
      c.errors.push_back(item.status().message());
    }
    return Status::ok();
  });
  return c;
}

// Runs `fn` with stdin reading `content`.
template <typename Fn>
void with_stdin(const TempDir& dir, const std::string& content, Fn fn) {
  const std::string file = dir.write("stdin.bin", content);
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(file.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  fn();
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

TEST(DocumentReaderTest, WalksDirectoriesInSortedOrderSkippingHiddenAndUnknown) {
  TempDir d;
  d.write("corpus/b.md", "Intro line\n\n# The *Title* #\n\nBody.\n");
  d.write("corpus/a.txt", "Plain text.\n");
  d.write("corpus/sub/c.html", "<html><head><title>Web &amp; Page</title></head><body><p>Hello</p></body></html>");
  d.write("corpus/sub/d.markdown", "No heading here.");
  d.write("corpus/A-upper.htm", "<h1>Upper</h1><p>x</p>");
  d.write("corpus/.hidden.txt", "hidden");
  d.write("corpus/.git/e.txt", "hidden dir");
  d.write("corpus/sub/.f.md", "hidden");
  d.write("corpus/image.png", "\x89PNG");
  d.write("corpus/notes", "no extension");
  Collected c = read({d.file("corpus")});
  ASSERT_TRUE(c.status.is_ok()) << c.status.message();
  EXPECT_TRUE(c.errors.empty()) << c.errors[0];
  ASSERT_EQ(c.order, (std::vector<std::string>{"A-upper.htm", "a.txt", "b.md", "sub/c.html", "sub/d.markdown"}));
  EXPECT_EQ(c.docs[0].title, "Upper");
  EXPECT_EQ(c.docs[1].title, "a");
  EXPECT_EQ(c.docs[1].text, "Plain text.\n");
  EXPECT_EQ(c.docs[1].origin, d.file("corpus/a.txt"));
  EXPECT_EQ(c.docs[2].title, "The *Title*");
  EXPECT_EQ(c.docs[2].text, "Intro line\n\n# The *Title* #\n\nBody.\n");
  EXPECT_EQ(c.docs[3].title, "Web & Page");
  EXPECT_EQ(c.docs[3].text, "Hello");
  EXPECT_EQ(c.docs[4].title, "d");
  EXPECT_TRUE(c.docs[0].meta.is_object() && c.docs[0].meta.empty());

  // The same walk from a path with a trailing slash gives the same ids.
  EXPECT_EQ(read({d.file("corpus") + "/"}).order, c.order);
  Result<size_t> n = count_documents({d.file("corpus")}, {});
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 5u);
}

TEST(DocumentReaderTest, FileArgumentsKeepTheirPath) {
  TempDir d;
  const std::string notes = d.write("notes", "no extension is text");
  const std::string hidden = d.write(".hidden.md", "# Given by name");
  Collected c = read({notes, hidden});
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].id, notes);
  EXPECT_EQ(c.docs[0].title, "notes");
  EXPECT_EQ(c.docs[1].id, hidden);
  EXPECT_EQ(c.docs[1].title, "Given by name");
}

TEST(DocumentReaderTest, MarkdownTitles) {
  TempDir d;
  d.write("m/1.md", "---\ntitle: \"Front Matter\"\ndate: 2024\n---\n# Heading\n");
  d.write("m/2.md", "```\n# not a heading\n```\n\nSetext Title\n============\n\n## Later\n");
  d.write("m/3.md", "    # indented code\n#hashtag\n###### Six ######\n");
  d.write("m/4.md", "#\n\n## Real\n");
  Collected c = read({d.file("m")});
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].title, "Front Matter");
  EXPECT_EQ(c.docs[1].title, "Setext Title");
  EXPECT_EQ(c.docs[2].title, "Six");
  EXPECT_EQ(c.docs[3].title, "Real");
}

TEST(DocumentReaderTest, JsonlRecords) {
  TempDir d;
  const std::string path =
      d.write("data.jsonl",
              "{\"id\": \"a\", \"text\": \"first\", \"title\": \"T1\", \"year\": 2020, \"tags\": [\"x\"]}\n"
              "\n"
              "   \n"
              "{\"id\": 7, \"text\": \"second\", \"score\": 0.5, \"ok\": true, \"n\": null}\r\n"
              "{\"text\": \"no id\"}\n"
              "{\"id\": \"b\", \"text\": 42}\n"
              "{\"id\": \"c\"}\n"
              "{\"id\": \"d\", \"text\": \"  \\n \"}\n"
              "[1, 2]\n"
              "{\"id\": \"e\", \"text\": \"broken\",\n"
              "{\"id\": [1], \"text\": \"bad id\"}\n"
              "{\"id\": \"f\", \"text\": \"title null\", \"title\": null}\n"
              "{\"id\": \"g\", \"text\": \"title number\", \"title\": 3}\n"
              "{\"id\": \"last\", \"text\": \"no newline at end\"}");
  ReaderOptions o;
  o.id_field = "id";
  Collected c = read({path}, o);
  ASSERT_TRUE(c.status.is_ok());
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].id, "a");
  EXPECT_EQ(c.docs[0].title, "T1");
  EXPECT_EQ(c.docs[0].text, "first");
  EXPECT_EQ(c.docs[0].meta, json::parse(R"({"year": 2020, "tags": ["x"]})"));
  EXPECT_EQ(c.docs[0].origin, path + ":1");
  EXPECT_EQ(c.docs[1].id, "7");
  EXPECT_EQ(c.docs[1].meta, json::parse(R"({"score": 0.5, "ok": true, "n": null})"));
  EXPECT_EQ(c.docs[1].origin, path + ":4");
  EXPECT_EQ(c.docs[2].id, "f");
  EXPECT_EQ(c.docs[2].title, "");
  EXPECT_EQ(c.docs[3].id, "last");
  ASSERT_EQ(c.errors.size(), 8u);
  EXPECT_EQ(c.errors[0], path + ":5: missing id field \"id\"");
  EXPECT_EQ(c.errors[1], path + ":6: field \"text\" is a number, not a string");
  EXPECT_EQ(c.errors[2], path + ":7: missing field \"text\"");
  EXPECT_EQ(c.errors[3], path + ":8: empty document");
  EXPECT_EQ(c.errors[4], path + ":9: expected a JSON object, got an array");
  EXPECT_EQ(c.errors[5], path +
                             ":10: invalid JSON at column 30: syntax error while parsing object key - unexpected end "
                             "of input; expected string literal");
  EXPECT_EQ(c.errors[6], path + ":11: id field \"id\" is an array, not a string or an integer");
  EXPECT_EQ(c.errors[7], path + ":13: field \"title\" is a number, not a string");

  // Without an id field, ids are path:line; meta keeps every other field.
  c = read({path});
  ASSERT_GE(c.docs.size(), 3u);
  EXPECT_EQ(c.docs[0].id, path + ":1");
  EXPECT_EQ(c.docs[0].meta, json::parse(R"({"id": "a", "year": 2020, "tags": ["x"]})"));
  EXPECT_EQ(c.docs[2].id, path + ":5");

  Result<size_t> n = count_documents({path}, o);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 12u);  // the non-blank lines: every document or error
  EXPECT_EQ(*n, c.order.size());
}

TEST(DocumentReaderTest, FieldNamesAndMetaSelection) {
  TempDir d;
  const std::string path =
      d.write("x.ndjson", R"({"key": "k1", "body": "hello", "name": "N", "a": 1, "b": {"c": 2}, "d": "x"})"
                          "\n");
  ReaderOptions o;
  o.id_field = "key";
  o.text_field = "body";
  o.title_field = "name";
  o.meta_fields = {"b", "missing", "a"};
  Collected c = read({path}, o);
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, "k1");
  EXPECT_EQ(c.docs[0].text, "hello");
  EXPECT_EQ(c.docs[0].title, "N");
  EXPECT_EQ(c.docs[0].meta, json::parse(R"({"a": 1, "b": {"c": 2}})"));
}

TEST(DocumentReaderTest, JsonArrayIsStreamedByElement) {
  TempDir d;
  const std::string path = d.write("arr.json",
                                   "\xEF\xBB\xBF[\n"
                                   "  {\"text\": \"zero\", \"nested\": {\"deep\": [1, {\"x\": null}]}},\n"
                                   "  {\"title\": \"no text\"},\n"
                                   "  \"a string\",\n"
                                   "  {\"text\": \"three\",\n"
                                   "   \"n\": 3}\n"
                                   "]\n");
  Collected c = read({path});
  ASSERT_TRUE(c.status.is_ok());
  ASSERT_EQ(c.order.size(), 4u);
  EXPECT_EQ(c.order[0], path + "#0");
  EXPECT_EQ(c.docs[0].meta, json::parse(R"({"nested": {"deep": [1, {"x": null}]}})"));
  EXPECT_EQ(c.order[1], "ERR " + path + ":3: missing field \"text\"");
  EXPECT_EQ(c.order[2], "ERR " + path + ":4: expected a JSON object, got a string");
  EXPECT_EQ(c.order[3], path + "#3");
  EXPECT_EQ(c.docs[1].origin, path + ":5");
  EXPECT_EQ(count_documents({path}, {}).value(), 4u);

  // One object is one document whose id is the path.
  const std::string one = d.write("one.json", R"({"text": "single", "k": "v"})");
  c = read({one});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].id, one);
  EXPECT_EQ(count_documents({one}, {}).value(), 1u);

  // Documents before a syntax error are kept; the error names its line.
  const std::string broken = d.write("broken.json", "[{\"text\": \"ok\"},\n {\"text\": \"fine\"},\n {\"text\" 1}]");
  c = read({broken});
  ASSERT_EQ(c.docs.size(), 2u);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], broken +
                             ":3: invalid JSON (byte offset 45): parse error at line 3, column 10: syntax error "
                             "while parsing object separator - unexpected number literal; expected ':'");

  const std::string scalar = d.write("scalar.json", "42");
  c = read({scalar});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], scalar + ": expected a JSON object or an array of objects");
  const std::string empty = d.write("empty.json", "");
  c = read({empty});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_NE(c.errors[0].find("invalid JSON"), std::string::npos) << c.errors[0];
  EXPECT_EQ(read({d.write("empty-array.json", " [ ] ")}).order.size(), 0u);
}

TEST(DocumentReaderTest, CsvWithQuotesCrlfAndNumbers) {
  TempDir d;
  const std::string path = d.write("t.csv",
                                   "id,text,title,year,zip,price,big\r\n"
                                   "1,plain text,T,2020,02139,9.99,123456789012345678901234\r\n"
                                   "2,\"quoted, with comma\",,-3,0,1e3,x\r\n"
                                   "3,\"multi\r\nline \"\"quoted\"\" text\",\"T3\",1.5.1, 7,-0,\r\n"
                                   "\r\n"
                                   "4,too,few\r\n"
                                   "5,\"after multi-line\",t,1,2,3,4");
  ReaderOptions o;
  o.id_field = "id";
  Collected c = read({path}, o);
  ASSERT_TRUE(c.status.is_ok());
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[0].id, "1");
  EXPECT_EQ(c.docs[0].title, "T");
  EXPECT_EQ(c.docs[0].meta, json::parse(R"({"year": 2020, "zip": "02139", "price": 9.99,
                                              "big": "123456789012345678901234"})"));
  EXPECT_EQ(c.docs[1].text, "quoted, with comma");
  EXPECT_EQ(c.docs[1].title, "");
  EXPECT_EQ(c.docs[1].meta, json::parse(R"({"year": -3, "zip": 0, "price": 1000.0, "big": "x"})"));
  EXPECT_EQ(c.docs[2].text, "multi\r\nline \"quoted\" text");
  EXPECT_EQ(c.docs[2].title, "T3");
  EXPECT_EQ(c.docs[2].meta, json::parse(R"({"year": "1.5.1", "zip": " 7", "price": 0, "big": ""})"));
  EXPECT_EQ(c.docs[2].origin, path + ":4");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], path + ":7: record has 3 fields, the header has 7");
  EXPECT_EQ(c.docs[3].origin, path + ":8");

  // Without --id-field, a record's id is path:line of its first line.
  c = read({path});
  ASSERT_EQ(c.docs.size(), 4u);
  EXPECT_EQ(c.docs[3].id, path + ":8");
  EXPECT_EQ(c.docs[3].meta["id"], 5);
}

TEST(DocumentReaderTest, CsvErrors) {
  TempDir d;
  const std::string no_text = d.write("a.csv", "id,body\n1,x\n");
  Collected c = read({no_text});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], no_text + ":1: the header has no column \"text\"");

  const std::string unterminated = d.write("b.csv", "text\nok\n\"never closed\nstill open\n");
  c = read({unterminated});
  ASSERT_EQ(c.docs.size(), 1u);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], unterminated + ":3: quoted field is not closed before the end of the file");

  const std::string empty = d.write("c.csv", "");
  c = read({empty});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], empty + ": empty CSV file (expected a header row)");

  const std::string blank_text = d.write("d.csv", "text,n\n\"   \",1\nfine,2\n");
  c = read({blank_text});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.errors, (std::vector<std::string>{blank_text + ":2: empty document"}));
}

TEST(DocumentReaderTest, InvalidUtf8IsReportedWithItsOffset) {
  TempDir d;
  const std::string txt = d.write("bad.txt", "line one\nline two \xC3\x28 here\n");
  Collected c = read({txt});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], txt + ":2: invalid UTF-8 at byte offset 18");

  const std::string jsonl =
      d.write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"bad \xFF\"}\n{\"text\": \"ok again\"}\n");
  c = read({jsonl});
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.errors, (std::vector<std::string>{jsonl + ":2: invalid UTF-8 at byte offset 29"}));

  const std::string csv = d.write("bad.csv", "text\nok\n\"two\nlines \xE2\x82\"\nok\n");
  c = read({csv});
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.errors, (std::vector<std::string>{csv + ":4: invalid UTF-8 at byte offset 19"}));

  const std::string json_file = d.write("bad.json", "[{\"text\": \"ok\"},\n {\"text\": \"\xFF\"}]");
  c = read({json_file});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.errors, (std::vector<std::string>{json_file + ":2: invalid UTF-8 at byte offset 28"}));

  // A byte order mark is dropped, and offsets still count it.
  const std::string bom = d.write("bom.txt", "\xEF\xBB\xBFok \xC0");
  c = read({bom});
  EXPECT_EQ(c.errors, (std::vector<std::string>{bom + ":1: invalid UTF-8 at byte offset 6"}));
  EXPECT_EQ(read({d.write("bom2.txt", "\xEF\xBB\xBFok")}).docs.at(0).text, "ok");
}

TEST(DocumentReaderTest, EmptyDocuments) {
  TempDir d;
  d.write("e/empty.txt", "");
  d.write("e/spaces.md", " \n\t\n\xE3\x80\x80");
  d.write("e/tags.html",
          "<html><head><title>Only a title</title></head><body> <p> </p><script>x()</script></body></html>");
  d.write("e/ok.txt", "fine");
  Collected c = read({d.file("e")});
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.errors, (std::vector<std::string>{d.file("e/empty.txt") + ": empty document",
                                                d.file("e/spaces.md") + ": empty document",
                                                d.file("e/tags.html") + ": empty document"}));
}

TEST(DocumentReaderTest, OverlongItemsAreSkippedWithoutHoldingThem) {
  TempDir d;
  ReaderOptions o;
  o.max_document_bytes = 100;
  const std::string big(1 << 20, 'x');
  const std::string jsonl = d.write("big.jsonl", "{\"text\": \"a\"}\n{\"text\": \"" + big + "\"}\n{\"text\": \"b\"}\n");
  Collected c = read({jsonl}, o);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].text, "b");
  EXPECT_EQ(c.errors, (std::vector<std::string>{jsonl + ":2: line is longer than the limit of 100 bytes "
                                                        "(max_document_bytes)"}));

  const std::string txt = d.write("big.txt", big);
  c = read({txt}, o);
  EXPECT_EQ(c.errors, (std::vector<std::string>{txt + ": document is 1048576 bytes, over the limit of 100 bytes "
                                                      "(max_document_bytes)"}));

  const std::string csv = d.write("big.csv", "text,n\nsmall,1\n\"" + big + "\nstill\",2\nafter,3\n");
  c = read({csv}, o);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].text, "after");
  EXPECT_EQ(c.errors, (std::vector<std::string>{csv + ":3: record is longer than the limit of 100 bytes "
                                                      "(max_document_bytes)"}));

  const std::string json_file = d.write("big.json", "[{\"text\": \"a\"},\n{\"text\": \"" + big +
                                                        "\", \"more\": [1, 2, {\"x\": 3}]},\n{\"text\": \"b\"}]");
  c = read({json_file}, o);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[1].id, json_file + "#2");
  EXPECT_EQ(c.errors, (std::vector<std::string>{json_file + ":2: element 1 is longer than the limit of 100 bytes "
                                                            "(max_document_bytes)"}));
}

TEST(DocumentReaderTest, UnreadableInputsAreItemErrors) {
  TempDir d;
  d.write("dir/good.txt", "good");
  fs::create_symlink(d.file("dir/nowhere.txt"), d.file("dir/broken.txt"));
  fs::create_symlink(d.file("dir"), d.file("dir/loop"));         // a cycle: walked once
  ASSERT_EQ(::mkfifo(d.file("dir/pipe.txt").c_str(), 0644), 0);  // would block if opened
  Collected c = read({d.file("dir")});
  EXPECT_EQ(c.order, (std::vector<std::string>{"ERR " + d.file("dir/broken.txt") + ": broken link", "good.txt",
                                               "ERR " + d.file("dir/pipe.txt") + ": not a regular file"}));

  if (fs::exists("/proc/self/mem")) {  // opens, but reading offset 0 fails
    c = read({"/proc/self/mem"});
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_EQ(c.errors[0].rfind("/proc/self/mem: cannot read: ", 0), 0u) << c.errors[0];
  }
}

TEST(DocumentReaderTest, MissingPathStopsEverythingBeforeAnyDocument) {
  TempDir d;
  const std::string good = d.write("good.txt", "good");
  Collected c = read({good, d.file("missing.txt")});
  EXPECT_FALSE(c.status.is_ok());
  EXPECT_EQ(c.status.code(), Status::Code::kNotFound);
  EXPECT_NE(c.status.message().find("missing.txt"), std::string::npos);
  EXPECT_TRUE(c.order.empty());
  EXPECT_FALSE(count_documents({d.file("missing.txt")}, {}).is_ok());
}

TEST(DocumentReaderTest, SinkErrorStopsReading) {
  TempDir d;
  const std::string path = d.write("x.jsonl", "{\"text\": \"1\"}\n{\"text\": \"2\"}\n{\"text\": \"3\"}\n");
  int calls = 0;
  Status st = read_documents({path, path}, {}, [&](Result<SourceDocument>) {
    return ++calls == 2 ? Status::io_error("disk full") : Status::ok();
  });
  EXPECT_EQ(st.message(), "disk full");
  EXPECT_EQ(calls, 2);
}

TEST(DocumentReaderTest, StdinIsLinesByDefault) {
  TempDir d;
  with_stdin(d, "first line\n\n  \nsecond line\r\nthird", [&] {
    Collected c = read({"-"});
    ASSERT_TRUE(c.status.is_ok());
    EXPECT_EQ(c.order, (std::vector<std::string>{"stdin:1", "stdin:4", "stdin:5"}));
    EXPECT_EQ(c.docs[1].text, "second line");
    EXPECT_EQ(c.docs[1].origin, "stdin:4");
  });
  with_stdin(d, "{\"text\": \"a\"}\nnot json\n", [&] {
    ReaderOptions o;
    o.format = InputFormat::kJsonl;
    Collected c = read({"-"}, o);
    EXPECT_EQ(c.order.size(), 2u);
    EXPECT_EQ(c.order[0], "stdin:1");
    EXPECT_EQ(c.order[1].rfind("ERR stdin:2: invalid JSON", 0), 0u) << c.order[1];
  });
  with_stdin(d, "<p>one <b>page</b></p>", [&] {
    ReaderOptions o;
    o.format = InputFormat::kHtml;
    Collected c = read({"-"}, o);
    ASSERT_EQ(c.docs.size(), 1u);
    EXPECT_EQ(c.docs[0].id, "stdin");
    EXPECT_EQ(c.docs[0].text, "one page");
  });
  Result<size_t> n = count_documents({"-"}, {});
  EXPECT_FALSE(n.is_ok());
}

TEST(DocumentReaderTest, ForcedFormatAppliesToEveryFile) {
  TempDir d;
  const std::string path = d.write("records.txt", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
  ReaderOptions o;
  o.format = InputFormat::kJsonl;
  Collected c = read({path}, o);
  EXPECT_EQ(c.order, (std::vector<std::string>{path + ":1", path + ":2"}));
  o.format = InputFormat::kLines;
  c = read({path}, o);
  ASSERT_EQ(c.docs.size(), 2u);
  EXPECT_EQ(c.docs[0].text, "{\"text\": \"a\"}");
}

TEST(DocumentReaderTest, FormatForPath) {
  EXPECT_EQ(format_for_path("a/b.TXT"), InputFormat::kText);
  EXPECT_EQ(format_for_path("x.Markdown"), InputFormat::kMarkdown);
  EXPECT_EQ(format_for_path("x.htm"), InputFormat::kHtml);
  EXPECT_EQ(format_for_path("x.ndjson"), InputFormat::kJsonl);
  EXPECT_EQ(format_for_path("x.csv"), InputFormat::kCsv);
  EXPECT_EQ(format_for_path("x.json"), InputFormat::kJson);
  EXPECT_EQ(format_for_path("x.pdf"), InputFormat::kAuto);
  EXPECT_EQ(format_for_path("Makefile"), InputFormat::kAuto);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(DocumentReaderTest, HundredThousandLineJsonlStreamsInBoundedMemory) {
  TempDir d;
  const std::string path = d.file("big.jsonl");
  {
    std::ofstream out(path);
    const std::string filler(800, 'z');
    for (int i = 0; i < 100000; ++i) {
      out << "{\"id\": " << i << ", \"text\": \"document " << i << " " << filler << "\", \"n\": " << i % 7 << "}\n";
    }
  }
  ASSERT_GT(fs::file_size(path), 80u << 20);
  const long before = max_rss_kib();
  ReaderOptions o;
  o.id_field = "id";
  size_t count = 0;
  int64_t sum = 0;
  Status st = read_documents({path}, o, [&](Result<SourceDocument> item) {
    if (!item.is_ok()) return item.status();
    if (item->id != std::to_string(count)) return Status::internal("out of order: " + item->id);
    sum += item->meta["n"].get<int64_t>();
    ++count;
    return Status::ok();
  });
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(count, 100000u);
  EXPECT_EQ(sum, 299995);
  const long grown_mib = (max_rss_kib() - before) / 1024;
  std::printf("read 100000 lines; peak memory grew by %ld MiB\n", grown_mib);
  if (!kSanitized) {
    EXPECT_LT(grown_mib, 16);  // the file is over 80 MiB
  }
  EXPECT_EQ(count_documents({path}, o).value(), 100000u);
}

}  // namespace
}  // namespace simile::text
