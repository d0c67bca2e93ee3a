#include <gtest/gtest.h>

#include <sstream>

#include "error_message.h"
#include "io_test_util.h"
#include "rerank/io.h"
#include "rerank/io_writers.h"

using namespace rerank;
using rerank::test::write_temp;

namespace {
std::string error_of(const std::function<void()>& fn) { return rerank::test::error_of(fn, "no error"); }
}  // namespace

TEST(Writers, Documents) {
  std::ostringstream beir, trec;
  const Document a{"d1", "Red \"planet\"", "Mars is\tred."}, b{"d2", "", "Only text."};
  write_beir_document(beir, a);
  write_beir_document(beir, b);
  write_trec_document(trec, a);
  write_trec_document(trec, b);
  EXPECT_EQ(beir.str(),
            "{\"_id\":\"d1\",\"title\":\"Red \\\"planet\\\"\",\"text\":\"Mars is\\tred.\"}\n"
            "{\"_id\":\"d2\",\"title\":\"\",\"text\":\"Only text.\"}\n");
  EXPECT_EQ(trec.str(),
            "<DOC>\n<DOCNO>d1</DOCNO>\n<TITLE>Red \"planet\"</TITLE>\nMars is\tred.\n</DOC>\n"
            "<DOC>\n<DOCNO>d2</DOCNO>\nOnly text.\n</DOC>\n");
  // Reading the TREC form back gives the same documents (whitespace runs become one space).
  CorpusReader reader(write_temp("w_docs.trec", trec.str()));
  Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "d1");
  EXPECT_EQ(d.title, "Red \"planet\"");
  EXPECT_EQ(d.text, "Mars is red.");
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "d2");
  EXPECT_EQ(d.title, "");
  EXPECT_EQ(d.text, "Only text.");
}

TEST(Writers, TrecRejectsWhatItCannotRepresent) {
  std::ostringstream out;
  EXPECT_EQ(error_of([&] {
              write_trec_document(out, {"a b", "", "x"});
            }),
            "document id \"a b\" cannot be written in TREC format (empty, or has whitespace or '<')");
  EXPECT_EQ(error_of([&] {
              write_trec_document(out, {"d", "", "see </DOC> here"});
            }),
            "document \"d\" cannot be written in TREC format: its text contains markup-like \"<\"");
  EXPECT_EQ(error_of([&] {
              write_trec_topic(out, {"q", "a <b> c"});
            }),
            "query \"q\" cannot be written in TREC format: its text contains markup-like \"<\"");
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(error_of([&] {
              write_trec_document(out, {"d", "", "<b>bold</b>"});
            }),
            "document \"d\" cannot be written in TREC format: its text contains markup-like \"<\"");
  EXPECT_EQ(out.str(), "");
  // Text the document reader keeps as it is may be written (SciFact has "(</=60 mm Hg)").
  EXPECT_EQ(error_of([&] { write_trec_document(out, {"d", "a<b", "p < 0.05 (</=60 mm Hg)"}); }), "no error");
  CorpusReader reader(write_temp("w_lt.trec", out.str()));
  Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.title, "a<b");
  EXPECT_EQ(d.text, "p < 0.05 (</=60 mm Hg)");
}

TEST(Writers, QueriesRoundTripInEveryFormat) {
  const std::vector<Query> qs = {{"1", "solar wind speed"}, {"q2", "caf\xC3\xA9 \"quoted\""}};
  std::ostringstream beir, trec, tsv;
  for (const auto& q : qs) {
    write_beir_query(beir, q);
    write_trec_topic(trec, q);
    write_tsv_query(tsv, q);
  }
  EXPECT_EQ(beir.str(),
            "{\"_id\":\"1\",\"text\":\"solar wind speed\"}\n{\"_id\":\"q2\",\"text\":\"caf\xC3\xA9 "
            "\\\"quoted\\\"\"}\n");
  EXPECT_EQ(trec.str(),
            "<top>\n<num> Number: 1\n<title> solar wind speed\n</top>\n\n"
            "<top>\n<num> Number: q2\n<title> caf\xC3\xA9 \"quoted\"\n</top>\n\n");
  EXPECT_EQ(tsv.str(), "1\tsolar wind speed\nq2\tcaf\xC3\xA9 \"quoted\"\n");
  for (const auto& [name, text] :
       {std::pair{"w_q.jsonl", beir.str()}, {"w_q.trec", trec.str()}, {"w_q.tsv", tsv.str()}}) {
    const auto back = read_queries(write_temp(name, text));
    ASSERT_EQ(back.size(), 2u) << name;
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(back[i].id, qs[i].id) << name;
      EXPECT_EQ(back[i].text, qs[i].text) << name;
    }
  }
  std::ostringstream flat;
  write_tsv_query(flat, {"3", "two\nlines\tand tab"});
  EXPECT_EQ(flat.str(), "3\ttwo lines and tab\n");
}

TEST(Writers, InvalidUtf8IsAnErrorNotBrokenJson) {
  std::ostringstream out;
  EXPECT_EQ(error_of([&] {
              write_beir_document(out, {"d1", "", "bad \xFF byte"});
            }),
            "document \"d1\": cannot write JSON: text is not valid UTF-8");
  EXPECT_EQ(error_of([&] {
              write_beir_query(out, {"q1", "bad \xC3"});
            }),
            "query \"q1\": cannot write JSON: text is not valid UTF-8");
  CandidateList list;
  list.query = {"q1", "ok"};
  list.candidates = {{"d1", "", "bad \xE2\x82", 1.0}};
  EXPECT_EQ(error_of([&] { write_candidates(out, list); }),
            "query \"q1\": cannot write candidates: text is not valid UTF-8");
  EXPECT_EQ(out.str(), "");
}
