#include <gtest/gtest.h>

#include "io_test_util.h"
#include "rerank/io.h"

using namespace rerank;
using rerank::test::input_error;
using rerank::test::write_temp;

namespace {
std::string corpus_test_dir() { return std::string(RERANK_TEST_TMP) + "/io/"; }

std::vector<Document> read_all_docs(const std::string& path) {
  CorpusReader reader(path);
  std::vector<Document> docs;
  Document d;
  while (reader.next(d)) docs.push_back(d);
  return docs;
}
}  // namespace

TEST(Corpus, ReadsBeirJsonl) {
  const std::string content =
      "{\"_id\": \"d1\", \"title\": \"Mars\", \"text\": \"The red planet.\"}\n"
      "\n"
      "{\"_id\": 2, \"text\": \"No title here.\", \"metadata\": {\"x\": 1}}\r\n"
      "{\"_id\": \"d3\", \"title\": null, \"text\": \"\"}";
  const auto path = write_temp("c.jsonl", content);
  CorpusReader reader(path);
  EXPECT_EQ(reader.bytes_total(), content.size());
  EXPECT_EQ(reader.bytes_read(), 0u);
  Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "d1");
  EXPECT_EQ(d.title, "Mars");
  EXPECT_EQ(d.text, "The red planet.");
  EXPECT_EQ(reader.bytes_read(), content.find('\n') + 1);
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "2");
  EXPECT_EQ(d.title, "");
  EXPECT_EQ(d.text, "No title here.");
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "d3");
  EXPECT_EQ(d.title, "");
  EXPECT_EQ(d.text, "");
  EXPECT_FALSE(reader.next(d));
  EXPECT_FALSE(reader.next(d));
  EXPECT_EQ(reader.bytes_read(), content.size());
  EXPECT_EQ(reader.path(), path);
}

TEST(Corpus, ReadsTrecDocuments) {
  const auto docs = read_all_docs(
      write_temp("c.trec",
                 "<DOC>\n<DOCNO>1</DOCNO>\ncompact memories  have\nflexible capacities\n</DOC>\n"
                 "\n<DOC><DOCNO> AP-2 </DOCNO> one line </DOC>  <doc><docno>3</docno>\n"
                 "<TITLE>A\ntitle</TITLE>\n<TEXT>\nbody &amp; a<b\n</TEXT>\n</doc>\r\n"
                 "<DOC>\n<DOCNO>4</DOCNO>\n</DOC>\n"));
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].doc_id, "1");
  EXPECT_EQ(docs[0].title, "");
  EXPECT_EQ(docs[0].text, "compact memories have flexible capacities");
  EXPECT_EQ(docs[1].doc_id, "AP-2");
  EXPECT_EQ(docs[1].text, "one line");
  EXPECT_EQ(docs[2].doc_id, "3");
  EXPECT_EQ(docs[2].title, "A title");
  EXPECT_EQ(docs[2].text, "body &amp; a<b");
  EXPECT_EQ(docs[3].doc_id, "4");
  EXPECT_EQ(docs[3].text, "");
}

TEST(Corpus, EmptyFileHasNoDocuments) {
  EXPECT_TRUE(read_all_docs(write_temp("c_empty.jsonl", "")).empty());
  EXPECT_TRUE(read_all_docs(write_temp("c_blank.trec", "\n \n")).empty());
}

TEST(Corpus, TrecErrors) {
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("ce1.trec", "<DOC>\n<DOCNO>1</DOCNO>\ntext\n")); }),
            corpus_test_dir() + "ce1.trec:1: <DOC> is never closed by </DOC>");
  EXPECT_EQ(
      input_error([] {
        read_all_docs(
            write_temp("ce2.trec", "<DOC>\n<DOCNO>1</DOCNO>\ntext\n<DOC>\n<DOCNO>2</DOCNO>\n</DOC>\n"));
      }),
      corpus_test_dir() + "ce2.trec:4: <DOC> opened on line 1 is not closed by </DOC> before the next <DOC>");
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp("ce3.trec", "<DOC><DOCNO>1</DOCNO></DOC>\n<DOC>\ntext\n</DOC>\n"));
            }),
            corpus_test_dir() + "ce3.trec:2: <DOC> has no <DOCNO>..</DOCNO>");
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("ce4.trec", "<DOC><DOCNO> </DOCNO></DOC>\n")); }),
            corpus_test_dir() + "ce4.trec:1: <DOCNO> is empty");
  EXPECT_EQ(input_error(
                [] { read_all_docs(write_temp("ce5.trec", "<DOC><DOCNO>1</DOCNO></DOC>\ntext outside\n")); }),
            corpus_test_dir() + "ce5.trec:2: expected <DOC>, found \"text outside\"");
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("ce6.trec", "<DOC><DOCNO>a b</DOCNO></DOC>\n")); }),
            corpus_test_dir() + "ce6.trec:1: <DOCNO> \"a b\" is not a single token");
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp("ce7.trec", "<DOC><DOCNO>1</DOCNO>\nbad \xC0\xAF byte\n</DOC>\n"));
            }),
            corpus_test_dir() + "ce7.trec:2: invalid UTF-8 at byte 5 of the line");
  EXPECT_EQ(
      input_error([] { read_all_docs(write_temp("ce10.trec", "<DOC><DOCNO>1</DOCNO>\xb2\n</DOC>\n")); }),
      corpus_test_dir() + "ce10.trec:1: invalid UTF-8 at byte 22 of the line");
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("ce8.txt", "hello\n")); }),
            corpus_test_dir() +
                "ce8.txt:1: expected a BEIR corpus line ({\"_id\": ..}) or a TREC <DOC>, found \"hello\"");
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp("ce9.trec", "<DOC><DOCNO>1</DOCNO><DOCNO>2</DOCNO></DOC>\n"));
            }),
            corpus_test_dir() + "ce9.trec:1: document \"1\" has a second <DOCNO>");
}

TEST(Corpus, JsonErrors) {
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp(
                  "cj1.jsonl",
                  "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"2\", \"title\": 3, \"text\": \"b\"}\n"));
            }),
            corpus_test_dir() + "cj1.jsonl:2: \"title\" must be a string, not number");
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("cj2.jsonl", "{\"_id\": 1.5, \"text\": \"a\"}\n")); }),
            corpus_test_dir() + "cj2.jsonl:1: \"_id\" must be a string, not number");
  EXPECT_EQ(input_error([] { read_all_docs(write_temp("cj3.jsonl", "{\"_id\": \"1\"}\n")); }),
            corpus_test_dir() + "cj3.jsonl:1: missing \"text\"");
  EXPECT_EQ(
      input_error([] { read_all_docs(write_temp("cj4.jsonl", "{\"_id\": \"1\", \"text\": \"a\"} x\n")); }),
      corpus_test_dir() +
          "cj4.jsonl:1: invalid JSON at column 27: syntax error while parsing value - invalid literal; last "
          "read: '\"a\"} x'; expected end of input");
  // A number beyond a double and a line nested a hundred thousand levels deep: clear errors, not
  // an escaped nlohmann exception or a stack overflow (the JSON run reader had the first).
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp("cj5.jsonl", "{\"_id\": \"1\", \"text\": \"a\", \"n\": 1e400}\n"));
            }),
            corpus_test_dir() + "cj5.jsonl:1: invalid JSON: number overflow parsing '1e400'");
  EXPECT_EQ(input_error([] {
              read_all_docs(write_temp("cj6.jsonl", "{\"_id\": " + std::string(100000, '[') + "\n"));
            }),
            corpus_test_dir() + "cj6.jsonl:1: invalid JSON: nested deeper than 256 levels");
}

TEST(Corpus, ReadDocumentsKeepsOnlyWanted) {
  const auto path = write_temp("c_wanted.jsonl",
                               "{\"_id\": \"a\", \"text\": \"A\"}\n{\"_id\": \"b\", \"text\": \"B\"}\n"
                               "{\"_id\": \"c\", \"title\": \"T\", \"text\": \"C\"}\n");
  const auto docs = read_documents(path, {"c", "a", "zzz"});
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs.at("a").text, "A");
  EXPECT_EQ(docs.at("c").title, "T");
  EXPECT_EQ(docs.at("c").doc_id, "c");
  EXPECT_EQ(input_error([] {
              read_documents(
                  write_temp("c_dup.trec", "<DOC><DOCNO>x</DOCNO>1</DOC>\n\n<DOC><DOCNO>x</DOCNO>2</DOC>\n"),
                  {"x"});
            }),
            corpus_test_dir() + "c_dup.trec:3: duplicate document id \"x\" (first on line 1)");
}
